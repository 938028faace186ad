"""Lower everyday statements into ones the later passes handle, before fence and jumps.

`assert` and `raise` become a call of `throw` (kept in the forward sweep, no derivative),
`match` on values an `if`/`elif` chain, a `with` of a context manager that leaves values
alone its body, `del name` nothing, starred unpacking indexing and slicing, and a `while`
whose test assigns with `:=` a loop that tests first and breaks. What cannot be lowered
exactly is refused at its line.
"""

from __future__ import annotations

import ast
import contextlib
import warnings
from typing import Any

import numpy as np

from ..errors import SourceInfo, located_error
from ..frontend.resolve import Resolver
from ..syntax.astquery import statements
from ..syntax.fastast import walk
from ..syntax.naming import Namer
from . import matching, nested

# context managers whose `with` the body can do without: they change no value (warnings
# the block would hide, or print options, may show)
_HARMLESS = (np.errstate, warnings.catch_warnings, np.printoptions, contextlib.nullcontext)
_FILTERS = ("simplefilter", "filterwarnings")


class Lowerer:
    """Rewrites one function body; `names` resolves names to objects (or MISSING)."""

    def __init__(self, info: SourceInfo, namer: Namer, names: Resolver,
                 sequence_name: str) -> None:
        self.info, self.namer, self.names = info, namer, names
        self.sequence_name = sequence_name
        self.throw_name = namer.reserve("throw")
        self.node: ast.FunctionDef | None = None
        self.helpers: dict[str, Any] = {}

    def run(self, node: ast.FunctionDef, globals_: dict[str, Any]) -> ast.FunctionDef:
        """Lower `node`'s body in place; its helpers (`def` in the body) go to `self.helpers`."""
        self.node = node
        self.helpers = nested.lift(node, self.info, globals_)
        node.body = self.block(node.body) or [ast.copy_location(ast.Pass(), node)]
        return node

    def block(self, body: list[ast.stmt]) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for stmt in body:
            for field in ("body", "orelse"):
                inner = getattr(stmt, field, None)
                if isinstance(inner, list) and inner and not isinstance(stmt, ast.FunctionDef):
                    setattr(stmt, field, self.block(inner) or [ast.copy_location(ast.Pass(), stmt)])
            out += [_placed(new, stmt) for new in self.statement(stmt)]
        return out

    def statement(self, stmt: ast.stmt) -> list[ast.stmt]:
        method = getattr(self, "lower_" + type(stmt).__name__, None)
        return method(stmt) if method else [stmt]

    # ---- raise and assert ---------------------------------------------------------------
    def throw(self, exception: ast.expr, cause: ast.expr | None = None) -> ast.stmt:
        args = [exception] if cause is None else [exception, cause]
        return ast.Expr(ast.Call(ast.Name(self.throw_name, ast.Load()), args, []))

    def lower_Raise(self, stmt: ast.Raise) -> list[ast.stmt]:
        if stmt.exc is None:
            raise located_error(self.info, stmt, "a bare `raise` re-raises the exception being handled, "
                                "and a differentiated function handles none; raise one by name: `raise ValueError(...)`")
        return [self.throw(stmt.exc, stmt.cause)]

    def lower_Assert(self, stmt: ast.Assert) -> list[ast.stmt]:
        if not __debug__:
            return []  # `python -O` leaves asserts out
        args = [stmt.msg] if stmt.msg is not None else []
        error = ast.Call(ast.Name("AssertionError", ast.Load()), args, [])
        return [ast.If(ast.UnaryOp(ast.Not(), stmt.test), [_placed(self.throw(error), stmt)], [])]

    # ---- with ------------------------------------------------------------------------
    def lower_With(self, stmt: ast.With) -> list[ast.stmt]:
        kept = [item for item in stmt.items if not self._harmless(item)]
        if len(kept) == len(stmt.items):
            return [stmt]
        body = [s for s in stmt.body if not self._filter_call(s)] if not kept else stmt.body
        if not kept:
            return body or [ast.Pass()]
        stmt.items = kept
        return [stmt]

    def _harmless(self, item: ast.withitem) -> bool:
        expr = item.context_expr
        manager = self.names.static_value(expr.func if isinstance(expr, ast.Call) else expr)
        if manager is contextlib.suppress:
            raise located_error(self.info, expr, "`contextlib.suppress` skips the rest of the block when the "
                                "exception is raised, which srcgrad cannot follow; test for the case with `if` instead")
        if manager not in _HARMLESS or not isinstance(expr, ast.Call):
            return False
        if item.optional_vars is not None:
            raise located_error(self.info, item.optional_vars, "the value `with ... as` binds is not supported "
                                "here; leave out `as ...` (the block then runs as written)")
        if manager is np.errstate:
            self._check_errstate(expr)
        return True

    def _check_errstate(self, call: ast.Call) -> None:
        for value in [*call.args, *(k.value for k in call.keywords)]:
            if not (isinstance(value, ast.Constant) and value.value in ("ignore", "warn", "print", "log")):
                raise located_error(self.info, value, "`np.errstate` is supported with \"ignore\", \"warn\", "
                                    "\"print\" or \"log\" written out; \"raise\" and \"call\" change what "
                                    "runs: test the values with `if` instead")

    def _filter_call(self, stmt: ast.stmt) -> bool:
        """`warnings.simplefilter("ignore")` in a harmless block: it would outlive the block."""
        call = stmt.value if isinstance(stmt, ast.Expr) else None
        if not isinstance(call, ast.Call) or not isinstance(call.func, ast.Attribute) or call.func.attr not in _FILTERS:
            return False
        if self.names.static_value(call.func) is not getattr(warnings, call.func.attr):
            return False
        action = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg == "action"), None)
        if not (isinstance(action, ast.Constant) and action.value != "error"):
            raise located_error(self.info, call, "turning warnings into errors changes what runs, which srcgrad "
                                "cannot follow; test the values with `if` instead")
        return True

    # ---- del -----------------------------------------------------------------------------
    def lower_Delete(self, stmt: ast.Delete) -> list[ast.stmt]:
        for target in stmt.targets:
            if not isinstance(target, ast.Name):
                raise located_error(self.info, target, "`del` of an item or attribute is not supported; "
                                    "for a list item use `lst.pop(i)`, otherwise build the container without it")
            if _read_after(self.node, target):
                raise located_error(self.info, target, f"`{target.id}` is read again after this `del`; "
                                    "srcgrad supports `del name` only once the name is no longer used: remove the `del`")
        return []

    # ---- match ---------------------------------------------------------------------------
    def lower_Match(self, stmt: ast.Match) -> list[ast.stmt]:
        subject = self.namer.fresh("_subject")
        first = ast.Assign([ast.Name(subject, ast.Store())], stmt.subject)
        return [first, *matching.chain(stmt.cases, subject, self.info)]

    # ---- starred unpacking ----------------------------------------------------------------
    def lower_Assign(self, stmt: ast.Assign) -> list[ast.stmt]:
        target = stmt.targets[0]
        if len(stmt.targets) != 1 or not _starred(target):
            return [stmt]
        return self.unpack(target, stmt.value)  # type: ignore[arg-type]

    def lower_For(self, stmt: ast.For) -> list[ast.stmt]:
        if _starred(stmt.target):
            item = self.namer.fresh("_item")
            unpacking = self.unpack(stmt.target, ast.Name(item, ast.Load()))  # type: ignore[arg-type]
            stmt.target = ast.Name(item, ast.Store())
            stmt.body = [_placed(s, stmt) for s in unpacking] + stmt.body
        return [stmt]

    def unpack(self, target: ast.Tuple | ast.List, value: ast.expr) -> list[ast.stmt]:
        """`a, *b, c = value` as `_seq = as_sequence(value)`, a length check and indexing."""
        star = next(i for i, e in enumerate(target.elts) if isinstance(e, ast.Starred))
        after = len(target.elts) - star - 1
        seq = self.namer.fresh("_seq")
        out: list[ast.stmt] = [_assign(seq, ast.Call(ast.Name(self.sequence_name, ast.Load()), [value], []))]
        length = ast.Call(ast.Name("len", ast.Load()), [ast.Name(seq, ast.Load())], [])
        needed = len(target.elts) - 1
        message = ast.JoinedStr([ast.Constant(f"not enough values to unpack (expected at least {needed}, got "),
                                 ast.FormattedValue(length, -1, None), ast.Constant(")")])
        error = ast.Call(ast.Name("ValueError", ast.Load()), [message], [])
        out.append(ast.If(ast.Compare(length, [ast.Lt()], [ast.Constant(needed)]), [self.throw(error)], []))
        for i, element in enumerate(target.elts):
            if isinstance(element, ast.Starred):
                stop = ast.Constant(-after) if after else None
                part = ast.Subscript(ast.Name(seq, ast.Load()), ast.Slice(ast.Constant(star), stop, None), ast.Load())
                out.append(ast.Assign([element.value], ast.Call(ast.Name("list", ast.Load()), [part], [])))
            else:
                index = i if i < star else i - len(target.elts)
                out.append(ast.Assign([element], ast.Subscript(ast.Name(seq, ast.Load()), ast.Constant(index), ast.Load())))
        return out

    # ---- while with := ------------------------------------------------------------------
    def lower_While(self, stmt: ast.While) -> list[ast.stmt]:
        if not any(isinstance(n, ast.NamedExpr) for n in walk(stmt.test)):
            return [stmt]
        if stmt.orelse:
            raise located_error(self.info, stmt.test, "a `while` loop whose test assigns with `:=` and that has "
                                "an `else` is not supported; assign before the loop and at the end of its body")
        stop = _placed(ast.If(ast.UnaryOp(ast.Not(), stmt.test), [_placed(ast.Break(), stmt)], []), stmt)
        stmt.test = ast.copy_location(ast.Constant(True), stmt.test)
        stmt.body = [stop, *stmt.body]
        return [stmt]


def _starred(target: ast.expr) -> bool:
    return isinstance(target, (ast.Tuple, ast.List)) and any(isinstance(e, ast.Starred) for e in target.elts)


def _assign(name: str, value: ast.expr) -> ast.Assign:
    return ast.Assign([ast.Name(name, ast.Store())], value)


def _placed(new: ast.stmt, where: ast.AST) -> ast.stmt:
    """`new` and its parts without a position at `where`'s."""
    for node in walk(new):
        if "lineno" in node._attributes and not hasattr(node, "lineno"):
            ast.copy_location(node, where)
    return new


def _read_after(node: ast.FunctionDef | None, target: ast.Name) -> bool:
    """Whether `target`'s name may be read after the `del`: later in the text, or earlier in
    a loop around it without a plain assignment first in the loop's body."""
    position = (target.lineno, target.col_offset)
    for child in walk(node):  # type: ignore[arg-type]
        if isinstance(child, ast.Name) and child.id == target.id and isinstance(child.ctx, ast.Load) \
                and (child.lineno, child.col_offset) > position:
            return True
    for loop in statements(node.body):  # type: ignore[union-attr]
        if isinstance(loop, (ast.For, ast.While)) and any(n is target for s in loop.body for n in walk(s)):
            if not _assigned_first(loop.body, target.id):
                return True
    return False


def _assigned_first(body: list[ast.stmt], name: str) -> bool:
    """Whether `name`'s first occurrence in `body` is a plain assignment to it at its top level."""
    for stmt in body:
        names = [n for n in walk(stmt) if isinstance(n, ast.Name) and n.id == name]
        if names:
            return isinstance(stmt, ast.Assign) and not any(isinstance(n.ctx, ast.Load) for n in names)
    return False
