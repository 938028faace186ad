"""A `def` in the body of a differentiated function, called there: made a function of its own.

The helper is compiled once from its source (so srcgrad differentiates it like a module-level
function, from the same file and lines) with the enclosing function's globals, and its `def`
leaves the body. That is exact when it reads no local variable of the enclosing function, is
defined once at the top of the body before it is called, and is only called; otherwise
the `def` is refused at its line with what to write instead.
"""

from __future__ import annotations

import ast
import copy
from typing import Any

from ..errors import SourceInfo, located_error
from ..syntax.fastast import walk


def lift(node: ast.FunctionDef, info: SourceInfo, globals_: dict[str, Any]) -> dict[str, Any]:
    """Remove the helpers defined at the top of `node`'s body; return them by name."""
    helpers = [s for s in node.body if isinstance(s, ast.FunctionDef)]
    for stmt in node.body:
        for inner in walk(stmt):
            if isinstance(inner, ast.FunctionDef) and inner not in helpers and not _inside(inner, helpers):
                raise located_error(info, inner, "a `def` inside a block of a differentiated function is not "
                                    "supported; define it at the top of the function body, or at module level")
    if not helpers:
        return {}
    local = _locals(node, helpers)
    lifted = {}
    for helper in helpers:
        _check(node, helper, info, local)
        lifted[helper.name] = _compiled(helper, info, globals_)
    node.body = [s for s in node.body if s not in helpers] or [ast.copy_location(ast.Pass(), node)]
    return lifted


def _inside(inner: ast.AST, helpers: list[ast.FunctionDef]) -> bool:
    return any(inner is n for helper in helpers for n in walk(helper))


def _locals(node: ast.FunctionDef, helpers: list[ast.FunctionDef]) -> set[str]:
    arguments = node.args
    names = {a.arg for a in arguments.posonlyargs + arguments.args + arguments.kwonlyargs}
    for stmt in node.body:
        if stmt in helpers:
            names.add(stmt.name)  # type: ignore[attr-defined]
            continue
        names |= {n.id for n in walk(stmt) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}
    return names


def _check(node: ast.FunctionDef, helper: ast.FunctionDef, info: SourceInfo, local: set[str]) -> None:
    if helper.decorator_list:
        raise located_error(info, helper.decorator_list[0], "a decorated `def` inside a differentiated function "
                            "is not supported; define it at module level")
    own = {a.arg for a in helper.args.posonlyargs + helper.args.args + helper.args.kwonlyargs}
    own |= {a.arg for a in (helper.args.vararg, helper.args.kwarg) if a is not None}
    body_names = [n for stmt in helper.body for n in walk(stmt) if isinstance(n, ast.Name)]
    own |= {n.id for n in body_names if not isinstance(n.ctx, ast.Load)}
    defaults = [n for d in helper.args.defaults + helper.args.kw_defaults if d is not None
                for n in walk(d) if isinstance(n, ast.Name)]
    for name in body_names + defaults:
        if name.id in local and (name.id not in own or name in defaults):
            raise located_error(info, name, f"the nested function `{helper.name}` reads `{name.id}`, a local "
                                f"variable of `{node.name}`; pass it as an argument instead (add a parameter "
                                f"`{name.id}` to `{helper.name}` and write `{helper.name}(..., {name.id})` where you call it)")
    for stmt in node.body:
        if stmt is helper:
            continue
        calls = {id(n.func) for n in walk(stmt) if isinstance(n, ast.Call)}
        for name in walk(stmt):
            if isinstance(name, ast.Name) and name.id == helper.name:
                if id(name) not in calls or not isinstance(name.ctx, ast.Load):
                    raise located_error(info, name, f"the nested function `{helper.name}` is used here other "
                                        "than by calling it; call it where its value is needed "
                                        f"(`[{helper.name}(y) for y in xs]` rather than `map({helper.name}, xs)`)")
                if (name.lineno, name.col_offset) < (helper.lineno, helper.col_offset):
                    raise located_error(info, name, f"`{helper.name}` is called before its `def`")


def _compiled(helper: ast.FunctionDef, info: SourceInfo, globals_: dict[str, Any]) -> Any:
    """The function `helper` defines, compiled at its place in the user's file."""
    module = ast.Module([copy.deepcopy(helper)], [])
    ast.increment_lineno(module, info.first_line - 1)
    namespace: dict[str, Any] = {}
    exec(compile(ast.fix_missing_locations(module), info.filename, "exec"), globals_, namespace)
    function = namespace[helper.name]
    function.__qualname__ = helper.name
    return function
