"""The function `grad` returns runs specialised code itself, guarded by argument types.

Truth: closed-form derivatives (each function here has one), finite differences for arrays.
"""

import inspect
import math

import numpy as np
import pytest

import srcgrad


def cubic(x):
    return x**3 - 2.0 * x


def cubic_prime(x):
    return 3.0 * x**2 - 2.0


def summed_cubic(x):
    return np.sum(x**3 - 2.0 * x)


def runs_generated_code_itself(d) -> bool:
    return d.__code__.co_filename.startswith("<srcgrad ") and "_general" in d.__code__.co_freevars


def test_after_a_float_call_the_derivative_is_the_generated_code():
    d = srcgrad.grad(cubic)
    assert d(1.5) == pytest.approx(cubic_prime(1.5))
    assert runs_generated_code_itself(d)
    assert type(d(0.25)) is float and d(0.25) == pytest.approx(cubic_prime(0.25))


def test_other_argument_types_fall_back_and_get_their_own_code():
    d = srcgrad.grad(cubic)
    d(1.5)
    x = np.array(0.5)  # a 0-d array
    np.testing.assert_allclose(d(x), cubic_prime(x))
    assert isinstance(d(x), np.ndarray) and d(x).shape == ()
    got = d(2)  # an int: a gradient is a float
    assert type(got) is float and got == pytest.approx(cubic_prime(2.0))
    got = d(np.float64(0.75))
    assert got == pytest.approx(cubic_prime(0.75))
    assert d(1.25) == pytest.approx(cubic_prime(1.25))  # floats still take the guarded code


def test_numpy_results_are_returned_as_python_floats():
    def f(x, y):
        return np.sin(x * y) + y

    d = srcgrad.grad(f, wrt=(0, 1))
    gx, gy = d(0.5, 2.0)
    assert type(gx) is float and type(gy) is float
    assert gx == pytest.approx(math.cos(1.0) * 2.0) and gy == pytest.approx(math.cos(1.0) * 0.5 + 1.0)
    assert "return (float(x_bar), float(y_bar))" in srcgrad.source(d)


def test_keywords_defaults_and_keyword_only_parameters_pass_through():
    def f(x, /, a=2.0, *, b=3.0):
        return a * x**2 + b * x

    d = srcgrad.grad(f)
    assert inspect.signature(d) == inspect.signature(f)
    assert d(1.5) == pytest.approx(2.0 * 2 * 1.5 + 3.0)
    assert runs_generated_code_itself(d)
    assert d(1.5, 4.0, b=1.0) == pytest.approx(4.0 * 2 * 1.5 + 1.0)
    assert d(1.5, a=np.float64(4.0)) == pytest.approx(4.0 * 3.0 + 3.0)


def test_value_and_grad_in_entry_form():
    d = srcgrad.value_and_grad(cubic)
    value, gradient = d(1.5)
    assert value == pytest.approx(cubic(1.5)) and gradient == pytest.approx(cubic_prime(1.5))
    assert runs_generated_code_itself(d)
    value, gradient = d(np.array(2.0))
    np.testing.assert_allclose(gradient, cubic_prime(2.0))


def test_a_derivative_that_needs_more_than_its_fallback_still_dispatches():
    scale = 3.0

    def f(x):
        return scale * x**2  # reads a closure cell: the code cannot replace the entry's

    d = srcgrad.grad(f)
    assert d(2.0) == pytest.approx(12.0)
    assert not runs_generated_code_itself(d)
    assert d(np.array(1.0)) == pytest.approx(6.0)


def test_two_derivatives_of_one_function_share_code_but_not_fallbacks():
    first, second = srcgrad.grad(summed_cubic), srcgrad.grad(summed_cubic)
    first(1.0)
    second(2.0)
    assert first.__code__ is second.__code__
    x = np.array([3.0, -1.0])
    np.testing.assert_allclose(first(x), cubic_prime(x))
    np.testing.assert_allclose(second(x + 1.0), cubic_prime(x + 1.0))


def test_first_call_with_an_array_keeps_general_dispatch():
    d = srcgrad.grad(summed_cubic)
    x = np.array([1.0, 2.0])
    np.testing.assert_allclose(d(x), cubic_prime(x))
    assert not runs_generated_code_itself(d)
    assert d(1.5) == pytest.approx(cubic_prime(1.5))


def test_bound_methods_and_higher_order_still_work():
    class Model:
        def __init__(self, a):
            self.a = a

        def loss(self, x):
            return self.a * x**3

    d = srcgrad.grad(Model(2.0).loss)
    assert d(1.5) == pytest.approx(2.0 * 3 * 1.5**2)
    second = srcgrad.grad(srcgrad.grad(cubic))
    assert second(1.5) == pytest.approx(6.0 * 1.5)
    assert runs_generated_code_itself(second)
