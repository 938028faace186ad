"""Constant folding: arithmetic, signs and unit factors of number literals, and tests of literals.

Every pass that folds numbers folds them here, with the same predicate for a number
literal (`astquery.is_number`): the inlined rule templates (`fold_constants`), the
clean-up of whole statements (`fold_statement`), the signs and unit factors of array
code (`fold_signs`, `without_unit_float`), the literals of the user's code
(`literal`) and the tests of branches (`truth`). Each folds only what Python itself
computes exactly the same way at run time.
"""

from __future__ import annotations

import ast
import operator
from typing import Any

from .astquery import is_number
from .fastast import Transformer

_ARITHMETIC = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Pow: operator.pow}


def equals_number(node: ast.expr, value: float) -> bool:
    """Whether `node` is a number literal equal to `value` (`1` and `1.0` both equal 1)."""
    return is_number(node) and node.value == value  # type: ignore[attr-defined]


def fold_arithmetic(node: ast.BinOp) -> ast.expr:
    """`2 - 1` becomes `1`; anything that is not arithmetic on two numbers is left alone."""
    if is_number(node.left) and is_number(node.right) and type(node.op) in _ARITHMETIC:
        return ast.Constant(_ARITHMETIC[type(node.op)](node.left.value, node.right.value))  # type: ignore[attr-defined]
    return node


# ---- rule templates ---------------------------------------------------------------------
class _TemplateFolder(Transformer):
    def visit_Assign(self, node: ast.Assign) -> ast.stmt:
        node.value = self.visit(node.value)
        return node

    def visit_BinOp(self, node: ast.BinOp) -> ast.expr:
        self.generic_visit(node)
        left, right, op = node.left, node.right, type(node.op)
        folded = fold_arithmetic(node)
        if folded is not node:
            return folded
        if op in (ast.Mult, ast.Div, ast.Pow) and equals_number(right, 1):
            return left
        if op is ast.Mult and equals_number(left, 1):
            return right
        return node

    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.expr:
        self.generic_visit(node)
        if isinstance(node.op, ast.USub) and is_number(node.operand):
            return ast.Constant(-node.operand.value)  # type: ignore[attr-defined]
        return node

    def visit_IfExp(self, node: ast.IfExp) -> ast.expr:
        """`a if 0 == 1 else b` is `b`: templates branch on constant arguments (`which`)."""
        self.generic_visit(node)
        test = node.test
        if isinstance(test, ast.Compare) and len(test.ops) == 1 and type(test.ops[0]) in (ast.Eq, ast.NotEq) \
                and is_number(test.left) and is_number(test.comparators[0]):
            equal = test.left.value == test.comparators[0].value  # type: ignore[attr-defined]
            return node.body if equal == isinstance(test.ops[0], ast.Eq) else node.orelse
        return node


def fold_constants(expr: ast.expr) -> ast.expr:
    """`x ** (2 - 1)` becomes `x`, `3 * 1` becomes `3`; everything else is left as written."""
    return _TemplateFolder().visit(expr)


# ---- whole statements -------------------------------------------------------------------
def _without_unit_factor(node: ast.expr) -> ast.expr:
    """`1.0 * e` inside a larger expression is `e` (at the top it would alias `e`)."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        if equals_number(node.left, 1):
            return node.right
        if equals_number(node.right, 1):
            return node.left
    return node


class _StatementFolder(Transformer):
    def visit_Assign(self, node: ast.Assign) -> ast.Assign:
        self.generic_visit(node)
        if isinstance(node.value, ast.BinOp) and isinstance(_without_unit_factor(node.value), ast.Call):
            node.value = _without_unit_factor(node.value)  # a call's result is fresh: no alias
        return node

    def visit_BinOp(self, node: ast.BinOp) -> ast.expr:
        self.generic_visit(node)
        node.left, node.right = _without_unit_factor(node.left), _without_unit_factor(node.right)
        folded = fold_arithmetic(node)
        if folded is not node:
            return folded
        if isinstance(node.left, ast.BinOp) and type(node.op) is type(node.left.op) is ast.Mult:
            inner = node.left
            if is_number(inner.left) and is_number(node.right):  # (2 * x) * 3 -> 6 * x
                return ast.BinOp(ast.Constant(inner.left.value * node.right.value), ast.Mult(), inner.right)  # type: ignore[attr-defined]
            if is_number(inner.right) and is_number(node.right):  # (x * 2) * 3 -> x * 6
                return ast.BinOp(inner.left, ast.Mult(), ast.Constant(inner.right.value * node.right.value))  # type: ignore[attr-defined]
        return node


def fold_statement(stmt: ast.stmt) -> ast.stmt:
    """The clean-up's constant folding of one statement: arithmetic on numbers, unit
    factors inside expressions, products of products with numbers."""
    return _StatementFolder().visit(stmt)


# ---- signs and units of array code ----------------------------------------------------------
def without_unit_float(node: ast.BinOp) -> ast.expr:
    """`1.0 * e` is `e` when `e` makes a new value (an operation or call), so no alias."""
    for unit, other in ((node.left, node.right), (node.right, node.left)):
        if type(unit) is ast.Constant and type(unit.value) is float and unit.value == 1.0 \
                and isinstance(other, (ast.BinOp, ast.UnaryOp, ast.Call)):
            return other
    return node


class _Signs(ast.NodeTransformer):
    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.expr:
        self.generic_visit(node)
        inner = node.operand
        if isinstance(node.op, ast.USub) and isinstance(inner, ast.BinOp) and isinstance(inner.op, ast.Mult):
            if is_number(inner.left):
                return ast.BinOp(ast.Constant(-inner.left.value), ast.Mult(), inner.right)  # type: ignore[attr-defined]
            if is_number(inner.right):
                return ast.BinOp(inner.left, ast.Mult(), ast.Constant(-inner.right.value))  # type: ignore[attr-defined]
        return node

    def visit_BinOp(self, node: ast.BinOp) -> ast.expr:
        self.generic_visit(node)
        if isinstance(node.op, ast.Mult):
            left, right = node.left, node.right
            if isinstance(left, ast.UnaryOp) and isinstance(left.op, ast.USub) and is_number(right):
                return ast.BinOp(left.operand, ast.Mult(), ast.Constant(-right.value))  # type: ignore[attr-defined]
            if isinstance(right, ast.UnaryOp) and isinstance(right.op, ast.USub) and is_number(left):
                return ast.BinOp(ast.Constant(-left.value), ast.Mult(), right.operand)  # type: ignore[attr-defined]
        return node


def fold_signs(expr: ast.expr) -> ast.expr:
    """A minus sign moved onto a number factor, saving a pass over an array: `-(2.0 * e)`
    and `(-e) * 2` become `-2.0 * e` and `e * -2` (negation is exact, so are these)."""
    return _Signs().visit(expr)


# ---- literals of the user's code -------------------------------------------------------------
def is_literal(expr: ast.expr) -> bool:
    """Whether `expr` is a constant, a signed number literal (`-2`, `+1.5j`) or a tuple of these."""
    if isinstance(expr, ast.Constant):
        return True
    if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, (ast.USub, ast.UAdd)):
        return isinstance(expr.operand, ast.Constant) and isinstance(expr.operand.value, (int, float, complex))
    if isinstance(expr, ast.Tuple):
        return all(is_literal(e) for e in expr.elts)
    return False


def literal(expr: ast.expr) -> ast.expr:
    """An `is_literal` expression as constants: `-2` is the constant -2, `(1, -2)` a tuple of two."""
    if isinstance(expr, ast.UnaryOp):
        value = expr.operand.value  # type: ignore[attr-defined]
        return ast.Constant(-value if isinstance(expr.op, ast.USub) else value)
    if isinstance(expr, ast.Tuple):
        return ast.Tuple([literal(e) for e in expr.elts], ast.Load())
    return expr


# ---- tests of branches ----------------------------------------------------------------------------
_TESTED = (int, float, bool, str, type(None))  # literals whose comparisons Python computes exactly so
_COMPARISONS = {ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
                ast.Gt: operator.gt, ast.GtE: operator.ge}
_UNKNOWN = object()


def truth(test: ast.expr) -> bool | None:
    """Whether the branch test `test` is true, when it is made of literals (numbers, bools,
    None, strings), comparisons of them, `not`, `and` and `or`; None when it is not (or when
    Python would raise evaluating it, as `1 < "a"` does)."""
    value = _value(test)
    return None if value is _UNKNOWN else bool(value)


def _value(expr: ast.expr) -> Any:
    """The value of a literal test, or `_UNKNOWN`."""
    if isinstance(expr, ast.Constant) and type(expr.value) in _TESTED:
        return expr.value
    if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, (ast.USub, ast.UAdd)):
        return literal(expr).value if is_number(expr.operand) else _UNKNOWN  # type: ignore[attr-defined]
    if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, ast.Not):
        operand = _value(expr.operand)
        return _UNKNOWN if operand is _UNKNOWN else not operand
    if isinstance(expr, ast.BoolOp):
        return _boolean(expr)
    if isinstance(expr, ast.Compare):
        return _compare(expr)
    return _UNKNOWN


def _boolean(expr: ast.BoolOp) -> Any:
    """`a and b` / `a or b` of literal tests: the operand Python's short circuit returns."""
    values = [_value(v) for v in expr.values]
    if _UNKNOWN in values:
        return _UNKNOWN
    for value in values[:-1]:
        if bool(value) != isinstance(expr.op, ast.And):  # `and` stops at a false one, `or` at a true one
            return value
    return values[-1]


def _compare(expr: ast.Compare) -> Any:
    """A chain of comparisons of literals (`1 < 2 <= 3`), as Python evaluates it."""
    operands = [_value(e) for e in (expr.left, *expr.comparators)]
    if _UNKNOWN in operands or any(type(op) not in _COMPARISONS for op in expr.ops):
        return _UNKNOWN
    try:
        for op, left, right in zip(expr.ops, operands, operands[1:]):
            result = _COMPARISONS[type(op)](left, right)
            if not result:
                return result
        return result
    except TypeError:  # `1 < "a"`, `None < 1`: raised at run time, so not folded
        return _UNKNOWN
