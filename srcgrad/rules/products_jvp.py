"""Forward rules of NumPy's products (`dot`, `inner`, `tensordot`, `outer`, `vdot`, `kron`,
`cross`, `einsum`) and of `trace`, `diagonal`, `diag`; their reverse rules are in
`products_vjp.py`.

Products are linear in each factor, so a term is the product with that factor's tangent.
`einsum` takes its operands variadically, so its rule gets all tangents at once
(`inline=False`).
"""

from __future__ import annotations

import numpy as np

from . import products_helpers  # noqa: F401  (registers the helpers' rules)
from .registry import jvp_rule

# ---- products ------------------------------------------------------------------------------


@jvp_rule(np.dot)
def dot_jvp(d, ans, a, b):
    return np.dot(d, b), np.dot(a, d)


@jvp_rule(np.inner)
def inner_jvp(d, ans, a, b):
    return np.inner(d, b), np.inner(a, d)


@jvp_rule(np.tensordot)
def tensordot_jvp(d, ans, a, b, axes=2):
    return np.tensordot(d, b, axes), np.tensordot(a, d, axes)


@jvp_rule(np.outer)
def outer_jvp(d, ans, a, b):
    return np.outer(d, b), np.outer(a, d)


@jvp_rule(np.vdot)
def vdot_jvp(d, ans, a, b):
    """Real arguments only, like the reverse rule."""
    return np.vdot(d, b), np.vdot(a, d)


@jvp_rule(np.kron)
def kron_jvp(d, ans, a, b):
    return np.kron(d, b), np.kron(a, d)


@jvp_rule(np.cross)
def cross_jvp(d, ans, a, b):
    return np.cross(d, b), np.cross(a, d)


@jvp_rule(np.einsum, inline=False)
def einsum_jvp(dots, ans, *args, **kwargs):
    """The sum over the operands with a tangent of the einsum with that operand replaced by
    its tangent (either calling convention of `np.einsum`)."""
    tangent = None
    for i, dot in enumerate(dots):
        if dot is not None:
            term = np.einsum(*args[:i], dot, *args[i + 1 :], **kwargs)
            tangent = term if tangent is None else tangent + term
    return tangent


@jvp_rule(np.trace)
def trace_jvp(d, ans, a, offset=0, axis1=0, axis2=1):
    return (np.trace(d, offset, axis1, axis2),)


@jvp_rule(np.diagonal)
def diagonal_jvp(d, ans, a, offset=0, axis1=0, axis2=1):
    return (np.diagonal(d, offset, axis1, axis2),)


@jvp_rule(np.diag)
def diag_jvp(d, ans, v, k=0):
    return (np.diag(d, k),)
