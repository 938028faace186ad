"""Every example runs (at small sizes) and shows what it claims, checked independently."""

import importlib.util
import math
import runpy
import sys
from pathlib import Path

import numpy as np
import pytest

import srcgrad
from srcgrad.tools.testing import directional_fd

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
TESTED = {"quickstart", "sum_of_squares", "vjp", "higher_order", "linear_regression", "mlp_spirals", "projectile"}


def load(name):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_every_example_is_tested():
    assert {p.stem for p in EXAMPLES.glob("*.py")} == TESTED


def test_quickstart_as_a_script(capsys):
    runpy.run_path(str(EXAMPLES / "quickstart.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "f(2) = 17.0" in out and "f'(2) = 14.0" in out
    assert "def grad_f(x):" in out and "return x_bar" in out


def test_sum_of_squares_gives_2x(capsys):
    x, gradient = load("sum_of_squares").main(n=4)
    np.testing.assert_array_equal(gradient, 2 * x)
    assert "def grad_y(x):" in capsys.readouterr().out


def test_vjp_through_the_doubling_loop_matches_finite_differences(capsys):
    example = load("vjp")
    x, y, v, vjp, expected = example.main(seed=3)
    np.testing.assert_allclose(vjp, expected)
    for i in range(3):  # vᵀJ e_i by central differences, J's columns one at a time
        column = directional_fd(example.doubled, [x], [0], [np.eye(3)[i]])
        assert vjp[i] == pytest.approx(float(v @ column), rel=1e-6)
    assert np.linalg.norm(y) >= 1000 > np.linalg.norm(y / 2)
    assert "vᵀJ" in capsys.readouterr().out


def test_higher_order_against_closed_forms(capsys):
    got, exact, p, hv, tangent, jacobian = load("higher_order").main(newton_steps=7)
    np.testing.assert_allclose(got, exact, rtol=1e-12)
    np.testing.assert_allclose(p, [1.0, 1.0], atol=1e-12)   # Rosenbrock's minimum
    x, y = 1.5, 0.5
    hessian = np.array([[2 + 1200 * x**2 - 400 * y, -400 * x], [-400 * x, 200.0]])
    np.testing.assert_allclose(hv, hessian @ [1.0, -2.0])
    z, u = np.array([0.3, -1.0, 2.0]), np.array([1.0, 0.0, -1.0])
    exact_jacobian = np.diag(np.cos(z) * z[0] + 2 * z)
    exact_jacobian[:, 0] += np.sin(z)
    np.testing.assert_allclose(jacobian, exact_jacobian, rtol=1e-12)
    np.testing.assert_allclose(tangent, exact_jacobian @ u, rtol=1e-12)
    assert "order 3" in capsys.readouterr().out


def test_linear_regression_reaches_least_squares(capsys):
    params, solution = load("linear_regression").main(epochs=12)
    np.testing.assert_allclose(np.r_[params["w"], params["b"]], solution, atol=5e-3)
    assert "mse" in capsys.readouterr().out


def test_mlp_learns_with_its_first_layer_frozen(capsys):
    example = load("mlp_spirals")
    first, last, params = example.main(steps=250, report_every=125)
    assert last[0] < 0.3 * first[0] and last[1] > 0.9 and last[2] > 0.9
    np.testing.assert_array_equal(params["layer1"]["w"], example.init_params(16)["layer1"]["w"])
    out = capsys.readouterr().out
    assert out.count("test accuracy") == 3 and "layer1 frozen" in out
    x, y = example.two_spirals(3)
    small = example.init_params(3)
    srcgrad.check_grad(example.loss, small, x, np.eye(2)[y])


def test_projectile_gradient_and_optimum(capsys):
    example = load("projectile")
    angle = math.radians(30)
    slope = srcgrad.grad(example.flight_range)(angle)
    fd = directional_fd(example.flight_range, [angle], [0], [1.0], step=1e-7)
    assert slope == pytest.approx(float(fd), rel=1e-3)
    found, scanned = example.main(iterations=8, scan_points=121)
    assert abs(math.degrees(found - scanned)) < 0.6
    assert example.flight_range(found) > example.flight_range(scanned) - 1e-3
    assert "iteration" in capsys.readouterr().out
