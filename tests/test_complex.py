"""Real-valued functions of real inputs through complex intermediates, against finite differences."""

import numpy as np
import pytest

import srcgrad
from srcgrad.rules import complex_jvp as cj
from srcgrad.rules import complex_vjp as cr
from tests.generated import fd_grad


def abs_of_complex(x):
    return np.sum(np.abs(x + 1j * x ** 2))


def builtin_abs(x):
    return abs(x + 1j * x ** 2)


def real_imag_exp(x):
    z = np.exp(1j * x)
    return np.sum(np.real(z * z) + np.imag(z) * x)


def attributes(x):
    z = (x - 2j) * (x + 0.5j)
    return np.sum(z.real * z.imag + z.conj().imag ** 2)


def conj_product(x):
    z = np.sin(x) + 1j * np.cos(x * 2.0)
    return np.sum(np.real(z * np.conj(z)) + np.real(np.conjugate(z) * 1j * z))


def angles(x):
    z = x + 1j * (x * x + 0.3)
    return np.sum(np.angle(z) + np.angle(z, deg=True) / 90.0)


def from_parts(x):
    z = complex(x[0], x[1]) ** 3
    return abs(z) + z.imag


def division_and_power(x):
    z = (1.5 + x * 1j) / (x - 0.5j)
    w = z ** 2 - 1.0 / z
    return np.sum(np.abs(w))


def functions(x):
    z = x * (0.6 + 0.8j)
    w = np.exp(z) + np.sin(z) * np.cos(z) + np.tanh(z) + np.sqrt(z + 3.0) + np.log(z + 2.0) + np.square(z)
    return np.real(np.sum(w)) + np.imag(np.mean(w))


def through_loop(x, n):
    z = x + 0j
    for _ in range(n):
        z = z * np.exp(0.3j * x) + 0.1 * x
    return np.sum(np.abs(z))


def python_floats(x, y):
    z = complex(x, y) * (1 - 2j)
    return z.real * z.imag + abs(z)


PROGRAMS = [abs_of_complex, builtin_abs, real_imag_exp, attributes, conj_product, angles, division_and_power,
            functions]
POINT = np.array([0.7, -1.2, 0.4])


@pytest.mark.parametrize("fn", PROGRAMS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("optimize", [True, False])
def test_reverse_and_forward(fn, optimize):
    x = POINT if fn is not builtin_abs else 0.7
    srcgrad.check_grad(fn, x, optimize=optimize)
    srcgrad.check_jvp(fn, x, optimize=optimize)
    got = srcgrad.grad(fn, optimize=optimize)(x)
    assert not np.iscomplexobj(got)
    np.testing.assert_allclose(got, fd_grad(fn, [x], 0), rtol=1e-6, atol=1e-8)


def test_the_issue_figure():
    x = 0.7  # d/dx |x + i x^2| = sqrt(1 + x^2) + x^2 / sqrt(1 + x^2)
    want = np.sqrt(1 + x * x) + x * x / np.sqrt(1 + x * x)
    got = srcgrad.grad(abs_of_complex)(x)
    assert type(got) is float and got == pytest.approx(want, rel=1e-12)


def test_python_floats_and_complex():
    srcgrad.check_grad(python_floats, 0.8, -0.3, wrt=(0, 1))
    srcgrad.check_jvp(python_floats, 0.8, -0.3, wrt=(0, 1))
    srcgrad.check_grad(from_parts, np.array([0.8, -0.3]))
    gx, gy = srcgrad.grad(python_floats, wrt=(0, 1))(0.8, -0.3)
    assert type(gx) is float and type(gy) is float


def test_loop_and_reference_pipeline():
    for optimize in (True, False):
        srcgrad.check_grad(through_loop, POINT, 3, optimize=optimize)
        srcgrad.check_jvp(through_loop, POINT, 3, optimize=optimize)


@pytest.mark.parametrize("fn", [abs_of_complex, real_imag_exp, attributes, angles, functions], ids=lambda f: f.__name__)
def test_second_order(fn):
    x = POINT
    hess = srcgrad.hessian(fn)(x)
    want = np.stack([fd_grad(lambda y: srcgrad.grad(fn)(y)[i], [x], 0) for i in range(x.size)])
    np.testing.assert_allclose(hess, want, rtol=1e-5, atol=1e-6)
    inner = srcgrad.grad(lambda_free_second, wrt=0)
    np.testing.assert_allclose(inner(0.7), fd_grad(lambda y: srcgrad.grad(builtin_abs)(float(y)), [0.7], 0), rtol=1e-5)


def lambda_free_second(x):
    return srcgrad.grad(builtin_abs)(x)


def _complex_inner_product(primal, rule, z, rng):
    """JAX's convention: Re(g * J u) = Re(rule(g) * u) along a complex direction u."""
    u = rng.normal(size=z.shape) + 1j * rng.normal(size=z.shape)
    ans = primal(z)
    g = rng.normal(size=np.shape(ans))
    step = 1e-6
    ju = (primal(z + step * u) - primal(z - step * u)) / (2 * step)
    (bar,) = rule(g, ans, z)
    assert np.real(np.sum(g * ju)) == pytest.approx(np.real(np.sum(bar * u)), rel=1e-6)


@pytest.mark.parametrize("primal, rule, tangent", [
    (cr.complex_abs, cr.complex_abs_vjp, cj.complex_abs_jvp),
    (np.imag, cr.imag_vjp, cj.imag_jvp),
    (np.angle, cr.angle_vjp, cj.angle_jvp),
    (np.real, None, None),
])
def test_rules_directly(primal, rule, tangent):
    from srcgrad.rules import numpy_vjp

    rule = rule or numpy_vjp.real_vjp
    rng = np.random.default_rng(0)
    z = rng.normal(size=4) + 1j * rng.normal(size=4)
    _complex_inner_product(primal, rule, z, rng)
    if tangent is not None:
        u = rng.normal(size=4) + 1j * rng.normal(size=4)
        (term,) = tangent(u, primal(z), z)
        step = 1e-6
        np.testing.assert_allclose(term, (primal(z + step * u) - primal(z - step * u)) / (2 * step), rtol=1e-6)


def test_real_rules_on_real_values():
    srcgrad.tools.testing.check_vjp_rule(np.imag, cr.imag_vjp, np.array([0.5, -2.0]))
    srcgrad.tools.testing.check_jvp_rule(np.angle, cj.angle_jvp, np.array([0.5, -2.0]), vjp=cr.angle_vjp)


def refused_norm(x):
    z = x * 1j
    return np.linalg.norm(z)


def refused_power(x):
    z = x + 1j
    return np.real(z ** x[0])


def refused_output(x):
    return np.sum(x * 1j)


@pytest.mark.parametrize("fn, words", [
    (refused_norm, "`np.linalg.norm` has no derivative rule for complex values"),
    (refused_power, "constant exponent"),
    (refused_output, "grad needs a real-valued function"),
], ids=lambda v: getattr(v, "__name__", ""))
def test_refusals_are_located(fn, words):
    with pytest.raises(srcgrad.NotDifferentiableError) as info:
        srcgrad.grad(fn)(POINT)
    message = str(info.value)
    assert words in message and "test_complex.py:" in message
    if fn is not refused_output:
        assert "is complex from line" in message


def real_program(x):
    return np.sum(np.abs(x) * np.sin(x) + x.real)


def test_real_programs_keep_their_code():
    df = srcgrad.grad(real_program)
    df(np.array([1.0, -2.0]))
    text = srcgrad.source(df)
    assert "complex_abs" not in text and "real_input" not in text and "np.sign(x)" in text
