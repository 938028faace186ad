"""Forward rules of the NumPy elementwise functions and of the arithmetic operators
(numpy_jvp, operators_jvp): against finite differences, against the reverse rules, and at
kinks and ties."""

import operator

import numpy as np
import pytest
from jvp_checks import (
    check_terms,
    jacobians,
    missing_forward_rules,
    template_helpers,
    undifferentiated_helpers,
)

import srcgrad
import srcgrad.rules.numpy_jvp as nj
import srcgrad.rules.numpy_vjp as nr
import srcgrad.rules.operators_jvp as oj
import srcgrad.rules.operators_vjp as op
from srcgrad.rules.registry import Rule, all_jvp_rules, has_jvp_rule, is_nondifferentiable
from srcgrad.tools.testing import check_jvp_rule, check_vjp_rule

RULE_MODULES = (nr.__name__, op.__name__)
JVP_MODULES = (nj.__name__, oj.__name__)
RNG = np.random.default_rng(4321)


def uniform(lo, hi, shape=()):
    """A Python float for shape (), else an array, drawn from [lo, hi]."""
    if shape == ():
        return float(RNG.uniform(lo, hi))
    return RNG.uniform(lo, hi, shape)


def signed(shape=(), lo=0.2, hi=2.0):
    """Values with lo <= |x| <= hi and random signs (away from 0, where kinks are)."""
    values = uniform(lo, hi, shape) * np.where(RNG.random(shape) < 0.5, -1.0, 1.0)
    return float(values) if shape == () else values


def away(x, *points, gap=0.05):
    """`x` with every entry within `gap` of one of `points` moved `2 * gap` up."""
    for p in points:
        x = np.where(np.abs(x - p) < gap, x + 2 * gap, x)
    return x


def mod_pair(s, t):
    """x and y with x / y at least 0.1 away from an integer (where x % y jumps)."""
    while True:
        x, y = uniform(-3, 3, s), signed(t, 0.5, 2.0)
        ratio = np.asarray(x) / np.asarray(y)
        if np.all(np.abs(ratio - np.round(ratio)) > 0.1):
            return x, y


SHAPES = [(), (5,), (3, 4)]
PAIRS = [((), ()), ((5,), (5,)), ((3, 1), (4,)), ((3, 4), ()), ((), (4,))]
MATMUL = [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)), ((5, 2, 3), (3, 4)),
          ((2, 3), (5, 3, 4)), ((5, 1, 2, 3), (4, 3, 2)), ((4, 3), (2, 3, 1))]

UNARY = [  # (primal, forward rule, reverse rule, domain builder of a shape)
    (np.sin, nj.sin_jvp, nr.sin_vjp, lambda s: uniform(-3, 3, s)),
    (np.cos, nj.cos_jvp, nr.cos_vjp, lambda s: uniform(-3, 3, s)),
    (np.tan, nj.tan_jvp, nr.tan_vjp, lambda s: uniform(-1.2, 1.2, s)),
    (np.arcsin, nj.arcsin_jvp, nr.arcsin_vjp, lambda s: uniform(-0.9, 0.9, s)),
    (np.arccos, nj.arccos_jvp, nr.arccos_vjp, lambda s: uniform(-0.9, 0.9, s)),
    (np.arctan, nj.arctan_jvp, nr.arctan_vjp, lambda s: uniform(-3, 3, s)),
    (np.sinh, nj.sinh_jvp, nr.sinh_vjp, lambda s: uniform(-2, 2, s)),
    (np.cosh, nj.cosh_jvp, nr.cosh_vjp, lambda s: uniform(-2, 2, s)),
    (np.tanh, nj.tanh_jvp, nr.tanh_vjp, lambda s: uniform(-2, 2, s)),
    (np.arcsinh, nj.arcsinh_jvp, nr.arcsinh_vjp, lambda s: uniform(-3, 3, s)),
    (np.arccosh, nj.arccosh_jvp, nr.arccosh_vjp, lambda s: uniform(1.2, 3, s)),
    (np.arctanh, nj.arctanh_jvp, nr.arctanh_vjp, lambda s: uniform(-0.9, 0.9, s)),
    (np.sinc, nj.sinc_jvp, nr.sinc_vjp, lambda s: signed(s, 0.05, 2.5)),
    (np.deg2rad, nj.deg2rad_jvp, nr.deg2rad_vjp, lambda s: uniform(-90, 90, s)),
    (np.radians, nj.deg2rad_jvp, nr.deg2rad_vjp, lambda s: uniform(-90, 90, s)),
    (np.rad2deg, nj.rad2deg_jvp, nr.rad2deg_vjp, lambda s: uniform(-2, 2, s)),
    (np.degrees, nj.rad2deg_jvp, nr.rad2deg_vjp, lambda s: uniform(-2, 2, s)),
    (np.exp, nj.exp_jvp, nr.exp_vjp, lambda s: uniform(-2, 2, s)),
    (np.expm1, nj.expm1_jvp, nr.expm1_vjp, lambda s: uniform(-2, 2, s)),
    (np.exp2, nj.exp2_jvp, nr.exp2_vjp, lambda s: uniform(-2, 2, s)),
    (np.log, nj.log_jvp, nr.log_vjp, lambda s: uniform(0.3, 3, s)),
    (np.log1p, nj.log1p_jvp, nr.log1p_vjp, lambda s: uniform(-0.5, 3, s)),
    (np.log2, nj.log2_jvp, nr.log2_vjp, lambda s: uniform(0.3, 3, s)),
    (np.log10, nj.log10_jvp, nr.log10_vjp, lambda s: uniform(0.3, 3, s)),
    (np.sqrt, nj.sqrt_jvp, nr.sqrt_vjp, lambda s: uniform(0.3, 3, s)),
    (np.cbrt, nj.cbrt_jvp, nr.cbrt_vjp, lambda s: signed(s, 0.3, 3)),
    (np.square, nj.square_jvp, nr.square_vjp, lambda s: uniform(-2, 2, s)),
    (np.reciprocal, nj.reciprocal_jvp, nr.reciprocal_vjp, lambda s: signed(s, 0.3, 3)),
    (np.absolute, nj.absolute_jvp, nr.absolute_vjp, lambda s: signed(s)),
    (np.fabs, nj.absolute_jvp, nr.absolute_vjp, lambda s: signed(s)),
    (np.real, nj.real_jvp, nr.real_vjp, lambda s: uniform(-2, 2, s)),
    (np.conjugate, nj.conjugate_jvp, nr.conjugate_vjp, lambda s: uniform(-2, 2, s)),
    (np.negative, oj.negative_jvp, op.negative_vjp, lambda s: uniform(-2, 2, s)),
    (operator.neg, oj.negative_jvp, op.negative_vjp, lambda s: uniform(-2, 2, s)),
    (np.positive, oj.positive_jvp, op.positive_vjp, lambda s: uniform(-2, 2, s)),
    (operator.pos, oj.positive_jvp, op.positive_vjp, lambda s: uniform(-2, 2, s)),
]

BINARY = [  # (primal, forward rule, reverse rule, builder of the pair of arguments for two shapes)
    (np.maximum, nj.maximum_jvp, nr.maximum_vjp, lambda s, t: (uniform(-2, 2, s), uniform(-2, 2, t))),
    (np.minimum, nj.minimum_jvp, nr.minimum_vjp, lambda s, t: (uniform(-2, 2, s), uniform(-2, 2, t))),
    (np.fmax, nj.fmax_jvp, nr.fmax_vjp, lambda s, t: (uniform(-2, 2, s), uniform(-2, 2, t))),
    (np.fmin, nj.fmin_jvp, nr.fmin_vjp, lambda s, t: (uniform(-2, 2, s), uniform(-2, 2, t))),
    (np.arctan2, nj.arctan2_jvp, nr.arctan2_vjp, lambda s, t: (signed(s), signed(t))),
    (np.hypot, nj.hypot_jvp, nr.hypot_vjp, lambda s, t: (signed(s), signed(t))),
    (np.logaddexp, nj.logaddexp_jvp, nr.logaddexp_vjp, lambda s, t: (uniform(-3, 3, s), uniform(-3, 3, t))),
    (np.logaddexp2, nj.logaddexp2_jvp, nr.logaddexp2_vjp, lambda s, t: (uniform(-3, 3, s), uniform(-3, 3, t))),
    (np.float_power, nj.float_power_jvp, nr.float_power_vjp, lambda s, t: (uniform(0.5, 2, s), uniform(-2, 2, t))),
    (np.copysign, nj.copysign_jvp, nr.copysign_vjp, lambda s, t: (signed(s), signed(t))),
    (np.add, oj.add_jvp, op.add_vjp, lambda s, t: (uniform(-2, 2, s), uniform(-2, 2, t))),
    (operator.add, oj.add_jvp, op.add_vjp, lambda s, t: (uniform(-2, 2, s), uniform(-2, 2, t))),
    (np.subtract, oj.subtract_jvp, op.subtract_vjp, lambda s, t: (uniform(-2, 2, s), uniform(-2, 2, t))),
    (operator.sub, oj.subtract_jvp, op.subtract_vjp, lambda s, t: (uniform(-2, 2, s), uniform(-2, 2, t))),
    (np.multiply, oj.multiply_jvp, op.multiply_vjp, lambda s, t: (uniform(-2, 2, s), uniform(-2, 2, t))),
    (operator.mul, oj.multiply_jvp, op.multiply_vjp, lambda s, t: (uniform(-2, 2, s), uniform(-2, 2, t))),
    (np.divide, oj.divide_jvp, op.divide_vjp, lambda s, t: (uniform(-2, 2, s), signed(t, 0.3, 2.0))),
    (np.true_divide, oj.divide_jvp, op.divide_vjp, lambda s, t: (uniform(-2, 2, s), signed(t, 0.3, 2.0))),
    (operator.truediv, oj.divide_jvp, op.divide_vjp, lambda s, t: (uniform(-2, 2, s), signed(t, 0.3, 2.0))),
    (np.power, oj.power_jvp, op.power_vjp, lambda s, t: (uniform(0.5, 2, s), uniform(-2, 2, t))),
    (operator.pow, oj.power_jvp, op.power_vjp, lambda s, t: (uniform(0.5, 2, s), uniform(-2, 2, t))),
    (np.mod, oj.mod_jvp, op.mod_vjp, mod_pair),
    (np.remainder, oj.mod_jvp, op.mod_vjp, mod_pair),
    (operator.mod, oj.mod_jvp, op.mod_vjp, mod_pair),
    (nr.div0, nj.div0_jvp, nj.div0_vjp, lambda s, t: (uniform(-2, 2, s), signed(t, 0.3, 2.0))),
    (nr.sinc_derivative, nj.sinc_derivative_jvp, nj.sinc_derivative_vjp, lambda s, t: (signed(s, 0.05, 2.5), uniform(-1, 1, t))),
]


def _cases():
    for primal, jvp, vjp, build in UNARY:
        for shape in SHAPES:
            yield f"{primal.__name__}-{shape}", primal, jvp, vjp, lambda b=build, s=shape: (b(s),), {}
    for primal, jvp, vjp, build in BINARY:
        for s, t in PAIRS:
            yield f"{primal.__name__}-{s}-{t}", primal, jvp, vjp, lambda b=build, s=s, t=t: b(s, t), {}
    for s, t in MATMUL:
        for primal in (np.matmul, operator.matmul):
            yield f"{primal.__name__}-{s}-{t}", primal, oj.matmul_jvp, op.matmul_vjp, lambda s=s, t=t: (uniform(-1, 1, s), uniform(-1, 1, t)), {}
        for which in (0, 1):
            yield (f"unbroadcast_matmul-{which}-{s}-{t}", op.unbroadcast_matmul, oj.unbroadcast_matmul_jvp, oj.unbroadcast_matmul_vjp,
                   lambda s=s, t=t, which=which: (uniform(-1, 1, np.matmul(np.ones(s), np.ones(t)).shape), uniform(-1, 1, s), uniform(-1, 1, t), which), {})
    yield from OTHER


def clip_cotangent_point(x, a_min, a_max, which):
    return lambda: (uniform(-1, 1, np.shape(np.clip(x, a_min, a_max))), x, a_min, a_max, which)


OTHER = [
    ("heaviside", np.heaviside, nj.heaviside_jvp, nr.heaviside_vjp, lambda: (np.array([-1.0, 0.0, 2.0, 0.0]), uniform(0, 1, (4,))), {}),
    ("heaviside-scalar-h0", np.heaviside, nj.heaviside_jvp, nr.heaviside_vjp, lambda: (np.array([[0.0], [1.0]]), 0.5), {}),
    ("where", np.where, nj.where_jvp, nr.where_vjp, lambda: (RNG.random((3, 4)) < 0.5, uniform(-1, 1, (3, 4)), uniform(-1, 1, (3, 4))), {}),
    ("where-broadcast", np.where, nj.where_jvp, nr.where_vjp, lambda: (RNG.random((3, 1)) < 0.5, uniform(-1, 1, (4,)), 0.5), {}),
    ("where-scalars", np.where, nj.where_jvp, nr.where_vjp, lambda: (True, 1.5, -0.5), {}),
    ("clip-floats", np.clip, nj.clip_jvp, nr.clip_vjp, lambda: (away(uniform(-2, 2, (3, 4)), -0.5, 0.7), -0.5, 0.7), {}),
    ("clip-scalar", np.clip, nj.clip_jvp, nr.clip_vjp, lambda: (1.3, -0.5, 0.7), {}),
    ("clip-crossed-bounds", np.clip, nj.clip_jvp, nr.clip_vjp, lambda: (uniform(-2, 2, (6,)), 1.0, -1.0), {}),
    ("clip-broadcast-bounds", np.clip, nj.clip_jvp, nr.clip_vjp,
     lambda: (away(uniform(-2, 2, (3, 4)), -0.6, -0.1, 0.4, 0.9), np.array([[-0.6], [-0.1], [0.4]]), 0.9), {}),
    ("clip-wide-bounds", np.clip, nj.clip_jvp, nr.clip_vjp,
     lambda: (away(uniform(-2, 2, (4,)), -0.5, 0.5), np.array([[-0.5], [-0.5]]), 0.5), {}),
    ("full", np.full, nj.full_jvp, nr.full_vjp, lambda: ((3, 4), 1.5), {}),
    ("full-row", np.full, nj.full_jvp, nr.full_vjp, lambda: ((3, 4), uniform(-1, 1, (4,))), {}),
    ("full_like", np.full_like, nj.full_like_jvp, nr.full_like_vjp, lambda: (np.zeros((3, 4)), uniform(-1, 1, (3, 1))), {}),
    ("linspace", np.linspace, nj.linspace_jvp, nr.linspace_vjp, lambda: (0.5, 2.0), {"num": 7}),
    ("linspace-open", np.linspace, nj.linspace_jvp, nr.linspace_vjp, lambda: (0.5, 2.0, 4, False), {}),
    ("linspace-one", np.linspace, nj.linspace_jvp, nr.linspace_vjp, lambda: (0.5, 2.0), {"num": 1}),
    ("linspace-arrays", np.linspace, nj.linspace_jvp, nr.linspace_vjp, lambda: (uniform(-1, 1, (3,)), uniform(1, 2, (2, 1))), {"num": 5}),
    ("clip_cotangent-x", nr.clip_cotangent, nj.clip_cotangent_jvp, nj.clip_cotangent_vjp,
     clip_cotangent_point(np.array([-1.0, 0.0, 0.5, 1.0, 2.0]), 0.0, 1.0, 0), {}),
    ("clip_cotangent-min", nr.clip_cotangent, nj.clip_cotangent_jvp, nj.clip_cotangent_vjp,
     clip_cotangent_point(np.array([-1.0, 0.0, 0.5, 1.0, 2.0]), np.array([[0.0], [0.7]]), 1.0, 1), {}),
    ("clip_cotangent-max", nr.clip_cotangent, nj.clip_cotangent_jvp, nj.clip_cotangent_vjp,
     clip_cotangent_point(np.array([[-1.0, 0.0, 0.5], [1.0, 2.0, 0.2]]), -0.5, np.array([0.3, 1.0, 0.4]), 2), {}),
]

CASES = list(_cases())


@pytest.mark.parametrize("primal, jvp, vjp, build, kwargs", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_rule_against_finite_differences_and_reverse(primal, jvp, vjp, build, kwargs):
    check_jvp_rule(primal, jvp, *build(), vjp=vjp, **kwargs)


@pytest.mark.parametrize("args, positions", [
    ((away(uniform(-2, 2, (6,)), 0.7), None, 0.7), [0, 2]),
    ((away(uniform(-2, 2, (6,)), -0.5), -0.5, None), [0, 1]),
    ((1.3, None, 0.7), [0, 2]),
])
def test_clip_with_a_missing_bound(args, positions):
    check_terms(np.clip, nj.clip_jvp, *args, positions=positions, vjp=nr.clip_vjp)


@pytest.mark.parametrize("x, y", [(-2.0, 3.0), (np.array([-1.5, 2.0, -0.5]), 2.0), (np.array([[-2.0], [3.0]]), np.array([2.0, 3.0]))])
def test_power_of_a_negative_base(x, y):
    """Only the base moves (the exponent must stay an integer); the slope in y is 0 where x <= 0."""
    for primal, jvp, vjp in ((np.power, oj.power_jvp, op.power_vjp), (np.float_power, nj.float_power_jvp, nr.float_power_vjp)):
        check_terms(primal, jvp, x, y, positions=[0], vjp=vjp)
        slope = jacobians(primal, jvp, vjp, x, y, position=1)
        assert np.all(slope[np.ravel(np.broadcast_to(x, np.shape(primal(x, y)))) <= 0] == 0.0)


# ---- kinks and ties: the forward rules make the reverse rules' choices --------------------
def test_maximum_minimum_split_ties_evenly():
    x = np.array([1.0, 2.0, 3.0])
    y = np.array([1.0, 5.0, 3.0])
    for primal, jvp, vjp in ((np.maximum, nj.maximum_jvp, nr.maximum_vjp), (np.fmax, nj.fmax_jvp, nr.fmax_vjp)):
        np.testing.assert_array_equal(jacobians(primal, jvp, vjp, x, y, position=0), np.diag([0.5, 0.0, 0.5]))
        np.testing.assert_array_equal(jacobians(primal, jvp, vjp, x, y, position=1), np.diag([0.5, 1.0, 0.5]))
    for primal, jvp, vjp in ((np.minimum, nj.minimum_jvp, nr.minimum_vjp), (np.fmin, nj.fmin_jvp, nr.fmin_vjp)):
        np.testing.assert_array_equal(jacobians(primal, jvp, vjp, x, y, position=0), np.diag([0.5, 1.0, 0.5]))
        np.testing.assert_array_equal(jacobians(primal, jvp, vjp, x, y, position=1), np.diag([0.5, 0.0, 0.5]))
    assert jacobians(np.maximum, nj.maximum_jvp, nr.maximum_vjp, 2.0, 2.0, position=1) == 0.5
    # a scalar tied with a row: the scalar collects half of every tie
    np.testing.assert_array_equal(jacobians(np.maximum, nj.maximum_jvp, nr.maximum_vjp, 2.0, np.array([2.0, 1.0, 2.0]), position=0),
                                  [[0.5], [1.0], [0.5]])


def test_fmax_fmin_pass_the_tangent_past_nan():
    x = np.array([np.nan, 1.0])
    y = np.array([2.0, np.nan])
    for primal, jvp, vjp in ((np.fmax, nj.fmax_jvp, nr.fmax_vjp), (np.fmin, nj.fmin_jvp, nr.fmin_vjp)):
        np.testing.assert_array_equal(jacobians(primal, jvp, vjp, x, y, position=0), np.diag([0.0, 1.0]))
        np.testing.assert_array_equal(jacobians(primal, jvp, vjp, x, y, position=1), np.diag([1.0, 0.0]))


def test_clip_gives_x_its_tangent_at_the_bounds():
    x = np.array([-1.0, 0.0, 0.5, 1.0, 2.0])
    args = (x, 0.0, 1.0)
    np.testing.assert_array_equal(jacobians(np.clip, nj.clip_jvp, nr.clip_vjp, *args, position=0), np.diag([0.0, 1.0, 1.0, 1.0, 0.0]))
    np.testing.assert_array_equal(jacobians(np.clip, nj.clip_jvp, nr.clip_vjp, *args, position=1), [[1.0], [0], [0], [0], [0]])
    np.testing.assert_array_equal(jacobians(np.clip, nj.clip_jvp, nr.clip_vjp, *args, position=2), [[0.0], [0], [0], [0], [1]])
    # crossed bounds: a_max wins everywhere, as in NumPy
    crossed = (np.array([-2.0, 0.0, 2.0]), 1.0, -1.0)
    np.testing.assert_array_equal(jacobians(np.clip, nj.clip_jvp, nr.clip_vjp, *crossed, position=2), [[1.0], [1.0], [1.0]])
    np.testing.assert_array_equal(jacobians(np.clip, nj.clip_jvp, nr.clip_vjp, *crossed, position=1), [[0.0], [0.0], [0.0]])


def test_zero_slope_at_kinks():
    zero = np.array([0.0, -0.0, 1.0])
    np.testing.assert_array_equal(jacobians(np.absolute, nj.absolute_jvp, nr.absolute_vjp, zero, position=0), np.diag([0.0, 0.0, 1.0]))
    for position in (0, 1):
        assert jacobians(np.hypot, nj.hypot_jvp, nr.hypot_vjp, 0.0, 0.0, position=position) == 0.0
    assert jacobians(np.sinc, nj.sinc_jvp, nr.sinc_vjp, 0.0, position=0) == 0.0
    signs = jacobians(np.copysign, nj.copysign_jvp, nr.copysign_vjp, np.array([0.0, -0.0, 0.0]), np.array([1.0, 1.0, -0.0]), position=0)
    np.testing.assert_array_equal(signs, np.diag([1.0, -1.0, -1.0]))
    x = np.array([-1.0, 0.0, 2.0])
    np.testing.assert_array_equal(jacobians(np.heaviside, nj.heaviside_jvp, nr.heaviside_vjp, x, 0.5, position=1), [[0.0], [1.0], [0.0]])
    np.testing.assert_array_equal(jacobians(nr.div0, nj.div0_jvp, nj.div0_vjp, np.array([1.0, 2.0]), np.array([0.0, 4.0]), position=1),
                                  np.diag([0.0, -2.0 / 16.0]))


def test_second_derivative_of_sinc_at_zero():
    """d/dx sinc_derivative(x, sinc(x)) at 0 is sinc''(0) = -pi**2 / 3, forward and reverse."""
    slope_x = jacobians(nr.sinc_derivative, nj.sinc_derivative_jvp, nj.sinc_derivative_vjp, 0.0, 1.0, position=0)
    slope_s = jacobians(nr.sinc_derivative, nj.sinc_derivative_jvp, nj.sinc_derivative_vjp, 0.0, 1.0, position=1)
    assert (slope_x, slope_s) == (-np.pi**2 / 3, 0.0)
    for x in (0.0, 0.3, -1.1):
        h = 1e-4
        fd = (nr.sinc_derivative(x + h, np.sinc(x + h)) - nr.sinc_derivative(x - h, np.sinc(x - h))) / (2 * h)
        ans = nr.sinc_derivative(x, np.sinc(x))  # also the tangent of s = sinc(x) along dx = 1
        terms = Rule(nr.sinc_derivative, nj.sinc_derivative_jvp).terms()
        total = terms[0](1.0, ans, x, np.sinc(x)) + terms[1](ans, ans, x, np.sinc(x))
        assert total == pytest.approx(fd, rel=1e-6, abs=1e-8)


def test_unbroadcast_matmul_rules_against_finite_differences():
    for s, t in MATMUL[:4]:
        h = uniform(-1, 1, np.matmul(np.ones(s), np.ones(t)).shape)
        for which in (0, 1):
            check_vjp_rule(op.unbroadcast_matmul, oj.unbroadcast_matmul_vjp, h, uniform(-1, 1, s), uniform(-1, 1, t), which)


# ---- coverage ---------------------------------------------------------------------------
def test_every_reverse_rule_has_a_forward_rule_of_the_same_arity():
    assert missing_forward_rules(RULE_MODULES + JVP_MODULES) == []


def test_every_rule_is_in_the_table():
    tested = {c[2] for c in CASES} | {nj.clip_jvp}
    ours = {r.fn for rules in all_jvp_rules().values() for r in rules if r.fn.__module__ in JVP_MODULES}
    assert len(ours) > 50
    assert ours - tested == set()


def test_every_forward_rule_has_one_term_per_argument():
    for rules in all_jvp_rules().values():
        for rule in rules:
            if rule.fn.__module__ in JVP_MODULES:
                assert rule.inline and len(rule.terms()) == len(rule.primal_params), rule.fn.__name__


@pytest.mark.parametrize("primal", [np.sin, np.exp, np.clip, np.where, np.fmin, np.linspace, np.matmul, np.add,
                                    np.mod, np.negative, np.power])
def test_rules_are_registered(primal):
    assert has_jvp_rule(primal)


def test_template_helpers_are_nondifferentiable_or_have_both_rules():
    helpers = template_helpers(RULE_MODULES + JVP_MODULES)
    for name in ("unbroadcast_matmul", "div0", "max_share", "fmax_share", "sinc_derivative", "clip_cotangent",
                 "clip_source", "linspace_fraction"):
        assert any(key.endswith("." + name) for key in helpers), name
    assert undifferentiated_helpers(helpers) == []
    for fn in (nr.max_share, nr.fmax_share, nr.clip_source, nr.linspace_fraction):
        assert is_nondifferentiable(fn)


# ---- the helpers' reverse rules inline into generated derivative code ---------------------
def _calls_numpy_helpers(x, y):
    a = nr.div0(x, y) + nr.sinc_derivative(x, np.sinc(x)) + nr.clip_cotangent(x * y, x, -0.5, 0.5, 0)
    return np.sum(a * nr.clip_cotangent(y, x, y - 1.0, 0.9, 1))


def _calls_unbroadcast_matmul(x, y, h):
    return np.sum(op.unbroadcast_matmul(h, x, y, 0) * x) + np.sum(op.unbroadcast_matmul(2.0 * h, x, y, 1) ** 2)


def test_helper_rules_inline_into_generated_derivatives():
    srcgrad.check_grad(_calls_numpy_helpers, np.array([0.3, -0.7, 1.2, 0.1]), np.array([0.8, 1.5, -0.4, 0.6]), wrt=(0, 1))
    for s, t in MATMUL[:5]:
        x, y = uniform(-1, 1, s), uniform(-1, 1, t)
        srcgrad.check_grad(_calls_unbroadcast_matmul, x, y, uniform(-1, 1, np.shape(x @ y)), wrt=(0, 1, 2))
