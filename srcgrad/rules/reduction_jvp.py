"""Forward rules of NumPy's reductions (sum, mean, prod, max, min, var, std, norm...), of
`cumsum` and `sort`, and both rules of the helpers their templates call.

The forward rules make the same choices as the reverse rules in `reduction_vjp`: tied
extreme entries share the tangent evenly (the tangent of `max` is the mean of the tangents
of the tied maxima), `prod` is exact with zeros, `std` and `norm` have derivative 0 where
they are 0, and `sort` moves tangents with the same (stable) permutation.

Helpers called by templates, for higher derivatives: those with piecewise constant outputs
(`count_share`, `tie_share`, `ptp_derivative`, `reduced_count`) are declared
non-differentiable; the others get a reverse and a forward rule here. `sort_like` (new) is
the tangent of a sort; it and `unsort` are each other's transpose.
"""

from __future__ import annotations

import numpy as np

from ..runtime.core import unbroadcast
from .numpy_vjp import div0
from .reduction_vjp import (
    count_share,
    cumsum_transpose,
    expand_reduced,
    norm_derivative,
    prod_others,
    ptp_derivative,
    reduced_count,
    tie_share,
    unsort,
)
from .registry import complex_safe, internal, jvp_rule, nondifferentiable, vjp_rule

nondifferentiable(count_share, tie_share, ptp_derivative, reason="a share of a tie: piecewise constant")
nondifferentiable(reduced_count, reason="a count of entries")


# ---- forward rules of the reductions --------------------------------------------------------


@jvp_rule(np.sum)
def sum_jvp(d, ans, x, axis=None, dtype=None, out=None, keepdims=False):
    return (np.sum(d, axis=axis, keepdims=keepdims),)


@jvp_rule(np.nansum)
def nansum_jvp(d, ans, x, axis=None, dtype=None, out=None, keepdims=False):
    return (np.sum(np.where(np.isnan(x), 0.0, d), axis=axis, keepdims=keepdims),)


@jvp_rule(np.mean)
def mean_jvp(d, ans, x, axis=None, dtype=None, out=None, keepdims=False):
    return (np.mean(d, axis=axis, keepdims=keepdims),)


@jvp_rule(np.average)
def average_jvp(d, ans, x, axis=None, *, keepdims=False):
    """Without weights only, like the reverse rule."""
    return (np.mean(d, axis=axis, keepdims=keepdims),)


@jvp_rule(np.nanmean)
def nanmean_jvp(d, ans, x, axis=None, dtype=None, out=None, keepdims=False):
    return (np.sum(d * count_share(~np.isnan(x), axis), axis=axis, keepdims=keepdims),)


@jvp_rule(np.prod)
def prod_jvp(d, ans, x, axis=None, dtype=None, out=None, keepdims=False):
    return (np.sum(d * prod_others(x, axis), axis=axis, keepdims=keepdims),)


@jvp_rule(np.max, np.amax, np.min, np.amin)
def extremum_jvp(d, ans, x, axis=None, out=None, keepdims=False):
    """The mean of the tangents of the tied extreme entries."""
    return (np.sum(d * tie_share(x, ans, axis, keepdims), axis=axis, keepdims=keepdims),)


@jvp_rule(np.ptp)
def ptp_jvp(d, ans, x, axis=None, out=None, keepdims=False):
    return (np.sum(d * ptp_derivative(x, axis), axis=axis, keepdims=keepdims),)


@jvp_rule(np.var)
def var_jvp(d, ans, x, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    return (
        np.sum(d * (x - np.mean(x, axis=axis, keepdims=True)), axis=axis, keepdims=keepdims)
        * (2.0 / (reduced_count(x, ans) - ddof)),
    )


@jvp_rule(np.std)
def std_jvp(d, ans, x, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    """0 where the standard deviation is 0, like the reverse rule."""
    return (
        div0(
            np.sum(d * (x - np.mean(x, axis=axis, keepdims=True)), axis=axis, keepdims=keepdims),
            ans * (reduced_count(x, ans) - ddof),
        ),
    )


@jvp_rule(np.linalg.norm)
def norm_jvp(d, ans, x, ord=None, axis=None, keepdims=False):
    return (np.sum(d * norm_derivative(x, ans, ord, axis, keepdims), axis=axis, keepdims=keepdims),)


@jvp_rule(np.cumsum)
def cumsum_jvp(d, ans, x, axis=None, dtype=None, out=None):
    return (np.cumsum(d, axis),)


@jvp_rule(np.sort)
def sort_jvp(d, ans, x, axis=-1, kind=None, order=None):
    return (sort_like(d, x, axis),)


# ---- helpers: new ones ----------------------------------------------------------------------


def sort_like(d, x, axis=-1):
    """`d` permuted as `np.sort(x, axis)` permutes `x` (stably on ties, as `unsort` undoes)."""
    order = np.argsort(x, axis=axis, kind="stable")
    if axis is None:
        return np.take(d, order)
    return np.take_along_axis(d, order, axis=axis)


def _reduced_axes(x, axis):
    nd = np.ndim(x)
    if axis is None:
        return tuple(range(nd))
    axes = axis if isinstance(axis, tuple) else (axis,)
    return tuple(sorted(ax % nd for ax in axes))


def slice_eye(x, axis=None):
    """One-hot masks of the positions within the slices that a reduction over `axis` reduces.

    Shape (m,) + shape(x) with the kept axes of size 1, m entries per slice: entry [i, idx]
    is True where idx is position i of its slice.
    """
    shape = np.shape(x)
    reduced = _reduced_axes(x, axis)
    m = int(np.prod([shape[ax] for ax in reduced]))
    layout = (m,) + tuple(n if ax in reduced else 1 for ax, n in enumerate(shape))
    return np.reshape(np.eye(m, dtype=bool), layout)


def shifted_axes(x, axis=None):
    """The axes a reduction over `axis` reduces, one further along (after slice_eye's axis)."""
    return tuple(ax + 1 for ax in _reduced_axes(x, axis))


def norm_power(x, ord=None, axis=None):
    """The p of the vector p-norm that `norm_derivative` differentiates (2 for the Euclidean
    and Frobenius norms; inf, -inf or 0 where its output is piecewise constant)."""
    if axis is None:
        matrix = ord is not None and np.ndim(x) == 2
    else:
        matrix = isinstance(axis, tuple) and len(axis) == 2
    if ord is None or ord == "fro" or (ord == 2 and not matrix):
        return 2
    if matrix or isinstance(ord, str):
        raise NotImplementedError(f"srcgrad: no derivative for the matrix norm ord={ord!r}")
    return ord


nondifferentiable(slice_eye, shifted_axes, norm_power, reason="masks, axes and orders")


# ---- helpers: rules -------------------------------------------------------------------------


@vjp_rule(expand_reduced)
def expand_reduced_vjp(h, ans, g, x, axis=None, keepdims=False):
    return unbroadcast(np.sum(h, axis=axis, keepdims=keepdims), g), None


@jvp_rule(expand_reduced)
def expand_reduced_jvp(d, ans, g, x, axis=None, keepdims=False):
    return expand_reduced(d, x, axis, keepdims), None


@vjp_rule(prod_others)
@jvp_rule(prod_others)
def prod_others_linear(v, ans, x, axis=None):
    """Entry i gets sum over j != i of v_j times the product of the entries other than i and
    j: with row i of a stack of copies of x having x_i set to 1, that product is prod_others
    of the copy at j, so zeros stay exact. The map is symmetric (a Hessian of `np.prod`), so
    this one template is both the forward rule (v a tangent) and the reverse rule (v a cotangent)."""
    return (
        np.sum(
            slice_eye(x, axis)
            * np.sum(
                np.where(slice_eye(x, axis), 0.0, v)
                * prod_others(np.where(slice_eye(x, axis), 1.0, x), shifted_axes(x, axis)),
                axis=shifted_axes(x, axis),
                keepdims=True,
            ),
            axis=0,
        ),
        None,
    )


@vjp_rule(norm_derivative)
def norm_derivative_vjp(h, out, x, ans, ord=None, axis=None, keepdims=False):
    """With N = sign(x) |x|^(p-1) / n^(p-1) (n the norm): dN/dx = (p-1) |x|^(p-2) / n^(p-1)
    (1 / n for p = 2) and dN/dn = (1-p) N / n; both 0 where N is piecewise constant."""
    return (
        0.0 * h
        if norm_power(x, ord, axis) in (np.inf, -np.inf, 0)
        else div0(h, expand_reduced(ans, x, axis, keepdims))
        if norm_power(x, ord, axis) == 2
        else (norm_power(x, ord, axis) - 1)
        * h
        * div0(np.abs(x) ** (norm_power(x, ord, axis) - 1),
               np.abs(x) * expand_reduced(ans, x, axis, keepdims) ** (norm_power(x, ord, axis) - 1)),
        0.0 * ans
        if norm_power(x, ord, axis) in (np.inf, -np.inf, 0)
        else np.sum(
            (1 - norm_power(x, ord, axis)) * out * div0(h, expand_reduced(ans, x, axis, keepdims)),
            axis=axis,
            keepdims=keepdims,
        ),
    )


@jvp_rule(norm_derivative)
def norm_derivative_jvp(d, out, x, ans, ord=None, axis=None, keepdims=False):
    return (
        0.0 * d
        if norm_power(x, ord, axis) in (np.inf, -np.inf, 0)
        else div0(d, expand_reduced(ans, x, axis, keepdims))
        if norm_power(x, ord, axis) == 2
        else (norm_power(x, ord, axis) - 1)
        * d
        * div0(np.abs(x) ** (norm_power(x, ord, axis) - 1),
               np.abs(x) * expand_reduced(ans, x, axis, keepdims) ** (norm_power(x, ord, axis) - 1)),
        0.0 * out
        if norm_power(x, ord, axis) in (np.inf, -np.inf, 0)
        else (1 - norm_power(x, ord, axis))
        * out
        * div0(expand_reduced(d, x, axis, keepdims), expand_reduced(ans, x, axis, keepdims)),
    )


@vjp_rule(cumsum_transpose)
def cumsum_transpose_vjp(h, ans, g, x, axis=None):
    return np.cumsum(h, axis), None


@jvp_rule(cumsum_transpose)
def cumsum_transpose_jvp(d, ans, g, x, axis=None):
    return cumsum_transpose(d, x, axis), None


@vjp_rule(unsort)
def unsort_vjp(h, ans, g, x, axis=-1):
    return sort_like(h, x, axis), None


@jvp_rule(unsort)
def unsort_jvp(d, ans, g, x, axis=-1):
    return unsort(d, x, axis), None


@vjp_rule(sort_like)
def sort_like_vjp(h, ans, d, x, axis=-1):
    return unsort(h, x, axis), None


@jvp_rule(sort_like)
def sort_like_jvp(t, ans, d, x, axis=-1):
    return sort_like(t, x, axis), None


complex_safe(expand_reduced)  # linear: the rules hold for complex arrays

# srcgrad's own functions, which only generated code and the rules call (not listed in the reference).
internal(norm_power, shifted_axes, slice_eye, sort_like)
