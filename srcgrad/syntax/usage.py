"""Which names statements read and write, computed once per simple statement.

The clean-up passes of `optimize` ask the same questions (what does this statement read,
what does it bind, how often is each name bound and read in the whole function) of every
statement on every round. Walking the expressions again each time made the clean-up
quadratic in practice; `UsageCache` walks a simple statement once and answers from its
record afterwards. A compound statement (one with a `body` or `orelse`) is never recorded:
passes replace its bodies, so its usage is summed afresh from its header and its
statements each time. A pass that rewrites a simple statement in place must `forget` it.
"""

from __future__ import annotations

import ast
from collections import Counter
from itertools import chain
from typing import NamedTuple

from .astquery import is_number
from .fastast import CHILD_FIELDS, SIMPLE_STATEMENTS


class Usage(NamedTuple):
    """The names one statement (or part of one) mentions."""

    loads: frozenset[str]  # names read (`Name` nodes in a `Load` context)
    stores: frozenset[str]  # names written (`Name` nodes in a `Store` context)
    ids: frozenset[str]  # every `Name` node's name, whatever its context
    bound: tuple[str, ...]  # a name per binding: `Store`/`Del` names and parameters
    read: tuple[str, ...]  # a name per reading: `Load` names and `nonlocal` declarations
    foldable: bool  # whether folding numbers may have work in it (`x * 1.0`, `2 - 1`, `(x * 2) * 3`, `-(1.0)`)


def usage(nodes: list[ast.AST]) -> Usage:
    """The usage of `nodes` and everything under them, in one walk."""
    loaded: list[str] = []
    stored: list[str] = []
    deleted: list[str] = []
    params: list[str] = []
    declared: list[str] = []  # `nonlocal` names
    foldable = False
    stack = list(nodes)
    pop, push, extend = stack.pop, stack.append, stack.extend
    name_type, load, store, constant, binop = ast.Name, ast.Load, ast.Store, ast.Constant, ast.BinOp
    fields_of = CHILD_FIELDS
    while stack:
        node = pop()
        kind = type(node)
        if kind is name_type:
            ctx = type(node.ctx)  # type: ignore[attr-defined]
            (loaded if ctx is load else stored if ctx is store else deleted).append(node.id)  # type: ignore[attr-defined]
            continue
        if kind is constant or node is None:  # None: a missing part (`Dict.keys` of `**d`, say)
            continue
        if kind is binop:
            if not foldable and (type(node.left) is constant or type(node.right) is constant):  # type: ignore[attr-defined]
                foldable = _folds(node)  # type: ignore[arg-type]
            push(node.left)  # type: ignore[attr-defined]
            push(node.right)  # type: ignore[attr-defined]
            continue
        if kind is str:  # a name in a list of names (`global`, a class pattern's attributes)
            continue
        if kind is ast.UnaryOp and type(node.operand) is constant:  # type: ignore[attr-defined]
            foldable = True  # `-(1.0)`, which the float rewrites make the number `-1.0`
        if kind is ast.arg:
            params.append(node.arg)  # type: ignore[attr-defined]
        elif kind is ast.Nonlocal:
            declared.extend(node.names)  # type: ignore[attr-defined]
            continue
        state = node.__dict__
        for field in fields_of[kind]:
            value = state.get(field)
            if type(value) is list:
                extend(value)
            elif value is not None:
                push(value)
    loads, stores = frozenset(loaded), frozenset(stored)
    ids = loads | stores | frozenset(deleted) if deleted else loads | stores
    return Usage(loads, stores, ids, (*stored, *deleted, *params), (*loaded, *declared), foldable)


def _folds(node: ast.BinOp) -> bool:
    """Whether constant folding rewrites this operation itself: arithmetic on two numbers, a
    product with a unit factor, or a product of a product with a number by a number."""
    left, right = node.left, node.right
    if is_number(left) and is_number(right):
        return True
    if type(node.op) is not ast.Mult:
        return False
    if any(is_number(o) and o.value == 1 for o in (left, right)):  # type: ignore[attr-defined]
        return True
    return is_number(right) and type(left) is ast.BinOp and type(left.op) is ast.Mult \
        and (is_number(left.left) or is_number(left.right))


def _inner_blocks(stmt: ast.stmt) -> list[list[ast.stmt]]:
    """The statement lists of a compound statement (`body`, `orelse`); none for a simple one."""
    if type(stmt) in SIMPLE_STATEMENTS:  # the usual statements, answered without looking for bodies
        return []
    return [block for block in (getattr(stmt, "body", None), getattr(stmt, "orelse", None)) if type(block) is list]


CHECK_RECORDS = False  # the tests turn it on: passes that take over records check they are right


class UsageCache:
    """Usage of the statements of one function while passes rewrite it.

    Records are keyed by statement identity and keep their statement alive, so an id is
    never reused for another statement while its record exists.
    """

    def __init__(self) -> None:
        self._records: dict[int, tuple[ast.stmt, Usage]] = {}

    def of(self, stmt: ast.stmt) -> Usage:
        """The usage of `stmt`, nested statements included."""
        record = self._records.get(id(stmt))
        if record is not None and record[0] is stmt:
            return record[1]
        blocks = _inner_blocks(stmt)
        if not blocks:
            found = usage([stmt])
            self._records[id(stmt)] = (stmt, found)
            return found
        return _combined([_header_usage(stmt), *(self.of(s) for block in blocks for s in block)])

    def loads(self, stmt: ast.stmt) -> frozenset[str]:
        return self.of(stmt).loads

    def stores(self, stmt: ast.stmt) -> frozenset[str]:
        return self.of(stmt).stores

    def counts(self, body: list[ast.stmt]) -> tuple[Counter[str], Counter[str]]:
        """How often each name is bound and read in `body`, nested statements included."""
        parts: list[Usage] = []
        self._collect(body, parts)
        return Counter(chain.from_iterable(p.bound for p in parts)), Counter(chain.from_iterable(p.read for p in parts))

    def _collect(self, body: list[ast.stmt], parts: list[Usage]) -> None:
        """The usages of the simple statements of `body` and of its compound ones' headers."""
        records = self._records
        for stmt in body:
            record = records.get(id(stmt))
            if record is not None and record[0] is stmt:
                parts.append(record[1])
                continue
            blocks = _inner_blocks(stmt)
            if not blocks:
                parts.append(self.of(stmt))
                continue
            parts.append(_header_usage(stmt))
            for block in blocks:
                self._collect(block, parts)

    def stale(self, body: list[ast.stmt]) -> list[ast.stmt]:
        """The statements of `body` whose record no longer matches them: a pass changed one
        in place and did not `forget` it. (Folding numbers, which may leave `foldable` set and
        reorder the names a statement reads, is not a change. Records of statements no longer
        in the code may be out of date: a merged statement reuses the parts of the two it
        replaces, and passes change those in place.)"""
        def names(found: Usage) -> tuple:  # in any order: folding may reorder a statement's parts
            return found.loads, found.stores, found.ids, sorted(found.bound), sorted(found.read)

        out = []
        for stmt in _simple_statements(body):
            record = self._records.get(id(stmt))
            if record is None or record[0] is not stmt:
                continue
            fresh = usage([stmt])
            if names(fresh) != names(record[1]) or fresh.foldable and not record[1].foldable:
                out.append(stmt)
        return out

    def check(self, body: list[ast.stmt]) -> None:
        """With `CHECK_RECORDS` on (the tests turn it on), fail if a record of a statement of
        `body` is stale (see `stale`): the passes that take records over check them."""
        if CHECK_RECORDS:
            stale = self.stale(body)
            assert not stale, f"stale usage records of: {[ast.dump(s) for s in stale[:3]]}"

    def forget(self, stmt: ast.stmt) -> None:
        """Drop the records of `stmt` and of the statements nested in it (rewritten in place)."""
        self._records.pop(id(stmt), None)
        for block in _inner_blocks(stmt):
            for inner in block:
                self.forget(inner)


def _simple_statements(body: list[ast.stmt]) -> list[ast.stmt]:
    """The statements of `body` without bodies of their own, nested ones included."""
    out = []
    for stmt in body:
        blocks = _inner_blocks(stmt)
        if blocks:
            for block in blocks:
                out.extend(_simple_statements(block))
        else:
            out.append(stmt)
    return out


def _header_usage(stmt: ast.stmt) -> Usage:
    """The usage of a compound statement without its statement lists (its test, target...)."""
    header: list[ast.AST] = []
    for field in stmt._fields:
        if field in ("body", "orelse"):
            continue
        value = getattr(stmt, field, None)
        if type(value) is list:
            header.extend(v for v in value if isinstance(v, ast.AST))
        elif isinstance(value, ast.AST):
            header.append(value)
    return usage(header)


def _combined(parts: list[Usage]) -> Usage:
    return Usage(
        frozenset().union(*(p.loads for p in parts)),
        frozenset().union(*(p.stores for p in parts)),
        frozenset().union(*(p.ids for p in parts)),
        tuple(chain.from_iterable(p.bound for p in parts)),
        tuple(chain.from_iterable(p.read for p in parts)),
        any(p.foldable for p in parts),
    )
