"""Reverse and forward rules of the helpers that the templates of `np.linalg` call, so that
generated derivative code can be differentiated again, and the helpers that those rules and
the forward rules of `linalg_jvp` add.

New helpers: `from_triangle` (the symmetric matrix of one triangle: the transpose of
`on_triangle`), `inverse_gaps` (F_ij = 1 / (w_j - w_i) off the diagonal, as in
`eigh_adjoint`), `eigh_tangent` (the tangent of `eigh`, the transpose of `eigh_adjoint`) and
the non-differentiable `half_triangle` (the weights of Phi in the Cholesky formulas).

Every helper is linear in its cotangent (or tangent) argument; the rules for it are the
helper itself and its transpose. The other arguments enter nonlinearly through inverses,
solves and eigenvector products; those terms are written out below. Helpers evaluated on
a triangle (`on_triangle`) depend only on the symmetric part of their argument, which
lets some terms be written with one product instead of two.
"""

from __future__ import annotations

import numpy as np

from ..runtime.core import TupleCotangent, match
from .linalg_vjp import (
    STACKED_VECTORS,
    cholesky_adjoint,
    eigh_adjoint,
    mT,
    on_triangle,
    pinv_adjoint,
    solve_cotangents,
)
from .registry import internal, jvp_rule, nondifferentiable, vjp_rule


def from_triangle(h, uplo="L"):
    """The symmetric matrix whose `uplo` triangle ("L" or "U") is the one of `h`."""
    tri = np.tril if uplo == "L" else np.triu
    return tri(h) + mT(tri(h)) - np.eye(np.shape(h)[-1]) * h


def half_triangle(n, upper=False):
    """Phi as weights: 1 below the diagonal, 1/2 on it, 0 above (transposed if `upper`)."""
    weights = np.tri(n) - 0.5 * np.eye(n)
    return weights.T if upper else weights


def inverse_gaps(w):
    """F_ij = 1 / (w_j - w_i) for i != j and 0 on the diagonal (for a stack of spectra w)."""
    n = np.shape(w)[-1]
    return (1 - np.eye(n)) / (np.expand_dims(w, -2) - np.expand_dims(w, -1) + np.eye(n))


def eigh_tangent(d, eig, UPLO="L"):
    """The tangents (dw, dv) of `eig = np.linalg.eigh(a, UPLO)` along `d`: with M = v^T dA v
    (dA the symmetric matrix of d's `UPLO` triangle), dw = diag(M) and dv = v (F * M)."""
    w, v = eig
    inner = mT(v) @ from_triangle(d, UPLO) @ v
    return TupleCotangent((np.diagonal(inner, axis1=-2, axis2=-1), v @ (inverse_gaps(w) * inner)))


nondifferentiable(half_triangle, reason="constant weights")


# ---- triangles and gaps ---------------------------------------------------------------------


@vjp_rule(on_triangle)
def on_triangle_vjp(h, ans, s, uplo):
    return from_triangle(h, uplo), None


@jvp_rule(on_triangle)
def on_triangle_jvp(d, ans, s, uplo):
    return on_triangle(d, uplo), None


@vjp_rule(from_triangle)
def from_triangle_vjp(h, ans, s, uplo="L"):
    return on_triangle(h, uplo), None


@jvp_rule(from_triangle)
def from_triangle_jvp(d, ans, s, uplo="L"):
    return from_triangle(d, uplo), None


@vjp_rule(inverse_gaps)
def inverse_gaps_vjp(h, ans, w):
    """dF_ij = -F_ij^2 (dw_j - dw_i)."""
    return (np.sum(h * ans**2, axis=-1) - np.sum(h * ans**2, axis=-2),)


@jvp_rule(inverse_gaps)
def inverse_gaps_jvp(d, ans, w):
    return (-(ans**2) * (np.expand_dims(d, -2) - np.expand_dims(d, -1)),)


# ---- eigh -----------------------------------------------------------------------------------


@vjp_rule(eigh_tangent)
def eigh_tangent_vjp(h, out, d, eig, UPLO="L"):
    """With S = from_triangle(d), M = v^T S v, (hw, hv) = h and K = v^T hv:
    w_bar = rows - columns of K * M * F^2, v_bar = S v (2 diag(hw) + F*K + (F*K)^T) + hv (F*M)^T."""
    return (
        eigh_adjoint(h, eig, UPLO),
        TupleCotangent((
            np.sum(
                np.swapaxes(eig[1], -1, -2) @ match(h, out)[1]
                * (np.swapaxes(eig[1], -1, -2) @ from_triangle(d, UPLO) @ eig[1])
                * inverse_gaps(eig[0]) ** 2,
                axis=-1,
            )
            - np.sum(
                np.swapaxes(eig[1], -1, -2) @ match(h, out)[1]
                * (np.swapaxes(eig[1], -1, -2) @ from_triangle(d, UPLO) @ eig[1])
                * inverse_gaps(eig[0]) ** 2,
                axis=-2,
            ),
            from_triangle(d, UPLO)
            @ eig[1]
            @ (
                2 * np.expand_dims(match(h, out)[0], -1) * np.eye(np.shape(eig[0])[-1])
                + inverse_gaps(eig[0]) * (np.swapaxes(eig[1], -1, -2) @ match(h, out)[1])
                + np.swapaxes(inverse_gaps(eig[0]) * (np.swapaxes(eig[1], -1, -2) @ match(h, out)[1]), -1, -2)
            )
            + match(h, out)[1]
            @ np.swapaxes(inverse_gaps(eig[0]) * (np.swapaxes(eig[1], -1, -2) @ from_triangle(d, UPLO) @ eig[1]), -1, -2),
        )),
        None,
    )


@jvp_rule(eigh_tangent)
def eigh_tangent_jvp(t, out, d, eig, UPLO="L"):
    """Along (dw, dv) = t, with S and M as in the reverse rule: diag(M) moves by
    2 diag(v^T S dv), and v (F * M) by dv (F * M) + v (dF * M + F * (X + X^T)), X = v^T S dv."""
    return (
        eigh_tangent(t, eig, UPLO),
        TupleCotangent((
            2 * np.sum(eig[1] * (from_triangle(d, UPLO) @ t[1]), axis=-2),
            t[1] @ (inverse_gaps(eig[0]) * (np.swapaxes(eig[1], -1, -2) @ from_triangle(d, UPLO) @ eig[1]))
            + eig[1]
            @ (
                -(inverse_gaps(eig[0]) ** 2)
                * (np.expand_dims(t[0], -2) - np.expand_dims(t[0], -1))
                * (np.swapaxes(eig[1], -1, -2) @ from_triangle(d, UPLO) @ eig[1])
                + inverse_gaps(eig[0])
                * (
                    np.swapaxes(eig[1], -1, -2) @ from_triangle(d, UPLO) @ t[1]
                    + np.swapaxes(np.swapaxes(eig[1], -1, -2) @ from_triangle(d, UPLO) @ t[1], -1, -2)
                )
            ),
        )),
        None,
    )


@vjp_rule(eigh_adjoint)
def eigh_adjoint_vjp(h, out, g, eig, UPLO):
    """With (wb, vb) = g, K = v^T vb, S = from_triangle(h) and N = v^T S v:
    w_bar = rows - columns of N * K * F^2, v_bar = S v (2 diag(wb) + F * (K - K^T)) + vb (F*N)^T."""
    return (
        eigh_tangent(h, eig, UPLO),
        TupleCotangent((
            np.sum(
                np.swapaxes(eig[1], -1, -2) @ from_triangle(h, UPLO) @ eig[1]
                * (np.swapaxes(eig[1], -1, -2) @ match(g, eig)[1])
                * inverse_gaps(eig[0]) ** 2,
                axis=-1,
            )
            - np.sum(
                np.swapaxes(eig[1], -1, -2) @ from_triangle(h, UPLO) @ eig[1]
                * (np.swapaxes(eig[1], -1, -2) @ match(g, eig)[1])
                * inverse_gaps(eig[0]) ** 2,
                axis=-2,
            ),
            from_triangle(h, UPLO)
            @ eig[1]
            @ (
                2 * np.expand_dims(match(g, eig)[0], -1) * np.eye(np.shape(eig[0])[-1])
                + inverse_gaps(eig[0])
                * (
                    np.swapaxes(eig[1], -1, -2) @ match(g, eig)[1]
                    - np.swapaxes(np.swapaxes(eig[1], -1, -2) @ match(g, eig)[1], -1, -2)
                )
            )
            + match(g, eig)[1]
            @ np.swapaxes(inverse_gaps(eig[0]) * (np.swapaxes(eig[1], -1, -2) @ from_triangle(h, UPLO) @ eig[1]), -1, -2),
        )),
        None,
    )


@jvp_rule(eigh_adjoint)
def eigh_adjoint_jvp(t, out, g, eig, UPLO):
    """Along (dw, dv) = t: only the symmetric part of the matrix inside `on_triangle`
    counts, so v inner dv^T is written as dv inner^T v^T (inner = diag(wb) + F * K)."""
    return (
        eigh_adjoint(t, eig, UPLO),
        on_triangle(
            t[1]
            @ (
                2 * np.expand_dims(match(g, eig)[0], -1) * np.eye(np.shape(eig[0])[-1])
                + inverse_gaps(eig[0])
                * (
                    np.swapaxes(eig[1], -1, -2) @ match(g, eig)[1]
                    - np.swapaxes(np.swapaxes(eig[1], -1, -2) @ match(g, eig)[1], -1, -2)
                )
            )
            @ np.swapaxes(eig[1], -1, -2)
            + eig[1]
            @ (
                -(inverse_gaps(eig[0]) ** 2)
                * (np.expand_dims(t[0], -2) - np.expand_dims(t[0], -1))
                * (np.swapaxes(eig[1], -1, -2) @ match(g, eig)[1])
                + inverse_gaps(eig[0]) * (np.swapaxes(t[1], -1, -2) @ match(g, eig)[1])
            )
            @ np.swapaxes(eig[1], -1, -2),
            UPLO,
        ),
        None,
    )


# ---- solve ----------------------------------------------------------------------------------


@vjp_rule(solve_cotangents)
def solve_cotangents_vjp(h, out, g, x, a, b):
    """With B = A^-T g (so that the outputs are -B x^T and B) and (ha, hb) = h:
    V = hb - ha x, g_bar = A^-1 V, x_bar = -ha^T B, a_bar = -B g_bar^T (vectors as columns)."""
    return (
        np.linalg.solve(a, np.expand_dims(match(h, out)[1] - (match(h, out)[0] @ np.expand_dims(x, -1))[..., 0], -1))[..., 0]
        if np.ndim(b) == 1 or STACKED_VECTORS and np.ndim(b) == np.ndim(a) - 1
        else np.linalg.solve(a, match(h, out)[1] - match(h, out)[0] @ x),
        -(np.swapaxes(match(h, out)[0], -1, -2) @ np.linalg.solve(np.swapaxes(a, -1, -2), np.expand_dims(g, -1)))[..., 0]
        if np.ndim(b) == 1 or STACKED_VECTORS and np.ndim(b) == np.ndim(a) - 1
        else -(np.swapaxes(match(h, out)[0], -1, -2) @ np.linalg.solve(np.swapaxes(a, -1, -2), g)),
        solve_cotangents(
            g,
            np.linalg.solve(a, np.expand_dims(match(h, out)[1] - (match(h, out)[0] @ np.expand_dims(x, -1))[..., 0], -1))[..., 0],
            a,
            b,
        )[0]
        if np.ndim(b) == 1 or STACKED_VECTORS and np.ndim(b) == np.ndim(a) - 1
        else solve_cotangents(g, np.linalg.solve(a, match(h, out)[1] - match(h, out)[0] @ x), a, b)[0],
        None,
    )


@jvp_rule(solve_cotangents)
def solve_cotangents_jvp(t, out, g, x, a, b):
    """Linear in g and in x; along dA, B = A^-T g moves by -A^-T dA^T B, which is what the
    outputs get from g replaced by -dA^T B."""
    return (
        TupleCotangent(solve_cotangents(t, x, a, b)),
        TupleCotangent((solve_cotangents(g, t, a, b)[0], np.zeros_like(out[1]))),
        TupleCotangent(
            solve_cotangents(
                -(np.swapaxes(t, -1, -2) @ np.linalg.solve(np.swapaxes(a, -1, -2), np.expand_dims(g, -1)))[..., 0]
                if np.ndim(b) == 1 or STACKED_VECTORS and np.ndim(b) == np.ndim(a) - 1
                else -(np.swapaxes(t, -1, -2) @ np.linalg.solve(np.swapaxes(a, -1, -2), g)),
                x,
                a,
                b,
            )
        ),
        None,
    )


# ---- cholesky -------------------------------------------------------------------------------


@vjp_rule(cholesky_adjoint)
def cholesky_adjoint_vjp(h, out, g, L, upper=False):
    """Lower case, with S = from_triangle(h) and M = out + out^T: g_bar = K = L Phi(L^-1 S L^-T)
    (the tangent of cholesky along S) and L_bar = (g K^T - M S) L^-T; transposed if upper."""
    return (
        (
            np.linalg.solve(
                np.swapaxes(L, -1, -2),
                np.swapaxes(np.linalg.solve(np.swapaxes(L, -1, -2), from_triangle(h, "U")), -1, -2),
            )
            * half_triangle(np.shape(L)[-1], True)
        )
        @ L
        if upper
        else L
        @ (
            np.linalg.solve(L, np.swapaxes(np.linalg.solve(L, from_triangle(h, "L")), -1, -2))
            * half_triangle(np.shape(L)[-1])
        ),
        np.linalg.solve(
            np.swapaxes(L, -1, -2),
            np.swapaxes(
                np.linalg.solve(
                    np.swapaxes(L, -1, -2),
                    np.swapaxes(np.linalg.solve(np.swapaxes(L, -1, -2), from_triangle(h, "U")), -1, -2),
                )
                * half_triangle(np.shape(L)[-1], True)
                @ L,
                -1,
                -2,
            )
            @ g
            - from_triangle(h, "U") @ (out + np.swapaxes(out, -1, -2)),
        )
        if upper
        else np.swapaxes(
            np.linalg.solve(
                L,
                L
                @ (
                    np.linalg.solve(L, np.swapaxes(np.linalg.solve(L, from_triangle(h, "L")), -1, -2))
                    * half_triangle(np.shape(L)[-1])
                )
                @ np.swapaxes(g, -1, -2)
                - from_triangle(h, "L") @ (out + np.swapaxes(out, -1, -2)),
            ),
            -1,
            -2,
        ),
        None,
    )


@jvp_rule(cholesky_adjoint)
def cholesky_adjoint_jvp(t, out, g, L, upper=False):
    """Lower case: with S the matrix inside `on_triangle` and M = out + out^T (its symmetric
    part), dS = -L^-T dL^T S + L^-T Phi(dL^T g) L^-1 - S dL L^-1, whose symmetric part is
    that of cholesky_adjoint's inner matrix for L^-T dL^T g, plus -M dL L^-1."""
    return (
        cholesky_adjoint(t, L, upper),
        cholesky_adjoint(np.swapaxes(np.linalg.solve(L, t @ np.swapaxes(g, -1, -2)), -1, -2), L, True)
        + on_triangle(-(np.linalg.inv(L) @ t @ (out + np.swapaxes(out, -1, -2))), "U")
        if upper
        else cholesky_adjoint(np.linalg.solve(np.swapaxes(L, -1, -2), np.swapaxes(t, -1, -2) @ g), L)
        + on_triangle(-((out + np.swapaxes(out, -1, -2)) @ t @ np.linalg.inv(L)), "L"),
        None,
    )


# ---- pinv -----------------------------------------------------------------------------------


@vjp_rule(pinv_adjoint)
def pinv_adjoint_vjp(h, out, g, p, a):
    """g_bar is the tangent of pinv along h; p_bar and a_bar collect the factors of the
    three products (P of shape n x m, A of m x n)."""
    return (
        -(p @ h @ p)
        + p @ np.swapaxes(p, -1, -2) @ np.swapaxes(h, -1, -2) @ (np.eye(np.shape(a)[-2]) - a @ p)
        + (np.eye(np.shape(a)[-1]) - p @ a) @ np.swapaxes(h, -1, -2) @ np.swapaxes(p, -1, -2) @ p,
        -(g @ np.swapaxes(p, -1, -2) @ np.swapaxes(h, -1, -2))
        - np.swapaxes(h, -1, -2) @ np.swapaxes(p, -1, -2) @ g
        - np.swapaxes(a, -1, -2) @ h @ p @ np.swapaxes(p, -1, -2) @ g
        + g @ np.swapaxes(np.eye(np.shape(a)[-2]) - a @ p, -1, -2) @ h @ p
        + np.swapaxes(h, -1, -2) @ (np.eye(np.shape(a)[-2]) - a @ p) @ np.swapaxes(g, -1, -2) @ p
        + p @ np.swapaxes(g, -1, -2) @ (np.eye(np.shape(a)[-1]) - p @ a) @ np.swapaxes(h, -1, -2)
        + p @ h @ np.swapaxes(np.eye(np.shape(a)[-1]) - p @ a, -1, -2) @ g
        - g @ np.swapaxes(p, -1, -2) @ p @ h @ np.swapaxes(a, -1, -2),
        -(h @ p @ np.swapaxes(p, -1, -2) @ g @ np.swapaxes(p, -1, -2))
        - np.swapaxes(p, -1, -2) @ g @ np.swapaxes(p, -1, -2) @ p @ h,
    )


@jvp_rule(pinv_adjoint)
def pinv_adjoint_jvp(t, out, g, p, a):
    """pinv_adjoint is linear in g and a polynomial in p and a: the product rule."""
    return (
        pinv_adjoint(t, p, a),
        -(np.swapaxes(t, -1, -2) @ g @ np.swapaxes(p, -1, -2))
        - np.swapaxes(p, -1, -2) @ g @ np.swapaxes(t, -1, -2)
        - a @ t @ np.swapaxes(g, -1, -2) @ p @ np.swapaxes(p, -1, -2)
        + (np.eye(np.shape(a)[-2]) - a @ p) @ np.swapaxes(g, -1, -2) @ (t @ np.swapaxes(p, -1, -2) + p @ np.swapaxes(t, -1, -2))
        + (np.swapaxes(t, -1, -2) @ p + np.swapaxes(p, -1, -2) @ t) @ np.swapaxes(g, -1, -2) @ (np.eye(np.shape(a)[-1]) - p @ a)
        - np.swapaxes(p, -1, -2) @ p @ np.swapaxes(g, -1, -2) @ t @ a,
        -(t @ p @ np.swapaxes(g, -1, -2) @ p @ np.swapaxes(p, -1, -2))
        - np.swapaxes(p, -1, -2) @ p @ np.swapaxes(g, -1, -2) @ p @ t,
    )

# srcgrad's own functions, which only generated code and the rules call (not listed in the reference).
internal(eigh_tangent, from_triangle, half_triangle, inverse_gaps)
