"""Reverse rules of NumPy's reductions (sum, mean, prod, max, min, var, std, norm...) and of
`cumsum` and `sort`.

Conventions where a reduction has no derivative at a point:

* `max`, `min` (and `ptp`, `norm(ord=inf)`) split `g` evenly among tied entries: with k
  entries equal to the maximum, each gets g / k;
* `prod` is exact with zeros: an entry gets the product of the others, which is nonzero
  only when that entry is the single zero;
* `std` where the deviation is 0, and `norm` of a zero vector or matrix, give derivative 0
  (not NaN);
* `sort` sends `g` back through one sorting permutation (a stable one, on ties).
"""

from __future__ import annotations

import numpy as np

from .numpy_vjp import div0
from .registry import complex_safe, internal, vjp_rule


def expand_reduced(g, x, axis=None, keepdims=False):
    """Broadcast `g`, the cotangent of a reduction of `x` over `axis`, back to `x`'s shape."""
    if type(g) is np.ndarray and type(axis) is int and hasattr(x, "shape"):  # quick: one axis of an array
        if not keepdims and g.ndim > 0:
            at = axis if axis >= 0 else axis + g.ndim + 1
            g = g.reshape(g.shape[:at] + (1,) + g.shape[at:])  # `np.expand_dims`, without its checks
        return np.broadcast_to(g, x.shape)
    if not keepdims and axis is not None and np.ndim(g) > 0:
        g = np.expand_dims(g, axis)
    return np.broadcast_to(g, np.shape(x))


def count_share(mask, axis=None):
    """1/k on each of the k true entries of `mask` along `axis`, 0 elsewhere."""
    return mask / np.sum(mask, axis=axis, keepdims=True)


def tie_share(x, ans, axis=None, keepdims=False):
    """1/k on each of the k entries of `x` equal to the reduced value `ans`, 0 elsewhere."""
    return count_share(np.equal(x, expand_reduced(ans, x, axis, keepdims)), axis)


def ptp_derivative(x, axis=None):
    """d np.ptp(x, axis) / dx: +1/k on the k maximal entries, -1/k on the k minimal ones."""
    top = tie_share(x, np.max(x, axis=axis, keepdims=True), axis, True)
    return top - tie_share(x, np.min(x, axis=axis, keepdims=True), axis, True)


def prod_others(x, axis=None):
    """Each entry's product of the other entries along `axis`; exact when `x` has zeros."""
    zero = np.equal(x, 0)
    zeros = np.sum(zero, axis=axis, keepdims=True)
    nonzero_prod = np.prod(np.where(zero, 1.0, x), axis=axis, keepdims=True)
    at_zero = np.where(zeros == 1, nonzero_prod, 0.0)
    elsewhere = np.where(zeros == 0, nonzero_prod / np.where(zero, 1.0, x), 0.0)
    return np.where(zero, at_zero, elsewhere)


def reduced_count(x, ans):
    """How many entries of `x` each entry of the reduction `ans` combines."""
    return np.size(x) // max(np.size(ans), 1)


def norm_derivative(x, ans, ord=None, axis=None, keepdims=False):
    """d np.linalg.norm(x, ord, axis) / dx, broadcast to `x`'s shape (0 where the norm is 0).

    Supported: the Euclidean / Frobenius norm (ord None, 2 for vectors, 'fro'), and the
    vector norms ord=p > 0, inf and -inf.
    """
    if axis is None:
        matrix = ord is not None and np.ndim(x) == 2
    else:
        matrix = isinstance(axis, tuple) and len(axis) == 2
    full = expand_reduced(ans, x, axis, keepdims)
    if ord is None or ord == "fro" or (ord == 2 and not matrix):
        return div0(x, full)
    if matrix or isinstance(ord, str):
        raise NotImplementedError(f"srcgrad: no derivative for the matrix norm ord={ord!r}")
    if ord in (np.inf, -np.inf):
        return np.sign(x) * tie_share(np.abs(x), ans, axis, keepdims)
    if ord == 0:
        return np.zeros(np.shape(x))
    return np.sign(x) * div0(np.abs(x) ** (ord - 1), full ** (ord - 1))


def cumsum_transpose(g, x, axis=None):
    """The cotangent of `x` from that of `np.cumsum(x, axis)`: reversed cumulative sums."""
    if axis is None:
        return np.reshape(np.flip(np.cumsum(np.flip(g))), np.shape(x))
    return np.flip(np.cumsum(np.flip(g, axis), axis), axis)


def unsort(g, x, axis=-1):
    """The cotangent of `x` from that of `np.sort(x, axis)`: `g` put back in `x`'s order."""
    order = np.argsort(x, axis=axis, kind="stable")
    if axis is None:
        return np.reshape(np.take(g, np.argsort(order)), np.shape(x))
    return np.take_along_axis(g, np.argsort(order, axis=axis), axis=axis)


@vjp_rule(np.sum)
def sum_vjp(g, ans, x, axis=None, dtype=None, out=None, keepdims=False):
    return (expand_reduced(g, x, axis, keepdims),)


@vjp_rule(np.nansum)
def nansum_vjp(g, ans, x, axis=None, dtype=None, out=None, keepdims=False):
    return (np.where(np.isnan(x), 0.0, expand_reduced(g, x, axis, keepdims)),)


@vjp_rule(np.mean)
def mean_vjp(g, ans, x, axis=None, dtype=None, out=None, keepdims=False):
    return (expand_reduced(g, x, axis, keepdims) / reduced_count(x, ans),)


@vjp_rule(np.average)
def average_vjp(g, ans, x, axis=None, *, keepdims=False):
    """Without weights only: a call with weights finds no rule."""
    return (expand_reduced(g, x, axis, keepdims) / reduced_count(x, ans),)


@vjp_rule(np.nanmean)
def nanmean_vjp(g, ans, x, axis=None, dtype=None, out=None, keepdims=False):
    return (expand_reduced(g, x, axis, keepdims) * count_share(~np.isnan(x), axis),)


@vjp_rule(np.prod)
def prod_vjp(g, ans, x, axis=None, dtype=None, out=None, keepdims=False):
    return (expand_reduced(g, x, axis, keepdims) * prod_others(x, axis),)


@vjp_rule(np.max, np.amax, np.min, np.amin)
def extremum_vjp(g, ans, x, axis=None, out=None, keepdims=False):
    """Tied extreme entries share g evenly."""
    return (expand_reduced(g, x, axis, keepdims) * tie_share(x, ans, axis, keepdims),)


@vjp_rule(np.ptp)
def ptp_vjp(g, ans, x, axis=None, out=None, keepdims=False):
    """Tied extreme entries share g evenly; the derivative of a constant slice is 0."""
    return (expand_reduced(g, x, axis, keepdims) * ptp_derivative(x, axis),)


@vjp_rule(np.var)
def var_vjp(g, ans, x, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    return (
        expand_reduced(g, x, axis, keepdims)
        * (2.0 * (x - np.mean(x, axis=axis, keepdims=True)) / (reduced_count(x, ans) - ddof)),
    )


@vjp_rule(np.std)
def std_vjp(g, ans, x, axis=None, dtype=None, out=None, ddof=0, keepdims=False):
    """Where the standard deviation is 0 the derivative is taken to be 0."""
    return (
        expand_reduced(div0(g, ans), x, axis, keepdims)
        * ((x - np.mean(x, axis=axis, keepdims=True)) / (reduced_count(x, ans) - ddof)),
    )


@vjp_rule(np.linalg.norm)
def norm_vjp(g, ans, x, ord=None, axis=None, keepdims=False):
    """The derivative at a zero vector or matrix is taken to be 0."""
    return (expand_reduced(g, x, axis, keepdims) * norm_derivative(x, ans, ord, axis, keepdims),)


@vjp_rule(np.cumsum)
def cumsum_vjp(g, ans, x, axis=None, dtype=None, out=None):
    return (cumsum_transpose(g, x, axis),)


@vjp_rule(np.sort)
def sort_vjp(g, ans, x, axis=-1, kind=None, order=None):
    return (unsort(g, x, axis),)


complex_safe(np.sum, np.mean)  # linear: the rules hold for complex arrays

# srcgrad's own functions, which only generated code and the rules call (not listed in the reference).
internal(
    count_share, cumsum_transpose, expand_reduced, norm_derivative, prod_others, ptp_derivative,
    reduced_count, tie_share, unsort
)
