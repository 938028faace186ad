"""Reverse and forward rules of the helpers that the reverse templates of `array_vjp` call,
so that generated derivative code can be differentiated again (the products' adjoints have
theirs in `products_helpers.py`).

Every helper is linear in its cotangent argument `g`: its forward rule applies the helper to
the tangent, and its reverse rule is the transpose, which is mostly the primal function
the helper is the adjoint of (the transpose of `tile_adjoint(g, ...)` is `np.tile`).
`inverse_axes` returns axes and is non-differentiable.
"""

from __future__ import annotations

import numpy as np

from ..runtime.core import ListCotangent, match, split
from .array_vjp import (
    array_cotangent,
    cast_like,
    concatenate_pieces,
    inverse_axes,
    item_cotangent,
    join_pieces,
    repeat_adjoint,
    sequence_cotangent,
    tile_adjoint,
)
from .registry import internal, jvp_rule, nondifferentiable, vjp_rule


def item_position(x, index):
    """The flat position in `x` of the entry `x.item(*index)` (the one item_cotangent sets)."""
    if len(index) == 1 and isinstance(index[0], tuple):
        index = index[0]
    return int(np.ravel_multi_index(index, np.shape(x), mode="wrap")) if len(index) > 1 else index[0]


nondifferentiable(inverse_axes, item_position, reason="axes and positions")


@vjp_rule(cast_like)
def cast_like_vjp(h, ans, g, x):
    return cast_like(h, g), None


@jvp_rule(cast_like)
def cast_like_jvp(d, ans, g, x):
    return cast_like(d, x), None


@vjp_rule(item_cotangent)
def item_cotangent_vjp(h, ans, g, x, index):
    return np.ravel(h)[item_position(x, index)], None, None


@jvp_rule(item_cotangent)
def item_cotangent_jvp(d, ans, g, x, index):
    return item_cotangent(d, x, index), None, None


# ---- shapes, joining and splitting ----------------------------------------------------------


@vjp_rule(tile_adjoint)
def tile_adjoint_vjp(h, ans, g, a, reps):
    return np.tile(h, reps), None


@jvp_rule(tile_adjoint)
def tile_adjoint_jvp(d, ans, g, a, reps):
    return tile_adjoint(d, a, reps), None


@vjp_rule(repeat_adjoint)
def repeat_adjoint_vjp(h, ans, g, a, repeats, axis):
    return np.repeat(h, repeats, axis), None


@jvp_rule(repeat_adjoint)
def repeat_adjoint_jvp(d, ans, g, a, repeats, axis):
    return repeat_adjoint(d, a, repeats, axis), None


@vjp_rule(array_cotangent)
def array_cotangent_vjp(h, ans, g, x):
    """`h` has the structure of `x`: its array, zeros where it is the symbolic zero."""
    return np.asarray(match(h, x)), None


@jvp_rule(array_cotangent)
def array_cotangent_jvp(d, ans, g, x):
    return array_cotangent(d, x), None


@vjp_rule(sequence_cotangent)
def sequence_cotangent_vjp(h, ans, xs, parts):
    return None, ListCotangent(split(h, len(parts)))


@jvp_rule(sequence_cotangent)
def sequence_cotangent_jvp(d, ans, xs, parts):
    return None, sequence_cotangent(xs, d)


@vjp_rule(concatenate_pieces)
def concatenate_pieces_vjp(h, ans, g, xs, axis, promote=None):
    """The pieces joined again, by the joining function that `promote` stands for."""
    return (
        np.concatenate(match(h, xs), axis)
        if promote is None
        else np.hstack(match(h, xs))
        if promote == 1
        else np.vstack(match(h, xs))
        if promote == 2
        else np.dstack(match(h, xs))
        if promote == 3
        else np.column_stack(match(h, xs)),
    )


@jvp_rule(concatenate_pieces)
def concatenate_pieces_jvp(d, ans, g, xs, axis, promote=None):
    return (concatenate_pieces(d, xs, axis, promote),)


@vjp_rule(join_pieces)
def join_pieces_vjp(h, ans, g, pieces, axis):
    return (concatenate_pieces(h, pieces, axis),)


@jvp_rule(join_pieces)
def join_pieces_jvp(d, ans, g, pieces, axis):
    return (join_pieces(d, pieces, axis),)

# srcgrad's own functions, which only generated code and the rules call (not listed in the reference).
internal(item_position)
