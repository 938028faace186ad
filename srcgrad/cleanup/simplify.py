"""Algebra on code whose values are Python floats: what a careful hand-writer would not write.

Rule templates are general: they multiply by a seed of `1.0`, give `x * x` two equal terms
and recompute what the forward sweep already holds. Where every value involved is a Python
float (immutable, no broadcasting, no dtype to keep), these rewrites are exact or change
only the order of rounding:

- `1.0 * e`, `e * 1.0`, `e / 1.0` are `e`, and `-1.0 * e` is `-e`; `x ** 2` is `x * x`
  (a multiplication, not a call of `pow`), `x ** 3` is `x * x * x`;
- in a sum, `t + t` is `2.0 * t`;
- an expression computed again from the same values reuses the first result (common
  subexpressions), whole or as part of a larger expression.

`floats` (from `scalars.python_floats`) says which names hold Python floats.
"""

from __future__ import annotations

import ast
from typing import Any, Callable

from ..analysis.scalars import is_float_expr, python_floats
from ..frontend.resolve import Resolver
from ..syntax.astquery import loads
from ..syntax.folding import equals_number
from ..syntax.usage import Usage, UsageCache


class FloatSimplifier:
    """The rewrites for one generated function: `prepare` runs once on the whole function
    before the clean-up (it learns which names hold floats); `expression` runs on each value
    the clean-up changes, since unit factors appear as it propagates constants such as the
    seed `1.0`; `finish` reuses common subexpressions in the cleaned function."""

    def __init__(self, float_params: set[str], names: Resolver) -> None:
        self.float_params, self.static_value = float_params, names.static_value
        self.floats: set[str] = set()

    def prepare(self, node: ast.FunctionDef) -> None:
        self.floats = python_floats(node.body, self.float_params, self.static_value)

    def expression(self, value: ast.expr) -> ast.expr:
        if not self.floats:
            return value
        return _merge_equal_terms(_fold_units(value, self.floats, self.static_value), self.floats, self.static_value)

    def finish(self, node: ast.FunctionDef, cache: UsageCache) -> None:
        """After the clean-up (which has applied `expression` to every value it made or
        changed): common subexpressions (after it has merged and propagated what it could,
        there are more to find, and fewer values to compare). `cache` knows what each
        statement reads; it is told of the statements rewritten."""
        if self.floats:
            _reuse_common_subexpressions(node, self.floats, self.static_value, cache)


def _fold_units(node: ast.expr, floats: set[str], static_value: Callable[[ast.expr], Any]) -> ast.expr:
    """`node` with unit factors, `-(1.0)` and small powers of floats rewritten, bottom up.
    `node` itself is never changed: what changes is built anew, so the result is `node`
    exactly when there was nothing to rewrite (the clean-up's usage records stay right)."""
    kind = type(node)
    if kind is ast.Call:
        args = [_fold_units(a, floats, static_value) for a in node.args]  # type: ignore[attr-defined]
        if all(new is old for new, old in zip(args, node.args)):  # type: ignore[attr-defined]
            return node
        return ast.Call(node.func, args, node.keywords)  # type: ignore[attr-defined]
    if kind is ast.UnaryOp:
        operand = _fold_units(node.operand, floats, static_value)  # type: ignore[attr-defined]
        if type(node.op) is ast.USub and type(operand) is ast.Constant and type(operand.value) is float:  # type: ignore[attr-defined]
            return ast.Constant(-operand.value)  # `-(1.0)` is the constant `-1.0`, which cleaning propagates
        return node if operand is node.operand else ast.UnaryOp(node.op, operand)  # type: ignore[attr-defined]
    if kind is not ast.BinOp:
        return node
    left = _fold_units(node.left, floats, static_value)  # type: ignore[attr-defined]
    right = _fold_units(node.right, floats, static_value)  # type: ignore[attr-defined]
    op = type(node.op)  # type: ignore[attr-defined]
    if op is ast.Mult:
        for unit, other in ((left, right), (right, left)):
            if (equals_number(unit, 1.0) or equals_number(unit, -1.0)) and is_float_expr(other, floats, static_value):
                return other if equals_number(unit, 1.0) else ast.UnaryOp(ast.USub(), other)
    if op is ast.Div and equals_number(right, 1.0) and is_float_expr(left, floats, static_value):
        return left
    small_power = type(right) is ast.Constant and type(right.value) is int and right.value in (2, 3)  # type: ignore[attr-defined]
    if op is ast.Pow and small_power and type(left) is ast.Name and left.id in floats:  # type: ignore[attr-defined]
        product: ast.expr = ast.BinOp(ast.Name(left.id, ast.Load()), ast.Mult(), ast.Name(left.id, ast.Load()))  # type: ignore[attr-defined]
        if right.value == 3:  # type: ignore[attr-defined]
            product = ast.BinOp(product, ast.Mult(), ast.Name(left.id, ast.Load()))  # type: ignore[attr-defined]
        return product
    if left is node.left and right is node.right:  # type: ignore[attr-defined]
        return node
    return ast.BinOp(left, node.op, right)  # type: ignore[attr-defined]


def _key(node: ast.AST, memo: dict[int, tuple | None] | None = None) -> tuple | None:
    """A hashable picture of an expression made of names, numbers, arithmetic and calls of
    named functions (None for anything else): equal keys, equal expressions. `memo` keeps
    the key of every part worked out on the way, by node identity."""
    kind = type(node)
    key: tuple | None = None
    if kind is ast.Name:
        key = ("name", node.id)  # type: ignore[attr-defined]
    elif kind is ast.Constant:
        key = ("constant", type(node.value), node.value)  # type: ignore[attr-defined]
    elif kind is ast.Attribute:
        inner = _key(node.value, memo)  # type: ignore[attr-defined]
        key = None if inner is None else ("attribute", inner, node.attr)  # type: ignore[attr-defined]
    elif kind is ast.UnaryOp:
        operand = _key(node.operand, memo)  # type: ignore[attr-defined]
        key = None if operand is None else ("unary", type(node.op), operand)  # type: ignore[attr-defined]
    elif kind is ast.BinOp:
        left, right = _key(node.left, memo), _key(node.right, memo)  # type: ignore[attr-defined]
        key = None if left is None or right is None else ("binary", type(node.op), left, right)  # type: ignore[attr-defined]
    elif kind is ast.Call and not node.keywords:  # type: ignore[attr-defined]
        parts = [_key(node.func, memo)] + [_key(a, memo) for a in node.args]  # type: ignore[attr-defined]
        key = None if None in parts else ("call", *parts)
    if memo is not None:
        memo[id(node)] = key
    return key


def _terms(node: ast.expr) -> list[ast.expr]:
    """The terms of a chain of `+`."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _terms(node.left) + _terms(node.right)
    return [node]


def _merge_equal_terms(node: ast.expr, floats: set[str], static_value: Callable[[ast.expr], Any]) -> ast.expr:
    """`a + t + t` is `a + 2.0 * t` when `t` is a float (`node` itself when nothing merges)."""
    terms = _terms(node)
    if len(terms) < 2:
        return node
    keys = [_key(term) if is_float_expr(term, floats, static_value) else None for term in terms]
    counts: dict[tuple, int] = {}
    for key in filter(None, keys):
        counts[key] = counts.get(key, 0) + 1
    if all(n == 1 for n in counts.values()):
        return node
    merged: list[ast.expr] = []
    for term, key in zip(terms, keys):
        n = counts.pop(key, 0) if key is not None else 1
        if n > 1:
            merged.append(ast.BinOp(ast.Constant(float(n)), ast.Mult(), term))
        elif n == 1:
            merged.append(term)
    result = merged[0]
    for term in merged[1:]:
        result = ast.BinOp(result, ast.Add(), term)
    return result


def _reuse_common_subexpressions(
    node: ast.FunctionDef, floats: set[str], static_value: Callable[[ast.expr], Any], cache: UsageCache,
) -> None:
    """At the top level of `node`, where names are bound once: a later expression equal to an
    earlier assignment's value, on float names that nothing rebinds, reads that assignment's
    name. An assignment whose whole value is found so (`t = u`) goes, and the statements
    after it read `u`, unless a statement other than an assignment or return reads `t`."""
    bound, _ = cache.counts(node.body)
    params = {a.arg for a in node.args.posonlyargs + node.args.args + node.args.kwonlyargs}
    stable = {name for name in floats if bound.get(name, 0) == (0 if name in params else 1)}
    rewritten = [s for s in node.body if isinstance(s, ast.Assign | ast.Return) and s.value is not None]
    if len(rewritten) != len(node.body):
        read_elsewhere = set().union(*(loads(s) for s in node.body if not isinstance(s, ast.Assign | ast.Return)))
    else:
        read_elsewhere = set()

    def reusable(expr: ast.expr) -> bool:
        return isinstance(expr, ast.BinOp | ast.UnaryOp | ast.Call) and is_float_expr(expr, stable, static_value)

    available: dict[tuple, str] = {}
    aliases: dict[str, str] = {}
    dropped: set[int] = set()
    # A statement can hold an available value only if it reads all the names that value
    # reads: `needs` files each value's names under one of them. A value that reads no
    # name is arithmetic on numbers (`1.0 / 3.0`), which only statements that fold hold.
    needs: dict[str, list[frozenset[str]]] = {}
    numbers_only = False

    def may_reuse(found: Usage) -> bool:
        reads = found.loads
        if numbers_only and found.foldable or not reads.isdisjoint(aliases):
            return True
        return any(needed <= reads for name in reads for needed in needs.get(name, ()))

    for stmt in rewritten:
        if (available or aliases) and may_reuse(cache.of(stmt)):
            stmt.value = _replace_available(stmt.value, available, aliases, {})  # type: ignore[arg-type]
            cache.forget(stmt)
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            target, value = stmt.targets[0].id, stmt.value
            if target in stable and isinstance(value, ast.Name) and value.id in stable and target not in read_elsewhere:
                aliases[target] = value.id
                dropped.add(id(stmt))
            elif target in stable and reusable(value):
                key = _key(value)  # None: a value with parts it cannot compare (`a if c else b`)
                if key is not None and key not in available:
                    available[key] = target  # type: ignore[index]
                    reads = frozenset(loads(value))
                    if reads:
                        needs.setdefault(min(reads), []).append(reads)
                    numbers_only = numbers_only or not reads
    if dropped:
        node.body = [s for s in node.body if id(s) not in dropped]


def _replace_available(
    node: ast.expr, available: dict[tuple, str], aliases: dict[str, str], keys: dict[int, tuple | None],
) -> ast.expr:
    """`node` with every part that is available as a name replaced by that name (the
    largest parts first) and aliases by what they stand for; each part's key is worked
    out once (in `keys`)."""
    if isinstance(node, ast.Name):
        alias = aliases.get(node.id)
        return node if alias is None else ast.Name(alias, ast.Load())
    if isinstance(node, ast.Constant):
        return node
    key = keys[id(node)] if id(node) in keys else _key(node, keys)
    name = available.get(key) if key is not None else None  # type: ignore[arg-type]
    if name is not None:
        return ast.Name(name, ast.Load())
    for field, value in ast.iter_fields(node):
        if isinstance(value, ast.expr):
            setattr(node, field, _replace_available(value, available, aliases, keys))
        elif isinstance(value, list):
            setattr(node, field, [_replace_available(v, available, aliases, keys) if isinstance(v, ast.expr) else v
                                  for v in value])
    return node
