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
from typing import Callable

from .analysis import statements

_ARITHMETIC = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow)


def simplify(node: ast.FunctionDef, floats: set[str], is_math: Callable[[ast.expr], bool]) -> ast.FunctionDef:
    """Rewrite `node` in place; `is_math(func)` says a call's function is a pure math function."""
    folder = _UnitFactors(floats)
    for stmt in statements(node.body):
        if isinstance(stmt, ast.Assign | ast.Return) and stmt.value is not None:
            stmt.value = _merge_equal_terms(folder.visit(stmt.value), floats)
    _reuse_common_subexpressions(node, floats, is_math)
    return node


def _is_float_expr(node: ast.expr, floats: set[str]) -> bool:
    """A name holding a Python float, a float constant, or arithmetic/negation of them."""
    if isinstance(node, ast.Name):
        return node.id in floats
    if isinstance(node, ast.Constant):
        return type(node.value) is float
    if isinstance(node, ast.UnaryOp):
        return isinstance(node.op, ast.USub | ast.UAdd) and _is_float_expr(node.operand, floats)
    if isinstance(node, ast.BinOp) and isinstance(node.op, _ARITHMETIC):
        ints = [side for side in (node.left, node.right) if isinstance(side, ast.Constant) and type(side.value) is int]
        floats_ = [side for side in (node.left, node.right) if _is_float_expr(side, floats)]
        return bool(floats_) and len(ints) + len(floats_) == 2 and not (isinstance(node.op, ast.Pow) and ints != [node.right])
    return False


def _constant(node: ast.expr, value: float) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) in (int, float) and node.value == value


class _UnitFactors(ast.NodeTransformer):
    def __init__(self, floats: set[str]) -> None:
        self.floats = floats

    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.expr:
        """`-(1.0)` is the constant `-1.0`, which later passes propagate."""
        self.generic_visit(node)
        operand = node.operand
        if isinstance(node.op, ast.USub) and isinstance(operand, ast.Constant) and type(operand.value) is float:
            return ast.Constant(-operand.value)
        return node

    def visit_BinOp(self, node: ast.BinOp) -> ast.expr:
        self.generic_visit(node)
        left, right = node.left, node.right
        if isinstance(node.op, ast.Mult):
            for unit, other in ((left, right), (right, left)):
                if _is_float_expr(other, self.floats):
                    if _constant(unit, 1.0):
                        return other
                    if _constant(unit, -1.0):
                        return ast.UnaryOp(ast.USub(), other)
        if isinstance(node.op, ast.Div) and _constant(right, 1.0) and _is_float_expr(left, self.floats):
            return left
        small_power = isinstance(right, ast.Constant) and type(right.value) is int and right.value in (2, 3)
        if isinstance(node.op, ast.Pow) and small_power and isinstance(left, ast.Name) and left.id in self.floats:
            product: ast.expr = ast.BinOp(ast.Name(left.id, ast.Load()), ast.Mult(), ast.Name(left.id, ast.Load()))
            if right.value == 3:  # type: ignore[attr-defined]
                product = ast.BinOp(product, ast.Mult(), ast.Name(left.id, ast.Load()))
            return product
        return node


def _terms(node: ast.expr) -> list[ast.expr]:
    """The terms of a chain of `+`."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _terms(node.left) + _terms(node.right)
    return [node]


def _merge_equal_terms(node: ast.expr, floats: set[str]) -> ast.expr:
    """`a + t + t` is `a + 2.0 * t` when `t` is a float."""
    terms = _terms(node)
    if len(terms) < 2:
        return node
    counts: dict[str, int] = {}
    for term in terms:
        key = ast.dump(term)
        counts[key] = counts.get(key, 0) + 1
    if all(n == 1 for n in counts.values()):
        return node
    merged: list[ast.expr] = []
    for term in terms:
        key = ast.dump(term)
        n = counts.pop(key, 0)
        if n == 0:
            continue
        if n > 1 and _is_float_expr(term, floats):
            term = ast.BinOp(ast.Constant(float(n)), ast.Mult(), term)
        else:
            merged.extend([term] * (n - 1))
        merged.append(term)
    result = merged[0]
    for term in merged[1:]:
        result = ast.BinOp(result, ast.Add(), term)
    return result


def _reuse_common_subexpressions(node: ast.FunctionDef, floats: set[str], is_math: Callable[[ast.expr], bool]) -> None:
    """At the top level of `node`, where names are bound once: a later expression equal to an
    earlier assignment's value, on float names that nothing rebinds, reads that assignment's name."""
    bound: dict[str, int] = {}
    for stmt in ast.walk(node):
        if isinstance(stmt, ast.Name) and not isinstance(stmt.ctx, ast.Load):
            bound[stmt.id] = bound.get(stmt.id, 0) + 1
    params = {a.arg for a in node.args.posonlyargs + node.args.args + node.args.kwonlyargs}
    stable = {name for name in floats if bound.get(name, 0) == (0 if name in params else 1)}

    def reusable(expr: ast.expr) -> bool:
        if isinstance(expr, ast.Call):
            pure = is_math(expr.func) and not expr.keywords
            return pure and all(_is_float_expr(a, stable) or isinstance(a, ast.Constant) for a in expr.args)
        return isinstance(expr, ast.BinOp | ast.UnaryOp) and _is_float_expr(expr, stable)

    available: dict[str, str] = {}
    replacer = _Reuse(available)
    for stmt in node.body:
        if not isinstance(stmt, ast.Assign | ast.Return) or stmt.value is None:
            continue
        stmt.value = replacer.visit(stmt.value)
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            target = stmt.targets[0].id
            if target in stable and reusable(stmt.value):
                available.setdefault(ast.dump(stmt.value), target)


class _Reuse(ast.NodeTransformer):
    def __init__(self, available: dict[str, str]) -> None:
        self.available = available

    def generic_visit(self, node: ast.AST) -> ast.AST:
        if isinstance(node, ast.expr) and not isinstance(node, ast.Name | ast.Constant):
            name = self.available.get(ast.dump(node))
            if name is not None:
                return ast.Name(name, ast.Load())
        return super().generic_visit(node)
