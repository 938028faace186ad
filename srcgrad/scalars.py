"""Which names hold numbers (shape `()`), given which parameters did at the first call.

Where every operand and the result of a statement are Python numbers, its adjoint needs no
broadcasting bookkeeping; the reverse pass then emits plain scalar arithmetic. The answer
is a greatest fixpoint: a name stays scalar only if every assignment to it yields one.
"""

from __future__ import annotations

import ast
import builtins
from typing import Any, Callable

import numpy as np

from .analysis import statements
from .fastast import walk

_SCALAR_BUILTINS = {abs, min, max, float, int, round, pow, len, bool}


def scalar_names(
    body: list[ast.stmt], scalar_params: set[str], static_value: Callable[[ast.expr], Any], params: set[str] = frozenset()
) -> set[str]:
    """Names that always hold a number: `scalar_params` are parameters known to be numbers,
    the other `params` are not."""
    assignments: list[tuple[str, ast.expr | None]] = []
    for stmt in statements(body):
        if isinstance(stmt, ast.Assign):
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
    scalars = ({name for name, _ in assignments} - set(params)) | set(scalar_params)
    changed = True
    while changed:
        changed = False
        for name, value in assignments:
            if name in scalars and not _is_scalar(value, scalars, static_value):
                scalars.discard(name)
                changed = True
    return scalars


_RANGE_ITEM = ast.Constant(0)


def _is_scalar(value: ast.expr | None, scalars: set[str], static_value: Callable[[ast.expr], Any]) -> bool:
    if value is None:
        return False
    if isinstance(value, ast.Constant):
        return isinstance(value.value, (int, float, bool)) and not isinstance(value.value, complex)
    if isinstance(value, ast.Name):
        return value.id in scalars
    if isinstance(value, ast.BinOp):
        return not isinstance(value.op, ast.MatMult) and all(_is_scalar(v, scalars, static_value) for v in (value.left, value.right))
    if isinstance(value, ast.UnaryOp):
        return _is_scalar(value.operand, scalars, static_value)
    if isinstance(value, ast.Compare):
        return all(_is_scalar(v, scalars, static_value) for v in [value.left, *value.comparators])
    if isinstance(value, ast.Call) and not value.keywords:
        fn = static_value(value.func)
        # math functions give floats; NumPy ufuncs of numbers give 0-d NumPy scalars
        known = getattr(fn, "__module__", None) == "math" or _is_builtin_scalar(fn) or isinstance(fn, np.ufunc)
        return known and all(_is_scalar(a, scalars, static_value) for a in value.args)
    return False


def _is_builtin_scalar(fn: Any) -> bool:
    try:
        return fn in _SCALAR_BUILTINS and getattr(builtins, fn.__name__, None) is fn
    except TypeError:
        return False

