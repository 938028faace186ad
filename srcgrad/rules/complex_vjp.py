"""Reverse rules for complex values, under JAX's convention (docs/how-it-works.md#complex-values).

The cotangent `g` of a value z is what makes a real output change by Re(g * dz); holomorphic
rules are then the real ones, unconjugated, and the rules here are those of the functions that
are not holomorphic. `complex_abs` and `real_input` stand in for `abs` and an operand where
srcgrad's complex pass (complexity.py) puts them, so real programs keep their own rules.
"""

from __future__ import annotations

import numpy as np

from .registry import complex_safe, internal, nondifferentiable, vjp_rule


def complex_abs(x):
    """`abs(x)` (also `np.abs`) of a value that may be complex."""
    return abs(x)


def real_input(x):
    """`x` itself, a real operand of an operation on complex values: its cotangent is the real part."""
    return x


@vjp_rule(real_input)
def real_input_vjp(g, ans, x):
    return (np.real(g),)


@vjp_rule(complex_abs)
def complex_abs_vjp(g, ans, x):
    """d|z| = Re(conj(z) dz) / |z|, taken to be 0 at 0."""
    return (g * np.conj(x) / (ans + (ans == 0)),)


@vjp_rule(np.imag)
def imag_vjp(g, ans, x):
    """d Im(z) = Re(-1j dz); a real `x` has no imaginary part to move."""
    return (-1j * g if np.iscomplexobj(x) else 0.0 * g,)


@vjp_rule(np.angle)
def angle_vjp(g, ans, z, deg=False):
    """d angle(z) = Im(dz / z) = Re(-1j dz / z), taken to be 0 at 0; constant for real `z`."""
    return (-1j * g * (180.0 / np.pi if deg else 1.0) / (z + (z == 0)) if np.iscomplexobj(z) else 0.0 * g,)


@vjp_rule(complex)
def complex_vjp(g, ans, real, imag):
    return (g, 1j * g)


@vjp_rule(complex)
def complex_of_one_vjp(g, ans, real):
    return (g,)


nondifferentiable(np.iscomplexobj, np.isrealobj, np.iscomplex, np.isreal, reason="boolean result")
complex_safe(real_input, complex_abs, np.imag, np.angle, complex)

# srcgrad's own functions, which only generated code and the rules call (not listed in the reference).
internal(complex_abs, real_input)
