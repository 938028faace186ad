"""Forward rules of the reductions (and of their templates' helpers), checked one by one
against central finite differences and, by the inner-product test, against the reverse
rules; at ties, where finite differences mean nothing, forward and reverse must agree."""

import numpy as np
import pytest
from array_jvp_checks import forward_equals_reverse, rules_of, tangent_of

import srcgrad.rules.reduction_jvp as rj
import srcgrad.rules.reduction_vjp as rr
from srcgrad.rules.registry import all_jvp_rules
from srcgrad.tools.testing import check_jvp_rule

RNG = np.random.default_rng(2024)


def uniform(lo, hi, shape=()):
    if shape == ():
        return float(RNG.uniform(lo, hi))
    return RNG.uniform(lo, hi, shape)


def signed(shape=(), lo=0.2, hi=2.0):
    """Values with lo <= |x| <= hi and random signs (away from 0, where kinks are)."""
    values = uniform(lo, hi, shape) * np.where(RNG.random(shape) < 0.5, -1.0, 1.0)
    return float(values) if shape == () else values


def distinct(shape):
    """A random permutation of well separated values (no ties for max, min, sort)."""
    return RNG.permutation(np.arange(np.prod(shape), dtype=float) * 0.37 - 1.3).reshape(shape)


def with_nan(shape):
    x = RNG.standard_normal(shape)
    x.flat[1] = np.nan
    return x


REDUCE = [((), {}), ((5,), {}), ((5,), {"axis": 0}), ((3, 4), {"axis": -1, "keepdims": True}),
          ((2, 3, 4), {}), ((2, 3, 4), {"axis": 0}), ((2, 3, 4), {"axis": -1}),
          ((2, 3, 4), {"axis": (0, 2)}), ((2, 3, 4), {"axis": (0, 2), "keepdims": True}),
          ((2, 3, 4), {"keepdims": True})]
REDUCTIONS = [  # (primal, forward rule, reverse rule, builder of a shape)
    (np.sum, rj.sum_jvp, rr.sum_vjp, lambda s: uniform(-1, 1, s)),
    (np.nansum, rj.nansum_jvp, rr.nansum_vjp, lambda s: uniform(-1, 1, s)),
    (np.mean, rj.mean_jvp, rr.mean_vjp, lambda s: uniform(-1, 1, s)),
    (np.nanmean, rj.nanmean_jvp, rr.nanmean_vjp, lambda s: uniform(-1, 1, s)),
    (np.average, rj.average_jvp, rr.average_vjp, lambda s: uniform(-1, 1, s)),
    (np.prod, rj.prod_jvp, rr.prod_vjp, lambda s: signed(s, 0.7, 1.3)),
    (np.max, rj.extremum_jvp, rr.extremum_vjp, distinct),
    (np.amax, rj.extremum_jvp, rr.extremum_vjp, distinct),
    (np.min, rj.extremum_jvp, rr.extremum_vjp, distinct),
    (np.amin, rj.extremum_jvp, rr.extremum_vjp, distinct),
    (np.ptp, rj.ptp_jvp, rr.ptp_vjp, distinct),
    (np.var, rj.var_jvp, rr.var_vjp, lambda s: uniform(-1, 1, s)),
    (np.std, rj.std_jvp, rr.std_vjp, lambda s: uniform(-1, 1, s)),
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
CASES = [  # (id, primal, forward rule, reverse rule, builder of the arguments, kwargs)
    ("sort-last", np.sort, rj.sort_jvp, rr.sort_vjp, lambda: (distinct((3, 4)),), {}),
    ("sort-0", np.sort, rj.sort_jvp, rr.sort_vjp, lambda: (distinct((3, 4)),), {"axis": 0}),
    ("sort-flat", np.sort, rj.sort_jvp, rr.sort_vjp, lambda: (distinct((3, 4)),), {"axis": None}),
    ("cumsum-flat", np.cumsum, rj.cumsum_jvp, rr.cumsum_vjp, lambda: (uniform(-1, 1, (3, 4)),), {}),
    ("cumsum-float", np.cumsum, rj.cumsum_jvp, rr.cumsum_vjp, lambda: (0.7,), {}),
    ("cumsum-0", np.cumsum, rj.cumsum_jvp, rr.cumsum_vjp, lambda: (uniform(-1, 1, (3, 4)),), {"axis": 0}),
    ("cumsum--1", np.cumsum, rj.cumsum_jvp, rr.cumsum_vjp, lambda: (uniform(-1, 1, (2, 3, 4)),), {"axis": -1}),
    ("prod-one-zero", np.prod, rj.prod_jvp, rr.prod_vjp, lambda: (np.array([1.5, 0.0, -2.0, 0.7]),), {}),
    ("prod-one-zero-axis", np.prod, rj.prod_jvp, rr.prod_vjp,
     lambda: (np.array([[1.5, 0.0, -2.0], [0.7, 1.2, 0.0]]),), {"axis": 1}),
    ("prod-two-zeros", np.prod, rj.prod_jvp, rr.prod_vjp,
     lambda: (np.array([[1.5, 0.0, 0.0], [0.7, 1.2, 0.0]]),), {"axis": -1}),
    ("var-ddof", np.var, rj.var_jvp, rr.var_vjp, lambda: (uniform(-1, 1, (3, 4)),), {"axis": 0, "ddof": 1}),
    ("std-ddof", np.std, rj.std_jvp, rr.std_vjp, lambda: (uniform(-1, 1, (3, 4)),), {"axis": 1, "ddof": 1}),
    ("std-ddof-keepdims", np.std, rj.std_jvp, rr.std_vjp,
     lambda: (uniform(-1, 1, (2, 3, 4)),), {"axis": (0, 2), "ddof": 1, "keepdims": True}),
    ("nansum", np.nansum, rj.nansum_jvp, rr.nansum_vjp, lambda: (with_nan((3, 4)),), {"axis": 0}),
    ("nanmean", np.nanmean, rj.nanmean_jvp, rr.nanmean_vjp, lambda: (with_nan((3, 4)),), {"axis": 0}),
    ("nanmean-all", np.nanmean, rj.nanmean_jvp, rr.nanmean_vjp, lambda: (with_nan((2, 3, 4)),), {"keepdims": True}),
    ("sum-positional-axis", np.sum, rj.sum_jvp, rr.sum_vjp, lambda: (uniform(-1, 1, (3, 4)), 1), {}),
]
for _primal, _jvp, _vjp, _build in REDUCTIONS:
    for _shape, _kwargs in REDUCE:
        if _shape == () and _primal in (np.std, np.ptp):
            continue  # a single value: std and ptp are 0 and have a kink there
        _x = (lambda b=_build, s=_shape: (float(b((1,))[0]) if s == () else b(s),))
        CASES.append((f"{_primal.__name__}-{_shape}-{_kwargs}", _primal, _jvp, _vjp, _x, _kwargs))
for _shape, _kwargs, _build in NORMS:
    _x = (lambda b=_build, s=_shape: (float(b((1,))[0]) if s == () else b(s),))
    CASES.append((f"norm-{_shape}-{_kwargs}", np.linalg.norm, rj.norm_jvp, rr.norm_vjp, _x, _kwargs))


@pytest.mark.parametrize("primal, jvp, vjp, build, kwargs", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_forward_rule(primal, jvp, vjp, build, kwargs):
    check_jvp_rule(primal, jvp, *build(), vjp=vjp, **kwargs)


# ---- the helpers' rules ---------------------------------------------------------------------


def _helper_cases():
    x, zeros = uniform(-1, 1, (2, 3, 4)), signed((2, 3, 4))
    zeros[0, 0, 0] = zeros[0, 1, 0] = zeros[1, 2, 3] = 0.0
    v = signed((5,))
    m = signed((3, 4))
    for axis, keepdims in [(None, False), (None, True), (0, False), (-1, True), ((0, 2), False), ((0, 2), True)]:
        g = uniform(-1, 1, np.shape(np.sum(x, axis=axis, keepdims=keepdims)))
        yield f"expand_reduced-{axis}-{keepdims}", rr.expand_reduced, rj.expand_reduced_jvp, (g, x, axis, keepdims)
    yield "expand_reduced-scalar", rr.expand_reduced, rj.expand_reduced_jvp, (0.5, 1.5)
    for axis in [None, 0, -1, (0, 2)]:
        yield f"prod_others-{axis}", rr.prod_others, rj.prod_others_linear, (x, axis)
        yield f"prod_others-zeros-{axis}", rr.prod_others, rj.prod_others_linear, (zeros, axis)
    yield "prod_others-scalar", rr.prod_others, rj.prod_others_linear, (1.5,)
    for kwargs in [{}, {"ord": 3}, {"ord": 1.5}, {"ord": -2}, {"ord": 1}, {"ord": 0}]:
        args = (v, np.linalg.norm(v, **kwargs), kwargs.get("ord"))
        yield f"norm_derivative-{kwargs}", rr.norm_derivative, rj.norm_derivative_jvp, args
    for kwargs in [{"axis": 1}, {"axis": 0, "ord": 3, "keepdims": True}, {"ord": "fro"}, {"axis": (0, 1), "keepdims": True}]:
        args = (m, np.linalg.norm(m, **kwargs), kwargs.get("ord"), kwargs.get("axis"), kwargs.get("keepdims", False))
        yield f"norm_derivative-matrix-{kwargs}", rr.norm_derivative, rj.norm_derivative_jvp, args
    y = distinct((2, 3, 4))
    for axis in [None, 0, -1]:
        g = uniform(-1, 1, np.shape(np.cumsum(y, axis)))
        yield f"cumsum_transpose-{axis}", rr.cumsum_transpose, rj.cumsum_transpose_jvp, (g, y, axis)
        g = uniform(-1, 1, np.shape(np.sort(y, axis)))
        yield f"unsort-{axis}", rr.unsort, rj.unsort_jvp, (g, y, axis)
        yield f"sort_like-{axis}", rj.sort_like, rj.sort_like_jvp, (uniform(-1, 1, y.shape), y, axis)


HELPER_CASES = list(_helper_cases())
HELPER_VJP = {rr.expand_reduced: rj.expand_reduced_vjp, rr.prod_others: rj.prod_others_linear,
              rr.norm_derivative: rj.norm_derivative_vjp, rr.cumsum_transpose: rj.cumsum_transpose_vjp,
              rr.unsort: rj.unsort_vjp, rj.sort_like: rj.sort_like_vjp}


@pytest.mark.parametrize("helper, jvp, args", [c[1:] for c in HELPER_CASES], ids=[c[0] for c in HELPER_CASES])
def test_helper_rules(helper, jvp, args):
    check_jvp_rule(helper, jvp, *args, vjp=HELPER_VJP[helper])


def test_every_forward_rule_is_in_a_table():
    tested = {c[2] for c in CASES} | {c[2] for c in HELPER_CASES}
    ours = {rule.fn for _, rule in rules_of(all_jvp_rules(), {rj.__name__})}
    assert ours - tested == set()


# ---- ties and kinks: the same choice as the reverse rules ------------------------------------


def test_max_min_tangent_is_the_mean_over_tied_entries():
    x = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])
    u = np.array([[5.0, 1.0, 2.0], [3.0, 6.0, 9.0]])
    np.testing.assert_allclose(tangent_of(np.max, rj.extremum_jvp, u, x, axis=1), [1.5, 6.0])
    np.testing.assert_allclose(tangent_of(np.min, rj.extremum_jvp, u, x, axis=1, keepdims=True), [[5.0], [6.0]])
    np.testing.assert_allclose(tangent_of(np.max, rj.extremum_jvp, u, x), 1.5)
    np.testing.assert_allclose(tangent_of(np.ptp, rj.ptp_jvp, u, x), 1.5 - 5.0)
    np.testing.assert_allclose(tangent_of(np.linalg.norm, rj.norm_jvp, u[0], np.array([3.0, -3.0, 1.0]), ord=np.inf), 2.0)


@pytest.mark.parametrize("primal, jvp, vjp, x, kwargs", [
    (np.max, rj.extremum_jvp, rr.extremum_vjp, np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]]), {"axis": 1}),
    (np.amin, rj.extremum_jvp, rr.extremum_vjp, np.array([[1.0, 1.0, 3.0], [2.0, 2.0, 2.0]]), {"axis": 0, "keepdims": True}),
    (np.max, rj.extremum_jvp, rr.extremum_vjp, np.array([[1.0, 3.0, 3.0], [3.0, 2.0, 2.0]]), {}),
    (np.ptp, rj.ptp_jvp, rr.ptp_vjp, np.array([[1.0, 3.0, 3.0], [1.0, 2.0, 2.0]]), {}),
    (np.ptp, rj.ptp_jvp, rr.ptp_vjp, np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]]), {"axis": 1}),
    (np.linalg.norm, rj.norm_jvp, rr.norm_vjp, np.array([3.0, -3.0, 1.0]), {"ord": np.inf}),
    (np.linalg.norm, rj.norm_jvp, rr.norm_vjp, np.array([[3.0, -3.0, 1.0], [-1.0, 0.5, 1.0]]), {"ord": -np.inf, "axis": 1}),
    (np.sort, rj.sort_jvp, rr.sort_vjp, np.array([[2.0, 1.0, 2.0, 1.0], [0.0, 0.0, 0.0, 3.0]]), {}),
    (np.sort, rj.sort_jvp, rr.sort_vjp, np.array([[2.0, 1.0, 2.0, 1.0], [2.0, 0.0, 0.0, 3.0]]), {"axis": 0}),
    (np.sort, rj.sort_jvp, rr.sort_vjp, np.array([[2.0, 1.0, 2.0, 1.0], [2.0, 0.0, 0.0, 3.0]]), {"axis": None}),
    (np.prod, rj.prod_jvp, rr.prod_vjp, np.array([[2.0, 0.0, 3.0], [0.0, 0.0, 5.0], [2.0, 4.0, 0.5]]), {"axis": 1}),
    (np.std, rj.std_jvp, rr.std_vjp, np.ones((3, 4)), {"axis": 1}),
    (np.linalg.norm, rj.norm_jvp, rr.norm_vjp, np.zeros((2, 3)), {}),
    (np.linalg.norm, rj.norm_jvp, rr.norm_vjp, np.zeros((2, 3)), {"axis": 0, "ord": 3}),
])
def test_forward_and_reverse_agree_at_ties_and_kinks(primal, jvp, vjp, x, kwargs):
    tangent = forward_equals_reverse(primal, jvp, vjp, x, **kwargs)
    assert np.all(np.isfinite(tangent))


def test_sort_moves_tied_tangents_stably():
    x = np.array([2.0, 1.0, 2.0, 1.0])
    u = np.array([10.0, 20.0, 30.0, 40.0])
    np.testing.assert_array_equal(tangent_of(np.sort, rj.sort_jvp, u, x), [20.0, 40.0, 10.0, 30.0])


def test_prod_with_zeros_is_exact():
    x = np.array([[2.0, 0.0, 3.0], [0.0, 0.0, 5.0], [2.0, 4.0, 0.5]])
    u = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [7.0, 8.0, 9.0]])
    np.testing.assert_allclose(tangent_of(np.prod, rj.prod_jvp, u, x, axis=1), [12.0, 0.0, 14.0 + 8.0 + 72.0])
    # the second derivative too: d/dx_j prod_others(x)_i is the product of the entries but i, j
    x = np.array([2.0, 0.0, 0.0, 3.0])
    np.testing.assert_allclose(tangent_of(rr.prod_others, rj.prod_others_linear, np.eye(4)[1], x), [0.0, 0.0, 6.0, 0.0])


def test_norm_derivative_has_zero_tangent_where_it_is_piecewise_constant():
    x = np.array([3.0, -1.0, 2.0])
    for ord in (np.inf, -np.inf, 0):
        n = np.linalg.norm(x, ord)
        dx, dn = rj.norm_derivative_jvp(np.ones(3), rr.norm_derivative(x, n, ord), x, n, ord)
        np.testing.assert_array_equal(dx, np.zeros(3))
        np.testing.assert_array_equal(dn, np.zeros(3))


def test_rules_do_not_write_into_their_inputs():
    x = distinct((3, 4))
    u = RNG.standard_normal((3, 4))
    x0, u0 = x.copy(), u.copy()
    for primal, jvp, kwargs in [(np.sort, rj.sort_jvp, {"axis": 0}), (np.max, rj.extremum_jvp, {"axis": 0}),
                                (np.prod, rj.prod_jvp, {}), (np.cumsum, rj.cumsum_jvp, {"axis": 1})]:
        tangent_of(primal, jvp, u, x, **kwargs)
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(u, u0)
