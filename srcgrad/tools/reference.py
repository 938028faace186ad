"""The reference of every function srcgrad differentiates, generated from the rule registry.

`srcgrad reference -o docs/reference.md` writes it; a test checks the committed file is
up to date.
"""

from __future__ import annotations

import ast
import builtins
import inspect
import math
import operator
import textwrap
from typing import Any, Iterable

import numpy as np

from ..frontend.resolve import ATTRIBUTE_PRIMALS, METHOD_PRIMALS, NONDIFF_METHODS
from ..rules.registry import Rule, all_jvp_rules, all_nondifferentiable, all_rules, is_internal
from ..runtime.markers import stop_gradient

_OPERATORS = {
    ast.Add: "x + y", ast.Sub: "x - y", ast.Mult: "x * y", ast.Div: "x / y", ast.Pow: "x ** y",
    ast.Mod: "x % y", ast.MatMult: "x @ y", ast.USub: "-x", ast.UAdd: "+x", ast.FloorDiv: "x // y",
    ast.Eq: "x == y", ast.NotEq: "x != y", ast.Lt: "x < y", ast.LtE: "x <= y", ast.Gt: "x > y",
    ast.GtE: "x >= y", ast.Is: "x is y", ast.IsNot: "x is not y", ast.In: "x in y", ast.NotIn: "x not in y",
    ast.Not: "not x", ast.Invert: "~x", ast.BitAnd: "x & y", ast.BitOr: "x | y", ast.BitXor: "x ^ y",
    ast.LShift: "x << y", ast.RShift: "x >> y",
}
_NAMESPACES = (("np.", np), ("np.linalg.", np.linalg), ("math.", math), ("", builtins), ("operator.", operator))
_GROUPS = ("Python operators", "Builtins", "math", "NumPy", "numpy.linalg", "operator", "other")

_HEADER = """# Supported functions

Generated from srcgrad's rule registry by `srcgrad reference -o docs/reference.md` (with
NumPy {numpy}); do not edit by hand, a test checks that it is up to date. A few `math`
functions exist only in newer Pythons (`cbrt` and `exp2` from 3.11, `sumprod` from 3.12,
`fma` from 3.13); srcgrad differentiates them where they exist, and they are listed here
when the Python that generated the page has them.

Every function in the first part has a reverse-mode rule (for `grad`, `value_and_grad`,
`vjp`): calls to it inside a function you differentiate work, with respect to the
arguments listed (the others are treated as constants). Those marked in the "forward
mode" column also have a forward rule (for `jvp`, `hessian`, `hvp`, and `jacobian` when it
runs forwards). A function you wrote yourself needs no rule: srcgrad reads its source. For
anything else, register rules with `@srcgrad.adjoint(fn)` and `@srcgrad.tangent(fn)` (see
[custom rules](custom-rules.md)); calling a function with neither source nor rule on a
differentiated value is an error that names the call.

The second part lists what has no derivative by design (comparisons, integer results,
shapes): calls to those are allowed, and their results are constants.
"""


def render() -> str:
    """The Markdown reference, from the registry as it is after `import srcgrad`."""
    rows: dict[str, list[tuple[str, str, str]]] = {group: [] for group in _GROUPS}
    forward = all_jvp_rules()
    for primal, rules in all_rules().items():
        group, name = _place(primal)
        if group == "internal":
            continue
        mark = " ✓" if primal in forward else ""
        for rule in rules:
            rows[group].append((_call(name, rule, primal), ", ".join(_differentiated(rule)) or "—", mark))
    parts = [_HEADER.format(numpy=np.__version__.split(".")[0] + ".x")]
    columns = "| call | derivative with respect to |" + (" forward mode |" if forward else "")
    rule_line = "| --- | --- |" + (" --- |" if forward else "")
    for group in _GROUPS:
        if rows[group]:
            lines = [f"| `{call}` | {wrt} |" + (f"{mark} |" if forward else "") for call, wrt, mark in sorted(set(rows[group]), key=_order)]
            parts.append(f"## {group}\n\n{columns}\n{rule_line}\n" + "\n".join(lines) + "\n")
    parts.append(_methods())
    parts.append(_constants())
    return "\n".join(parts)


def _order(row: tuple[str, str, str]) -> tuple[int, str]:
    operators = list(_OPERATORS.values())
    return (operators.index(row[0]), "") if row[0] in operators else (len(operators), row[0].lower())


def _place(primal: Any) -> tuple[str, str]:
    """The group a primal is listed under, and how it is spelled in user code."""
    if isinstance(primal, type) and primal in _OPERATORS:
        return "Python operators", _OPERATORS[primal]
    if is_internal(primal):
        return "internal", ""  # helpers that rules call, with rules of their own for higher order
    module = getattr(primal, "__module__", None) or ""
    for prefix, namespace in _NAMESPACES:
        name = getattr(primal, "__name__", None)
        if isinstance(name, str) and vars(namespace).get(name) is primal:
            group = {"np.": "NumPy", "np.linalg.": "numpy.linalg", "": "Builtins"}.get(prefix, prefix.rstrip("."))
            return group, prefix + name
    if primal is stop_gradient:
        return "other", "srcgrad.stop_gradient"
    return "other", f"{module}.{getattr(primal, '__qualname__', repr(primal))}".lstrip(".")


def _call(name: str, rule: Rule, primal: Any) -> str:
    if isinstance(primal, type) and primal in _OPERATORS:
        return name
    params = [str(p) for p in rule.primal_params]
    return f"{name}({', '.join(params)})"


def _differentiated(rule: Rule) -> list[str]:
    """The parameters the rule returns a cotangent for (not `None`)."""
    params = rule.primal_params
    returned = _returned(rule.fn) if rule.inline else None
    if not isinstance(returned, ast.Tuple):
        return [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    chosen = []
    for param, element in zip(params, returned.elts):
        if isinstance(element, ast.Starred) or param.kind == param.VAR_POSITIONAL:
            star = next((p for p in params if p.kind == p.VAR_POSITIONAL), param)
            chosen.append(f"*{star.name}")
            break
        if not (isinstance(element, ast.Constant) and element.value is None):
            chosen.append(param.name)
    return chosen


def _returned(fn: Any) -> ast.expr | None:
    definition = ast.parse(textwrap.dedent(inspect.getsource(fn))).body[0]
    last = definition.body[-1] if isinstance(definition, ast.FunctionDef) else None
    return last.value if isinstance(last, ast.Return) else None


def _methods() -> str:
    lines = ["## Methods and attributes", "", "`x.method(...)` is differentiated with the rule of the function listed.", "",
             "| method | differentiated as | derivative with respect to |", "| --- | --- | --- |"]
    rules = all_rules()
    for method, primal in sorted(METHOD_PRIMALS.items()):
        if primal is None or primal not in rules:
            continue
        group, name = _place(primal)
        for rule in rules[primal]:
            params = [str(p) for p in rule.primal_params]
            call = f"x.{method}({', '.join(params[1:])})"
            meaning = f"`{name}(x, ...)`" if group != "internal" else "its own rule"
            wrt = ["x" if n == rule.primal_params[0].name else n for n in _differentiated(rule)]
            lines.append(f"| `{call}` | {meaning} | {', '.join(wrt) or '—'} |")
    for attribute, primal in sorted(ATTRIBUTE_PRIMALS.items()):
        lines.append(f"| `x.{attribute}` | `{_place(primal)[1]}(x)` | x |")
    return "\n".join(lines) + "\n"


def _constants() -> str:
    by_reason: dict[str, list[str]] = {}
    for primal, reason in all_nondifferentiable().items():
        group, name = _place(primal)
        if group != "internal":
            reason = "its argument is a constant" if primal is stop_gradient else reason or "no derivative"
            by_reason.setdefault(reason, []).append(f"`{name}`")
    by_reason.setdefault("integer, boolean or index result", []).extend(f"`x.{m}()`" for m in sorted(NONDIFF_METHODS))
    lines = ["## Without a derivative", "", "| calls | why |", "| --- | --- |"]
    lines += [f"| {', '.join(_sorted(names))} | {reason} |" for reason, names in sorted(by_reason.items())]
    return "\n".join(lines) + "\n"


def _sorted(names: Iterable[str]) -> list[str]:
    operators = [f"`{o}`" for o in _OPERATORS.values()]
    return sorted(set(names), key=lambda n: (operators.index(n), "") if n in operators else (len(operators), n.lower()))
