"""Last write wins: the part of a cotangent that an indexed assignment's value receives.

`out[[2, 2]] = v` keeps only the last write of each element (NumPy's rule), so of the
cotangent `g` of `out`, `v` receives `g[index]` only where its entry is the last write of that
element; earlier duplicate writes were overwritten and receive zero. Both helpers are linear
in their first argument and have rules (`rules/mutation_helpers.py`), so generated code calling
them can be differentiated again.
"""

from __future__ import annotations

import ast
from typing import Any

import numpy as np

from .core import getitem, is_zero


def is_basic_index(index: Any) -> bool:
    """Whether `index` is made only of ints, slices, Ellipsis and None (no element repeats)."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(part is None or part is Ellipsis or isinstance(part, (int, np.integer, slice)) for part in parts)


def last_writes(shape: tuple[int, ...], index: Any) -> np.ndarray | None:
    """A boolean array shaped like `x[index]` for `x` of `shape`: True at the entries that are the
    last write of their element through `index`; None when no element can be written twice."""
    if is_basic_index(index):
        return None
    parts = index if isinstance(index, tuple) else (index,)
    if all(np.asarray(part).dtype == bool for part in parts if not is_basic_index(part)):
        return None  # one boolean mask (or several): every element at most once
    marker = np.full(shape, -1, dtype=np.intp)
    written_shape = marker[index].shape
    positions = np.arange(int(np.prod(written_shape)), dtype=np.intp).reshape(written_shape)
    marker[index] = positions
    return marker[index] == positions


def keep_last(h: Any, g: Any, index: Any) -> Any:
    """`h` (shaped like `g[index]`) with the entries of earlier duplicate writes set to zero."""
    if is_zero(h) or not isinstance(g, np.ndarray):
        return h
    mask = last_writes(g.shape, index)
    if mask is None or mask.all():
        return h
    return np.where(mask, h, np.zeros((), dtype=np.result_type(h)))


def written_part(g: Any, index: Any) -> Any:
    """`g[index]` with earlier duplicate writes zeroed: the cotangent the value of
    `out[index] = value` receives from the cotangent `g` of `out` (quick for basic indices)."""
    if is_zero(g) or not isinstance(g, np.ndarray) or is_basic_index(index):
        return getitem(g, index)
    return keep_last(g[index], g, index)


def plainly_basic(index: ast.expr) -> bool:
    """Whether a subscript's source is plainly a basic index (`1`, `-1`, `1:3`, `..., 0`), for which
    the reverse pass keeps reading `getitem(g, index)` (a name may hold an index array)."""
    if isinstance(index, ast.Tuple):
        return all(plainly_basic(part) for part in index.elts)
    if isinstance(index, ast.UnaryOp) and isinstance(index.op, ast.USub):
        index = index.operand
    return isinstance(index, ast.Slice) or isinstance(index, ast.Constant) and (
        index.value is None or index.value is Ellipsis or type(index.value) is int)
