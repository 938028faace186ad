"""Where an assignment expression (`:=`) in a kept-whole expression can be made a statement.

Normalization keeps tests and calls without a derivative whole (`if (y := x * x) > 1.0:`);
their `:=` assignments are made first, as statements. That is exact when the assignment is
evaluated whenever the expression is, and nothing it would have come after is moved behind
it: no call finished before it, no read of the name it assigns.
"""

from __future__ import annotations

import ast
from typing import Iterator

from ..errors import SourceInfo, located_error

_CONDITIONAL = "a `:=` inside `and`/`or`, a conditional expression, a comprehension or a lambda of a test"
_ADVICE = "assign the value on its own line before this statement"


def hoisted(expr: ast.expr, info: SourceInfo) -> list[ast.NamedExpr]:
    """The outermost `:=` of `expr`, in the order they run; refused where moving them is not exact."""
    found = list(_outermost(expr, conditional=False, info=info))
    for named in found:
        start = (named.lineno, named.col_offset)
        for node in ast.walk(expr):
            if isinstance(node, ast.Name) and node.id == named.target.id and isinstance(node.ctx, ast.Load) \
                    and (getattr(node, "lineno", 0), getattr(node, "col_offset", 0)) < start:
                raise located_error(info, named, f"this `:=` assigns `{node.id}`, which the same expression read "
                                    f"before; {_ADVICE}")
            if isinstance(node, ast.Call) and getattr(node, "end_lineno", None) is not None \
                    and (node.end_lineno, node.end_col_offset) <= start:
                raise located_error(info, named, f"this `:=` comes after a call in the same expression; {_ADVICE}")
    return found


def _outermost(node: ast.AST, conditional: bool, info: SourceInfo) -> Iterator[ast.NamedExpr]:
    if isinstance(node, ast.NamedExpr):
        if conditional:
            raise located_error(info, node, f"{_CONDITIONAL} is not supported; {_ADVICE}")
        yield node
        return
    if isinstance(node, (ast.Lambda, ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
        for child in ast.walk(node):
            if isinstance(child, ast.NamedExpr):
                raise located_error(info, child, f"{_CONDITIONAL} is not supported; {_ADVICE}")
        return
    for name, value in ast.iter_fields(node):
        later = (isinstance(node, ast.BoolOp) and name == "values") or (isinstance(node, ast.IfExp) and name != "test")
        children = value if isinstance(value, list) else [value]
        for i, child in enumerate(children):
            if isinstance(child, ast.AST):
                yield from _outermost(child, conditional or (later and (name != "values" or i > 0)), info)
