"""Reverse and forward rules of the runtime's own functions.

Generated derivative code calls these (`unbroadcast`, `getitem`, the tape's `pushed`, ...);
with their rules, that code can itself be differentiated, which is how `grad(grad(f))`,
`hessian` and `hvp` work. Most are linear in their first argument, so the forward rule
applies the function to the tangent and the reverse rule is its transpose.
"""

from __future__ import annotations

import numpy as np

from ..runtime.core import (
    ListCotangent,
    TupleCotangent,
    as_sequence,
    broadcast_like,
    call_rule,
    copy_item,
    dict_get,
    dict_items,
    dict_values,
    drop_last,
    getitem,
    getitem_vjp,
    is_absent,
    is_scalar,
    is_zero,
    match,
    pushed,
    restored,
    seed,
    split,
    throw,
    unbroadcast,
    undrop_last,
    unmatch,
    unsplit,
    with_item,
    zero_at,
    zero_tangent,
)
from ..runtime.guards import check_held_once, check_unshared
from ..runtime.markers import stop_gradient
from ..runtime.objects import child_cotangent, getattr_tangent, getattr_vjp
from .registry import complex_safe, internal, jvp_rule, nondifferentiable, vjp_rule

nondifferentiable(seed, is_zero, is_scalar, zero_tangent, is_absent, reason="bookkeeping: constant results")
nondifferentiable(throw, reason="raises the user's exception: no value")
nondifferentiable(stop_gradient, reason="stop_gradient")
nondifferentiable(check_unshared, check_held_once, reason="a check: no value")


@vjp_rule(unbroadcast)
def unbroadcast_vjp(g, ans, t, x):
    """`t` stretched to `x`'s shape gives `g` back `t`'s shape; a `t` with fewer axes than
    `g` (the number zero an adjoint starts from, added to arrays later) gets `g` summed."""
    return (broadcast_like(g, t) if np.ndim(t) >= np.ndim(g) else unbroadcast(g, t)), None


@jvp_rule(unbroadcast)
def unbroadcast_jvp(d, ans, t, x):
    return unbroadcast(d, x), None


@vjp_rule(broadcast_like)
def broadcast_like_vjp(g, ans, t, like):
    return unbroadcast(g, t), None


@jvp_rule(broadcast_like)
def broadcast_like_jvp(d, ans, t, like):
    return broadcast_like(d, like), None


@vjp_rule(getitem_vjp)
def getitem_vjp_vjp(g, ans, t, x, index):
    return getitem(g, index), None, None


@jvp_rule(getitem_vjp)
def getitem_vjp_jvp(d, ans, t, x, index):
    return getitem_vjp(d, x, index), None, None


@vjp_rule(getitem)
def getitem_rule_vjp(g, ans, t, index):
    return (0.0 if is_zero(t) else getitem_vjp(g, t, index)), None


@jvp_rule(getitem)
def getitem_rule_jvp(d, ans, t, index):
    return getitem(d, index), None


@vjp_rule(copy_item)
def copy_item_vjp(g, ans, container, index):
    return (None if is_absent(ans) else getitem_vjp(g, container, index)), None


@jvp_rule(copy_item)
def copy_item_jvp(d, ans, container, index):
    return (ans if is_absent(ans) else getitem(d, index)), None


@vjp_rule(zero_at)
def zero_at_vjp(g, ans, t, index):
    """`zero_at` leaves the number zero an adjoint starts from as it is: so does its transpose."""
    return (g if is_zero(t) else zero_at(g, index)), None


@jvp_rule(zero_at)
def zero_at_jvp(d, ans, t, index):
    return zero_at(d, index), None


@vjp_rule(restored)
def restored_vjp(g, ans, container, index, old):
    return zero_at(g, index), None, (None if is_absent(old) else getitem(g, index))


@jvp_rule(restored)
def restored_jvp(d, ans, container, index, old):
    return zero_at(d, index), None, getitem_vjp(d, container, index)


@vjp_rule(with_item)
def with_item_vjp(g, ans, t, index, value):
    return zero_at(g, index), None, getitem(g, index)


@jvp_rule(with_item)
def with_item_jvp(d, ans, t, index, value):
    return zero_at(d, index), None, getitem_vjp(d, t, index)


@vjp_rule(drop_last)
def drop_last_vjp(g, ans, t):
    return (undrop_last(g, t),)


@jvp_rule(drop_last)
def drop_last_jvp(d, ans, t):
    return (drop_last(d),)


@vjp_rule(pushed)
def pushed_vjp(g, ans, t, item, lst):
    return drop_last(g), getitem(g, -1), None


@jvp_rule(pushed)
def pushed_jvp(d, ans, t, item, lst):
    return pushed(d, 0.0, lst), pushed(0.0, d, lst), None


@vjp_rule(match)
def match_vjp(g, ans, t, x):
    return unmatch(g, t), None


@jvp_rule(match)
def match_jvp(d, ans, t, x):
    return match(d, x), None


@vjp_rule(split)
def split_vjp(g, ans, t, n):
    return unsplit(g, t), None


@jvp_rule(split)
def split_jvp(d, ans, t, n):
    return split(d, n), None


@vjp_rule(as_sequence)
def as_sequence_vjp(g, ans, x):
    return (g,)


@jvp_rule(as_sequence)
def as_sequence_jvp(d, ans, x):
    return (d,)


# ---- the transposes above, for third and higher derivatives ------------------------------
@vjp_rule(unmatch)
def unmatch_vjp(g, ans, h, t):
    return (g if isinstance(h, (dict, list, tuple)) else broadcast_like(g, h)), None


@jvp_rule(unmatch)
def unmatch_jvp(d, ans, h, t):
    return unmatch(d, t), None


@vjp_rule(undrop_last)
def undrop_last_vjp(g, ans, h, t):
    return drop_last(g), None


@jvp_rule(undrop_last)
def undrop_last_jvp(d, ans, h, t):
    return undrop_last(d, t), None


@vjp_rule(unsplit)
def unsplit_vjp(g, ans, h, t):
    return (0.0 if is_zero(h) else split(g, len(h))), None


@jvp_rule(unsplit)
def unsplit_jvp(d, ans, h, t):
    return unsplit(d, t), None


# They move values about (or cast them to an argument's dtype): the rules hold for complex values.
complex_safe(
    unbroadcast, broadcast_like, getitem_vjp, getitem, copy_item, zero_at, restored, with_item, drop_last,
    pushed, match, split, as_sequence, unmatch, undrop_last, unsplit,
)


@vjp_rule(getattr_vjp)
def getattr_vjp_vjp(g, ans, t, x, name):
    return child_cotangent(g, x, name), None, None


@jvp_rule(getattr_vjp)
def getattr_vjp_jvp(d, ans, t, x, name):
    return getattr_vjp(d, x, name), None, None


@vjp_rule(getattr_tangent)
def getattr_tangent_vjp(g, ans, t, x, name):
    return getattr_vjp(g, x, name), None, None


@jvp_rule(getattr_tangent)
def getattr_tangent_jvp(d, ans, t, x, name):
    return getattr_tangent(d, x, name), None, None

# srcgrad's own functions, which only generated code and the rules call (not listed in the reference).
internal(
    ListCotangent, TupleCotangent, as_sequence, broadcast_like, call_rule, check_held_once,
    check_unshared, copy_item, dict_get, dict_items, dict_values, drop_last, getattr_tangent,
    getattr_vjp, getitem, getitem_vjp, is_absent, is_scalar, is_zero, match, pushed, restored,
    seed, split, throw, unbroadcast, undrop_last, unmatch, unsplit, with_item, zero_at,
    zero_tangent
)
