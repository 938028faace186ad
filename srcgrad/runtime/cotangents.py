"""Cotangents: the symbolic zero, and the cotangents of dicts, lists and tuples, which add entry by entry.

Zero cotangents are the Python float `0.0` (or `None`); a container's cotangent holds one entry
per element (per key that received a derivative, for a dict).
"""

from __future__ import annotations

from typing import Any

import numpy as np


def is_zero(g: Any) -> bool:
    """True for the symbolic zero cotangents: `None`, and a scalar zero (the Python `0.0` of
    an initialisation, or NumPy's `float64` that arithmetic with a NumPy scalar makes of it)."""
    return g is None or (type(g) in (float, int, np.float64) and g == 0)


def add(a: Any, b: Any) -> Any:
    """Sum two cotangents of any kind (scalars, arrays, container cotangents)."""
    if is_zero(a):
        return b
    if is_zero(b):
        return a
    return a + b


class DictCotangent(dict):
    """Cotangent of a dict: holds entries only for keys that received a derivative."""

    adds_entrywise = True  # `unbroadcast` passes a cotangent of `a + b` on to both

    def __add__(self, other: Any) -> Any:
        if is_zero(other):
            return self
        out = DictCotangent(self)
        for key, value in other.items():
            out[key] = add(out.get(key), value)
        return out

    __radd__ = __add__


class ListCotangent(list):
    """Cotangent of a list: one entry per element, `0.0` where there is none."""

    adds_entrywise = True  # `unbroadcast` passes a cotangent of `a + b` on to both

    def __add__(self, other: Any) -> Any:
        if is_zero(other):
            return self
        return type(self)(add(a, b) for a, b in zip(self, other))

    __radd__ = __add__


class TupleCotangent(tuple):
    """Cotangent of a tuple: one entry per element, `0.0` where there is none."""

    adds_entrywise = True  # `unbroadcast` passes a cotangent of `a + b` on to both

    def __add__(self, other: Any) -> Any:
        if is_zero(other):
            return self
        return TupleCotangent(add(a, b) for a, b in zip(self, other))

    __radd__ = __add__
