"""What the reverse and forward builders share: activity queries, call checks, constants."""

from __future__ import annotations

import ast
import inspect
from typing import Any

from ..errors import SourceInfo, SrcGradError, calling, located_error, plain_name
from ..facts import is_pure as is_pure_helper
from ..frontend.resolve import MISSING, Callee, Resolver
from ..lowering.normalize import Normalized
from ..rules.registry import is_template_helper
from ..syntax.emit import Namespace
from ..syntax.fastast import fix_missing_locations, walk


class Builder:
    """Base of `ReverseBuilder` and `ForwardBuilder`; subclasses set the attributes below."""

    norm: Normalized
    info: SourceInfo
    resolver: Resolver
    namespace: Namespace
    active: set[str]
    scalars: set[str]
    impure: tuple[str, ...] = ()  # namespace names of helpers that must run even if unused
    rule_decorator = "srcgrad.adjoint"  # what the "no rule" error tells the user to use

    def is_pure(self, call: ast.Call) -> bool:
        """Calls a dead assignment may be dropped with: rules' primals and helpers."""
        func = call.func
        if isinstance(func, ast.Name) and func.id in self.namespace.values:
            value = self.namespace.values[func.id]
            pure = is_pure_helper(value) or is_template_helper(value) or _is_numpy_function(value)
            return pure and func.id not in self.impure
        return self.resolver.callee(call).kind in ("rule", "method")

    def simple_statement(self, stmt: ast.stmt) -> Any:
        """Differentiate an assignment, item assignment or expression statement of the normalized
        form by the builder's own method for it; anything else cannot be here."""
        if isinstance(stmt, ast.Assign) and isinstance(stmt.targets[0], ast.Subscript):
            return self.setitem(stmt)  # type: ignore[attr-defined]
        if isinstance(stmt, ast.Assign):
            return self.assignment(stmt)  # type: ignore[attr-defined]
        if isinstance(stmt, ast.Expr):
            return self.expression_statement(stmt)  # type: ignore[attr-defined]
        raise self.located(stmt, f"cannot differentiate {plain_name(stmt)} here")

    def value_of(self, expr: ast.expr) -> Any:
        """The object a name or `module.attr` of the generated code refers to, or None."""
        if isinstance(expr, ast.Name) and expr.id in self.namespace.values:
            return self.namespace.values[expr.id]
        if isinstance(expr, ast.Attribute):
            base = self.value_of(expr.value)
            return None if base is None else getattr(base, expr.attr, None)
        value = self.resolver.static_value(expr)
        return None if value is MISSING else value

    def bind(self, preferred: str, value: Any) -> str:
        """The name under which the generated code calls `value` (a runtime helper)."""
        return self.namespace.bind(preferred, value)

    def name_of(self, helper: Any) -> str | None:
        """The name the generated code already has for `helper`, if any."""
        return self.namespace.by_id.get(id(helper))

    def carries_derivative(self, stmt: ast.stmt) -> bool:
        return id(stmt) not in self.norm.opaque and id(stmt) not in self.norm.constant

    def _is_scalar(self, expr: ast.expr) -> bool:
        if isinstance(expr, ast.Constant):
            return isinstance(expr.value, (int, float)) and not isinstance(expr.value, bool)
        return isinstance(expr, ast.Name) and expr.id in self.scalars

    def _is_active(self, expr: ast.expr) -> bool:
        kind = type(expr)
        if kind is ast.Name:  # the usual operand of normalized code, answered without a walk
            return expr.id in self.active  # type: ignore[attr-defined]
        if kind is ast.Constant:
            return False
        return any(isinstance(n, ast.Name) and n.id in self.active for n in walk(expr))

    def _any_active(self, exprs: list[ast.expr]) -> bool:
        return any(self._is_active(e) for e in exprs)

    def _check_callable(self, call: ast.Call) -> None:
        callee = self.resolver.callee(call)
        if callee.kind == "unknown" and self._any_active(list(call.args) + [k.value for k in call.keywords]):
            raise self._no_rule(call, callee)

    def located(self, node: ast.AST, message: str) -> SrcGradError:
        """A NotDifferentiableError at `node` of the normalized code. The parts normalizing
        made get their positions (their nearest positioned parent's) only now: the builder
        needs them only for error messages, and placing every new part costs on every call."""
        if isinstance(node, (ast.expr, ast.stmt)) and "lineno" not in node.__dict__:
            fix_missing_locations(self.norm.node)
        return located_error(self.info, node, message)

    def calling(self, call: ast.Call, callee: Callee, forward: bool = False) -> Any:
        """Around the transform of the callee of `call`: a refusal inside it names this call."""
        if "lineno" not in call.__dict__:
            fix_missing_locations(self.norm.node)
        return calling(self.info, call, self.resolver.parsed.fn.__qualname__, callee.value, forward)

    def _no_rule(self, call: ast.Call, callee: Callee) -> Exception:
        return self.located(
            call,
            f"`{callee.name}` has no derivative rule and no Python source srcgrad can read; "
            f"register one with @{self.rule_decorator}({callee.name})",
        )

    def _callee_positions(self, callee: Callee, call: ast.Call) -> list[int]:
        """The parameter position each argument of `call` binds to (keywords by name)."""
        params = list(inspect.signature(callee.value).parameters)
        return list(range(len(call.args))) + [params.index(k.arg) for k in call.keywords]

    def _constant(self, value: Any) -> ast.expr:
        """A rule parameter's default value as an expression of the generated code."""
        if not literal(value):
            return ast.Name(self.namespace.bind("_default", value), ast.Load())
        if isinstance(value, tuple):
            return ast.Tuple([ast.Constant(v) for v in value], ast.Load())
        return ast.Constant(value)


def literal(value: Any) -> bool:
    """Whether `Builder._constant` writes `value` as a literal, not as a name bound to it."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return True
    return isinstance(value, tuple) and all(isinstance(v, (int, float, str, type(None))) for v in value)


def _is_numpy_function(value: Any) -> bool:
    """NumPy's functions and ufuncs: pure where generated code calls them by name (the
    writing ones are rewritten or refused before code is generated, see `mutators.py`)."""
    return (getattr(value, "__module__", "") or "").startswith("numpy")
