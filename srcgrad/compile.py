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

from .analysis import statements
from .unparse import function_text

_COUNTER = itertools.count(1)
FACTORY = "__srcgrad_factory__"


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
) -> tuple[types.FunctionType, str]:
    """Compile `node` into a function and return it with its source text."""
    text = render(node, comments)
    free = sorted(set(namespace) | set(user_closure))
    header = [f"def {FACTORY}():"] + [f"    {name} = None" for name in free]
    body = ["    " + line if line else line for line in text.splitlines()]
    module_text = "\n".join(header + body + [f"    return {node.name}", ""])
    filename = f"<srcgrad {node.name} #{next(_COUNTER)}>"
    inner = inner_code(module_text, filename, node.name)
    linecache.cache[filename] = (len(module_text), None, module_text.splitlines(True), filename)
    cells = tuple(_cell_for(name, namespace, user_closure) for name in inner.co_freevars)
    function = types.FunctionType(inner, user_globals, node.name, defaults, cells)
    function.__kwdefaults__ = kwdefaults
    return function, text


def inner_code(module_text: str, filename: str, name: str) -> types.CodeType:
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
