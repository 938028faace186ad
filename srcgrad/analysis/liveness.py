"""Which names may still be read after each statement (backward liveness on the structured tree).

The in-place write check asks it whether another name that shares the written storage is read
later. Jumps (`break`, `continue`, an early `return`) are taken as falling through, which can
only add names: the answer errs towards "still read", never away from it.
"""

from __future__ import annotations

import ast

from ..syntax.fastast import walk


def live_after(body: list[ast.stmt]) -> dict[int, frozenset[str]]:
    """For each statement of `body` (nested ones included), by `id`, the names that may be read
    after it runs."""
    found: dict[int, frozenset[str]] = {}
    _block(body, frozenset(), found)
    return found


def _block(body: list[ast.stmt], out: frozenset[str], found: dict[int, frozenset[str]]) -> frozenset[str]:
    """The names live before `body`, given those live after it; records each statement's."""
    for stmt in reversed(body):
        found[id(stmt)] = out
        out = _statement(stmt, out, found)
    return out


def _statement(stmt: ast.stmt, out: frozenset[str], found: dict[int, frozenset[str]]) -> frozenset[str]:
    if isinstance(stmt, ast.If):
        return _reads(stmt.test) | _block(stmt.body, out, found) | _block(stmt.orelse, out, found)
    if isinstance(stmt, (ast.For, ast.While)):
        return _loop(stmt, out, found)
    if isinstance(stmt, ast.With):
        return _block(stmt.body, out, found) | frozenset().union(*(_reads(item) for item in stmt.items))
    return (out - _bound(stmt)) | _reads(stmt)


def _loop(stmt: ast.For | ast.While, out: frozenset[str], found: dict[int, frozenset[str]]) -> frozenset[str]:
    """Names live at the loop's head, grown until they stop changing (the body runs again)."""
    header = _reads(stmt.iter) if isinstance(stmt, ast.For) else _reads(stmt.test)
    targets = _names_in(stmt.target) if isinstance(stmt, ast.For) else frozenset()
    after = _block(stmt.orelse, out, found) | out
    repeated = header if isinstance(stmt, ast.While) else frozenset()  # a `for` reads its iterable once
    head = after | repeated
    while True:
        body_in = _block(stmt.body, head, found)
        grown = head | (body_in - targets if isinstance(stmt, ast.For) else body_in)
        if grown == head:
            return head | header
        head = grown


def _reads(node: ast.AST) -> frozenset[str]:
    """Names `node` reads, in nested lambdas and comprehensions too; the root of an item or
    attribute target is read (`a[i] = v` reads `a`)."""
    read = set()
    for child in walk(node):
        if isinstance(child, ast.Name) and not isinstance(child.ctx, ast.Store):
            read.add(child.id)
        elif isinstance(child, ast.AugAssign) and isinstance(child.target, ast.Name):
            read.add(child.target.id)
    for target in _targets(node):
        if not isinstance(target, ast.Name):
            read |= {n.id for n in walk(target) if isinstance(n, ast.Name)}
    return frozenset(read)


def _bound(stmt: ast.stmt) -> frozenset[str]:
    """Names `stmt` rebinds as a whole (not those it writes into)."""
    bound: set[str] = set()
    for target in _targets(stmt):
        if isinstance(target, ast.Name) and not isinstance(stmt, ast.AugAssign):
            bound.add(target.id)
        elif isinstance(target, (ast.Tuple, ast.List)):
            bound |= {e.id for e in target.elts if isinstance(e, ast.Name)}
    return frozenset(bound)


def _targets(node: ast.AST) -> list[ast.expr]:
    if isinstance(node, ast.Assign):
        return list(node.targets)
    if isinstance(node, (ast.AugAssign, ast.AnnAssign)):
        return [node.target]
    return []


def _names_in(target: ast.expr) -> frozenset[str]:
    return frozenset(n.id for n in walk(target) if isinstance(n, ast.Name))
