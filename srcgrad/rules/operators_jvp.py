"""Forward (jvp) rules of the primals whose reverse rules live in `operators_vjp.py`.

Also the two rules of the template helper `unbroadcast_matmul` (reverse rules call it, so
derivative code that is differentiated again needs its derivatives).
"""

from __future__ import annotations

import ast
import operator

import numpy as np

from ..runtime.core import broadcast_like
from .operators_vjp import unbroadcast_matmul
from .registry import jvp_rule, vjp_rule


@jvp_rule(ast.Add, np.add, operator.add)
def add_jvp(d, ans, x, y):
    return broadcast_like(d, ans), broadcast_like(d, ans)


@jvp_rule(ast.Sub, np.subtract, operator.sub)
def subtract_jvp(d, ans, x, y):
    return broadcast_like(d, ans), broadcast_like(-d, ans)


@jvp_rule(ast.Mult, np.multiply, operator.mul)
def multiply_jvp(d, ans, x, y):
    return d * y, x * d


@jvp_rule(ast.Div, np.divide, np.true_divide, operator.truediv)
def divide_jvp(d, ans, x, y):
    return d / y, -d * ans / y


@jvp_rule(ast.Pow, np.power, operator.pow)
def power_jvp(d, ans, x, y):
    """As the reverse rule, the `y` term uses ln(x) only where x > 0 (elsewhere y must be an
    integer and the slope in y is taken to be 0)."""
    return d * y * x ** (y - 1), d * ans * np.log(np.where(x > 0, x, 1.0))


@jvp_rule(ast.Mod, np.mod, np.remainder, operator.mod)
def mod_jvp(d, ans, x, y):
    """x % y = x - floor(x / y) * y: slopes 1 and -floor(x / y)."""
    return broadcast_like(d, ans), -d * np.floor_divide(x, y)


@jvp_rule(ast.MatMult, np.matmul, operator.matmul)
def matmul_jvp(d, ans, x, y):
    """Bilinear: the tangent has the argument's shape, so each term has the result's."""
    return d @ y, x @ d


@jvp_rule(ast.USub, np.negative, operator.neg)
def negative_jvp(d, ans, x):
    return (-d,)


@jvp_rule(ast.UAdd, np.positive, operator.pos)
def positive_jvp(d, ans, x):
    return (d,)


# ---- the template helper unbroadcast_matmul -------------------------------------------------
# `unbroadcast_matmul(h, x, y, 0)` is the cotangent of x in `x @ y` given the cotangent h of
# the product: bilinear in (h, y), and x enters through its shape only. With which = 1 it is
# bilinear in (h, x) and y enters through its shape only.


@vjp_rule(unbroadcast_matmul)
def unbroadcast_matmul_vjp(g, ans, h, x, y, which):
    return (
        np.matmul(g, y) if which == 0 else np.matmul(x, g),
        np.zeros(np.shape(x)) if which == 0 else unbroadcast_matmul(h, x, g, 0),
        unbroadcast_matmul(h, g, y, 1) if which == 0 else np.zeros(np.shape(y)),
        None,
    )


@jvp_rule(unbroadcast_matmul)
def unbroadcast_matmul_jvp(d, ans, h, x, y, which):
    return (
        unbroadcast_matmul(d, x, y, which),
        unbroadcast_matmul(h, d, y, 1) if which == 1 else np.zeros(np.shape(ans)),
        unbroadcast_matmul(h, x, d, 0) if which == 0 else np.zeros(np.shape(ans)),
        None,
    )

