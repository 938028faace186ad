"""Broadcasting helpers of the runtime: sum a cotangent back to its value's shape, a
stand-in for a value read only for its shape, and in-place accumulation.

Array-library neutral like the rest of `runtime.py` (which re-exports these): the fast paths
are for exact NumPy arrays only; anything else takes the generic path, which reads shapes
with `np.shape` and sums with `np.sum`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import NotDifferentiableError
from ..facts import declare_pure


class ShapeOf:
    """What the backward sweep keeps of a NumPy array it reads only for its shape (the
    second argument of `unbroadcast`, say): `.shape`, `.ndim` and `.size`, which `np.shape`,
    `np.ndim` and `np.size` read, but not the array's memory."""

    __slots__ = ("shape", "ndim", "size")

    def __init__(self, x: np.ndarray) -> None:
        self.shape, self.ndim, self.size = x.shape, x.ndim, x.size

    def __repr__(self) -> str:
        return f"ShapeOf{self.shape}"


def shape_of(x: Any) -> Any:
    """A stand-in for `x` where only its shape will be read: a `ShapeOf` for a NumPy array,
    `x` itself for anything else (numbers are small; other kinds are kept as they are)."""
    return ShapeOf(x) if type(x) is np.ndarray else x


def unbroadcast(g: Any, x: Any) -> Any:
    """Sum the cotangent `g` down to the shape of `x`, undoing NumPy broadcasting."""
    kind = type(g)
    if kind is np.ndarray:  # fast path: no dispatch through np.shape / np.sum
        like = type(x)
        if like is np.ndarray or like is ShapeOf:
            x_shape = x.shape
            if g.shape == x_shape:
                return g
            if g.ndim >= len(x_shape):
                out = _sum_to(g, x_shape)
                return out if out.shape == x_shape else _zero_misfit(out, x_shape)
    elif kind is float and type(x) is float:
        return g
    if getattr(type(x), "adds_entrywise", False) or getattr(kind, "adds_entrywise", False) and type(x) in (float, int):
        # `+` of container cotangents (runtime.py) adds entry by entry: each operand gets all
        # of `g` (a number `x` is the zero a cotangent accumulator starts from)
        return g
    g_shape, x_shape = np.shape(g), np.shape(x)
    if g_shape == x_shape:
        return g
    if len(g_shape) < len(x_shape) and not np.any(g):
        return _zero_misfit(g, x_shape)
    if type(x) in (list, tuple) or type(g) in (list, tuple):  # `+` or `*` joined or repeated lists
        raise NotDifferentiableError(
            "srcgrad cannot differentiate `+` or `*` on lists or tuples (joining, repeating, or broadcasting "
            "them as arrays); build the list with all its items (`[a, b, c]`) or `.append`, join arrays "
            "with np.concatenate, or make the list an array with np.asarray first"
        )
    extra = len(g_shape) - len(x_shape)
    if extra > 0:
        g = np.sum(g, axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(x_shape) if n == 1 and np.shape(g)[i] != 1)
    if stretched:
        g = np.sum(g, axis=stretched, keepdims=True)
    return g if np.shape(g) == x_shape else _zero_misfit(g, x_shape)


def _zero_misfit(g: Any, x_shape: tuple) -> Any:
    """A cotangent that summing does not bring to `x_shape`: a zero times an operand of
    another shape (`0.0 * y`, the reset cotangent of a value overwritten in a loop). A zero
    number fits any shape; a zero array becomes zeros of `x_shape`. Anything else is left
    as it is (it was so before; it is no cotangent srcgrad makes)."""
    if np.ndim(g) == 0 or np.any(g):
        return g
    return np.zeros_like(g, shape=x_shape)


def _sum_to(g: np.ndarray, x_shape: tuple) -> Any:
    """`unbroadcast` for a NumPy array `g` with at least as many axes as `x_shape`."""
    extra = g.ndim - len(x_shape)
    if extra > 0:
        g = g.sum(axis=tuple(range(extra)))
    g_shape = g.shape
    stretched = tuple(i for i, n in enumerate(x_shape) if n == 1 and g_shape[i] != 1)
    if stretched:
        g = g.sum(axis=stretched, keepdims=True)
    return g


def add_into(total: Any, part: Any) -> Any:
    """`total + part`, added into `total` itself when both are NumPy arrays of the same shape
    and dtype (then the two are equal number for number). Generated code calls it only on a
    gradient buffer that nothing else holds (see `inplace.py`)."""
    if type(total) is np.ndarray and type(part) is np.ndarray and total.shape == part.shape \
            and total.dtype == part.dtype and total.flags.writeable:
        total += part
        return total
    return total + part


declare_pure(ShapeOf, shape_of, unbroadcast)  # add_into writes into its first argument
