"""A transform leaves no cyclic garbage: what it builds and drops is freed by reference
counting, so the collector (off while a derivative is built) has nothing to find after."""

import gc

import numpy as np

import srcgrad


def straight(x, y):
    z = np.sin(x) * y + np.exp(-x * x)
    return z * z


def looped(x, n):
    total = 0.0
    for i in range(n):
        if x > 0.5:
            total = total + np.tanh(x * i)
        else:
            total = total - x
    while total > 10.0:
        total = total / 2.0
    return total


def calls(x):
    return straight(x, 2.0) + looped(x, 3)


def arrays(w, x):
    h = np.tanh(x @ w)
    return np.sum(h * h) / h.size


def _garbage_after(build) -> int:
    """How many unreachable objects the collector finds after `build()` (whose result is kept:
    a derivative function and the object behind it refer to each other, as they should)."""
    gc.collect()
    gc.disable()
    try:
        kept = build()
        found = gc.collect()
        del kept
        return found
    finally:
        gc.enable()


def test_transforms_leave_no_cyclic_garbage():
    rng = np.random.default_rng(0)
    w, x = rng.standard_normal((3, 2)), rng.standard_normal((4, 3))
    def first_call(derivative, *args):
        derivative(*args)
        return derivative

    builds = [
        lambda: first_call(srcgrad.grad(straight, wrt=(0, 1)), 0.3, 1.2),
        lambda: first_call(srcgrad.grad(looped), 0.7, 4),
        lambda: first_call(srcgrad.grad(calls), 0.7),
        lambda: first_call(srcgrad.grad(arrays), w, x),
        lambda: srcgrad.vjp(arrays, w, x),
        lambda: srcgrad.jvp(straight, (0.3, 1.2), (1.0,)),
        lambda: first_call(srcgrad.grad(srcgrad.grad(straight)), 0.3, 1.2),
    ]
    for build in builds:
        assert _garbage_after(build) == 0
