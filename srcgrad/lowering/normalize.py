"""Three-address form: one operation per statement, on names and constants.

Augmented assignment, tuple unpacking, chained assignment, conditional expressions,
`and`/`or` values, comprehensions, lambdas (inlined where called) and iteration over
sequences are expanded into plain statements. Straight-line reassignments get fresh
versions (`x`, `x_1`, ...), so only loops and branches overwrite values. Expressions whose
value carries no derivative (comparisons, `len`, `.shape`, ...) are kept whole and listed
in `opaque`. Every new statement keeps the line number of the user's statement.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any, Callable

from ..errors import SourceInfo, located_error, plain_name
from ..frontend.resolve import Resolver
from ..syntax.fastast import fix_missing_locations, location, walk
from ..syntax.folding import truth
from ..syntax.naming import Namer
from . import walrus
from .normalize_expressions import ExpressionLowering, copied


@dataclass
class Normalized:
    """The normalized function and what the later passes need to know about it."""

    node: ast.FunctionDef
    opaque: set[int] = field(default_factory=set)  # ids of statements with no derivative
    constant: set[int] = field(default_factory=set)  # ids of statements inside no_grad


class Normalizer(ExpressionLowering):
    """Rewrites one function body; `calls` says which calls carry no derivative."""

    def __init__(
        self,
        info: SourceInfo,
        namer: Namer,
        params: list[str],
        calls: Resolver,
    ) -> None:
        self.info = info
        self.namer = namer
        # per origin node: the node (held, so that its id is not reused by a later node while
        # the entry exists: lowered comprehensions' statements are freed early) and its position
        self.positions: dict[int, tuple[ast.AST, dict[str, Any]]] = {}
        self.current = {p: p for p in params}
        self.defined = set(params)
        self.depth = 0
        self.calls = calls  # what each call refers to: which carry no derivative
        self.lambdas: dict[str, ast.Lambda] = {}
        self.result = Normalized(node=None)  # type: ignore[arg-type]
        self.in_no_grad = 0
        self.out: list[ast.stmt] = []
        self.origin: ast.stmt | None = None
        self.sequence_name = namer.reserve("as_sequence")
        self.has_walrus = False

    # ---- driver -------------------------------------------------------------------
    def run(self, node: ast.FunctionDef) -> Normalized:
        self.has_walrus = any(isinstance(n, ast.NamedExpr) for n in walk(node))
        body = self.block(node.body)
        if not body or not isinstance(body[-1], ast.Return):
            body.append(self._located(ast.Return(ast.Constant(None)), node.body[-1]))
        new = ast.FunctionDef(
            name=node.name, args=node.args, body=body, decorator_list=[], returns=None,
            type_comment=None, type_params=[],
        )
        self.result.node = ast.copy_location(new, node)  # new parts are placed when an error needs it (`Builder.located`)
        return self.result

    def block(self, stmts: list[ast.stmt]) -> list[ast.stmt]:
        saved, self.out = self.out, []
        for stmt in stmts:
            self.origin = stmt
            self.statement(stmt)
        produced, self.out = self.out, saved
        return produced

    def nested(self, stmts: list[ast.stmt]) -> list[ast.stmt]:
        self.depth += 1
        origin = self.origin
        try:
            return self.block(stmts) or [self._located(ast.Pass(), stmts[0] if stmts else None)]
        finally:
            self.depth -= 1
            self.origin = origin

    def emit(self, stmt: ast.stmt, opaque: bool = False) -> None:
        self._located(stmt, self.origin)
        if opaque:
            self.result.opaque.add(id(stmt))
        if self.in_no_grad:
            self.result.constant.add(id(stmt))
        self.out.append(stmt)

    def _located(self, stmt: ast.stmt, origin: ast.AST | None) -> ast.stmt:
        """`stmt` at `origin`'s position; its new parts take their nearest positioned
        parent's when an error message needs them (`Builder.located`)."""
        if origin is not None:
            found = self.positions.get(id(origin))
            if found is None:  # what `ast.copy_location(child, origin)` copies
                found = self.positions[id(origin)] = (origin, location(origin))
            position = found[1]
            stmt.__dict__.update(position)
        return stmt

    # ---- names ----------------------------------------------------------------------
    def read(self, name: str) -> ast.Name:
        if name in self.lambdas:
            raise located_error(self.info, self.origin, f"the lambda `{name}` is used as a "
                                "value; srcgrad differentiates lambdas only where they are called: call it "
                                f"(`[{name}(y) for y in xs]` rather than `map({name}, xs)`)")
        return ast.Name(self.current.get(name, name), ast.Load())

    def write(self, name: str) -> ast.Name:
        if self.depth == 0 and name in self.defined:
            new = self.namer.version(name)
        else:
            new = self.current.get(name, name)
        self.defined.add(name)
        self.current[name] = new
        return ast.Name(new, ast.Store())

    def rename(self, expr: ast.expr) -> ast.expr:
        """A copy of a whole (opaque) expression with reads renamed to current versions; its
        `:=` assignments are made first, as statements (`walrus.hoisted` checks that is exact)."""
        for named in walrus.hoisted(expr, self.info) if self.has_walrus else ():
            self.walrus(named)
        return _Renamer(self.read).visit(copied(expr))

    def walrus(self, named: ast.NamedExpr) -> ast.Name:
        """`(y := value)` as the statement `y = value`; the expression then reads `y`."""
        self.assign_one(ast.Name(named.target.id, ast.Store()), named.value)
        named.value = ast.Name(named.target.id, ast.Load())  # the renamed copy reads the name
        return self.read(named.target.id)

    # ---- statements -------------------------------------------------------------------
    def statement(self, stmt: ast.stmt) -> None:
        method = getattr(self, "stmt_" + type(stmt).__name__, None)
        if method is None:
            raise located_error(self.info, stmt, f"{plain_name(stmt)} is not supported "
                                "inside a differentiated function; move it outside the function")
        method(stmt)

    def stmt_Pass(self, stmt: ast.Pass) -> None:
        pass

    def stmt_Break(self, stmt: ast.Break) -> None:
        self.emit(ast.Break())

    def stmt_Continue(self, stmt: ast.Continue) -> None:
        self.emit(ast.Continue())

    def stmt_Expr(self, stmt: ast.Expr) -> None:
        value = stmt.value
        if isinstance(value, ast.Constant):
            return  # docstring or bare constant
        if isinstance(value, ast.Call) and not self.calls.is_opaque_call(value):
            self.emit(ast.Expr(self.call(value)))
        else:
            self.emit(ast.Expr(self.rename(value)), opaque=True)

    def stmt_Return(self, stmt: ast.Return) -> None:
        value = self.atom(stmt.value) if stmt.value is not None else ast.Constant(None)
        self.emit(ast.Return(value))

    def stmt_AnnAssign(self, stmt: ast.AnnAssign) -> None:
        if stmt.value is not None:
            self.assign([stmt.target], stmt.value)

    def stmt_Assign(self, stmt: ast.Assign) -> None:
        value = stmt.value
        if isinstance(value, ast.Lambda) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            self.lambdas[stmt.targets[0].id] = value
            return
        self.assign(stmt.targets, value)

    def stmt_AugAssign(self, stmt: ast.AugAssign) -> None:
        target = stmt.target
        if isinstance(target, ast.Name):
            self.assign([target], ast.BinOp(ast.Name(target.id, ast.Load()), stmt.op, stmt.value))
            return
        if isinstance(target, ast.Subscript):
            container = self.read(_root(target.value))
            index = self.index(target.slice)
            old = self.fresh_assign(ast.Subscript(container, index, ast.Load()))
            new = self.fresh_assign(ast.BinOp(old, stmt.op, self.atom(stmt.value)))
            self.setitem(container, copied(index), new)
            return
        raise located_error(self.info, target, "this augmented assignment target is not supported")

    def stmt_If(self, stmt: ast.If) -> None:
        known = truth(stmt.test)
        if known is not None:  # `if 2.0 > 1.0:`, `if False:`: the taken body, straight-line
            self.inline(stmt.body if known else stmt.orelse)
            return
        decision = self.fresh_assign(self.rename(stmt.test), opaque=True, prefix="_cond")
        self.emit(ast.If(decision, self.nested(stmt.body), self.nested(stmt.orelse) if stmt.orelse else []))

    def inline(self, stmts: list[ast.stmt]) -> None:
        """Lower `stmts` into the current block, as if they stood in place of the branch
        that holds them (its test was a constant)."""
        origin = self.origin
        for inner in stmts:
            self.origin = inner
            self.statement(inner)
        self.origin = origin

    def stmt_While(self, stmt: ast.While) -> None:
        self.depth += 1
        test = self.rename(stmt.test)
        self.depth -= 1
        self.emit(ast.While(test, self.nested(stmt.body), []))

    def stmt_For(self, stmt: ast.For) -> None:
        iterable, target = stmt.iter, stmt.target
        if _is_call_to(iterable, "range") and isinstance(target, ast.Name):
            steps = self.fresh_assign(self.rename(iterable), opaque=True, prefix="_range")
            self.emit(ast.For(self.write(target.id), steps, self.nested(stmt.body), []))
            return
        position = self.namer.fresh("_i")
        index = ast.Name(position, ast.Load())
        if _is_call_to(iterable, "enumerate") and isinstance(target, ast.Tuple) and len(target.elts) == 2:
            sequences = [self.sequence(iterable.args[0])]
            offset = iterable.args[1] if len(iterable.args) > 1 else ast.Constant(0)
            count = ast.BinOp(index, ast.Add(), offset) if _nonzero(offset) else index
            unpack = [ast.Assign([target.elts[0]], count), self._item(target.elts[1], sequences[0], index)]
        elif _is_call_to(iterable, "zip") and isinstance(target, ast.Tuple) and len(target.elts) == len(iterable.args):
            sequences = [self.sequence(a) for a in iterable.args]
            unpack = [self._item(t, s, index) for t, s in zip(target.elts, sequences)]
        else:
            reverse = _is_call_to(iterable, "reversed")
            sequences = [self.sequence(iterable.args[0] if reverse else iterable)]
            unpack = [self._item(target, sequences[0], index)]
        lengths = [ast.Call(ast.Name("len", ast.Load()), [s], []) for s in sequences]
        length = lengths[0] if len(lengths) == 1 else ast.Call(ast.Name("min", ast.Load()), lengths, [])
        bounds = [length] if not _is_call_to(iterable, "reversed") else [
            ast.BinOp(length, ast.Sub(), ast.Constant(1)), ast.Constant(-1), ast.Constant(-1)]
        steps = self.fresh_assign(ast.Call(ast.Name("range", ast.Load()), bounds, []), opaque=True, prefix="_range")
        unpack = [self._located(fix_missing_locations(u), stmt) for u in unpack]
        self.current.setdefault(position, position)
        self.emit(ast.For(ast.Name(position, ast.Store()), steps, self.nested([*unpack, *stmt.body]), []))

    def sequence(self, iterable: ast.expr) -> ast.Name:
        """Bind an iterable to a name as a list (sequences and arrays are indexed in place)."""
        value = self.atom(iterable)
        return self.fresh_assign(ast.Call(ast.Name(self.sequence_name, ast.Load()), [value], []), prefix="_seq")

    @staticmethod
    def _item(target: ast.expr, sequence: ast.Name, index: ast.Name) -> ast.Assign:
        return ast.Assign([target], ast.Subscript(copied(sequence), copied(index), ast.Load()))

    def stmt_With(self, stmt: ast.With) -> None:
        # fence admits only `with srcgrad.no_grad():` blocks
        self.in_no_grad += 1
        try:
            for inner in stmt.body:
                self.origin = inner
                self.statement(inner)
        finally:
            self.in_no_grad -= 1

    # ---- assignment -------------------------------------------------------------------------
    def assign(self, targets: list[ast.expr], value: ast.expr) -> None:
        first, *rest = targets
        self.assign_one(first, value)
        for other in rest:
            self.assign_one(other, _load(first))

    def assign_one(self, target: ast.expr, value: ast.expr) -> None:
        if isinstance(target, ast.Name):
            rhs, opaque = self.value(value)
            current = self.current.get(target.id, target.id)  # the version a write in a block overwrites
            if isinstance(rhs, ast.Name) and rhs.id == current and self.depth:
                return
            if self.depth and current in _names(rhs) and not opaque:
                # the value reads what it overwrites: a temporary keeps the two apart, so the
                # adjoint holds the target's cotangent, zeroes it, then adds into the inputs
                rhs = self.fresh_assign(rhs)
            self.emit(ast.Assign([self.write(target.id)], rhs), opaque=opaque)
        elif isinstance(target, (ast.Tuple, ast.List)):
            self.unpack(target, value)
        elif isinstance(target, ast.Subscript):
            container = self.read(_root(target.value))
            if not isinstance(target.value, ast.Name):
                container = self.atom(target.value)
            self.setitem(container, self.index(target.slice), self.atom(value))
        else:
            raise located_error(self.info, target, "this assignment target is not supported")

    def unpack(self, target: ast.Tuple | ast.List, value: ast.expr) -> None:
        if isinstance(value, (ast.Tuple, ast.List)) and len(value.elts) == len(target.elts):
            parts = [self.atom(element) for element in value.elts]
            parts = [self.fresh_assign(p) if isinstance(p, ast.Name) else p for p in parts]
        else:
            whole = self.atom(value)
            parts = [ast.Subscript(copied(whole), ast.Constant(i), ast.Load()) for i in range(len(target.elts))]
        for element, part in zip(target.elts, parts):
            self.assign_one(element, part)

    def setitem(self, container: ast.expr, index: ast.expr, value: ast.expr) -> None:
        self.emit(ast.Assign([ast.Subscript(container, index, ast.Store())], value))

    def fresh_assign(self, rhs: ast.expr, opaque: bool = False, prefix: str = "_t") -> ast.Name:
        name = self.namer.fresh(prefix)
        self.emit(ast.Assign([ast.Name(name, ast.Store())], rhs), opaque=opaque)
        return ast.Name(name, ast.Load())


def _is_call_to(call: ast.expr, name: str) -> bool:
    return isinstance(call, ast.Call) and isinstance(call.func, ast.Name) and call.func.id == name


def _nonzero(expr: ast.expr) -> bool:
    return not (isinstance(expr, ast.Constant) and expr.value == 0)


def _root(expr: ast.expr) -> str:
    while isinstance(expr, (ast.Attribute, ast.Subscript)):
        expr = expr.value
    return expr.id if isinstance(expr, ast.Name) else ""


def _names(expr: ast.expr) -> set[str]:
    return {n.id for n in walk(expr) if isinstance(n, ast.Name)}


def _load(expr: ast.expr) -> ast.expr:
    copy = copied(expr)
    for node in walk(copy):
        if hasattr(node, "ctx"):
            node.ctx = ast.Load()
    return copy


class _Renamer(ast.NodeTransformer):
    """Reads renamed by `read` (to their current versions), lambdas left as they are. (A class
    of its own, not one made per call: a class made in a method is a reference cycle.)"""

    def __init__(self, read: Callable[[str], ast.Name]) -> None:
        self.read = read

    def visit_Name(self, node: ast.Name) -> ast.Name:
        return self.read(node.id) if isinstance(node.ctx, ast.Load) else node

    def visit_Lambda(self, node: ast.Lambda) -> ast.Lambda:
        return node

    def visit_NamedExpr(self, node: ast.NamedExpr) -> ast.expr:
        return self.visit(node.value)  # made a statement before (`Normalizer.walrus`)
