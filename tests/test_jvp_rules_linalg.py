"""Forward rules of `np.linalg` (and both rules of the helpers of its templates), checked
against central finite differences and, by the inner-product test, against the reverse
rules."""

from __future__ import annotations

import numpy as np
import pytest
from array_jvp_checks import matched, rules_of, tangent_of

import srcgrad.rules  # noqa: F401  (registers every rule)
from srcgrad.rules import linalg_helpers as lh
from srcgrad.rules import linalg_jvp as lj
from srcgrad.rules import linalg_vjp as la
from srcgrad.rules.registry import Rule, all_jvp_rules
from srcgrad.runtime import tree
from srcgrad.tools.testing import check_jvp_rule

R = np.random.default_rng(11)


def r(*shape):
    return R.standard_normal(shape)


def spd(n, batch=()):
    x = r(*batch, n, n)
    return x @ np.swapaxes(x, -1, -2) + n * np.eye(n)


def well(n, batch=()):
    return r(*batch, n, n) + 3 * np.eye(n)


def sym(n, batch=()):
    x = r(*batch, n, n)
    return x + np.swapaxes(x, -1, -2)


CASES = [  # (primal, forward rule, reverse rule, args, kwargs): the points of test_rules_array.py
    (np.linalg.inv, lj.inv_jvp, la.inv_vjp, (well(3),), {}),
    (np.linalg.inv, lj.inv_jvp, la.inv_vjp, (well(2, (2,)),), {}),
    (np.linalg.det, lj.det_jvp, la.det_vjp, (well(3),), {}),
    (np.linalg.det, lj.det_jvp, la.det_vjp, (well(2, (3,)),), {}),
    (np.linalg.slogdet, lj.slogdet_jvp, la.slogdet_vjp, (well(3),), {}),
    (np.linalg.slogdet, lj.slogdet_jvp, la.slogdet_vjp, (-well(3, (2,)),), {}),
    (np.linalg.solve, lj.solve_jvp, la.solve_vjp, (well(3), r(3)), {}),
    (np.linalg.solve, lj.solve_jvp, la.solve_vjp, (well(3), r(3, 2)), {}),
    (np.linalg.solve, lj.solve_jvp, la.solve_vjp, (well(3, (2,)), r(3)), {}),
    (np.linalg.solve, lj.solve_jvp, la.solve_vjp, (well(3, (2,)), r(2, 3, 2)), {}),
    (np.linalg.solve, lj.solve_jvp, la.solve_vjp, (well(3), r(2, 3, 2)), {}),
    (np.linalg.solve, lj.solve_jvp, la.solve_vjp, (well(3, (2,)), r(3, 1)), {}),
    (np.linalg.cholesky, lj.cholesky_jvp, la.cholesky_vjp, (spd(3),), {}),
    (np.linalg.cholesky, lj.cholesky_jvp, la.cholesky_vjp, (spd(3, (2,)),), {}),
    (np.linalg.cholesky, lj.cholesky_jvp, la.cholesky_vjp, (spd(3),), {"upper": True}),
    (np.linalg.cholesky, lj.cholesky_jvp, la.cholesky_vjp, (spd(4, (2,)),), {"upper": True}),
    (np.linalg.pinv, lj.pinv_jvp, la.pinv_vjp, (r(3, 2),), {}),
    (np.linalg.pinv, lj.pinv_jvp, la.pinv_vjp, (r(2, 4),), {}),
    (np.linalg.pinv, lj.pinv_jvp, la.pinv_vjp, (well(3, (2,)),), {}),
    (np.linalg.eigh, lj.eigh_jvp, la.eigh_vjp, (sym(3),), {}),
    (np.linalg.eigh, lj.eigh_jvp, la.eigh_vjp, (sym(4),), {"UPLO": "U"}),
    (np.linalg.eigh, lj.eigh_jvp, la.eigh_vjp, (sym(3, (2,)),), {}),
    (np.linalg.eigvalsh, lj.eigvalsh_jvp, la.eigvalsh_vjp, (sym(3),), {}),
    (np.linalg.eigvalsh, lj.eigvalsh_jvp, la.eigvalsh_vjp, (sym(3), "U"), {}),
]


def _case_id(case):
    primal, rule, _, args, kwargs = case
    return f"{primal.__name__}-{[np.shape(a) for a in args]}-{kwargs}"


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_forward_rule(case):
    primal, jvp, vjp, args, kwargs = case
    check_jvp_rule(primal, jvp, *args, vjp=vjp, **kwargs)


# ---- the helpers' rules ---------------------------------------------------------------------


def _eig(a, uplo="L"):
    w, v = np.linalg.eigh(a, uplo)
    return w, v


def _helper_cases():
    for uplo in "LU":
        yield "on_triangle", la.on_triangle, lh.on_triangle_jvp, (r(2, 3, 3), uplo)
        yield "from_triangle", lh.from_triangle, lh.from_triangle_jvp, (r(2, 3, 3), uplo)
        eig = _eig(sym(4), uplo)
        yield "eigh_tangent", lh.eigh_tangent, lh.eigh_tangent_jvp, (r(4, 4), eig, uplo)
        yield "eigh_adjoint", la.eigh_adjoint, lh.eigh_adjoint_jvp, ((r(4), r(4, 4)), eig, uplo)
        yield "eigh_adjoint-values", la.eigh_adjoint, lh.eigh_adjoint_jvp, ((r(4), np.zeros((4, 4))), eig, uplo)
    eig = _eig(sym(3, (2,)))
    yield "eigh_tangent-stack", lh.eigh_tangent, lh.eigh_tangent_jvp, (r(2, 3, 3), eig, "L")
    yield "eigh_adjoint-stack", la.eigh_adjoint, lh.eigh_adjoint_jvp, ((r(2, 3), r(2, 3, 3)), eig, "L")
    yield "inverse_gaps", lh.inverse_gaps, lh.inverse_gaps_jvp, (r(4),)
    yield "inverse_gaps-stack", lh.inverse_gaps, lh.inverse_gaps_jvp, (r(2, 3),)
    for a, b in [(well(3), r(3)), (well(3), r(3, 2)), (well(3, (2,)), r(3)), (well(3), r(2, 3, 2)),
                 (well(3, (2,)), r(3, 1))]:
        x = np.linalg.solve(a, b)
        yield "solve_cotangents", la.solve_cotangents, lh.solve_cotangents_jvp, (r(*x.shape), x, a, b)
    for upper in (False, True):
        for batch in ((), (2,)):
            L = np.linalg.cholesky(spd(3, batch), upper=upper)
            yield f"cholesky_adjoint-{upper}", la.cholesky_adjoint, lh.cholesky_adjoint_jvp, (r(*L.shape), L, upper)
    for a in [r(3, 2), r(2, 4), well(3, (2,))]:
        p = np.linalg.pinv(a)
        yield "pinv_adjoint", la.pinv_adjoint, lh.pinv_adjoint_jvp, (r(*p.shape), p, a)


HELPER_CASES = list(_helper_cases())
HELPER_VJP = {la.on_triangle: lh.on_triangle_vjp, lh.from_triangle: lh.from_triangle_vjp,
              lh.eigh_tangent: lh.eigh_tangent_vjp, la.eigh_adjoint: lh.eigh_adjoint_vjp,
              lh.inverse_gaps: lh.inverse_gaps_vjp, la.solve_cotangents: lh.solve_cotangents_vjp,
              la.cholesky_adjoint: lh.cholesky_adjoint_vjp, la.pinv_adjoint: lh.pinv_adjoint_vjp}


@pytest.mark.parametrize("helper, jvp, args", [c[1:] for c in HELPER_CASES], ids=[c[0] for c in HELPER_CASES])
def test_helper_rules(helper, jvp, args):
    check_jvp_rule(helper, jvp, *args, vjp=matched(HELPER_VJP[helper]))


def test_every_forward_rule_is_in_a_table():
    tested = {c[1] for c in CASES} | {c[2] for c in HELPER_CASES}
    ours = {rule.fn for _, rule in rules_of(all_jvp_rules(), {lj.__name__, lh.__name__})}
    assert ours - tested == set()


# ---- conventions ----------------------------------------------------------------------------


def test_triangular_functions_read_one_triangle():
    """Only the triangle NumPy reads moves the result; the other one has no tangent."""
    a, strict_upper = spd(3), np.triu(r(3, 3), 1)
    for primal, jvp, kwargs in [(np.linalg.cholesky, lj.cholesky_jvp, {}), (np.linalg.eigh, lj.eigh_jvp, {}),
                                (np.linalg.eigvalsh, lj.eigvalsh_jvp, {})]:
        for leaf in tree.leaves(tangent_of(primal, jvp, strict_upper, a, **kwargs)):
            np.testing.assert_array_equal(leaf, 0.0)
    for primal, jvp, kwargs in [(np.linalg.cholesky, lj.cholesky_jvp, {"upper": True}), (np.linalg.eigh, lj.eigh_jvp, {"UPLO": "U"})]:
        for leaf in tree.leaves(tangent_of(primal, jvp, strict_upper.T, a, **kwargs)):
            np.testing.assert_array_equal(leaf, 0.0)


def test_slogdet_sign_has_a_zero_tangent():
    a = -well(3, (2,))
    sign, logdet = tangent_of(np.linalg.slogdet, lj.slogdet_jvp, r(2, 3, 3), a)
    np.testing.assert_array_equal(sign, np.zeros(2))
    assert np.shape(logdet) == (2,)
    sign, _ = tangent_of(np.linalg.slogdet, lj.slogdet_jvp, r(3, 3), well(3))
    assert sign == 0.0


def test_eigh_adjoint_with_a_zero_eigenvector_cotangent():
    """eigvalsh's reverse rule passes (g, 0.0): the rules read the symbolic zero as zeros."""
    a = sym(3)
    eig = _eig(a)
    g, t = (r(3), 0.0), (r(3), 0.0)
    full = Rule(la.eigh_adjoint, lh.eigh_adjoint_jvp).terms()[0](t, None, g, eig, "L")
    np.testing.assert_allclose(full, la.eigh_adjoint((t[0], np.zeros((3, 3))), eig, "L"))
    w_bar, v_bar = lh.eigh_adjoint_vjp(np.eye(3), None, g, eig, "L")[1]
    want = lh.eigh_adjoint_vjp(np.eye(3), None, (g[0], np.zeros((3, 3))), eig, "L")[1]
    np.testing.assert_allclose(w_bar, want[0])
    np.testing.assert_allclose(v_bar, want[1])
