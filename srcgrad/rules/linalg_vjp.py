"""Reverse rules of `np.linalg`: inv, det, slogdet, solve, cholesky, pinv, eigh, eigvalsh.

All rules work on stacks of matrices (the last two axes) and on real matrices.

Singular matrices: the rules of `det` and `slogdet` use the inverse (d det A = det A A^-T),
so they raise `LinAlgError` for an exactly singular matrix and lose accuracy near one.
`eigh` needs distinct eigenvalues when eigenvectors are differentiated (repeated ones give
inf/nan); eigenvector cotangents must not depend on each eigenvector's sign.
`cholesky` and `eigh` read one triangle of their argument (the lower one by default), so
their cotangents live on that triangle: the strict lower part carries both halves of the
symmetric derivative. For a symmetric matrix built from other values (such as `X @ X.T`)
this gives the same derivatives as the usual symmetric formula.
"""

from __future__ import annotations

import numpy as np

from ..runtime.core import is_zero, split, unbroadcast
from .registry import internal, vjp_rule

# NumPy < 2 treats `b` of `solve` as a stack of vectors when it has one axis less than `a`.
STACKED_VECTORS = np.lib.NumpyVersion(np.__version__) < "2.0.0"


def mT(x):
    return np.swapaxes(x, -1, -2)


@vjp_rule(np.linalg.inv)
def inv_vjp(g, ans, a):
    return (-np.swapaxes(ans, -1, -2) @ g @ np.swapaxes(ans, -1, -2),)


@vjp_rule(np.linalg.det)
def det_vjp(g, ans, a):
    """d det(A) = det(A) A^-T : raises LinAlgError for an exactly singular matrix."""
    return (np.expand_dims(g * ans, (-2, -1)) * np.swapaxes(np.linalg.inv(a), -1, -2),)


@vjp_rule(np.linalg.slogdet)
def slogdet_vjp(g, ans, a):
    """Only `logabsdet` (the second output) carries a derivative; the sign has none."""
    return (np.expand_dims(split(g, 2)[1], (-2, -1)) * np.swapaxes(np.linalg.inv(a), -1, -2),)


@vjp_rule(np.linalg.solve)
def solve_vjp(g, ans, a, b):
    return solve_cotangents(g, ans, a, b)


@vjp_rule(np.linalg.cholesky)
def cholesky_vjp(g, ans, a, upper=False):
    return (cholesky_adjoint(g, ans, upper),)


@vjp_rule(np.linalg.pinv)
def pinv_vjp(g, ans, a):
    """Valid where the rank of `a` is locally constant (e.g. full rank)."""
    return (pinv_adjoint(g, ans, a),)


@vjp_rule(np.linalg.eigh)
def eigh_vjp(g, ans, a, UPLO="L"):
    return (eigh_adjoint(g, ans, UPLO),)


@vjp_rule(np.linalg.eigvalsh)
def eigvalsh_vjp(g, ans, a, UPLO="L"):
    return (eigh_adjoint((g, 0.0), np.linalg.eigh(a, UPLO), UPLO),)


def solve_cotangents(g, x, a, b):
    """Cotangents of `a` and `b` for `x = solve(a, b)`: b_bar = solve(a^T, g) and
    a_bar = -b_bar x^T (an outer product when `b` is a vector)."""
    if np.ndim(b) == 1 or STACKED_VECTORS and np.ndim(b) == np.ndim(a) - 1:
        b_bar = np.linalg.solve(mT(a), np.expand_dims(g, -1))[..., 0]  # g may be a stack
        a_bar = -np.expand_dims(b_bar, -1) * np.expand_dims(x, -2)
    else:
        b_bar = np.linalg.solve(mT(a), g)
        a_bar = -(b_bar @ mT(x))
    return unbroadcast(a_bar, a), unbroadcast(b_bar, b)


def cholesky_adjoint(g, L, upper=False):
    """With A = L L^T: S = L^-T Phi(L^T g) L^-1, Phi = lower triangle with half its diagonal;
    then the cotangent on the triangle that NumPy reads."""
    if upper:
        return mT(cholesky_adjoint(mT(g), mT(L)))
    inner = mT(L) @ g
    inner = np.tril(inner) - 0.5 * np.eye(np.shape(L)[-1]) * inner
    L_inv = np.linalg.inv(L)
    return on_triangle(mT(L_inv) @ inner @ L_inv, "L")


def eigh_adjoint(g, ans, UPLO):
    """Cotangent of A from those of its eigenvalues w and eigenvectors v:
    v (diag(w_bar) + F * (v^T v_bar)) v^T with F_ij = 1 / (w_j - w_i) off the diagonal."""
    w, v = ans
    w_bar, v_bar = split(g, 2)
    n = np.shape(w)[-1]
    inner = np.zeros(np.shape(v)) if is_zero(w_bar) else np.expand_dims(w_bar, -1) * np.eye(n)
    if not is_zero(v_bar):
        gaps = np.expand_dims(w, -2) - np.expand_dims(w, -1) + np.eye(n)
        inner = inner + (1 - np.eye(n)) / gaps * (mT(v) @ v_bar)
    return on_triangle(v @ inner @ mT(v), UPLO)


def on_triangle(s, uplo):
    """The cotangent of a matrix of which only one triangle is read, from the raw
    cotangent `s` of its symmetric completion: diag(s) plus the strict triangle of s + s^T."""
    tri = np.tril if uplo == "L" else np.triu
    eye = np.eye(np.shape(s)[-1])
    return tri(s + mT(s)) - eye * s


def pinv_adjoint(g, p, a):
    """Golub-Pereyra: with P = pinv(A),
    A_bar = -P^T G P^T + (I - A P) G^T P P^T + P^T P G^T (I - P A)."""
    m, n = np.shape(a)[-2:]
    g_t = mT(g)
    return (
        -mT(p) @ g @ mT(p)
        + (np.eye(m) - a @ p) @ g_t @ p @ mT(p)
        + mT(p) @ p @ g_t @ (np.eye(n) - p @ a)
    )

# srcgrad's own functions, which only generated code and the rules call (not listed in the reference).
internal(on_triangle, cholesky_adjoint, eigh_adjoint, pinv_adjoint, solve_cotangents)
