"""Reverse rules of the `math` module and of Python builtins, checked against finite differences."""

import math
import operator

import numpy as np
import pytest

import srcgrad
from srcgrad.rules import builtin_vjp as B
from srcgrad.rules import math_vjp as M
from srcgrad.rules import numpy_vjp as N
from srcgrad.rules.registry import all_nondifferentiable, all_rules
from srcgrad.runtime.core import ListCotangent, TupleCotangent
from srcgrad.tools.testing import check_vjp_rule

OUR_MODULES = {M.__name__, B.__name__}


def only_first(rule):
    """`rule` with every cotangent after the first dropped: for points where finite
    differences in the other arguments leave the domain (a negative base of `pow`)."""

    def first(g, ans, *args):
        return (rule(g, ans, *args)[0],) + (None,) * (len(args) - 1)

    first.__name__ = rule.__name__
    first.wraps = rule
    return first


def python_sumprod(p, q):
    return sum(a * b for a, b in zip(p, q))


def python_fma(x, y, z):
    return x * y + z


def prod_with_start(xs, start):
    return math.prod(xs, start=start)


def prod_start_rule(g, ans, xs, start):
    return M.prod_start_vjp(g, ans, xs, start=start)


prod_start_rule.wraps = M.prod_start_vjp

vec = np.array([0.5, -1.25, 2.0])
mat = np.array([[1.0, -2.0, 0.5], [0.25, 3.0, -1.5]])

# (primal, rule, points): every point is a tuple of arguments inside the domain.
TABLE = [
    (math.sin, M.sin_vjp, [(0.3,), (-2.1,), (4.0,)]),
    (math.cos, M.cos_vjp, [(0.3,), (-2.1,), (4.0,)]),
    (math.tan, M.tan_vjp, [(0.3,), (-1.2,), (2.0,)]),
    (math.asin, M.asin_vjp, [(0.3,), (-0.8,), (0.95,)]),
    (math.acos, M.acos_vjp, [(0.3,), (-0.8,), (0.95,)]),
    (math.atan, M.atan_vjp, [(0.3,), (-5.0,), (40.0,)]),
    (math.atan2, M.atan2_vjp, [(0.5, 2.0), (1.0, -3.0), (-2.0, -0.5)]),
    (math.degrees, M.degrees_vjp, [(0.3,), (-2.0,)]),
    (math.radians, M.radians_vjp, [(30.0,), (-200.0,)]),
    (math.sinh, M.sinh_vjp, [(0.3,), (-2.0,), (3.5,)]),
    (math.cosh, M.cosh_vjp, [(0.3,), (-2.0,), (3.5,)]),
    (math.tanh, M.tanh_vjp, [(0.3,), (-2.0,), (1.5,)]),
    (math.asinh, M.asinh_vjp, [(0.3,), (-2.0,), (1e3,)]),
    (math.acosh, M.acosh_vjp, [(1.5,), (3.0,), (40.0,)]),
    (math.atanh, M.atanh_vjp, [(0.3,), (-0.7,), (0.9,)]),
    (math.exp, N.exp_vjp, [(0.3,), (-2.0,), (3.0,)]),
    (math.expm1, N.expm1_vjp, [(1e-3,), (-2.0,), (1.5,)]),
    (math.log, N.log_vjp, [(0.3,), (2.0,), (50.0,)]),
    (math.log, M.log_base_vjp, [(0.3, 2.0), (5.0, 10.0), (7.0, 0.5)]),
    (math.log1p, N.log1p_vjp, [(0.3,), (-0.5,), (20.0,)]),
    (math.log2, M.log2_vjp, [(0.3,), (8.0,)]),
    (math.log10, M.log10_vjp, [(0.3,), (150.0,)]),
    (math.sqrt, N.sqrt_vjp, [(0.3,), (2.0,), (400.0,)]),
    (math.pow, M.pow_vjp, [(2.0, 3.0), (0.5, -1.5), (3.0, 0.5)]),
    (math.pow, only_first(M.pow_vjp), [(-2.0, 3.0), (-1.5, 2.0)]),
    (math.hypot, M.hypot_vjp, [(3.0, 4.0), (-1.0, 0.5), (0.0, -2.0)]),
    (math.hypot, M.hypot3_vjp, [(3.0, 4.0, 12.0), (-1.0, 0.5, 0.25)]),
    (math.dist, M.dist_vjp, [([1.0, 2.0], [4.0, -2.0]), ((0.5, -1.0, 2.0), (1.0, 1.0, 1.0)), (vec, -vec)]),
    (math.fabs, M.fabs_vjp, [(0.3,), (-2.0,)]),
    (math.copysign, M.copysign_vjp, [(2.0, -3.0), (-2.0, -3.0), (-1.5, 4.0), (1.5, 4.0)]),
    (math.fmod, M.fmod_vjp, [(5.5, 2.0), (-5.5, 2.0), (5.5, -1.5), (0.7, 3.0)]),
    (math.remainder, M.fmod_vjp, [(5.5, 2.0), (-5.2, 2.0), (5.9, -1.5)]),
    (math.ldexp, M.ldexp_vjp, [(0.3, 3), (-1.5, -2)]),
    (math.erf, M.erf_vjp, [(0.3,), (-1.2,), (2.5,)]),
    (math.erfc, M.erfc_vjp, [(0.3,), (-1.2,), (2.5,)]),
    (math.gamma, M.gamma_vjp, [(0.5,), (2.5,), (7.3,), (-1.5,)]),
    (math.lgamma, M.lgamma_vjp, [(0.3,), (4.0,), (25.0,), (-2.5,)]),
    (math.fsum, M.fsum_vjp, [([0.5, 2.0, -1.0],), ((1.0, 3.0),), (vec,)]),
    (math.prod, M.prod_vjp, [([0.5, 2.0, -1.5],), ((2.0, 0.0, 3.0),), (vec,), ([vec, 2.0],)]),
    (prod_with_start, prod_start_rule, [([0.5, 2.0], 3.0), ((2.0, 0.0), -1.5)]),
    (python_sumprod, M.sumprod_vjp, [([0.5, 2.0], [3.0, -1.0]), ((1.0, 2.0, 3.0), (4.0, 5.0, 6.0)), (vec, 2 * vec)]),
    (python_fma, M.fma_vjp, [(0.5, 2.0, -3.0), (-1.5, 4.0, 0.25)]),
    (abs, B.abs_vjp, [(0.3,), (-2.0,), (vec,), (mat,)]),
    (operator.abs, B.abs_vjp, [(-0.3,), (mat,)]),
    (max, B.max_vjp, [(1.0, 2.0), (3.0, -1.0), (-0.5, -0.25)]),
    (min, B.min_vjp, [(1.0, 2.0), (3.0, -1.0), (-0.5, -0.25)]),
    (max, B.max_iterable_vjp, [([1.0, 3.0, 2.0],), ((5.0, -1.0),), (vec,), (mat[:1],)]),
    (min, B.min_iterable_vjp, [([1.0, 3.0, 2.0],), ((5.0, -1.0),), (vec,), (mat[:1],)]),
    (sum, B.sum_vjp, [([1.0, 3.0, 2.0],), ((5.0, -1.0),), (vec,), (mat,), ([vec, 2.0, mat],)]),
    (sum, B.sum_start_vjp, [([1.0, 3.0], 0.5), ((5.0, -1.0), 2.0), (mat, vec), ([1.0, 2.0], vec)]),
    (pow, B.power_vjp, [(2.0, 3.0), (0.5, -1.5), (vec + 3.0, 1.5), (2.0, vec)]),
    (pow, only_first(B.power_vjp), [(-2.0, 3.0)]),
    (float, B.float_vjp, [(0.3,), (2,), (np.float32(1.5),)]),
]
if hasattr(math, "exp2"):
    TABLE.append((math.exp2, M.exp2_vjp, [(0.3,), (-2.0,), (5.0,)]))
if hasattr(math, "cbrt"):
    TABLE.append((math.cbrt, M.cbrt_vjp, [(0.3,), (-2.0,), (27.0,)]))

CASES = [
    pytest.param(primal, rule, args, id=f"{rule.__name__}-{i}")
    for primal, rule, points in TABLE
    for i, args in enumerate(points)
]


@pytest.mark.parametrize("primal, rule, args", CASES)
def test_rule_matches_finite_differences(primal, rule, args):
    check_vjp_rule(primal, rule, *args)


def _our_rules():
    return [r for rules in all_rules().values() for r in rules if r.fn.__module__ in OUR_MODULES or r.fn is B.power_vjp]


def test_every_registered_rule_is_in_the_table():
    tested = {getattr(rule, "wraps", rule) for _, rule, _ in TABLE}
    missing = {r.fn.__name__ for r in _our_rules()} - {fn.__name__ for fn in tested}
    assert not missing


def test_every_rule_has_a_parseable_template():
    rules = _our_rules()
    assert len(rules) > 40
    for rule in rules:
        if rule.inline:
            expr, namespace = rule.template()
            assert expr is not None and all(name in ("math", "np") or callable(v) for name, v in namespace.items())


def test_rules_of_one_primal_are_chosen_by_arity():
    from srcgrad.rules.registry import find_vjp_rule

    assert find_vjp_rule(math.log, 1, ()).fn is N.log_vjp
    assert find_vjp_rule(math.log, 2, ()).fn is M.log_base_vjp
    assert find_vjp_rule(math.hypot, 3, ()).fn is M.hypot3_vjp
    assert find_vjp_rule(max, 1, ()).fn is B.max_iterable_vjp
    assert find_vjp_rule(max, 2, ()).fn is B.max_vjp
    assert find_vjp_rule(max, 1, ("key",)) is None
    assert find_vjp_rule(sum, 1, ("start",)).fn is B.sum_start_vjp
    assert find_vjp_rule(math.prod, 1, ("start",)).fn is M.prod_start_vjp
    assert find_vjp_rule(pow, 3, ()) is None


def test_ties_go_to_the_argument_python_returns():
    assert B.max_vjp(1.0, 2.0, 2.0, 2.0) == (1.0, 0.0)
    assert B.min_vjp(1.0, 2.0, 2.0, 2.0) == (1.0, 0.0)
    assert B.max_iterable_vjp(1.0, 3.0, [1.0, 3.0, 3.0]) == (ListCotangent([0.0, 1.0, 0.0]),)
    assert B.min_iterable_vjp(1.0, 1.0, (1.0, 3.0, 1.0)) == (TupleCotangent((1.0, 0.0, 0.0)),)


def test_kinks_use_subgradient_zero():
    assert B.abs_vjp(1.0, 0.0, 0.0) == (0.0,)
    np.testing.assert_array_equal(B.abs_vjp(1.0, None, np.array([-2.0, 0.0, 3.0]))[0], [-1.0, 0.0, 1.0])
    assert M.fabs_vjp(1.0, 0.0, 0.0) == (0.0,)
    assert M.hypot_vjp(1.0, 0.0, 0.0, 0.0) == (0.0, 0.0)
    assert M.hypot3_vjp(1.0, 0.0, 0.0, 0.0, 0.0) == (0.0, 0.0, 0.0)
    assert M.dist_vjp(1.0, 0.0, [1.0, 2.0], [1.0, 2.0]) == ([0.0, 0.0], [0.0, 0.0])


def test_sequence_cotangents_have_the_argument_kind():
    assert type(B.sum_vjp(1.0, 3.0, [1.0, 2.0])[0]) is ListCotangent
    assert type(B.sum_vjp(1.0, 3.0, (1.0, 2.0))[0]) is TupleCotangent
    assert type(M.fsum_vjp(1.0, 3.0, [1.0, 2.0])[0]) is ListCotangent
    assert np.shape(B.sum_vjp(np.ones(3), None, mat)[0]) == mat.shape
    assert M.prod_vjp(2.0, 0.0, [2.0, 0.0, 3.0])[0] == [0.0, 12.0, 0.0]
    with pytest.raises(TypeError, match="list"):
        B.sum_vjp(1.0, 3.0, {1.0, 2.0})


def test_digamma_known_values():
    euler_gamma = 0.5772156649015329
    assert M.digamma(1.0) == pytest.approx(-euler_gamma, rel=1e-13)
    assert M.digamma(0.5) == pytest.approx(-euler_gamma - 2 * math.log(2), rel=1e-13)
    assert M.digamma(11.0) == pytest.approx(sum(1 / k for k in range(1, 11)) - euler_gamma, rel=1e-13)
    assert M.digamma(-0.5) == pytest.approx(0.03648997397857652, rel=1e-12)
    assert math.isnan(M.digamma(-2.0))


def test_nondifferentiable_functions():
    declared = all_nondifferentiable()
    for f in (math.floor, math.ceil, math.trunc, math.isnan, math.isinf, math.isfinite, math.isclose,
              math.factorial, math.comb, math.perm, math.gcd, round, len, range, isinstance, print,
              bool, type, id, hash, str, repr, format, any, all, np.shape, np.ndim, np.size):
        assert f in declared, f
    for f in (enumerate, zip, reversed, sorted, math.sin, abs, max, sum):
        assert f not in declared, f


def _uses_everything(x, y):
    a = math.sin(x) * math.log(y, 2.0) + math.hypot(x, y) + math.atan2(y, x)
    b = max(a, y) + abs(x) + sum([x, y, a]) + math.pow(y, x) + pow(x, 2.0) + min(x, y)
    c = math.prod([x, y, 2.0]) + math.fsum((x, y)) + math.dist([x, y], [0.0, 1.0])
    return b * c + math.gamma(y) + float(x) + min([x, y]) + sum([x, y], 1.0) + math.fmod(a, y)


def _on_arrays(v):
    return sum(sum(abs(v) * v)) + max(v[0]) * min(list(v[1]))


def test_rules_inline_into_generated_derivatives():
    srcgrad.check_grad(_uses_everything, 0.7, 1.3, wrt=(0, 1))
    srcgrad.check_grad(_uses_everything, -0.4, 2.2, wrt=(0, 1))
    srcgrad.check_grad(_on_arrays, np.array([[1.0, -2.0], [0.5, 3.0]]))
