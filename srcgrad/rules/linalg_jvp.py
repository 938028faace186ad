"""Forward rules of `np.linalg`: inv, det, slogdet, solve, cholesky, pinv, eigh, eigvalsh.

They work on stacks of real matrices and make the reverse rules' choices: `cholesky` and
`eigh` read one triangle of their argument (the lower one by default, the upper one for
`upper=True` / `UPLO="U"`), so the tangent of that argument enters through the symmetric
matrix of that triangle (`from_triangle`); `det` and `slogdet` solve with the matrix, so they
raise `LinAlgError` for an exactly singular one; eigenvector tangents need distinct
eigenvalues; `pinv` assumes a locally constant rank.

Both rules of the helpers that the reverse templates call are in `linalg_helpers`.
"""

from __future__ import annotations

import numpy as np

from ..runtime.core import zero_tangent
from .linalg_helpers import eigh_tangent, from_triangle, half_triangle
from .linalg_vjp import STACKED_VECTORS
from .registry import jvp_rule


@jvp_rule(np.linalg.inv)
def inv_jvp(d, ans, a):
    return (-(ans @ d @ ans),)


@jvp_rule(np.linalg.det)
def det_jvp(d, ans, a):
    """d det(A) = det(A) trace(A^-1 dA)."""
    return (ans * np.trace(np.linalg.solve(a, d), axis1=-2, axis2=-1),)


@jvp_rule(np.linalg.slogdet)
def slogdet_jvp(d, ans, a):
    """The sign has no tangent; d log|det A| = trace(A^-1 dA)."""
    return ((zero_tangent(ans[0]), np.trace(np.linalg.solve(a, d), axis1=-2, axis2=-1)),)


@jvp_rule(np.linalg.solve)
def solve_jvp(d, ans, a, b):
    """dx = A^-1 (db - dA x), with x a (stack of) vector(s) when `b` is."""
    return (
        -np.linalg.solve(a, d @ np.expand_dims(ans, -1))[..., 0]
        if np.ndim(b) == 1 or STACKED_VECTORS and np.ndim(b) == np.ndim(a) - 1
        else -np.linalg.solve(a, d @ ans),
        np.linalg.solve(a, d),
    )


@jvp_rule(np.linalg.cholesky)
def cholesky_jvp(d, ans, a, upper=False):
    """dL = L Phi(L^-1 dA L^-T) with Phi the lower triangle at half the diagonal; for
    upper=True, U = L^T gives dU = Phi(U^-T dA U^-1)^T U."""
    return (
        (
            np.linalg.solve(
                np.swapaxes(ans, -1, -2),
                np.swapaxes(np.linalg.solve(np.swapaxes(ans, -1, -2), from_triangle(d, "U")), -1, -2),
            )
            * half_triangle(np.shape(a)[-1], True)
        )
        @ ans
        if upper
        else ans
        @ (
            np.linalg.solve(ans, np.swapaxes(np.linalg.solve(ans, from_triangle(d, "L")), -1, -2))
            * half_triangle(np.shape(a)[-1])
        ),
    )


@jvp_rule(np.linalg.pinv)
def pinv_jvp(d, ans, a):
    """With P = pinv(A) (valid where the rank is locally constant):
    dP = -P dA P + P P^T dA^T (I - A P) + (I - P A) dA^T P^T P."""
    return (
        -(ans @ d @ ans)
        + ans @ np.swapaxes(ans, -1, -2) @ np.swapaxes(d, -1, -2) @ (np.eye(np.shape(a)[-2]) - a @ ans)
        + (np.eye(np.shape(a)[-1]) - ans @ a) @ np.swapaxes(d, -1, -2) @ np.swapaxes(ans, -1, -2) @ ans,
    )


@jvp_rule(np.linalg.eigh)
def eigh_jvp(d, ans, a, UPLO="L"):
    return (eigh_tangent(d, ans, UPLO),)


@jvp_rule(np.linalg.eigvalsh)
def eigvalsh_jvp(d, ans, a, UPLO="L"):
    return (eigh_tangent(d, np.linalg.eigh(a, UPLO), UPLO)[0],)
