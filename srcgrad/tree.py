"""Pytrees: nested dicts, lists and tuples whose leaves are numbers or arrays."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np


def leaves(tree: Any) -> list[Any]:
    """The leaves of `tree` in a fixed order (dict entries in insertion order)."""
    if isinstance(tree, dict):
        return [leaf for value in tree.values() for leaf in leaves(value)]
    if isinstance(tree, (list, tuple)):
        return [leaf for value in tree for leaf in leaves(value)]
    return [tree]


def map_leaves(fn: Callable[..., Any], tree: Any, *others: Any) -> Any:
    """Apply `fn` leaf by leaf to `tree` and trees of the same structure."""
    if isinstance(tree, dict):
        return type(tree)((k, map_leaves(fn, v, *(o[k] for o in others))) for k, v in tree.items())
    if isinstance(tree, (list, tuple)):
        items = [map_leaves(fn, v, *(o[i] for o in others)) for i, v in enumerate(tree)]
        if isinstance(tree, list):
            return items
        return type(tree)(*items) if hasattr(tree, "_fields") else tuple(items)
    return fn(tree, *others)


def vdot(a: Any, b: Any) -> float:
    """The inner product of two trees of the same structure."""
    return float(sum(np.vdot(np.asarray(x, float), np.asarray(y, float)) for x, y in zip(leaves(a), leaves(b))))
