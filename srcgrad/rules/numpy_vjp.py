"""Reverse rules of NumPy's elementwise functions, and the NumPy functions without a derivative.

Conventions where a function has no derivative at a point:

* `abs`, `fabs` at 0 and `copysign(x, y)` at x = 0 take the derivative 0 (a subgradient);
* `maximum`, `minimum`, `fmax`, `fmin` split `g` evenly on a tie: half to each argument;
* `clip(x, a_min, a_max)` passes `g` to x where a_min <= x <= a_max (bounds included), to
  a_min where x < a_min and to a_max where the value is clipped to a_max;
* `hypot(x, y)` at (0, 0) gives 0 to both arguments.

The reductions (sum, mean, prod, max, min, var, std, norm, cumsum, sort...) are in
`reduction_vjp`.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from ..runtime.core import unbroadcast
from . import registry
from .registry import complex_safe, internal, nondifferentiable

# The family's default, declared: these rules work on a cotangent that is still the scalar zero
# (they scale and unbroadcast it), so the reverse pass need not skip them (see `registry.vjp_rule`).
vjp_rule = functools.partial(registry.vjp_rule, reshapes=False)


def div0(a, b):
    """`a / b`, with 0 where `b` is 0 (where a function's derivative is taken to be 0)."""
    zero = np.equal(b, 0)
    return np.where(zero, 0.0, a / np.where(zero, 1.0, b))


def max_share(a, b):
    """The share of `g` that `np.maximum(a, b)` passes to `a`: 1, 0.5 on a tie, or 0."""
    return np.where(np.greater(a, b), 1.0, np.where(np.equal(a, b), 0.5, 0.0))


def fmax_share(a, b):
    """As `max_share`, for `np.fmax`, which ignores a NaN in `b`."""
    return np.where(np.isnan(b), 1.0, max_share(a, b))


def sinc_derivative(x, ans):
    """d/dx sin(pi x) / (pi x): (cos(pi x) - sinc(x)) / x, and 0 at x = 0."""
    return div0(np.cos(np.pi * x) - ans, x)


def clip_cotangent(g, x, a_min, a_max, which):
    """The part of `g` that `np.clip(x, a_min, a_max)` passes to argument `which`.

    `which` is 0 (x), 1 (a_min) or 2 (a_max); a bound given as None gets None. Like NumPy,
    the result is `minimum(maximum(x, a_min), a_max)`, so a_max wins when a_min >= a_max,
    and x keeps `g` where it equals one bound of two that differ.
    """
    bounds = (x, a_min, a_max)
    if bounds[which] is None:
        return None
    return unbroadcast(np.where(clip_source(x, a_min, a_max, which), g, 0.0), bounds[which])


def clip_source(x, a_min, a_max, which):
    """Where `np.clip(x, a_min, a_max)` takes its value from argument `which` (0: x, 1: a_min,
    2: a_max): a boolean mask that broadcasts to the result's shape (see `clip_cotangent`)."""
    below = np.False_ if a_min is None else np.less(x, a_min)
    lifted = x if a_min is None else np.maximum(x, a_min)
    above = np.False_ if a_max is None else np.greater(lifted, a_max)
    if a_min is not None and a_max is not None:
        above = above | np.equal(a_min, a_max)  # equal bounds: the value is a_max's, whatever x is
    return (~(below | above), below & ~above, above)[which]


def linspace_fraction(ans, num, endpoint):
    """The fractions t of `np.linspace(start, stop, num)` = start + t (stop - start), shaped
    to broadcast against the output `ans` (whose first axis has the `num` points)."""
    t = np.linspace(0.0, 1.0, num, endpoint=endpoint)
    return np.reshape(t, (-1,) + (1,) * (np.ndim(ans) - 1))


def numpy_aliases(*names):
    """The NumPy 2 spellings (np.asin, ...) that are distinct objects in this NumPy."""
    found = []
    for name, canonical in (n.split("=") for n in names):
        alias = getattr(np, name, None)
        if alias is not None and alias is not getattr(np, canonical):
            found.append(alias)
    return tuple(found)


# ---- trigonometric and hyperbolic ---------------------------------------------------------
@vjp_rule(np.sin)
def sin_vjp(g, ans, x):
    return (g * np.cos(x),)


@vjp_rule(np.cos)
def cos_vjp(g, ans, x):
    return (-g * np.sin(x),)


@vjp_rule(np.tan)
def tan_vjp(g, ans, x):
    return (g * (1.0 + ans**2),)


@vjp_rule(np.arcsin, *numpy_aliases("asin=arcsin"))
def arcsin_vjp(g, ans, x):
    return (g / np.sqrt(1.0 - x**2),)


@vjp_rule(np.arccos, *numpy_aliases("acos=arccos"))
def arccos_vjp(g, ans, x):
    return (-g / np.sqrt(1.0 - x**2),)


@vjp_rule(np.arctan, *numpy_aliases("atan=arctan"))
def arctan_vjp(g, ans, x):
    return (g / (1.0 + x**2),)


@vjp_rule(np.sinh)
def sinh_vjp(g, ans, x):
    return (g * np.cosh(x),)


@vjp_rule(np.cosh)
def cosh_vjp(g, ans, x):
    return (g * np.sinh(x),)


@vjp_rule(np.tanh)
def tanh_vjp(g, ans, x):
    return (g * (1.0 - ans**2),)


@vjp_rule(np.arcsinh, *numpy_aliases("asinh=arcsinh"))
def arcsinh_vjp(g, ans, x):
    return (g / np.hypot(x, 1.0),)


@vjp_rule(np.arccosh, *numpy_aliases("acosh=arccosh"))
def arccosh_vjp(g, ans, x):
    return (g / np.sqrt((x - 1.0) * (x + 1.0)),)


@vjp_rule(np.arctanh, *numpy_aliases("atanh=arctanh"))
def arctanh_vjp(g, ans, x):
    return (g / (1.0 - x**2),)


@vjp_rule(np.sinc)
def sinc_vjp(g, ans, x):
    return (g * sinc_derivative(x, ans),)


@vjp_rule(np.deg2rad, np.radians)
def deg2rad_vjp(g, ans, x):
    return (g * (np.pi / 180.0),)


@vjp_rule(np.rad2deg, np.degrees)
def rad2deg_vjp(g, ans, x):
    return (g * (180.0 / np.pi),)


# ---- exponentials, logarithms and powers --------------------------------------------------
@vjp_rule(np.exp, math.exp)
def exp_vjp(g, ans, x):
    return (g * ans,)


@vjp_rule(np.expm1, math.expm1)
def expm1_vjp(g, ans, x):
    return (g * (ans + 1.0),)


@vjp_rule(np.exp2)
def exp2_vjp(g, ans, x):
    return (g * ans * np.log(2.0),)


@vjp_rule(np.log, math.log)
def log_vjp(g, ans, x):
    return (g / x,)


@vjp_rule(np.log1p, math.log1p)
def log1p_vjp(g, ans, x):
    return (g / (1.0 + x),)


@vjp_rule(np.log2)
def log2_vjp(g, ans, x):
    return (g / (x * np.log(2.0)),)


@vjp_rule(np.log10)
def log10_vjp(g, ans, x):
    return (g / (x * np.log(10.0)),)


@vjp_rule(np.sqrt, math.sqrt)
def sqrt_vjp(g, ans, x):
    return (g / (2.0 * ans),)


@vjp_rule(np.cbrt)
def cbrt_vjp(g, ans, x):
    return (g / (3.0 * ans**2),)


@vjp_rule(np.square)
def square_vjp(g, ans, x):
    return (2.0 * g * x,)


@vjp_rule(np.reciprocal)
def reciprocal_vjp(g, ans, x):
    return (-g * ans**2,)


@vjp_rule(np.absolute, np.fabs)
def absolute_vjp(g, ans, x):
    """The derivative at 0 is taken to be 0."""
    return (g * np.sign(x),)


@vjp_rule(np.real)
def real_vjp(g, ans, x):
    return (g,)


@vjp_rule(np.conjugate)
def conjugate_vjp(g, ans, x):
    return (np.conj(g),)


# ---- binary elementwise -------------------------------------------------------------------
@vjp_rule(np.maximum)
def maximum_vjp(g, ans, x, y):
    """On a tie x == y each argument gets half of g."""
    return unbroadcast(g * max_share(x, y), x), unbroadcast(g * max_share(y, x), y)


@vjp_rule(np.minimum)
def minimum_vjp(g, ans, x, y):
    """On a tie x == y each argument gets half of g."""
    return unbroadcast(g * max_share(y, x), x), unbroadcast(g * max_share(x, y), y)


@vjp_rule(np.fmax)
def fmax_vjp(g, ans, x, y):
    """On a tie x == y each argument gets half of g; a NaN argument gets nothing."""
    return unbroadcast(g * fmax_share(x, y), x), unbroadcast(g * fmax_share(y, x), y)


@vjp_rule(np.fmin)
def fmin_vjp(g, ans, x, y):
    """On a tie x == y each argument gets half of g; a NaN argument gets nothing."""
    return unbroadcast(g * fmax_share(-x, -y), x), unbroadcast(g * fmax_share(-y, -x), y)


@vjp_rule(np.arctan2)
def arctan2_vjp(g, ans, y, x):
    return unbroadcast(g * x / (x**2 + y**2), y), unbroadcast(-g * y / (x**2 + y**2), x)


@vjp_rule(np.hypot)
def hypot_vjp(g, ans, x, y):
    """At x = y = 0 both derivatives are taken to be 0."""
    return unbroadcast(g * div0(x, ans), x), unbroadcast(g * div0(y, ans), y)


@vjp_rule(np.logaddexp)
def logaddexp_vjp(g, ans, x, y):
    return unbroadcast(g * np.exp(x - ans), x), unbroadcast(g * np.exp(y - ans), y)


@vjp_rule(np.logaddexp2)
def logaddexp2_vjp(g, ans, x, y):
    return unbroadcast(g * np.exp2(x - ans), x), unbroadcast(g * np.exp2(y - ans), y)


@vjp_rule(np.float_power)
def float_power_vjp(g, ans, x, y):
    return (
        unbroadcast(g * y * np.float_power(x, y - 1.0), x),
        unbroadcast(g * ans * np.log(np.where(x > 0, x, 1.0)), y),
    )


@vjp_rule(np.copysign)
def copysign_vjp(g, ans, x, y):
    """Only x is differentiated; the sign of y is piecewise constant."""
    return unbroadcast(g * np.where(np.signbit(x) == np.signbit(y), 1.0, -1.0), x), None


@vjp_rule(np.heaviside)
def heaviside_vjp(g, ans, x, h0):
    """Only the value h0, taken where x == 0, carries a derivative."""
    return None, unbroadcast(np.where(np.equal(x, 0), g, 0.0), h0)


@vjp_rule(np.where)
def where_vjp(g, ans, cond, x, y):
    return None, unbroadcast(np.where(cond, g, 0.0), x), unbroadcast(np.where(cond, 0.0, g), y)


@vjp_rule(np.clip)
def clip_vjp(g, ans, x, a_min, a_max):
    """g goes to x where a_min <= x <= a_max, else to the bound that gives the value."""
    return (
        clip_cotangent(g, x, a_min, a_max, 0),
        clip_cotangent(g, x, a_min, a_max, 1),
        clip_cotangent(g, x, a_min, a_max, 2),
    )


# ---- array constructors whose values come from an argument --------------------------------
@vjp_rule(np.full)
def full_vjp(g, ans, shape, fill_value, dtype=None, order="C"):
    return None, unbroadcast(g, fill_value)


@vjp_rule(np.full_like)
def full_like_vjp(g, ans, a, fill_value, dtype=None, order="K", subok=True, shape=None):
    return None, unbroadcast(g, fill_value)


@vjp_rule(np.linspace)
def linspace_vjp(g, ans, start, stop, num=50, endpoint=True):
    return (
        unbroadcast(g * (1.0 - linspace_fraction(ans, num, endpoint)), start),
        unbroadcast(g * linspace_fraction(ans, num, endpoint), stop),
    )


nondifferentiable(
    np.sign, np.floor, np.ceil, np.trunc, np.rint, np.round, np.around, np.fix, np.signbit,
    reason="piecewise constant",
)
nondifferentiable(
    np.isnan, np.isinf, np.isfinite, np.isclose, np.allclose, np.array_equal,
    np.greater, np.greater_equal, np.less, np.less_equal, np.equal, np.not_equal,
    np.logical_and, np.logical_or, np.logical_not, np.logical_xor, np.all, np.any,
    reason="boolean result",
)
nondifferentiable(
    np.argmax, np.argmin, np.argsort, np.nonzero, np.flatnonzero, np.count_nonzero,
    np.searchsorted, np.digitize,
    reason="integer result (indices or counts)",
)
nondifferentiable(
    np.zeros_like, np.ones_like, np.empty_like, np.zeros, np.ones, np.empty, np.eye,
    np.identity, np.arange, np.shape, np.ndim, np.size,
    reason="depends only on shapes, or is a constant array",
)
# Holomorphic (or, for np.real and np.conj, written for complex values): these rules hold for
# complex arguments.
complex_safe(
    np.sin, np.cos, np.tan, np.sinh, np.cosh, np.tanh, np.exp, np.log, np.sqrt, np.square, np.reciprocal,
    np.real, np.conjugate, np.where,
)

# srcgrad's own functions, which only generated code and the rules call (not listed in the reference).
internal(
    clip_cotangent, clip_source, div0, fmax_share, linspace_fraction, max_share, sinc_derivative
)
