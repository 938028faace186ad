"""Tape bookkeeping for the reverse pass: placeholder pushes and pops, and which to keep.

The reverse pass emits a `__save__(x, k)` marker before a statement that overwrites `x` in a
loop or branch, and a `__restore__(x, k)` marker right after that statement's adjoint. Once
the backward sweep is complete, a liveness analysis keeps only the pairs whose restored
value is read later; they become `_tape.append(x)` and `x = _tape.pop()`.
"""

from __future__ import annotations

import ast
import copy
from typing import Any, Callable

from ..syntax.astquery import stores
from ..syntax.emit import make_assign, make_call
from ..syntax.fastast import Transformer

SAVE, RESTORE = "__save__", "__restore__"


def marker(kind: str, name: str, stmt: ast.stmt, pair: int) -> ast.Expr:
    """A placeholder for a tape push (forward) or pop (backward) of `name`; the pair is
    materialized only if the popped value is read later in the backward sweep."""
    args = [ast.Name(name, ast.Load()), ast.Constant(pair)]
    return ast.copy_location(ast.Expr(ast.Call(ast.Name(kind, ast.Load()), args, [])), stmt)


def live_restores(stmts: list[ast.stmt], live_after: set[str]) -> set[int]:
    """Pair ids of the restores whose value some later backward statement reads."""
    if not has_markers(stmts):
        return set()  # straight-line code: no need to know what each statement reads
    return _live_restores(stmts, live_after)


def has_markers(stmts: list[ast.stmt]) -> bool:
    """Whether a tape marker is among `stmts` or the statements nested in them."""
    stack: list[ast.AST] = list(stmts)
    while stack:
        node = stack.pop()
        if is_marker(node):  # type: ignore[arg-type]
            return True
        for field in _BLOCK_FIELDS[type(node)]:
            stack.extend(getattr(node, field, None) or ())
    return False


class _BlockFields(dict):
    def __missing__(self, kind: type) -> tuple[str, ...]:
        fields = self[kind] = tuple(f for f in ("body", "orelse", "finalbody", "handlers", "cases") if f in kind._fields)
        return fields


_BLOCK_FIELDS: dict[type, tuple[str, ...]] = _BlockFields()  # per node type: its fields holding statements


def _live_restores(stmts: list[ast.stmt], live_after: set[str]) -> set[int]:
    live = set(live_after)
    kept: set[int] = set()
    for stmt in reversed(stmts):
        if is_marker(stmt):
            name = stmt.value.args[0].id  # type: ignore[attr-defined]
            if name in live:
                kept.add(stmt.value.args[1].value)  # type: ignore[attr-defined]
                live.discard(name)
        elif isinstance(stmt, (ast.If, ast.For, ast.While)):
            live |= reads(stmt)  # a loop body runs again: every read in it is later
            kept |= _live_restores(stmt.body, live) | _live_restores(stmt.orelse, live)
        else:  # in place: a new set per statement made long sweeps quadratic
            live -= stores(stmt)
            live |= reads(stmt)
    return kept


def reads(stmt: ast.stmt) -> set[str]:
    """The names `stmt` reads, apart from those in tape markers."""
    found: set[str] = set()
    stack: list[ast.AST] = [stmt]
    while stack:
        node = stack.pop()
        kind = type(node)
        if kind is ast.Name:
            if type(node.ctx) is ast.Load:  # type: ignore[attr-defined]
                found.add(node.id)  # type: ignore[attr-defined]
            continue
        if kind is ast.Expr and is_marker(node):  # type: ignore[arg-type]
            continue
        for field in node._fields:
            value = getattr(node, field, None)
            if type(value) is list:
                stack.extend(v for v in value if isinstance(v, ast.AST))
            elif isinstance(value, ast.AST):
                stack.append(value)
    return found


def is_marker(stmt: ast.stmt) -> bool:
    return (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call)
            and isinstance(stmt.value.func, ast.Name) and stmt.value.func.id in (SAVE, RESTORE))


def is_comment(stmt: ast.stmt) -> bool:
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Name) and stmt.value.id.startswith("__comment")


def is_idle(stmt: ast.stmt, kept: set[int]) -> bool:
    """A backward statement that does nothing: a comment, `pass`, an unneeded restore,
    or a branch or loop made only of those."""
    if isinstance(stmt, ast.Pass) or is_comment(stmt):
        return True
    if is_marker(stmt):
        return stmt.value.args[1].value not in kept  # type: ignore[attr-defined]
    if isinstance(stmt, (ast.If, ast.For)):
        return all(is_idle(s, kept) for s in stmt.body + stmt.orelse)
    return False


def prune(stmts: list[ast.stmt], kept: set[int]) -> list[ast.stmt]:
    """Drop idle branches and loops from a backward sweep (their decisions then need no tape)."""
    out = []
    for stmt in stmts:
        if isinstance(stmt, (ast.If, ast.For)):
            if is_idle(stmt, kept):
                continue
            stmt = copy.copy(stmt)
            stmt.body = prune(stmt.body, kept)
            stmt.orelse = prune(stmt.orelse, kept)
        out.append(stmt)
    return out


def drop_empty(stmts: list[ast.stmt], comments: dict[str, str] | None = None) -> list[ast.stmt]:
    """Remove comments that head no code or repeat the one before, and fill emptied bodies
    with `pass`."""
    out: list[ast.stmt] = []
    last = None
    for i, stmt in enumerate(stmts):
        if is_comment(stmt):
            text = comments.get(stmt.value.id) if comments else None  # type: ignore[attr-defined]
            if i + 1 == len(stmts) or is_comment(stmts[i + 1]) or (text is not None and text == last):
                continue
            last = text
        elif isinstance(stmt, (ast.If, ast.For, ast.While)):
            last = None
        for field in ("body", "orelse"):
            inner = getattr(stmt, field, None)
            if isinstance(inner, list):
                setattr(stmt, field, drop_empty(inner, comments))
        if isinstance(stmt, (ast.If, ast.For, ast.While)) and not stmt.body:
            stmt.body = [ast.Pass()]
        out.append(stmt)
    return out


class TapeMarkers(Transformer):
    """Tape markers become pushes (`_tape.append(x)`) and pops (`x = _tape.pop()`) for the
    pairs in `kept`, and go for the others; `saved` gets the names taped. A pair of
    `local_saves` (outside loops: it runs at most once) becomes `x_old = x` and `x = x_old`
    instead, the local named by `reserve` at the save. (A class of its own, not one made per
    call: a class made in a method is a reference cycle.)"""

    def __init__(self, kept: set[int], tape: str, saved: set[str], local_saves: dict[int, str | None],
                 reserve: Callable[[str], str]) -> None:
        self.kept, self.tape, self.saved = kept, tape, saved
        self.local_saves, self.reserve = local_saves, reserve
        self.taped = False

    def visit_Expr(self, node: ast.Expr) -> Any:
        if not is_marker(node):
            return node
        kind, name = node.value.func.id, node.value.args[0].id  # type: ignore[attr-defined]
        if node.value.args[1].value not in self.kept:  # type: ignore[attr-defined]
            return None
        self.saved.add(name)
        pair = node.value.args[1].value  # type: ignore[attr-defined]
        if pair in self.local_saves:
            if kind == SAVE:
                local = self.local_saves[pair] = self.reserve(f"{name}_old")
                return ast.copy_location(make_assign(local, ast.Name(name, ast.Load())), node)
            return ast.copy_location(make_assign(name, ast.Name(self.local_saves[pair], ast.Load())), node)  # type: ignore[arg-type]
        self.taped = True
        if kind == SAVE:
            return ast.copy_location(ast.Expr(make_call(f"{self.tape}.append", [ast.Name(name, ast.Load())])), node)
        return ast.copy_location(make_assign(name, make_call(f"{self.tape}.pop", [])), node)

    def generic_visit(self, node: ast.AST) -> ast.AST:
        return node if isinstance(node, ast.expr) else super().generic_visit(node)  # markers are statements
