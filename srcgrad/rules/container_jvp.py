"""Forward rules for building and reading Python containers (lists, tuples, dicts), and both
rules of the helpers that the container templates call.

The tangent of a container has the structure of the container: `list(x)` of a tuple of
tangents is the list of the same tangents, and the tangent of `d.items()` pairs a zero
tangent for each key with the tangent of its value. Dict tangents are read by key, so
they do not depend on their keys' order. `items_tangent` and `values_tangent` (new) read
a dict tangent or cotangent in the order of a dict; they are the transposes of
`items_cotangent` and `values_cotangent`.
"""

from __future__ import annotations

from ..runtime.core import (
    ListCotangent,
    TupleCotangent,
    as_sequence,
    dict_get,
    dict_items,
    dict_values,
    getitem,
    is_zero,
    split,
    zero_tangent,
)
from .container_vjp import items_cotangent, sequence_cotangent, values_cotangent
from .registry import internal, jvp_rule, vjp_rule


@jvp_rule(list, tuple, as_sequence, ListCotangent, TupleCotangent)
def sequence_jvp(d, ans, x):
    """The same tangents in the result's container (no tangent for the keys of a dict, nor
    for a sequence whose tangent is the symbolic zero: a `range` read back from a tape)."""
    return (d if ans is x else zero_tangent(ans) if isinstance(x, dict) or is_zero(d) else type(ans)(d),)


@jvp_rule(dict_items)
def dict_items_jvp(t, ans, d):
    return (items_tangent(t, d),)


@jvp_rule(dict_values)
def dict_values_jvp(t, ans, d):
    return (values_tangent(t, d),)


@jvp_rule(dict_get)
def dict_get_jvp(t, ans, d, key, default=None):
    return (t[key] if key in d else zero_tangent(ans), None, zero_tangent(ans) if key in d else t)


# ---- helpers --------------------------------------------------------------------------------


def items_tangent(d, x):
    """The tangent (or cotangent) of `list(x.items())` from the one of the dict `x`: a zero
    for each key, paired with `d`'s entry for the key (zero where `d` has none)."""
    return ListCotangent(TupleCotangent((zero_tangent(key), getitem(d, key))) for key in x)


def values_tangent(d, x):
    """The tangent (or cotangent) of `list(x.values())` from the one of the dict `x`."""
    return ListCotangent(getitem(d, key) for key in x)


@vjp_rule(sequence_cotangent)
def sequence_cotangent_vjp(h, ans, g, x):
    return (0.0 if isinstance(x, dict) else ListCotangent(split(h, len(x))), None)


@jvp_rule(sequence_cotangent)
def sequence_cotangent_jvp(d, ans, g, x):
    return (sequence_cotangent(d, x), None)


@vjp_rule(items_cotangent)
def items_cotangent_vjp(h, ans, g, d):
    return (items_tangent(h, d), None)


@jvp_rule(items_cotangent)
def items_cotangent_jvp(t, ans, g, d):
    return (items_cotangent(t, d), None)


@vjp_rule(values_cotangent)
def values_cotangent_vjp(h, ans, g, d):
    return (values_tangent(h, d), None)


@jvp_rule(values_cotangent)
def values_cotangent_jvp(t, ans, g, d):
    return (values_cotangent(t, d), None)


@vjp_rule(items_tangent)
def items_tangent_vjp(h, ans, d, x):
    return (items_cotangent(h, x), None)


@jvp_rule(items_tangent)
def items_tangent_jvp(t, ans, d, x):
    return (items_tangent(t, x), None)


@vjp_rule(values_tangent)
def values_tangent_vjp(h, ans, d, x):
    return (values_cotangent(h, x), None)


@jvp_rule(values_tangent)
def values_tangent_jvp(t, ans, d, x):
    return (values_tangent(t, x), None)

# srcgrad's own functions, which only generated code and the rules call (not listed in the reference).
internal(items_tangent, values_tangent)
