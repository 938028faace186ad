"""Coverage of the forward rules of the reduction, array, linalg and container families:
every primal with a reverse rule has a forward rule for the same calls, and every helper
that a rule of these families calls is non-differentiable or has both rules (so that
generated derivative code can be differentiated again)."""

from __future__ import annotations

import ast
import inspect
import textwrap
import types

import pytest
from array_jvp_checks import arities, rules_of

import srcgrad.rules  # noqa: F401  (registers every rule)
from srcgrad.rules import (
    array_helpers,
    array_jvp,
    array_vjp,
    container_jvp,
    container_vjp,
    linalg_helpers,
    linalg_jvp,
    linalg_vjp,
    products_helpers,
    products_jvp,
    products_vjp,
    reduction_jvp,
    reduction_vjp,
)
from srcgrad.rules.registry import (
    all_jvp_rules,
    all_rules,
    find_jvp_rule,
    has_jvp_rule,
    has_vjp_rule,
    is_nondifferentiable,
)

FAMILY = {m.__name__ for m in (reduction_vjp, reduction_jvp, array_vjp, array_jvp, array_helpers,
                               linalg_vjp, linalg_jvp, linalg_helpers, container_vjp, container_jvp,
                               products_vjp, products_jvp, products_helpers)}
REVERSE = rules_of(all_rules(), FAMILY)
FORWARD = rules_of(all_jvp_rules(), FAMILY)


def _name(primal):
    return getattr(primal, "__name__", repr(primal))


def test_the_families_have_rules():
    assert len(REVERSE) > 100 and len(FORWARD) > 100


@pytest.mark.parametrize("primal, rule", REVERSE, ids=[f"{_name(p)}-{r.fn.__name__}" for p, r in REVERSE])
def test_every_reverse_rule_has_a_forward_rule_for_the_same_calls(primal, rule):
    for n, keywords in arities(rule):
        assert rule.accepts(n, keywords)
        assert find_jvp_rule(primal, n, keywords) is not None, f"{_name(primal)}: no forward rule for {n} arguments, keywords {keywords}"


@pytest.mark.parametrize("primal, rule", FORWARD, ids=[f"{_name(p)}-{r.fn.__name__}" for p, r in FORWARD])
def test_forward_rules_are_templates_or_called(primal, rule):
    variadic = any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in rule.signature.parameters.values())
    if not rule.inline:
        return
    assert not variadic, f"{rule.fn.__name__}: a variadic forward rule must be registered with inline=False"
    terms = rule.terms()
    assert len(terms) <= len(rule.primal_params)
    assert any(term is not None for term in terms)


@pytest.mark.parametrize("primal, rule", FORWARD, ids=[f"{_name(p)}-{r.fn.__name__}" for p, r in FORWARD])
def test_forward_rules_copy_the_reverse_signatures(primal, rule):
    """Same parameter names, kinds and defaults as the reverse rule of the same calls."""
    if not rule.inline:
        return
    n = sum(p.default is p.empty for p in rule.primal_params)
    reverse = [r for r in all_rules().get(primal, ()) if r.accepts(n, ()) and r.inline]
    assert reverse, rule.fn.__name__
    mine = [(p.name, p.kind, p.default) for p in rule.primal_params]
    theirs = [(p.name, p.kind, p.default) for p in reverse[0].primal_params]
    assert mine == theirs, rule.fn.__name__


def _called_functions(fn):
    """The module-level functions of srcgrad that `fn`'s body calls by name."""
    source = textwrap.dedent(inspect.getsource(fn))
    body = ast.parse(source).body[0].body  # not the decorators
    names = {n.func.id for s in body for n in ast.walk(s) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    found = set()
    for name in names:
        value = fn.__globals__.get(name)
        if isinstance(value, types.FunctionType) and value.__module__.startswith("srcgrad."):
            found.add(value)
    return found


def _helpers():
    helpers = set()
    for _, rule in REVERSE + FORWARD:
        helpers |= _called_functions(rule.fn)
    return helpers


HELPERS = sorted((h for h in _helpers() if h.__module__ in FAMILY), key=lambda h: (h.__module__, h.__name__))


@pytest.mark.parametrize("helper", HELPERS, ids=[f"{h.__module__.rsplit('.', 1)[-1]}.{h.__name__}" for h in HELPERS])
def test_every_helper_is_nondifferentiable_or_has_both_rules(helper):
    assert is_nondifferentiable(helper) or (has_vjp_rule(helper) and has_jvp_rule(helper)), helper.__name__


def test_the_helper_list_is_complete():
    names = {h.__name__ for h in HELPERS}
    expected = {"expand_reduced", "prod_others", "tie_share", "norm_derivative", "unsort", "sort_like", "dot_adjoint",
                "tensordot_adjoint", "kron_adjoint", "cross_adjoint", "einsum_cotangents", "trace_adjoint",
                "diagonal_adjoint", "cast_like", "item_cotangent", "solve_cotangents", "cholesky_adjoint",
                "pinv_adjoint", "eigh_adjoint", "eigh_tangent", "from_triangle", "on_triangle", "inverse_gaps",
                "sequence_cotangent", "items_cotangent", "values_cotangent", "concatenate_pieces", "join_pieces"}
    assert expected <= names, expected - names
