"""Reverse and forward rules of the functional forms of NumPy's writing calls and of the
last-write-wins helpers (`overwrite.py`, `writes.py`).

Every one of these is linear in its array arguments jointly, so a forward term is the same
function applied to the tangent (zeros standing in for the other arguments), and a reverse
rule is the transpose: the entries an overwritten array keeps, and for the written values the
cotangent at the entries they (last) wrote. The transposes are functions of `writes.py` with
rules here too, so generated code calling them can be differentiated again.
"""

from __future__ import annotations

import numpy as np

from ..runtime.core import getitem, getitem_vjp, is_zero, unbroadcast
from ..runtime.overwrite import keep_last, written_part
from ..runtime.writes import (
    added_at,
    copied_into,
    diagonal_filled,
    diagonal_positions,
    filled,
    place_positions,
    placed_into,
    put_gather,
    put_into,
    put_zeroed,
    subtracted_at,
)
from .registry import internal, jvp_rule, nondifferentiable, vjp_rule

nondifferentiable(diagonal_positions, place_positions, reason="flat positions: integers")


# ---- last write wins (the reverse pass of `out[index] = value`) ---------------------------------


@vjp_rule(keep_last)
def keep_last_vjp(k, ans, h, g, index):
    """A mask of the entries: its own transpose."""
    return keep_last(k, g, index), None, None


@jvp_rule(keep_last)
def keep_last_jvp(d, ans, h, g, index):
    return keep_last(d, g, index), None, None


@vjp_rule(written_part)
def written_part_vjp(h, ans, g, index):
    return (0.0 if is_zero(g) else getitem_vjp(keep_last(h, g, index), g, index)), None


@jvp_rule(written_part)
def written_part_jvp(d, ans, g, index):
    return written_part(d, index), None


# ---- np.copyto, ndarray.fill ------------------------------------------------------------------


@vjp_rule(copied_into)
def copied_into_vjp(g, ans, dst, src, casting="same_kind"):
    """`dst` is overwritten everywhere; `src` was broadcast to its shape."""
    return None, unbroadcast(g, src), None


@jvp_rule(copied_into)
def copied_into_jvp(d, ans, dst, src, casting="same_kind"):
    return None, copied_into(ans, d, casting), None


@vjp_rule(filled)
def filled_vjp(g, ans, a, value):
    return None, np.sum(g)


@jvp_rule(filled)
def filled_jvp(d, ans, a, value):
    return None, filled(ans, d)


# ---- np.put, np.place, np.fill_diagonal ---------------------------------------------------------


@vjp_rule(put_into)
def put_into_vjp(g, ans, a, ind, v, mode="raise"):
    return put_zeroed(g, ind, mode), None, put_gather(g, ind, v, mode), None


@jvp_rule(put_into)
def put_into_jvp(d, ans, a, ind, v, mode="raise"):
    return put_zeroed(d, ind, mode), None, put_into(np.zeros_like(ans), ind, d, mode), None


@vjp_rule(put_zeroed)
def put_zeroed_vjp(h, ans, g, ind, mode="raise"):
    """A mask of the entries: its own transpose."""
    return put_zeroed(h, ind, mode), None, None


@jvp_rule(put_zeroed)
def put_zeroed_jvp(d, ans, g, ind, mode="raise"):
    return put_zeroed(d, ind, mode), None, None


@vjp_rule(put_gather)
def put_gather_vjp(h, ans, g, ind, v, mode="raise"):
    """The transpose of the gather is the scatter `put_into(zeros, ind, h)`."""
    return (0.0 if is_zero(g) else put_into(np.zeros_like(g), ind, h, mode)), None, None, None


@jvp_rule(put_gather)
def put_gather_jvp(d, ans, g, ind, v, mode="raise"):
    return put_gather(d, ind, v, mode), None, None, None


@vjp_rule(placed_into)
def placed_into_vjp(g, ans, arr, mask, vals):
    return put_zeroed(g, place_positions(mask)), None, put_gather(g, place_positions(mask), vals)


@jvp_rule(placed_into)
def placed_into_jvp(d, ans, arr, mask, vals):
    return put_zeroed(d, place_positions(mask)), None, placed_into(np.zeros_like(ans), mask, d)


@vjp_rule(diagonal_filled)
def diagonal_filled_vjp(g, ans, a, val, wrap=False):
    return (put_zeroed(g, diagonal_positions(np.shape(a), wrap)), put_gather(g, diagonal_positions(np.shape(a), wrap), val),
            None)


@jvp_rule(diagonal_filled)
def diagonal_filled_jvp(d, ans, a, val, wrap=False):
    return put_zeroed(d, diagonal_positions(np.shape(a), wrap)), diagonal_filled(np.zeros_like(ans), d, wrap), None


# ---- ufunc.at: repeated indices accumulate --------------------------------------------------------


@vjp_rule(added_at)
def added_at_vjp(g, ans, a, indices, b):
    return g, None, unbroadcast(getitem(g, indices), b)


@jvp_rule(added_at)
def added_at_jvp(d, ans, a, indices, b):
    return d, None, added_at(np.zeros_like(ans), indices, d)


@vjp_rule(subtracted_at)
def subtracted_at_vjp(g, ans, a, indices, b):
    return g, None, -unbroadcast(getitem(g, indices), b)


@jvp_rule(subtracted_at)
def subtracted_at_jvp(d, ans, a, indices, b):
    return d, None, subtracted_at(np.zeros_like(ans), indices, d)

# srcgrad's own functions, which only generated code and the rules call (not listed in the reference).
internal(
    added_at, copied_into, diagonal_filled, diagonal_positions, filled, keep_last,
    place_positions, placed_into, put_gather, put_into, put_zeroed, subtracted_at, written_part
)
