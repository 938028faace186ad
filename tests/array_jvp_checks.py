"""Shared checks for the forward-rule tests of the array families (reductions, arrays, linalg, containers)."""

from __future__ import annotations

import ast
import inspect
import types

import numpy as np

from srcgrad.rules.registry import Rule
from srcgrad.runtime import core as runtime
from srcgrad.runtime import tree
from srcgrad.tools.testing import directional_fd


def matched(vjp):
    """A reverse rule whose cotangents are shaped like their arguments (a DictCotangent with
    some keys, or the symbolic zero 0.0, made full), for the inner-product test."""

    def rule(g, ans, *args, **kwargs):
        bars = vjp(g, ans, *args, **kwargs)
        return tuple(None if bar is None else runtime.match(bar, arg) for bar, arg in zip(bars, args))

    rule.__name__ = vjp.__name__
    return rule


def _random_like(value, rng):
    return tree.map_leaves(lambda x: rng.standard_normal(np.shape(x)) if np.ndim(x) else float(rng.standard_normal()), value)


def check_called_jvp(primal, rule, args, positions, vjp=None, seed=0, rtol=1e-5, atol=1e-7, **kwargs):
    """Check a forward rule that is called (`inline=False`, `(dots, ans, *args)`): its tangent
    along random directions of the arguments at `positions` against central differences,
    and with `vjp` the inner product <v, J u> against the reverse rule."""
    rng = np.random.default_rng(seed)
    out = primal(*args, **kwargs)
    directions = {p: _random_like(args[p], rng) for p in positions}
    dots = tuple(directions.get(i) for i in range(len(args)))
    tangent = rule(dots, out, *args, **kwargs)
    want = directional_fd(lambda *a: primal(*a, **kwargs), args, list(directions), list(directions.values()))
    for got_leaf, want_leaf, out_leaf in zip(tree.leaves(tangent), tree.leaves(want), tree.leaves(out)):
        assert np.shape(got_leaf) == np.shape(out_leaf), (np.shape(got_leaf), np.shape(out_leaf))
        scale = 1 + float(np.max(np.abs(want_leaf), initial=0.0))
        np.testing.assert_allclose(np.asarray(got_leaf, float), want_leaf, rtol=10 * rtol, atol=10 * atol * scale)
    if vjp is not None:
        v = _random_like(out, rng)
        bars = vjp(v, out, *args, **kwargs)
        reverse = sum(tree.vdot(runtime.match(bars[p], args[p]), u) for p, u in directions.items())
        forward = tree.vdot(v, tangent)
        assert abs(forward - reverse) <= atol * (1 + abs(reverse)) + rtol * abs(reverse), (forward, reverse)


def forward_equals_reverse(primal, jvp, vjp, *args, seed=0, **kwargs):
    """<v, J u> from the forward rule equals <J^T v, u> from the reverse rule, to rounding:
    at a tie or kink, where finite differences mean nothing, both rules make one choice."""
    rng = np.random.default_rng(seed)
    out = primal(*args, **kwargs)
    terms = Rule(primal, jvp).terms()
    positions = [i for i, term in enumerate(terms) if term is not None]
    directions = [_random_like(args[i], rng) for i in positions]
    tangent = None
    for i, u in zip(positions, directions):
        term = terms[i](u, out, *args, **kwargs)
        tangent = term if tangent is None else tree.map_leaves(lambda a, b: a + b, tangent, term)
    v = _random_like(out, rng)
    bars = vjp(v, out, *args, **kwargs)
    reverse = sum(tree.vdot(bars[i], u) for i, u in zip(positions, directions))
    forward = tree.vdot(v, tangent)
    assert abs(forward - reverse) <= 1e-10 * (1 + abs(reverse)), (forward, reverse)
    return tangent


def tangent_of(primal, jvp, u, *args, **kwargs):
    """The tangent that the forward rule gives along `u` for the first argument."""
    term = Rule(primal, jvp).terms()[0]
    return term(u, primal(*args, **kwargs), *args, **kwargs)


def rules_of(table, module_names):
    """(primal, rule) for every rule in `table` defined in one of `module_names`."""
    return [(p, r) for p, rules in table.items() for r in rules if r.fn.__module__ in module_names]


def arities(rule):
    """The calls a rule's signature binds: (number of positional arguments, keywords),
    trying each optional parameter both positionally and by keyword."""
    params = rule.primal_params
    positional = [p for p in params if p.kind is p.POSITIONAL_OR_KEYWORD]
    required = sum(p.default is p.empty for p in positional)
    variadic = any(p.kind is p.VAR_POSITIONAL for p in params)
    keyword_only = [p.name for p in params if p.kind is p.KEYWORD_ONLY]
    calls = []
    for n in range(required, len(positional) + (4 if variadic else 1)):
        later = [p.name for p in positional[n:]]
        calls.append((n, ()))
        calls.append((n, tuple(later + keyword_only)))
    return calls


def template_helpers(rule):
    """The module-level Python functions (not NumPy's, not builtins) that a template calls."""
    if not rule.inline or any(p.kind is p.VAR_POSITIONAL for p in rule.signature.parameters.values()):
        return set()
    template, namespace = rule.template()
    called = {n.func.id for n in ast.walk(template) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
    return {
        namespace[name] for name in called
        if isinstance(namespace.get(name), types.FunctionType) and inspect.getmodule(namespace[name]) is not None
        and inspect.getmodule(namespace[name]).__name__.startswith("srcgrad.")
    }
