"""`usage.usage` and `astquery.names` against a plain `ast.walk` reading of the same statements: every statement
of srcgrad's own source and of the examples (nonlocal, global, del, lambdas, comprehensions,
match statements...), and of generated derivative code."""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

import pytest

import srcgrad
from srcgrad.syntax.astquery import names
from srcgrad.syntax.usage import usage
from srcgrad.transforms import reverse

ROOT = Path(__file__).resolve().parent.parent  # the repository, for examples/
PACKAGE = Path(srcgrad.__file__).resolve().parent  # the imported package, wherever it is installed
SOURCES = sorted(PACKAGE.rglob("*.py")) + sorted((ROOT / "examples").rglob("*.py"))


def _label(path: Path) -> str:
    """`srcgrad/...` for the package's files, the repository-relative path for the others."""
    return str(path.relative_to(PACKAGE.parent if path.is_relative_to(PACKAGE) else ROOT))

MATCH = """
def f(p, q):
    match p:
        case Point(x=0, y=yy) if yy > q:
            del q
            return yy
        case [a, *rest]:
            global g
            return a + len(rest)
"""


def _number(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and type(node.value) in (int, float)


def _reference(stmt: ast.stmt) -> tuple:
    names = [n for n in ast.walk(stmt) if isinstance(n, ast.Name)]
    loads = {n.id for n in names if isinstance(n.ctx, ast.Load)}
    stores = {n.id for n in names if isinstance(n.ctx, ast.Store)}
    bound = Counter(n.id for n in names if not isinstance(n.ctx, ast.Load))
    bound.update(a.arg for a in ast.walk(stmt) if isinstance(a, ast.arg))
    read = Counter(n.id for n in names if isinstance(n.ctx, ast.Load))
    read.update(name for n in ast.walk(stmt) if isinstance(n, ast.Nonlocal) for name in n.names)
    foldable = any(
        isinstance(op, ast.BinOp) and (
            _number(op.left) and _number(op.right)
            or isinstance(op.op, ast.Mult) and any(_number(o) and o.value == 1 for o in (op.left, op.right))
            or isinstance(op.op, ast.Mult) and _number(op.right) and isinstance(op.left, ast.BinOp)
            and isinstance(op.left.op, ast.Mult) and (_number(op.left.left) or _number(op.left.right))
        )
        for op in ast.walk(stmt)
    ) or any(isinstance(op, ast.UnaryOp) and isinstance(op.operand, ast.Constant) for op in ast.walk(stmt))
    return loads, stores, {n.id for n in names}, bound, read, foldable


def _found(stmt: ast.stmt) -> tuple:
    walked = sorted(id(n) for n in ast.walk(stmt) if isinstance(n, ast.Name))
    assert sorted(id(n) for n in names(stmt)) == walked  # `astquery.names`: every Name node, once
    found = usage([stmt])
    return set(found.loads), set(found.stores), set(found.ids), Counter(found.bound), Counter(found.read), found.foldable


@pytest.mark.parametrize("path", SOURCES, ids=_label)
def test_usage_agrees_with_a_plain_walk_on_every_statement(path: Path) -> None:
    for stmt in ast.walk(ast.parse(path.read_text())):
        if isinstance(stmt, ast.stmt):
            assert _found(stmt) == _reference(stmt), ast.unparse(stmt)


def test_usage_of_match_statements_del_and_global() -> None:
    for stmt in ast.walk(ast.parse(MATCH)):
        if isinstance(stmt, ast.stmt):
            assert _found(stmt) == _reference(stmt), ast.unparse(stmt)


def test_usage_of_generated_code() -> None:
    import numpy as np

    import srcgrad

    def f(x, y):
        z = 2.0 * (x * 1.0) * 3.0 + np.sin(x * y) ** 2
        return z * y - x / 1.0

    text = srcgrad.source(srcgrad.grad(f, wrt=(0, 1)))
    for stmt in ast.walk(ast.parse(text)):
        if isinstance(stmt, ast.stmt):
            assert _found(stmt) == _reference(stmt), ast.unparse(stmt)


def test_a_statement_changed_in_place_without_forget_is_found_stale() -> None:
    from srcgrad.syntax.usage import UsageCache

    body = ast.parse("a = b + c\nd = a * 2.0").body
    cache = UsageCache()
    assert cache.loads(body[0]) == {"b", "c"}
    body[0].value.right = ast.Name("e", ast.Load())  # a pass rewrites it in place...
    assert cache.stale(body) == [body[0]]  # ...and forgets to say so
    cache.forget(body[0])
    assert cache.stale(body) == [] and cache.loads(body[0]) == {"b", "e"}


def test_fix_missing_locations_agrees_with_ast_and_every_located_class_has_four_positions() -> None:
    """`fastast.fix_missing_locations` handles only classes with all four position attributes
    (every located class in Python 3.10 to 3.13); it places what `ast`'s own would."""
    import copy

    from srcgrad.syntax.fastast import _POSITION, fix_missing_locations

    located = [c for c in vars(ast).values() if isinstance(c, type) and issubclass(c, ast.AST) and c._attributes]
    assert located and all(c._attributes == _POSITION for c in located)
    tree = ast.parse(Path(reverse.__file__).read_text())
    for i, node in enumerate(ast.walk(tree)):  # strip some positions: every third node's
        if isinstance(node, (ast.expr, ast.stmt, ast.arg, ast.keyword)) and i % 3 == 0:
            for attribute in _POSITION:
                node.__dict__.pop(attribute, None)
    ours, theirs = fix_missing_locations(copy.deepcopy(tree)), ast.fix_missing_locations(copy.deepcopy(tree))
    assert ast.dump(ours, include_attributes=True) == ast.dump(theirs, include_attributes=True)
