"""The complex pass: finds the names of a normalized function that may hold complex values, and
prepares their statements for the rules of complex values (docs/how-it-works.md#complex-values).

A name may be complex if a complex number, `complex(...)` or a complex dtype reaches it (the
parameters are real). A function with no such name is left exactly as it is. Otherwise every
statement on complex values must have a rule declared `complex_safe`, or this raises a located
`NotDifferentiableError`; `abs` of a complex value becomes `complex_abs`, and each real name
operand of a complex statement goes through `real_input`, so real values get real cotangents.
"""

from __future__ import annotations

import ast
from typing import Any, Iterator

import numpy as np

from ..errors import SourceInfo, located_error
from ..frontend.parse import MISSING
from ..frontend.resolve import ATTRIBUTE_PRIMALS, Resolver
from ..rules.complex_vjp import complex_abs, real_input
from ..rules.registry import is_complex_safe
from ..syntax.fastast import walk
from ..syntax.naming import Namer

_ABS = (abs, np.absolute)
_REAL_RESULTS = {abs, np.absolute, np.real, np.imag, np.angle, complex_abs}
_REAL_ATTRIBUTES = {"real", "imag", "shape", "ndim", "size", "dtype"}
_COMPLEX_TYPES = {complex, np.complex64, np.complex128, np.clongdouble}
_SAFE_OPS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.USub, ast.UAdd)
_HELP = ("complex values are differentiated through + - * / ** (with an exponent that has no "
         "derivative), abs, np.real, np.imag, np.conj, np.angle, np.exp, np.sin, np.sum and the other "
         "functions docs/how-it-works.md#complex-values lists")


class Complexity:
    """The pass over one normalized function (`run`); `complex_names` is what it found."""

    def __init__(self, info: SourceInfo, resolver: Resolver, namer: Namer, injected: dict[str, Any],
                 real_output: bool) -> None:
        self.info, self.resolver, self.namer, self.injected = info, resolver, namer, injected
        self.real_output = real_output
        self.complex_names: dict[str, ast.AST] = {}  # name -> the statement that made it complex first
        self.stand_ins: dict[Any, str] = {}
        self.current: ast.stmt = ast.Pass()  # the statement being rewritten

    def run(self, node: ast.FunctionDef) -> ast.FunctionDef:
        changed = True
        while changed:
            changed = False
            for stmt in _statements(node.body):
                for target, value in _stores(stmt):
                    if target not in self.complex_names and value is not None and self.is_complex(value):
                        self.complex_names[target] = stmt
                        changed = True
        if self.complex_names:
            node.body = self.block(node.body)
        return node

    # ---- which values may be complex ------------------------------------------------------

    def is_complex(self, expr: ast.expr) -> bool:
        if isinstance(expr, ast.Compare):
            return False
        if isinstance(expr, ast.Attribute) and expr.attr in _REAL_ATTRIBUTES:
            return False
        if isinstance(expr, ast.Call):
            primal = self.primal(expr)
            if primal in _REAL_RESULTS or self.resolver.callee(expr).kind == "nondiff":
                return False
            if primal is complex or any(self.is_complex_type(k.value) for k in expr.keywords if k.arg == "dtype"):
                return True
            func = expr.func
            if isinstance(func, ast.Attribute) and func.attr == "astype" and expr.args and self.is_complex_type(expr.args[0]):
                return True
        for node in walk(expr):
            if isinstance(node, ast.Constant) and isinstance(node.value, complex):
                return True
            if isinstance(node, ast.Name) and node.id in self.complex_names:
                return True
        return False

    def is_complex_type(self, expr: ast.expr) -> bool:
        if isinstance(expr, ast.Constant):
            return isinstance(expr.value, str) and "complex" in expr.value
        value = self.resolver.static_value(expr)
        return value is not MISSING and any(value is t for t in _COMPLEX_TYPES)

    def primal(self, call: ast.Call) -> Any:
        callee = self.resolver.callee(call)
        return callee.value if callee.kind in ("rule", "method", "nondiff") else None

    def reads_complex(self, expr: ast.expr) -> bool:
        return any(isinstance(n, ast.Name) and n.id in self.complex_names for n in walk(expr))

    # ---- checks and rewrites ---------------------------------------------------------------

    def block(self, body: list[ast.stmt]) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for stmt in body:
            for field in ("body", "orelse"):
                inner = getattr(stmt, field, None)
                if isinstance(inner, list) and inner and isinstance(inner[0], ast.stmt):
                    setattr(stmt, field, self.block(inner))
            out.extend(self.statement(stmt))
        return out

    def statement(self, stmt: ast.stmt) -> list[ast.stmt]:
        if isinstance(stmt, ast.Return) and stmt.value is not None:
            if self.real_output and self.reads_complex(stmt.value) and self.is_complex(stmt.value):
                raise located_error(self.info, stmt.value, "grad needs a real-valued function, and this value may be "
                                    f"complex{self.since(stmt.value)}; return its np.real(...), np.imag(...) or abs(...)")
            return [stmt]
        if not isinstance(stmt, ast.Assign):
            return [stmt]
        value = stmt.value
        if not (self.reads_complex(value) or self.is_complex(value)):
            return [stmt]
        before: list[ast.stmt] = []
        self.current = stmt
        if isinstance(value, ast.BinOp):
            self.check(type(value.op), value, "this operator")
            if isinstance(value.op, ast.Pow) and self.reads_complex(value.left) and not isinstance(value.right, ast.Constant):
                raise located_error(self.info, value, f"a power of a complex value{self.since(value.left)} has a "
                                    "derivative here only for a constant exponent; write np.exp(y * np.log(z))")
            value.left, value.right = (self.real(e, before) for e in (value.left, value.right))
        elif isinstance(value, ast.UnaryOp):
            self.check(type(value.op), value, "this operator")
            value.operand = self.real(value.operand, before)
        elif isinstance(value, ast.Call):
            self.call(value, before)
        elif isinstance(value, (ast.Tuple, ast.List)):
            value.elts = [self.real(e, before) for e in value.elts]
        elif isinstance(value, ast.Name):
            stmt.value = self.real(value, before)
        elif isinstance(value, ast.Attribute):
            self.check(ATTRIBUTE_PRIMALS.get(value.attr), value, f"the attribute `.{value.attr}`")
        elif not isinstance(value, (ast.Subscript, ast.Constant, ast.Compare)):
            raise located_error(self.info, value, f"`{ast.unparse(value)}` on complex values{self.since(value)}: " + _HELP)
        return [*before, stmt]

    def call(self, call: ast.Call, before: list[ast.stmt]) -> None:
        callee = self.resolver.callee(call)
        if callee.kind == "nondiff":
            return
        primal = callee.value if callee.kind in ("rule", "method") else None
        if any(primal is a for a in _ABS) and self.reads_complex(call):
            call.func = ast.Name(self.stand_in(complex_abs), ast.Load())
            return
        self.check(primal, call, f"`{callee.name}`")
        if callee.kind == "rule":
            call.args = [self.real(a, before) for a in call.args]

    def check(self, primal: Any, node: ast.expr, what: str) -> None:
        if primal is None or not is_complex_safe(primal):
            raise located_error(self.info, node, f"{what} has no derivative rule for complex values, and its "
                                f"argument may be complex{self.since(node)}; " + _HELP)

    def since(self, expr: ast.expr) -> str:
        """Where the first complex name `expr` reads became complex."""
        for n in walk(expr):
            if isinstance(n, ast.Name) and n.id in self.complex_names:
                line = self.info.absolute_line(getattr(self.complex_names[n.id], "lineno", 1))
                return f" (`{n.id}` is complex from line {line})"
        return ""

    def real(self, expr: ast.expr, before: list[ast.stmt]) -> ast.expr:
        """`expr`, through `real_input` if it is a name that holds a real value."""
        if not isinstance(expr, ast.Name) or expr.id in self.complex_names:
            return expr
        name = self.namer.fresh("_real")
        call = ast.Call(ast.Name(self.stand_in(real_input), ast.Load()), [expr], [])
        before.append(ast.copy_location(ast.Assign([ast.Name(name, ast.Store())], call), self.current))
        ast.fix_missing_locations(before[-1])
        return ast.Name(name, ast.Load())

    def stand_in(self, fn: Any) -> str:
        if fn not in self.stand_ins:
            self.stand_ins[fn] = name = self.namer.reserve(fn.__name__)
            self.injected[name] = fn
            self.resolver.injected[name] = fn
        return self.stand_ins[fn]


def _statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    for stmt in body:
        yield stmt
        for field in ("body", "orelse"):
            inner = getattr(stmt, field, None)
            if isinstance(inner, list) and inner and isinstance(inner[0], ast.stmt):
                yield from _statements(inner)


def _stores(stmt: ast.stmt) -> Iterator[tuple[str, ast.expr | None]]:
    """(name, value) for each name `stmt` stores (a subscript store stores into its base)."""
    if isinstance(stmt, ast.Assign):
        targets, value = stmt.targets, stmt.value
    elif isinstance(stmt, (ast.AugAssign, ast.AnnAssign)):
        targets, value = [stmt.target], stmt.value
    elif isinstance(stmt, ast.For):
        targets, value = [stmt.target], stmt.iter
    else:
        return
    for target in targets:
        while isinstance(target, (ast.Subscript, ast.Attribute)):
            target = target.value
        for node in walk(target):
            if isinstance(node, ast.Name):
                yield node.id, value
        if isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Name):
            yield stmt.target.id, ast.BinOp(stmt.target, stmt.op, stmt.value) if value is not None else None
