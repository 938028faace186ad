"""Reverse rules of NumPy shape, joining, product and linear-algebra functions, checked one
by one against central finite differences (the inner-product test of check_vjp_rule)."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import srcgrad.rules  # noqa: F401  (registers every rule)
from srcgrad.rules import array_vjp as ar
from srcgrad.rules import linalg_vjp as la
from srcgrad.rules import products_vjp as pr
from srcgrad.rules.registry import all_rules
from srcgrad.runtime.core import ListCotangent, TupleCotangent
from srcgrad.tools.testing import check_vjp_rule

R = np.random.default_rng(1)


def r(*shape):
    return R.standard_normal(shape)


def spd(n, batch=()):
    x = r(*batch, n, n)
    return x @ np.swapaxes(x, -1, -2) + n * np.eye(n)


def well(n, batch=()):
    return r(*batch, n, n) + 3 * np.eye(n)


def sym(n):
    x = r(n, n)
    return x + x.T


# (primal, rule, args, kwargs): every registered rule appears at least once.
CASES = [
    # method primals
    (ar.copy, ar.copy_method_vjp, (r(3, 2),), {}),
    (ar.astype, ar.astype_vjp, (r(3, 2), np.float64), {}),
    (ar.astype, ar.astype_vjp, (r(4).astype(np.float32), np.float64), {}),
    (ar.flatten, ar.flatten_vjp, (r(3, 2),), {}),
    (ar.flatten, ar.flatten_vjp, (r(3, 2, 2), "F"), {}),
    (ar.item, ar.item_vjp, (r(1, 1),), {}),
    (ar.item, ar.item_at_vjp, (r(3, 4), 5), {}),
    (ar.item, ar.item_at_vjp, (r(3, 4), 2, 1), {}),
    (ar.item, ar.item_at_vjp, (r(3, 4), (1, -1)), {}),
    # products
    (np.dot, pr.dot_vjp, (r(4), r(4)), {}),
    (np.dot, pr.dot_vjp, (r(3, 4), r(4, 2)), {}),
    (np.dot, pr.dot_vjp, (r(3, 4), r(4)), {}),
    (np.dot, pr.dot_vjp, (r(4), r(4, 2)), {}),
    (np.dot, pr.dot_vjp, (r(2, 3, 4), r(5, 4, 2)), {}),
    (np.dot, pr.dot_vjp, (r(2, 3, 4), r(4)), {}),
    (np.dot, pr.dot_vjp, (1.5, r(3, 2)), {}),
    (np.dot, pr.dot_vjp, (r(3, 2), np.float64(0.7)), {}),
    (np.inner, pr.inner_vjp, (r(4), r(4)), {}),
    (np.inner, pr.inner_vjp, (r(2, 3, 4), r(5, 4)), {}),
    (np.inner, pr.inner_vjp, (2.0, r(3)), {}),
    (np.outer, pr.outer_vjp, (r(3), r(4)), {}),
    (np.outer, pr.outer_vjp, (r(2, 2), r(3)), {}),
    (np.vdot, pr.vdot_vjp, (r(3, 2), r(6)), {}),
    (np.tensordot, pr.tensordot_vjp, (r(2, 3, 4), r(3, 4, 5)), {}),
    (np.tensordot, pr.tensordot_vjp, (r(2, 3, 4), r(4, 5)), {"axes": 1}),
    (np.tensordot, pr.tensordot_vjp, (r(2, 3), r(4, 5)), {"axes": 0}),
    (np.tensordot, pr.tensordot_vjp, (r(2, 3, 4), r(4, 5, 3)), {"axes": ([1, 2], [2, 0])}),
    (np.tensordot, pr.tensordot_vjp, (r(2, 3, 4), r(4, 5, 3)), {"axes": ([-1, 1], [0, -1])}),
    (np.tensordot, pr.tensordot_vjp, (r(3, 2), r(3, 4)), {"axes": (0, 0)}),
    (np.kron, pr.kron_vjp, (r(2, 3), r(3, 2)), {}),
    (np.kron, pr.kron_vjp, (r(3), r(2, 2)), {}),
    (np.kron, pr.kron_vjp, (r(2, 1, 2), r(2)), {}),
    (np.cross, pr.cross_vjp, (r(3), r(3)), {}),
    (np.cross, pr.cross_vjp, (r(4, 3), r(3)), {}),
    (np.einsum, pr.einsum_vjp, ("ij,jk->ik", r(2, 3), r(3, 4)), {}),
    (np.einsum, pr.einsum_vjp, ("ij,jk", r(2, 3), r(3, 4)), {}),
    (np.einsum, pr.einsum_vjp, ("ba,ac", r(2, 3), r(3, 4)), {}),
    (np.einsum, pr.einsum_vjp, ("i,i->", r(5), r(5)), {}),
    (np.einsum, pr.einsum_vjp, ("i,j->ij", r(2), r(3)), {}),
    (np.einsum, pr.einsum_vjp, ("ij->ji", r(2, 3)), {}),
    (np.einsum, pr.einsum_vjp, ("ij->i", r(2, 3)), {}),
    (np.einsum, pr.einsum_vjp, ("ij", r(2, 3)), {}),
    (np.einsum, pr.einsum_vjp, ("ii->", r(3, 3)), {}),
    (np.einsum, pr.einsum_vjp, ("ii", r(3, 3)), {}),
    (np.einsum, pr.einsum_vjp, ("ii->i", r(3, 3)), {}),
    (np.einsum, pr.einsum_vjp, ("iij->j", r(3, 3, 2)), {}),
    (np.einsum, pr.einsum_vjp, ("ii,jk->kj", r(3, 3), r(2, 4)), {}),
    (np.einsum, pr.einsum_vjp, ("bij,bjk->bik", r(2, 3, 4), r(2, 4, 5)), {"optimize": True}),
    (np.einsum, pr.einsum_vjp, ("ij,kj,k->i", r(2, 3), r(4, 3), r(4)), {}),
    (np.einsum, pr.einsum_vjp, ("...ij,...jk->...ik", r(2, 3, 4), r(4, 5)), {}),
    (np.einsum, pr.einsum_vjp, ("...ij,...jk->...ik", r(2, 1, 3, 4), r(5, 4, 2)), {}),
    (np.einsum, pr.einsum_vjp, ("...i,...i", r(2, 3), r(3)), {}),
    (np.einsum, pr.einsum_vjp, ("Ab,bA", r(2, 3), r(3, 2)), {}),
    (np.trace, pr.trace_vjp, (r(3, 3),), {}),
    (np.trace, pr.trace_vjp, (r(3, 4),), {"offset": 1}),
    (np.trace, pr.trace_vjp, (r(4, 3),), {"offset": -2}),
    (np.trace, pr.trace_vjp, (r(2, 3, 4), 0, 2, 0), {}),
    (np.trace, pr.trace_vjp, (r(2, 3, 4),), {"axis1": -1, "axis2": -2}),
    (np.diagonal, pr.diagonal_vjp, (r(3, 3),), {}),
    (np.diagonal, pr.diagonal_vjp, (r(3, 5),), {"offset": 2}),
    (np.diagonal, pr.diagonal_vjp, (r(4, 3),), {"offset": -1}),
    (np.diagonal, pr.diagonal_vjp, (r(2, 3, 4),), {"axis1": 1, "axis2": 2}),
    (np.diagonal, pr.diagonal_vjp, (r(2, 3, 4), 1, -1, 0), {}),
    (np.diag, pr.diag_vjp, (r(3),), {}),
    (np.diag, pr.diag_vjp, (r(3),), {"k": -2}),
    (np.diag, pr.diag_vjp, (r(3, 3),), {}),
    (np.diag, pr.diag_vjp, (r(3, 5), 1), {}),
    (np.diag, pr.diag_vjp, (r(4, 3), -1), {}),
    # shapes
    (np.reshape, ar.reshape_vjp, (r(3, 4), (2, -1)), {}),
    (np.reshape, ar.reshape_vjp, (r(3, 4), (4, 3)), {"order": "F"}),
    (np.reshape, ar.reshape_vjp, (r(3, 4), -1), {}),
    (np.ravel, ar.ravel_vjp, (r(3, 4),), {}),
    (np.ravel, ar.ravel_vjp, (r(3, 4),), {"order": "F"}),
    (np.squeeze, ar.squeeze_vjp, (r(1, 3, 1),), {}),
    (np.squeeze, ar.squeeze_vjp, (r(1, 3, 1),), {"axis": 2}),
    (np.expand_dims, ar.expand_dims_vjp, (r(3, 2), 1), {}),
    (np.expand_dims, ar.expand_dims_vjp, (r(3, 2), (0, -1)), {}),
    (np.atleast_1d, ar.atleast_vjp, (np.float64(2.0),), {}),
    (np.atleast_2d, ar.atleast_vjp, (r(3),), {}),
    (np.atleast_3d, ar.atleast_vjp, (r(3, 2),), {}),
    (np.transpose, ar.transpose_vjp, (r(3, 4),), {}),
    (np.transpose, ar.transpose_vjp, (r(2, 3, 4), (1, 2, 0)), {}),
    (np.transpose, ar.transpose_vjp, (r(2, 3, 4),), {"axes": (-1, 0, 1)}),
    (np.swapaxes, ar.swapaxes_vjp, (r(2, 3, 4), 0, 2), {}),
    (np.moveaxis, ar.moveaxis_vjp, (r(2, 3, 4), 0, -1), {}),
    (np.moveaxis, ar.moveaxis_vjp, (r(2, 3, 4, 5), (0, 1), (3, 0)), {}),
    (np.broadcast_to, ar.broadcast_to_vjp, (r(3, 1), (2, 3, 4)), {}),
    (np.broadcast_to, ar.broadcast_to_vjp, (1.5, (2, 2)), {}),
    (np.flip, ar.flip_vjp, (r(3, 4),), {}),
    (np.flip, ar.flip_vjp, (r(3, 4), 1), {}),
    (np.flip, ar.flip_vjp, (r(2, 3, 4),), {"axis": (0, 2)}),
    (np.fliplr, ar.fliplr_vjp, (r(3, 4),), {}),
    (np.flipud, ar.flipud_vjp, (r(3, 4),), {}),
    (np.roll, ar.roll_vjp, (r(3, 4), 2), {}),
    (np.roll, ar.roll_vjp, (r(3, 4), -1, 1), {}),
    (np.roll, ar.roll_vjp, (r(3, 4), (1, 2), (0, 1)), {}),
    (np.tile, ar.tile_vjp, (r(3), 2), {}),
    (np.tile, ar.tile_vjp, (r(2, 3), (2, 1, 3)), {}),
    (np.tile, ar.tile_vjp, (r(2, 3, 2), (2, 3)), {}),
    (np.tile, ar.tile_vjp, (1.5, 3), {}),
    (np.repeat, ar.repeat_vjp, (r(2, 3), 2), {}),
    (np.repeat, ar.repeat_vjp, (r(2, 3), 3), {"axis": 1}),
    (np.repeat, ar.repeat_vjp, (r(2, 3), [1, 0, 2]), {"axis": -1}),
    (np.repeat, ar.repeat_vjp, (r(2, 3), np.array([2, 1])), {"axis": 0}),
    (np.repeat, ar.repeat_vjp, (r(2, 2), [1, 2, 0, 3]), {}),
    (np.repeat, ar.repeat_vjp, (np.float64(1.5), 3), {}),
    (np.copy, ar.copy_vjp, (r(3, 2),), {}),
    (np.array, ar.array_vjp, (r(3, 2),), {}),
    (np.array, ar.array_vjp, ([1.0, 2.0, 3.0],), {}),
    (np.array, ar.array_vjp, ([r(2), r(2)],), {"dtype": float}),
    (np.asarray, ar.array_vjp, ((r(2, 2), r(2, 2), r(2, 2)),), {}),
    (np.asarray, ar.array_vjp, ([[1.0, 2.0], [3.0, 4.0]],), {}),
    (np.asanyarray, ar.array_vjp, (r(4),), {}),
    # joining and splitting
    (np.concatenate, ar.concatenate_vjp, ([r(2, 3), r(4, 3)],), {}),
    (np.concatenate, ar.concatenate_vjp, ((r(2, 3), r(2, 1), r(2, 2)),), {"axis": 1}),
    (np.concatenate, ar.concatenate_vjp, ([r(2, 3), r(2, 3)], -1), {}),
    (np.concatenate, ar.concatenate_vjp, ([r(2, 3), r(4), 1.5],), {"axis": None}),
    (np.concatenate, ar.concatenate_vjp, (r(3, 2, 2),), {}),
    (np.stack, ar.stack_vjp, ([r(2, 3), r(2, 3)],), {}),
    (np.stack, ar.stack_vjp, ((r(2, 3), r(2, 3), r(2, 3)),), {"axis": -1}),
    (np.stack, ar.stack_vjp, ([1.0, 2.0],), {}),
    (np.hstack, ar.hstack_vjp, ([r(2), r(3), 1.5],), {}),
    (np.hstack, ar.hstack_vjp, ((r(2, 2), r(2, 3)),), {}),
    (np.vstack, ar.vstack_vjp, ([r(3), r(2, 3)],), {}),
    (np.vstack, ar.vstack_vjp, ((r(3), r(3)),), {}),
    (np.dstack, ar.dstack_vjp, ([r(3), r(3)],), {}),
    (np.dstack, ar.dstack_vjp, ([r(2, 3), r(2, 3, 2)],), {}),
    (np.column_stack, ar.column_stack_vjp, ([r(3), r(3, 2)],), {}),
    (np.split, ar.split_vjp, (r(6, 2), 3), {}),
    (np.split, ar.split_vjp, (r(2, 6), [1, 4]), {"axis": 1}),
    (np.array_split, ar.split_vjp, (r(7), 3), {}),
    (np.hsplit, ar.hsplit_vjp, (r(2, 4), 2), {}),
    (np.hsplit, ar.hsplit_vjp, (r(4), [1]), {}),
    (np.vsplit, ar.vsplit_vjp, (r(4, 2), [1, 3]), {}),
    # linear algebra
    (np.linalg.inv, la.inv_vjp, (well(3),), {}),
    (np.linalg.inv, la.inv_vjp, (well(2, (2,)),), {}),
    (np.linalg.det, la.det_vjp, (well(3),), {}),
    (np.linalg.det, la.det_vjp, (well(2, (3,)),), {}),
    (np.linalg.slogdet, la.slogdet_vjp, (well(3),), {}),
    (np.linalg.slogdet, la.slogdet_vjp, (-well(3, (2,)),), {}),
    (np.linalg.solve, la.solve_vjp, (well(3), r(3)), {}),
    (np.linalg.solve, la.solve_vjp, (well(3), r(3, 2)), {}),
    (np.linalg.solve, la.solve_vjp, (well(3, (2,)), r(3)), {}),
    (np.linalg.solve, la.solve_vjp, (well(3, (2,)), r(2, 3, 2)), {}),
    (np.linalg.solve, la.solve_vjp, (well(3), r(2, 3, 2)), {}),
    (np.linalg.solve, la.solve_vjp, (well(3, (2,)), r(3, 1)), {}),
    (np.linalg.cholesky, la.cholesky_vjp, (spd(3),), {}),
    (np.linalg.cholesky, la.cholesky_vjp, (spd(3, (2,)),), {}),
    (np.linalg.cholesky, la.cholesky_vjp, (spd(3),), {"upper": True}),
    (np.linalg.pinv, la.pinv_vjp, (r(3, 2),), {}),
    (np.linalg.pinv, la.pinv_vjp, (r(2, 4),), {}),
    (np.linalg.pinv, la.pinv_vjp, (well(3, (2,)),), {}),
    (np.linalg.eigh, la.eigh_vjp, (sym(3),), {}),
    (np.linalg.eigh, la.eigh_vjp, (sym(4),), {"UPLO": "U"}),
    (np.linalg.eigvalsh, la.eigvalsh_vjp, (sym(3),), {}),
    (np.linalg.eigvalsh, la.eigvalsh_vjp, (sym(3), "U"), {}),
]


def _case_id(case):
    primal, rule, args, kwargs = case
    return f"{getattr(primal, '__name__', primal)}-{rule.__name__}"


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_rule_matches_finite_differences(case):
    primal, rule, args, kwargs = case
    check_vjp_rule(primal, rule, *args, **kwargs)


def _our_rules():
    for primal, rules in all_rules().items():
        for rule in rules:
            if rule.fn.__module__ in (ar.__name__, la.__name__):
                yield primal, rule


def test_every_rule_is_in_the_table():
    tested = {(primal, rule) for primal, rule, _, _ in CASES}
    missing = [f"{getattr(p, '__name__', p)}: {r.fn.__name__}" for p, r in _our_rules() if (p, r.fn) not in tested]
    assert not missing, missing


def test_templates_parse():
    for _, rule in _our_rules():
        params = rule.signature.parameters.values()
        if rule.inline and not any(p.kind is p.VAR_POSITIONAL for p in params):
            rule.template()


def test_trailing_defaults_match_numpy():
    """Parameters the rule does not differentiate carry the primal's own defaults."""
    for primal, rule in _our_rules():
        try:
            numpy_params = inspect.signature(primal).parameters
        except (TypeError, ValueError):
            continue
        for param in rule.primal_params:
            theirs = numpy_params.get(param.name)
            if param.default is not param.empty and theirs is not None and theirs.default is not theirs.empty:
                assert param.default == theirs.default, (primal, param.name)


def _inner_product_with_zero_pieces(primal, rule, args, zero):
    """check_vjp_rule, with some output cotangents the symbolic zero 0.0."""
    rng = np.random.default_rng(0)
    out = primal(*args)
    g = [0.0 if i in zero else rng.standard_normal(np.shape(o)) for i, o in enumerate(out)]
    (bar,) = rule(g, out, *args)[:1]
    u = rng.standard_normal(np.shape(args[0]))
    step = 1e-6
    plus, minus = primal(args[0] + step * u, *args[1:]), primal(args[0] - step * u, *args[1:])
    want = sum(np.sum(gi * (p - m) / (2 * step)) for gi, p, m in zip(g, plus, minus))
    assert np.shape(bar) == np.shape(args[0])
    np.testing.assert_allclose(np.vdot(bar, u), want, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("zero", [{0}, {1, 2}, {0, 1, 2}])
def test_split_with_unused_pieces(zero):
    _inner_product_with_zero_pieces(np.split, ar.split_vjp, (r(6, 2), 3), zero)
    _inner_product_with_zero_pieces(np.array_split, ar.split_vjp, (r(7), 3), zero)


def test_split_zero_pieces_as_list_cotangent():
    x = r(4)
    g = ListCotangent([np.ones(2), 0.0])
    (bar,) = ar.split_vjp(g, np.split(x, 2), x, 2)
    np.testing.assert_array_equal(bar, [1.0, 1.0, 0.0, 0.0])


def test_slogdet_sign_cotangent_may_be_zero_or_none():
    a = well(3)
    inv_t = np.linalg.inv(a).T
    for g in [(0.0, 2.0), (None, 2.0), TupleCotangent((0.0, 2.0)), [0.0, 2.0]]:
        (bar,) = la.slogdet_vjp(g, np.linalg.slogdet(a), a)
        np.testing.assert_allclose(bar, 2.0 * inv_t)
    (bar,) = la.slogdet_vjp((1.0, 0.0), np.linalg.slogdet(a), a)
    np.testing.assert_array_equal(bar, np.zeros((3, 3)))


def test_eigh_with_one_zero_cotangent():
    a = sym(3)
    w, v = np.linalg.eigh(a)
    (only_w,) = la.eigh_vjp((np.ones(3), 0.0), (w, v), a)
    np.testing.assert_allclose(only_w, np.eye(3), atol=1e-12)  # d trace(A) = I
    (nothing,) = la.eigh_vjp((0.0, 0.0), (w, v), a)
    np.testing.assert_array_equal(nothing, np.zeros((3, 3)))


def test_list_and_tuple_cotangent_types():
    a, b = r(2, 3), r(1, 3)
    (bar,) = ar.concatenate_vjp(r(3, 3), None, [a, b])
    assert type(bar) is ListCotangent and [np.shape(p) for p in bar] == [(2, 3), (1, 3)]
    (bar,) = ar.stack_vjp(r(2, 2, 3), None, (a[0:2], a[0:2]), 0)
    assert type(bar) is TupleCotangent and len(bar) == 2
    (bar,) = ar.array_vjp(r(2, 2), None, [[1.0, 2.0], (3.0, 4.0)])
    assert type(bar) is ListCotangent and type(bar[1]) is TupleCotangent
    (bar,) = ar.array_vjp(0.0, None, [1.0, 2.0])
    assert list(bar) == [0.0, 0.0]


def test_dtypes_are_kept():
    x32 = r(2, 3).astype(np.float32)
    (bar,) = ar.astype_vjp(np.ones((2, 3)), None, x32, np.float64)
    assert bar.dtype == np.float32
    (bar,) = ar.item_vjp(2.0, None, x32[:1, :1])
    assert bar.dtype == np.float32 and bar.shape == (1, 1)
    (bar,) = ar.item_at_vjp(2.0, None, x32, 4)
    assert bar.dtype == np.float32 and bar[1, 1] == 2.0 and bar.sum() == 2.0
    (bar,) = pr.diagonal_vjp(np.ones(2, np.float32), None, x32)
    assert bar.dtype == np.float32


def test_rules_do_not_write_into_g_or_inputs():
    x, g = r(2, 3), r(6)
    saved = [x.copy(), g.copy()]
    ar.reshape_vjp(g, None, x, (6,))
    ar.repeat_vjp(np.repeat(g, [1, 2, 0, 1, 1, 1]), None, g, [1, 2, 0, 1, 1, 1])
    ar.concatenate_vjp(g, None, [x[0], x[1]])
    np.testing.assert_array_equal(x, saved[0])
    np.testing.assert_array_equal(g, saved[1])


def test_cross_rejects_2_vectors():
    with pytest.raises(NotImplementedError):
        pr.cross_vjp(r(3), None, r(3, 2), r(3, 2))


def test_einsum_needs_a_subscripts_string():
    with pytest.raises(NotImplementedError):
        pr.einsum_vjp(r(2), None, r(2), [0], r(2), [0])


def test_method_primals_behave_like_the_methods():
    x = r(2, 3)
    assert ar.copy({"a": 1}) == {"a": 1} and ar.copy([1, 2]) == [1, 2]
    assert ar.astype(x, np.float32).dtype == np.float32
    np.testing.assert_array_equal(ar.flatten(x), x.flatten())
    np.testing.assert_array_equal(ar.flatten(x, "F"), x.flatten("F"))
    assert ar.item(x[:1, :1]) == x[0, 0] and ar.item(x, 4) == x[1, 1] and ar.item(x, 1, 2) == x[1, 2]
    flat = ar.flatten(x)
    flat[0] = 99.0
    assert x[0, 0] != 99.0
