"""Reverse rules of Python's arithmetic operators (and the NumPy ufuncs they call)."""

from __future__ import annotations

import ast
import functools
import operator

import numpy as np

from ..runtime.core import unbroadcast
from . import registry
from .registry import complex_safe, internal, nondifferentiable

# The family's default, declared: these rules work on a cotangent that is still the scalar zero
# (they scale and unbroadcast it), so the reverse pass need not skip them (see `registry.vjp_rule`).
vjp_rule = functools.partial(registry.vjp_rule, reshapes=False)


@vjp_rule(ast.Add, np.add, operator.add)
def add_vjp(g, ans, x, y):
    return unbroadcast(g, x), unbroadcast(g, y)


@vjp_rule(ast.Sub, np.subtract, operator.sub)
def subtract_vjp(g, ans, x, y):
    return unbroadcast(g, x), unbroadcast(-g, y)


@vjp_rule(ast.Mult, np.multiply, operator.mul)
def multiply_vjp(g, ans, x, y):
    return unbroadcast(g * y, x), unbroadcast(g * x, y)


@vjp_rule(ast.Div, np.divide, np.true_divide, operator.truediv)
def divide_vjp(g, ans, x, y):
    return unbroadcast(g / y, x), unbroadcast(-g * ans / y, y)


@vjp_rule(ast.Pow, np.power, operator.pow)
def power_vjp(g, ans, x, y):
    return (
        unbroadcast(g * y * x ** (y - 1), x),
        unbroadcast(g * ans * np.log(np.where(x > 0, x, 1.0)), y),
    )


@vjp_rule(ast.Mod, np.mod, np.remainder, operator.mod)
def mod_vjp(g, ans, x, y):
    return unbroadcast(g, x), unbroadcast(-g * np.floor_divide(x, y), y)


@vjp_rule(ast.MatMult, np.matmul, operator.matmul, reshapes=True)
def matmul_vjp(g, ans, x, y):
    return (
        unbroadcast_matmul(g, x, y, 0),
        unbroadcast_matmul(g, x, y, 1),
    )


@vjp_rule(ast.USub, np.negative, operator.neg)
def negative_vjp(g, ans, x):
    return (-g,)


@vjp_rule(ast.UAdd, np.positive, operator.pos)
def positive_vjp(g, ans, x):
    return (g,)


def unbroadcast_matmul(g, x, y, which):
    """Cotangent of argument `which` of `x @ y`, for vectors, matrices and batches."""
    if type(g) is np.ndarray and type(x) is np.ndarray and type(y) is np.ndarray and x.ndim == 2 and y.ndim == 2 \
            and g.shape == (x.shape[0], y.shape[1]):  # two matrices: nothing to reshape or sum
        return g @ y.T if which == 0 else x.T @ g
    x_nd, y_nd = np.ndim(x), np.ndim(y)
    if x_nd == 1 and y_nd == 1:
        return g * y if which == 0 else g * x
    if which == 0:
        if y_nd == 1:
            return unbroadcast(np.expand_dims(g, -1) * y, x)
        gy = np.matmul(g if x_nd > 1 else np.expand_dims(g, -2), np.swapaxes(y, -1, -2))
        return unbroadcast(gy if x_nd > 1 else np.squeeze(gy, -2), x)
    if x_nd == 1:
        return unbroadcast(np.expand_dims(x, -1) * np.expand_dims(g, -2), y)
    xg = np.matmul(np.swapaxes(x, -1, -2), g if y_nd > 1 else np.expand_dims(g, -1))
    return unbroadcast(xg if y_nd > 1 else np.squeeze(xg, -1), y)


nondifferentiable(
    ast.FloorDiv, np.floor_divide, operator.floordiv,
    ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Is, ast.IsNot, ast.In, ast.NotIn,
    ast.Not, ast.Invert, ast.BitAnd, ast.BitOr, ast.BitXor, ast.LShift, ast.RShift,
    reason="integer-valued or boolean result",
)
# Holomorphic: the rules above hold for complex operands (a complex base of `**` only with an
# exponent that carries no derivative: srcgrad's complex pass checks that).
complex_safe(
    ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.USub, ast.UAdd, np.add, np.subtract, np.multiply,
    np.divide, np.true_divide, np.negative, np.positive, operator.add, operator.sub, operator.mul,
    operator.truediv, operator.neg, operator.pos,
)

# srcgrad's own functions, which only generated code and the rules call (not listed in the reference).
internal(unbroadcast_matmul)
