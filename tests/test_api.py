"""The public API: wrt handling, structure of results, errors, caching, generated text."""

import math
import re

import numpy as np
import pytest

import srcgrad
from srcgrad import SrcGradError


def cubic(x, y, *, scale=2.0):
    return scale * x**3 + x * y


def test_grad_decorator_forms_agree_with_closed_form():
    @srcgrad.grad
    def d1(x):
        return x**3

    @srcgrad.grad(wrt=1)
    def d2(x, y):
        return x * y**2

    assert d1(2.0) == pytest.approx(12.0)
    assert d2(3.0, 2.0) == pytest.approx(12.0)


def test_wrt_by_name_position_and_tuple():
    x, y = 1.5, -0.5
    dx = 3 * 2.0 * x**2 + y
    assert srcgrad.grad(cubic)(x, y) == pytest.approx(dx)
    assert srcgrad.grad(cubic, wrt="y")(x, y) == pytest.approx(x)
    gx, gy = srcgrad.grad(cubic, wrt=("x", 1))(x, y)
    assert (gx, gy) == (pytest.approx(dx), pytest.approx(x))
    assert srcgrad.grad(cubic, wrt="scale")(x, y, scale=3.0) == pytest.approx(x**3)


def test_gradient_has_type_shape_and_dtype_of_argument():
    def f(x):
        return np.sum(x**2)

    g = srcgrad.grad(f)
    assert isinstance(g(3), float) and g(3) == 6.0
    assert isinstance(g(1.5), float)
    a = np.arange(6.0, dtype=np.float32).reshape(2, 3)
    out = g(a)
    assert out.shape == (2, 3) and out.dtype == np.float32
    np.testing.assert_allclose(out, 2 * a)
    ints = srcgrad.grad(f)(np.arange(3))
    assert ints.dtype == np.float64
    np.testing.assert_allclose(ints, 2 * np.arange(3))


def test_pytree_gradient_has_same_nesting():
    def loss(p):
        return p["a"] ** 2 + np.sum(p["b"][0] * 3.0) + p["b"][1][0] * p["a"]

    params = {"a": 2.0, "b": [np.ones(2), (4.0, 5.0)], "unused": np.zeros(3)}
    g = srcgrad.grad(loss)(params)
    assert set(g) == {"a", "b", "unused"}
    assert g["a"] == pytest.approx(2 * 2.0 + 4.0)
    np.testing.assert_allclose(g["b"][0], [3.0, 3.0])
    assert isinstance(g["b"], list) and isinstance(g["b"][1], tuple)
    assert g["b"][1] == (pytest.approx(2.0), 0.0)
    np.testing.assert_array_equal(g["unused"], np.zeros(3))


def test_non_scalar_output_is_an_error_that_points_to_vjp():
    def f(x):
        return x * 2.0

    with pytest.raises(SrcGradError, match=r"scalar.*\(3,\).*vjp|scalar.*vjp"):
        srcgrad.grad(f)(np.ones(3))


def test_vjp_any_output_shape():
    def f(x, w):
        return np.tanh(x @ w)

    x, w = np.ones((2, 3)) * 0.1, np.arange(12.0).reshape(3, 4) / 10
    out, pullback = srcgrad.vjp(f, x, w, wrt=(0, 1))
    np.testing.assert_allclose(out, f(x, w))
    v = np.arange(8.0).reshape(2, 4)
    gx, gw = pullback(v)
    d = v * (1 - out**2)
    np.testing.assert_allclose(gx, d @ w.T)
    np.testing.assert_allclose(gw, x.T @ d)
    again = pullback(v)  # a pullback can be called more than once
    np.testing.assert_allclose(again[1], gw)


def test_stop_gradient_and_no_grad_closed_form():
    from programs import stopped

    # y = stop(2x), z = 3x computed under no_grad: d/dx (x*y + z*x) = y + z = 5x
    assert srcgrad.grad(stopped)(0.8) == pytest.approx(5 * 0.8)
    with srcgrad.no_grad():
        assert stopped(1.0) == 5.0


def test_custom_adjoint_is_used_instead_of_source():
    def clipped_identity(x):
        return x * 1.0

    @srcgrad.adjoint(clipped_identity)
    def clipped_identity_vjp(g, ans, x):
        return (np.clip(g, -1.0, 1.0),)

    def f(x):
        return 5.0 * clipped_identity(x)

    assert srcgrad.grad(f)(2.0) == pytest.approx(1.0)  # 5 clipped to 1


def test_custom_adjoint_for_a_function_without_source():
    def f(x):
        return np.cbrt(x) * 2.0 + math.gamma(x)

    g = srcgrad.grad(f)(1.7)
    eps = 1e-6
    assert g == pytest.approx((f(1.7 + eps) - f(1.7 - eps)) / (2 * eps), rel=1e-6)


def test_transform_is_cached_and_redefinition_is_fresh():
    def f(x):
        return x * 2.0

    d = srcgrad.grad(f)
    d(1.0)
    first = d.__code__
    again = srcgrad.grad(f)
    again(2.0)
    assert again.__code__ is first  # the same generated code, now run by both

    def f(x):  # noqa: F811
        return x * 3.0

    assert srcgrad.grad(f)(1.0) == 3.0


def test_bound_method_positions_count_after_self():
    from programs import model

    g = srcgrad.grad(model.loss)(0.5)
    assert g == pytest.approx(2 * 1.5 * 0.5 + math.cos(0.5) * 1.5)


def test_generated_code_is_in_linecache_and_readable():
    import linecache

    def f(x, y):
        z = x * y
        return np.sin(z) + y

    d = srcgrad.grad(f, wrt=(0, 1))
    d(1.0, 2.0)
    text = srcgrad.source(d)
    assert "x_bar" in text and "y_bar" in text and "z_bar" in text
    assert re.search(r"# adjoint of line \d+: z = x \* y", text)
    filename = d.__code__.co_filename  # called with floats: `d` runs the generated code itself
    assert "z = x * y" in "".join(linecache.getlines(filename))


def test_thread_safety_of_concurrent_calls():
    from concurrent.futures import ThreadPoolExecutor

    def f(x, n):
        for i in range(n):
            x = x * 0.5 + np.sin(x)
        return x

    d = srcgrad.grad(f)
    points = [0.1 * k for k in range(1, 40)]
    serial = [d(p, 25) for p in points]
    with ThreadPoolExecutor(8) as pool:
        parallel = list(pool.map(lambda p: d(p, 25), points))
    assert parallel == serial
