"""Greedy, deterministic shrinking of a failing program on its AST, keeping the mode and outcome class."""

from __future__ import annotations

import ast
import copy
import time
from dataclasses import replace
from typing import Callable, Iterator

from . import aliasing, oracles, runner
from .generator import M, Program, S, V

Edit = Callable[[ast.Module], bool]  # mutates a copy of the module; False if it does not apply
_CONSTANT_OF = {S: "0.5", V: "W", M: "A"}
_REPLACEMENTS = ("0.5", "x")


def size(program: Program) -> tuple[int, int]:
    """What shrinking decreases: AST nodes, then characters."""
    return sum(1 for _ in ast.walk(ast.parse(program.source))), len(program.source)


def _nodes(tree: ast.Module) -> list[ast.AST]:
    return list(ast.walk(tree))


def _bodies(node: ast.AST) -> Iterator[tuple[str, list[ast.stmt]]]:
    for name in ("body", "orelse"):
        value = getattr(node, name, None)
        if isinstance(value, list) and value and isinstance(value[0], ast.stmt):
            yield name, value


def _at(k: int, action: Callable[[ast.AST], bool]) -> Edit:
    """An edit applying `action` to the k-th node (in ast.walk order) of the copy."""
    return lambda tree: action(_nodes(tree)[k])


def _delete(field: str, j: int) -> Callable[[ast.AST], bool]:
    def act(node: ast.AST) -> bool:
        body = getattr(node, field)
        del body[j]
        if not body and field == "body" and not isinstance(node, ast.Module):
            body.append(ast.Pass())
        return True
    return act


def _unwrapped(stmt: ast.stmt, which: str) -> list[ast.stmt] | None:
    """The statements that replace a compound statement by one of its bodies."""
    if isinstance(stmt, ast.If):
        return (stmt.body if which == "body" else stmt.orelse) or None
    if isinstance(stmt, ast.While):
        return stmt.body if which == "body" else None
    if isinstance(stmt, ast.For) and which == "body":
        iterated = stmt.iter
        first = ast.parse("0").body[0].value if _is_range(iterated) else ast.Subscript(iterated, ast.Constant(0), ast.Load())
        return [ast.Assign([stmt.target], first, lineno=0), *stmt.body]
    if isinstance(stmt, ast.For):
        return stmt.orelse or None
    return None


def _is_range(node: ast.expr) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "range"


def _unwrap(field: str, j: int, which: str) -> Callable[[ast.AST], bool]:
    def act(node: ast.AST) -> bool:
        body = getattr(node, field)
        inner = _unwrapped(body[j], which)
        if inner is None:
            return False
        body[j: j + 1] = inner
        return True
    return act


def _drop_else(field: str, j: int) -> Callable[[ast.AST], bool]:
    def act(node: ast.AST) -> bool:
        stmt = getattr(node, field)[j]
        if not getattr(stmt, "orelse", None):
            return False
        stmt.orelse = []
        return True
    return act


def _replace_expr(field: str, index: int | None, make: Callable[[ast.expr], ast.expr | None]) -> Callable[[ast.AST], bool]:
    def act(node: ast.AST) -> bool:
        old = getattr(node, field) if index is None else getattr(node, field)[index]
        new = make(old)
        if new is None:
            return False
        if index is None:
            setattr(node, field, new)
        else:
            getattr(node, field)[index] = new
        return True
    return act


def _child(n: int) -> Callable[[ast.expr], ast.expr | None]:
    def make(old: ast.expr) -> ast.expr | None:
        children = [c for c in ast.iter_child_nodes(old) if isinstance(c, ast.expr)]
        return children[n] if n < len(children) else None
    return make


def _parsed(text: str) -> Callable[[ast.expr], ast.expr | None]:
    return lambda old: None if ast.unparse(old) == text else ast.parse(text, mode="eval").body


def _protected(tree: ast.Module) -> set[int]:
    """Ids of the nodes of the statements of aliasing families, which edits leave alone: shrinking must
    not turn an aliased write into an unaliased one (or drop the write) and call it the same failure."""
    kept: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Return):  # its parts without a family's result may still shrink
            kept |= {id(n) for n in ast.walk(node) if aliasing.protected(n)}
        elif isinstance(node, ast.stmt) and not (isinstance(node, ast.FunctionDef) and node.name == "f") \
                and aliasing.protected(node):
            kept |= {id(n) for n in ast.walk(node)}
    return kept


def _statement_edits(tree: ast.Module, kept: set[int]) -> Iterator[Edit]:
    for k, node in enumerate(_nodes(tree)):
        for field, body in _bodies(node):
            for j, stmt in enumerate(body):
                if isinstance(node, ast.Module) and isinstance(stmt, ast.FunctionDef) and stmt.name == "f":
                    continue
                if id(stmt) in kept:
                    continue
                if isinstance(node, ast.While) and j == 0 and isinstance(stmt, ast.AugAssign):
                    continue  # the counter that bounds the loop
                yield _at(k, _delete(field, j))
                if isinstance(stmt, (ast.If, ast.For, ast.While)):
                    yield _at(k, _unwrap(field, j, "body"))
                    yield _at(k, _unwrap(field, j, "orelse"))
                    yield _at(k, _drop_else(field, j))


def _bounds(tree: ast.Module) -> set[int]:
    """Ids of the nodes of each `while` loop's counter test, which edits would make endless."""
    kept: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.While):
            bound = node.test.values[0] if isinstance(node.test, ast.BoolOp) else node.test
            kept |= {id(n) for n in ast.walk(bound)}
    return kept


def _expression_edits(tree: ast.Module, protected: set[int]) -> Iterator[Edit]:
    kept = _bounds(tree) | protected
    for k, node in enumerate(_nodes(tree)):
        if id(node) in kept:
            continue
        for field, value in ast.iter_fields(node):
            if field in ("ctx", "decorator_list"):
                continue
            if isinstance(node, ast.While) and field == "test":
                if isinstance(value, ast.BoolOp):
                    yield _at(k, _replace_expr(field, None, _child(0)))
                continue
            items = [(None, value)] if isinstance(value, ast.expr) else (
                list(enumerate(value)) if isinstance(value, list) else [])
            for index, item in items:
                if not isinstance(item, ast.expr) or isinstance(getattr(item, "ctx", None), ast.Store):
                    continue
                for n in range(3):
                    yield _at(k, _replace_expr(field, index, _child(n)))
                for text in _REPLACEMENTS:
                    yield _at(k, _replace_expr(field, index, _parsed(text)))


def _program_edits(program: Program) -> Iterator[Program]:
    """Smaller calls: one of a tuple `wrt`, and the second parameter replaced by a constant."""
    if isinstance(program.wrt, tuple):
        yield from (replace(program, wrt=w) for w in program.wrt)
    if len(program.args) == 2 and program.wrt in (0, "x"):
        tree = ast.parse(program.source)
        f = next(s for s in tree.body if isinstance(s, ast.FunctionDef) and s.name == "f")
        f.args.args = f.args.args[:1]
        stand_in = ast.parse(_CONSTANT_OF[program.kinds[1]], mode="eval").body
        for node in ast.walk(f):
            for field, value in ast.iter_fields(node):
                if isinstance(value, ast.Name) and value.id == "y" and isinstance(value.ctx, ast.Load):
                    setattr(node, field, copy.deepcopy(stand_in))
                elif isinstance(value, list):
                    value[:] = [copy.deepcopy(stand_in) if isinstance(v, ast.Name) and v.id == "y"
                                and isinstance(v.ctx, ast.Load) else v for v in value]
        yield replace(program, source=ast.unparse(tree) + "\n", args=program.args[:1], kinds=program.kinds[:1])


def candidates(program: Program) -> Iterator[Program]:
    """Every one-step simplification of `program`, biggest first, each smaller than it."""
    yield from _program_edits(program)
    tree = ast.parse(program.source)
    kept = _protected(tree) if program.families else set()
    for edits in (_statement_edits, _expression_edits):
        for edit in list(edits(tree, kept)):
            mutated = copy.deepcopy(tree)
            try:
                if not edit(mutated):
                    continue
                smaller = replace(program, source=ast.unparse(ast.fix_missing_locations(mutated)) + "\n")
                shrunk = size(smaller) < size(program)
            except Exception:  # an edit that leaves no valid program is simply not a candidate
                continue
            if shrunk:
                yield smaller


def shrink(program: Program, mode: str, outcome: oracles.Outcome, seed: int = 0,
           budget: int = 600, seconds: float = 120.0) -> tuple[Program, oracles.Outcome]:
    """The smallest program found that still gives `outcome`'s class in `mode`, and its outcome."""
    key, best, best_outcome = outcome.key(), program, outcome
    deadline, checks = time.monotonic() + seconds, 0
    progress, tried = True, set()
    while progress and checks < budget and time.monotonic() < deadline:
        progress = False
        for candidate in candidates(best):
            if checks >= budget or time.monotonic() > deadline:
                break
            identity = (candidate.source, repr(candidate.wrt), len(candidate.args))
            if identity in tried:
                continue
            tried.add(identity)
            checks += 1
            result = runner.check_source(candidate, mode, seed, blame=False, timeout=2.0)
            if result.key() == key:
                best, best_outcome, progress = candidate, result, True
                break
    final = runner.check_source(best, mode, seed)
    return best, final if final.key() == key else best_outcome
