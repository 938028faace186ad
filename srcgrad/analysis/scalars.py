"""Which names hold numbers (shape `()`), given which parameters did at the first call.

Where every operand and the result of a statement are Python numbers, its adjoint needs no
broadcasting bookkeeping; the reverse pass then emits plain scalar arithmetic. The answer
is a greatest fixpoint: a name stays scalar only if every assignment to it yields one.
"""

from __future__ import annotations

import ast
import builtins
import types
from typing import Any, Callable

import numpy as np

from ..syntax.astquery import statements
from ..syntax.fastast import walk

_SCALAR_BUILTINS = {abs, min, max, float, int, round, pow, len, bool}
TUPLE = "[]"  # `t[]` among the facts: `t` always holds a tuple of numbers (no name ends so)
CallResult = Callable[[ast.Call], "str | None"]  # NUMBER, NUMBERS or None: see number_calls.py
NUMBER, NUMBERS = "number", "numbers"


def scalar_names(
    body: list[ast.stmt], scalar_params: set[str], static_value: Callable[[ast.expr], Any], params: set[str] = frozenset(),
    call_result: CallResult | None = None,
) -> set[str]:
    """Names that always hold a number: `scalar_params` are parameters known to be numbers,
    the other `params` are not. `call_result` says what calls of user functions given
    numbers return, for certain."""
    return {name for name in number_facts(body, scalar_params, static_value, params, call_result) if not name.endswith(TUPLE)}


def number_facts(
    body: list[ast.stmt], scalar_params: set[str], static_value: Callable[[ast.expr], Any], params: set[str] = frozenset(),
    call_result: CallResult | None = None,
) -> set[str]:
    """The names that always hold a number, and `t[]` for each `t` that always holds a tuple of numbers."""
    assignments: list[tuple[str, ast.expr | None]] = []
    for stmt in statements(body):
        plain = _plain_assignment(stmt)
        if plain is not None:
            assignments.append(plain)
        elif isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                for node in walk(target):
                    if isinstance(node, ast.Name):
                        whole = target if isinstance(target, ast.Name) else None
                        assignments.append((node.id, stmt.value if whole is not None else None))
        elif isinstance(stmt, ast.For):
            # normalized `for` loops always run over a range (sequences become index loops)
            assignments.append((stmt.target.id, _RANGE_ITEM))  # type: ignore[attr-defined]
        elif isinstance(stmt, ast.AugAssign):
            assignments.append((stmt.target.id, _RANGE_ITEM))  # type: ignore[attr-defined]
        elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
            func = stmt.value.func
            if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
                assignments.append((func.value.id, None))  # mutated in place
    assigned = {name for name, _ in assignments} - set(params)
    tuples = _tuple_candidates(assignments, static_value if call_result is not None else None) - set(params)
    candidates = assigned | set(scalar_params) | {name + TUPLE for name in tuples}
    claims = assignments + [(name + TUPLE, value) for name, value in assignments if name in tuples]

    def holds(name: str, value: ast.expr | None, names: set[str]) -> bool:
        if name.endswith(TUPLE):
            return _is_number_tuple(value, names, static_value, call_result)
        return _is_scalar(value, names, static_value, call_result)

    return _greatest_fixpoint(claims, candidates, holds)


def _tuple_candidates(
    assignments: list[tuple[str, ast.expr | None]], static_value: Callable[[ast.expr], Any] | None,
) -> set[str]:
    """Names that may hold a tuple of numbers: every value they are given is a tuple, a name
    or a call of a Python function (when `static_value` is given to find it), one at least a
    tuple or such a call (a quick sieve: most names fail it at once)."""
    shaped, out = set(), set()
    for name, value in assignments:
        kind = type(value)
        if kind is ast.Tuple or (kind is ast.Call and static_value is not None
                                  and type(static_value(value.func)) is types.FunctionType):  # type: ignore[union-attr]
            shaped.add(name)
        elif kind is not ast.Name:
            out.add(name)
    return shaped - out


def _plain_assignment(stmt: ast.stmt) -> tuple[str, ast.expr] | None:
    """(name, value) of the usual `name = value`, recognised without walking its target."""
    if type(stmt) is ast.Assign and len(stmt.targets) == 1 and type(stmt.targets[0]) is ast.Name:
        return stmt.targets[0].id, stmt.value
    return None


def _greatest_fixpoint(
    assignments: list[tuple[str, ast.expr | None]], candidates: set[str],
    holds: Callable[[str, ast.expr | None, set[str]], bool],
) -> set[str]:
    """The candidates for which every assignment's value `holds`, given the names still in."""
    names = set(candidates)
    changed = True
    while changed:
        changed = False
        for name, value in assignments:
            if name in names and not holds(name, value, names):
                names.discard(name)
                changed = True
    return names


_RANGE_ITEM = ast.Constant(0)


def _is_scalar(
    value: ast.expr | None, scalars: set[str], static_value: Callable[[ast.expr], Any], call_result: CallResult | None = None,
) -> bool:
    if value is None:
        return False
    if isinstance(value, ast.Constant):
        return isinstance(value.value, (int, float, bool)) and not isinstance(value.value, complex)
    if isinstance(value, ast.Name):
        return value.id in scalars
    if isinstance(value, ast.BinOp):
        return not isinstance(value.op, ast.MatMult) and all(_is_scalar(v, scalars, static_value, call_result)
                                                             for v in (value.left, value.right))
    if isinstance(value, ast.UnaryOp):
        return _is_scalar(value.operand, scalars, static_value, call_result)
    if isinstance(value, ast.Compare):
        return all(_is_scalar(v, scalars, static_value, call_result) for v in [value.left, *value.comparators])
    if isinstance(value, ast.Subscript):  # an item of a tuple of numbers
        index = value.slice
        return isinstance(value.value, ast.Name) and value.value.id + TUPLE in scalars \
            and type(index) is ast.Constant and type(index.value) is int
    if isinstance(value, ast.Call) and not value.keywords:
        if not all(_is_scalar(a, scalars, static_value, call_result) for a in value.args):
            return False
        fn = static_value(value.func)
        # math functions give floats; NumPy ufuncs of numbers give 0-d NumPy scalars
        known = getattr(fn, "__module__", None) == "math" or _is_builtin_scalar(fn) or isinstance(fn, np.ufunc)
        return known or (call_result is not None and call_result(value) == NUMBER)
    return False


def _is_number_tuple(
    value: ast.expr | None, facts: set[str], static_value: Callable[[ast.expr], Any], call_result: CallResult | None,
) -> bool:
    """Whether `value` always gives a tuple of numbers (`facts` as `number_facts` has them)."""
    if isinstance(value, ast.Tuple):
        return all(not isinstance(e, ast.Starred) and _is_scalar(e, facts, static_value, call_result) for e in value.elts)
    if isinstance(value, ast.Name):
        return value.id + TUPLE in facts
    if isinstance(value, ast.Call) and not value.keywords and call_result is not None:
        return all(_is_scalar(a, facts, static_value, call_result) for a in value.args) and call_result(value) == NUMBERS
    return False


def _is_builtin_scalar(fn: Any) -> bool:
    try:
        return fn in _SCALAR_BUILTINS and getattr(builtins, fn.__name__, None) is fn
    except TypeError:
        return False



# math functions that return a float for any numbers (not floor, ceil, factorial, isclose...)
_FLOAT_MATH = {
    "sin", "cos", "tan", "asin", "acos", "atan", "atan2", "sinh", "cosh", "tanh", "asinh", "acosh", "atanh",
    "exp", "expm1", "exp2", "log", "log2", "log10", "log1p", "sqrt", "cbrt", "pow", "hypot", "erf", "erfc",
    "gamma", "lgamma", "degrees", "radians", "copysign", "fabs", "fmod", "ldexp", "remainder", "fsum",
}
_FLOAT_OPS = (ast.Add, ast.Sub, ast.Mult, ast.Div)


def is_float_math(fn: Any) -> bool:
    """Whether `fn` is a function of the `math` module that returns a float for numbers."""
    return getattr(fn, "__module__", None) == "math" and getattr(fn, "__name__", "") in _FLOAT_MATH


def python_floats(body: list[ast.stmt], float_params: set[str], static_value: Callable[[ast.expr], Any]) -> set[str]:
    """Names of straight-line or branching code that always hold a Python `float` (not an
    int, not a NumPy scalar), given parameters known to: a greatest fixpoint like `scalar_names`."""
    assignments: list[tuple[str, ast.expr | None]] = []
    for stmt in statements(body):
        plain = _plain_assignment(stmt)
        if plain is not None:
            assignments.append(plain)
            continue
        own_targets = [getattr(stmt, "target", None)] + [item.optional_vars for item in getattr(stmt, "items", [])]
        for target in filter(None, own_targets):  # loop variables, augmented and `with ... as`
            assignments += [(n.id, None) for n in walk(target) if isinstance(n, ast.Name)]
        if isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                whole = isinstance(target, ast.Name)
                assignments += [(n.id, stmt.value if whole else None) for n in walk(target) if isinstance(n, ast.Name)]
    candidates = {name for name, _ in assignments} | set(float_params)
    return _greatest_fixpoint(assignments, candidates, lambda _, value, names: is_float_expr(value, names, static_value))


def is_float_expr(value: ast.expr | None, floats: set[str], static_value: Callable[[ast.expr], Any]) -> bool:
    """Whether `value` always gives a Python float when the names in `floats` hold floats:
    float constants, arithmetic of floats and ints with a float among them, negation, and
    math functions of numbers."""
    kind = type(value)
    if kind is ast.Constant:
        return type(value.value) is float  # type: ignore[union-attr]
    if kind is ast.Name:
        return value.id in floats  # type: ignore[union-attr]
    if kind is ast.BinOp:
        left = is_float_expr(value.left, floats, static_value)  # type: ignore[union-attr]
        right = is_float_expr(value.right, floats, static_value)  # type: ignore[union-attr]
        if isinstance(value.op, _FLOAT_OPS):  # type: ignore[union-attr]
            return (left or right) and (left or _is_int(value.left)) and (right or _is_int(value.right))  # type: ignore[union-attr]
        return isinstance(value.op, ast.Pow) and _is_int(value.right) and left  # type: ignore[union-attr]
    if kind is ast.UnaryOp and isinstance(value.op, (ast.USub, ast.UAdd)):  # type: ignore[union-attr]
        return is_float_expr(value.operand, floats, static_value)  # type: ignore[union-attr]
    if kind is ast.IfExp:
        return is_float_expr(value.body, floats, static_value) and is_float_expr(value.orelse, floats, static_value)  # type: ignore[union-attr]
    if kind is ast.Call and not value.keywords:  # type: ignore[union-attr]
        fn = static_value(value.func)  # type: ignore[union-attr]
        return (is_float_math(fn) or fn is float) and all(
            _is_int(a) or is_float_expr(a, floats, static_value) for a in value.args)  # type: ignore[union-attr]
    return False


def _is_int(node: ast.expr) -> bool:
    return type(node) is ast.Constant and type(node.value) is int  # type: ignore[attr-defined]
