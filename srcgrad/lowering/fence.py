"""Reject what srcgrad cannot differentiate, with the user's file, line and a caret."""

from __future__ import annotations

import ast

from ..errors import SourceInfo, located_error
from ..frontend.resolve import Resolver
from ..runtime.markers import no_grad
from ..syntax.astquery import statements
from ..syntax.fastast import walk

_UNSUPPORTED: dict[type, str] = {
    ast.Yield: "generators (`yield`) cannot be differentiated; return a list instead",
    ast.YieldFrom: "generators (`yield from`) cannot be differentiated; return a list instead",
    ast.Await: "`async` code cannot be differentiated; differentiate a plain function",
    ast.AsyncFor: "`async for` cannot be differentiated; differentiate a plain function",
    ast.AsyncWith: "`async with` cannot be differentiated; differentiate a plain function",
    ast.AsyncFunctionDef: "async functions cannot be differentiated",
    ast.Global: "`global` writes are not supported: pass the value in and return the result",
    ast.Nonlocal: "`nonlocal` writes are not supported: pass the value in and return the result",
    ast.ClassDef: "a class defined inside a differentiated function is not supported; "
    "define it at module level",
    ast.Try: "`try` blocks are not supported inside a differentiated function; "
    "move the `try` outside it",
    ast.Import: "`import` inside a differentiated function is not supported; "
    "import at module level",
    ast.ImportFrom: "`import` inside a differentiated function is not supported; "
    "import at module level",
    ast.Starred: "`*` unpacking is not supported here; pass or assign the items one by one",
    ast.FunctionDef: "a `def` inside a block of a differentiated function is not supported; define "
    "it at the top of the function body or at module level (it is then differentiated too)",
}
if hasattr(ast, "TryStar"):
    _UNSUPPORTED[ast.TryStar] = _UNSUPPORTED[ast.Try]


def check(node: ast.FunctionDef, info: SourceInfo, names: Resolver | None = None) -> None:
    """Raise a located NotDifferentiableError at the first unsupported construct in `node`;
    `names` tells a `with srcgrad.no_grad():` block (without it, every `with` is refused)."""
    if node.args.vararg or node.args.kwarg:
        star = node.args.vararg or node.args.kwarg
        raise located_error(info, star, "`*args`/`**kwargs` parameters are not supported; "
                            "list the parameters by name")
    sequences = _sequence_names(node)
    for child in _walk_body(node):
        _check_node(child, info, names)
        if isinstance(child, ast.BinOp):
            _check_sequence_arithmetic(child, info, sequences)


def _is_no_grad(names: Resolver | None, expr: ast.expr) -> bool:
    target = expr.func if isinstance(expr, ast.Call) else expr
    return names is not None and names.static_value(target) is no_grad


def _walk_body(node: ast.FunctionDef):
    for stmt in node.body:
        yield from walk(stmt)


def _check_node(child: ast.AST, info: SourceInfo, names: Resolver | None) -> None:
    message = _UNSUPPORTED.get(type(child))
    if message:
        raise located_error(info, child, message)
    if isinstance(child, ast.With):
        for item in child.items:
            if not _is_no_grad(names, item.context_expr):
                raise located_error(
                    info, item.context_expr,
                    "this `with` block is not supported inside a differentiated function (only "
                    "`srcgrad.no_grad()` and context managers that leave values alone, such as `np.errstate` "
                    "and `warnings.catch_warnings`, are); move it outside the function",
                )
    elif isinstance(child, ast.Call):
        _check_call(child, info)
    elif isinstance(child, (ast.Assign, ast.AugAssign, ast.AnnAssign)):
        targets = child.targets if isinstance(child, ast.Assign) else [child.target]
        for target in targets:
            _check_target(target, info)


_DISPLAYS = (ast.List, ast.Tuple, ast.ListComp)


def _sequence_names(node: ast.FunctionDef) -> set[str]:
    """Names some assignment binds to a list or tuple display."""
    return {
        target.id for child in _assignments(node) if isinstance(child.value, _DISPLAYS)
        for target in child.targets if isinstance(target, ast.Name)
    }


def _assignments(node: ast.FunctionDef) -> list[ast.Assign]:
    """The `=` statements of `node`, nested ones included (statements, not expressions:
    no need to walk every expression)."""
    return [stmt for stmt in statements(node.body) if isinstance(stmt, ast.Assign)]


def _check_sequence_arithmetic(binop: ast.BinOp, info: SourceInfo, sequences: set[str]) -> None:
    """`[a] + [b]` and `[a] * 2` join and repeat lists: their adjoints are not elementwise."""
    def is_sequence(expr: ast.expr) -> bool:
        return isinstance(expr, _DISPLAYS) or isinstance(expr, ast.Name) and expr.id in sequences

    left, right = binop.left, binop.right
    joined = isinstance(binop.op, ast.Add) and is_sequence(left) and is_sequence(right)
    repeated = isinstance(binop.op, ast.Mult) and any(
        is_sequence(a) and isinstance(b, ast.Constant) and type(b.value) is int for a, b in ((left, right), (right, left))
    )
    if joined or repeated:
        raise located_error(info, binop, "joining or repeating lists or tuples with `+` or `*` is not supported; "
                            "build the list with all its items (`[a, b, c]`) or `.append`, or use np.concatenate")


def _check_call(call: ast.Call, info: SourceInfo) -> None:
    if isinstance(call.func, ast.Name) and call.func.id in ("eval", "exec", "compile"):
        raise located_error(info, call, f"`{call.func.id}` cannot be differentiated: "
                            "srcgrad needs the code as source; write it out directly")
    for keyword in call.keywords:
        if keyword.arg == "out":
            raise located_error(info, keyword.value, "`out=` writes in place and cannot be "
                                "differentiated; assign the result instead")
        if keyword.arg is None:
            raise located_error(info, keyword.value, "`**` unpacking in a call is not "
                                "supported; pass the keyword arguments by name")


def _check_target(target: ast.expr, info: SourceInfo) -> None:
    if isinstance(target, ast.Attribute):
        raise located_error(info, target, "assigning to an attribute is not supported inside "
                            "a differentiated function; return the new value instead")
    if isinstance(target, (ast.Tuple, ast.List)):
        for element in target.elts:
            _check_target(element, info)
