"""Forward (jvp) rules of the primals whose reverse rules live in `numpy_vjp.py`, and of
`math.exp`, `expm1`, `log` (one argument), `log1p` and `sqrt`, which share them.

Every term has the result's shape (a scalar operand's tangent is stretched with
`broadcast_like`, or by the arithmetic). Where a function has no derivative, the same choice
as the reverse rule, through the same helpers, so forward and reverse agree exactly:

* `abs`, `fabs` at 0 and `copysign(x, y)` at x = 0: slope 0 in x (copysign: -1 or 1 by the
  sign bits, as in reverse);
* `maximum`, `minimum`, `fmax`, `fmin` on a tie: half of each tangent (`max_share`);
  `fmax` / `fmin` take all of the tangent of the argument that is not NaN;
* `clip`: x's tangent where a_min <= x <= a_max, else the tangent of the bound that gives
  the value (`clip_source`);
* `hypot` at (0, 0): 0; `sinc` at 0: 0; `power` / `float_power` in the exponent where the
  base is not positive: 0.

Also the rules of the template helpers `div0`, `sinc_derivative` and `clip_cotangent`; the
helpers whose results are piecewise constant are declared non-differentiable.
"""

from __future__ import annotations

import math

import numpy as np

from ..runtime.core import broadcast_like, unbroadcast
from .numpy_vjp import (
    clip_cotangent,
    clip_source,
    div0,
    fmax_share,
    linspace_fraction,
    max_share,
    numpy_aliases,
    sinc_derivative,
)
from .registry import jvp_rule, nondifferentiable, vjp_rule


# ---- trigonometric and hyperbolic ---------------------------------------------------------
@jvp_rule(np.sin)
def sin_jvp(d, ans, x):
    return (d * np.cos(x),)


@jvp_rule(np.cos)
def cos_jvp(d, ans, x):
    return (-d * np.sin(x),)


@jvp_rule(np.tan)
def tan_jvp(d, ans, x):
    return (d * (1.0 + ans**2),)


@jvp_rule(np.arcsin, *numpy_aliases("asin=arcsin"))
def arcsin_jvp(d, ans, x):
    return (d / np.sqrt(1.0 - x**2),)


@jvp_rule(np.arccos, *numpy_aliases("acos=arccos"))
def arccos_jvp(d, ans, x):
    return (-d / np.sqrt(1.0 - x**2),)


@jvp_rule(np.arctan, *numpy_aliases("atan=arctan"))
def arctan_jvp(d, ans, x):
    return (d / (1.0 + x**2),)


@jvp_rule(np.sinh)
def sinh_jvp(d, ans, x):
    return (d * np.cosh(x),)


@jvp_rule(np.cosh)
def cosh_jvp(d, ans, x):
    return (d * np.sinh(x),)


@jvp_rule(np.tanh)
def tanh_jvp(d, ans, x):
    return (d * (1.0 - ans**2),)


@jvp_rule(np.arcsinh, *numpy_aliases("asinh=arcsinh"))
def arcsinh_jvp(d, ans, x):
    return (d / np.hypot(x, 1.0),)


@jvp_rule(np.arccosh, *numpy_aliases("acosh=arccosh"))
def arccosh_jvp(d, ans, x):
    return (d / np.sqrt((x - 1.0) * (x + 1.0)),)


@jvp_rule(np.arctanh, *numpy_aliases("atanh=arctanh"))
def arctanh_jvp(d, ans, x):
    return (d / (1.0 - x**2),)


@jvp_rule(np.sinc)
def sinc_jvp(d, ans, x):
    return (d * sinc_derivative(x, ans),)


@jvp_rule(np.deg2rad, np.radians)
def deg2rad_jvp(d, ans, x):
    return (d * (np.pi / 180.0),)


@jvp_rule(np.rad2deg, np.degrees)
def rad2deg_jvp(d, ans, x):
    return (d * (180.0 / np.pi),)


# ---- exponentials, logarithms and powers --------------------------------------------------
@jvp_rule(np.exp, math.exp)
def exp_jvp(d, ans, x):
    return (d * ans,)


@jvp_rule(np.expm1, math.expm1)
def expm1_jvp(d, ans, x):
    return (d * (ans + 1.0),)


@jvp_rule(np.exp2)
def exp2_jvp(d, ans, x):
    return (d * ans * np.log(2.0),)


@jvp_rule(np.log, math.log)
def log_jvp(d, ans, x):
    return (d / x,)


@jvp_rule(np.log1p, math.log1p)
def log1p_jvp(d, ans, x):
    return (d / (1.0 + x),)


@jvp_rule(np.log2)
def log2_jvp(d, ans, x):
    return (d / (x * np.log(2.0)),)


@jvp_rule(np.log10)
def log10_jvp(d, ans, x):
    return (d / (x * np.log(10.0)),)


@jvp_rule(np.sqrt, math.sqrt)
def sqrt_jvp(d, ans, x):
    return (d / (2.0 * ans),)


@jvp_rule(np.cbrt)
def cbrt_jvp(d, ans, x):
    return (d / (3.0 * ans**2),)


@jvp_rule(np.square)
def square_jvp(d, ans, x):
    return (2.0 * d * x,)


@jvp_rule(np.reciprocal)
def reciprocal_jvp(d, ans, x):
    return (-d * ans**2,)


@jvp_rule(np.absolute, np.fabs)
def absolute_jvp(d, ans, x):
    """The slope at 0 is taken to be 0."""
    return (d * np.sign(x),)


@jvp_rule(np.real)
def real_jvp(d, ans, x):
    return (np.real(d),)


@jvp_rule(np.conjugate)
def conjugate_jvp(d, ans, x):
    return (np.conj(d),)


# ---- binary elementwise -------------------------------------------------------------------
@jvp_rule(np.maximum)
def maximum_jvp(d, ans, x, y):
    """On a tie x == y each argument contributes half of its tangent."""
    return d * max_share(x, y), d * max_share(y, x)


@jvp_rule(np.minimum)
def minimum_jvp(d, ans, x, y):
    """On a tie x == y each argument contributes half of its tangent."""
    return d * max_share(y, x), d * max_share(x, y)


@jvp_rule(np.fmax)
def fmax_jvp(d, ans, x, y):
    """On a tie half of each tangent; a NaN argument contributes nothing."""
    return d * fmax_share(x, y), d * fmax_share(y, x)


@jvp_rule(np.fmin)
def fmin_jvp(d, ans, x, y):
    """On a tie half of each tangent; a NaN argument contributes nothing."""
    return d * fmax_share(-x, -y), d * fmax_share(-y, -x)


@jvp_rule(np.arctan2)
def arctan2_jvp(d, ans, y, x):
    return d * x / (x**2 + y**2), -d * y / (x**2 + y**2)


@jvp_rule(np.hypot)
def hypot_jvp(d, ans, x, y):
    """At x = y = 0 both slopes are taken to be 0."""
    return d * div0(x, ans), d * div0(y, ans)


@jvp_rule(np.logaddexp)
def logaddexp_jvp(d, ans, x, y):
    return d * np.exp(x - ans), d * np.exp(y - ans)


@jvp_rule(np.logaddexp2)
def logaddexp2_jvp(d, ans, x, y):
    return d * np.exp2(x - ans), d * np.exp2(y - ans)


@jvp_rule(np.float_power)
def float_power_jvp(d, ans, x, y):
    return d * y * np.float_power(x, y - 1.0), d * ans * np.log(np.where(x > 0, x, 1.0))


@jvp_rule(np.copysign)
def copysign_jvp(d, ans, x, y):
    """Only x carries a derivative; the sign of y is piecewise constant."""
    return d * np.where(np.signbit(x) == np.signbit(y), 1.0, -1.0), None


@jvp_rule(np.heaviside)
def heaviside_jvp(d, ans, x, h0):
    """Only the value h0, taken where x == 0, carries a derivative."""
    return None, np.where(np.equal(x, 0), d, 0.0)


@jvp_rule(np.where)
def where_jvp(d, ans, cond, x, y):
    return None, np.where(cond, d, 0.0), np.where(cond, 0.0, d)


@jvp_rule(np.clip)
def clip_jvp(d, ans, x, a_min, a_max):
    """The tangent of the argument the value comes from; x's at the bounds."""
    return (
        np.where(clip_source(x, a_min, a_max, 0), d, 0.0),
        np.where(clip_source(x, a_min, a_max, 1), d, 0.0),
        np.where(clip_source(x, a_min, a_max, 2), d, 0.0),
    )


# ---- array constructors whose values come from an argument --------------------------------
@jvp_rule(np.full)
def full_jvp(d, ans, shape, fill_value, dtype=None, order="C"):
    return None, broadcast_like(d, ans), None, None


@jvp_rule(np.full_like)
def full_like_jvp(d, ans, a, fill_value, dtype=None, order="K", subok=True, shape=None):
    return None, broadcast_like(d, ans), None, None, None, None


@jvp_rule(np.linspace)
def linspace_jvp(d, ans, start, stop, num=50, endpoint=True):
    return (
        broadcast_like(d * (1.0 - linspace_fraction(ans, num, endpoint)), ans),
        broadcast_like(d * linspace_fraction(ans, num, endpoint), ans),
        None,
        None,
    )


# ---- template helpers ---------------------------------------------------------------------
@vjp_rule(div0)
def div0_vjp(g, ans, a, b):
    """a / b, and 0 (a constant) where b == 0."""
    return unbroadcast(div0(g, b), a), unbroadcast(-div0(g * ans, b), b)


@jvp_rule(div0)
def div0_jvp(d, ans, a, b):
    return div0(d, b), -div0(d * ans, b)


# `sinc_derivative(x, s)` = (cos(pi x) - s) / x, 0 at x = 0, where s = sinc(x). Its slopes are
# (-pi sin(pi x) - ans) / x in x and -1 / x in s. At x = 0 they are taken to be -pi**2 / 3 and
# 0: the tangent of s (sinc's slope) is 0 there, so the second derivative of sinc at 0,
# -pi**2 / 3, comes out right.


@vjp_rule(sinc_derivative)
def sinc_derivative_vjp(g, ans, x, s):
    return (
        unbroadcast(g * np.where(np.equal(x, 0), -np.pi**2 / 3, div0(-np.pi * np.sin(np.pi * x) - ans, x)), x),
        unbroadcast(-div0(g, x), s),
    )


@jvp_rule(sinc_derivative)
def sinc_derivative_jvp(d, ans, x, s):
    return (
        d * np.where(np.equal(x, 0), -np.pi**2 / 3, div0(-np.pi * np.sin(np.pi * x) - ans, x)),
        -div0(d, x),
    )


@vjp_rule(clip_cotangent)
def clip_cotangent_vjp(g, ans, h, x, a_min, a_max, which):
    """Linear in `h`; the masks are piecewise constant in x and the bounds."""
    return np.where(clip_source(x, a_min, a_max, which), g, 0.0), None, None, None, None


@jvp_rule(clip_cotangent)
def clip_cotangent_jvp(d, ans, h, x, a_min, a_max, which):
    return clip_cotangent(d, x, a_min, a_max, which), None, None, None, None


nondifferentiable(max_share, fmax_share, clip_source, reason="piecewise constant (a share or a mask)")
nondifferentiable(linspace_fraction, reason="depends only on the number and the shape of the points")
