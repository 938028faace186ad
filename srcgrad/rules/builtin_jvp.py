"""Forward (jvp) rules of the primals whose reverse rules live in `builtin_vjp.py`: abs,
min, max, sum, pow and float.

The tangent of a sequence argument (list, tuple or array iterated along its first axis) has
the structure of the sequence. At ties and kinks the rules make the reverse rules' choices:
`abs` has slope 0 at 0, and `max` / `min` follow the argument Python returns (the first on
a tie).

Also the rules of the template helpers `sum_cotangent` and `one_hot`, which are linear in
their first argument; the other sequence argument gives only a structure.
"""

from __future__ import annotations

import operator

import numpy as np

from ..runtime.core import broadcast_like, is_zero
from .builtin_vjp import first_extreme, one_hot, sum_cotangent
from .operators_jvp import power_jvp
from .registry import jvp_rule, nondifferentiable, vjp_rule

# ---- abs --------------------------------------------------------------------------------


@jvp_rule(abs, operator.abs)
def abs_jvp(d, ans, x):
    """Slope `sign(x)`, and 0 at the kink."""
    return (d * np.sign(x),)


# ---- min and max ------------------------------------------------------------------------


@jvp_rule(max)
def max_jvp(d, ans, a, b):
    """The tangent of the argument `max(a, b)` returns: `b` if `b > a`, else `a`."""
    return (0.0 if b > a else d, d if b > a else 0.0)


@jvp_rule(max)
def max_iterable_jvp(d, ans, xs):
    """The tangent of the first largest element."""
    return (d[first_extreme(xs, larger=True)],)


@jvp_rule(min)
def min_jvp(d, ans, a, b):
    """The tangent of the argument `min(a, b)` returns: `b` if `b < a`, else `a`."""
    return (0.0 if b < a else d, d if b < a else 0.0)


@jvp_rule(min)
def min_iterable_jvp(d, ans, xs):
    """The tangent of the first smallest element."""
    return (d[first_extreme(xs, larger=False)],)


# ---- sum ----------------------------------------------------------------------------------


@jvp_rule(sum)
def sum_jvp(d, ans, xs):
    """The sum of the elements' tangents (broadcasting as the elements do)."""
    return (sum(d),)


@jvp_rule(sum)
def sum_start_jvp(d, ans, xs, start):
    return broadcast_like(sum(d), ans), broadcast_like(d, ans)


# ---- pow and float --------------------------------------------------------------------------

# `pow(x, y)` is `x ** y`: the operator's rule.
jvp_rule(pow)(power_jvp)


@jvp_rule(float)
def float_jvp(d, ans, x):
    return (float(d),)


# ---- template helpers ---------------------------------------------------------------------


@vjp_rule(sum_cotangent)
def sum_cotangent_vjp(g, ans, h, xs):
    """Element i of the result is `h` summed down to element i's shape: the cotangent of `h`
    is the sum of the elements' cotangents, stretched back to `h`'s shape (none for the
    symbolic zero, which has no elements)."""
    return 0.0 if is_zero(g) else broadcast_like(sum(g), h), None


@jvp_rule(sum_cotangent)
def sum_cotangent_jvp(d, ans, h, xs):
    return sum_cotangent(d, xs), None


@vjp_rule(one_hot)
def one_hot_vjp(g, ans, h, xs, position):
    return 0.0 if is_zero(g) else g[position], None, None


@jvp_rule(one_hot)
def one_hot_jvp(d, ans, h, xs, position):
    return one_hot(d, xs, position), None, None


nondifferentiable(first_extreme, reason="integer result (a position)")
