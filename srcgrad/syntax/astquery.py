"""Queries of Python syntax trees that know nothing of differentiation.

The passes ask the same few questions of statements and expressions again and again:
every statement of a body, the `Name` nodes under a node, which names a node reads or
binds, how many statements a body holds, whether a node is a number literal, what a call
calls. They live here, below every pass, so that each pass asks them the same way.
"""

from __future__ import annotations

import ast
from typing import Any, Callable, Iterator

from .fastast import CHILD_FIELDS, SIMPLE_STATEMENTS


def statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Every statement of `body`, nested ones included, in source order."""
    for stmt in body:
        yield stmt
        if type(stmt) in SIMPLE_STATEMENTS:  # the usual statements: no bodies to look for
            continue
        for field in ("body", "orelse"):
            inner = getattr(stmt, field, None)
            if isinstance(inner, list):
                yield from statements(inner)


def names(node: ast.AST) -> list[ast.Name]:
    """Every `Name` node under `node`: a leaner `ast.walk`, since the passes ask this of
    every statement many times over."""
    found: list[ast.Name] = []
    stack: list[Any] = [node]
    pop, push, extend, note = stack.pop, stack.append, stack.extend, found.append
    name_type, constant = ast.Name, ast.Constant
    while stack:
        current = pop()
        kind = type(current)
        if kind is name_type:
            note(current)
            continue
        if kind is constant or current is None or kind is str:  # a leaf, a missing part, a `global`'s name
            continue
        state = current.__dict__
        for field in CHILD_FIELDS[kind]:
            value = state.get(field)
            if type(value) is list:
                extend(value)
            elif value is not None:
                push(value)
    return found


def loads(node: ast.AST) -> set[str]:
    """The names that `node` reads."""
    return {n.id for n in names(node) if type(n.ctx) is ast.Load}


def stores(node: ast.AST) -> set[str]:
    """The names that `node` binds."""
    return {n.id for n in names(node) if type(n.ctx) is ast.Store}


def count_statements(body: list[ast.stmt]) -> int:
    """How many statements `body` holds, nested ones included."""
    count = 0
    blocks = [body]
    while blocks:
        block = blocks.pop()
        count += len(block)
        for stmt in block:
            for field in ("body", "orelse"):
                inner = getattr(stmt, field, None)
                if inner:
                    blocks.append(inner)
    return count


def is_number(node: ast.AST) -> bool:
    """Whether `node` is an `int` or `float` literal (not a bool, complex or other constant):
    what constant folding may compute with."""
    return type(node) is ast.Constant and type(node.value) in (int, float)  # type: ignore[attr-defined]


def callee(call: ast.Call, value_of: Callable[[ast.expr], Any]) -> Any:
    """The object `call` calls, as `value_of` finds it from the callee expression; None
    when it cannot tell (an odd or unhashable object: not one of the generated code's helpers)."""
    try:
        return value_of(call.func)
    except Exception:
        return None
