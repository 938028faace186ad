"""Fold values read once into their reader: `t = a - b ** 2; u = 2.0 * t` becomes
`u = 2.0 * (a - b ** 2)`.

For arrays this is what a careful hand-written pass does and more than cosmetics: the
intermediate array is freed as soon as its reader is done with it (the peak memory of a
long chain of elementwise steps stays at a few arrays), and NumPy can reuse a temporary's
buffer for the next operation instead of allocating a new one.

Only top-level straight-line code is fused, and a value moves only past statements that
assign the results of pure operations to names (no calls with effects, no in-place
writes, no tape), and only into an assignment: so it is computed from the same
inputs and gives the same result, just later.
"""

from __future__ import annotations

import ast
import re
from typing import Callable

from ..syntax.astquery import loads, names, stores
from ..syntax.fastast import walk

_SCOPES = (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp, ast.NamedExpr, ast.Yield,
           ast.YieldFrom, ast.Await, ast.Starred)


_TEMPORARY = re.compile(r"_t\d+(_bar)?")


def _target(stmt: ast.stmt) -> str | None:
    if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
        return stmt.targets[0].id
    return None


def _is_comment(stmt: ast.stmt) -> bool:
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Name) and stmt.value.id.startswith("__comment")


def fuse_single_use(
    node: ast.FunctionDef, movable: Callable[[ast.expr], bool], keep: Callable[[str], bool],
    ufunc: Callable[[ast.Call], bool], adjoints: set[str],
) -> ast.FunctionDef:
    """Fold every top-level `_tN = value` (a temporary, or its adjoint) whose name is read
    once, as an operand of elementwise arithmetic in a later top-level assignment to one
    of `adjoints` (the backward sweep: the forward sweep keeps its one operation per line),
    into that reader, when `value` is itself arithmetic or a slice. `movable(value)` says a
    value may be computed later (pure, no effects); `keep(t)` exempts names (numbers,
    where fusing buys nothing); `ufunc(call)` says a call is an elementwise NumPy function."""
    body = node.body
    if not any(_fusible_name(stmt, keep) for stmt in body):
        return node  # no temporary that may fuse (they hold numbers): spare counting every name
    store_counts: dict[str, int] = {}
    read_counts: dict[str, int] = {}
    for arg in node.args.posonlyargs + node.args.args + node.args.kwonlyargs:
        store_counts[arg.arg] = 1
    for stmt in body:
        for name in names(stmt):
            table = read_counts if type(name.ctx) is ast.Load else store_counts
            table[name.id] = table.get(name.id, 0) + 1
    changed = True
    while changed:
        changed = False
        for i in range(len(body) - 1, -1, -1):
            name = _fusible_name(body[i], keep)
            if name is None or store_counts.get(name) != 1 or read_counts.get(name) != 1:
                continue
            value = body[i].value  # type: ignore[attr-defined]
            if not _elementwise(value, ufunc) and not isinstance(value, ast.Subscript) or not movable(value) \
                    or any(isinstance(n, _SCOPES) for n in walk(value)):
                continue
            reader = _reader(body, i, name, loads(value), movable)
            if reader is None or _target(body[reader]) not in adjoints or not _operand_in(body[reader], name, ufunc):
                continue
            _Substitute(name, value).visit(body[reader])
            del body[i]
            changed = True
    return node


def _fusible_name(stmt: ast.stmt, keep: Callable[[str], bool]) -> str | None:
    """The temporary `stmt` assigns, if it is one that fusion may fold into its reader."""
    name = _target(stmt)
    return name if name is not None and _TEMPORARY.fullmatch(name) and not keep(name) else None


def _reader(body: list[ast.stmt], i: int, name: str, inputs: set[str], movable: Callable[[ast.expr], bool]) -> int | None:
    """The position of the statement after `body[i]` that reads `name`, if `body[i]`'s
    value may move there."""
    for j in range(i + 1, len(body)):
        stmt = body[j]
        if name in loads(stmt):
            simple = isinstance(stmt, ast.Assign)
            nested = any(isinstance(n, (*_SCOPES, ast.FunctionDef)) for n in walk(stmt))
            return j if simple and not nested else None
        if _is_comment(stmt):
            continue
        if _target(stmt) is None or not movable(stmt.value) or stores(stmt) & inputs:  # type: ignore[attr-defined]
            return None
    return None


def _elementwise(node: ast.AST, ufunc: Callable[[ast.Call], bool]) -> bool:
    return isinstance(node, (ast.BinOp, ast.UnaryOp)) or isinstance(node, ast.Call) and ufunc(node)


def _operand_in(reader: ast.stmt, name: str, ufunc: Callable[[ast.Call], bool]) -> bool:
    """Whether `reader` reads `name` as an operand of arithmetic or of an elementwise call."""
    for node in walk(reader):
        if _elementwise(node, ufunc):
            operands = [getattr(node, f) for f in ("left", "right", "operand") if hasattr(node, f)] \
                if not isinstance(node, ast.Call) else node.args
            if any(isinstance(o, ast.Name) and o.id == name for o in operands):
                return True
    return False


class _Substitute(ast.NodeTransformer):
    def __init__(self, name: str, value: ast.expr) -> None:
        self.name, self.value = name, value

    def visit_Name(self, node: ast.Name) -> ast.expr:
        if node.id == self.name and isinstance(node.ctx, ast.Load):
            return self.value
        return node
