"""Forward rules of NumPy's shape, joining and splitting functions (products are in
`products_jvp.py`), and of the method primals of `array_vjp` (`copy`, `astype`, `flatten`, `item`).

Almost all of these functions are linear, so a term is the function itself applied to the
tangent. The tangent of a list or tuple argument (`np.concatenate([a, b])`) is a list or
tuple of tangents, which the same NumPy function accepts; the tangent of a list result
(`np.split`) is the list of the pieces' tangents. `x.item(i, j)` takes its index
variadically, so its rule gets all tangents at once (`inline=False`).

Both rules of the helpers that the reverse templates of `array_vjp` call are in
`array_helpers` (imported here so that they are registered).
"""

from __future__ import annotations

import numpy as np

from . import array_helpers  # noqa: F401  (registers the helpers' rules)
from .array_vjp import astype, cast_like, copy, flatten, item
from .registry import jvp_rule

# ---- method primals -------------------------------------------------------------------------


@jvp_rule(copy)
def copy_method_jvp(d, ans, x):
    return (copy(d),)


@jvp_rule(astype)
def astype_jvp(d, ans, x, dtype, copy=True):
    """The tangent in the result's dtype (unchanged for an integer result, like the reverse rule)."""
    return (cast_like(d, ans),)


@jvp_rule(flatten)
def flatten_jvp(d, ans, x, order="C"):
    return (flatten(d, order),)


@jvp_rule(item)
def item_jvp(d, ans, x):
    return (item(d),)


@jvp_rule(item, inline=False)
def item_at_jvp(dots, ans, x, *index):
    """`x.item(*index)`: the same entry of the tangent of `x`."""
    return None if dots[0] is None else item(dots[0], *index)


# ---- shapes ---------------------------------------------------------------------------------


@jvp_rule(np.reshape)
def reshape_jvp(d, ans, a, shape, order="C"):
    return (np.reshape(d, shape, order=order),)


@jvp_rule(np.ravel)
def ravel_jvp(d, ans, a, order="C"):
    return (np.ravel(d, order),)


@jvp_rule(np.squeeze)
def squeeze_jvp(d, ans, a, axis=None):
    return (np.squeeze(d, axis),)


@jvp_rule(np.expand_dims)
def expand_dims_jvp(d, ans, a, axis):
    return (np.expand_dims(d, axis),)


@jvp_rule(np.atleast_1d, np.atleast_2d, np.atleast_3d)
def atleast_jvp(d, ans, x):
    return (np.reshape(d, np.shape(ans)),)


@jvp_rule(np.transpose)
def transpose_jvp(d, ans, a, axes=None):
    return (np.transpose(d, axes),)


@jvp_rule(np.swapaxes)
def swapaxes_jvp(d, ans, a, axis1, axis2):
    return (np.swapaxes(d, axis1, axis2),)


@jvp_rule(np.moveaxis)
def moveaxis_jvp(d, ans, a, source, destination):
    return (np.moveaxis(d, source, destination),)


@jvp_rule(np.broadcast_to)
def broadcast_to_jvp(d, ans, array, shape, subok=False):
    return (np.broadcast_to(d, shape),)


@jvp_rule(np.flip)
def flip_jvp(d, ans, m, axis=None):
    return (np.flip(d, axis),)


@jvp_rule(np.fliplr)
def fliplr_jvp(d, ans, m):
    return (np.fliplr(d),)


@jvp_rule(np.flipud)
def flipud_jvp(d, ans, m):
    return (np.flipud(d),)


@jvp_rule(np.roll)
def roll_jvp(d, ans, a, shift, axis=None):
    return (np.roll(d, shift, axis),)


@jvp_rule(np.tile)
def tile_jvp(d, ans, A, reps):
    return (np.tile(d, reps),)


@jvp_rule(np.repeat)
def repeat_jvp(d, ans, a, repeats, axis=None):
    return (np.repeat(d, repeats, axis),)


@jvp_rule(np.copy)
def copy_jvp(d, ans, a, order="K", subok=False):
    return (np.copy(d, order=order),)


@jvp_rule(np.array, np.asarray, np.asanyarray)
def array_jvp(d, ans, x, dtype=None):
    """`d` itself where the result is `x` itself (no copy), else the array of the tangents
    (of each element, for a list) in the result's dtype."""
    return (d if ans is x else cast_like(np.array(d), ans),)


# ---- joining and splitting ------------------------------------------------------------------


@jvp_rule(np.concatenate)
def concatenate_jvp(d, ans, arrays, axis=0):
    return (np.concatenate(d, axis),)


@jvp_rule(np.stack)
def stack_jvp(d, ans, arrays, axis=0):
    return (np.stack(d, axis),)


@jvp_rule(np.hstack)
def hstack_jvp(d, ans, tup):
    return (np.hstack(d),)


@jvp_rule(np.vstack)
def vstack_jvp(d, ans, tup):
    return (np.vstack(d),)


@jvp_rule(np.dstack)
def dstack_jvp(d, ans, tup):
    return (np.dstack(d),)


@jvp_rule(np.column_stack)
def column_stack_jvp(d, ans, tup):
    return (np.column_stack(d),)


@jvp_rule(np.split)
def split_jvp(d, ans, ary, indices_or_sections, axis=0):
    return (np.split(d, indices_or_sections, axis),)


@jvp_rule(np.array_split)
def array_split_jvp(d, ans, ary, indices_or_sections, axis=0):
    return (np.array_split(d, indices_or_sections, axis),)


@jvp_rule(np.hsplit)
def hsplit_jvp(d, ans, ary, indices_or_sections):
    return (np.hsplit(d, indices_or_sections),)


@jvp_rule(np.vsplit)
def vsplit_jvp(d, ans, ary, indices_or_sections):
    return (np.vsplit(d, indices_or_sections),)
