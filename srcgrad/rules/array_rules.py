"""Reverse rules of NumPy's shape, joining, splitting and product functions.

Also the plain functions that stand for array methods whose meaning differs from the NumPy
free function of the same name (`x.copy()`, `x.astype(...)`, `x.flatten()`, `x.item()`).
Linear algebra (`np.linalg`) lives in `linalg_rules.py`.

Cotangents of list and tuple arguments (`np.concatenate([a, b])`, `np.array([x, y])`) are
`ListCotangent` / `TupleCotangent` with one entry per element. Real-valued derivatives only:
no rule here conjugates, so complex inputs get holomorphic-style (unconjugated) cotangents.
"""

from __future__ import annotations

import string

import numpy as np

from ..runtime import ListCotangent, TupleCotangent, is_zero, split, unbroadcast
from .registry import vjp_rule

# ---- method primals -----------------------------------------------------------------------


def copy(x):
    """`x.copy()` for arrays, lists and dicts."""
    return x.copy()


def astype(x, dtype, copy=True):
    """`x.astype(dtype)`; always copies (a copy is never wrong for the derivative)."""
    return x.astype(dtype)


def flatten(x, order="C"):
    """`x.flatten(order)`: a flat copy."""
    return np.ravel(x, order).copy()


def item(x, *index):
    """`x.item(*index)`: one entry as a Python scalar."""
    return x.item(*index)


@vjp_rule(copy)
def copy_method_vjp(g, ans, x):
    return (g,)


@vjp_rule(astype)
def astype_vjp(g, ans, x, dtype, copy=True):
    return (cast_like(g, x),)


@vjp_rule(flatten)
def flatten_vjp(g, ans, x, order="C"):
    return (np.reshape(g, np.shape(x), order=order),)


@vjp_rule(item)
def item_vjp(g, ans, x):
    return (cast_like(np.reshape(g, np.shape(x)), x),)


@vjp_rule(item)
def item_at_vjp(g, ans, x, *index):
    return (item_cotangent(g, x, index),)


def cast_like(g, x):
    """`g` in the dtype of `x` when `x` is a float (or complex) array or NumPy scalar."""
    dtype = getattr(x, "dtype", None)
    if dtype is None or not np.issubdtype(dtype, np.inexact) or getattr(g, "dtype", dtype) == dtype:
        return g
    return g.astype(dtype)


def item_cotangent(g, x, index):
    """Cotangent of `x` from that of `x.item(*index)`: `g` at one entry, zeros elsewhere."""
    shape = np.shape(x)
    if len(index) == 1 and isinstance(index[0], tuple):
        index = index[0]
    flat = np.ravel_multi_index(index, shape, mode="wrap") if len(index) > 1 else index[0]
    dtype = x.dtype if np.issubdtype(x.dtype, np.inexact) else np.float64
    out = np.zeros(int(np.prod(shape)), dtype=dtype)
    out[flat] = g
    return np.reshape(out, shape)


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


# ---- shapes ---------------------------------------------------------------------------------


@vjp_rule(np.reshape)
def reshape_vjp(g, ans, a, shape, order="C"):
    return (np.reshape(g, np.shape(a), order=order),)


@vjp_rule(np.ravel)
def ravel_vjp(g, ans, a, order="C"):
    return (np.reshape(g, np.shape(a), order=order),)


@vjp_rule(np.squeeze)
def squeeze_vjp(g, ans, a, axis=None):
    return (np.reshape(g, np.shape(a)),)


@vjp_rule(np.expand_dims)
def expand_dims_vjp(g, ans, a, axis):
    return (np.reshape(g, np.shape(a)),)


@vjp_rule(np.atleast_1d, np.atleast_2d, np.atleast_3d)
def atleast_vjp(g, ans, x):
    return (np.reshape(g, np.shape(x)),)


@vjp_rule(np.transpose)
def transpose_vjp(g, ans, a, axes=None):
    return (np.transpose(g, inverse_axes(axes, np.ndim(a))),)


@vjp_rule(np.swapaxes)
def swapaxes_vjp(g, ans, a, axis1, axis2):
    return (np.swapaxes(g, axis1, axis2),)


@vjp_rule(np.moveaxis)
def moveaxis_vjp(g, ans, a, source, destination):
    return (np.moveaxis(g, destination, source),)


@vjp_rule(np.broadcast_to)
def broadcast_to_vjp(g, ans, array, shape, subok=False):
    return (unbroadcast(g, array),)


@vjp_rule(np.flip)
def flip_vjp(g, ans, m, axis=None):
    return (np.flip(g, axis),)


@vjp_rule(np.fliplr)
def fliplr_vjp(g, ans, m):
    return (np.fliplr(g),)


@vjp_rule(np.flipud)
def flipud_vjp(g, ans, m):
    return (np.flipud(g),)


@vjp_rule(np.roll)
def roll_vjp(g, ans, a, shift, axis=None):
    return (np.roll(g, np.negative(shift), axis),)


@vjp_rule(np.tile)
def tile_vjp(g, ans, A, reps):
    return (tile_adjoint(g, A, reps),)


@vjp_rule(np.repeat)
def repeat_vjp(g, ans, a, repeats, axis=None):
    return (repeat_adjoint(g, a, repeats, axis),)


@vjp_rule(np.copy)
def copy_vjp(g, ans, a, order="K", subok=False):
    return (g,)


@vjp_rule(np.array, np.asarray, np.asanyarray)
def array_vjp(g, ans, x, dtype=None):
    return (array_cotangent(g, x),)


def inverse_axes(axes, ndim):
    """The permutation that undoes `np.transpose(_, axes)` (None stays None)."""
    return None if axes is None else np.argsort([ax % ndim for ax in axes])


def tile_adjoint(g, a, reps):
    """Sum the tiles of `g`: view it as (reps0, n0, reps1, n1, ...) and sum the reps axes."""
    reps = (reps,) if np.ndim(reps) == 0 else tuple(reps)
    nd = max(len(reps), np.ndim(a))
    shape = (1,) * (nd - np.ndim(a)) + np.shape(a)
    reps = (1,) * (nd - len(reps)) + reps
    tiles = np.reshape(g, [n for pair in zip(reps, shape) for n in pair])
    return np.reshape(np.sum(tiles, axis=tuple(range(0, 2 * nd, 2))), np.shape(a))


def repeat_adjoint(g, a, repeats, axis):
    """Sum the repeated copies of each entry of `a` back into it."""
    shape = np.shape(a)
    if axis is None:
        return np.reshape(repeat_adjoint(g, np.ravel(a), repeats, 0), shape)
    axis = axis % len(shape)
    n = shape[axis]
    if np.size(repeats) == 1:  # equal counts: view the axis as (n, repeats) and sum
        counts = int(np.ravel(repeats)[0])
        return np.sum(np.reshape(g, shape[:axis] + (n, counts) + shape[axis + 1 :]), axis=axis + 1)
    owners = np.repeat(np.arange(n), repeats)
    out = np.zeros((n,) + shape[:axis] + shape[axis + 1 :], dtype=np.result_type(g, 1.0))
    np.add.at(out, owners, np.moveaxis(g, axis, 0))
    return np.moveaxis(out, 0, axis)


def array_cotangent(g, x):
    """Cotangent of `x` from that of `np.array(x)`: `g` itself, or per element for a list."""
    if not isinstance(x, (list, tuple)):
        return g
    return sequence_cotangent(x, [array_cotangent(part, xi) for part, xi in zip(split(g, len(x)), x)])


def sequence_cotangent(xs, parts):
    """The cotangent of the sequence `xs` whose elements have cotangents `parts`."""
    if isinstance(xs, tuple):
        return TupleCotangent(parts)
    if isinstance(xs, list):
        return ListCotangent(parts)
    return np.stack(parts)  # an array used as a sequence of its rows


# ---- joining and splitting ------------------------------------------------------------------


@vjp_rule(np.concatenate)
def concatenate_vjp(g, ans, arrays, axis=0):
    return (concatenate_pieces(g, arrays, axis),)


@vjp_rule(np.stack)
def stack_vjp(g, ans, arrays, axis=0):
    return (sequence_cotangent(arrays, list(np.moveaxis(g, axis, 0))),)


@vjp_rule(np.hstack)
def hstack_vjp(g, ans, tup):
    return (concatenate_pieces(g, tup, 0 if np.ndim(tup[0]) <= 1 else 1, 1),)


@vjp_rule(np.vstack)
def vstack_vjp(g, ans, tup):
    return (concatenate_pieces(g, tup, 0, 2),)


@vjp_rule(np.dstack)
def dstack_vjp(g, ans, tup):
    return (concatenate_pieces(g, tup, 2, 3),)


@vjp_rule(np.column_stack)
def column_stack_vjp(g, ans, tup):
    return (concatenate_pieces(g, tup, 1, "column"),)


@vjp_rule(np.split, np.array_split)
def split_vjp(g, ans, ary, indices_or_sections, axis=0):
    return (join_pieces(g, ans, axis),)


@vjp_rule(np.hsplit)
def hsplit_vjp(g, ans, ary, indices_or_sections):
    return (join_pieces(g, ans, 1 if np.ndim(ary) > 1 else 0),)


@vjp_rule(np.vsplit)
def vsplit_vjp(g, ans, ary, indices_or_sections):
    return (join_pieces(g, ans, 0),)


def concatenate_pieces(g, xs, axis, promote=None):
    """Cut `g` into the cotangents of the arrays `xs` joined along `axis`.

    `promote` is how the joining function first lifted each array: 1, 2 or 3 for
    `np.atleast_1d/2d/3d` (hstack, vstack, dstack), "column" for `np.column_stack`.
    """
    shapes = [_promoted_shape(np.shape(x), promote) for x in xs]
    if axis is None:
        g, axis, sizes = np.ravel(g), 0, [int(np.prod(shape)) for shape in shapes]
    else:
        sizes = [shape[axis] for shape in shapes]
    pieces = np.split(g, np.cumsum(sizes)[:-1], axis=axis)
    return sequence_cotangent(xs, [np.reshape(piece, np.shape(x)) for piece, x in zip(pieces, xs)])


def _promoted_shape(shape, promote):
    if promote == "column":
        return shape if len(shape) >= 2 else (int(np.prod(shape)), 1)
    if promote is None or len(shape) >= promote:
        return shape
    if promote == 3:
        return {0: (1, 1, 1), 1: (1,) + shape + (1,), 2: shape + (1,)}[len(shape)]
    return (1,) * (promote - len(shape)) + shape


def join_pieces(g, pieces, axis):
    """Cotangent of the array cut into `pieces` along `axis` (zeros for unused pieces)."""
    parts = split(g, len(pieces))
    return np.concatenate([np.zeros_like(p) if is_zero(gp) else gp for gp, p in zip(parts, pieces)], axis)
