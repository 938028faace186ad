"""Derivatives of derivatives: grad(grad(f)), hessian, hvp and jacobian, against closed forms
and finite differences."""

import math

import numpy as np
import pytest

import srcgrad
from srcgrad.tools.testing import directional_fd

grad = srcgrad.grad


def cubic(x):
    return 3 * x ** 3 + 2 * x ** 2 + x


def piecewise(x):
    if x > 1.0:
        return x ** 4
    return -2.0 * x ** 3


def power_by_loop(x, n):
    y = 1.0
    for _ in range(n):
        y = y * x
    return y


def squared_three_times(x):
    for _ in range(3):
        x = x * x  # overwritten in the loop: the first-order code uses the tape
    return x


def sin_sum(x):
    s = 0.0
    for i in range(1, 4):
        s = s + math.sin(i * x) * x
    return s


def grow_until(x, limit):
    y = x
    while y < limit:  # data-dependent trip count k; y = x**(k+1)
        y = y * x
    return y


def _times(a, b):
    if a > 0:
        return a * b * b
    return -a * b


def through_helper(x):
    return _times(x, x + 1.0)


def power_recursive(x, n):
    if n == 0:
        return 1.0
    return x * power_recursive(x, n - 1)


CLOSED_FORMS = [
    # (function, args, second derivative, third derivative or None)
    (cubic, (2.0,), 18 * 2.0 + 4, 18.0),
    (piecewise, (1.5,), 12 * 1.5 ** 2, 24 * 1.5),
    (piecewise, (0.5,), -12 * 0.5, -12.0),
    (power_by_loop, (1.3, 5), 20 * 1.3 ** 3, 60 * 1.3 ** 2),
    (power_by_loop, (1.3, 0), 0.0, 0.0),
    (squared_three_times, (0.9,), 56 * 0.9 ** 6, 336 * 0.9 ** 5),
    (sin_sum, (0.7,), sum(2 * i * math.cos(i * 0.7) - 0.7 * i * i * math.sin(i * 0.7) for i in range(1, 4)), None),
    (grow_until, (1.5, 10.0), 5 * 6 * 1.5 ** 4, 5 * 6 * 4 * 1.5 ** 3),  # 1.5**6 > 10 after 5 trips
    (through_helper, (0.5,), 6 * 0.5 + 4, 6.0),  # x (x+1)^2
    (through_helper, (-0.5,), -2.0, 0.0),  # -x (x+1)
    (power_recursive, (1.2, 4), 12 * 1.2 ** 2, 24 * 1.2),
]


@pytest.mark.parametrize("fn, args, second, third", CLOSED_FORMS,
                         ids=[f"{c[0].__name__}-{i}" for i, c in enumerate(CLOSED_FORMS)])
def test_second_and_third_derivatives_match_closed_forms(fn, args, second, third):
    assert grad(grad(fn))(*args) == pytest.approx(second, rel=1e-10, abs=1e-10)
    if third is not None:
        assert grad(grad(grad(fn)))(*args) == pytest.approx(third, rel=1e-10, abs=1e-10)


@pytest.mark.parametrize("fn, args, second, third", CLOSED_FORMS,
                         ids=[f"{c[0].__name__}-{i}" for i, c in enumerate(CLOSED_FORMS)])
def test_forward_over_reverse_matches_closed_forms(fn, args, second, third):
    assert srcgrad.hvp(fn)(*args, 1.0) == pytest.approx(second, rel=1e-10, abs=1e-10)
    assert srcgrad.hessian(fn)(*args) == pytest.approx(second, rel=1e-10, abs=1e-10)


def test_a_function_that_calls_a_gradient_can_be_differentiated():
    dcubic = grad(cubic)

    def h(x):
        return dcubic(x) * x  # (9x^2 + 4x + 1) x

    assert grad(h)(2.0) == pytest.approx(27 * 4.0 + 8 * 2.0 + 1)


def quadratic_form(x, A, b):
    return 0.5 * x @ (A @ x) + b @ x


def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def rosenbrock_hessian(x):
    n = len(x)
    H = np.zeros((n, n))
    for i in range(n - 1):
        H[i, i] += 1200 * x[i] ** 2 - 400 * x[i + 1] + 2
        H[i + 1, i + 1] += 200
        H[i, i + 1] += -400 * x[i]
        H[i + 1, i] += -400 * x[i]
    return H


@pytest.fixture
def problem():
    rng = np.random.default_rng(3)
    n = 6
    return rng.standard_normal((n, n)), rng.standard_normal(n), rng.standard_normal(n), rng.standard_normal(n)


def test_hessian_of_a_quadratic_form(problem):
    A, b, x, _ = problem
    np.testing.assert_allclose(srcgrad.hessian(quadratic_form)(x, A, b), 0.5 * (A + A.T), rtol=1e-12, atol=1e-12)


def test_hvp_equals_hessian_times_v(problem):
    A, b, x, v = problem
    H = srcgrad.hessian(rosenbrock)(x)
    np.testing.assert_allclose(H, rosenbrock_hessian(x), rtol=1e-10)
    np.testing.assert_allclose(srcgrad.hvp(rosenbrock)(x, v), H @ v, rtol=1e-10)
    np.testing.assert_allclose(srcgrad.hvp(quadratic_form)(x, A, b, v), 0.5 * (A + A.T) @ v, rtol=1e-12)


def test_hessian_by_reverse_over_reverse_agrees(problem):
    _, _, x, _ = problem
    rows = [grad(lambda x, i=i: grad(rosenbrock)(x)[i])(x) for i in range(len(x))]
    np.testing.assert_allclose(np.array(rows), rosenbrock_hessian(x), rtol=1e-10)


def tall(x):
    return np.concatenate([np.sin(x), x * x, np.exp(x)])


def wide(x):
    return np.array([np.sum(x * x), np.sum(np.sin(x))])


@pytest.mark.parametrize("fn, n", [(tall, 3), (wide, 5)])
def test_jacobian_forward_and_reverse_columns_match_finite_differences(fn, n):
    x = np.linspace(-0.7, 0.9, n)
    J = srcgrad.jacobian(fn)(x)
    out = fn(x)
    assert J.shape == out.shape + x.shape
    for i in range(n):
        e = np.zeros(n)
        e[i] = 1.0
        np.testing.assert_allclose(J[:, i], directional_fd(fn, (x,), [0], [e]), rtol=1e-6, atol=1e-8)


def test_jacobian_of_matrix_valued_function_and_tuple_wrt():
    def f(A, x):
        return np.tanh(A * x)

    A = np.array([[0.5, -1.0], [0.25, 2.0]])
    x = np.array([0.3, -0.4])
    JA, Jx = srcgrad.jacobian(f, wrt=(0, 1))(A, x)
    assert JA.shape == (2, 2, 2, 2) and Jx.shape == (2, 2, 2)
    sech2 = 1 - np.tanh(A * x) ** 2
    for i in range(2):
        for j in range(2):
            assert JA[i, j, i, j] == pytest.approx(sech2[i, j] * x[j])
            assert Jx[i, j, j] == pytest.approx(sech2[i, j] * A[i, j])
    assert np.count_nonzero(JA) == 4 and np.count_nonzero(Jx) == 4


def test_jacobian_says_which_mode_it_uses():
    doc = srcgrad.jacobian.__doc__
    assert "forward" in doc and "reverse" in doc


def test_hessian_takes_one_parameter():
    with pytest.raises(srcgrad.UsageError, match="one parameter"):
        srcgrad.hessian(quadratic_form, wrt=(0, 1))


def test_a_vjp_closure_cannot_be_differentiated_again():
    derivative = srcgrad.api._Derivative(cubic, 0, "vjp")
    with pytest.raises(srcgrad.UsageError, match="differentiate again"):
        grad(derivative)(1.0)


def test_generated_second_derivative_is_readable_code():
    text = srcgrad.source(grad(grad(cubic)))
    assert text.startswith("def grad_grad_cubic(x):")
    assert "x_bar_bar" in text


def test_second_derivative_through_a_user_rule_differentiates_the_rule():
    cube = np.frompyfunc(lambda v: v ** 3, 1, 1)  # no source: srcgrad knows it only by its rules

    @srcgrad.adjoint(cube)
    def cube_vjp(g, ans, x):
        return (g * 3 * x ** 2,)

    @srcgrad.tangent(cube)
    def cube_jvp(dots, ans, x):
        return dots[0] * 3 * x ** 2

    def f(x):
        return cube(x) * 2.0

    try:
        assert grad(f)(1.5) == pytest.approx(6 * 1.5 ** 2)
        assert grad(grad(f))(1.5) == pytest.approx(12 * 1.5)
        assert srcgrad.hessian(f)(1.5) == pytest.approx(12 * 1.5)
    finally:
        from srcgrad.rules import registry

        registry._VJP_RULES.pop(cube, None)
        registry._JVP_RULES.pop(cube, None)
        srcgrad.driver.derivatives.clear_cache()


def test_mixed_partials_through_a_called_helper_rule():
    def f(x, y):
        return math.prod([x, y, x])  # x^2 y, whose rule calls a helper rather than inlining

    assert grad(grad(f))(1.5, 2.0) == pytest.approx(2 * 2.0)
    assert grad(grad(f, wrt=1), wrt=0)(1.5, 2.0) == pytest.approx(2 * 1.5)


def mlp_loss(W1, b1, W2, x, y):
    h = np.tanh(x @ W1 + b1)
    logits = h @ W2
    shifted = logits - np.max(logits, axis=1, keepdims=True)
    log_p = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    return -np.mean(np.sum(log_p * y, axis=1))


def test_hvp_of_a_small_network_matches_differences_of_gradients():
    rng = np.random.default_rng(7)
    W1, b1, W2 = rng.standard_normal((4, 5)) * 0.5, rng.standard_normal(5) * 0.1, rng.standard_normal((5, 3)) * 0.5
    x, y = rng.standard_normal((6, 4)), np.eye(3)[rng.integers(0, 3, 6)]
    v = rng.standard_normal((4, 5))
    args = (W1, b1, W2, x, y)
    got = srcgrad.hvp(mlp_loss)(*args, v)
    gradient = grad(mlp_loss)
    want = directional_fd(lambda W: gradient(W, *args[1:]), (W1,), [0], [v])
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-8)
    again = grad(lambda W, v: np.sum(gradient(W, b1, W2, x, y) * v))(W1, v)  # reverse over reverse
    np.testing.assert_allclose(again, got, rtol=1e-10, atol=1e-12)
