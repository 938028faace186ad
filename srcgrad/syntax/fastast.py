"""Leaner equivalents of `ast` helpers that the transform calls on every generated node.

`ast.NodeTransformer`, `ast.fix_missing_locations` and `copy.deepcopy` are general and
slow: a generator per node for its fields, a method lookup by name per node, a visit of
every `Load()` and `Add()`. The transform runs them over functions of thousands of nodes,
so these versions do the same work with less overhead. Each gives exactly the result of
the `ast` (or `copy`) function it replaces.
"""

from __future__ import annotations

import ast
import copy
from collections import deque
from typing import Any, Callable, Iterator

AST = ast.AST


def _fieldless(cls: type) -> bool:
    return isinstance(cls, type) and issubclass(cls, AST) and not cls._fields and not cls._attributes


# Node types with neither fields nor attributes: contexts (`Load()`) and operators (`Add()`).
# They hold nothing, so a transformer need not visit them and a copy may share them (the
# parser itself shares one `Load()` among all the names of a tree).
LEAVES = frozenset(cls for cls in vars(ast).values() if _fieldless(cls))

# Fields that never hold a node other than a field-less one: names, flags, operators.
_SCALAR_FIELDS = frozenset({
    "id", "attr", "arg", "name", "asname", "module", "level", "kind", "type_comment", "conversion",
    "is_async", "simple", "ctx", "op", "ops",
})


class _FieldTable(dict):
    def __missing__(self, kind: type) -> tuple[str, ...]:
        fields = self[kind] = tuple(
            f for f in kind._fields
            if (f not in _SCALAR_FIELDS or (f == "name" and kind.__name__ == "TypeAlias"))  # `type X = ...`: a Name
            and not (kind is ast.Constant and f == "value")
        )
        return fields


# For each node type, the fields that may hold nodes worth visiting (not `Name.id`,
# `Constant.value`, `BinOp.op`...): `CHILD_FIELDS[type(node)]`.
CHILD_FIELDS: dict[type, tuple[str, ...]] = _FieldTable()

_POSITION = ("lineno", "col_offset", "end_lineno", "end_col_offset")

# The usual statements without statement lists of their own: passes skip looking for bodies in them.
SIMPLE_STATEMENTS = frozenset({
    ast.Assign, ast.AugAssign, ast.Return, ast.Expr, ast.Pass, ast.Break, ast.Continue, ast.Nonlocal, ast.Global,
})


class Transformer(ast.NodeTransformer):
    """An `ast.NodeTransformer` that dispatches through a per-class table and never visits
    the field-less nodes (contexts, operators); subclasses may not define visitors for them."""

    _dispatch: dict[type, Callable[..., Any] | None]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._dispatch = {}
        for leaf in LEAVES:
            if hasattr(cls, f"visit_{leaf.__name__}"):
                raise TypeError(f"{cls.__name__}: Transformer does not visit {leaf.__name__} nodes")

    def visit(self, node: AST) -> Any:
        kind = type(node)
        try:
            method = self._dispatch[kind]
        except KeyError:
            method = getattr(type(self), f"visit_{kind.__name__}", None)
            if method is ast.NodeVisitor.visit_Constant:  # only looks for the deprecated visit_Num...
                method = None
            self._dispatch[kind] = method
        if method is not None:
            return method(self, node)
        return self.generic_visit(node)

    def generic_visit(self, node: AST) -> AST:
        leaves = LEAVES
        for field in CHILD_FIELDS[type(node)]:
            try:
                old = getattr(node, field)
            except AttributeError:
                continue
            if isinstance(old, list):
                new_values = []
                for value in old:
                    if isinstance(value, AST) and type(value) not in leaves:
                        value = self.visit(value)
                        if value is None:
                            continue
                        if not isinstance(value, AST):
                            new_values.extend(value)
                            continue
                    new_values.append(value)
                old[:] = new_values
            elif isinstance(old, AST) and type(old) not in leaves:
                new = self.visit(old)
                if new is None:
                    delattr(node, field)
                elif new is not old:
                    setattr(node, field, new)
        return node


def location(node: AST) -> dict[str, Any]:
    """The position attributes that `ast.copy_location` would copy from `node` (to a node
    that has them all: a statement or an expression)."""
    kind = type(node)
    located = _LOCATED.get(kind)
    if located is None:
        located = _LOCATED[kind] = tuple((a, a.startswith("end_")) for a in _POSITION if a in kind._attributes)
    found = {}
    for attribute, optional in located:
        value = getattr(node, attribute, None)
        if value is not None or (optional and hasattr(node, attribute)):
            found[attribute] = value
    return found


_LOCATED: dict[type, tuple[tuple[str, bool], ...]] = {}  # per node type: its position attributes, optional or not


def walk(node: AST) -> Iterator[AST]:
    """`ast.walk` without the field-less nodes (`Load()`, `Add()`): `node` and the nodes
    under it, in the same (breadth-first) order."""
    todo = deque([node])
    popleft, append, extend = todo.popleft, todo.append, todo.extend
    fields_of, leaves = CHILD_FIELDS, LEAVES
    while todo:
        node = popleft()
        for field in fields_of[type(node)]:
            value = getattr(node, field, None)
            if isinstance(value, AST):
                if type(value) not in leaves:
                    append(value)
            elif isinstance(value, list):
                extend(item for item in value if isinstance(item, AST) and type(item) not in leaves)
        yield node


def fix_missing_locations(node: AST) -> AST:
    """`ast.fix_missing_locations`: give every node lacking a position its parent's."""
    _fix(node, 1, 0, 1, 0)
    return node


def _fix(node: AST, lineno: int, col_offset: int, end_lineno: int, end_col_offset: int) -> None:
    # Depth first, as `ast` does: a node shared by two parents takes its position from the
    # first one reached. Positions live in the node's `__dict__` (only `end_lineno` and
    # `end_col_offset` have a class default, None), so testing the dict is `hasattr`. Every
    # node class with a position has all four attributes (Python 3.10 to 3.13); the others none.
    kind = type(node)
    if kind._attributes == _POSITION:
        state = node.__dict__
        if "lineno" in state:
            lineno = state["lineno"]
        else:
            state["lineno"] = lineno
        value = state.get("end_lineno")
        if value is None:
            state["end_lineno"] = end_lineno
        else:
            end_lineno = value
        if "col_offset" in state:
            col_offset = state["col_offset"]
        else:
            state["col_offset"] = col_offset
        value = state.get("end_col_offset")
        if value is None:
            state["end_col_offset"] = end_col_offset
        else:
            end_col_offset = value
    for field in CHILD_FIELDS[kind]:
        value = getattr(node, field, None)
        if type(value) is list:
            for item in value:
                if isinstance(item, AST) and type(item) not in LEAVES:
                    _fix(item, lineno, col_offset, end_lineno, end_col_offset)
        elif isinstance(value, AST) and type(value) not in LEAVES:
            _fix(value, lineno, col_offset, end_lineno, end_col_offset)


_ATOMIC = frozenset({str, int, float, complex, bool, bytes, type(None), type(...)})


def copy_tree(node: Any) -> Any:
    """`copy.deepcopy` of an AST (or list of ASTs): what is shared stays shared in the copy,
    except field-less nodes (`Load()`, `Add()`), which the copy shares with the original."""
    return _copy(node, {})


def _copy(value: Any, memo: dict[int, Any]) -> Any:
    kind = type(value)
    if kind in _ATOMIC or kind in LEAVES:
        return value
    done = memo.get(id(value))
    if done is not None:
        return done
    if kind is list:
        new_list: list[Any] = []
        memo[id(value)] = new_list
        new_list.extend(_copy(item, memo) for item in value)
        return new_list
    if not isinstance(value, AST):
        return copy.deepcopy(value)  # a constant's tuple, say
    new = kind.__new__(kind)  # a node's fields and position all live in its `__dict__`
    memo[id(value)] = new
    new.__dict__.update({k: _copy(v, memo) for k, v in value.__dict__.items()})
    return new
