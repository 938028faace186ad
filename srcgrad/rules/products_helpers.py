"""Reverse and forward rules of the adjoints that the reverse templates of `products_vjp`
call, so that generated derivative code can be differentiated again.

Every adjoint is linear in its cotangent argument `g`: its forward rule applies the adjoint
to the tangent, and its reverse rule is the transpose, which is mostly the primal function
it is the adjoint of (the transpose of `tensordot_adjoint(g, ...)` is `np.tensordot`). The
product adjoints (dot, tensordot, kron, cross) are also linear in the factor they contract
`g` with, and depend on the other factor only through its shape.

`einsum_cotangents` takes its operands as a sequence, so its rules (sums over the operands)
cannot be templates: both are called, not inlined.
"""

from __future__ import annotations

import numpy as np

from ..runtime.core import ListCotangent, TupleCotangent, is_zero, match, split, unbroadcast
from .products_vjp import (
    cross_adjoint,
    diagonal_adjoint,
    dot_adjoint,
    einsum_cotangents,
    kron_adjoint,
    tensordot_adjoint,
    trace_adjoint,
)
from .registry import jvp_rule, register_adjoint, vjp_rule

# ---- product adjoints -----------------------------------------------------------------------


@vjp_rule(dot_adjoint)
def dot_adjoint_vjp(h, ans, g, a, b, which, inner=False):
    return (
        (np.inner(h, b) if inner else np.dot(h, b)) if which == 0 else (np.inner(a, h) if inner else np.dot(a, h)),
        dot_adjoint(g, a, h, 0, inner) if which == 1 else np.zeros(np.shape(a)),
        dot_adjoint(g, h, b, 1, inner) if which == 0 else np.zeros(np.shape(b)),
    )


@jvp_rule(dot_adjoint)
def dot_adjoint_jvp(d, ans, g, a, b, which, inner=False):
    return (
        dot_adjoint(d, a, b, which, inner),
        dot_adjoint(g, d, b, which, inner) if which == 1 else np.zeros_like(ans),
        dot_adjoint(g, a, d, which, inner) if which == 0 else np.zeros_like(ans),
    )


@vjp_rule(tensordot_adjoint)
def tensordot_adjoint_vjp(h, ans, g, a, b, axes, which):
    return (
        np.tensordot(h, b, axes) if which == 0 else np.tensordot(a, h, axes),
        tensordot_adjoint(g, a, h, axes, 0) if which == 1 else np.zeros(np.shape(a)),
        tensordot_adjoint(g, h, b, axes, 1) if which == 0 else np.zeros(np.shape(b)),
    )


@jvp_rule(tensordot_adjoint)
def tensordot_adjoint_jvp(d, ans, g, a, b, axes, which):
    return (
        tensordot_adjoint(d, a, b, axes, which),
        tensordot_adjoint(g, d, b, axes, which) if which == 1 else np.zeros_like(ans),
        tensordot_adjoint(g, a, d, axes, which) if which == 0 else np.zeros_like(ans),
    )


@vjp_rule(kron_adjoint)
def kron_adjoint_vjp(h, ans, g, a, b, which):
    return (
        np.kron(h, b) if which == 0 else np.kron(a, h),
        kron_adjoint(g, a, h, 0) if which == 1 else np.zeros(np.shape(a)),
        kron_adjoint(g, h, b, 1) if which == 0 else np.zeros(np.shape(b)),
    )


@jvp_rule(kron_adjoint)
def kron_adjoint_jvp(d, ans, g, a, b, which):
    return (
        kron_adjoint(d, a, b, which),
        kron_adjoint(g, d, b, which) if which == 1 else np.zeros_like(ans),
        kron_adjoint(g, a, d, which) if which == 0 else np.zeros_like(ans),
    )


@vjp_rule(cross_adjoint)
def cross_adjoint_vjp(h, ans, g, a, b, which):
    """From the triple product: h . (b x g) = g . (h x b) = b . (g x h)."""
    return (
        np.cross(h, b) if which == 0 else np.cross(a, h),
        unbroadcast(np.cross(h, g), a) if which == 1 else np.zeros(np.shape(a)),
        unbroadcast(np.cross(g, h), b) if which == 0 else np.zeros(np.shape(b)),
    )


@jvp_rule(cross_adjoint)
def cross_adjoint_jvp(d, ans, g, a, b, which):
    return (
        cross_adjoint(d, a, b, which),
        cross_adjoint(g, d, b, which) if which == 1 else np.zeros_like(ans),
        cross_adjoint(g, a, d, which) if which == 0 else np.zeros_like(ans),
    )


def einsum_cotangents_vjp(h, ans, g, subscripts, operands, optimize=False):
    """Called, not inlined. The cotangent of `g` sums the einsums with one operand replaced
    by its part of `h`; operand k gets the cotangents of operand k with another operand j
    replaced by `h[j]`."""
    parts = split(h, len(operands))
    g_bar = 0.0
    operand_bars = [0.0] * len(operands)
    for j, part in enumerate(parts):
        if is_zero(part):
            continue
        replaced = [*operands[:j], part, *operands[j + 1 :]]
        g_bar = g_bar + np.einsum(subscripts, *replaced, optimize=optimize)
        for k, bar in enumerate(einsum_cotangents(g, subscripts, replaced, optimize)):
            if k != j:
                operand_bars[k] = operand_bars[k] + bar
    bars = [match(bar, operand) for bar, operand in zip(operand_bars, operands)]
    return match(g_bar, g), None, TupleCotangent(bars) if isinstance(operands, tuple) else ListCotangent(bars), None


register_adjoint(einsum_cotangents, einsum_cotangents_vjp)


@jvp_rule(einsum_cotangents, inline=False)
def einsum_cotangents_jvp(dots, ans, g, subscripts, operands, optimize=False):
    """Called, not inlined: the cotangents of the tangent of `g`, plus for each operand k
    with a tangent the cotangents of the other operands with operand k replaced by it."""
    d_g, _, d_operands = (list(dots) + [None] * 3)[:3]
    tangent = [np.zeros(np.shape(part)) for part in ans]
    if d_g is not None:
        tangent = [t + part for t, part in zip(tangent, einsum_cotangents(d_g, subscripts, operands, optimize))]
    for k, d_k in enumerate(d_operands if d_operands is not None else ()):
        if is_zero(d_k):
            continue
        replaced = [*operands[:k], d_k, *operands[k + 1 :]]
        parts = einsum_cotangents(g, subscripts, replaced, optimize)
        tangent = [t if j == k else t + part for j, (t, part) in enumerate(zip(tangent, parts))]
    return ListCotangent(tangent)


@vjp_rule(trace_adjoint)
def trace_adjoint_vjp(h, ans, g, shape, offset, axis1, axis2):
    return (np.trace(h, offset, axis1, axis2),)


@jvp_rule(trace_adjoint)
def trace_adjoint_jvp(d, ans, g, shape, offset, axis1, axis2):
    return (trace_adjoint(d, shape, offset, axis1, axis2),)


@vjp_rule(diagonal_adjoint)
def diagonal_adjoint_vjp(h, ans, g, shape, offset, axis1, axis2):
    return (np.diagonal(h, offset, axis1, axis2),)


@jvp_rule(diagonal_adjoint)
def diagonal_adjoint_jvp(d, ans, g, shape, offset, axis1, axis2):
    return (diagonal_adjoint(d, shape, offset, axis1, axis2),)
