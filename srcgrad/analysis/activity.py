"""Activity analysis: which names depend on the `wrt` inputs and reach the output.

Flow-insensitive on purpose: a name is varied if any assignment to it reads a varied name
through a differentiable operation, and useful if any assignment from it feeds a useful
name. Over-approximating only costs a few zero adjoints; it never drops a derivative.
"""

from __future__ import annotations

import ast
from typing import Callable, Collection

from ..syntax.astquery import loads, names, statements
from ..syntax.fastast import walk

_MUTATORS = {"append", "extend", "insert", "update", "setdefault"}


def flow(stmt: ast.stmt, names_of: Callable[[ast.stmt], list[ast.Name]] = names) -> tuple[set[str], set[str]] | None:
    """(names written, names read) of a statement through which derivatives may flow;
    `names_of(stmt)` gives the `Name` nodes of a statement (`names`, or a record of them)."""
    if isinstance(stmt, ast.Assign):
        target = stmt.targets[0]
        if isinstance(target, ast.Subscript):
            container = target.value.id  # type: ignore[attr-defined]
            return {container}, loads(stmt.value) | {container}
        if type(target) is ast.Name:  # the value's names are the statement's others
            return {target.id}, {n.id for n in names_of(stmt) if type(n.ctx) is ast.Load}  # type: ignore[attr-defined]
        return {n.id for n in walk(target) if isinstance(n, ast.Name)}, loads(stmt.value)
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
        func = stmt.value.func
        if isinstance(func, ast.Attribute) and func.attr in _MUTATORS and isinstance(func.value, ast.Name):
            read = set().union(*(loads(a) for a in stmt.value.args)) if stmt.value.args else set()
            return {func.value.id}, read | {func.value.id}
    return None


def activity(
    body: list[ast.stmt],
    wrt: set[str],
    returned: set[str],
    carries_derivative: Callable[[ast.stmt], bool],
    inert: Collection[str] = (),
    names_of: Callable[[ast.stmt], list[ast.Name]] = names,
) -> set[str]:
    """The active names: varied by `wrt` and useful for the names in `returned`. Names in
    `inert` (whose total derivative is known to be zero) are neither, and vary nothing.
    `names_of`: see `flow`."""
    flows = [f for s in statements(body) if carries_derivative(s) and (f := flow(s, names_of)) is not None]
    if inert:
        flows = [(written - set(inert), read - set(inert)) for written, read in flows]
    varied = _fixpoint(set(wrt), [(read, written) for written, read in flows])
    useful = _fixpoint(set(returned), flows)
    return varied & useful


def _fixpoint(seed: set[str], edges: list[tuple[set[str], set[str]]]) -> set[str]:
    """Close `seed` under `source & reached -> reached |= destination` for each edge."""
    by_source: dict[str, list[set[str]]] = {}
    for source, destination in edges:
        for name in source:
            by_source.setdefault(name, []).append(destination)
    reached = set(seed)
    pending = list(seed)
    while pending:
        for destination in by_source.get(pending.pop(), ()):
            for name in destination - reached:
                reached.add(name)
                pending.append(name)
    return reached
