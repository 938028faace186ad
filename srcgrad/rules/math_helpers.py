"""Derivatives of the sequence helpers of `math_vjp` (math.prod, math.sumprod, math.dist).

The reverse rules of `math.prod`, `math.sumprod` and `math.dist` call `prod_cotangent`,
`scaled_like` and `dist_cotangents`; derivative code that is differentiated again needs
their rules, which are here together with the forward rules' own helpers:

* `sum_of_products(xs, ys)`: sum(x * y for x, y in zip(xs, ys));
* `prod_form(xs, *dirs)`: the product of `xs` differentiated once along each direction in
  `dirs` (each a sequence like `xs`). `prod_form(xs)` is `math.prod(xs)` and
  `prod_form(xs, u)` is its derivative along `u`;
* `prod_tangent(h, xs, start, *dirs)`: element i is `h * start` times the product of the
  other elements, differentiated along `dirs`; `prod_tangent(h, xs, start)` equals
  `prod_cotangent(h, xs, start)`.

`prod_form` and `prod_tangent` are multilinear in their directions, so their derivatives are
the same functions with one more (or one replaced) direction: the rules are closed, to any
order. They are computed exactly, with zero factors too (no division by the product): each
factor becomes x + e1 u1 + ... + em um with nilpotent e1..em (e_a ** 2 = 0), and the result
is the coefficient of e1...em. A zero cotangent (the scalar 0.0 in place of a sequence)
counts as a sequence of zeros.
"""

from __future__ import annotations

from ..runtime.core import is_zero, unbroadcast
from .builtin_vjp import sequence_like
from .math_vjp import dist_cotangents, prod_cotangent, scaled_like
from .registry import internal, jvp_rule, vjp_rule

# ---- helpers --------------------------------------------------------------------------------


def sum_of_products(xs, ys):
    """sum(x * y for x, y in zip(xs, ys)); 0.0 if either is a zero cotangent."""
    if is_zero(xs) or is_zero(ys):
        return 0.0
    total = 0.0
    for x, y in zip(xs, ys):
        total = total + x * y
    return total


def _times_factor(jet, x, ds):
    """The jet (coefficients indexed by subsets of the directions, as bit masks) times
    x + sum_a e_a ds[a]."""
    out = [c * x for c in jet]
    for mask in range(1, len(jet)):
        for a, d in enumerate(ds):
            bit = 1 << a
            if mask & bit:
                out[mask] = out[mask] + jet[mask ^ bit] * d
    return out


def _unit(n_dirs):
    return [1.0] + [0.0] * ((1 << n_dirs) - 1)


def prod_form(xs, *dirs):
    """The product of `xs` differentiated along each of `dirs` (sequences like `xs`)."""
    if any(is_zero(u) for u in dirs):
        return 0.0
    jet = _unit(len(dirs))
    for k, x in enumerate(xs):
        jet = _times_factor(jet, x, [u[k] for u in dirs])
    return jet[-1]


def prod_tangent(h, xs, start, *dirs):
    """Element i: `unbroadcast(h * start * P_i, xs[i])` where P_i is the product of the other
    elements differentiated along each of `dirs` (prefix and suffix products, exact)."""
    if any(is_zero(u) for u in dirs):
        return sequence_like(xs, [0.0] * len(xs))
    full = (1 << len(dirs)) - 1
    factors = [[u[k] for u in dirs] for k in range(len(xs))]
    suffixes = [_unit(len(dirs))]
    for k in range(len(xs) - 1, 0, -1):
        suffixes.append(_times_factor(suffixes[-1], xs[k], factors[k]))
    suffixes.reverse()  # suffixes[i]: the product of the elements after i
    parts, prefix = [], _unit(len(dirs))
    for i, x in enumerate(xs):
        others = sum(prefix[mask] * suffixes[i][full ^ mask] for mask in range(full + 1))
        parts.append(unbroadcast(h * start * others, x))
        prefix = _times_factor(prefix, x, factors[i])
    return sequence_like(xs, parts)


def _without(dirs, a):
    return dirs[:a] + dirs[a + 1:]


def _replaced(dirs, a, u):
    return dirs[:a] + (u,) + dirs[a + 1:]


def _total(terms):
    """The sum of the terms that are not None (None if there are none)."""
    terms = [t for t in terms if t is not None]
    return sum(terms[1:], terms[0]) if terms else None


# ---- sum_of_products and scaled_like (bilinear) ---------------------------------------------


@vjp_rule(sum_of_products)
def sum_of_products_vjp(g, ans, xs, ys):
    return scaled_like(xs, g, ys), scaled_like(ys, g, xs)


@jvp_rule(sum_of_products)
def sum_of_products_jvp(d, ans, xs, ys):
    return sum_of_products(d, ys), sum_of_products(xs, d)


@vjp_rule(scaled_like)
def scaled_like_vjp(g, ans, xs, h, ys):
    """Element i of the result is h * ys[i]; `xs` gives only the structure."""
    return None, unbroadcast(sum_of_products(g, ys), h), scaled_like(ys, h, g)


@jvp_rule(scaled_like)
def scaled_like_jvp(d, ans, xs, h, ys):
    return None, scaled_like(xs, d, ys), scaled_like(xs, h, d)


# ---- dist_cotangents: (s (p - q), -s (p - q)) with s = h / a, and 0 where a = 0 ------------


@vjp_rule(dist_cotangents)
def dist_cotangents_vjp(g, ans, h, a, p, q):
    return (
        sum_of_products(g[0], dist_cotangents(1.0, a, p, q)[0])
        + sum_of_products(g[1], dist_cotangents(1.0, a, p, q)[1]),
        sum_of_products(g[0], dist_cotangents(-h / a if a else 0.0, a, p, q)[0])
        + sum_of_products(g[1], dist_cotangents(-h / a if a else 0.0, a, p, q)[1]),
        scaled_like(p, h / a if a else 0.0, g[0]) + scaled_like(p, -h / a if a else 0.0, g[1]),
        scaled_like(q, -h / a if a else 0.0, g[0]) + scaled_like(q, h / a if a else 0.0, g[1]),
    )


@jvp_rule(dist_cotangents)
def dist_cotangents_jvp(d, ans, h, a, p, q):
    return (
        dist_cotangents(d, a, p, q),
        dist_cotangents(-h * d / a if a else 0.0, a, p, q),
        (scaled_like(p, h / a if a else 0.0, d), scaled_like(q, -h / a if a else 0.0, d)),
        (scaled_like(p, -h / a if a else 0.0, d), scaled_like(q, h / a if a else 0.0, d)),
    )


# ---- prod_cotangent, prod_form, prod_tangent -------------------------------------------------


@vjp_rule(prod_cotangent)
def prod_cotangent_vjp(g, ans, h, xs, start=1):
    return (
        unbroadcast(start * prod_form(xs, g), h),
        prod_tangent(h, xs, start, g),
        unbroadcast(h * prod_form(xs, g), start),
    )


@jvp_rule(prod_cotangent)
def prod_cotangent_jvp(d, ans, h, xs, start=1):
    return prod_cotangent(d, xs, start), prod_tangent(h, xs, start, d), prod_cotangent(h, xs, d)


@vjp_rule(prod_form)
def prod_form_vjp(g, ans, xs, *dirs):
    """Called, not inlined (variadic): one cotangent for `xs` and one per direction."""
    return (
        prod_tangent(g, xs, 1.0, *dirs),
        *(prod_tangent(g, xs, 1.0, *_without(dirs, a)) for a in range(len(dirs))),
    )


@jvp_rule(prod_form, inline=False)
def prod_form_jvp(dots, ans, xs, *dirs):
    terms = [None if dots[0] is None else prod_form(xs, *dirs, dots[0])]
    terms += [None if u is None else prod_form(xs, *_replaced(dirs, a, u)) for a, u in enumerate(dots[1:])]
    return _total(terms)


@vjp_rule(prod_tangent)
def prod_tangent_vjp(g, ans, h, xs, start, *dirs):
    """Called, not inlined (variadic): cotangents of h, xs, start and each direction."""
    return (
        unbroadcast(start * prod_form(xs, g, *dirs), h),
        prod_tangent(h, xs, start, g, *dirs),
        unbroadcast(h * prod_form(xs, g, *dirs), start),
        *(prod_tangent(h, xs, start, g, *_without(dirs, a)) for a in range(len(dirs))),
    )


@jvp_rule(prod_tangent, inline=False)
def prod_tangent_jvp(dots, ans, h, xs, start, *dirs):
    d_h, d_xs, d_start, d_dirs = dots[0], dots[1], dots[2], dots[3:]
    terms = [
        None if d_h is None else prod_tangent(d_h, xs, start, *dirs),
        None if d_xs is None else prod_tangent(h, xs, start, *dirs, d_xs),
        None if d_start is None else prod_tangent(h, xs, d_start, *dirs),
    ]
    terms += [None if u is None else prod_tangent(h, xs, start, *_replaced(dirs, a, u)) for a, u in enumerate(d_dirs)]
    return _total(terms)

# srcgrad's own functions, which only generated code and the rules call (not listed in the reference).
internal(prod_form, prod_tangent, sum_of_products)
