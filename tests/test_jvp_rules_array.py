"""Forward rules of NumPy's shape, joining, splitting and product functions (and of their
templates' helpers), checked one by one against central finite differences and, by the
inner-product test, against the reverse rules."""

from __future__ import annotations

import numpy as np
import pytest
from array_jvp_checks import check_called_jvp, matched, rules_of

import srcgrad.rules  # noqa: F401  (registers every rule)
from srcgrad.rules import array_helpers as ah
from srcgrad.rules import array_jvp as aj
from srcgrad.rules import array_vjp as ar
from srcgrad.rules import products_helpers as ph
from srcgrad.rules import products_jvp as pj
from srcgrad.rules import products_vjp as pr
from srcgrad.rules.registry import all_jvp_rules, all_rules, find_jvp_rule
from srcgrad.runtime.core import ListCotangent
from srcgrad.tools.testing import check_jvp_rule

R = np.random.default_rng(7)


def r(*shape):
    return R.standard_normal(shape)


# (primal, forward rule, reverse rule, args, kwargs): the points of test_rules_array.py
CASES = [
    # method primals
    (ar.copy, aj.copy_method_jvp, ar.copy_method_vjp, (r(3, 2),), {}),
    (ar.astype, aj.astype_jvp, ar.astype_vjp, (r(3, 2), np.float64), {}),
    (ar.astype, aj.astype_jvp, ar.astype_vjp, (r(4).astype(np.float32), np.float64), {}),
    (ar.flatten, aj.flatten_jvp, ar.flatten_vjp, (r(3, 2),), {}),
    (ar.flatten, aj.flatten_jvp, ar.flatten_vjp, (r(3, 2, 2), "F"), {}),
    (ar.item, aj.item_jvp, ar.item_vjp, (r(1, 1),), {}),
    # products
    (np.dot, pj.dot_jvp, pr.dot_vjp, (r(4), r(4)), {}),
    (np.dot, pj.dot_jvp, pr.dot_vjp, (r(3, 4), r(4, 2)), {}),
    (np.dot, pj.dot_jvp, pr.dot_vjp, (r(3, 4), r(4)), {}),
    (np.dot, pj.dot_jvp, pr.dot_vjp, (r(4), r(4, 2)), {}),
    (np.dot, pj.dot_jvp, pr.dot_vjp, (r(2, 3, 4), r(5, 4, 2)), {}),
    (np.dot, pj.dot_jvp, pr.dot_vjp, (r(2, 3, 4), r(4)), {}),
    (np.dot, pj.dot_jvp, pr.dot_vjp, (1.5, r(3, 2)), {}),
    (np.dot, pj.dot_jvp, pr.dot_vjp, (r(3, 2), np.float64(0.7)), {}),
    (np.inner, pj.inner_jvp, pr.inner_vjp, (r(4), r(4)), {}),
    (np.inner, pj.inner_jvp, pr.inner_vjp, (r(2, 3, 4), r(5, 4)), {}),
    (np.inner, pj.inner_jvp, pr.inner_vjp, (2.0, r(3)), {}),
    (np.outer, pj.outer_jvp, pr.outer_vjp, (r(3), r(4)), {}),
    (np.outer, pj.outer_jvp, pr.outer_vjp, (r(2, 2), r(3)), {}),
    (np.vdot, pj.vdot_jvp, pr.vdot_vjp, (r(3, 2), r(6)), {}),
    (np.tensordot, pj.tensordot_jvp, pr.tensordot_vjp, (r(2, 3, 4), r(3, 4, 5)), {}),
    (np.tensordot, pj.tensordot_jvp, pr.tensordot_vjp, (r(2, 3, 4), r(4, 5)), {"axes": 1}),
    (np.tensordot, pj.tensordot_jvp, pr.tensordot_vjp, (r(2, 3), r(4, 5)), {"axes": 0}),
    (np.tensordot, pj.tensordot_jvp, pr.tensordot_vjp, (r(2, 3, 4), r(4, 5, 3)), {"axes": ([1, 2], [2, 0])}),
    (np.tensordot, pj.tensordot_jvp, pr.tensordot_vjp, (r(2, 3, 4), r(4, 5, 3)), {"axes": ([-1, 1], [0, -1])}),
    (np.tensordot, pj.tensordot_jvp, pr.tensordot_vjp, (r(3, 2), r(3, 4), (0, 0)), {}),
    (np.kron, pj.kron_jvp, pr.kron_vjp, (r(2, 3), r(3, 2)), {}),
    (np.kron, pj.kron_jvp, pr.kron_vjp, (r(3), r(2, 2)), {}),
    (np.kron, pj.kron_jvp, pr.kron_vjp, (r(2, 1, 2), r(2)), {}),
    (np.cross, pj.cross_jvp, pr.cross_vjp, (r(3), r(3)), {}),
    (np.cross, pj.cross_jvp, pr.cross_vjp, (r(4, 3), r(3)), {}),
    (np.cross, pj.cross_jvp, pr.cross_vjp, (r(3), r(2, 3)), {}),
    (np.trace, pj.trace_jvp, pr.trace_vjp, (r(3, 3),), {}),
    (np.trace, pj.trace_jvp, pr.trace_vjp, (r(3, 4),), {"offset": 1}),
    (np.trace, pj.trace_jvp, pr.trace_vjp, (r(4, 3),), {"offset": -2}),
    (np.trace, pj.trace_jvp, pr.trace_vjp, (r(2, 3, 4), 0, 2, 0), {}),
    (np.trace, pj.trace_jvp, pr.trace_vjp, (r(2, 3, 4),), {"axis1": -1, "axis2": -2}),
    (np.diagonal, pj.diagonal_jvp, pr.diagonal_vjp, (r(3, 3),), {}),
    (np.diagonal, pj.diagonal_jvp, pr.diagonal_vjp, (r(3, 5),), {"offset": 2}),
    (np.diagonal, pj.diagonal_jvp, pr.diagonal_vjp, (r(4, 3),), {"offset": -1}),
    (np.diagonal, pj.diagonal_jvp, pr.diagonal_vjp, (r(2, 3, 4),), {"axis1": 1, "axis2": 2}),
    (np.diagonal, pj.diagonal_jvp, pr.diagonal_vjp, (r(2, 3, 4), 1, -1, 0), {}),
    (np.diag, pj.diag_jvp, pr.diag_vjp, (r(3),), {}),
    (np.diag, pj.diag_jvp, pr.diag_vjp, (r(3),), {"k": -2}),
    (np.diag, pj.diag_jvp, pr.diag_vjp, (r(3, 3),), {}),
    (np.diag, pj.diag_jvp, pr.diag_vjp, (r(3, 5), 1), {}),
    (np.diag, pj.diag_jvp, pr.diag_vjp, (r(4, 3), -1), {}),
    # shapes
    (np.reshape, aj.reshape_jvp, ar.reshape_vjp, (r(3, 4), (2, -1)), {}),
    (np.reshape, aj.reshape_jvp, ar.reshape_vjp, (r(3, 4), (4, 3)), {"order": "F"}),
    (np.reshape, aj.reshape_jvp, ar.reshape_vjp, (r(3, 4), -1), {}),
    (np.reshape, aj.reshape_jvp, ar.reshape_vjp, (1.5, (1, 1)), {}),
    (np.ravel, aj.ravel_jvp, ar.ravel_vjp, (r(3, 4),), {}),
    (np.ravel, aj.ravel_jvp, ar.ravel_vjp, (r(3, 4),), {"order": "F"}),
    (np.squeeze, aj.squeeze_jvp, ar.squeeze_vjp, (r(1, 3, 1),), {}),
    (np.squeeze, aj.squeeze_jvp, ar.squeeze_vjp, (r(1, 3, 1),), {"axis": 2}),
    (np.expand_dims, aj.expand_dims_jvp, ar.expand_dims_vjp, (r(3, 2), 1), {}),
    (np.expand_dims, aj.expand_dims_jvp, ar.expand_dims_vjp, (r(3, 2), (0, -1)), {}),
    (np.atleast_1d, aj.atleast_jvp, ar.atleast_vjp, (np.float64(2.0),), {}),
    (np.atleast_2d, aj.atleast_jvp, ar.atleast_vjp, (r(3),), {}),
    (np.atleast_3d, aj.atleast_jvp, ar.atleast_vjp, (r(3, 2),), {}),
    (np.atleast_3d, aj.atleast_jvp, ar.atleast_vjp, (r(3),), {}),
    (np.transpose, aj.transpose_jvp, ar.transpose_vjp, (r(3, 4),), {}),
    (np.transpose, aj.transpose_jvp, ar.transpose_vjp, (r(2, 3, 4), (1, 2, 0)), {}),
    (np.transpose, aj.transpose_jvp, ar.transpose_vjp, (r(2, 3, 4),), {"axes": (-1, 0, 1)}),
    (np.swapaxes, aj.swapaxes_jvp, ar.swapaxes_vjp, (r(2, 3, 4), 0, 2), {}),
    (np.moveaxis, aj.moveaxis_jvp, ar.moveaxis_vjp, (r(2, 3, 4), 0, -1), {}),
    (np.moveaxis, aj.moveaxis_jvp, ar.moveaxis_vjp, (r(2, 3, 4, 5), (0, 1), (3, 0)), {}),
    (np.broadcast_to, aj.broadcast_to_jvp, ar.broadcast_to_vjp, (r(3, 1), (2, 3, 4)), {}),
    (np.broadcast_to, aj.broadcast_to_jvp, ar.broadcast_to_vjp, (1.5, (2, 2)), {}),
    (np.flip, aj.flip_jvp, ar.flip_vjp, (r(3, 4),), {}),
    (np.flip, aj.flip_jvp, ar.flip_vjp, (r(3, 4), 1), {}),
    (np.flip, aj.flip_jvp, ar.flip_vjp, (r(2, 3, 4),), {"axis": (0, 2)}),
    (np.fliplr, aj.fliplr_jvp, ar.fliplr_vjp, (r(3, 4),), {}),
    (np.flipud, aj.flipud_jvp, ar.flipud_vjp, (r(3, 4),), {}),
    (np.roll, aj.roll_jvp, ar.roll_vjp, (r(3, 4), 2), {}),
    (np.roll, aj.roll_jvp, ar.roll_vjp, (r(3, 4), -1, 1), {}),
    (np.roll, aj.roll_jvp, ar.roll_vjp, (r(3, 4), (1, 2), (0, 1)), {}),
    (np.tile, aj.tile_jvp, ar.tile_vjp, (r(3), 2), {}),
    (np.tile, aj.tile_jvp, ar.tile_vjp, (r(2, 3), (2, 1, 3)), {}),
    (np.tile, aj.tile_jvp, ar.tile_vjp, (r(2, 3, 2), (2, 3)), {}),
    (np.tile, aj.tile_jvp, ar.tile_vjp, (1.5, 3), {}),
    (np.repeat, aj.repeat_jvp, ar.repeat_vjp, (r(2, 3), 2), {}),
    (np.repeat, aj.repeat_jvp, ar.repeat_vjp, (r(2, 3), 3), {"axis": 1}),
    (np.repeat, aj.repeat_jvp, ar.repeat_vjp, (r(2, 3), [1, 0, 2]), {"axis": -1}),
    (np.repeat, aj.repeat_jvp, ar.repeat_vjp, (r(2, 3), np.array([2, 1])), {"axis": 0}),
    (np.repeat, aj.repeat_jvp, ar.repeat_vjp, (r(2, 2), [1, 2, 0, 3]), {}),
    (np.repeat, aj.repeat_jvp, ar.repeat_vjp, (np.float64(1.5), 3), {}),
    (np.copy, aj.copy_jvp, ar.copy_vjp, (r(3, 2),), {}),
    (np.copy, aj.copy_jvp, ar.copy_vjp, (r(3, 2), "F"), {}),
    (np.array, aj.array_jvp, ar.array_vjp, (r(3, 2),), {}),
    (np.array, aj.array_jvp, ar.array_vjp, ([1.0, 2.0, 3.0],), {}),
    (np.array, aj.array_jvp, ar.array_vjp, ([r(2), r(2)],), {"dtype": float}),
    (np.array, aj.array_jvp, ar.array_vjp, ([r(2), r(2)], np.float64), {}),
    (np.asarray, aj.array_jvp, ar.array_vjp, ((r(2, 2), r(2, 2), r(2, 2)),), {}),
    (np.asarray, aj.array_jvp, ar.array_vjp, ([[1.0, 2.0], [3.0, 4.0]],), {}),
    (np.asarray, aj.array_jvp, ar.array_vjp, (r(3),), {}),
    (np.asanyarray, aj.array_jvp, ar.array_vjp, (r(4),), {}),
    # joining and splitting
    (np.concatenate, aj.concatenate_jvp, ar.concatenate_vjp, ([r(2, 3), r(4, 3)],), {}),
    (np.concatenate, aj.concatenate_jvp, ar.concatenate_vjp, ((r(2, 3), r(2, 1), r(2, 2)),), {"axis": 1}),
    (np.concatenate, aj.concatenate_jvp, ar.concatenate_vjp, ([r(2, 3), r(2, 3)], -1), {}),
    (np.concatenate, aj.concatenate_jvp, ar.concatenate_vjp, ([r(2, 3), r(4), 1.5],), {"axis": None}),
    (np.concatenate, aj.concatenate_jvp, ar.concatenate_vjp, (r(3, 2, 2),), {}),
    (np.stack, aj.stack_jvp, ar.stack_vjp, ([r(2, 3), r(2, 3)],), {}),
    (np.stack, aj.stack_jvp, ar.stack_vjp, ((r(2, 3), r(2, 3), r(2, 3)),), {"axis": -1}),
    (np.stack, aj.stack_jvp, ar.stack_vjp, ([1.0, 2.0],), {}),
    (np.hstack, aj.hstack_jvp, ar.hstack_vjp, ([r(2), r(3), 1.5],), {}),
    (np.hstack, aj.hstack_jvp, ar.hstack_vjp, ((r(2, 2), r(2, 3)),), {}),
    (np.vstack, aj.vstack_jvp, ar.vstack_vjp, ([r(3), r(2, 3)],), {}),
    (np.vstack, aj.vstack_jvp, ar.vstack_vjp, ((r(3), r(3)),), {}),
    (np.dstack, aj.dstack_jvp, ar.dstack_vjp, ([r(3), r(3)],), {}),
    (np.dstack, aj.dstack_jvp, ar.dstack_vjp, ([r(2, 3), r(2, 3, 2)],), {}),
    (np.column_stack, aj.column_stack_jvp, ar.column_stack_vjp, ([r(3), r(3, 2)],), {}),
    (np.split, aj.split_jvp, ar.split_vjp, (r(6, 2), 3), {}),
    (np.split, aj.split_jvp, ar.split_vjp, (r(2, 6), [1, 4]), {"axis": 1}),
    (np.array_split, aj.array_split_jvp, ar.split_vjp, (r(7), 3), {}),
    (np.array_split, aj.array_split_jvp, ar.split_vjp, (r(2, 5), 2, 1), {}),
    (np.hsplit, aj.hsplit_jvp, ar.hsplit_vjp, (r(2, 4), 2), {}),
    (np.hsplit, aj.hsplit_jvp, ar.hsplit_vjp, (r(4), [1]), {}),
    (np.vsplit, aj.vsplit_jvp, ar.vsplit_vjp, (r(4, 2), [1, 3]), {}),
]


def _case_id(case):
    primal, rule, _, args, kwargs = case
    shapes = [np.shape(a) if isinstance(a, np.ndarray) else type(a).__name__ for a in args]
    return f"{getattr(primal, '__name__', primal)}-{rule.__name__}-{shapes}"


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_forward_rule(case):
    primal, jvp, vjp, args, kwargs = case
    check_jvp_rule(primal, jvp, *args, vjp=vjp, **kwargs)


# ---- rules that are called, not inlined (variadic primals) ---------------------------------

EINSUMS = [
    ("ij,jk->ik", r(2, 3), r(3, 4)), ("ij,jk", r(2, 3), r(3, 4)), ("ba,ac", r(2, 3), r(3, 4)),
    ("i,i->", r(5), r(5)), ("i,j->ij", r(2), r(3)), ("ij->ji", r(2, 3)), ("ii->", r(3, 3)),
    ("ii->i", r(3, 3)), ("iij->j", r(3, 3, 2)), ("ii,jk->kj", r(3, 3), r(2, 4)),
    ("bij,bjk->bik", r(2, 3, 4), r(2, 4, 5)), ("ij,kj,k->i", r(2, 3), r(4, 3), r(4)),
    ("...ij,...jk->...ik", r(2, 1, 3, 4), r(5, 4, 2)), ("...i,...i", r(2, 3), r(3)), ("Ab,bA", r(2, 3), r(3, 2)),
]


@pytest.mark.parametrize("subscripts, operands", [(e[0], e[1:]) for e in EINSUMS], ids=[e[0] for e in EINSUMS])
def test_einsum(subscripts, operands):
    n = len(operands)
    for positions in ([1], [n], list(range(1, n + 1))):
        check_called_jvp(np.einsum, pj.einsum_jvp, (subscripts, *operands), positions, vjp=pr.einsum_vjp)
    check_called_jvp(np.einsum, pj.einsum_jvp, (subscripts, *operands), range(1, n + 1), optimize=True)


def test_einsum_with_sublists():
    a, b = r(2, 3), r(3, 4)
    check_called_jvp(np.einsum, pj.einsum_jvp, (a, [0, 1], b, [1, 2], [0, 2]), [0, 2])
    assert pj.einsum_jvp((None, None, None), np.einsum("i,i", a[0], a[0]), "i,i", a[0], a[0]) is None


@pytest.mark.parametrize("args", [(r(3, 4), 5), (r(3, 4), 2, 1), (r(3, 4), (1, -1)), (r(3, 4), -1), (r(5), 2)])
def test_item_at(args):
    check_called_jvp(ar.item, aj.item_at_jvp, args, [0], vjp=ar.item_at_vjp)
    assert aj.item_at_jvp((None,) * len(args), ar.item(*args), *args) is None


def test_item_rules_by_arity():
    assert find_jvp_rule(ar.item, 1, ()).fn is aj.item_jvp
    assert find_jvp_rule(ar.item, 2, ()).fn is aj.item_at_jvp
    assert not find_jvp_rule(ar.item, 2, ()).inline


# ---- the helpers' rules ---------------------------------------------------------------------


def _helper_cases():
    x32 = r(2, 3).astype(np.float32)
    yield "cast_like", ar.cast_like, ah.cast_like_jvp, ah.cast_like_vjp, (x32, r(2, 3))
    yield "cast_like-float", ar.cast_like, ah.cast_like_jvp, ah.cast_like_vjp, (r(2, 3), r(2, 3))
    for index in [(5,), (2, 1), ((1, -1),), (-1,)]:
        yield f"item_cotangent-{index}", ar.item_cotangent, ah.item_cotangent_jvp, ah.item_cotangent_vjp, (0.7, r(3, 4), index)
    products = [  # (helper, primal, its other arguments, extra helper arguments)
        (pr.dot_adjoint, np.dot, [(r(3, 4), r(4, 2)), (r(2, 3, 4), r(5, 4, 2)), (1.5, r(3, 2)), (r(3, 2), np.float64(0.7))], ()),
        (pr.dot_adjoint, np.inner, [(r(2, 3, 4), r(5, 4)), (2.0, r(3))], (True,)),
        (pr.tensordot_adjoint, np.tensordot, [(r(2, 3, 4), r(4, 5, 3))], (([1, 2], [2, 0]),)),
        (pr.kron_adjoint, np.kron, [(r(2, 3), r(3, 2)), (r(3), r(2, 2))], ()),
        (pr.cross_adjoint, np.cross, [(r(4, 3), r(3)), (r(3), r(2, 3))], ()),
    ]
    rules = {pr.dot_adjoint: ph.dot_adjoint_jvp, pr.tensordot_adjoint: ph.tensordot_adjoint_jvp,
             pr.kron_adjoint: ph.kron_adjoint_jvp, pr.cross_adjoint: ph.cross_adjoint_jvp}
    for helper, primal, pairs, extra in products:
        for a, b in pairs:
            g = r(*np.shape(primal(a, b, *extra[:1]) if primal is np.tensordot else primal(a, b)))
            for which in (0, 1):
                args = (g, a, b, *extra, which) if helper is pr.tensordot_adjoint else (g, a, b, which, *extra)
                yield f"{helper.__name__}-{primal.__name__}-{which}", helper, rules[helper], None, args
    a = r(2, 3, 4)
    yield "trace_adjoint", pr.trace_adjoint, ph.trace_adjoint_jvp, ph.trace_adjoint_vjp, (r(3), a.shape, 0, 2, 0)
    yield "trace_adjoint-offset", pr.trace_adjoint, ph.trace_adjoint_jvp, ph.trace_adjoint_vjp, (0.4, (3, 4), 1, 0, 1)
    for shape, offset, axis1, axis2 in [(a.shape, 1, -1, 0), (a.shape, 0, 1, 2), ((3, 4), -1, 0, 1)]:
        g = r(*np.diagonal(np.zeros(shape), offset, axis1, axis2).shape)
        args = (g, shape, offset, axis1, axis2)
        yield "diagonal_adjoint", pr.diagonal_adjoint, ph.diagonal_adjoint_jvp, ph.diagonal_adjoint_vjp, args
    yield "tile_adjoint", ar.tile_adjoint, ah.tile_adjoint_jvp, ah.tile_adjoint_vjp, (r(2, 2, 9), r(2, 3), (2, 1, 3))
    yield "tile_adjoint-float", ar.tile_adjoint, ah.tile_adjoint_jvp, ah.tile_adjoint_vjp, (r(3), 1.5, 3)
    for args in [(r(4, 3), r(2, 3), 2, 0), (r(2, 3), r(2, 3), [1, 0, 2], -1), (r(6), r(2, 2), [1, 2, 0, 3], None),
                 (r(3), np.float64(1.5), 3, None)]:
        yield "repeat_adjoint", ar.repeat_adjoint, ah.repeat_adjoint_jvp, ah.repeat_adjoint_vjp, args
    for x in [r(3, 2), [1.0, 2.0, 3.0], [r(2), (0.5, 1.5)]]:
        yield "array_cotangent", ar.array_cotangent, ah.array_cotangent_jvp, ah.array_cotangent_vjp, (r(*np.shape(np.array(x))), x)
    for xs in [[r(2), r(2)], (r(2), r(2)), r(2, 2)]:
        yield "sequence_cotangent", ar.sequence_cotangent, ah.sequence_cotangent_jvp, ah.sequence_cotangent_vjp, (xs, [r(2), r(2)])
    joins = [([r(2, 3), r(4, 3)], 0, None), ([r(2, 3), r(4), 1.5], None, None), (r(3, 2, 2), 0, None),
             ([r(2), r(3), 1.5], 0, 1), ([r(2, 2), r(2, 3)], 1, 1), ([r(3), r(2, 3)], 0, 2), ([r(2, 3), r(2, 3, 2)], 2, 3),
             ([r(3), r(3, 2)], 1, "column")]
    joiners = {None: np.concatenate, 1: np.hstack, 2: np.vstack, 3: np.dstack, "column": np.column_stack}
    for xs, axis, promote in joins:
        joined = joiners[promote](xs, axis) if promote is None else joiners[promote](xs)
        args = (r(*joined.shape), xs, axis, promote)
        yield f"concatenate_pieces-{promote}", ar.concatenate_pieces, ah.concatenate_pieces_jvp, ah.concatenate_pieces_vjp, args
    for ary, sections, axis in [(r(6, 2), 3, 0), (r(2, 6), [1, 4], 1), (r(7), 3, 0)]:
        pieces = np.array_split(ary, sections, axis)
        g = [r(*p.shape) for p in pieces]
        yield "join_pieces", ar.join_pieces, ah.join_pieces_jvp, ah.join_pieces_vjp, (g, pieces, axis)


HELPER_CASES = list(_helper_cases())
PRODUCT_VJP = {pr.dot_adjoint: ph.dot_adjoint_vjp, pr.tensordot_adjoint: ph.tensordot_adjoint_vjp,
               pr.kron_adjoint: ph.kron_adjoint_vjp, pr.cross_adjoint: ph.cross_adjoint_vjp}


@pytest.mark.parametrize("helper, jvp, vjp, args", [c[1:] for c in HELPER_CASES], ids=[c[0] for c in HELPER_CASES])
def test_helper_rules(helper, jvp, vjp, args):
    check_jvp_rule(helper, jvp, *args, vjp=matched(vjp or PRODUCT_VJP[helper]))


EINSUM_HELPER = [("ij,jk->ik", r(2, 3), r(3, 4)), ("ii,jk->kj", r(3, 3), r(2, 4)), ("ij,kj,k->i", r(2, 3), r(4, 3), r(4)),
                 ("...ij,...jk->...ik", r(2, 1, 3, 4), r(5, 4, 2)), ("ij->", r(2, 3))]


@pytest.mark.parametrize("spec", EINSUM_HELPER, ids=[e[0] for e in EINSUM_HELPER])
def test_einsum_cotangents_rules(spec):
    subscripts, *operands = spec
    g = r(*np.shape(np.einsum(subscripts, *operands)))
    vjp = all_rules()[pr.einsum_cotangents][0]
    assert not vjp.inline
    for operands in (operands, tuple(operands)):
        args = (g, subscripts, operands)
        for positions in ([0], [2], [0, 2]):
            check_called_jvp(pr.einsum_cotangents, ph.einsum_cotangents_jvp, args, positions, vjp=vjp.fn)


def test_einsum_cotangents_zero_parts():
    a, b = r(2, 3), r(3, 4)
    bars = ph.einsum_cotangents_vjp(ListCotangent([r(2, 3), 0.0]), None, r(2, 4), "ij,jk->ik", [a, b])
    assert np.shape(bars[0]) == (2, 4) and [np.shape(p) for p in bars[2]] == [(2, 3), (3, 4)]
    np.testing.assert_array_equal(bars[2][0], np.zeros((2, 3)))


def test_every_forward_rule_is_in_a_table():
    tested = {c[1] for c in CASES} | {c[2] for c in HELPER_CASES} | {pj.einsum_jvp, aj.item_at_jvp, ph.einsum_cotangents_jvp}
    ours = {rule.fn for _, rule in rules_of(all_jvp_rules(), {aj.__name__, ah.__name__})}
    assert ours - tested == set()


def test_tangents_of_lists_are_lists():
    pieces = aj.split_jvp(r(6), None, None, 3)[0]
    assert isinstance(pieces, list) and len(pieces) == 3
    x = [r(2), r(2)]
    (tangent,) = aj.array_jvp([np.ones(2), np.zeros(2)], np.array(x), x)
    np.testing.assert_array_equal(tangent, [[1.0, 1.0], [0.0, 0.0]])
    y = r(3)
    (same,) = aj.array_jvp(y, np.asarray(y), y)
    assert same is y


def test_astype_keeps_the_result_dtype():
    x = r(3)
    (t,) = aj.astype_jvp(np.ones(3), ar.astype(x, np.float32), x, np.float32)
    assert t.dtype == np.float32
    (t,) = aj.astype_jvp(np.ones(3), ar.astype(x, int), x, int)
    assert t.dtype == np.float64  # an integer result: the tangent passes, as in the reverse rule
    x = [r(2), r(2)]
    (t,) = aj.array_jvp([np.ones(2), np.ones(2)], np.array(x, np.float32), x, np.float32)
    assert t.dtype == np.float32
    (t,) = ah.cast_like_jvp(np.ones(3), None, np.ones(3), np.ones(3, np.float32))[:1]
    assert t.dtype == np.float32
