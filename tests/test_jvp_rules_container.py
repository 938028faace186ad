"""Forward rules for Python containers (and both rules of their templates' helpers),
checked against central finite differences and against the reverse rules."""

from __future__ import annotations

import numpy as np
import pytest
from array_jvp_checks import matched, rules_of, tangent_of

import srcgrad.rules  # noqa: F401  (registers every rule)
from srcgrad.rules import container_jvp as cj
from srcgrad.rules import container_vjp as cr
from srcgrad.rules.registry import all_jvp_rules
from srcgrad.runtime import core as rt
from srcgrad.tools.testing import check_jvp_rule

R = np.random.default_rng(5)


def r(*shape):
    return R.standard_normal(shape)


# Keys are ints: the test harness treats every leaf of a result as a number.
D = {3: r(2), 1: 1.5, 7: r(2, 2)}

CASES = [  # (primal, forward rule, reverse rule, args)
    (list, cj.sequence_jvp, cr.sequence_vjp, ((r(2), 1.5),)),
    (list, cj.sequence_jvp, cr.sequence_vjp, ([r(2), 1.5],)),
    (list, cj.sequence_jvp, cr.sequence_vjp, (r(3, 2),)),
    (list, cj.sequence_jvp, cr.sequence_vjp, (r(4),)),
    (tuple, cj.sequence_jvp, cr.sequence_vjp, ([r(2), 1.5],)),
    (tuple, cj.sequence_jvp, cr.sequence_vjp, ((r(2), 1.5),)),
    (tuple, cj.sequence_jvp, cr.sequence_vjp, (r(3, 2),)),
    (rt.as_sequence, cj.sequence_jvp, cr.sequence_vjp, (r(3, 2),)),
    (rt.as_sequence, cj.sequence_jvp, cr.sequence_vjp, ([r(2), 1.5],)),
    (rt.dict_items, cj.dict_items_jvp, cr.dict_items_vjp, (D,)),
    (rt.dict_values, cj.dict_values_jvp, cr.dict_values_vjp, (D,)),
    (rt.dict_get, cj.dict_get_jvp, matched(cr.dict_get_vjp), (D, 7, r(2, 2))),
    (rt.dict_get, cj.dict_get_jvp, matched(cr.dict_get_vjp), (D, 5, r(2, 2))),
    (rt.dict_get, cj.dict_get_jvp, matched(cr.dict_get_vjp), (D, 1, 0.5)),
]


@pytest.mark.parametrize("primal, jvp, vjp, args", CASES, ids=[f"{c[0].__name__}-{i}" for i, c in enumerate(CASES)])
def test_forward_rule(primal, jvp, vjp, args):
    check_jvp_rule(primal, jvp, *args, vjp=vjp)


def _value_like(x):
    return r(*np.shape(x)) if np.ndim(x) else float(R.standard_normal())


HELPER_CASES = [  # (helper, forward rule, reverse rule, args)
    (cr.sequence_cotangent, cj.sequence_cotangent_jvp, cj.sequence_cotangent_vjp, ([r(2), r(2), r(2)], (r(2), r(2), r(2)))),
    (cr.sequence_cotangent, cj.sequence_cotangent_jvp, cj.sequence_cotangent_vjp, ([r(2), 0.5], [r(2), 1.5])),
    (cr.sequence_cotangent, cj.sequence_cotangent_jvp, cj.sequence_cotangent_vjp, ([r(2), r(2), r(2)], r(3, 2))),
    (cr.items_cotangent, cj.items_cotangent_jvp, cj.items_cotangent_vjp, ([(k, _value_like(v)) for k, v in D.items()], D)),
    (cr.values_cotangent, cj.values_cotangent_jvp, cj.values_cotangent_vjp, ([_value_like(v) for v in D.values()], D)),
    (cj.items_tangent, cj.items_tangent_jvp, cj.items_tangent_vjp, ({k: _value_like(v) for k, v in D.items()}, D)),
    (cj.values_tangent, cj.values_tangent_jvp, cj.values_tangent_vjp, ({k: _value_like(v) for k, v in D.items()}, D)),
]


@pytest.mark.parametrize("helper, jvp, vjp, args", HELPER_CASES, ids=[c[0].__name__ for c in HELPER_CASES])
def test_helper_rules(helper, jvp, vjp, args):
    check_jvp_rule(helper, jvp, *args, vjp=matched(vjp))


def test_every_forward_rule_is_in_a_table():
    tested = {c[1] for c in CASES} | {c[1] for c in HELPER_CASES}
    ours = {rule.fn for _, rule in rules_of(all_jvp_rules(), {cj.__name__})}
    assert ours - tested == set()


def test_tangents_keep_the_container_structure():
    t = (np.ones(2), 0.0)
    assert type(tangent_of(list, cj.sequence_jvp, t, t)) is list
    x = [np.ones(2)]
    assert tangent_of(tuple, cj.sequence_jvp, [np.zeros(2)], x)[0].shape == (2,)
    keys = tangent_of(list, cj.sequence_jvp, {"a": np.ones(2)}, {"a": np.ones(2)})
    assert keys == [0.0]  # list(d) of a dict: its keys, which have no tangent
    same = [np.ones(2)]
    assert tangent_of(rt.as_sequence, cj.sequence_jvp, same, same) is same


def test_dict_tangents_are_read_by_key():
    d = {"a": 1.0, "b": np.ones(2)}
    tangent = {"b": np.full(2, 3.0), "a": 2.0}  # another key order
    items = tangent_of(rt.dict_items, cj.dict_items_jvp, tangent, d)
    assert [pair[0] for pair in items] == [0.0, 0.0] and items[0][1] == 2.0
    np.testing.assert_array_equal(items[1][1], [3.0, 3.0])
    values = tangent_of(rt.dict_values, cj.dict_values_jvp, tangent, d)
    assert values[0] == 2.0
    assert tangent_of(rt.dict_get, cj.dict_get_jvp, tangent, d, "a") == 2.0


def test_items_and_values_cotangents_with_missing_entries():
    d = {"a": 1.0, "b": np.ones(2)}
    partial = rt.DictCotangent({"b": np.full(2, 3.0)})
    items = cj.items_cotangent_vjp(partial, None, None, d)[0]
    assert items[0][1] == 0.0 and isinstance(items, rt.ListCotangent)
    assert cj.values_cotangent_vjp(0.0, None, None, d)[0] == [0.0, 0.0]
