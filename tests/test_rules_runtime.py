"""Rules of the runtime's own functions (what generated derivative code calls), checked like
every other rule: forward and reverse against finite differences and against each other."""

import numpy as np
import pytest

from srcgrad.rules import runtime_helpers as R
from srcgrad.rules.registry import all_jvp_rules, all_rules, is_nondifferentiable
from srcgrad.runtime import core as rt
from srcgrad.tools.testing import check_jvp_rule, check_vjp_rule

mat = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])
row = np.array([[0.3, -0.2, 0.9]])

# (primal, reverse rule, forward rule, points)
TABLE = [
    (rt.unbroadcast, R.unbroadcast_vjp, R.unbroadcast_jvp, [(mat, row), (mat, 1.0), (mat, mat)]),
    (rt.broadcast_like, R.broadcast_like_vjp, R.broadcast_like_jvp, [(row, mat), (0.5, mat), (mat, mat)]),
    (rt.getitem_vjp, R.getitem_vjp_vjp, R.getitem_vjp_jvp, [(1.5, mat, (1, 2)), (row[0], mat, 0), (mat[:, :2], mat, (slice(None), slice(0, 2)))]),
    (rt.getitem, R.getitem_rule_vjp, R.getitem_rule_jvp, [(mat, 1), (mat, (0, 2)), (mat, slice(0, 1))]),
    (rt.copy_item, R.copy_item_vjp, R.copy_item_jvp, [(mat, 1), (mat, (1, 1))]),
    (rt.zero_at, R.zero_at_vjp, R.zero_at_jvp, [(mat, 1), (mat, (0, 2))]),
    (rt.restored, R.restored_vjp, R.restored_jvp, [(mat, 1, row[0]), (mat, (0, 1), 2.5)]),
    (rt.with_item, R.with_item_vjp, R.with_item_jvp, [(mat, 0, row[0]), (mat, (1, 2), -0.5)]),
    (rt.match, R.match_vjp, R.match_jvp, [(mat, mat), (row, mat), (0.7, mat), (0.7, 2.0)]),
    (rt.unmatch, R.unmatch_vjp, R.unmatch_jvp, [(mat, row), (mat, 0.5)]),
    (rt.as_sequence, R.as_sequence_vjp, R.as_sequence_jvp, [(mat,)]),
]


@pytest.mark.parametrize("primal, vjp, jvp, args", [
    pytest.param(p, v, j, a, id=f"{p.__name__}-{i}") for p, v, j, points in TABLE for i, a in enumerate(points)
])
def test_runtime_rules_against_finite_differences(primal, vjp, jvp, args):
    check_vjp_rule(primal, vjp, *args)
    check_jvp_rule(primal, jvp, *args, vjp=vjp)


def test_tape_rules_transpose_each_other():
    """`pushed` (undoing a pop) and `drop_last` on list cotangents: <v, J u> = <J^T v, u>."""
    rng = np.random.default_rng(0)
    lst = [1.0, np.ones(2)]  # the list after the pop
    g = rt.ListCotangent([rng.standard_normal(), rng.standard_normal(2)])
    item = rng.standard_normal(3)
    out = rt.pushed(g, item, lst)
    assert len(out) == 3 and out[2] is item
    h = rt.ListCotangent([rng.standard_normal(), rng.standard_normal(2), rng.standard_normal(3)])
    back_g, back_item, _ = R.pushed_vjp(h, out, g, item, lst)
    forward = sum(np.vdot(a, b) for a, b in zip(h, out))
    assert forward == pytest.approx(sum(np.vdot(a, b) for a, b in zip(back_g, g)) + np.vdot(back_item, item))
    assert list(map(np.shape, rt.drop_last(h))) == [(), (2,)]
    assert rt.undrop_last(back_g, g)[-1] == 0.0
    assert rt.pushed(0.0, 2.0, [1.0, 1.0]) == [0.0, 0.0, 2.0]


def test_split_and_unsplit_are_transposes():
    g = np.arange(6.0).reshape(3, 2)
    parts = rt.split(g, 3)
    back = rt.unsplit(parts, g)
    np.testing.assert_array_equal(back, g)
    assert rt.unsplit((0.0, 0.0), g) == 0.0
    assert isinstance(rt.unsplit((1.0, 0.0), (0.5, 0.5)), rt.TupleCotangent)


def test_every_runtime_function_in_generated_code_is_differentiable_or_constant():
    names = ["seed", "getitem_vjp", "getitem", "zero_at", "copy_item", "drop_last", "is_zero", "match",
             "pushed", "restored", "unbroadcast", "broadcast_like", "zero_tangent", "with_item", "split", "as_sequence",
             "unmatch", "undrop_last", "unsplit"]
    for name in names:
        fn = getattr(rt, name)
        assert is_nondifferentiable(fn) or (fn in all_rules() and fn in all_jvp_rules()), name
