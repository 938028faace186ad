"""`ast.unparse` of a generated function, written out faster.

Rendering is a tenth of a first call's transform, and nearly all of it goes to the few kinds
of node generated code is made of: assignments of arithmetic, calls and names, in plain
blocks. This module writes those, with `ast.unparse`'s own layout, precedences and number
formatting, so the text is the same character for character (tests compare the two on
every function of srcgrad's source, on generated code and on random expressions). A simple
statement holding anything else is handed to `ast.unparse` whole, and a function with any
other kind of statement (or a docstring, decorators, annotations) is unparsed whole.

One difference: a negative number constant (which constant folding makes, `-(2.0)` is
`-2.0`) is written as `ast.unparse` writes the unary minus of its magnitude, in parentheses
where that binds less tightly than its place: `(-2.0) ** 2`, not `-2.0 ** 2` (which Python
reads as `-(2.0 ** 2)`; `ast.unparse` writes the number's `repr` wherever it is). What is
handed to `ast.unparse` is rewritten so first (`minus_signs`).
"""

from __future__ import annotations

import ast
import math

from .fastast import SIMPLE_STATEMENTS, copy_tree, walk

# `ast._Precedence`'s order: the higher binds tighter
TUPLE, YIELD, TEST, OR, NOT, CMP, EXPR, ATOM = 2, 3, 4, 5, 7, 8, 9, 18
FACTOR, POWER = 15, 16

_BINARY = {
    ast.Add: ("+", 13), ast.Sub: ("-", 13), ast.Mult: ("*", 14), ast.MatMult: ("@", 14), ast.Div: ("/", 14),
    ast.Mod: ("%", 14), ast.FloorDiv: ("//", 14), ast.Pow: ("**", POWER), ast.LShift: ("<<", 12),
    ast.RShift: (">>", 12), ast.BitOr: ("|", EXPR), ast.BitXor: ("^", 10), ast.BitAnd: ("&", 11),
}
_UNARY = {ast.USub: ("-", FACTOR), ast.UAdd: ("+", FACTOR), ast.Invert: ("~", FACTOR), ast.Not: ("not ", NOT)}
_COMPARE = {
    ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Is: "is",
    ast.IsNot: "is not", ast.In: "in", ast.NotIn: "not in",
}
# Python 3.10's `ast.unparse` puts every tuple in parentheses (`(a, b) = f()`); later ones only where needed.
_TUPLES_IN_PARENTHESES = ast.unparse(ast.parse("a, b = c")) != "a, b = c"


class _Unsupported(Exception):
    """A node this module does not write: the statement goes to `ast.unparse`."""


def function_text(node: ast.FunctionDef) -> str:
    """What `ast.unparse(node)` returns (negative numbers aside: see the module's docstring)."""
    if type(node) is not ast.FunctionDef or node.decorator_list or node.returns or node.type_comment \
            or getattr(node, "type_params", None) or not _plain_blocks(node.body) or _docstring(node):
        return ast.unparse(minus_signs(node))
    lines = [f"def {node.name}({ast.unparse(minus_signs(node.args))}):"]
    try:
        _block(node.body, 1, lines)
    except _Unsupported:  # in the header of an `if`, `for` or `while`
        return ast.unparse(minus_signs(node))
    return "\n".join(lines)


def _negative(value: object) -> bool:
    return type(value) in (int, float) and math.copysign(1.0, value) < 0  # type: ignore[arg-type]


def minus_signs(node: ast.AST) -> ast.AST:
    """`node`, or a copy of it with each negative number constant `-c` written as the unary
    minus of `c`: what `ast.unparse` then writes reads back as the same number wherever it
    stands. A function of generated code seldom holds one, so the copy is seldom made."""
    if not any(type(n) is ast.Constant and _negative(n.value) for n in walk(node)):  # type: ignore[attr-defined]
        return node
    return _MinusSigns().visit(copy_tree(node))


class _MinusSigns(ast.NodeTransformer):
    def visit_Constant(self, node: ast.Constant) -> ast.expr:
        if not _negative(node.value):
            return node
        return ast.copy_location(ast.UnaryOp(ast.USub(), ast.copy_location(ast.Constant(-node.value), node)), node)


def _docstring(node: ast.FunctionDef) -> bool:
    first = node.body[0] if node.body else None
    return type(first) is ast.Expr and type(first.value) is ast.Constant and type(first.value.value) is str


def _plain_blocks(body: list[ast.stmt]) -> bool:
    """Whether every statement in `body` is simple or an `if`, `for` or `while` of such."""
    for stmt in body:
        kind = type(stmt)
        if kind in (ast.If, ast.For, ast.While):
            if getattr(stmt, "type_comment", None) or not (_plain_blocks(stmt.body) and _plain_blocks(stmt.orelse)):
                return False
        elif kind not in SIMPLE_STATEMENTS:
            return False
    return True


def _block(body: list[ast.stmt], depth: int, lines: list[str]) -> None:
    indent = "    " * depth
    for stmt in body:
        kind = type(stmt)
        if kind is ast.If:
            _if(stmt, depth, lines)  # type: ignore[arg-type]
        elif kind is ast.For:
            lines.append(f"{indent}for {_expr(stmt.target, TUPLE)} in {_expr(stmt.iter, TEST)}:")  # type: ignore[attr-defined]
            _block(stmt.body, depth + 1, lines)  # type: ignore[attr-defined]
            _else(stmt.orelse, depth, lines)  # type: ignore[attr-defined]
        elif kind is ast.While:
            lines.append(f"{indent}while {_expr(stmt.test, TEST)}:")  # type: ignore[attr-defined]
            _block(stmt.body, depth + 1, lines)  # type: ignore[attr-defined]
            _else(stmt.orelse, depth, lines)  # type: ignore[attr-defined]
        else:
            try:
                text = _simple(stmt)
            except _Unsupported:
                text = ast.unparse(minus_signs(stmt))
            lines.append(indent + text)


def _if(stmt: ast.If, depth: int, lines: list[str]) -> None:
    indent = "    " * depth
    lines.append(f"{indent}if {_expr(stmt.test, TEST)}:")
    _block(stmt.body, depth + 1, lines)
    while len(stmt.orelse) == 1 and type(stmt.orelse[0]) is ast.If:  # `ast.unparse` writes nested ifs as elifs
        stmt = stmt.orelse[0]  # type: ignore[assignment]
        lines.append(f"{indent}elif {_expr(stmt.test, TEST)}:")
        _block(stmt.body, depth + 1, lines)
    _else(stmt.orelse, depth, lines)


def _else(orelse: list[ast.stmt], depth: int, lines: list[str]) -> None:
    if orelse:
        lines.append("    " * depth + "else:")
        _block(orelse, depth + 1, lines)


def _simple(stmt: ast.stmt) -> str:
    kind = type(stmt)
    if kind is ast.Assign:
        if stmt.type_comment:  # type: ignore[attr-defined]
            raise _Unsupported
        targets = "".join(_expr(t, TUPLE) + " = " for t in stmt.targets)  # type: ignore[attr-defined]
        return targets + _expr(stmt.value, TEST)  # type: ignore[attr-defined]
    if kind is ast.Expr:
        return _expr(stmt.value, YIELD)  # type: ignore[attr-defined]
    if kind is ast.Return:
        return "return" if stmt.value is None else "return " + _expr(stmt.value, TEST)  # type: ignore[attr-defined]
    if kind is ast.AugAssign:
        symbol = _BINARY[type(stmt.op)][0]  # type: ignore[attr-defined]
        return f"{_expr(stmt.target, TEST)} {symbol}= {_expr(stmt.value, TEST)}"  # type: ignore[attr-defined]
    if kind is ast.Nonlocal or kind is ast.Global:
        return ("nonlocal " if kind is ast.Nonlocal else "global ") + ", ".join(stmt.names)  # type: ignore[attr-defined]
    return {ast.Pass: "pass", ast.Break: "break", ast.Continue: "continue"}[kind]


def _expr(node: ast.expr, context: int) -> str:
    """`node`'s text where the surrounding code binds with precedence `context`."""
    kind = type(node)
    if kind is ast.Name:
        return node.id  # type: ignore[attr-defined]
    if kind is ast.Constant:
        text = _constant(node)  # type: ignore[arg-type]
        # a negative number reads as a unary minus, which binds less tightly than `**`,
        # an attribute or a subscript
        return _parenthesized(text, context > FACTOR and text[0] == "-")
    if kind is ast.BinOp:
        symbol, precedence = _BINARY[type(node.op)]  # type: ignore[attr-defined]
        right_first = precedence == POWER  # `**` groups from the right
        left = _expr(node.left, precedence + 1 if right_first else precedence)  # type: ignore[attr-defined]
        right = _expr(node.right, precedence if right_first else precedence + 1)  # type: ignore[attr-defined]
        return _parenthesized(f"{left} {symbol} {right}", context > precedence)
    if kind is ast.Call:
        parts = [_argument(a) for a in node.args] + [_keyword(k) for k in node.keywords]  # type: ignore[attr-defined]
        return f"{_expr(node.func, ATOM)}({', '.join(parts)})"  # type: ignore[attr-defined]
    if kind is ast.Attribute:
        value = node.value  # type: ignore[attr-defined]
        space = " " if type(value) is ast.Constant and isinstance(value.value, int) and value.value >= 0 else ""  # `3 .real`, `(-3).real`
        return f"{_expr(value, ATOM)}{space}.{node.attr}"  # type: ignore[attr-defined]
    if kind is ast.UnaryOp:
        symbol, precedence = _UNARY[type(node.op)]  # type: ignore[attr-defined]
        return _parenthesized(symbol + _expr(node.operand, precedence), context > precedence)  # type: ignore[attr-defined]
    if kind is ast.Subscript:
        index = node.slice  # type: ignore[attr-defined]
        inner = _items(index.elts) if type(index) is ast.Tuple and index.elts else _expr(index, TEST)
        return f"{_expr(node.value, ATOM)}[{inner}]"  # type: ignore[attr-defined]
    if kind is ast.Tuple:
        needed = _TUPLES_IN_PARENTHESES or not node.elts or context > TUPLE  # type: ignore[attr-defined]
        return _parenthesized(_items(node.elts), needed)  # type: ignore[attr-defined]
    if kind is ast.List:
        return "[" + ", ".join(_argument(e) for e in node.elts) + "]"  # type: ignore[attr-defined]
    if kind is ast.Slice:
        lower, upper, step = node.lower, node.upper, node.step  # type: ignore[attr-defined]
        text = (_expr(lower, TEST) if lower else "") + ":" + (_expr(upper, TEST) if upper else "")
        return text + (":" + _expr(step, TEST) if step else "")
    if kind is ast.Compare:
        parts = [_expr(node.left, EXPR)]  # type: ignore[attr-defined]
        for op, operand in zip(node.ops, node.comparators):  # type: ignore[attr-defined]
            parts.append(f"{_COMPARE[type(op)]} {_expr(operand, EXPR)}")
        return _parenthesized(" ".join(parts), context > CMP)
    if kind is ast.BoolOp:
        symbol, precedence = (" and ", 6) if type(node.op) is ast.And else (" or ", OR)  # type: ignore[attr-defined]
        # `ast.unparse` binds each operand one level tighter than the one before
        values = [_expr(v, precedence + 1 + i) for i, v in enumerate(node.values)]  # type: ignore[attr-defined]
        return _parenthesized(symbol.join(values), context > precedence)
    if kind is ast.IfExp:
        body, test = _expr(node.body, OR), _expr(node.test, OR)  # type: ignore[attr-defined]
        return _parenthesized(f"{body} if {test} else {_expr(node.orelse, TEST)}", context > TEST)  # type: ignore[attr-defined]
    raise _Unsupported


def _constant(node: ast.Constant) -> str:
    value = node.value
    kind = type(value)
    if kind is float and math.isfinite(value) or kind is int or kind is bool or value is None:
        return repr(value)
    raise _Unsupported  # strings (quote choice), infinities, tuples...: left to `ast.unparse`


def _argument(node: ast.expr) -> str:
    if type(node) is ast.Starred:
        raise _Unsupported
    return _expr(node, TEST)


def _keyword(node: ast.keyword) -> str:
    value = _expr(node.value, TEST)
    return f"**{value}" if node.arg is None else f"{node.arg}={value}"


def _items(elts: list[ast.expr]) -> str:
    """Items separated by commas; one item gets a trailing comma (it is a tuple)."""
    if len(elts) == 1:
        return _argument(elts[0]) + ","
    return ", ".join(_argument(e) for e in elts)


def _parenthesized(text: str, needed: bool) -> str:
    return f"({text})" if needed else text
