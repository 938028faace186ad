"""Functional forms of NumPy's calls that write into an array.

Each returns a NEW array and leaves its arguments as they are: `put_into(out, ind, v)` is
`out` after `np.put(out, ind, v)`. `mutators.functional_form` rewrites the writing call
statements of a differentiated function into assignments of these (`out = put_into(out, ind, v)`),
which srcgrad differentiates with the rules of `rules/mutation_helpers.py`. `put_zeroed` and
`put_gather` are the transposes the reverse rules call.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .core import is_zero


def _fresh(a: Any) -> np.ndarray:
    """A copy of the array written into; like NumPy's writing calls, anything else is refused
    (a rewritten `q.fill(v)` on an object that is not an array must not become an array)."""
    if not isinstance(a, np.ndarray):
        raise TypeError(f"the array written into must be a numpy.ndarray, not {type(a).__name__} (as NumPy's "
                        "writing calls require); for a new array from other values use np.full_like or np.array")
    return a.copy()


def copied_into(dst: Any, src: Any, casting: str = "same_kind") -> np.ndarray:
    """`dst` after `np.copyto(dst, src, casting)`: `src` broadcast to `dst`'s shape, in `dst`'s dtype."""
    out = _fresh(dst)
    np.copyto(out, src, casting=casting)
    return out


def filled(a: Any, value: Any) -> np.ndarray:
    """`a` after `a.fill(value)`; `a` must be an array (the rewrite of `a.fill(v)` reads no types)."""
    if not isinstance(a, np.ndarray):
        raise TypeError(f"srcgrad rewrote `a.fill(value)` as an array fill, but `a` is a {type(a).__name__}: "
                        "write `a = np.full_like(a, value)` or leave the call out of the differentiated code")
    out = _fresh(a)
    out.fill(value)
    return out


def put_into(a: Any, ind: Any, v: Any, mode: str = "raise") -> np.ndarray:
    """`a` after `np.put(a, ind, v, mode)`: flat positions, `v` repeated cyclically, the last
    write of a repeated position wins."""
    out = _fresh(a)
    np.put(out, ind, v, mode=mode)
    return out


def _put_plan(size: int, ind: Any, mode: str) -> tuple[np.ndarray, np.ndarray]:
    """The flat position each write of `np.put` goes to, and whether it is the last one there."""
    positions = np.take(np.arange(size, dtype=np.intp), np.ravel(np.asarray(ind, dtype=np.intp)), mode=mode)
    marker = np.full(size, -1, dtype=np.intp)
    marker[positions] = np.arange(positions.size, dtype=np.intp)
    return positions, marker[positions] == np.arange(positions.size)


def put_zeroed(g: Any, ind: Any, mode: str = "raise") -> Any:
    """`g` with the flat positions `np.put(g, ind, ..., mode)` writes set to zero."""
    if is_zero(g):
        return g
    out = _fresh(g)
    np.put(out, ind, 0, mode=mode)
    return out


def put_gather(g: Any, ind: Any, v: Any, mode: str = "raise") -> Any:
    """The cotangent of `v` in `put_into(a, ind, v)` from the result's cotangent `g`: the
    entries of `g` that each element of `v` last wrote, summed over `v`'s cyclic repeats."""
    if is_zero(g):
        return 0.0
    g = np.asarray(g)
    positions, last = _put_plan(g.size, ind, mode)
    values = np.where(last, g.reshape(-1)[positions], np.zeros((), dtype=g.dtype))
    n = max(int(np.size(v)), 1)
    out = np.zeros(n, dtype=g.dtype)
    np.add.at(out, np.arange(positions.size) % n, values)
    return out.reshape(np.shape(v)) if np.size(v) else out[:0].reshape(np.shape(v))


def place_positions(mask: Any) -> np.ndarray:
    """The flat positions `np.place(a, mask, vals)` writes, in the order it takes `vals`."""
    return np.flatnonzero(np.asarray(mask))


def placed_into(arr: Any, mask: Any, vals: Any) -> np.ndarray:
    """`arr` after `np.place(arr, mask, vals)`: `vals` repeated cyclically over the True entries."""
    out = _fresh(arr)
    np.place(out, mask, vals)
    return out


def diagonal_positions(shape: tuple[int, ...], wrap: bool = False) -> np.ndarray:
    """The flat positions `np.fill_diagonal` writes in an array of `shape` (NumPy's own stepping)."""
    if len(shape) == 2:
        step, end = shape[1] + 1, None if wrap else shape[1] * shape[1]
    else:
        if len(set(shape)) != 1:
            raise ValueError("All dimensions of input must be of equal length")
        step, end = 1 + int(np.cumprod(shape[:-1]).sum()), None
    return np.arange(int(np.prod(shape)), dtype=np.intp)[:end:step]


def diagonal_filled(a: Any, val: Any, wrap: bool = False) -> np.ndarray:
    """`a` after `np.fill_diagonal(a, val, wrap)`."""
    out = _fresh(a)
    np.fill_diagonal(out, val, wrap=wrap)
    return out


def added_at(a: Any, indices: Any, b: Any) -> np.ndarray:
    """`a` after `np.add.at(a, indices, b)`: repeated indices accumulate."""
    out = _fresh(a)
    np.add.at(out, indices, b)
    return out


def subtracted_at(a: Any, indices: Any, b: Any) -> np.ndarray:
    """`a` after `np.subtract.at(a, indices, b)`: repeated indices accumulate."""
    out = _fresh(a)
    np.subtract.at(out, indices, b)
    return out
