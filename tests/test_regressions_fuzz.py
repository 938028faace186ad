"""Minimal programs the differential fuzzer (`python -m fuzz`) found wrong or crashing, each
against finite differences; the comment says what went wrong before the fix."""

import numpy as np
import pytest
from generated import fd_grad

import srcgrad


def outer_after_early_return(x):
    # the cotangent of `t1` is the scalar zero when the early return did not run; np.outer's
    # rule reshapes its cotangent, and was applied to that zero (ValueError from reshape)
    t1 = np.outer(0.7, x)
    if np.sum(x) > 10.0:
        return np.sum(t1)
    return np.sum(x)


@pytest.mark.parametrize("scale", [1.0, 5.0])
@pytest.mark.parametrize("optimize", [True, False])
def test_reshaping_rule_after_a_branch_that_may_not_have_run(scale, optimize):
    x = np.array([0.3, -0.2, 0.5]) * scale
    got = srcgrad.grad(outer_after_early_return, optimize=optimize)(x)
    np.testing.assert_allclose(got, fd_grad(outer_after_early_return, (x,), 0), rtol=1e-6, atol=1e-9)
