"""Forward rules of the `math` module and of Python builtins (math_jvp, math_helpers,
builtin_jvp): against finite differences, against the reverse rules, and at kinks and ties."""

import math
import operator

import numpy as np
import pytest
from jvp_checks import (
    check_tangent_rule,
    check_terms,
    jacobians,
    missing_forward_rules,
    template_helpers,
    undifferentiated_helpers,
)

import srcgrad
from srcgrad.rules import builtin_jvp as BJ
from srcgrad.rules import builtin_vjp as B
from srcgrad.rules import math_helpers as S
from srcgrad.rules import math_jvp as MJ
from srcgrad.rules import math_vjp as M
from srcgrad.rules import numpy_jvp as NJ
from srcgrad.rules import numpy_vjp as N
from srcgrad.rules.registry import Rule, all_jvp_rules, find_jvp_rule, is_nondifferentiable
from srcgrad.runtime.core import ListCotangent, TupleCotangent
from srcgrad.tools.testing import check_jvp_rule, check_vjp_rule

RULE_MODULES = (M.__name__, B.__name__)
JVP_MODULES = (MJ.__name__, S.__name__, BJ.__name__)


def python_sumprod(p, q):
    return sum(a * b for a, b in zip(p, q))


def python_fma(x, y, z):
    return x * y + z


def prod_with_start(xs, start):
    return math.prod(xs, start=start)


vec = np.array([0.5, -1.25, 2.0])
mat = np.array([[1.0, -2.0, 0.5], [0.25, 3.0, -1.5]])

# (primal, forward rule, reverse rule, points): the points of tests/test_rules_math.py.
TABLE = [
    (math.sin, MJ.sin_jvp, M.sin_vjp, [(0.3,), (-2.1,), (4.0,)]),
    (math.cos, MJ.cos_jvp, M.cos_vjp, [(0.3,), (-2.1,), (4.0,)]),
    (math.tan, MJ.tan_jvp, M.tan_vjp, [(0.3,), (-1.2,), (2.0,)]),
    (math.asin, MJ.asin_jvp, M.asin_vjp, [(0.3,), (-0.8,), (0.95,)]),
    (math.acos, MJ.acos_jvp, M.acos_vjp, [(0.3,), (-0.8,), (0.95,)]),
    (math.atan, MJ.atan_jvp, M.atan_vjp, [(0.3,), (-5.0,), (40.0,)]),
    (math.atan2, MJ.atan2_jvp, M.atan2_vjp, [(0.5, 2.0), (1.0, -3.0), (-2.0, -0.5)]),
    (math.degrees, MJ.degrees_jvp, M.degrees_vjp, [(0.3,), (-2.0,)]),
    (math.radians, MJ.radians_jvp, M.radians_vjp, [(30.0,), (-200.0,)]),
    (math.sinh, MJ.sinh_jvp, M.sinh_vjp, [(0.3,), (-2.0,), (3.5,)]),
    (math.cosh, MJ.cosh_jvp, M.cosh_vjp, [(0.3,), (-2.0,), (3.5,)]),
    (math.tanh, MJ.tanh_jvp, M.tanh_vjp, [(0.3,), (-2.0,), (1.5,)]),
    (math.asinh, MJ.asinh_jvp, M.asinh_vjp, [(0.3,), (-2.0,), (1e3,)]),
    (math.acosh, MJ.acosh_jvp, M.acosh_vjp, [(1.5,), (3.0,), (40.0,)]),
    (math.atanh, MJ.atanh_jvp, M.atanh_vjp, [(0.3,), (-0.7,), (0.9,)]),
    (math.exp, NJ.exp_jvp, N.exp_vjp, [(0.3,), (-2.0,), (3.0,)]),
    (math.expm1, NJ.expm1_jvp, N.expm1_vjp, [(1e-3,), (-2.0,), (1.5,)]),
    (math.log, NJ.log_jvp, N.log_vjp, [(0.3,), (2.0,), (50.0,)]),
    (math.log, MJ.log_base_jvp, M.log_base_vjp, [(0.3, 2.0), (5.0, 10.0), (7.0, 0.5)]),
    (math.log1p, NJ.log1p_jvp, N.log1p_vjp, [(0.3,), (-0.5,), (20.0,)]),
    (math.log2, MJ.log2_jvp, M.log2_vjp, [(0.3,), (8.0,)]),
    (math.log10, MJ.log10_jvp, M.log10_vjp, [(0.3,), (150.0,)]),
    (math.sqrt, NJ.sqrt_jvp, N.sqrt_vjp, [(0.3,), (2.0,), (400.0,)]),
    (math.pow, MJ.pow_jvp, M.pow_vjp, [(2.0, 3.0), (0.5, -1.5), (3.0, 0.5)]),
    (math.hypot, MJ.hypot_jvp, M.hypot_vjp, [(3.0, 4.0), (-1.0, 0.5), (0.0, -2.0)]),
    (math.hypot, MJ.hypot3_jvp, M.hypot3_vjp, [(3.0, 4.0, 12.0), (-1.0, 0.5, 0.25)]),
    (math.dist, MJ.dist_jvp, M.dist_vjp, [([1.0, 2.0], [4.0, -2.0]), ((0.5, -1.0, 2.0), (1.0, 1.0, 1.0)), (vec, -vec)]),
    (math.fabs, MJ.fabs_jvp, M.fabs_vjp, [(0.3,), (-2.0,)]),
    (math.copysign, MJ.copysign_jvp, M.copysign_vjp, [(2.0, -3.0), (-2.0, -3.0), (-1.5, 4.0), (1.5, 4.0)]),
    (math.fmod, MJ.fmod_jvp, M.fmod_vjp, [(5.5, 2.0), (-5.5, 2.0), (5.5, -1.5), (0.7, 3.0)]),
    (math.remainder, MJ.fmod_jvp, M.fmod_vjp, [(5.5, 2.0), (-5.2, 2.0), (5.9, -1.5)]),
    (math.ldexp, MJ.ldexp_jvp, M.ldexp_vjp, [(0.3, 3), (-1.5, -2)]),
    (math.erf, MJ.erf_jvp, M.erf_vjp, [(0.3,), (-1.2,), (2.5,)]),
    (math.erfc, MJ.erfc_jvp, M.erfc_vjp, [(0.3,), (-1.2,), (2.5,)]),
    (math.gamma, MJ.gamma_jvp, M.gamma_vjp, [(0.5,), (2.5,), (7.3,), (-1.5,)]),
    (math.lgamma, MJ.lgamma_jvp, M.lgamma_vjp, [(0.3,), (4.0,), (25.0,), (-2.5,)]),
    (math.fsum, MJ.fsum_jvp, M.fsum_vjp, [([0.5, 2.0, -1.0],), ((1.0, 3.0),), (vec,)]),
    (math.prod, MJ.prod_jvp, M.prod_vjp, [([0.5, 2.0, -1.5],), ((2.0, 0.0, 3.0),), (vec,), ([vec, 2.0],), ([0.0, 2.0, 0.0],)]),
    (python_sumprod, MJ.sumprod_jvp, M.sumprod_vjp, [([0.5, 2.0], [3.0, -1.0]), ((1.0, 2.0, 3.0), (4.0, 5.0, 6.0)), (vec, 2 * vec)]),
    (python_fma, MJ.fma_jvp, M.fma_vjp, [(0.5, 2.0, -3.0), (-1.5, 4.0, 0.25)]),
    (abs, BJ.abs_jvp, B.abs_vjp, [(0.3,), (-2.0,), (vec,), (mat,)]),
    (operator.abs, BJ.abs_jvp, B.abs_vjp, [(-0.3,), (mat,)]),
    (max, BJ.max_jvp, B.max_vjp, [(1.0, 2.0), (3.0, -1.0), (-0.5, -0.25)]),
    (min, BJ.min_jvp, B.min_vjp, [(1.0, 2.0), (3.0, -1.0), (-0.5, -0.25)]),
    (max, BJ.max_iterable_jvp, B.max_iterable_vjp, [([1.0, 3.0, 2.0],), ((5.0, -1.0),), (vec,), (mat[:1],)]),
    (min, BJ.min_iterable_jvp, B.min_iterable_vjp, [([1.0, 3.0, 2.0],), ((5.0, -1.0),), (vec,), (mat[:1],)]),
    (sum, BJ.sum_jvp, B.sum_vjp, [([1.0, 3.0, 2.0],), ((5.0, -1.0),), (vec,), (mat,), ([vec, 2.0, mat],)]),
    (sum, BJ.sum_start_jvp, B.sum_start_vjp, [([1.0, 3.0], 0.5), ((5.0, -1.0), 2.0), (mat, vec), ([1.0, 2.0], vec)]),
    (pow, BJ.power_jvp, B.power_vjp, [(2.0, 3.0), (0.5, -1.5), (vec + 3.0, 1.5), (2.0, vec)]),
    (float, BJ.float_jvp, B.float_vjp, [(0.3,), (2,), (np.float32(1.5),)]),
    # template helpers
    (M.digamma, MJ.digamma_jvp, MJ.digamma_vjp, [(0.3,), (4.0,), (25.0,), (-2.5,)]),
    (MJ.polygamma, MJ.polygamma_jvp, MJ.polygamma_vjp, [(0, 1.5), (1, 0.3), (2, 4.0), (3, -2.5), (1, 30.0)]),
    (B.sum_cotangent, BJ.sum_cotangent_jvp, BJ.sum_cotangent_vjp,
     [(1.5, [1.0, 2.0]), (vec, [1.0, 2.0]), (mat, [vec, 2.0, mat]), (vec, mat), (0.7, (2.0, 3.0))]),
    (B.one_hot, BJ.one_hot_jvp, BJ.one_hot_vjp, [(2.0, [1.0, 3.0, 2.0], 1), (-1.5, (5.0, -1.0), 0), (0.5, vec, 2), (vec, mat[:1], 0)]),
    (S.sum_of_products, S.sum_of_products_jvp, S.sum_of_products_vjp,
     [([0.5, 2.0], [3.0, -1.0]), ((1.0, 2.0, 3.0), (4.0, 5.0, 6.0)), (vec, 2 * vec)]),
    (M.scaled_like, S.scaled_like_jvp, S.scaled_like_vjp, [([1.0, 2.0], 1.5, [3.0, -1.0]), ((1.0, 2.0), -0.5, (0.5, 4.0)), (vec, 0.7, 2 * vec)]),
    (M.dist_cotangents, S.dist_cotangents_jvp, S.dist_cotangents_vjp,
     [(1.5, 5.0, [1.0, 2.0], [4.0, -2.0]), (-0.7, 2.0, (0.5, -1.0, 2.0), (1.0, 1.0, 1.0)), (0.3, 1.5, vec, -vec)]),
    (M.prod_cotangent, S.prod_cotangent_jvp, S.prod_cotangent_vjp,
     [(1.5, [0.5, 2.0, -1.5], 1.0), (0.7, (2.0, 0.0, 3.0), 2.0), (-1.2, vec, 0.5), (vec, [vec, 2.0], 1.5), (1.0, [0.0, 2.0, 0.0], 1.0)]),
]
if hasattr(math, "exp2"):
    TABLE.append((math.exp2, MJ.exp2_jvp, M.exp2_vjp, [(0.3,), (-2.0,), (5.0,)]))
if hasattr(math, "cbrt"):
    TABLE.append((math.cbrt, MJ.cbrt_jvp, M.cbrt_vjp, [(0.3,), (-2.0,), (27.0,)]))

CASES = [
    pytest.param(primal, jvp, vjp, args, id=f"{jvp.__name__}-{i}")
    for primal, jvp, vjp, points in TABLE
    for i, args in enumerate(points)
]


@pytest.mark.parametrize("primal, jvp, vjp, args", CASES)
def test_rule_matches_finite_differences_and_reverse(primal, jvp, vjp, args):
    check_jvp_rule(primal, jvp, *args, vjp=vjp)


@pytest.mark.parametrize("args", [(-2.0, 3.0), (-1.5, 2.0)])
def test_power_of_a_negative_base(args):
    """Only the base moves (the exponent must stay an integer); the exponent's slope is 0."""
    for primal, jvp, vjp in ((math.pow, MJ.pow_jvp, M.pow_vjp), (pow, BJ.power_jvp, B.power_vjp)):
        check_terms(primal, jvp, *args, positions=[0], vjp=vjp)
        assert jacobians(primal, jvp, vjp, *args, position=1) == 0.0


@pytest.mark.parametrize("args", [([0.5, 2.0], 3.0), ((2.0, 0.0), -1.5), ([vec, 2.0], vec)])
def test_prod_with_start(args):
    def bind(xs, start):
        return (xs,), {"start": start}

    check_terms(prod_with_start, MJ.prod_start_jvp, *args, positions=[0, 1], vjp=M.prod_start_vjp, bind=bind)
    check_terms(prod_with_start, MJ.prod_start_jvp, *args, positions=[1], vjp=M.prod_start_vjp, bind=bind)


# ---- the rules that are called rather than inlined ---------------------------------------
@pytest.mark.parametrize("xs, dirs", [
    ([0.5, 2.0, -1.5], ()),
    ([0.5, 2.0, -1.5, 0.8], ([1.0, 0.5, -2.0, 0.3],)),
    ((2.0, 0.0, 3.0), ((1.0, 0.5, -2.0), (0.3, -0.4, 1.2))),
    ([0.0, 2.0, 0.0, 1.5], ([1.0, 0.5, -2.0, 0.3], [0.3, -0.4, 1.2, 0.7])),
    (vec, (2 * vec, -vec, vec + 1.0)),
    ([vec, 2.0], ([vec, 0.5],)),
])
def test_prod_form_and_prod_tangent(xs, dirs):
    check_tangent_rule(S.prod_form, S.prod_form_jvp, xs, *dirs, vjp=S.prod_form_vjp)
    check_vjp_rule(S.prod_form, S.prod_form_vjp, xs, *dirs)
    h = 1.3 + np.zeros(np.shape(math.prod(xs)))  # h has the product's shape
    check_tangent_rule(S.prod_tangent, S.prod_tangent_jvp, h, xs, 0.7, *dirs, vjp=S.prod_tangent_vjp)
    check_vjp_rule(S.prod_tangent, S.prod_tangent_vjp, h, xs, 0.7, *dirs)


def test_prod_form_and_prod_tangent_agree_with_math_prod():
    for xs in ([0.5, 2.0, -1.5], (2.0, 0.0, 3.0), [0.0, 2.0, 0.0], vec, [vec, 2.0], []):
        np.testing.assert_allclose(S.prod_form(xs), math.prod(xs), rtol=1e-15)
        got, want = S.prod_tangent(1.5, xs, 2.0), M.prod_cotangent(1.5, xs, 2.0)
        assert type(got) is type(want)
        for a, b in zip(got, want):
            np.testing.assert_allclose(a, b, rtol=1e-15)
    # the derivative along u of the product, with two zero factors: only the cross terms
    assert S.prod_form([0.0, 2.0, 0.0], [1.0, 1.0, 1.0]) == 0.0
    assert S.prod_form([0.0, 2.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 1.0]) == 2.0
    assert S.prod_form([1.0, 2.0], [1.0, 1.0], [1.0, 1.0], [1.0, 1.0]) == 0.0  # more directions than factors


def test_polygamma_known_values():
    zeta3 = 1.2020569031595942
    assert MJ.polygamma(1, 1.0) == pytest.approx(math.pi**2 / 6, rel=1e-13)
    assert MJ.polygamma(1, 0.5) == pytest.approx(math.pi**2 / 2, rel=1e-13)
    assert MJ.polygamma(2, 1.0) == pytest.approx(-2 * zeta3, rel=1e-13)
    assert MJ.polygamma(3, 1.0) == pytest.approx(math.pi**4 / 15, rel=1e-13)
    assert MJ.polygamma(1, -0.5) == pytest.approx(math.pi**2 / 2 + 4.0, rel=1e-13)  # psi1(x) = psi1(x + 1) + 1 / x**2
    assert MJ.polygamma(0, 2.5) == M.digamma(2.5)
    assert math.isnan(MJ.polygamma(2, -3.0))


# ---- kinks and ties: the forward rules make the reverse rules' choices --------------------
def test_kinks_use_slope_zero_as_reverse():
    assert jacobians(math.fabs, MJ.fabs_jvp, M.fabs_vjp, 0.0, position=0) == 0.0
    assert jacobians(abs, BJ.abs_jvp, B.abs_vjp, 0.0, position=0) == 0.0
    x = np.array([-2.0, 0.0, 3.0])
    np.testing.assert_array_equal(jacobians(abs, BJ.abs_jvp, B.abs_vjp, x, position=0), np.diag([-1.0, 0.0, 1.0]))
    for position in (0, 1):
        assert jacobians(math.hypot, MJ.hypot_jvp, M.hypot_vjp, 0.0, 0.0, position=position) == 0.0
    for position in (0, 1, 2):
        assert jacobians(math.hypot, MJ.hypot3_jvp, M.hypot3_vjp, 0.0, 0.0, 0.0, position=position) == 0.0
    for position in (0, 1):
        np.testing.assert_array_equal(jacobians(math.dist, MJ.dist_jvp, M.dist_vjp, [1.0, 2.0], [1.0, 2.0], position=position), 0.0)
    assert jacobians(math.copysign, MJ.copysign_jvp, M.copysign_vjp, -0.0, 2.0, position=0) == -1.0


def test_ties_go_to_the_argument_python_returns():
    assert jacobians(max, BJ.max_jvp, B.max_vjp, 2.0, 2.0, position=0) == 1.0
    assert jacobians(max, BJ.max_jvp, B.max_vjp, 2.0, 2.0, position=1) == 0.0
    assert jacobians(min, BJ.min_jvp, B.min_vjp, 2.0, 2.0, position=0) == 1.0
    assert jacobians(min, BJ.min_jvp, B.min_vjp, 2.0, 2.0, position=1) == 0.0
    np.testing.assert_array_equal(jacobians(max, BJ.max_iterable_jvp, B.max_iterable_vjp, [1.0, 3.0, 3.0], position=0), [[0.0, 1.0, 0.0]])
    np.testing.assert_array_equal(jacobians(min, BJ.min_iterable_jvp, B.min_iterable_vjp, (1.0, 3.0, 1.0), position=0), [[1.0, 0.0, 0.0]])
    np.testing.assert_array_equal(jacobians(max, BJ.max_iterable_jvp, B.max_iterable_vjp, np.array([2.0, 2.0]), position=0), [[1.0, 0.0]])


def test_zero_cotangents_of_sequences_count_as_zeros():
    """In derivative code a sequence's cotangent may be the scalar 0.0 (nothing reached it)."""
    assert S.sum_of_products(0.0, [1.0, 2.0]) == 0.0
    assert M.scaled_like([1.0, 2.0], 3.0, 0.0) == ListCotangent([0.0, 0.0])
    assert S.prod_form([1.0, 2.0], 0.0) == 0.0
    bars = S.dist_cotangents_vjp(TupleCotangent((ListCotangent([1.0, 0.5]), 0.0)), None, 2.0, 5.0, [1.0, 2.0], [4.0, -2.0])
    dense = S.dist_cotangents_vjp((ListCotangent([1.0, 0.5]), ListCotangent([0.0, 0.0])), None, 2.0, 5.0, [1.0, 2.0], [4.0, -2.0])
    assert bars[:2] == dense[:2] and list(bars[2]) == list(dense[2]) and list(bars[3]) == list(dense[3])


def test_digamma_slope_gives_second_derivatives_of_gamma():
    """lgamma'' = polygamma(1, x), through the forward rule of the reverse rule's helper."""
    h = 1e-4
    for x in (0.3, 4.0, -2.5):
        fd = (M.digamma(x + h) - M.digamma(x - h)) / (2 * h)
        (term,) = Rule(M.digamma, MJ.digamma_jvp).terms()
        assert term(1.0, M.digamma(x), x) == pytest.approx(fd, rel=1e-6)


# ---- coverage ---------------------------------------------------------------------------
def test_every_reverse_rule_has_a_forward_rule_of_the_same_arity():
    assert missing_forward_rules(RULE_MODULES + JVP_MODULES) == []
    assert find_jvp_rule(math.log, 1, ()).fn is NJ.log_jvp
    assert find_jvp_rule(math.log, 2, ()).fn is MJ.log_base_jvp
    assert find_jvp_rule(math.hypot, 3, ()).fn is MJ.hypot3_jvp
    assert find_jvp_rule(max, 1, ()).fn is BJ.max_iterable_jvp
    assert find_jvp_rule(max, 2, ()).fn is BJ.max_jvp
    assert find_jvp_rule(sum, 2, ()).fn is BJ.sum_start_jvp
    assert find_jvp_rule(math.prod, 1, ("start",)).fn is MJ.prod_start_jvp
    assert find_jvp_rule(pow, 2, ()).fn is BJ.power_jvp
    assert find_jvp_rule(pow, 3, ()) is None


def test_every_rule_is_in_the_table():
    tested = {jvp for _, jvp, _, _ in TABLE} | {MJ.prod_start_jvp, S.prod_form_jvp, S.prod_tangent_jvp}
    ours = {r.fn for rules in all_jvp_rules().values() for r in rules if r.fn.__module__ in JVP_MODULES}
    assert len(ours) > 50
    assert ours - tested == set()


def test_every_forward_rule_has_one_term_per_argument():
    for rules in all_jvp_rules().values():
        for rule in rules:
            if rule.fn.__module__ in JVP_MODULES and rule.inline:
                assert len(rule.terms()) == len(rule.primal_params), rule.fn.__name__


def test_template_helpers_are_nondifferentiable_or_have_both_rules():
    helpers = template_helpers(RULE_MODULES + JVP_MODULES)
    for name in ("digamma", "sign", "sum_cotangent", "prod_cotangent", "dist_cotangents", "scaled_like",
                 "one_hot", "first_extreme", "polygamma", "sum_of_products", "prod_form", "prod_tangent"):
        assert any(key.endswith("." + name) for key in helpers), name
    assert undifferentiated_helpers(helpers) == []
    assert is_nondifferentiable(M.sign) and is_nondifferentiable(B.first_extreme)


# ---- the helpers' reverse rules inline into generated derivative code ---------------------
def _calls_sequence_helpers(x, y):
    c = M.prod_cotangent(x, [x, y, 2.0], 1.5)
    d = M.dist_cotangents(x, y, [x, y], [1.0, 2.0])
    e = M.scaled_like([x, y], y, [x, 2.0])
    s = B.sum_cotangent(x, [x, y])
    o = B.one_hot(y, [x, y], 1)
    total = c[0] * c[1] + c[2] + d[0][0] * d[1][1] + e[0] * e[1] + s[0] * s[1] + o[1] * x
    return total + S.sum_of_products([x, y], [y, x]) * x + S.prod_form([x, y, 2.0], [y, 1.0, x]) * y


def _calls_special_helpers(x, y):
    only_first = M.dist_cotangents(x, y, [x, y], [1.0, 2.0])[0]  # the other cotangent stays 0.0
    return M.digamma(x) * MJ.polygamma(1, y) + S.prod_tangent(x, [x, y], 2.0, [y, x])[0] * y + only_first[1]


def test_helper_rules_inline_into_generated_derivatives():
    for x, y in ((0.7, 1.3), (-0.4, 2.2)):
        srcgrad.check_grad(_calls_sequence_helpers, x, y, wrt=(0, 1))
        srcgrad.check_grad(_calls_special_helpers, x + 2.0, y, wrt=(0, 1))
