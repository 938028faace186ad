"""Benchmark problems: the function, a hand-written derivative (the ideal) and inputs."""

from __future__ import annotations

import math

import numpy as np


# ---- P1: a scalar polynomial -------------------------------------------------------
def p1(x):
    return 3 * x**2 + 2 * x + 1


def p1_hand(x):
    return 6 * x + 2


# ---- P1b: a 30-operation scalar expression of two floats ---------------------------------
def p1b(x, y):
    return (
        math.sin(x * y)
        + math.exp(x / (1.0 + y * y)) * math.cos(y)
        - math.log(1.0 + x * x) / (2.0 + math.tanh(y))
        + x**3 * y
        - math.sqrt(1.0 + (x * y) ** 2)
        + (x - y) ** 2 / (1.0 + math.exp(-x))
    )


def p1b_hand(x, y):
    xy = x * y
    q = 1.0 + y * y
    e = math.exp(x / q)
    cy = math.cos(y)
    r = 1.0 + x * x
    t = math.tanh(y)
    s = 2.0 + t
    w = math.sqrt(1.0 + xy * xy)
    d = x - y
    v = 1.0 + math.exp(-x)
    c = math.cos(xy)
    ec = e * cy
    x2 = x * x
    dv = 2.0 * d / v
    gx = c * y + ec / q - 2.0 * x / (r * s) + 3.0 * x2 * y - xy * y / w + dv + d * d * (v - 1.0) / (v * v)
    gy = c * x - ec * 2.0 * x * y / (q * q) - e * math.sin(y) + math.log(r) * (1.0 - t * t) / (s * s) + x2 * x \
        - xy * x / w - dv
    return gx, gy


# ---- P2: a scalar loop ---------------------------------------------------------------
def p2(x, a):
    for i in range(1000):
        x = x + 0.01 * math.sin(x * a)
    return x


def p2_hand(x, a):
    products = []
    for i in range(1000):
        xa = x * a
        products.append(xa)
        x = x + 0.01 * math.sin(xa)
    x_bar = 1.0
    step = 0.01 * a
    for xa in reversed(products):
        x_bar = x_bar * (1.0 + step * math.cos(xa))
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


# ---- P5: an RNN --------------------------------------------------------------------------------
def p5(wx, wh, b, xs):
    h = np.zeros((xs.shape[1], wh.shape[0]))
    for t in range(xs.shape[0]):
        h = np.tanh(xs[t] @ wx + h @ wh + b)
    return np.sum(h * h)


def p5_hand(wx, wh, b, xs):
    hs = [np.zeros((xs.shape[1], wh.shape[0]))]
    for t in range(xs.shape[0]):
        hs.append(np.tanh(xs[t] @ wx + hs[-1] @ wh + b))
    d_wx, d_wh, d_b = np.zeros_like(wx), np.zeros_like(wh), np.zeros_like(b)
    d_h = 2 * hs[-1]
    for t in reversed(range(xs.shape[0])):
        d_a = d_h * (1 - hs[t + 1] ** 2)
        d_wx += xs[t].T @ d_a
        d_wh += hs[t].T @ d_a
        d_b += d_a.sum(axis=0)
        d_h = d_a @ wh.T
    return d_wx, d_wh, d_b


def p5_inputs(rng):
    return (rng.standard_normal((32, 128)) * 0.1, rng.standard_normal((128, 128)) * 0.1, np.zeros(128),
            rng.standard_normal((50, 16, 32)))


# ---- P6: Rosenbrock, vectorised -----------------------------------------------------------------
def p6(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def p6_hand(x):
    a, b = x[:-1], x[1:]
    r = b - a * a
    g = np.zeros_like(x)
    g[:-1] = -400.0 * r * a - 2.0 * (1.0 - a)
    g[1:] += 200.0 * r
    return g


# ---- P7: a second derivative of a scalar function -----------------------------------------------
def p7(x):
    return math.sin(x) * math.exp(0.5 * x) + x**4


def p7_grad(x):  # the first derivative, for checking the second one by finite differences
    s, c, e = math.sin(x), math.cos(x), math.exp(0.5 * x)
    return e * (c + 0.5 * s) + 4.0 * x**3


def p7_hand(x):
    s, c, e = math.sin(x), math.cos(x), math.exp(0.5 * x)
    return e * (c - 0.75 * s) + 12.0 * x * x


# ---- P8: the Hessian of a quadratic form, n = 100 ------------------------------------------------
def p8(x, A):
    return 0.5 * x @ (A @ x)


def p8_grad(x, A):  # the gradient, for checking the Hessian by finite differences
    return 0.5 * (A + A.T) @ x


def p8_hand(x, A):
    return 0.5 * (A + A.T)


def p8_inputs(rng):
    return rng.standard_normal(100), rng.standard_normal((100, 100))
