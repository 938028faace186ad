"""Forward (jvp) rules of the primals whose reverse rules live in `math_vjp.py`.

The same arithmetic as the reverse rules, on Python floats: an infinite slope divides by
zero, and at a kink where the function stays finite (`fabs` at 0, `hypot` and `dist` at the
origin) the slope is 0, as in reverse. `math.exp`, `expm1`, `log` (one argument), `log1p`
and `sqrt` share NumPy's rules (`numpy_jvp.py`); the sequence helpers and their rules are in
`math_helpers.py`.

Also the rules of the template helper `digamma` (through `polygamma`, whose rules are closed:
the derivative of polygamma(n, x) is polygamma(n + 1, x)).
"""

from __future__ import annotations

import math

from .math_helpers import prod_form, sum_of_products
from .math_vjp import digamma, dist_cotangents, sign
from .registry import internal, jvp_rule, nondifferentiable, vjp_rule

# ---- helpers ----------------------------------------------------------------------------

# Bernoulli numbers B_2, B_4, ..., B_16 for the asymptotic series of polygamma.
_BERNOULLI = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510)


def polygamma(n: int, x: float) -> float:
    """The n-th derivative of `digamma` at real `x` (n >= 0); NaN at the poles 0, -1, ...

    psi_n(x) = (-1)**(n + 1) n! sum_k 1 / (x + k)**(n + 1): the recurrence moves x up to
    x >= 20 + n, then the asymptotic series takes over (accurate to about 1e-14 relative).
    """
    if n == 0:
        return digamma(x)
    if x <= 0.0 and x == math.floor(x):
        return math.nan
    shift = 0.0
    while x < 20.0 + n:
        shift += 1.0 / x ** (n + 1)
        x += 1.0
    t = 1.0 / x  # powers of 1 / x: they underflow to 0 for huge x instead of overflowing
    series = math.factorial(n - 1) * t**n + math.factorial(n) / 2.0 * t ** (n + 1)
    for k, b in enumerate(_BERNOULLI, start=1):
        series += b * math.factorial(2 * k + n - 1) / math.factorial(2 * k) * t ** (2 * k + n)
    return (-1.0) ** (n + 1) * (math.factorial(n) * shift + series)


# ---- trigonometric ----------------------------------------------------------------------


@jvp_rule(math.sin)
def sin_jvp(d, ans, x):
    return (d * math.cos(x),)


@jvp_rule(math.cos)
def cos_jvp(d, ans, x):
    return (-d * math.sin(x),)


@jvp_rule(math.tan)
def tan_jvp(d, ans, x):
    return (d * (1.0 + ans * ans),)


@jvp_rule(math.asin)
def asin_jvp(d, ans, x):
    return (d / math.sqrt(1.0 - x * x),)


@jvp_rule(math.acos)
def acos_jvp(d, ans, x):
    return (-d / math.sqrt(1.0 - x * x),)


@jvp_rule(math.atan)
def atan_jvp(d, ans, x):
    return (d / (1.0 + x * x),)


@jvp_rule(math.atan2)
def atan2_jvp(d, ans, y, x):
    return (d * x / (x * x + y * y), -d * y / (x * x + y * y))


@jvp_rule(math.degrees)
def degrees_jvp(d, ans, x):
    """`degrees` is linear, so it maps the tangent as it maps `x`."""
    return (math.degrees(d),)


@jvp_rule(math.radians)
def radians_jvp(d, ans, x):
    """`radians` is linear, so it maps the tangent as it maps `x`."""
    return (math.radians(d),)


# ---- hyperbolic ---------------------------------------------------------------------------


@jvp_rule(math.sinh)
def sinh_jvp(d, ans, x):
    return (d * math.cosh(x),)


@jvp_rule(math.cosh)
def cosh_jvp(d, ans, x):
    return (d * math.sinh(x),)


@jvp_rule(math.tanh)
def tanh_jvp(d, ans, x):
    return (d * (1.0 - ans * ans),)


@jvp_rule(math.asinh)
def asinh_jvp(d, ans, x):
    """1 / sqrt(x**2 + 1), written with `hypot` so that large `x` does not overflow."""
    return (d / math.hypot(1.0, x),)


@jvp_rule(math.acosh)
def acosh_jvp(d, ans, x):
    return (d / math.sqrt(x * x - 1.0),)


@jvp_rule(math.atanh)
def atanh_jvp(d, ans, x):
    return (d / (1.0 - x * x),)


# ---- exponentials, logarithms, powers and roots -------------------------------------------


def exp2_jvp(d, ans, x):
    return (d * ans * math.log(2.0),)


@jvp_rule(math.log)
def log_base_jvp(d, ans, x, base):
    """log(x, base) = ln(x) / ln(base)."""
    return (d / (x * math.log(base)), -d * ans / (base * math.log(base)))


@jvp_rule(math.log2)
def log2_jvp(d, ans, x):
    return (d / (x * math.log(2.0)),)


@jvp_rule(math.log10)
def log10_jvp(d, ans, x):
    return (d / (x * math.log(10.0)),)


def cbrt_jvp(d, ans, x):
    return (d / (3.0 * ans * ans),)


@jvp_rule(math.pow)
def pow_jvp(d, ans, x, y):
    """The `y` term uses ln(x) only where x > 0 (elsewhere y must be an integer)."""
    return (d * y * math.pow(x, y - 1.0), d * ans * (math.log(x) if x > 0 else 0.0))


# ---- hypot, dist, fabs, copysign, fmod, ldexp -----------------------------------------------


@jvp_rule(math.hypot)
def hypot_jvp(d, ans, x, y):
    """x / hypot(x, y) and y / hypot(x, y); zero at the origin."""
    return (d * x / ans if ans else 0.0, d * y / ans if ans else 0.0)


@jvp_rule(math.hypot)
def hypot3_jvp(d, ans, x, y, z):
    """The 3-argument `hypot`; zero at the origin."""
    return (d * x / ans if ans else 0.0, d * y / ans if ans else 0.0, d * z / ans if ans else 0.0)


@jvp_rule(math.dist)
def dist_jvp(d, ans, p, q):
    """The tangent along the unit vector (p - q) / dist(p, q) (zero where p == q)."""
    return (
        sum_of_products(dist_cotangents(1.0, ans, p, q)[0], d),
        sum_of_products(dist_cotangents(1.0, ans, p, q)[1], d),
    )


@jvp_rule(math.fabs)
def fabs_jvp(d, ans, x):
    return (d * sign(x),)


@jvp_rule(math.copysign)
def copysign_jvp(d, ans, x, y):
    """|x| with the sign of y: slope sign(x) * sign(y) in x; piecewise constant in y."""
    return (d * math.copysign(1.0, x) * math.copysign(1.0, y), None)


@jvp_rule(math.fmod, math.remainder)
def fmod_jvp(d, ans, x, y):
    """x - n * y for an integer n: slopes 1 and -n = (ans - x) / y."""
    return (d, d * (ans - x) / y)


@jvp_rule(math.ldexp)
def ldexp_jvp(d, ans, x, i):
    return (math.ldexp(d, i), None)


# ---- special functions ------------------------------------------------------------------


@jvp_rule(math.erf)
def erf_jvp(d, ans, x):
    return (d * 2.0 / math.sqrt(math.pi) * math.exp(-x * x),)


@jvp_rule(math.erfc)
def erfc_jvp(d, ans, x):
    return (-d * 2.0 / math.sqrt(math.pi) * math.exp(-x * x),)


@jvp_rule(math.gamma)
def gamma_jvp(d, ans, x):
    return (d * ans * digamma(x),)


@jvp_rule(math.lgamma)
def lgamma_jvp(d, ans, x):
    return (d * digamma(x),)


# ---- sums and products of sequences ------------------------------------------------------


@jvp_rule(math.fsum)
def fsum_jvp(d, ans, seq):
    return (math.fsum(d),)


@jvp_rule(math.prod)
def prod_jvp(d, ans, xs):
    """The sum over i of d[i] times the other factors (exact where a factor is 0)."""
    return (prod_form(xs, d),)


@jvp_rule(math.prod)
def prod_start_jvp(d, ans, xs, *, start):
    return (start * prod_form(xs, d), d * math.prod(xs))


def sumprod_jvp(d, ans, p, q):
    return (sum_of_products(d, q), sum_of_products(p, d))


def fma_jvp(d, ans, x, y, z):
    """fma(x, y, z) = x * y + z, rounded once."""
    return (d * y, x * d, d)


# Rules of functions that only some Python versions have.
for _name, _rule in [("exp2", exp2_jvp), ("cbrt", cbrt_jvp), ("sumprod", sumprod_jvp), ("fma", fma_jvp)]:
    if hasattr(math, _name):
        jvp_rule(getattr(math, _name))(_rule)
del _name, _rule


# ---- template helpers ---------------------------------------------------------------------


@vjp_rule(digamma)
def digamma_vjp(g, ans, x):
    return (g * polygamma(1, x),)


@jvp_rule(digamma)
def digamma_jvp(d, ans, x):
    return (d * polygamma(1, x),)


@vjp_rule(polygamma)
def polygamma_vjp(g, ans, n, x):
    return (None, g * polygamma(n + 1, x))


@jvp_rule(polygamma)
def polygamma_jvp(d, ans, n, x):
    return (None, d * polygamma(n + 1, x))


nondifferentiable(sign, reason="piecewise constant")

# srcgrad's own functions, which only generated code and the rules call (not listed in the reference).
internal(polygamma)
