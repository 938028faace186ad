"""In-place accumulation of gradients in loops: `w_bar = w_bar + e` without a new array.

A loop's backward sweep adds a contribution to a parameter's gradient on every trip:
`w_bar = w_bar + e` makes a new array each time, and writes the whole of it. When the array
`w_bar` holds belongs to nothing else, `add_into(w_bar, e)` adds `e` into it instead (it
falls back to `w_bar + e` unless both are NumPy arrays of the same shape and dtype, so the
result is the same number for number).

`w_bar`'s array belongs to nothing else when, all over the generated function:

* every store of `w_bar` is a plain `w_bar = value` whose value is a number, the
  accumulation `w_bar + e` itself, or an expression that makes a new array (arithmetic, a
  NumPy ufunc, a few runtime helpers that build their result);
* every read of `w_bar` is the left operand of its own accumulation, or a `return`, or
  one that keeps nothing: a shape-only argument, `is_zero(w_bar)`.

So no other name, list, tape or lazy expression can hold the array when it is added into,
and the function returns it only at its end. Names known to hold Python numbers are left
alone (nothing to gain), and so is a function with a nested scope (not followed).
"""

from __future__ import annotations

import ast
from typing import Any, Callable

import numpy as np

from ..analysis.shapes import SHAPE_ONLY
from ..rules.operators_vjp import unbroadcast_matmul
from ..runtime.core import add_at, add_into, getitem_vjp, is_zero
from ..syntax.astquery import callee
from ..syntax.emit import CodeNames
from ..syntax.fastast import walk

_NESTED = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
_NEW_ARRAY_HELPERS = (unbroadcast_matmul, getitem_vjp)  # always build their result


def _accumulation(stmt: ast.AST) -> str | None:
    """`a` for `a = a + e` where `e` does not read `a`, else None."""
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
        name, value = stmt.targets[0].id, stmt.value
        if isinstance(value, ast.BinOp) and isinstance(value.op, ast.Add) and isinstance(value.left, ast.Name) \
                and value.left.id == name and not any(isinstance(n, ast.Name) and n.id == name for n in walk(value.right)):
            return name
    return None


def _in_loops(body: list[ast.stmt], inside: bool = False) -> list[ast.Assign]:
    """The accumulations `a = a + e` in the bodies of loops (at any depth)."""
    found: list[ast.Assign] = []
    for stmt in body:
        if inside and _accumulation(stmt) is not None:
            found.append(stmt)  # type: ignore[arg-type]
        for field in ("body", "orelse"):
            block = getattr(stmt, field, None)
            if isinstance(block, list):
                found += _in_loops(block, inside or (isinstance(stmt, (ast.For, ast.While)) and field == "body"))
    return found


class _Owners:
    """Which names hold arrays that nothing else holds (see the module docstring)."""

    def __init__(self, node: ast.FunctionDef, value_of: Callable[[ast.expr], Any]) -> None:
        self.value_of = value_of
        self.allowed: set[int] = set()  # Name nodes whose read keeps nothing
        self.bad: set[str] = set()
        stores: dict[int, ast.Assign] = {}
        for inner in walk(node):
            if isinstance(inner, ast.Assign) and len(inner.targets) == 1 and isinstance(inner.targets[0], ast.Name):
                stores[id(inner.targets[0])] = inner
                if _accumulation(inner) is not None:
                    self.allowed.add(id(inner.value.left))  # type: ignore[attr-defined]
            elif isinstance(inner, ast.Return) and inner.value is not None:
                returned = [inner.value]
                while any(isinstance(r, ast.Tuple) for r in returned):  # `return value, (a_bar, b_bar)`
                    returned = [e for r in returned for e in (r.elts if isinstance(r, ast.Tuple) else [r])]
                self.allowed.update(id(r) for r in returned if isinstance(r, ast.Name))
            elif isinstance(inner, ast.Call):
                self._harmless_arguments(inner)
            elif isinstance(inner, (ast.Global, ast.Nonlocal)):
                self.bad.update(inner.names)
        for inner in walk(node):
            if not isinstance(inner, ast.Name):
                continue
            if isinstance(inner.ctx, ast.Load):
                if id(inner) not in self.allowed:
                    self.bad.add(inner.id)
            elif id(inner) not in stores or not _owned_value(inner.id, stores[id(inner)].value, value_of):
                self.bad.add(inner.id)

    def _harmless_arguments(self, call: ast.Call) -> None:
        if call.keywords:
            return
        fn = callee(call, self.value_of)
        positions: tuple[int, ...] = (0,) if fn is is_zero else SHAPE_ONLY.get(id(fn), ())
        for position in positions:
            if position < len(call.args) and isinstance(call.args[position], ast.Name):
                self.allowed.add(id(call.args[position]))


def _owned_value(name: str, value: ast.expr, value_of: Callable[[ast.expr], Any]) -> bool:
    """Whether `name = value` leaves `name` holding a number or an array of its own."""
    if isinstance(value, ast.Constant):
        return type(value.value) in (int, float, complex)
    if isinstance(value, (ast.BinOp, ast.UnaryOp)):
        return not isinstance(value, ast.UnaryOp) or isinstance(value.op, (ast.USub, ast.UAdd))
    if isinstance(value, ast.Call) and not value.keywords:
        fn = callee(value, value_of)
        if fn is add_at or fn is add_into:  # add into their first argument, and return it
            return bool(value.args) and isinstance(value.args[0], ast.Name) and value.args[0].id == name
        if isinstance(fn, np.ufunc):  # a third positional argument of np.add is its output
            return fn.nout == 1 and len(value.args) == fn.nin
        return any(fn is helper for helper in _NEW_ARRAY_HELPERS)
    return False


def _stored(stmt: ast.AST) -> set[str]:
    return {n.id for n in walk(stmt) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}


def assign_onto_zeros(body: list[ast.stmt], zeros: set[str], value_of: Callable[[ast.expr], Any]) -> set[str]:
    """Rewrite `a = a + e` to `a = e` where `a` surely holds `0.0` and `e` makes a new value
    (so `a` holds no alias either way); `zeros` are the names that hold `0.0` on entry.
    Returns those that do on exit."""
    zeros = set(zeros)
    for stmt in body:
        name = _accumulation(stmt)
        if name is not None and name in zeros and _owned_value(name, stmt.value.right, value_of):  # type: ignore[attr-defined]
            stmt.value = stmt.value.right  # type: ignore[attr-defined]
        if isinstance(stmt, ast.If):
            zeros -= _stored(stmt.test)
            zeros = assign_onto_zeros(stmt.body, zeros, value_of) & assign_onto_zeros(stmt.orelse, zeros, value_of)
        elif isinstance(stmt, (ast.For, ast.While)):
            zeros -= _stored(stmt)  # the body runs again after its end
            assign_onto_zeros(stmt.body, zeros, value_of)
            assign_onto_zeros(stmt.orelse, zeros, value_of)
        elif isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            zeros.discard(stmt.targets[0].id)
            value = stmt.value
            if isinstance(value, ast.Constant) and type(value.value) is float and value.value == 0.0:
                zeros.add(stmt.targets[0].id)
            elif zeros and any(isinstance(n, ast.NamedExpr) for n in walk(value)):
                zeros -= _stored(value)
        elif zeros:
            zeros -= _stored(stmt)
    return zeros


def accumulate_in_place(node: ast.FunctionDef, names: CodeNames, adjoints: set[str], numbers: set[str]) -> bool:
    """Rewrite the loop accumulations `a = a + e` of the adjoints whose arrays nothing else
    holds into `a = add_into(a, e)`; `numbers` are the names that hold Python numbers, `names`
    says what the code's names refer to. Returns whether anything changed."""
    value_of = names.value_of
    assign_onto_zeros(node.body, set(), value_of)
    found = [s for s in _in_loops(node.body) if s.targets[0].id in adjoints and s.targets[0].id not in numbers]  # type: ignore[attr-defined]
    if not found or any(isinstance(n, _NESTED) for n in walk(node) if n is not node):
        return False
    owners = _Owners(node, value_of)
    chosen = [s for s in found if s.targets[0].id not in owners.bad]  # type: ignore[attr-defined]
    if not chosen:
        return False
    helper = names.bind("add_into", add_into)
    for stmt in chosen:
        total = stmt.value
        stmt.value = ast.copy_location(ast.Call(ast.Name(helper, ast.Load()), [total.left, total.right], []), total)  # type: ignore[attr-defined]
    return True
