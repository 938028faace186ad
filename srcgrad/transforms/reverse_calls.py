"""Reverse mode, calls: rules inlined from their templates, and calls of Python functions
split into a vjp call and its pullback (or re-run backward, for code differentiated again).
"""

from __future__ import annotations

import ast
import copy
from typing import Any

from ..frontend.resolve import PACKED_METHODS, Callee
from ..rules.registry import find_vjp_rule
from ..syntax.astquery import statements
from ..syntax.emit import instantiate_rule, make_assign, make_call, receivers, simple_name
from ..syntax.fastast import fix_missing_locations

_ELEMENTWISE_OPERATORS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.Mod)


class CallsMixin:
    """The calls of `ReverseBuilder` (reverse.py), whose state they use."""

    def call(self, stmt: ast.Assign, call: ast.Call, g: ast.expr, ans: ast.expr) -> tuple[list, list]:
        callee = self.resolver.callee(call)
        args = list(call.args)
        keywords = {k.arg: k.value for k in call.keywords}
        if not self._any_active(args + list(keywords.values()) + receivers(call)):
            return [stmt], []
        if callee.kind == "method":
            receiver = call.func.value  # type: ignore[attr-defined]
            method = call.func.attr  # type: ignore[attr-defined]
            if method in PACKED_METHODS and len(args) > 1:
                args = [ast.Tuple(args, ast.Load())]
            args = [receiver, *args]
            callee = Callee("rule", callee.value, callee.name)
        if callee.kind == "rule":
            rule = find_vjp_rule(callee.value, len(args), tuple(keywords))
            if rule is None:
                raise self.located(call, f"`{callee.name}` has a derivative rule, but not for these arguments; "
                                    "check the call or register one with @srcgrad.adjoint")
            return [stmt], self.apply_rule(rule, g, ans, args, keywords, stmt)
        if callee.kind in ("user", "dynamic"):
            return self.split_call(stmt, call, callee, g)
        raise self._no_rule(call, callee)

    def split_call(self, stmt: ast.Assign, call: ast.Call, callee: Callee, g: ast.expr) -> tuple[list, list]:
        """`z = f(a, b)` for f with Python source: `z, pb = vjp_f(a, b)` and `pb(z_bar)`."""
        if self.higher_order:
            return self.recomputed_call(stmt, call, callee, g)
        pullback = self.pullback_name(stmt)
        self.shape_sensitive = True
        args = list(call.args) + [k.value for k in call.keywords]
        if callee.kind == "user":
            positions = self._callee_positions(callee, call)
            mask = tuple(sorted({p for p, a in zip(positions, args) if self._is_active(a)}))
            with self.calling(call, callee):
                cell = self.callee_vjp(callee.value, mask)
            vjp_name = self.namespace.bind(f"vjp_{simple_name(callee.value)}", cell)
            func: ast.expr = ast.Name(vjp_name, ast.Load())
            new_call = ast.Call(func, call.args, call.keywords)
            picks = [positions[i] for i in range(len(args))]
            cotangent_of = {i: pick for i, pick in enumerate(picks)}
        else:
            receiver, method = self._active_receiver(call)
            if receiver is None:
                new_call = make_call(self.rt["call_vjp"], [call.func, *call.args], call.keywords)
            else:  # a method of a differentiated object: `self` gets a cotangent too
                new_call = make_call(self.rt["call_method_vjp"], [receiver, ast.Constant(method), *call.args], call.keywords)
                args = [receiver, *args]
            cotangent_of = {i: i for i in range(len(args))}
        target = stmt.targets[0]
        forward = ast.Assign([ast.Tuple([target, ast.Name(pullback, ast.Store())], ast.Store())], new_call)
        ast.copy_location(forward, stmt)
        results = self.namer.fresh("_c")
        backward = [make_assign(results, make_call(pullback, [g]))]
        pairs = [(a, ast.Subscript(ast.Name(results, ast.Load()), ast.Constant(cotangent_of[i]), ast.Load())) for i, a in enumerate(args)]
        backward += self.accumulate(pairs)
        forward = fix_missing_locations(forward)
        if not self.depth:
            return [forward], backward
        save, restore = self.tape_pair(pullback, stmt)
        return [save, forward], [*backward, restore]

    def pullback_name(self, stmt: ast.Assign) -> str:
        """The pullback of a split call: names are handed out in source order (the backward
        sweep is built last statement first), to the calls `split_call` may meet."""
        if self.pullbacks is None:
            self.pullbacks = {}
            for candidate in statements(self.norm.node.body):
                if self._may_split(candidate):
                    self.pullbacks[id(candidate)] = self.namer.fresh("_pullback")
        name = self.pullbacks.get(id(stmt))
        return name if name is not None else self.namer.fresh("_pullback")

    def _may_split(self, stmt: ast.stmt) -> bool:
        """Whether `stmt` is `name = f(...)` of an active name, f with Python source, taking an active value."""
        if type(stmt) is not ast.Assign or type(stmt.value) is not ast.Call or type(stmt.targets[0]) is not ast.Name:
            return False
        call = stmt.value
        if not self.carries_derivative(stmt) or stmt.targets[0].id not in self.active \
                or not self._any_active(list(call.args) + [k.value for k in call.keywords] + receivers(call)):
            return False
        return self.resolver.callee(call).kind in ("user", "dynamic")

    def _active_receiver(self, call: ast.Call) -> tuple[ast.expr | None, str]:
        """The differentiated object a call found at run time is a method of (`model.pred(x)`,
        or `model(x)`, which calls `__call__`), and the method's name; else `(None, "")`."""
        func = call.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and self._is_active(func.value):
            return ast.Name(func.value.id, ast.Load()), func.attr
        if isinstance(func, ast.Name) and self._is_active(func):
            return ast.Name(func.id, ast.Load()), "__call__"
        return None, ""

    def recomputed_call(self, stmt: ast.Assign, call: ast.Call, callee: Callee, g: ast.expr) -> tuple[list, list]:
        """`z = f(a, b)` forward and `backward_f(a, b, _out_bar=z_bar)` backward, which runs
        f's sweeps again: no pullback closure, so the code can be differentiated again."""
        if callee.kind != "user" or self.callee_backward is None:
            receiver, method = self._active_receiver(call)
            if receiver is not None:
                raise self.located(call, f"a higher-order derivative through the method call `{callee.name}(...)` "
                                    f"is not supported; call the method through its class by name: "
                                    f"`ClassName.{method}({ast.unparse(receiver)}, ...)`")
            raise self.located(call, f"a higher-order derivative through `{callee.name}(...)`, whose "
                                "target is only known at run time, is not supported; call a function by its name")
        self.shape_sensitive = True
        args = list(call.args) + [k.value for k in call.keywords]
        positions = self._callee_positions(callee, call)
        mask = tuple(sorted({p for p, a in zip(positions, args) if self._is_active(a)}))
        with self.calling(call, callee):
            function, seed_param = self.callee_backward(callee.value, mask)
        name = self.namespace.bind(f"backward_{simple_name(callee.value)}", function)
        results = self.namer.fresh("_c")
        keywords = [*copy.deepcopy(call.keywords), ast.keyword(seed_param, g)]
        backward = [make_assign(results, ast.Call(ast.Name(name, ast.Load()), copy.deepcopy(call.args), keywords))]
        pairs = [(a, ast.Subscript(ast.Name(results, ast.Load()), ast.Constant(p), ast.Load())) for p, a in zip(positions, args)]
        return [stmt], backward + self.accumulate(pairs)

    def apply_rule(self, rule: Any, g: ast.expr, ans: ast.expr, args: list, keywords: dict, stmt: ast.stmt) -> list[ast.stmt]:
        bound = rule.arguments(g, ans, *args, **keywords)
        diff_args = [bound.get(name) for name, _ in rule.defaults[2:]]
        plan = self.rule_plans.get(id(rule))
        if plan is None:
            plan = self.rule_plans[id(rule)] = self._rule_plan(rule)
        template, fixed, objects, plain, reshapes = plan
        self.shape_sensitive = self.shape_sensitive or reshapes
        if template is None:
            fn_name = self.namespace.bind(rule.fn.__name__, rule.fn)
            results = self.namer.fresh("_c")
            invoke = make_call(self.rt["call_rule"], [ast.Name(fn_name, ast.Load()), g, ans, *args], [ast.keyword(k, v) for k, v in keywords.items()])
            pairs = [(a, ast.Subscript(ast.Name(results, ast.Load()), ast.Constant(i), ast.Load())) for i, a in enumerate(args)]
            return [make_assign(results, invoke)] + self.accumulate(pairs)
        substitutions = {**fixed, **bound}  # the arguments, else the defaults; the helpers' names
        for name, default in objects:  # defaults the code must name (made only when used)
            if name not in bound:
                substitutions[name] = self._constant(default)
        drop: bool | tuple[bool, ...] = False  # which `unbroadcast` calls have nothing to do
        if all(self._is_scalar(a) for a in [ans, *args, *keywords.values()]):
            drop = True
        elif rule.primal in _ELEMENTWISE_OPERATORS and isinstance(template, ast.Tuple) and len(args) == 2:
            # `a * c` with c a number, or `a * a`: the result has a's shape already.
            same = isinstance(args[0], ast.Name) and isinstance(args[1], ast.Name) and args[0].id == args[1].id
            drop = tuple(same or self._is_scalar(args[1 - i]) for i in range(len(template.elts)))
        needed = tuple(isinstance(a, ast.Name) and a.id in self.active for a in diff_args) if plain else ()
        expr = instantiate_rule(template, substitutions, drop if "unbroadcast" in substitutions else False, needed)
        if plain:
            pairs = [(a, e) for a, e in zip(diff_args, expr.elts) if a is not None]
            return self.accumulate(pairs)
        results = self.namer.fresh("_c")
        pairs = [(a, ast.Subscript(ast.Name(results, ast.Load()), ast.Constant(i), ast.Load())) for i, a in enumerate(diff_args) if a is not None]
        return [make_assign(results, expr)] + self.accumulate(pairs)
