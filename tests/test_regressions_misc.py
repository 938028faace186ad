"""Regressions, each against an independent truth (central finite differences, the
inner-product test or a closed form): the entry form of float code whose gradient holds a
conditional expression; ..."""

import math

import pytest

import srcgrad
from srcgrad.testing import directional_fd


def _fd(f, args, position):
    return float(directional_fd(f, args, [position], [1.0]))


# ---- float code whose gradient holds `a if c else b` (math.hypot's rule) --------------------

def hyp(x, y):
    return math.hypot(x, y) + math.atan2(y, x)


def hypot_chain(x):
    a = math.hypot(x, 1.0)
    b = math.hypot(a, x)
    return b * a + math.sin(b)


def test_entry_form_with_conditional_gradient_two_parameters():
    args = (0.3, 0.7)
    got = srcgrad.grad(hyp, wrt=(0, 1))(*args)
    assert isinstance(got, tuple) and all(type(g) is float for g in got)
    for position, g in enumerate(got):
        assert g == pytest.approx(_fd(hyp, args, position), rel=1e-6)
    value, grads = srcgrad.value_and_grad(hyp, wrt=(0, 1))(*args)
    assert value == hyp(*args) and grads == got


def test_entry_form_with_conditional_gradients_in_a_chain():
    got = srcgrad.grad(hypot_chain)(0.7)
    assert type(got) is float
    assert got == pytest.approx(_fd(hypot_chain, (0.7,), 0), rel=1e-6)
