"""What a call in the user's code refers to, decided once at transform time."""

from __future__ import annotations

import ast
import logging
import types
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..facts import is_machinery
from ..rules import array_vjp
from ..rules.registry import has_jvp_rule, has_vjp_rule, is_nondifferentiable
from ..runtime import core as runtime
from .depends import Dependencies
from .parse import MISSING, ParsedFunction, lookup

# Array methods, and the function whose rule differentiates `x.method(...)` as `f(x, ...)`.
METHOD_PRIMALS: dict[str, Any] = {
    "sum": np.sum, "mean": np.mean, "prod": np.prod, "max": np.max, "min": np.min,
    "var": np.var, "std": np.std, "dot": np.dot, "reshape": np.reshape,
    "transpose": np.transpose, "ravel": np.ravel, "squeeze": np.squeeze,
    "swapaxes": np.swapaxes, "clip": np.clip, "cumsum": np.cumsum, "trace": np.trace,
    "diagonal": np.diagonal, "conj": np.conj, "conjugate": np.conj, "repeat": np.repeat,
    "flatten": getattr(array_vjp, "flatten", None), "copy": getattr(array_vjp, "copy", None),
    "astype": getattr(array_vjp, "astype", None), "item": getattr(array_vjp, "item", None),
    "items": runtime.dict_items, "values": runtime.dict_values, "get": runtime.dict_get,
}
PACKED_METHODS = {"reshape", "transpose"}  # x.reshape(2, 3) means np.reshape(x, (2, 3))
NONDIFF_METHODS = {
    "argmax", "argmin", "argsort", "nonzero", "any", "all", "keys", "index", "count",
    "startswith", "endswith", "format", "join", "split", "isdigit",
}
ATTRIBUTE_PRIMALS: dict[str, Any] = {"T": np.transpose, "real": np.real, "imag": np.imag}


@dataclass(frozen=True)
class Callee:
    """How one call is differentiated: by a rule, a user function's source, or at run time."""

    kind: str  # "rule", "nondiff", "user", "method", "dynamic", "unknown"
    value: Any = None
    name: str = ""


class Resolver:
    """Resolves names and calls of one parsed function against its globals and closure."""

    def __init__(self, parsed: ParsedFunction, injected: dict[str, Any], local_names: set[str],
                 deps: Dependencies | None = None) -> None:
        self.parsed = parsed
        self.injected = injected
        self.local_names = local_names
        self.deps = deps  # records what each name resolved to (see depends.py)

    def static_value(self, expr: ast.expr) -> Any:
        """The object a `name` or `module.attr.chain` refers to, or MISSING for locals."""
        if isinstance(expr, ast.Name):
            if expr.id in self.injected:
                return self.injected[expr.id]
            if expr.id in self.local_names:
                return MISSING
            value = lookup(self.parsed, expr.id)
            if self.deps is not None:
                self.deps.name(self.parsed.globals, self.parsed.closure.get(expr.id), expr.id, value)
            return value
        if isinstance(expr, ast.Attribute):
            base = self.static_value(expr.value)
            if base is MISSING:
                return MISSING
            value = getattr(base, expr.attr, MISSING)
            if self.deps is not None:
                self.deps.attribute(base, expr.attr, value)
            return value
        return MISSING

    def callee(self, call: ast.Call) -> Callee:
        func = call.func
        name = _written_name(func)
        value = self.static_value(func)
        if value is MISSING:
            if isinstance(func, ast.Attribute):
                if func.attr in NONDIFF_METHODS:
                    return Callee("nondiff", None, name)
                primal = METHOD_PRIMALS.get(func.attr)
                if primal is not None:
                    return Callee("method", primal, name)
            return Callee("dynamic", None, name)
        return classify(value, name)

    def is_opaque_call(self, call: ast.Call) -> bool:
        return self.callee(call).kind == "nondiff"


_LOG_METHODS = {"debug", "info", "warning", "warn", "error", "critical", "exception", "log"}


def _is_log_method(value: Any) -> bool:
    """`logger.info` and the like of a `logging.Logger` (or adapter): they read values only."""
    return isinstance(value, types.MethodType) and value.__name__ in _LOG_METHODS \
        and isinstance(value.__self__, (logging.Logger, logging.LoggerAdapter))


def _written_name(func: ast.expr) -> str:
    """How the code names a callee: `np.linalg.norm` (`ast.unparse`, quicker for dotted names)."""
    if type(func) is ast.Name:
        return func.id  # type: ignore[attr-defined]
    if type(func) is ast.Attribute and type(func.value) in (ast.Name, ast.Attribute):  # type: ignore[attr-defined]
        return f"{_written_name(func.value)}.{func.attr}"  # type: ignore[attr-defined]
    return ast.unparse(func)


def classify(value: Any, name: str = "") -> Callee:
    """How calls to the object `value` are differentiated."""
    if is_nondifferentiable(value) or isinstance(value, type) and value in (int, bool, str, range, type) \
            or _is_log_method(value):
        return Callee("nondiff", value, name)
    if has_vjp_rule(value) or has_jvp_rule(value):
        return Callee("rule", value, name)
    if hasattr(value, "differentiable_code"):  # a derivative made by srcgrad: its generated code
        return Callee("user", value.differentiable_code(), name)
    if is_machinery(value):
        return Callee("unknown", value, name)  # srcgrad's own API: its results are differentiated, not its source
    if isinstance(value, (types.FunctionType, types.MethodType)):
        return Callee("user", value, name)
    if callable(value) and isinstance(getattr(type(value), "__call__", None), types.FunctionType):
        return Callee("user", value.__call__, name)
    return Callee("unknown", value, name)
