"""Building blocks for emitting generated code: AST constructors, template substitution,
and the namespace of objects the generated code reads as closure cells."""

from __future__ import annotations

import ast
import copy
from typing import Any, Callable

from .analysis import names
from .fastast import LEAVES, Transformer
from .naming import Namer


class Namespace:
    """Objects the generated code refers to by name (rule helpers, callee derivatives)."""

    def __init__(self, namer: Namer, visible: Callable[[str], Any]) -> None:
        self.namer = namer
        self.visible = visible
        self.values: dict[str, Any] = {}
        self.by_id: dict[int, str] = {}

    def bind(self, preferred: str, value: Any) -> str:
        key = id(value)
        if key in self.by_id:
            return self.by_id[key]
        if self.visible(preferred) is value:  # the user's module already calls it that
            self.by_id[key] = preferred
            return preferred
        name = self.namer.reserve(preferred)
        self.values[name] = value
        self.by_id[key] = name
        return name


def make_call(func: str, args: list[ast.expr], keywords: list[ast.keyword] | None = None) -> ast.Call:
    node: ast.expr = ast.parse(func, mode="eval").body if isinstance(func, str) else func
    return ast.Call(node, args, keywords or [])


def make_assign(name: str, value: ast.expr) -> ast.Assign:
    return ast.Assign([ast.Name(name, ast.Store())], value)


def make_function(name: str, params: list[str], body: list[ast.stmt]) -> ast.FunctionDef:
    args = ast.arguments(posonlyargs=[], args=[ast.arg(p) for p in params], vararg=None,
                         kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[])
    return ast.FunctionDef(name=name, args=args, body=body, decorator_list=[], returns=None,
                           type_comment=None, type_params=[])


def receivers(call: ast.Call) -> list[ast.expr]:
    return [call.func.value] if isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Name) else []


def index_value(index: ast.expr) -> ast.expr:
    """The runtime value of a subscript: `1:3` becomes `slice(1, 3, None)`."""
    if isinstance(index, ast.Slice):
        parts = [copy.deepcopy(p) if p is not None else ast.Constant(None) for p in (index.lower, index.upper, index.step)]
        return make_call("slice", parts)
    if isinstance(index, ast.Tuple):
        return ast.Tuple([index_value(e) for e in index.elts], ast.Load())
    return copy.deepcopy(index)


def substitute(template: Any, substitutions: dict[str, ast.expr]) -> Any:
    """A fresh copy of `template` with names replaced by copies of their substitutes (the
    field-less nodes, `Load()` and `Add()`, are shared: they hold nothing)."""
    kind = type(template)
    if kind is list:
        return [substitute(item, substitutions) for item in template]
    if kind in LEAVES or not isinstance(template, ast.AST):
        return template
    if isinstance(template, ast.Name) and template.id in substitutions:
        return clone(substitutions[template.id])
    new = kind.__new__(kind)
    state = new.__dict__
    for field in kind._fields:
        value = getattr(template, field, None)
        state[field] = substitute(value, substitutions) if type(value) is list or isinstance(value, ast.AST) else value
    if hasattr(template, "lineno"):  # as `ast.copy_location` would
        located = _LOCATED.get(kind)
        if located is None:
            located = _LOCATED[kind] = tuple((a, a.startswith("end_")) for a in _LOCATION if a in kind._attributes)
        for attribute, optional in located:
            value = getattr(template, attribute, None)
            if value is not None or (optional and hasattr(template, attribute)):
                state[attribute] = value
    return new


_LOCATION = ("lineno", "col_offset", "end_lineno", "end_col_offset")
_LOCATED: dict[type, tuple[tuple[str, bool], ...]] = {}  # per node type: its position attributes, optional or not


def clone(node: Any) -> Any:
    return substitute(node, {})


def drop_calls(expr: ast.expr, wrapper: ast.expr | None) -> ast.expr:
    """`wrapper(e, x)` becomes `e`: for shape bookkeeping (`unbroadcast`, `broadcast_like`)
    that has nothing to do when the shapes are known to agree."""
    if not isinstance(wrapper, ast.Name) or wrapper.id not in {n.id for n in names(expr)}:
        return expr
    return _DropCalls(wrapper.id).visit(expr)


class _DropCalls(Transformer):
    def __init__(self, name: str) -> None:
        self.name = name

    def visit_Call(self, node: ast.Call) -> ast.expr:
        self.generic_visit(node)
        if isinstance(node.func, ast.Name) and node.func.id == self.name:
            return node.args[0]
        return node


def simple_name(fn: Any) -> str:
    name = getattr(fn, "__name__", "f")
    return name if name.isidentifier() else "lambda_"
