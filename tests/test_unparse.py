"""`unparse.function_text` writes what `ast.unparse` writes, character for character: on
every function of srcgrad's source, its tests and examples (with and without docstrings
and decorators), on generated derivative code, and on random expressions (whose negative
number constants `ast.unparse` writes wrongly under `**`: it is given them as unary minus)."""

from __future__ import annotations

import ast
import copy
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import srcgrad
from srcgrad.syntax.unparse import function_text, minus_signs

ROOT = Path(__file__).resolve().parent.parent  # the repository, for tests/ and examples/
PACKAGE = Path(srcgrad.__file__).resolve().parent  # the imported package, wherever it is installed
FILES = sorted(PACKAGE.rglob("*.py")) + sorted((ROOT / "tests").glob("*.py")) + sorted((ROOT / "examples").rglob("*.py"))


def _label(path: Path) -> str:
    """`srcgrad/...` for the package's files, the repository-relative path for the others."""
    return str(path.relative_to(PACKAGE.parent if path.is_relative_to(PACKAGE) else ROOT))


def _functions(path: Path) -> list[ast.FunctionDef]:
    return [n for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.FunctionDef)]


def _bare(node: ast.FunctionDef) -> ast.FunctionDef:
    """`node` without its docstring, decorators and annotations: what the quick path writes."""
    bare = copy.deepcopy(node)
    bare.decorator_list, bare.returns = [], None
    if bare.body and isinstance(bare.body[0], ast.Expr) and isinstance(bare.body[0].value, ast.Constant):
        bare.body = bare.body[1:] or [ast.Pass()]
    return bare


@pytest.mark.parametrize("path", FILES, ids=_label)
def test_same_text_as_ast_unparse_on_source_files(path: Path) -> None:
    for node in _functions(path):
        for variant in (node, _bare(node)):
            assert function_text(variant) == ast.unparse(variant)


def test_same_text_on_generated_code() -> None:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import problems
    finally:
        sys.path.pop(0)

    def branchy(x, n):
        total = 0.0
        for i in range(n):
            if x > 1.0 and i % 2 == 0 or not x < -1.0:
                total = total + np.sin(x) ** -2 * (x if x > 0 else -x)
            elif x < 0:
                total -= x
            else:
                break
        while total > 10.0:
            total = total / 2.0
        return total

    cases = [
        (problems.p4, problems.p4_inputs(np.random.default_rng(0)), (0, 1, 2, 3)),
        (problems.p5, problems.p5_inputs(np.random.default_rng(0)), (0, 1, 2)),
        (branchy, (1.5, 4), 0),
        (branchy, (np.array(1.5), 4), 0),
    ]
    for fn, args, wrt in cases:
        derivative = srcgrad.grad(fn, wrt=wrt)
        derivative(*args)
        node = ast.parse(srcgrad.source(derivative)).body[0]
        assert function_text(node) == ast.unparse(node)


NAMES = st.sampled_from(["x", "y", "np", "_t1_bar"]).map(lambda n: ast.Name(n, ast.Load()))
NUMBERS = st.one_of(st.integers(-3, 3), st.floats(-1e3, 1e3), st.sampled_from([True, None])).map(ast.Constant)
# what the quick path leaves to `ast.unparse` (quoting, infinities, complex numbers)
RARE = st.sampled_from(["s", 1j, float("inf"), float("nan"), b"x"]).map(ast.Constant)


def _expressions() -> st.SearchStrategy[ast.expr]:
    leaves = st.one_of(NAMES, NAMES, NUMBERS, NUMBERS, NUMBERS, RARE)

    def extend(inner: st.SearchStrategy[ast.expr]) -> st.SearchStrategy[ast.expr]:
        binary = st.sampled_from([ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.MatMult, ast.Mod, ast.BitOr])
        unary = st.sampled_from([ast.USub, ast.UAdd, ast.Not, ast.Invert])
        compare = st.sampled_from([ast.Lt, ast.Eq, ast.IsNot, ast.NotIn])
        return st.one_of(
            st.builds(lambda a, op, b: ast.BinOp(a, op(), b), inner, binary, inner),
            st.builds(lambda op, a: ast.UnaryOp(op(), a), unary, inner),
            st.builds(lambda f, args, kw: ast.Call(f, args, [ast.keyword(k, v) for k, v in kw]),
                      inner, st.lists(inner, max_size=2), st.lists(st.tuples(st.sampled_from(["axis", None]), inner), max_size=1)),
            st.builds(lambda a, attr: ast.Attribute(a, attr, ast.Load()), inner, st.sampled_from(["T", "real"])),
            st.builds(lambda a, i: ast.Subscript(a, i, ast.Load()), inner, st.one_of(
                inner, st.builds(lambda lo, hi: ast.Slice(lo, hi, None), st.none() | inner, st.none() | inner),
                st.lists(inner, max_size=2).map(lambda e: ast.Tuple(e, ast.Load())))),
            st.lists(inner, max_size=3).map(lambda e: ast.Tuple(e, ast.Load())),
            st.lists(inner, max_size=2).map(lambda e: ast.List(e, ast.Load())),
            st.builds(lambda a, op, b: ast.Compare(a, [op()], [b]), inner, compare, inner),
            st.builds(lambda a, b, c: ast.IfExp(a, b, c), inner, inner, inner),
            st.builds(lambda op, v: ast.BoolOp(op(), v), st.sampled_from([ast.And, ast.Or]), st.lists(inner, min_size=2, max_size=3)),
        )

    return st.recursive(leaves, extend, max_leaves=8)


@settings(max_examples=300, deadline=None)
@given(_expressions(), _expressions())
def test_same_text_on_random_expressions(first: ast.expr, second: ast.expr) -> None:
    body = [
        ast.Assign([ast.Name("z", ast.Store())], first),
        ast.Assign([ast.Tuple([ast.Name("a", ast.Store()), ast.Name("b", ast.Store())], ast.Store())], second),
        ast.If(second, [ast.Expr(first)], [ast.If(first, [ast.AugAssign(ast.Name("z", ast.Store()), ast.Add(), second)], [])]),
        ast.For(ast.Name("i", ast.Store()), first, [ast.Pass()], [ast.Break()]),
        ast.Return(first),
    ]
    node = ast.FunctionDef("f", ast.arguments([], [ast.arg("x")], None, [], [], None, []), body, [], None, None)
    for stmt in [node, *ast.walk(node)]:
        if isinstance(stmt, ast.stmt):
            stmt.lineno = 1  # `ast.unparse` reads a statement's line for type comments
    node.type_params = []
    assert function_text(node) == ast.unparse(minus_signs(node))
