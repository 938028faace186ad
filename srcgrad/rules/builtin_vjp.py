"""Reverse rules of Python's builtins: abs, min, max, sum, pow, float.

Also holds the helpers that build the cotangent of a sequence argument (a list, a tuple or
an array iterated along its first axis), shared with `math_vjp` (`math.fsum`, `math.prod`,
`math.dist`).

Builtins that return integers, booleans, strings or shapes are declared non-differentiable
here. The iteration helpers `enumerate`, `zip`, `reversed` and `sorted` are deliberately
*not*: they pass differentiable values through, so declaring them non-differentiable would
silently drop derivatives. In `for` headers the normalizer lowers them to indexing; elsewhere
they have no rule and srcgrad reports that, instead of returning a wrong zero.
"""

from __future__ import annotations

import logging
import operator
import warnings
from typing import Any, Sequence

import numpy as np

from ..runtime.core import ListCotangent, TupleCotangent, as_sequence, is_dict_view, unbroadcast
from .operators_vjp import power_vjp
from .registry import internal, nondifferentiable, vjp_rule

# ---- helpers: cotangents of sequence arguments --------------------------------------------


def sequence_like(xs: Any, parts: Sequence[Any]) -> Any:
    """The cotangent of the sequence `xs` whose element `i` has cotangent `parts[i]`.

    A list or a dict view (`d.values()`) gets a `ListCotangent`, a tuple a `TupleCotangent`,
    and an array (iterated along its first axis, as Python's `sum` and `max` do) an array of
    its shape.
    """
    if isinstance(xs, list) or is_dict_view(xs):
        return ListCotangent(parts)
    if isinstance(xs, tuple):
        return TupleCotangent(parts)
    if isinstance(xs, np.ndarray):
        if not parts:
            return np.zeros(xs.shape)
        return np.stack([np.broadcast_to(part, xs.shape[1:]) for part in parts])
    raise TypeError(
        f"srcgrad cannot send a derivative back into a {type(xs).__name__}; "
        "pass a list, a tuple or an array (e.g. wrap the argument in list(...))"
    )


def sum_cotangent(g: Any, xs: Any) -> Any:
    """Cotangent of `xs` in `sum(xs)`: every element gets `g`, summed down to its shape."""
    if isinstance(xs, np.ndarray) and len(xs):  # all rows alike: no loop over them
        row = unbroadcast(g, xs[0])
        return np.zeros(xs.shape, dtype=np.result_type(xs.dtype, np.float64, row)) + row
    return sequence_like(xs, [unbroadcast(g, x) for x in xs])


def first_extreme(xs: Any, larger: bool) -> int:
    """The position `max(xs)` (`larger`) or `min(xs)` returns: the first extreme element.

    This repeats the comparisons Python makes: a later element replaces the current pick
    only if it is strictly greater (smaller), so ties go to the first.
    """
    xs = as_sequence(xs)  # a dict view is iterated, not indexed
    best = 0
    for i in range(1, len(xs)):
        if (xs[i] > xs[best]) if larger else (xs[i] < xs[best]):
            best = i
    return best


def one_hot(g: Any, xs: Any, position: int) -> Any:
    """Cotangent of `xs` that is `g` at `position` and zero elsewhere."""
    if isinstance(xs, np.ndarray):
        out = np.zeros(xs.shape, dtype=np.result_type(xs.dtype, np.float64, g))
        out[position] = g
        return out
    return sequence_like(xs, [g if i == position else 0.0 for i in range(len(xs))])


# ---- abs --------------------------------------------------------------------------------


@vjp_rule(abs, operator.abs)
def abs_vjp(g, ans, x):
    """`abs(x)` has slope `sign(x)`; at 0 the subgradient 0 is used. Floats and arrays."""
    return (g * np.sign(x),)


# ---- min and max ------------------------------------------------------------------------


@vjp_rule(max)
def max_vjp(g, ans, a, b):
    """All of `g` goes to the argument `max(a, b)` returns: `b` if `b > a`, else `a`
    (so on a tie, the first argument gets it, as Python returns the first)."""
    return (0.0 if b > a else g, g if b > a else 0.0)


@vjp_rule(max)
def max_iterable_vjp(g, ans, xs):
    """`max(xs)` of a list, tuple or array: `g` goes to the first largest element."""
    return (one_hot(g, xs, first_extreme(xs, larger=True)),)


@vjp_rule(min)
def min_vjp(g, ans, a, b):
    """All of `g` goes to the argument `min(a, b)` returns: `b` if `b < a`, else `a`
    (so on a tie, the first argument gets it, as Python returns the first)."""
    return (0.0 if b < a else g, g if b < a else 0.0)


@vjp_rule(min)
def min_iterable_vjp(g, ans, xs):
    """`min(xs)` of a list, tuple or array: `g` goes to the first smallest element."""
    return (one_hot(g, xs, first_extreme(xs, larger=False)),)


# ---- sum ----------------------------------------------------------------------------------


@vjp_rule(sum)
def sum_vjp(g, ans, xs):
    """`sum(xs)`: every element gets `g` (summed down to its shape if it broadcast)."""
    return (sum_cotangent(g, xs),)


@vjp_rule(sum)
def sum_start_vjp(g, ans, xs, start):
    return (sum_cotangent(g, xs), unbroadcast(g, start))


# ---- pow and float --------------------------------------------------------------------------

# `pow(x, y)` is `x ** y`: the operator's rule (3-argument modular `pow` has no rule).
vjp_rule(pow, reshapes=False)(power_vjp)  # elementwise, as `x ** y`


@vjp_rule(float)
def float_vjp(g, ans, x):
    return (g,)


# ---- non-differentiable builtins ----------------------------------------------------------

nondifferentiable(
    round, len, range, isinstance, issubclass, callable, hasattr, id, hash, type, bool, int,
    ord, chr, any, all, np.shape, np.ndim, np.size,
    reason="integer-valued, boolean or describes a shape or type",
)
nondifferentiable(print, str, repr, format, reason="no numeric output")
nondifferentiable(
    logging.debug, logging.info, logging.warning, logging.error, logging.critical, logging.exception, logging.log,
    warnings.warn, reason="logs or warns: reads values, no numeric output",
)

# srcgrad's own functions, which only generated code and the rules call (not listed in the reference).
internal(first_extreme, one_hot, sum_cotangent)
