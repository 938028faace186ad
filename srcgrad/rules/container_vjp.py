"""Reverse rules for building and reading Python containers (lists, tuples, dicts)."""

from __future__ import annotations

import numpy as np

from ..runtime.core import (
    DictCotangent,
    ListCotangent,
    TupleCotangent,
    as_sequence,
    dict_get,
    dict_items,
    dict_values,
    getitem_vjp,
    is_dict_view,
    is_zero,
)
from .registry import internal, vjp_rule


def sequence_cotangent(g, x):
    """The cotangent of `x` from the cotangent of `list(x)` (or `tuple(x)`)."""
    if is_zero(g) or isinstance(x, dict):
        return 0.0
    if isinstance(x, tuple):
        return TupleCotangent(g)
    if isinstance(x, list) or is_dict_view(x):
        return ListCotangent(g)
    rows = [np.zeros(np.shape(x)[1:]) if is_zero(part) else part for part in g]
    return np.stack(rows) if rows else np.zeros(np.shape(x))


@vjp_rule(list, tuple, as_sequence, ListCotangent, TupleCotangent)
def sequence_vjp(g, ans, x):
    return (g if ans is x else sequence_cotangent(g, x),)


def items_cotangent(g, d):
    """Cotangent of a dict from the cotangent of `list(d.items())` (pairs of key, value)."""
    if is_zero(g):
        return 0.0
    return DictCotangent({key: pair[1] for (key, _), pair in zip(d.items(), g) if not is_zero(pair)})


def values_cotangent(g, d):
    if is_zero(g):
        return 0.0
    return DictCotangent({key: part for key, part in zip(d, g) if not is_zero(part)})


@vjp_rule(dict_items)
def dict_items_vjp(g, ans, d):
    return (items_cotangent(g, d),)


@vjp_rule(dict_values)
def dict_values_vjp(g, ans, d):
    return (values_cotangent(g, d),)


@vjp_rule(dict_get)
def dict_get_vjp(g, ans, d, key, default=None):
    return (getitem_vjp(g, d, key) if key in d else 0.0, None, 0.0 if key in d else g)

# srcgrad's own functions, which only generated code and the rules call (not listed in the reference).
internal(items_cotangent, sequence_cotangent, values_cotangent)
