"""Forward rules for complex values (complex_vjp.py has the reverse ones and the convention)."""

from __future__ import annotations

import numpy as np

from .complex_vjp import complex_abs, real_input
from .registry import jvp_rule


@jvp_rule(real_input)
def real_input_jvp(d, ans, x):
    return (d,)


@jvp_rule(complex_abs)
def complex_abs_jvp(d, ans, x):
    return (np.real(np.conj(x) * d) / (ans + (ans == 0)),)


@jvp_rule(np.imag)
def imag_jvp(d, ans, x):
    return (np.imag(d),)


@jvp_rule(np.angle)
def angle_jvp(d, ans, z, deg=False):
    return (np.imag(d / (z + (z == 0))) * (180.0 / np.pi if deg else 1.0),)


@jvp_rule(complex)
def complex_jvp(d, ans, real, imag):
    return (d, 1j * d)


@jvp_rule(complex)
def complex_of_one_jvp(d, ans, real):
    return (d,)
