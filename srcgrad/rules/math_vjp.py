"""Reverse rules of the `math` module.

Arguments and results are Python floats, so the rules use `math` (fast, and they return
floats). Where a function has an infinite slope (`sqrt` at 0, `asin` at +-1, ...) the rule
divides by zero and raises `ZeroDivisionError`, as Python float arithmetic does. At a kink
where the function stays finite (`fabs` at 0, `hypot` and `dist` at the origin), the
subgradient 0 is used instead.

Functions added in later Python versions (`exp2`, `cbrt`: 3.11; `sumprod`: 3.12; `fma`: 3.13)
get their rule only where they exist.
"""

from __future__ import annotations

import functools
import math
from typing import Any

from ..runtime.core import is_zero, unbroadcast
from . import registry
from .builtin_vjp import sequence_like, sum_cotangent
from .registry import internal, nondifferentiable

# The family's default, declared: these rules work on a cotangent that is still the scalar zero
# (they scale and unbroadcast it), so the reverse pass need not skip them (see `registry.vjp_rule`).
vjp_rule = functools.partial(registry.vjp_rule, reshapes=False)

# ---- helpers ----------------------------------------------------------------------------


def sign(x: float) -> float:
    """-1.0, 0.0 or 1.0 (the slope of `fabs`, with 0 at the kink)."""
    return math.copysign(1.0, x) if x else 0.0


def digamma(x: float) -> float:
    """The digamma function psi = Gamma' / Gamma (the slope of `lgamma`), for real `x`.

    Reflection below 1/2, the recurrence psi(x) = psi(x + 1) - 1/x up to x >= 10, then the
    asymptotic series; accurate to about 1e-13 away from the poles at 0, -1, -2, ...
    """
    if x <= 0.0 and x == math.floor(x):
        return math.nan
    if x < 0.5:
        return digamma(1.0 - x) - math.pi / math.tan(math.pi * x)
    shift = 0.0
    while x < 10.0:
        shift -= 1.0 / x
        x += 1.0
    f = 1.0 / (x * x)
    series = f * (1 / 12 - f * (1 / 120 - f * (1 / 252 - f * (1 / 240 - f * (1 / 132)))))
    return shift + math.log(x) - 0.5 / x - series


def prod_cotangent(g: Any, xs: Any, start: Any = 1) -> Any:
    """Cotangent of `xs` in `math.prod(xs, start=start)`: `g` times the product of all the
    other factors (prefix and suffix products, so a zero factor is handled exactly)."""
    xs_list = list(xs)
    suffix = [1.0] * (len(xs_list) + 1)
    for i in range(len(xs_list) - 1, -1, -1):
        suffix[i] = xs_list[i] * suffix[i + 1]
    parts, prefix = [], start
    for i, x in enumerate(xs_list):
        parts.append(unbroadcast(g * prefix * suffix[i + 1], x))
        prefix = prefix * x
    return sequence_like(xs, parts)


def scaled_like(xs: Any, g: Any, ys: Any) -> Any:
    """The cotangent of the sequence `xs` whose element `i` is `g * ys[i]` (zeros if `ys` is
    a zero cotangent, the scalar 0.0)."""
    if is_zero(ys):
        return sequence_like(xs, [0.0] * len(xs))
    return sequence_like(xs, [g * y for y in ys])


def dist_cotangents(g: Any, ans: float, p: Any, q: Any) -> tuple[Any, Any]:
    """Cotangents of `p` and `q` in `math.dist(p, q)` (zero where p == q)."""
    scale = g / ans if ans else 0.0
    parts = [scale * (a - b) for a, b in zip(p, q)]
    return sequence_like(p, parts), sequence_like(q, [-part for part in parts])


# ---- trigonometric ----------------------------------------------------------------------


@vjp_rule(math.sin)
def sin_vjp(g, ans, x):
    return (g * math.cos(x),)


@vjp_rule(math.cos)
def cos_vjp(g, ans, x):
    return (-g * math.sin(x),)


@vjp_rule(math.tan)
def tan_vjp(g, ans, x):
    return (g * (1.0 + ans * ans),)


@vjp_rule(math.asin)
def asin_vjp(g, ans, x):
    return (g / math.sqrt(1.0 - x * x),)


@vjp_rule(math.acos)
def acos_vjp(g, ans, x):
    return (-g / math.sqrt(1.0 - x * x),)


@vjp_rule(math.atan)
def atan_vjp(g, ans, x):
    return (g / (1.0 + x * x),)


@vjp_rule(math.atan2)
def atan2_vjp(g, ans, y, x):
    return (g * x / (x * x + y * y), -g * y / (x * x + y * y))


@vjp_rule(math.degrees)
def degrees_vjp(g, ans, x):
    """`degrees` is linear, so it maps the cotangent as it maps `x`."""
    return (math.degrees(g),)


@vjp_rule(math.radians)
def radians_vjp(g, ans, x):
    """`radians` is linear, so it maps the cotangent as it maps `x`."""
    return (math.radians(g),)


# ---- hyperbolic ---------------------------------------------------------------------------


@vjp_rule(math.sinh)
def sinh_vjp(g, ans, x):
    return (g * math.cosh(x),)


@vjp_rule(math.cosh)
def cosh_vjp(g, ans, x):
    return (g * math.sinh(x),)


@vjp_rule(math.tanh)
def tanh_vjp(g, ans, x):
    return (g * (1.0 - ans * ans),)


@vjp_rule(math.asinh)
def asinh_vjp(g, ans, x):
    """1 / sqrt(x**2 + 1), written with `hypot` so that large `x` does not overflow."""
    return (g / math.hypot(1.0, x),)


@vjp_rule(math.acosh)
def acosh_vjp(g, ans, x):
    return (g / math.sqrt(x * x - 1.0),)


@vjp_rule(math.atanh)
def atanh_vjp(g, ans, x):
    return (g / (1.0 - x * x),)


# ---- exponentials, logarithms, powers and roots -------------------------------------------


def exp2_vjp(g, ans, x):
    return (g * ans * math.log(2.0),)


# math.exp, expm1, log (one argument), log1p and sqrt share their rules with NumPy's
# (numpy_vjp.py): the same arithmetic on g, x and ans.


@vjp_rule(math.log)
def log_base_vjp(g, ans, x, base):
    """log(x, base) = ln(x) / ln(base)."""
    return (g / (x * math.log(base)), -g * ans / (base * math.log(base)))


@vjp_rule(math.log2)
def log2_vjp(g, ans, x):
    return (g / (x * math.log(2.0)),)


@vjp_rule(math.log10)
def log10_vjp(g, ans, x):
    return (g / (x * math.log(10.0)),)


def cbrt_vjp(g, ans, x):
    return (g / (3.0 * ans * ans),)


@vjp_rule(math.pow)
def pow_vjp(g, ans, x, y):
    """The `y` cotangent uses ln(x) only where x > 0 (elsewhere y must be an integer)."""
    return (g * y * math.pow(x, y - 1.0), g * ans * (math.log(x) if x > 0 else 0.0))


# ---- hypot, dist, fabs, copysign, fmod, ldexp -----------------------------------------------


@vjp_rule(math.hypot)
def hypot_vjp(g, ans, x, y):
    """x / hypot(x, y) and y / hypot(x, y); zero at the origin."""
    return (g * x / ans if ans else 0.0, g * y / ans if ans else 0.0)


@vjp_rule(math.hypot)
def hypot3_vjp(g, ans, x, y, z):
    """The 3-argument `hypot`; zero at the origin."""
    return (g * x / ans if ans else 0.0, g * y / ans if ans else 0.0, g * z / ans if ans else 0.0)


@vjp_rule(math.dist)
def dist_vjp(g, ans, p, q):
    """(p - q) / dist(p, q) for `p`, and its negative for `q`; zero where p == q."""
    return dist_cotangents(g, ans, p, q)


@vjp_rule(math.fabs)
def fabs_vjp(g, ans, x):
    return (g * sign(x),)


@vjp_rule(math.copysign)
def copysign_vjp(g, ans, x, y):
    """|x| with the sign of y: slope sign(x) * sign(y) in x; piecewise constant in y."""
    return (g * math.copysign(1.0, x) * math.copysign(1.0, y), None)


@vjp_rule(math.fmod, math.remainder)
def fmod_vjp(g, ans, x, y):
    """x - n * y for an integer n (truncated or rounded x / y): slopes 1 and -n = (ans - x) / y."""
    return (g, g * (ans - x) / y)


@vjp_rule(math.ldexp)
def ldexp_vjp(g, ans, x, i):
    return (math.ldexp(g, i),)


# ---- special functions ------------------------------------------------------------------


@vjp_rule(math.erf)
def erf_vjp(g, ans, x):
    return (g * 2.0 / math.sqrt(math.pi) * math.exp(-x * x),)


@vjp_rule(math.erfc)
def erfc_vjp(g, ans, x):
    return (-g * 2.0 / math.sqrt(math.pi) * math.exp(-x * x),)


@vjp_rule(math.gamma)
def gamma_vjp(g, ans, x):
    return (g * ans * digamma(x),)


@vjp_rule(math.lgamma)
def lgamma_vjp(g, ans, x):
    """lgamma is log|Gamma(x)|, whose slope is digamma(x) for negative x too."""
    return (g * digamma(x),)


# ---- sums and products of sequences ------------------------------------------------------


@vjp_rule(math.fsum)
def fsum_vjp(g, ans, seq):
    return (sum_cotangent(g, seq),)


@vjp_rule(math.prod)
def prod_vjp(g, ans, xs):
    return (prod_cotangent(g, xs),)


@vjp_rule(math.prod)
def prod_start_vjp(g, ans, xs, *, start):
    return (prod_cotangent(g, xs, start), unbroadcast(g * math.prod(xs), start))


def sumprod_vjp(g, ans, p, q):
    """sum(a * b for a, b in zip(p, q)): each `a` gets g * b and each `b` gets g * a."""
    return (scaled_like(p, g, q), scaled_like(q, g, p))


def fma_vjp(g, ans, x, y, z):
    """fma(x, y, z) = x * y + z, rounded once."""
    return (g * y, g * x, g)


# Rules of functions that only some Python versions have.
for _name, _rule in [("exp2", exp2_vjp), ("cbrt", cbrt_vjp), ("sumprod", sumprod_vjp), ("fma", fma_vjp)]:
    if hasattr(math, _name):
        vjp_rule(getattr(math, _name))(_rule)
del _name, _rule


nondifferentiable(
    math.floor, math.ceil, math.trunc, math.isnan, math.isinf, math.isfinite, math.isclose,
    math.factorial, math.comb, math.perm, math.gcd, math.lcm, math.isqrt, math.ulp,
    reason="integer-valued, boolean or piecewise constant",
)

# srcgrad's own functions, which only generated code and the rules call (not listed in the reference).
internal(digamma, dist_cotangents, prod_cotangent, scaled_like, sign)
