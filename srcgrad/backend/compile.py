"""Turn a generated function AST into readable text and a live function.

The generated function runs in the user's module globals and shares the user function's
closure cells; the objects it needs besides (rule helpers, derivatives of callees) reach it
as closure cells too, so nothing is written into the user's module. The text is registered
with `linecache`, so tracebacks and debuggers show the generated code.
"""

from __future__ import annotations

import ast
import itertools
import linecache
import re
import types
from typing import Any

from .. import failures
from ..facts import generated_filename
from ..failures import Origin
from ..syntax.astquery import statements
from ..syntax.unparse import function_text

_COUNTER = itertools.count(1)
FACTORY = "__srcgrad_factory__"
_ERROR = "__srcgrad_error__"


def render(node: ast.FunctionDef, comments: dict[str, str]) -> str:
    """The source text of `node`, with comment markers turned into `#` comments."""
    for stmt in [node, *statements(node.body)]:  # `ast.unparse` reads statements' lines (for type comments)
        if "lineno" not in stmt.__dict__:
            stmt.lineno = 1
    text = function_text(node)

    def replace(match: re.Match[str]) -> str:
        return match.group(1) + comments[match.group(2)]

    return re.sub(r"^(\s*)(__comment\d+__)$", replace, text, flags=re.MULTILINE)


def build_function(
    node: ast.FunctionDef,
    comments: dict[str, str],
    namespace: dict[str, Any],
    user_globals: dict[str, Any],
    user_closure: dict[str, types.CellType],
    defaults: tuple | None = None,
    kwdefaults: dict | None = None,
    origin: Origin | None = None,
) -> tuple[types.FunctionType, str]:
    """Compile `node` into a function and return it with its source text. Given the
    `origin` of the code, its functions are compiled with a handler the text does not show,
    which turns a failure of srcgrad's making into an `InternalError` (see failures.py)."""
    text = render(node, comments)
    free = sorted(set(namespace) | set(user_closure))
    header = [f"def {FACTORY}():"] + [f"    {name} = None" for name in free]
    body = ["    " + line if line else line for line in text.splitlines()]
    module_text = "\n".join(header + body + [f"    return {node.name}", ""])
    filename = generated_filename(f"{node.name} #{next(_COUNTER)}")
    if origin is not None:
        failures.ORIGINS[filename] = origin
        inner = inner_code(_with_failure_handlers(module_text), filename, node.name)
    else:
        inner = inner_code(module_text, filename, node.name)
    linecache.cache[filename] = (len(module_text), None, module_text.splitlines(True), filename)
    cells = tuple(_cell_for(name, namespace, user_closure) for name in inner.co_freevars)
    function = types.FunctionType(inner, user_globals, node.name, defaults, cells)
    function.__kwdefaults__ = kwdefaults
    return function, text


def _with_failure_handlers(module_text: str) -> ast.Module:
    """`module_text` parsed, each generated function's body inside `try:` with a handler
    that asks `failures.internal_failure` whose fault an exception is, then re-raises it.
    The handler takes the `def` line's position, so every other line keeps its number; it
    imports what it calls, so the code needs no closure cell for it (the entry form has one)."""
    tree = ast.parse(module_text)
    for definition in list(statements(tree.body[0].body)):  # a list: the bodies change as we go
        if isinstance(definition, ast.FunctionDef):
            where = {"lineno": definition.lineno, "col_offset": definition.col_offset,
                     "end_lineno": definition.lineno, "end_col_offset": definition.col_offset}
            check = ast.Expr(ast.Call(ast.Attribute(ast.Call(ast.Name("__import__", ast.Load(), **where), [
                ast.Constant("srcgrad.failures", **where)], [ast.keyword("fromlist", ast.Constant(("internal_failure",), **where), **where)],
                **where), "internal_failure", ast.Load(), **where), [ast.Name(_ERROR, ast.Load(), **where)], [], **where),
                **where)
            handler = ast.ExceptHandler(ast.Name("Exception", ast.Load(), **where), _ERROR, [check, ast.Raise(**where)], **where)
            definition.body = [ast.Try(definition.body, [handler], [], [], **where)]
    return tree


def inner_code(module_text: str | ast.Module, filename: str, name: str) -> types.CodeType:
    """The code of function `name` defined inside `def __srcgrad_factory__():` in
    `module_text`: compiled that way, the names the factory binds are its closure cells."""
    code = compile(module_text, filename, "exec")
    factory = next(c for c in code.co_consts if isinstance(c, types.CodeType) and c.co_name == FACTORY)
    return next(c for c in factory.co_consts if isinstance(c, types.CodeType) and c.co_name == name)


def _cell_for(name: str, namespace: dict[str, Any], user_closure: dict[str, types.CellType]) -> types.CellType:
    if name in namespace:
        value = namespace[name]
        return value if isinstance(value, types.CellType) else types.CellType(value)
    return user_closure[name]
