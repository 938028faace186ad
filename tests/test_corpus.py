"""Whole programs: srcgrad's gradients against central finite differences."""

import numpy as np
import pytest
from programs import CORPUS

import srcgrad


@pytest.mark.parametrize("fn, args, wrt", CORPUS, ids=[f"{c[0].__name__}-{i}" for i, c in enumerate(CORPUS)])
def test_gradient_matches_finite_differences(fn, args, wrt):
    srcgrad.check_grad(fn, *args, wrt=wrt, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("fn, args, wrt", CORPUS[:12], ids=[f"{c[0].__name__}-{i}" for i, c in enumerate(CORPUS[:12])])
def test_value_and_grad_agrees_with_function_and_grad(fn, args, wrt):
    value, gradient = srcgrad.value_and_grad(fn, wrt=wrt)(*args)
    np.testing.assert_allclose(value, fn(*args), rtol=1e-12)
    expected = srcgrad.grad(fn, wrt=wrt)(*args)
    for got, want in zip(np.atleast_1d(gradient) if not isinstance(wrt, tuple) else gradient,
                         np.atleast_1d(expected) if not isinstance(wrt, tuple) else expected):
        np.testing.assert_allclose(got, want)
