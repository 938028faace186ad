"""Three-address form of expressions: the half of `normalize.Normalizer` that lowers values.

Every value becomes an atom (a name or a constant) computed by one operation on atoms
per statement; conditional expressions, `and`/`or` values and comprehensions become
statements (`if`, `for`), and lambdas are inlined where they are called.
"""

from __future__ import annotations

import ast
import copy

from ..errors import located_error, plain_name
from ..syntax.fastast import fix_missing_locations, walk
from ..syntax.folding import is_literal, literal

_OPAQUE_ATTRS = {"shape", "ndim", "size", "dtype", "itemsize", "nbytes"}


class ExpressionLowering:
    """The expression methods of `Normalizer` (a base class of it, kept apart to be read on
    its own). They use the normalizer's names (`read`, `rename`, `walrus`), its emission
    (`fresh_assign`, `statement`, `_located`) and its state (`info`, `namer`, `current`,
    `defined`, `lambdas`, `origin`, `calls`)."""

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
            if self.calls.is_opaque_call(expr):
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
        lowered = ast.If(expr.test, [ast.Assign([store], expr.body)], [ast.Assign([copied(store)], expr.orelse)])
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


def copied(node: ast.AST) -> ast.AST:
    """A deep copy of `node` (a part used twice must not be one node in two places)."""
    return copy.deepcopy(node)


def _rename_names(node: ast.AST, renames: dict[str, str]) -> ast.AST:
    for child in walk(node):
        if isinstance(child, ast.Name) and child.id in renames:
            child.id = renames[child.id]
    return node
