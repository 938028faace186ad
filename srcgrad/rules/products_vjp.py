"""Reverse rules of NumPy's products (`dot`, `inner`, `tensordot`, `outer`, `vdot`, `kron`,
`cross`, `einsum`) and of `trace`, `diagonal`, `diag`, with the adjoints their templates call.

The rules of those adjoints (for higher order) are in `products_helpers.py`; the forward
rules in `products_jvp.py`. Real-valued derivatives only: no rule here conjugates.
"""

from __future__ import annotations

import string

import numpy as np

from ..runtime.core import unbroadcast
from .registry import internal, vjp_rule

# ---- products ------------------------------------------------------------------------------


@vjp_rule(np.dot)
def dot_vjp(g, ans, a, b):
    return dot_adjoint(g, a, b, 0), dot_adjoint(g, a, b, 1)


@vjp_rule(np.inner)
def inner_vjp(g, ans, a, b):
    return dot_adjoint(g, a, b, 0, inner=True), dot_adjoint(g, a, b, 1, inner=True)


@vjp_rule(np.tensordot)
def tensordot_vjp(g, ans, a, b, axes=2):
    return tensordot_adjoint(g, a, b, axes, 0), tensordot_adjoint(g, a, b, axes, 1)


@vjp_rule(np.outer)
def outer_vjp(g, ans, a, b):
    return (
        np.reshape(np.dot(g, np.ravel(b)), np.shape(a)),
        np.reshape(np.dot(np.ravel(a), g), np.shape(b)),
    )


@vjp_rule(np.vdot)
def vdot_vjp(g, ans, a, b):
    """Real arguments only (`np.vdot` conjugates `a`)."""
    return np.reshape(g * b, np.shape(a)), np.reshape(g * a, np.shape(b))


@vjp_rule(np.kron)
def kron_vjp(g, ans, a, b):
    return kron_adjoint(g, a, b, 0), kron_adjoint(g, a, b, 1)


@vjp_rule(np.cross)
def cross_vjp(g, ans, a, b):
    """3-vectors along the last axis (the default axes) only."""
    return cross_adjoint(g, a, b, 0), cross_adjoint(g, a, b, 1)


@vjp_rule(np.einsum)
def einsum_vjp(g, ans, subscripts, *operands, optimize=False):
    return (None, *einsum_cotangents(g, subscripts, operands, optimize))


def dot_adjoint(g, a, b, which, inner=False):
    """Cotangent of argument `which` of `np.dot(a, b)` (`np.inner(a, b)` if `inner`): a
    tensordot over a's last axis and b's second-to-last (its last, for a vector or `inner`);
    a product when one of them is a scalar."""
    if np.ndim(a) == 0 or np.ndim(b) == 0:
        return unbroadcast(g * b, a) if which == 0 else unbroadcast(g * a, b)
    b_axis = np.ndim(b) - 1 if inner else max(np.ndim(b) - 2, 0)
    return tensordot_adjoint(g, a, b, ([np.ndim(a) - 1], [b_axis]), which)


def tensordot_adjoint(g, a, b, axes, which):
    """Cotangent of argument `which` of `np.tensordot(a, b, axes)`.

    The output's axes are a's free axes then b's, so the cotangent of `a` contracts `g`'s
    trailing axes with b's free axes and puts the remaining axes back in a's order.
    """
    nd_a, nd_b = np.ndim(a), np.ndim(b)
    if isinstance(axes, (int, np.integer)):
        summed_a, summed_b = list(range(nd_a - axes, nd_a)), list(range(axes))
    else:
        summed_a, summed_b = ([ax] if isinstance(ax, (int, np.integer)) else list(ax) for ax in axes)
        summed_a = [ax % nd_a for ax in summed_a]
        summed_b = [ax % nd_b for ax in summed_b]
    free_a = [ax for ax in range(nd_a) if ax not in summed_a]
    free_b = [ax for ax in range(nd_b) if ax not in summed_b]
    n_free_a = len(free_a)
    if which == 0:
        out = np.tensordot(g, b, (list(range(n_free_a, n_free_a + len(free_b))), free_b))
        order = free_a + [summed_a[summed_b.index(ax)] for ax in sorted(summed_b)]
    else:
        out = np.tensordot(a, g, (free_a, list(range(n_free_a))))
        order = [summed_b[summed_a.index(ax)] for ax in sorted(summed_a)] + free_b
    return np.transpose(out, np.argsort(order)) if order != sorted(order) else out


def kron_adjoint(g, a, b, which):
    """Cotangent of argument `which` of `np.kron(a, b)`: view `g` with the axes of a and b
    interleaved, then contract with the other factor."""
    nd = max(np.ndim(a), np.ndim(b))
    shape_a = (1,) * (nd - np.ndim(a)) + np.shape(a)
    shape_b = (1,) * (nd - np.ndim(b)) + np.shape(b)
    blocks = np.reshape(g, [n for pair in zip(shape_a, shape_b) for n in pair])
    if which == 0:
        out = np.tensordot(blocks, np.reshape(b, shape_b), (list(range(1, 2 * nd, 2)), list(range(nd))))
        return np.reshape(out, np.shape(a))
    out = np.tensordot(blocks, np.reshape(a, shape_a), (list(range(0, 2 * nd, 2)), list(range(nd))))
    return np.reshape(out, np.shape(b))


def cross_adjoint(g, a, b, which):
    if np.shape(a)[-1] != 3 or np.shape(b)[-1] != 3:
        raise NotImplementedError("the derivative of np.cross is implemented for 3-vectors only")
    return unbroadcast(np.cross(b, g), a) if which == 0 else unbroadcast(np.cross(g, a), b)


def einsum_cotangents(g, subscripts, operands, optimize=False):
    """Cotangents of every operand of `np.einsum(subscripts, *operands)`.

    The cotangent of operand k is the einsum of `g` with the other operands, written to
    operand k's subscripts. Labels that appear nowhere else (summed inside operand k) are
    broadcast back with a vector of ones; a label repeated within operand k (a diagonal,
    as in 'ii->') is written to its diagonal with an identity matrix; a size-1 axis that
    was broadcast is summed.
    """
    if not isinstance(subscripts, str):
        raise NotImplementedError("the derivative of np.einsum needs a subscripts string")
    inputs, output = _einsum_labels(subscripts, operands)
    sizes: dict[str, int] = {}
    for labels, operand in zip(inputs, operands):
        for label, n in zip(labels, np.shape(operand)):
            sizes[label] = max(sizes.get(label, 1), n)
    fresh = iter(c for c in string.ascii_letters if c not in sizes)
    cotangents = []
    for k, (labels, operand) in enumerate(zip(inputs, operands)):
        shape = dict(zip(labels, np.shape(operand)))
        elsewhere = set(output).union(*(inputs[:k] + inputs[k + 1 :]))
        unique = list(dict.fromkeys(labels))
        kept = "".join(c for c in unique if c in elsewhere and shape[c] == sizes[c])
        others = [output] + inputs[:k] + inputs[k + 1 :]
        part = np.einsum(",".join(others) + "->" + kept, g, *operands[:k], *operands[k + 1 :], optimize=optimize)
        if kept == labels:
            cotangents.append(part)
            continue
        target, extra_labels, extras = "", [], []
        for c in labels:
            if c not in target:
                target += c
                continue
            d = next(fresh)  # a repeated label: write to the diagonal through an identity
            target += d
            extra_labels.append(c + d)
            extras.append(np.eye(shape[c]))
        for c in unique:
            if c not in kept:  # summed inside this operand, or a broadcast size-1 axis
                extra_labels.append(c)
                extras.append(np.ones(shape[c]))
        spec = ",".join([kept, *extra_labels]) + "->" + target
        cotangents.append(np.einsum(spec, part, *extras, optimize=optimize))
    return cotangents


def _einsum_labels(subscripts, operands):
    """The input labels and the output labels of an einsum, with '...' spelled out."""
    subscripts = subscripts.replace(" ", "")
    lhs, arrow, rhs = subscripts.partition("->")
    inputs = lhs.split(",")
    n_ellipsis = [np.ndim(op) - len(s.replace("...", "")) if "..." in s else 0 for s, op in zip(inputs, operands)]
    spare = [c for c in string.ascii_letters if c not in subscripts][: max(n_ellipsis, default=0)]
    ellipsis = "".join(spare)
    inputs = [s.replace("...", ellipsis[len(ellipsis) - n :]) for s, n in zip(inputs, n_ellipsis)]
    if arrow:
        return inputs, rhs.replace("...", ellipsis)
    counts = "".join(inputs)
    return inputs, ellipsis + "".join(sorted(c for c in set(counts) if counts.count(c) == 1 and c not in ellipsis))


@vjp_rule(np.trace)
def trace_vjp(g, ans, a, offset=0, axis1=0, axis2=1):
    return (trace_adjoint(g, np.shape(a), offset, axis1, axis2),)


@vjp_rule(np.diagonal)
def diagonal_vjp(g, ans, a, offset=0, axis1=0, axis2=1):
    return (diagonal_adjoint(g, np.shape(a), offset, axis1, axis2),)


@vjp_rule(np.diag)
def diag_vjp(g, ans, v, k=0):
    return (np.diag(g, k) if np.ndim(v) == 1 else diagonal_adjoint(g, np.shape(v), k, 0, 1),)


def trace_adjoint(g, shape, offset, axis1, axis2):
    """`g` times the identity (shifted by `offset`) in the plane of `axis1` and `axis2`."""
    eye = np.eye(shape[axis1], shape[axis2], offset)
    return np.moveaxis(np.multiply.outer(g, eye), (-2, -1), (axis1, axis2))


def diagonal_adjoint(g, shape, offset, axis1, axis2):
    """Zeros of `shape` with `g` (whose last axis is the diagonal) written on the diagonal."""
    n, m = shape[axis1], shape[axis2]
    rows = np.arange(max(-offset, 0), min(n, m - offset))
    rest = tuple(s for i, s in enumerate(shape) if i not in (axis1 % len(shape), axis2 % len(shape)))
    out = np.zeros(rest + (n, m), dtype=np.result_type(g, 1.0))
    out[..., rows, rows + offset] = g
    return np.moveaxis(out, (-2, -1), (axis1, axis2))

# srcgrad's own functions, which only generated code and the rules call (not listed in the reference).
internal(
    cross_adjoint, diagonal_adjoint, dot_adjoint, einsum_cotangents, kron_adjoint,
    tensordot_adjoint, trace_adjoint
)
