"""Checks shared by the forward-rule tests (tests/test_jvp_rules_*.py).

`srcgrad.tools.testing.check_jvp_rule` checks a whole rule at a point inside the domain; these
cover what it cannot: some of the terms only (a bound that is None, a negative base whose
exponent must stay an integer), rules called rather than inlined, exact agreement of
forward and reverse Jacobians at kinks and ties, and coverage of the registry.
"""

from __future__ import annotations

import inspect
import types
from typing import Any, Callable, Sequence

import numpy as np

from srcgrad.rules.registry import (
    Rule,
    all_jvp_rules,
    all_rules,
    find_jvp_rule,
    has_jvp_rule,
    has_vjp_rule,
    is_nondifferentiable,
)
from srcgrad.runtime import tree
from srcgrad.tools.testing import directional_fd


def random_like(value: Any, rng: np.random.Generator) -> Any:
    return tree.map_leaves(lambda x: rng.standard_normal(np.shape(x)) if np.ndim(x) else float(rng.standard_normal()), value)


def _assert_tangent(name: str, got: Any, want: Any, out: Any, rtol: float = 1e-4, atol: float = 1e-6) -> None:
    assert len(tree.leaves(got)) == len(tree.leaves(out)), f"{name}: tangent {got!r} is not structured like {out!r}"
    for got_leaf, want_leaf, out_leaf in zip(tree.leaves(got), tree.leaves(want), tree.leaves(out)):
        assert np.shape(got_leaf) == np.shape(out_leaf), f"{name}: tangent shape {np.shape(got_leaf)}, result {np.shape(out_leaf)}"
        scale = 1 + float(np.max(np.abs(want_leaf), initial=0.0))
        np.testing.assert_allclose(np.asarray(got_leaf, float), want_leaf, rtol=rtol, atol=atol * scale, err_msg=name)


def check_terms(
    primal: Callable[..., Any],
    rule: Callable[..., Any],
    *args: Any,
    positions: Sequence[int],
    vjp: Callable[..., Any] | None = None,
    bind: Callable[..., tuple[tuple, dict]] | None = None,
    seed: int = 0,
) -> None:
    """`check_jvp_rule` for the terms of `positions` only. `bind(*args)` gives the rule's
    (args, kwargs) when the primal takes them differently (a keyword-only argument)."""
    bind = bind or (lambda *a: (a, {}))
    rng = np.random.default_rng(seed)
    out = primal(*args)
    rule_args, rule_kwargs = bind(*args)
    names = [p.name for p in list(inspect.signature(rule).parameters.values())[2:]]
    terms = Rule(primal, rule).terms()
    directions = [random_like(args[i], rng) for i in positions]
    tangent = None
    for i, u in zip(positions, directions):
        term = terms[names.index(_name_of(rule, i, rule_args, rule_kwargs))]
        assert term is not None, f"{rule.__name__}: no term for argument {i}"
        part = term(u, out, *rule_args, **rule_kwargs)
        tangent = part if tangent is None else tree.map_leaves(lambda a, b: a + b, tangent, part)
    want = directional_fd(primal, args, positions, directions)
    _assert_tangent(rule.__name__, tangent, want, out)
    if vjp is not None:
        v = random_like(out, rng)
        bars = vjp(v, out, *rule_args, **rule_kwargs)
        reverse = sum(tree.vdot(bars[names.index(_name_of(rule, i, rule_args, rule_kwargs))], u) for i, u in zip(positions, directions))
        np.testing.assert_allclose(tree.vdot(v, tangent), reverse, rtol=1e-9, atol=1e-12)


def _name_of(rule: Callable[..., Any], i: int, args: tuple, kwargs: dict) -> str:
    """The rule parameter that the primal's argument i is bound to."""
    params = list(inspect.signature(rule).parameters.values())[2:]
    positional = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return positional[i] if i < len(args) else list(kwargs)[i - len(args)]


def check_tangent_rule(
    primal: Callable[..., Any],
    rule: Callable[..., Any],
    *args: Any,
    vjp: Callable[..., Any] | None = None,
    seed: int = 0,
) -> None:
    """A forward rule called with `(dots, ans, *args)` (inline=False): against central
    differences for each argument alone and all together, and against the reverse rule."""
    rng = np.random.default_rng(seed)
    out = primal(*args)
    directions = [random_like(a, rng) for a in args]
    subsets = [[i] for i in range(len(args))] + [list(range(len(args)))]
    for subset in subsets:
        dots = tuple(directions[i] if i in subset else None for i in range(len(args)))
        got = rule(dots, out, *args)
        want = directional_fd(primal, args, subset, [directions[i] for i in subset])
        _assert_tangent(f"{rule.__name__} along {subset}", got, want, out)
    if vjp is not None:
        v = random_like(out, rng)
        bars = vjp(v, out, *args)
        forward = tree.vdot(v, got)
        reverse = sum(tree.vdot(bar, u) for bar, u in zip(bars, directions))
        np.testing.assert_allclose(forward, reverse, rtol=1e-9, atol=1e-12)


def _units(value: Any) -> list[Any]:
    """One tree like `value` per entry, with a 1 at that entry and zeros elsewhere."""
    sizes = [int(np.size(leaf)) for leaf in tree.leaves(value)]
    units = []
    for leaf_index, size in enumerate(sizes):
        for entry in range(size):
            counter = iter(range(len(sizes)))

            def unit(x: Any, leaf_index: int = leaf_index, entry: int = entry) -> Any:
                out = np.zeros(np.shape(x))
                if next(counter) == leaf_index:
                    out.flat[entry] = 1.0
                return out if np.ndim(x) else float(out)

            units.append(tree.map_leaves(unit, value))
    return units


def jacobians(
    primal: Callable[..., Any],
    jvp: Callable[..., Any],
    vjp: Callable[..., Any],
    *args: Any,
    position: int,
) -> np.ndarray:
    """The Jacobian of `primal` in argument `position` from the forward rule, after checking
    that the reverse rule gives exactly the same (kinks and ties included)."""
    out = primal(*args)
    term = Rule(primal, jvp).terms()[position]
    assert term is not None
    columns = [term(u, out, *args) for u in _units(args[position])]
    rows = _units(out)
    forward = np.array([[tree.vdot(v, t) for t in columns] for v in rows])
    reverse = np.array([[tree.vdot(vjp(v, out, *args)[position], u) for u in _units(args[position])] for v in rows])
    np.testing.assert_allclose(forward, reverse, rtol=1e-12, atol=1e-15, err_msg=f"{jvp.__name__} vs {vjp.__name__}")
    return forward


# ---- coverage of the registry -------------------------------------------------------------


def _call_shapes(rule: Rule) -> list[tuple[int, tuple[str, ...]]]:
    """The (number of positional arguments, keywords) of calls that bind to `rule`."""
    params = rule.primal_params
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    required = sum(p.default is p.empty for p in positional)
    keywords = tuple(p.name for p in params if p.kind == p.KEYWORD_ONLY and p.default is p.empty)
    most = len(positional) + (2 if any(p.kind == p.VAR_POSITIONAL for p in params) else 0)
    return [(n, keywords) for n in range(required, most + 1)]


def missing_forward_rules(modules: Sequence[str]) -> list[str]:
    """Reverse rules defined in `modules` whose primal has no forward rule for the same calls,
    or one whose parameters differ (forward rules copy the reverse rules' signatures)."""
    problems = []
    for primal, rules in all_rules().items():
        for rule in rules:
            if rule.fn.__module__ not in modules:
                continue
            for n, keywords in _call_shapes(rule):
                forward = find_jvp_rule(primal, n, keywords)
                if forward is None:
                    problems.append(f"{primal!r} with {n} arguments {keywords}: no forward rule")
                elif _parameters(forward) != _parameters(rule):
                    problems.append(f"{primal!r}: {forward.fn.__name__}{_parameters(forward)} vs {rule.fn.__name__}{_parameters(rule)}")
    return problems


def _parameters(rule: Rule) -> list[tuple[str, Any, Any]]:
    return [(p.name, p.kind, p.default) for p in rule.primal_params]


def template_helpers(modules: Sequence[str]) -> dict[str, Any]:
    """The module-level functions of srcgrad's rule modules that the inlined templates of the
    rules defined in `modules` call (not NumPy, math, builtins or srcgrad.runtime.core)."""
    helpers = {}
    for table in (all_rules(), all_jvp_rules()):
        for rules in table.values():
            for rule in rules:
                if rule.fn.__module__ not in modules or not rule.inline:
                    continue
                if any(p.kind == p.VAR_POSITIONAL for p in rule.primal_params):
                    continue  # called, not inlined
                _, namespace = rule.template()
                for value in namespace.values():
                    if isinstance(value, types.FunctionType) and value.__module__.startswith("srcgrad.rules."):
                        helpers[f"{value.__module__}.{value.__name__}"] = value
    return helpers


def undifferentiated_helpers(helpers: dict[str, Any]) -> list[str]:
    """Helpers that are neither non-differentiable nor have both a reverse and a forward rule."""
    return [
        name for name, fn in helpers.items()
        if not is_nondifferentiable(fn) and not (has_vjp_rule(fn) and has_jvp_rule(fn))
    ]
