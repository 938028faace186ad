"""Data-dependent control flow against finite differences; the tape; threads; recursion."""

import math

import numpy as np
import pytest
from flow_programs import FLOW_CORPUS, _fact, newton_sqrt, range_loop

import srcgrad


@pytest.mark.parametrize("fn, args, wrt", FLOW_CORPUS, ids=[f"{c[0].__name__}-{i}" for i, c in enumerate(FLOW_CORPUS)])
def test_control_flow_gradient(fn, args, wrt):
    srcgrad.check_grad(fn, *args, wrt=wrt, rtol=1e-5, atol=1e-6)


def test_vjp_through_a_data_dependent_while_loop():
    def double_until_large(x):
        while np.linalg.norm(x) < 1000.0:
            x = x * 2.0
        return x

    x = np.array([0.3, -0.4, 0.5])
    out, pullback = srcgrad.vjp(double_until_large, x)
    v = np.array([1.0, 2.0, 3.0])
    doublings = round(math.log2(out[0] / x[0]))
    np.testing.assert_allclose(pullback(v), v * 2.0**doublings)


def test_newton_closed_form():
    # y = sqrt(x) at convergence, so dy/dx = 1 / (2 sqrt(x))
    assert srcgrad.grad(newton_sqrt)(2.0) == pytest.approx(1 / (2 * math.sqrt(2.0)), rel=1e-8)


def test_loop_with_nothing_active_records_nothing():
    def f(x, n):
        count = 0
        for i in range(n):
            count = count + i
        return x * count

    text = srcgrad.source(srcgrad.grad(f))
    assert "_tape" not in text


def test_tape_records_only_what_the_backward_sweep_reads():
    d = srcgrad.grad(range_loop)
    d(0.3, 10)
    # scalar code: only x (the operand of sin) needs to be saved each iteration
    assert srcgrad.source(d).count(".append(") <= 1


def test_deep_recursion():
    assert srcgrad.grad(_fact)(0.99, 200) == pytest.approx(
        (_fact(0.99 + 1e-6, 200) - _fact(0.99 - 1e-6, 200)) / 2e-6, rel=1e-5
    )


def test_generator_function_is_refused_with_location():
    def gen(x):
        yield x

    def f(x):
        return sum(gen(x))

    with pytest.raises(srcgrad.SrcGradError, match="generators"):
        srcgrad.grad(f)(1.0)
