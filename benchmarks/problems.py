"""Benchmark problems: the function, a hand-written derivative (the ideal) and inputs."""

from __future__ import annotations

import math

import numpy as np


# ---- P1: a scalar polynomial -------------------------------------------------------
def p1(x):
    return 3 * x**2 + 2 * x + 1


def p1_hand(x):
    return 6 * x + 2


# ---- P2: a scalar loop ---------------------------------------------------------------
def p2(x, a):
    for i in range(1000):
        x = x + 0.01 * math.sin(x * a)
    return x


def p2_hand(x, a):
    trajectory = []
    for i in range(1000):
        trajectory.append(x)
        x = x + 0.01 * math.sin(x * a)
    x_bar = 1.0
    for x in reversed(trajectory):
        x_bar = x_bar * (1.0 + 0.01 * a * math.cos(x * a))
    return x_bar


# ---- P3: Newton square root with a data-dependent while --------------------------------
def p3(x):
    y = x
    while abs(y * y - x) > 1e-12:
        y = 0.5 * (y + x / y)
    return y


def p3_hand(x):
    ys = []
    y = x
    while abs(y * y - x) > 1e-12:
        ys.append(y)
        y = 0.5 * (y + x / y)
    y_bar, x_bar = 1.0, 0.0
    for y in reversed(ys):
        x_bar += y_bar * 0.5 / y
        y_bar = y_bar * 0.5 * (1.0 - x / (y * y))
    return x_bar + y_bar


# ---- P4: an MLP with softmax cross-entropy -------------------------------------------------
def p4(w1, b1, w2, b2, x, labels):
    h = np.tanh(x @ w1 + b1)
    logits = h @ w2 + b2
    shifted = logits - np.max(logits, axis=1, keepdims=True)
    logp = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    return -np.mean(np.sum(logp * labels, axis=1))


def p4_hand(w1, b1, w2, b2, x, labels):
    a = x @ w1 + b1
    h = np.tanh(a)
    logits = h @ w2 + b2
    shifted = logits - np.max(logits, axis=1, keepdims=True)
    e = np.exp(shifted)
    p = e / np.sum(e, axis=1, keepdims=True)
    d_logits = (p - labels) / x.shape[0]
    d_w2 = h.T @ d_logits
    d_b2 = d_logits.sum(axis=0)
    d_a = (d_logits @ w2.T) * (1 - h * h)
    return x.T @ d_a, d_a.sum(axis=0), d_w2, d_b2


def p4_inputs(rng):
    x = rng.standard_normal((64, 784))
    labels = np.eye(10)[rng.integers(0, 10, 64)]
    return (rng.standard_normal((784, 256)) * 0.05, np.zeros(256), rng.standard_normal((256, 10)) * 0.05, np.zeros(10), x, labels)
