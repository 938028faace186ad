"""The NumPy elementwise and reduction rules, checked one by one against finite differences."""

import numpy as np
import pytest

import srcgrad.rules.numpy_vjp as nr
import srcgrad.rules.reduction_vjp as rr
from srcgrad.rules.registry import all_rules, is_nondifferentiable
from srcgrad.tools.testing import check_vjp_rule

RULE_MODULES = ("srcgrad.rules.numpy_vjp", "srcgrad.rules.reduction_vjp")
RNG = np.random.default_rng(1234)


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


def distinct(shape):
    """A random permutation of well separated values (no ties for max, min, sort)."""
    return RNG.permutation(np.arange(np.prod(shape), dtype=float) * 0.37 - 1.3).reshape(shape)


def with_nan(shape):
    x = RNG.standard_normal(shape)
    x.flat[1] = np.nan
    return x


SHAPES = [(), (5,), (3, 4)]
PAIRS = [((), ()), ((5,), (5,)), ((3, 1), (4,)), ((3, 4), ()), ((), (4,))]
REDUCE = [((), {}), ((5,), {}), ((5,), {"axis": 0}), ((3, 4), {"axis": -1, "keepdims": True}),
          ((2, 3, 4), {}), ((2, 3, 4), {"axis": 0}), ((2, 3, 4), {"axis": -1}),
          ((2, 3, 4), {"axis": (0, 2)}), ((2, 3, 4), {"axis": (0, 2), "keepdims": True}),
          ((2, 3, 4), {"keepdims": True})]

UNARY = [  # (primal, rule, domain builder of a shape)
    (np.sin, nr.sin_vjp, lambda s: uniform(-3, 3, s)),
    (np.cos, nr.cos_vjp, lambda s: uniform(-3, 3, s)),
    (np.tan, nr.tan_vjp, lambda s: uniform(-1.2, 1.2, s)),
    (np.arcsin, nr.arcsin_vjp, lambda s: uniform(-0.9, 0.9, s)),
    (np.arccos, nr.arccos_vjp, lambda s: uniform(-0.9, 0.9, s)),
    (np.arctan, nr.arctan_vjp, lambda s: uniform(-3, 3, s)),
    (np.sinh, nr.sinh_vjp, lambda s: uniform(-2, 2, s)),
    (np.cosh, nr.cosh_vjp, lambda s: uniform(-2, 2, s)),
    (np.tanh, nr.tanh_vjp, lambda s: uniform(-2, 2, s)),
    (np.arcsinh, nr.arcsinh_vjp, lambda s: uniform(-3, 3, s)),
    (np.arccosh, nr.arccosh_vjp, lambda s: uniform(1.2, 3, s)),
    (np.arctanh, nr.arctanh_vjp, lambda s: uniform(-0.9, 0.9, s)),
    (np.sinc, nr.sinc_vjp, lambda s: signed(s, 0.05, 2.5)),
    (np.deg2rad, nr.deg2rad_vjp, lambda s: uniform(-90, 90, s)),
    (np.radians, nr.deg2rad_vjp, lambda s: uniform(-90, 90, s)),
    (np.rad2deg, nr.rad2deg_vjp, lambda s: uniform(-2, 2, s)),
    (np.degrees, nr.rad2deg_vjp, lambda s: uniform(-2, 2, s)),
    (np.exp, nr.exp_vjp, lambda s: uniform(-2, 2, s)),
    (np.expm1, nr.expm1_vjp, lambda s: uniform(-2, 2, s)),
    (np.exp2, nr.exp2_vjp, lambda s: uniform(-2, 2, s)),
    (np.log, nr.log_vjp, lambda s: uniform(0.3, 3, s)),
    (np.log1p, nr.log1p_vjp, lambda s: uniform(-0.5, 3, s)),
    (np.log2, nr.log2_vjp, lambda s: uniform(0.3, 3, s)),
    (np.log10, nr.log10_vjp, lambda s: uniform(0.3, 3, s)),
    (np.sqrt, nr.sqrt_vjp, lambda s: uniform(0.3, 3, s)),
    (np.cbrt, nr.cbrt_vjp, lambda s: signed(s, 0.3, 3)),
    (np.square, nr.square_vjp, lambda s: uniform(-2, 2, s)),
    (np.reciprocal, nr.reciprocal_vjp, lambda s: signed(s, 0.3, 3)),
    (np.absolute, nr.absolute_vjp, lambda s: signed(s)),
    (np.fabs, nr.absolute_vjp, lambda s: signed(s)),
    (np.real, nr.real_vjp, lambda s: uniform(-2, 2, s)),
    (np.conjugate, nr.conjugate_vjp, lambda s: uniform(-2, 2, s)),
]

BINARY = [  # (primal, rule, builder of the pair of arguments for two shapes)
    (np.maximum, nr.maximum_vjp, lambda s, t: (uniform(-2, 2, s), uniform(-2, 2, t))),
    (np.minimum, nr.minimum_vjp, lambda s, t: (uniform(-2, 2, s), uniform(-2, 2, t))),
    (np.fmax, nr.fmax_vjp, lambda s, t: (uniform(-2, 2, s), uniform(-2, 2, t))),
    (np.fmin, nr.fmin_vjp, lambda s, t: (uniform(-2, 2, s), uniform(-2, 2, t))),
    (np.arctan2, nr.arctan2_vjp, lambda s, t: (signed(s), signed(t))),
    (np.hypot, nr.hypot_vjp, lambda s, t: (signed(s), signed(t))),
    (np.logaddexp, nr.logaddexp_vjp, lambda s, t: (uniform(-3, 3, s), uniform(-3, 3, t))),
    (np.logaddexp2, nr.logaddexp2_vjp, lambda s, t: (uniform(-3, 3, s), uniform(-3, 3, t))),
    (np.float_power, nr.float_power_vjp, lambda s, t: (uniform(0.5, 2, s), uniform(-2, 2, t))),
    (np.copysign, nr.copysign_vjp, lambda s, t: (signed(s), signed(t))),
]


def _cases():
    for primal, rule, build in UNARY:
        for shape in SHAPES:
            yield f"{primal.__name__}-{shape}", primal, rule, lambda b=build, s=shape: (b(s),), {}
    for primal, rule, build in BINARY:
        for s, t in PAIRS:
            yield f"{primal.__name__}-{s}-{t}", primal, rule, lambda b=build, s=s, t=t: b(s, t), {}
    yield from OTHER


OTHER = [
    ("heaviside", np.heaviside, nr.heaviside_vjp, lambda: (np.array([-1.0, 0.0, 2.0, 0.0]), uniform(0, 1, (4,))), {}),
    ("heaviside-scalar-h0", np.heaviside, nr.heaviside_vjp, lambda: (np.array([[0.0], [1.0]]), 0.5), {}),
    ("where", np.where, nr.where_vjp, lambda: (RNG.random((3, 4)) < 0.5, uniform(-1, 1, (3, 4)), uniform(-1, 1, (3, 4))), {}),
    ("where-broadcast", np.where, nr.where_vjp, lambda: (RNG.random((3, 1)) < 0.5, uniform(-1, 1, (4,)), 0.5), {}),
    ("where-scalars", np.where, nr.where_vjp, lambda: (True, 1.5, -0.5), {}),
    ("clip-floats", np.clip, nr.clip_vjp, lambda: (away(uniform(-2, 2, (3, 4)), -0.5, 0.7), -0.5, 0.7), {}),
    ("clip-scalar", np.clip, nr.clip_vjp, lambda: (1.3, -0.5, 0.7), {}),
    ("clip-no-min", np.clip, nr.clip_vjp, lambda: (away(uniform(-2, 2, (6,)), 0.7), None, 0.7), {}),
    ("clip-no-max", np.clip, nr.clip_vjp, lambda: (away(uniform(-2, 2, (6,)), -0.5), -0.5, None), {}),
    ("clip-crossed-bounds", np.clip, nr.clip_vjp, lambda: (uniform(-2, 2, (6,)), 1.0, -1.0), {}),
    ("clip-broadcast-bounds", np.clip, nr.clip_vjp,
     lambda: (away(uniform(-2, 2, (3, 4)), -0.6, -0.1, 0.4, 0.9), np.array([[-0.6], [-0.1], [0.4]]), 0.9), {}),
    ("clip-wide-bounds", np.clip, nr.clip_vjp,
     lambda: (away(uniform(-2, 2, (4,)), -0.5, 0.5), np.array([[-0.5], [-0.5]]), 0.5), {}),
    ("full", np.full, nr.full_vjp, lambda: ((3, 4), 1.5), {}),
    ("full-row", np.full, nr.full_vjp, lambda: ((3, 4), uniform(-1, 1, (4,))), {}),
    ("full_like", np.full_like, nr.full_like_vjp, lambda: (np.zeros((3, 4)), uniform(-1, 1, (3, 1))), {}),
    ("linspace", np.linspace, nr.linspace_vjp, lambda: (0.5, 2.0), {"num": 7}),
    ("linspace-open", np.linspace, nr.linspace_vjp, lambda: (0.5, 2.0, 4, False), {}),
    ("linspace-one", np.linspace, nr.linspace_vjp, lambda: (0.5, 2.0), {"num": 1}),
    ("linspace-arrays", np.linspace, nr.linspace_vjp, lambda: (uniform(-1, 1, (3,)), uniform(1, 2, (2, 1))), {"num": 5}),
    ("sort-last", np.sort, rr.sort_vjp, lambda: (distinct((3, 4)),), {}),
    ("sort-0", np.sort, rr.sort_vjp, lambda: (distinct((3, 4)),), {"axis": 0}),
    ("sort-flat", np.sort, rr.sort_vjp, lambda: (distinct((3, 4)),), {"axis": None}),
    ("cumsum-flat", np.cumsum, rr.cumsum_vjp, lambda: (uniform(-1, 1, (3, 4)),), {}),
    ("cumsum-float", np.cumsum, rr.cumsum_vjp, lambda: (0.7,), {}),
    ("cumsum-0", np.cumsum, rr.cumsum_vjp, lambda: (uniform(-1, 1, (3, 4)),), {"axis": 0}),
    ("cumsum--1", np.cumsum, rr.cumsum_vjp, lambda: (uniform(-1, 1, (2, 3, 4)),), {"axis": -1}),
    ("prod-one-zero", np.prod, rr.prod_vjp, lambda: (np.array([1.5, 0.0, -2.0, 0.7]),), {}),
    ("prod-one-zero-axis", np.prod, rr.prod_vjp, lambda: (np.array([[1.5, 0.0, -2.0], [0.7, 1.2, 0.0]]),), {"axis": 1}),
    ("prod-two-zeros", np.prod, rr.prod_vjp, lambda: (np.array([[1.5, 0.0, 0.0], [0.7, 1.2, 0.0]]),), {"axis": -1}),
    ("var-ddof", np.var, rr.var_vjp, lambda: (uniform(-1, 1, (3, 4)),), {"axis": 0, "ddof": 1}),
    ("std-ddof", np.std, rr.std_vjp, lambda: (uniform(-1, 1, (3, 4)),), {"axis": 1, "ddof": 1}),
    ("std-ddof-keepdims", np.std, rr.std_vjp, lambda: (uniform(-1, 1, (2, 3, 4)),), {"axis": (0, 2), "ddof": 1, "keepdims": True}),
    ("nansum", np.nansum, rr.nansum_vjp, lambda: (with_nan((3, 4)),), {"axis": 0}),
    ("nanmean", np.nanmean, rr.nanmean_vjp, lambda: (with_nan((3, 4)),), {"axis": 0}),
    ("nanmean-all", np.nanmean, rr.nanmean_vjp, lambda: (with_nan((2, 3, 4)),), {"keepdims": True}),
]

NORMS = [  # (shape, kwargs, builder)
    ((), {}, signed), ((5,), {}, signed), ((3, 4), {}, signed), ((2, 3, 4), {}, signed),
    ((5,), {"ord": 2}, signed), ((5,), {"ord": 1}, signed), ((5,), {"ord": 3}, signed),
    ((5,), {"ord": 1.5}, signed), ((5,), {"ord": -2}, signed), ((5,), {"ord": 0}, signed),
    ((5,), {"ord": np.inf}, distinct), ((5,), {"ord": -np.inf}, distinct),
    ((3, 4), {"ord": "fro"}, signed), ((3, 4), {"axis": 1}, signed),
    ((3, 4), {"axis": 0, "ord": 1, "keepdims": True}, signed), ((3, 4), {"axis": -1, "ord": np.inf}, distinct),
    ((2, 3, 4), {"axis": (0, 2)}, signed), ((2, 3, 4), {"axis": (0, 2), "ord": "fro", "keepdims": True}, signed),
    ((2, 3, 4), {"keepdims": True}, signed),
]
REDUCTIONS = [  # (primal, rule, builder of a shape)
    (np.sum, rr.sum_vjp, lambda s: uniform(-1, 1, s)),
    (np.nansum, rr.nansum_vjp, lambda s: uniform(-1, 1, s)),
    (np.mean, rr.mean_vjp, lambda s: uniform(-1, 1, s)),
    (np.nanmean, rr.nanmean_vjp, lambda s: uniform(-1, 1, s)),
    (np.average, rr.average_vjp, lambda s: uniform(-1, 1, s)),
    (np.prod, rr.prod_vjp, lambda s: signed(s, 0.7, 1.3)),
    (np.max, rr.extremum_vjp, distinct),
    (np.amax, rr.extremum_vjp, distinct),
    (np.min, rr.extremum_vjp, distinct),
    (np.amin, rr.extremum_vjp, distinct),
    (np.ptp, rr.ptp_vjp, distinct),
    (np.var, rr.var_vjp, lambda s: uniform(-1, 1, s)),
    (np.std, rr.std_vjp, lambda s: uniform(-1, 1, s)),
]
for _primal, _rule, _build in REDUCTIONS:
    for _shape, _kwargs in REDUCE:
        if _shape == () and _primal in (np.std, np.ptp):
            continue  # a single value: std and ptp are 0 and have a kink there
        _x = (lambda b=_build, s=_shape: (float(b((1,))[0]) if s == () else b(s),))
        OTHER.append((f"{_primal.__name__}-{_shape}-{_kwargs}", _primal, _rule, _x, _kwargs))
for _shape, _kwargs, _build in NORMS:
    _x = (lambda b=_build, s=_shape: (float(b((1,))[0]) if s == () else b(s),))
    OTHER.append((f"norm-{_shape}-{_kwargs}", np.linalg.norm, rr.norm_vjp, _x, _kwargs))

CASES = list(_cases())


@pytest.mark.parametrize("primal, rule, build, kwargs", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_rule_against_finite_differences(primal, rule, build, kwargs):
    check_vjp_rule(primal, rule, *build(), **kwargs)


def test_every_rule_is_in_the_table():
    tested = {c[2] for c in CASES}
    registered = {r.fn for rules in all_rules().values() for r in rules if r.fn.__module__ in RULE_MODULES}
    assert registered - tested == set()


def test_every_rule_has_a_parseable_template():
    count = 0
    for rules in all_rules().values():
        for r in rules:
            if r.inline and r.fn.__module__ in RULE_MODULES:
                r.template()
                count += 1
    assert count > 50


@pytest.mark.parametrize("primal", [np.sin, np.exp, np.sum, np.max, np.amin, np.linalg.norm, np.clip, np.where, np.fmin])
def test_rules_are_registered(primal):
    assert primal in all_rules()


@pytest.mark.parametrize("primal", [np.sign, np.floor, np.round, np.around, np.isnan, np.argmax, np.argsort,
                                    np.zeros_like, np.arange, np.greater, np.logical_and, np.all, np.shape])
def test_nondifferentiable_functions(primal):
    assert is_nondifferentiable(primal)


# ---- conventions at ties and kinks, against their closed forms ----------------------------
def test_maximum_minimum_split_ties_evenly():
    x = np.array([1.0, 2.0, 3.0])
    y = np.array([1.0, 5.0, 3.0])
    g = np.array([2.0, 4.0, 6.0])
    for rule in (nr.maximum_vjp, nr.fmax_vjp):
        gx, gy = rule(g, np.maximum(x, y), x, y)
        np.testing.assert_allclose(gx, [1.0, 0.0, 3.0])
        np.testing.assert_allclose(gy, [1.0, 4.0, 3.0])
    for rule in (nr.minimum_vjp, nr.fmin_vjp):
        gx, gy = rule(g, np.minimum(x, y), x, y)
        np.testing.assert_allclose(gx, [1.0, 4.0, 3.0])
        np.testing.assert_allclose(gy, [1.0, 0.0, 3.0])
    gx, gy = nr.maximum_vjp(1.0, 2.0, 2.0, 2.0)
    assert (gx, gy) == (0.5, 0.5)


def test_fmax_fmin_pass_g_past_nan():
    x = np.array([np.nan, 1.0])
    y = np.array([2.0, np.nan])
    g = np.array([3.0, 5.0])
    for rule, primal in ((nr.fmax_vjp, np.fmax), (nr.fmin_vjp, np.fmin)):
        gx, gy = rule(g, primal(x, y), x, y)
        np.testing.assert_allclose(gx, [0.0, 5.0])
        np.testing.assert_allclose(gy, [3.0, 0.0])


def test_max_min_split_ties_among_tied_entries():
    x = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])
    g = np.array([6.0, 3.0])
    (bar,) = rr.extremum_vjp(g, np.max(x, axis=1), x, axis=1)
    np.testing.assert_allclose(bar, [[0.0, 3.0, 3.0], [1.0, 1.0, 1.0]])
    (bar,) = rr.extremum_vjp(g[:, None], np.min(x, axis=1, keepdims=True), x, axis=1, keepdims=True)
    np.testing.assert_allclose(bar, [[6.0, 0.0, 0.0], [1.0, 1.0, 1.0]])
    (bar,) = rr.extremum_vjp(1.0, np.max(x), x)
    np.testing.assert_allclose(bar, [[0.0, 0.5, 0.5], [0.0, 0.0, 0.0]])
    (bar,) = rr.ptp_vjp(1.0, np.ptp(x), x)
    np.testing.assert_allclose(bar, [[-1.0, 0.5, 0.5], [0.0, 0.0, 0.0]])
    (bar,) = rr.norm_vjp(2.0, 3.0, np.array([3.0, -3.0, 1.0]), ord=np.inf)
    np.testing.assert_allclose(bar, [1.0, -1.0, 0.0])


def test_prod_with_zeros_is_exact():
    x = np.array([[2.0, 0.0, 3.0], [0.0, 0.0, 5.0], [2.0, 4.0, 0.5]])
    (bar,) = rr.prod_vjp(np.ones(3), np.prod(x, axis=1), x, axis=1)
    np.testing.assert_allclose(bar, [[0.0, 6.0, 0.0], [0.0, 0.0, 0.0], [2.0, 1.0, 8.0]])


def test_zero_derivative_at_kinks_instead_of_nan():
    zero = np.zeros((2, 3))
    for kwargs in ({}, {"ord": "fro"}, {"axis": 1}, {"axis": 0, "ord": 1}, {"axis": 1, "ord": np.inf}):
        (bar,) = rr.norm_vjp(1.0, np.linalg.norm(zero, **kwargs), zero, **kwargs)
        np.testing.assert_array_equal(bar, np.zeros((2, 3)))
    (bar,) = rr.std_vjp(np.ones(3), np.zeros(3), np.ones((3, 4)), axis=1)
    np.testing.assert_array_equal(bar, np.zeros((3, 4)))
    assert nr.hypot_vjp(1.0, 0.0, 0.0, 0.0) == (0.0, 0.0)
    assert nr.absolute_vjp(1.0, 0.0, 0.0) == (0.0,)
    assert nr.sinc_vjp(1.0, 1.0, 0.0) == (0.0,)


def test_clip_gives_g_to_x_at_the_bounds():
    x = np.array([-1.0, 0.0, 0.5, 1.0, 2.0])
    g = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    gx, gmin, gmax = nr.clip_vjp(g, np.clip(x, 0.0, 1.0), x, 0.0, 1.0)
    np.testing.assert_allclose(gx, [0.0, 2.0, 3.0, 4.0, 0.0])
    assert (gmin, gmax) == (1.0, 5.0)
    gx, gmin, gmax = nr.clip_vjp(g, np.clip(x, None, 1.0), x, None, 1.0)
    np.testing.assert_allclose(gx, [1.0, 2.0, 3.0, 4.0, 0.0])
    assert gmin is None and gmax == 5.0


def test_matrix_norms_without_a_rule_say_so():
    x = np.eye(2)
    with pytest.raises(NotImplementedError, match="nuc"):
        rr.norm_vjp(1.0, np.linalg.norm(x, "nuc"), x, "nuc")


def test_rules_do_not_write_into_their_inputs():
    x = distinct((3, 4))
    g = RNG.standard_normal(4)
    x0, g0 = x.copy(), g.copy()
    rr.sort_vjp(np.ones((3, 4)), np.sort(x, 0), x, 0)
    rr.extremum_vjp(g, np.max(x, axis=0), x, axis=0)
    rr.prod_vjp(g, np.prod(x, axis=0), x, axis=0)
    nr.clip_vjp(np.ones((3, 4)), np.clip(x, -0.5, 0.5), x, -0.5, 0.5)
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(g, g0)
