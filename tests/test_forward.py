"""Forward mode: jvp against finite differences and against reverse mode (inner-product test)."""

import math

import numpy as np
import pytest
from flow_programs import FLOW_CORPUS
from programs import CORPUS

import srcgrad
from srcgrad.tools.testing import directional_fd

ALL = CORPUS + FLOW_CORPUS


@pytest.mark.parametrize("fn, args, wrt", ALL, ids=[f"{c[0].__name__}-{i}" for i, c in enumerate(ALL)])
def test_jvp_matches_finite_differences_and_reverse_mode(fn, args, wrt):
    srcgrad.check_jvp(fn, *args, wrt=wrt)


def loop(x, a):
    for i in range(3):
        x = x + 0.01 * math.sin(x * a)
    return x


def test_forward_code_reads_like_a_hand_written_tangent():
    assert srcgrad.source(loop, mode="forward") == '''def jvp_loop(x, a, *, x_dot):
    _range1 = range(3)
    for i in _range1:
        _t1 = x * a
        _t1_dot = x_dot * a
        _t2 = math.sin(_t1)
        _t2_dot = _t1_dot * math.cos(_t1)
        _t3 = 0.01 * _t2
        _t3_dot = 0.01 * _t2_dot
        _t4 = x + _t3
        _t4_dot = x_dot + _t3_dot
        x = _t4
        x_dot = _t4_dot
    return (x, x_dot)'''


def test_forward_code_has_no_tape():
    def doubling(x):
        while np.linalg.norm(x) < 1000.0:
            x = x * 2.0
        return x

    assert "_tape" not in srcgrad.source(doubling, mode="forward")
    x = np.array([0.3, -0.2])
    u = np.array([1.0, 0.5])
    out, tangent = srcgrad.jvp(doubling, (x,), (u,))
    np.testing.assert_allclose(tangent, u * (out[0] / x[0]))  # the loop scales by 2**trips


def test_jvp_of_a_pytree_argument():
    def loss(params, x):
        return np.sum(np.tanh(params["w"] @ x + params["b"])) * params["scale"]

    params = {"w": np.ones((2, 3)) * 0.1, "b": np.array([0.2, -0.1]), "scale": 1.5}
    x = np.array([0.5, -1.0, 2.0])
    u = {"w": np.full((2, 3), 0.3), "b": np.array([1.0, 0.0]), "scale": -0.5}
    _, tangent = srcgrad.jvp(loss, (params, x), (u,))
    np.testing.assert_allclose(tangent, directional_fd(loss, (params, x), [0], [u]), rtol=1e-6)


def test_jvp_wrt_several_arguments_by_name():
    def f(x, y):
        return x * y + np.sin(x)

    out, tangent = srcgrad.jvp(f, (0.5, 2.0), (1.0, -1.0), wrt=("x", "y"))
    assert out == pytest.approx(f(0.5, 2.0))
    assert tangent == pytest.approx((2.0 + math.cos(0.5)) * 1.0 + 0.5 * -1.0)


def test_jvp_output_tangent_of_a_constant_output_is_zeros():
    def constant(x):
        return np.ones(3)

    _, tangent = srcgrad.jvp(constant, (0.5,), (1.0,))
    np.testing.assert_array_equal(tangent, np.zeros(3))


def test_jvp_needs_one_tangent_per_wrt_parameter():
    with pytest.raises(srcgrad.UsageError, match="one tangent per wrt parameter"):
        srcgrad.jvp(loop, (1.0, 2.0), (1.0, 1.0))


def test_user_forward_rule_is_called_with_dots():
    calls = []
    primal = np.frompyfunc(lambda v: v, 1, 1)  # any object without source stands for a C function

    def f(x):
        return primal(x) * 2.0

    @srcgrad.tangent(primal)
    def primal_tangent(dots, ans, x):
        calls.append(dots)
        return dots[0] * 1.0

    try:
        _, tangent = srcgrad.jvp(f, (3.0,), (0.5,))
        assert tangent == pytest.approx(1.0)
        assert calls == [(0.5,)]
    finally:
        from srcgrad.rules import registry

        registry._JVP_RULES.pop(primal, None)
        srcgrad.driver.derivatives.clear_cache()


def test_missing_forward_rule_names_the_user_line():
    opaque = np.frompyfunc(lambda v: v, 1, 1)

    def f(x):
        return opaque(x) + x

    with pytest.raises(srcgrad.SrcGradError) as info:
        srcgrad.jvp(f, (1.0,), (1.0,))
    message = str(info.value)
    assert "test_forward.py" in message and "return opaque(x) + x" in message and "^" in message
