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

from . import walrus
from .errors import SourceInfo, located_error, plain_name
from .fastast import fix_missing_locations, location, walk
from .folding import is_literal, literal
from .naming import Namer

_OPAQUE_ATTRS = {"shape", "ndim", "size", "dtype", "itemsize", "nbytes"}


@dataclass
class Normalized:
    """The normalized function and what the later passes need to know about it."""

    node: ast.FunctionDef
    opaque: set[int] = field(default_factory=set)  # ids of statements with no derivative
    constant: set[int] = field(default_factory=set)  # ids of statements inside no_grad


class Normalizer:
    """Rewrites one function body; `is_opaque_call` says which calls carry no derivative."""

    def __init__(
        self,
        info: SourceInfo,
        namer: Namer,
        params: list[str],
        is_opaque_call: Callable[[ast.Call], bool],
    ) -> None:
        self.info = info
        self.namer = namer
        # per origin node: the node (held, so that its id is not reused by a later node while
        # the entry exists: lowered comprehensions' statements are freed early) and its position
        self.positions: dict[int, tuple[ast.AST, dict[str, Any]]] = {}
        self.current = {p: p for p in params}
        self.defined = set(params)
        self.depth = 0
        self.is_opaque_call = is_opaque_call
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
        return _Renamer(self.read).visit(_copy(expr))

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
        if isinstance(value, ast.Call) and not self.is_opaque_call(value):
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
            self.setitem(container, _copy(index), new)
            return
        raise located_error(self.info, target, "this augmented assignment target is not supported")

    def stmt_If(self, stmt: ast.If) -> None:
        decision = self.fresh_assign(self.rename(stmt.test), opaque=True, prefix="_cond")
        self.emit(ast.If(decision, self.nested(stmt.body), self.nested(stmt.orelse) if stmt.orelse else []))

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
        return ast.Assign([target], ast.Subscript(_copy(sequence), _copy(index), ast.Load()))

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
            parts = [ast.Subscript(_copy(whole), ast.Constant(i), ast.Load()) for i in range(len(target.elts))]
        for element, part in zip(target.elts, parts):
            self.assign_one(element, part)

    def setitem(self, container: ast.expr, index: ast.expr, value: ast.expr) -> None:
        self.emit(ast.Assign([ast.Subscript(container, index, ast.Store())], value))

    def fresh_assign(self, rhs: ast.expr, opaque: bool = False, prefix: str = "_t") -> ast.Name:
        name = self.namer.fresh(prefix)
        self.emit(ast.Assign([ast.Name(name, ast.Store())], rhs), opaque=opaque)
        return ast.Name(name, ast.Load())

    # ---- expressions --------------------------------------------------------------------
    def atom(self, expr: ast.expr) -> ast.expr:
        """A name or constant holding the value of `expr` (emitting statements as needed)."""
        if isinstance(expr, ast.Name):
            return self.read(expr.id)
        if is_literal(expr):
            return literal(expr)
        if isinstance(expr, ast.Attribute) and self._is_global_chain(expr):
            return expr
        rhs, opaque = self.value(expr)
        if isinstance(rhs, ast.Name) or is_literal(rhs):
            return rhs
        return self.fresh_assign(rhs, opaque=opaque)

    def value(self, expr: ast.expr) -> tuple[ast.expr, bool]:
        """One operation on atoms, and whether it is opaque (carries no derivative)."""
        result, opaque = self._value(expr)
        if not hasattr(result, "lineno") or isinstance(result, ast.Name):
            ast.copy_location(result, expr)
        return result, opaque

    def _value(self, expr: ast.expr) -> tuple[ast.expr, bool]:
        if isinstance(expr, ast.Name) or is_literal(expr):
            return self.atom(expr), False
        if isinstance(expr, (ast.Compare, ast.JoinedStr)) or (
            isinstance(expr, ast.UnaryOp) and isinstance(expr.op, (ast.Not, ast.Invert))
        ):
            return self.rename(expr), True
        if isinstance(expr, ast.Attribute):
            if expr.attr in _OPAQUE_ATTRS or self._is_global_chain(expr):
                return self.rename(expr), expr.attr in _OPAQUE_ATTRS
            return ast.Attribute(self.atom(expr.value), expr.attr, ast.Load()), False
        if isinstance(expr, ast.BinOp):
            return ast.BinOp(self.atom(expr.left), expr.op, self.atom(expr.right)), False
        if isinstance(expr, ast.UnaryOp):
            return ast.UnaryOp(expr.op, self.atom(expr.operand)), False
        if isinstance(expr, ast.Call):
            if self.is_opaque_call(expr):
                return self.rename(expr), True
            return self.call(expr), False
        if isinstance(expr, ast.Subscript):
            return ast.Subscript(self.atom(expr.value), self.index(expr.slice), ast.Load()), False
        if isinstance(expr, (ast.Tuple, ast.List)):
            return type(expr)([self.atom(e) for e in expr.elts], ast.Load()), False
        if isinstance(expr, ast.Dict):
            if any(k is None for k in expr.keys):
                raise located_error(self.info, expr, "`**` in a dict display is not supported")
            return ast.Dict([self.atom(k) for k in expr.keys], [self.atom(v) for v in expr.values]), False
        if isinstance(expr, ast.NamedExpr):
            return self.walrus(expr), False
        if isinstance(expr, ast.IfExp):
            return self.lower_ifexp(expr), False
        if isinstance(expr, ast.BoolOp):
            return self.lower_boolop(expr), False
        if isinstance(expr, (ast.ListComp, ast.GeneratorExp, ast.SetComp, ast.DictComp)):
            return self.lower_comprehension(expr), False
        if isinstance(expr, ast.Lambda):
            raise located_error(self.info, expr, "a lambda used as a value cannot be "
                                "differentiated; call it where you need its value instead (`[f(y) for y in xs]` "
                                "rather than `map(f, xs)`)")
        raise located_error(self.info, expr, f"{plain_name(expr)} is not supported "
                            "here; compute the value on its own line first, or outside the function")

    def call(self, call: ast.Call) -> ast.expr:
        func = call.func
        if isinstance(func, ast.Name) and func.id in self.lambdas:
            return self.inline_lambda(self.lambdas[func.id], call)
        if isinstance(func, ast.Attribute) and not self._is_global_chain(func):
            func = ast.Attribute(self.atom(func.value), func.attr, ast.Load())
        elif isinstance(func, ast.Name):
            func = self.read(func.id)
        elif not isinstance(func, ast.Attribute):
            func = self.atom(func)
        args = [self.atom(a) for a in call.args]
        keywords = [ast.keyword(k.arg, self.atom(k.value)) for k in call.keywords]
        return ast.Call(func, args, keywords)

    def inline_lambda(self, lam: ast.Lambda, call: ast.Call) -> ast.expr:
        params = [a.arg for a in lam.args.args]
        if len(call.args) != len(params) or call.keywords:
            raise located_error(self.info, call, "call this lambda with exactly its positional arguments")
        bound = {p: self.atom(a) for p, a in zip(params, call.args)}
        saved = dict(self.current)
        saved_lambdas = self.lambdas
        self.lambdas = {k: v for k, v in self.lambdas.items() if k not in params}
        for param, atom in bound.items():
            if isinstance(atom, ast.Name):
                self.current[param] = atom.id
            else:
                self.current[param] = self.fresh_assign(atom).id
        try:
            result = self.atom(lam.body)
        finally:
            self.current = saved
            self.lambdas = saved_lambdas
        return result

    def index(self, expr: ast.expr) -> ast.expr:
        if isinstance(expr, ast.Slice):
            parts = [None if p is None else self.atom(p) for p in (expr.lower, expr.upper, expr.step)]
            return ast.Slice(*parts)
        if isinstance(expr, ast.Tuple):
            return ast.Tuple([self.index(e) for e in expr.elts], ast.Load())
        return self.atom(expr)

    # ---- lowering ----------------------------------------------------------------------
    def lower_ifexp(self, expr: ast.IfExp) -> ast.expr:
        name = self.namer.fresh("_t")
        store = ast.Name(name, ast.Store())
        lowered = ast.If(expr.test, [ast.Assign([store], expr.body)], [ast.Assign([_copy(store)], expr.orelse)])
        self._lower_into(lowered, name)
        return ast.Name(name, ast.Load())

    def lower_boolop(self, expr: ast.BoolOp) -> ast.expr:
        name = self.namer.fresh("_t")
        load = ast.Name(name, ast.Load())
        stmts: list[ast.stmt] = [ast.Assign([ast.Name(name, ast.Store())], expr.values[0])]
        for value in expr.values[1:]:
            test = load if isinstance(expr.op, ast.And) else ast.UnaryOp(ast.Not(), load)
            stmts = stmts + [ast.If(test, [ast.Assign([ast.Name(name, ast.Store())], value)], [])]
        for stmt in stmts:
            self._lower_into(stmt, name)
        return load

    def lower_comprehension(self, expr: ast.expr) -> ast.expr:
        name = self.namer.fresh("_t")
        load = ast.Name(name, ast.Load())
        if isinstance(expr, ast.DictComp):
            start: ast.expr = ast.Dict([], [])
            body: ast.stmt = ast.Assign([ast.Subscript(load, expr.key, ast.Store())], expr.value)
        else:
            start = ast.List([], ast.Load())
            method = ast.Attribute(load, "append", ast.Load())
            body = ast.Expr(ast.Call(method, [expr.elt], []))
        renames = {}
        for generator in expr.generators:
            for target in walk(generator.target):
                if isinstance(target, ast.Name):
                    renames[target.id] = self.namer.fresh("_" + target.id.lstrip("_") + "_")
        for generator in reversed(expr.generators):
            for condition in reversed(generator.ifs):
                body = ast.If(condition, [body], [])
            body = ast.For(generator.target, generator.iter, [body], [])
        body = _rename_names(body, renames)
        self._lower_into(ast.Assign([ast.Name(name, ast.Store())], start), name)
        self._lower_into(body, name)
        if isinstance(expr, ast.SetComp):
            return ast.Call(ast.Name("set", ast.Load()), [load], [])
        return load

    def _lower_into(self, stmt: ast.stmt, name: str) -> None:
        self._located(stmt, self.origin)
        self.statement(fix_missing_locations(stmt))

    def _is_global_chain(self, expr: ast.expr) -> bool:
        """`np.linalg.norm`-like chains rooted at a name that is not a local variable."""
        while isinstance(expr, ast.Attribute):
            expr = expr.value
        return isinstance(expr, ast.Name) and expr.id not in self.current and expr.id not in self.defined


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
    copy = _copy(expr)
    for node in walk(copy):
        if hasattr(node, "ctx"):
            node.ctx = ast.Load()
    return copy


def _copy(node: ast.AST) -> ast.AST:
    import copy

    return copy.deepcopy(node)


def _rename_names(node: ast.AST, renames: dict[str, str]) -> ast.AST:
    for child in walk(node):
        if isinstance(child, ast.Name) and child.id in renames:
            child.id = renames[child.id]
    return node


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
