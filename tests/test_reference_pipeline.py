"""The reference pipeline (`optimize=False`, no clean-ups) and each clean-up switched off on
its own: every program of the corpora still gets the derivative finite differences give."""

import numpy as np
import pytest
from flow_programs import FLOW_CORPUS
from programs import CORPUS

import srcgrad
from srcgrad.request import ALL

PROGRAMS = CORPUS + FLOW_CORPUS
IDS = [f"{c[0].__name__}-{i}" for i, c in enumerate(PROGRAMS)]


@pytest.mark.parametrize("fn, args, wrt", PROGRAMS, ids=IDS)
def test_reference_gradient_matches_finite_differences(fn, args, wrt):
    srcgrad.check_grad(fn, *args, wrt=wrt, rtol=1e-5, atol=1e-6, optimize=False)


@pytest.mark.parametrize("fn, args, wrt", PROGRAMS, ids=IDS)
def test_reference_tangent_matches_finite_differences(fn, args, wrt):
    try:
        srcgrad.check_jvp(fn, *args, wrt=wrt, rtol=1e-5, atol=1e-6, optimize=False)
    except srcgrad.NotDifferentiableError as refused:  # forward mode refuses some (recursion...)
        with pytest.raises(srcgrad.NotDifferentiableError):
            srcgrad.check_jvp(fn, *args, wrt=wrt)
        assert str(refused)


@pytest.mark.parametrize("cleanup", sorted(ALL))
def test_each_cleanup_can_be_switched_off_alone(cleanup):
    others = ALL - {cleanup}
    for fn, args, wrt in FLOW_CORPUS:
        srcgrad.check_grad(fn, *args, wrt=wrt, rtol=1e-5, atol=1e-6, optimize=others)


def test_reference_code_is_plain():
    def f(x):
        y = x * 2.0
        z = y
        return z * z

    optimized = srcgrad.source(f)
    reference = srcgrad.source(f, optimize=False)
    assert reference != optimized
    assert "y_bar = z_bar" in reference and "y_bar = z_bar" not in optimized  # the copy is kept, as written
    assert srcgrad.grad(f, optimize=False)(1.5) == pytest.approx(8.0 * 1.5)


def test_optimize_names_are_checked():
    with pytest.raises(srcgrad.UsageError, match="unknown clean-up"):
        srcgrad.grad(lambda x: x, optimize={"nonsense"})
    with pytest.raises(srcgrad.UsageError):
        srcgrad.grad(lambda x: x, optimize="fold")


def test_second_order_reference_pipeline():
    def f(x):
        return np.sum(np.sin(x) * x)

    x = np.array([0.3, -0.7, 1.1])
    hessian = srcgrad.hessian(f, optimize=False)(x)
    want = np.diag(2.0 * np.cos(x) - x * np.sin(x))
    np.testing.assert_allclose(hessian, want, rtol=1e-10, atol=1e-12)
