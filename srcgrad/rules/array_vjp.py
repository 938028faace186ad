"""Reverse rules of NumPy's shape, joining and splitting functions (products are in
`products_vjp.py`).

Also the plain functions that stand for array methods whose meaning differs from the NumPy
free function of the same name (`x.copy()`, `x.astype(...)`, `x.flatten()`, `x.item()`).
Linear algebra (`np.linalg`) lives in `linalg_vjp.py`.

Cotangents of list and tuple arguments (`np.concatenate([a, b])`, `np.array([x, y])`) are
`ListCotangent` / `TupleCotangent` with one entry per element. Real-valued derivatives only:
no rule here conjugates, so complex inputs get holomorphic-style (unconjugated) cotangents.
"""

from __future__ import annotations

import numpy as np

from ..runtime.core import ListCotangent, TupleCotangent, is_zero, split, unbroadcast
from .registry import internal, vjp_rule

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

# srcgrad's own functions, which only generated code and the rules call (not listed in the reference).
internal(
    array_cotangent, astype, cast_like, concatenate_pieces, copy, flatten, inverse_axes, item,
    item_cotangent, join_pieces, repeat_adjoint, sequence_cotangent, tile_adjoint
)
