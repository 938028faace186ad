"""Forward mode: emit tangent code beside each statement of a normalized function.

Every active assignment `z = op(a, b)` is followed by `z_dot = <tangent of op>`, built from
the forward rule's per-argument terms of the arguments that carry a tangent. Control flow is
kept as written, so the tangent follows the path that runs, and nothing is recorded: there
is no tape. Lists carry tangent lists that grow and shrink with them (append, pop).
"""

from __future__ import annotations

import ast
import copy
import inspect
from typing import Any, Callable

from ..analysis import activity as analysis
from ..analysis.number_calls import NumberCalls
from ..analysis.scalars import scalar_names
from ..errors import SourceInfo
from ..failures import note_line
from ..frontend.resolve import ATTRIBUTE_PRIMALS, PACKED_METHODS, Callee, Resolver
from ..lowering.normalize import Normalized
from ..request import Callees, Request
from ..rules.registry import Rule, find_jvp_rule
from ..syntax.astquery import loads
from ..syntax.emit import Namespace, drop_calls, index_value, make_assign, make_call, receivers, simple_name, substitute
from ..syntax.fastast import fix_missing_locations
from ..syntax.folding import fold_constants
from ..syntax.naming import Namer
from .builder import Builder

_ELEMENTWISE_OPERATORS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.Mod)

class ForwardBuilder(Builder):
    """Builds `jvp_f(params, *, p_dot...) -> (out, out_dot)` for one normalized function."""

    def __init__(
        self,
        norm: Normalized,
        info: SourceInfo,
        resolver: Resolver,
        namer: Namer,
        tangent_params: dict[str, str],
        request: Request,
        callees: Callees,
        runtime_names: dict[str, Any],
    ) -> None:
        self.norm, self.info, self.resolver, self.namer = norm, info, resolver, namer
        self.tangent_params = tangent_params
        self.callee_jvp = callees.jvp
        self.namespace = Namespace(namer, lambda name: resolver.static_value(ast.Name(name, ast.Load())))
        self.rt = {name: self.namespace.bind(name, value) for name, value in runtime_names.items()}
        self.impure = (self.rt["call_tangent"], self.rt["call_jvp"], self.rt["call_method_jvp"])
        self.rule_decorator = "srcgrad.tangent"
        body = norm.node.body
        arguments = norm.node.args
        self.params = [a.arg for a in arguments.posonlyargs + arguments.args + arguments.kwonlyargs]
        self.returned = body[-1].value  # type: ignore[attr-defined]
        wrt = set(tangent_params)
        self.active = analysis.activity(body, wrt, loads(self.returned), self.carries_derivative)
        self.scalars = scalar_names(body, set(request.scalars), resolver.static_value, set(self.params),
                                    NumberCalls(resolver).result)
        for param, name in tangent_params.items():
            namer.tangents[param] = name

    # ---- public ---------------------------------------------------------------------
    def build(self, name: str) -> ast.FunctionDef:
        """The forward function: the primal's parameters, then keyword-only tangents."""
        body = self.norm.node.body
        untouched = sorted((self.active & set(self.params)) - set(self.tangent_params))
        stmts = [make_assign(self.tangent(p), self.zero(ast.Name(p, ast.Load()))) for p in untouched]
        stmts += self.block(body[:-1])
        out = copy.deepcopy(self.returned)
        stmts.append(ast.Return(ast.Tuple([out, self.tangent_or_zero(copy.deepcopy(self.returned))], ast.Load())))
        arguments = copy.deepcopy(self.norm.node.args)
        for param in self.tangent_params.values():
            arguments.kwonlyargs.append(ast.arg(param))
            arguments.kw_defaults.append(None)  # type: ignore[arg-type]
        definition = ast.FunctionDef(name=name, args=arguments, body=stmts, decorator_list=[], returns=None,
                                     type_comment=None, type_params=[])
        return definition

    # ---- statements ------------------------------------------------------------------
    def block(self, stmts: list[ast.stmt]) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for stmt in stmts:
            try:
                out.extend(self.statement(stmt))
            except Exception as error:
                note_line(error, getattr(stmt, "lineno", 0))
                raise
        return out

    def statement(self, stmt: ast.stmt) -> list[ast.stmt]:
        if isinstance(stmt, ast.If):
            return [ast.copy_location(ast.If(stmt.test, self.block(stmt.body) or [ast.Pass()], self.block(stmt.orelse)), stmt)]
        if isinstance(stmt, ast.For):
            return [ast.copy_location(ast.For(stmt.target, stmt.iter, self.block(stmt.body) or [ast.Pass()], []), stmt)]
        if isinstance(stmt, ast.While):
            return [ast.copy_location(ast.While(stmt.test, self.block(stmt.body) or [ast.Pass()], []), stmt)]
        if isinstance(stmt, (ast.Break, ast.Continue, ast.Pass)):
            return [stmt]
        return self.simple_statement(stmt)

    def assignment(self, stmt: ast.Assign) -> list[ast.stmt]:
        target = stmt.targets[0]
        assert isinstance(target, ast.Name), ast.dump(target)
        name = target.id
        value = stmt.value
        if name not in self.active:
            if self.carries_derivative(stmt) and isinstance(value, ast.Call):
                self._check_callable(value)
            return [stmt]
        ans = ast.Name(name, ast.Load())
        if not self.carries_derivative(stmt):
            return [stmt, make_assign(self.tangent(name), self.zero(ans))]
        if isinstance(value, ast.Call):
            return self.call(stmt, value)
        return self.with_tangent(stmt, lambda result: self.tangent_of_value(value, result) or self.zero(result))

    def with_tangent(self, stmt: ast.Assign, tangent_of: Callable[[ast.expr], ast.expr]) -> list[ast.stmt]:
        """`z = value` then `z_dot = tangent_of(z)`; when `value` reads z itself (`x = x * y`),
        the value goes into a fresh name first, so the tangent still sees the old z."""
        name = stmt.targets[0].id  # type: ignore[attr-defined]
        if name not in loads(stmt.value):
            return [stmt, make_assign(self.tangent(name), tangent_of(ast.Name(name, ast.Load())))]
        new = self.namer.fresh("_new")
        return [
            ast.copy_location(make_assign(new, stmt.value), stmt),
            make_assign(self.tangent(name), tangent_of(ast.Name(new, ast.Load()))),
            ast.copy_location(make_assign(name, ast.Name(new, ast.Load())), stmt),
        ]

    def tangent_of_value(self, value: ast.expr, ans: ast.expr) -> ast.expr | None:
        """The tangent of a non-call right-hand side, or None when it is zero."""
        if isinstance(value, ast.Name):
            return self.tangent_name(value)
        if isinstance(value, ast.Constant):
            return None
        if isinstance(value, (ast.BinOp, ast.UnaryOp)):
            operands = [value.left, value.right] if isinstance(value, ast.BinOp) else [value.operand]
            rule = find_jvp_rule(type(value.op), len(operands), ())
            if rule is None:
                raise self.located(value, "this operator has no forward derivative rule")
            return self.apply_rule(rule, ans, operands, {})
        if isinstance(value, ast.Subscript):
            base = self.tangent_name(value.value)
            return None if base is None else ast.Subscript(base, copy.deepcopy(value.slice), ast.Load())
        if isinstance(value, ast.Attribute):
            primal = ATTRIBUTE_PRIMALS.get(value.attr)
            rule = find_jvp_rule(primal, 1, ()) if primal is not None else None
            if rule is None:  # a field of a pytree node (NamedTuple, dataclass, registered class)
                base = self.tangent_name(value.value)
                return None if base is None else make_call(self.rt["getattr_tangent"], [base, value.value, ast.Constant(value.attr)])
            return self.apply_rule(rule, ans, [value.value], {})
        if isinstance(value, (ast.Tuple, ast.List)):
            return type(value)([self.tangent_or_zero(e) for e in value.elts], ast.Load())
        if isinstance(value, ast.Dict):
            if not any(self._is_active(v) for v in value.values):
                return None
            return ast.Dict([copy.deepcopy(k) for k in value.keys], [self.tangent_or_zero(v) for v in value.values])
        raise self.located(value, f"cannot differentiate `{ast.unparse(value)}`")

    def call(self, stmt: ast.Assign, call: ast.Call) -> list[ast.stmt]:
        name = stmt.targets[0].id  # type: ignore[attr-defined]
        ans = ast.Name(name, ast.Load())
        args = list(call.args)
        keywords = {k.arg: k.value for k in call.keywords}
        if not self._any_active(args + list(keywords.values()) + receivers(call)):
            self._check_callable(call)
            return [stmt, make_assign(self.tangent(name), self.zero(ans))]
        func = call.func
        if isinstance(func, ast.Attribute) and func.attr == "pop" and isinstance(func.value, ast.Name):
            popped = make_call(f"{self.tangent(func.value.id)}.pop", copy.deepcopy(args))
            return [stmt, make_assign(self.tangent(name), popped)]
        callee = self.resolver.callee(call)
        if callee.kind == "method":
            if func.attr in PACKED_METHODS and len(args) > 1:  # type: ignore[attr-defined]
                args = [ast.Tuple(args, ast.Load())]
            args = [func.value, *args]  # type: ignore[attr-defined]
            callee = Callee("rule", callee.value, callee.name)
        if callee.kind == "rule":
            rule = find_jvp_rule(callee.value, len(args), tuple(keywords))
            if rule is None:
                raise self.located(call, f"`{callee.name}` has no forward derivative rule for these arguments; "
                                    f"register one with @srcgrad.tangent({callee.name})")
            return self.with_tangent(stmt, lambda result: self.apply_rule(rule, result, args, keywords))
        if callee.kind in ("user", "dynamic"):
            return [self.split_call(stmt, call, callee)]
        if callee.kind == "nondiff":
            return [stmt, make_assign(self.tangent(name), self.zero(ans))]
        raise self._no_rule(call, callee)

    def split_call(self, stmt: ast.Assign, call: ast.Call, callee: Callee) -> ast.stmt:
        """`z = f(a, b)` becomes `z, z_dot = jvp_f(a, b, a_dot=...)` for f with source, and
        `z, z_dot = call_jvp(f, (a_dot, None), a, b)` when f is only known at run time."""
        name = stmt.targets[0].id  # type: ignore[attr-defined]
        if callee.kind == "user":
            params = list(inspect.signature(callee.value).parameters)
            positions = self._callee_positions(callee, call)
            values = list(call.args) + [k.value for k in call.keywords]
            mask = tuple(sorted({p for p, v in zip(positions, values) if self._is_active(v)}))
            with self.calling(call, callee, forward=True):
                function, tangent_names = self.callee_jvp(callee.value, mask)
            jvp_name = self.namespace.bind(f"jvp_{simple_name(callee.value)}", function)
            tangents = [ast.keyword(tangent_names[params[p]], self.tangent_or_zero(v))
                        for p, v in zip(positions, values) if p in mask]
            new_call = ast.Call(ast.Name(jvp_name, ast.Load()), call.args, call.keywords + tangents)
        else:
            for keyword in call.keywords:
                if self._is_active(keyword.value):
                    raise self.located(keyword.value, "a keyword argument of a call known only at run time "
                                        "cannot carry a derivative in forward mode; pass it by position")
            dots = ast.Tuple([self.tangent_name(a) or ast.Constant(None) for a in call.args], ast.Load())
            func = call.func
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and self._is_active(func.value):
                new_call = make_call(self.rt["call_method_jvp"], [func.value, self.tangent_name(func.value), ast.Constant(func.attr), dots, *call.args], call.keywords)
            elif isinstance(func, ast.Name) and self._is_active(func):  # `model(x)`: its `__call__`
                new_call = make_call(self.rt["call_method_jvp"], [func, self.tangent_name(func), ast.Constant("__call__"), dots, *call.args], call.keywords)
            else:
                new_call = make_call(self.rt["call_jvp"], [call.func, dots, *call.args], call.keywords)
        targets = ast.Tuple([ast.Name(name, ast.Store()), ast.Name(self.tangent(name), ast.Store())], ast.Store())
        return fix_missing_locations(ast.copy_location(ast.Assign([targets], new_call), stmt))

    def apply_rule(self, rule: Rule, ans: ast.expr, args: list[ast.expr], keywords: dict[str, ast.expr]) -> ast.expr:
        """The tangent of `ans = primal(*args, **keywords)` from a forward rule."""
        if not rule.inline or any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in rule.signature.parameters.values()):
            fn_name = self.namespace.bind(rule.fn.__name__, rule.fn)
            dots = ast.Tuple([self.tangent_name(a) or ast.Constant(None) for a in args], ast.Load())
            return make_call(self.rt["call_tangent"], [ast.Name(fn_name, ast.Load()), dots, ans, *args],
                             [ast.keyword(k, v) for k, v in keywords.items()])
        bound = rule.signature.bind(ast.Constant(None), ans, *args, **keywords)
        names = list(rule.signature.parameters)
        template, template_globals = rule.template()
        template = _without_default_keywords(template, set(names[2:]) - set(bound.arguments))
        substitutions: dict[str, ast.expr] = {}
        for param in rule.signature.parameters.values():
            substitutions[param.name] = bound.arguments.get(param.name, self._constant(param.default))
        for global_name, value in template_globals.items():
            substitutions[global_name] = ast.Name(self.namespace.bind(global_name, value), ast.Load())
        assert isinstance(template, ast.Tuple), f"forward rule {rule.fn.__name__} must return a tuple"
        terms = []
        for param, element in zip(names[2:], template.elts):
            arg = bound.arguments.get(param)
            tangent = self.tangent_name(arg) if isinstance(arg, ast.expr) else None
            if tangent is None or (isinstance(element, ast.Constant) and element.value is None):
                continue
            terms.append((arg, substitute(element, {**substitutions, names[0]: tangent})))
        if not terms:
            return self.zero(ans)
        wrapper = substitutions.get("broadcast_like")
        operands = [a for a in args if isinstance(a, ast.expr)]
        beside_numbers = len(terms) == 1 and all(self._is_scalar(a) for a in operands if a is not terms[0][0])
        if all(self._is_scalar(a) for a in [ans, *operands, *keywords.values()]) or (
                rule.primal in _ELEMENTWISE_OPERATORS and (len(terms) > 1 or beside_numbers)):
            # the terms already have the result's shape (a sum of both operands' tangents,
            # or one operand's tangent beside numbers; not a number's tangent beside an array)
            terms = [(arg, drop_calls(term, wrapper)) for arg, term in terms]
        terms = [(arg, fold_constants(term)) for arg, term in terms]
        nonzero = [(arg, term) for arg, term in terms if not _is_zeros(term)]
        terms = nonzero or terms[:1]  # a term of zeros adds nothing to a term of the result's shape
        total = terms[0][1]
        for _, term in terms[1:]:
            total = ast.BinOp(total, ast.Add(), term)
        return fold_constants(total)

    def setitem(self, stmt: ast.Assign) -> list[ast.stmt]:
        target = stmt.targets[0]
        container = target.value.id  # type: ignore[attr-defined]
        if container not in self.active or not self.carries_derivative(stmt):
            return [stmt]
        index = index_value(target.slice)  # type: ignore[attr-defined]
        tangent = self.tangent(container)
        updated = make_call(self.rt["with_item"], [ast.Name(tangent, ast.Load()), index, self.tangent_or_zero(stmt.value)])
        return [stmt, make_assign(tangent, updated)]

    def expression_statement(self, stmt: ast.Expr) -> list[ast.stmt]:
        call = stmt.value
        if id(stmt) in self.norm.opaque or not isinstance(call, ast.Call):
            return [stmt]
        func = call.func
        if isinstance(func, ast.Attribute) and func.attr in ("append", "pop") and isinstance(func.value, ast.Name):
            if func.value.id not in self.active:
                return [stmt]
            lst = self.tangent(func.value.id)
            args = [self.tangent_or_zero(call.args[0])] if func.attr == "append" else copy.deepcopy(call.args)
            return [stmt, ast.Expr(make_call(f"{lst}.{func.attr}", args))]
        if self._any_active(list(call.args) + [k.value for k in call.keywords] + receivers(call)):
            callee = self.resolver.callee(call)
            if callee.kind != "nondiff":
                raise self.located(call, f"the result of `{callee.name}(...)` is discarded but it "
                                    "takes a differentiated value; if it mutates that value, srcgrad cannot follow")
        return [stmt]

    # ---- helpers -------------------------------------------------------------------------
    def tangent(self, name: str) -> str:
        return self.namer.tangent(name)

    def tangent_name(self, expr: ast.expr | None) -> ast.expr | None:
        """The tangent variable of an active name, else None (a zero tangent)."""
        if isinstance(expr, ast.Name) and expr.id in self.active:
            return ast.Name(self.tangent(expr.id), ast.Load())
        return None

    def tangent_or_zero(self, expr: ast.expr) -> ast.expr:
        return self.tangent_name(expr) or self.zero(expr)

    def zero(self, expr: ast.expr) -> ast.expr:
        """The zero tangent of `expr`'s value: `0.0` for a number, else zeros of its shape."""
        if self._is_scalar(expr):
            return ast.Constant(0.0)
        return make_call(self.rt["zero_tangent"], [copy.deepcopy(expr)])


def _is_zeros(term: ast.expr) -> bool:
    """Whether a folded term is `np.zeros(...)` (a rule's term for a branch not taken)."""
    return isinstance(term, ast.Call) and ast.unparse(term.func) in ("np.zeros", "numpy.zeros")


def _without_default_keywords(template: ast.expr, unbound: set[str]) -> ast.expr:
    """Drop `axis=axis` from calls in a template when the caller left `axis` at its default:
    the rule mirrors the primal's signature, so the callee's default is the same."""

    return _DefaultKeywords(unbound).visit(copy.deepcopy(template)) if unbound else template


class _DefaultKeywords(ast.NodeTransformer):
    """Drops the keywords `k=k` of the names in `unbound` (see `_without_default_keywords`)."""

    def __init__(self, unbound: set[str]) -> None:
        self.unbound = unbound

    def visit_Call(self, node: ast.Call) -> ast.Call:
        self.generic_visit(node)
        node.keywords = [k for k in node.keywords
                         if not (isinstance(k.value, ast.Name) and k.value.id == k.arg and k.arg in self.unbound)]
        return node
