"""Loops: the tape keeps only what the backward sweep reads of a value.

A value overwritten in a loop (or a branch) is pushed on the tape before it is overwritten,
so that the backward sweep can read it back. When the backward sweep reads it only for its
shape (`unbroadcast(g, x)`, `expand_reduced(g, x, ...)`, `reduced_count(x, y)`), keeping
the whole array alive, iteration after iteration, costs memory and cache for nothing.

`shape_stand_ins` runs on the two sweeps while their tape pushes and pops are still the
`__save__` / `__restore__` markers of `tape.py`. For such a value `x` it adds a companion
`x_shape` that mirrors `x` everywhere:

* forward, right after every assignment `x = ...` (and at the start, for a parameter):
  `x_shape = shape_of(x)`, a small `ShapeOf` stand-in for a NumPy array, `x` itself for
  anything else;
* a `__save__(x_shape)` right after each `__save__(x)`, and a `__restore__(x_shape)` right
  before each `__restore__(x)` (the tape is a stack: pops mirror pushes);
* the backward sweep's shape reads of `x` read `x_shape` instead.

The backward sweep then reads `x` nowhere, so the liveness of `tape.live_restores` drops the
pushes and pops of `x` and keeps those of the stand-in. It applies only when every store of
`x` is a plain `x = value` (no loop target, unpacking, item or attribute store, `del`,
`global`), and the backward sweep neither stores `x` nor reads it in any other way.
"""

from __future__ import annotations

import ast
import copy
from typing import Any, Callable

from ..analysis.shapes import SCALAR, SHAPE_ONLY, Shapes
from ..runtime.core import shape_of
from ..syntax.astquery import callee
from ..syntax.emit import make_assign, make_call
from ..syntax.fastast import walk
from .tape import RESTORE, SAVE, is_marker, live_restores, marker

_BLOCKS = ("body", "orelse", "finalbody")


def _marker_parts(stmt: ast.stmt) -> tuple[str, str, int]:
    """(kind, name, pair) of a tape marker statement."""
    call = stmt.value  # type: ignore[attr-defined]
    return call.func.id, call.args[0].id, call.args[1].value


def _restored_names(stmts: list[ast.stmt], kept: set[int]) -> set[str]:
    """Names with a `__restore__` marker of a `kept` pair anywhere in `stmts`."""
    return {_marker_parts(s)[1] for s in _statements(stmts)
            if is_marker(s) and _marker_parts(s)[0] == RESTORE and _marker_parts(s)[2] in kept}


def _statements(stmts: list[ast.stmt]) -> list[ast.stmt]:
    """Every statement of `stmts`, nested ones included."""
    out: list[ast.stmt] = []
    stack = list(reversed(stmts))
    while stack:
        stmt = stack.pop()
        out.append(stmt)
        for field in _BLOCKS:
            stack.extend(reversed(getattr(stmt, field, None) or []))
        for handler in getattr(stmt, "handlers", None) or []:
            stack.extend(reversed(handler.body))
    return out


def _shape_reads(
    backward: list[ast.stmt], candidates: set[str], value_of: Callable[[ast.expr], Any],
) -> tuple[dict[str, list[tuple[ast.Call, int]]], set[str]]:
    """The shape-only reads of each candidate in the backward sweep (call, argument position),
    and the candidates read or stored there in any other way (outside tape markers)."""
    reads: dict[str, list[tuple[ast.Call, int]]] = {}
    other: set[str] = set()
    nodes = _unmarked_nodes(backward)
    allowed: set[int] = set()
    for node in nodes:
        if not isinstance(node, ast.Call) or node.keywords:
            continue
        for position in SHAPE_ONLY.get(id(callee(node, value_of)), ()):
                arg = node.args[position] if position < len(node.args) else None
                if isinstance(arg, ast.Name) and arg.id in candidates:
                    allowed.add(id(arg))
                    reads.setdefault(arg.id, []).append((node, position))
    for node in nodes:
        if isinstance(node, ast.Name) and node.id in candidates and id(node) not in allowed:
            other.add(node.id)
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            other.update(node.names)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            other.update(candidates)  # a nested scope: not followed
    return reads, other


def _unmarked_nodes(stmts: list[ast.stmt]) -> list[ast.AST]:
    """Every node of `stmts` apart from the tape markers (and what they hold)."""
    out: list[ast.AST] = []
    for stmt in stmts:
        if is_marker(stmt):
            continue
        nested = [getattr(stmt, f, None) or [] for f in _BLOCKS]
        nested += [h.body for h in getattr(stmt, "handlers", None) or []]
        if not any(nested):
            out.extend(walk(stmt))
            continue
        inside = {id(s) for block in nested for s in block}
        head = copy.copy(stmt)  # the statement without its blocks: its test, target, iterable
        for field in _BLOCKS:
            if getattr(head, field, None):
                setattr(head, field, [])
        if getattr(head, "handlers", None):
            head.handlers = [ast.ExceptHandler(h.type, h.name, []) for h in stmt.handlers]  # type: ignore[attr-defined]
        out.extend(n for n in walk(head) if id(n) not in inside)
        for block in nested:
            out.extend(_unmarked_nodes(block))
    return out


def _plainly_stored(forward: list[ast.stmt], candidates: set[str]) -> set[str]:
    """The candidates whose every store in the forward sweep is a plain `x = value`, and
    that the forward sweep never stores into (`x[i] = ...`, `x.a = ...`) nor deletes."""
    bad: set[str] = set()
    plain_targets: set[int] = set()
    for stmt in _statements(forward):
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            plain_targets.add(id(stmt.targets[0]))
    for stmt in forward:
        for node in walk(stmt):
            if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load) and id(node) not in plain_targets:
                bad.add(node.id)
            elif isinstance(node, (ast.Subscript, ast.Attribute)) and not isinstance(node.ctx, ast.Load):
                bad.update(n.id for n in walk(node.value) if isinstance(n, ast.Name))
            elif isinstance(node, (ast.Global, ast.Nonlocal)):
                bad.update(node.names)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
                return set()  # a nested scope may rebind anything: not followed
    return candidates - bad


def _surely_numbers(forward: list[ast.stmt], params: list[str], numbers: set[str],
                    value_of: Callable[[ast.expr], Any]) -> set[str]:
    """Names that hold a shape-`()` value after every store (a number, a full reduction,
    arithmetic of those): the greatest set for which that holds, given that it holds for
    all of them. Their stand-in would be the value itself, so it is not worth a call."""
    stores: dict[str, list[ast.expr]] = {}
    for stmt in _statements(forward):
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            stores.setdefault(stmt.targets[0].id, []).append(stmt.value)
    assumed = _plainly_stored(forward, set(stores)) - set(params)
    while True:
        shapes = Shapes(set(), numbers | assumed, value_of)
        holding = {name for name in assumed if all(shapes.of(value) == SCALAR for value in stores[name])}
        if holding == assumed:
            return holding
        assumed = holding


def shape_stand_ins(
    forward: list[ast.stmt], backward: list[ast.stmt], params: list[str], numbers: set[str],
    value_of: Callable[[ast.expr], Any], reserve: Callable[[str], str], new_pair: Callable[[], int],
    bind: Callable[[str, Any], str],
) -> tuple[list[ast.stmt], list[ast.stmt]]:
    """Give each value the backward sweep reads only for its shape a stand-in (see the
    module docstring); returns the new forward and backward sweeps (unchanged if none).
    `numbers` are names known to hold Python numbers (nothing to gain). `reserve` makes a fresh name, `new_pair` a fresh tape pair id, `bind` names a runtime
    helper in the generated code."""
    kept = live_restores(backward, set())
    if not kept:  # nothing is taped (straight-line code, or values nobody reads back)
        return forward, backward
    candidates = _restored_names(backward, kept) - numbers  # those the tape would keep, if not numbers
    if not candidates:
        return forward, backward
    reads, other = _shape_reads(backward, candidates, value_of)
    chosen = _plainly_stored(forward, set(reads) - other)
    if chosen:
        chosen -= _surely_numbers(forward, params, numbers, value_of)
    if not chosen:
        return forward, backward
    stand_in = {name: reserve(f"{name}_shape") for name in sorted(chosen)}
    helper = bind("shape_of", shape_of)
    for name in sorted(chosen):
        for call, position in reads[name]:
            call.args[position] = ast.copy_location(ast.Name(stand_in[name], ast.Load()), call.args[position])
    stand_ins = _StandIns(chosen, stand_in, helper, new_pair)
    forward = stand_ins.rewrite(forward, "forward")
    backward = stand_ins.rewrite(backward, "backward")
    start = [stand_ins.measure(name, forward[0]) for name in sorted(chosen) if name in params] if forward else []
    return start + forward, backward


class _StandIns:
    """The sweeps rewritten for the stand-ins (see `shape_stand_ins`): each taped value of
    `chosen` gets its stand-in taped beside it, under a tape pair of its own. (Methods, not
    closures of `shape_stand_ins`: a closure that calls itself is a reference cycle.)"""

    def __init__(self, chosen: set[str], stand_in: dict[str, str], helper: str, new_pair: Callable[[], int]) -> None:
        self.chosen, self.stand_in, self.helper, self.new_pair = chosen, stand_in, helper, new_pair
        self.pairs: dict[int, int] = {}

    def pair_of(self, pair: int) -> int:
        if pair not in self.pairs:
            self.pairs[pair] = self.new_pair()
        return self.pairs[pair]

    def measure(self, name: str, where: ast.stmt) -> ast.stmt:
        value = make_call(self.helper, [ast.Name(name, ast.Load())])
        return ast.copy_location(make_assign(self.stand_in[name], value), where)

    def rewrite(self, stmts: list[ast.stmt], sweep: str) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for stmt in stmts:
            if is_marker(stmt):
                kind, name, pair = _marker_parts(stmt)
                if name in self.chosen:
                    companion = marker(kind, self.stand_in[name], stmt, self.pair_of(pair))
                    out.extend([stmt, companion] if kind == SAVE else [companion, stmt])
                    continue
            elif any(getattr(stmt, field, None) for field in (*_BLOCKS, "handlers")):
                stmt = copy.copy(stmt)
                for field in _BLOCKS:
                    if getattr(stmt, field, None):
                        setattr(stmt, field, self.rewrite(getattr(stmt, field), sweep))
                if getattr(stmt, "handlers", None):
                    stmt.handlers = [copy.copy(h) for h in stmt.handlers]  # type: ignore[attr-defined]
                    for handler in stmt.handlers:  # type: ignore[attr-defined]
                        handler.body = self.rewrite(handler.body, sweep)
            out.append(stmt)
            if sweep == "forward" and isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 \
                    and isinstance(stmt.targets[0], ast.Name) and stmt.targets[0].id in self.chosen:
                out.append(self.measure(stmt.targets[0].id, stmt))
        return out
