"""Lower early `return`, `break`, `continue` and loop `else` into flags and guards.

After this pass a loop body runs straight through: a jump sets a flag, the rest of the body
is guarded by `if not flag:`, and the only jump left is one `if flag: break` at the end of
the body. The backward sweep then mirrors the body exactly and only needs the trip count.
The pass works on the user's AST before normalization; new nodes carry the jump's line.
"""

from __future__ import annotations

import ast

from ..syntax.astquery import statements
from ..syntax.fastast import fix_missing_locations, walk
from ..syntax.naming import Namer

_LOOPS = (ast.For, ast.While)


def lower(node: ast.FunctionDef, namer: Namer) -> ast.FunctionDef:
    """Rewrite `node`'s body in place so that it has a single, final `return`."""
    body = node.body
    inner_return = _has_inner_return(body)
    if inner_return:
        result, returned = namer.fresh("_result"), namer.fresh("_returned")
        lowered = _lower_returns(node.body, result, returned, in_loop=False)
        if _reads(lowered, returned):
            body = [_assign(returned, ast.Constant(False), node)]
        else:  # every return was folded into an `if`/`else`: no flag is read
            body, lowered = [], _without_assignments(lowered, returned)
        if not _surely_returns(node.body):  # else every path assigns the result
            body.insert(0, _assign(result, ast.Constant(None), node))
        body += lowered
        body.append(ast.copy_location(ast.Return(ast.Name(result, ast.Load())), node.body[-1]))
    node.body = _lower_loops(body, namer)
    if inner_return or any(isinstance(s, _LOOPS) for s in statements(node.body)):
        fix_missing_locations(node)  # straight-line code without early returns has nothing new to place
    return node


def _has_inner_return(body: list[ast.stmt]) -> bool:
    for i, stmt in enumerate(body):
        if isinstance(stmt, ast.Return) and i < len(body) - 1:
            return True
        if any(isinstance(n, ast.Return) for child in _children(stmt) for n in walk(child)):
            return True
    return False


def _children(stmt: ast.stmt) -> list[ast.stmt]:
    return [s for field in ("body", "orelse") for s in getattr(stmt, field, []) or []]


def _lower_returns(body: list[ast.stmt], result: str, returned: str, in_loop: bool) -> list[ast.stmt]:
    out: list[ast.stmt] = []
    for i, stmt in enumerate(body):
        if isinstance(stmt, ast.Return):
            value = stmt.value or ast.Constant(None)
            out += [_assign(result, value, stmt), _assign(returned, ast.Constant(True), stmt)]
            if in_loop:
                out.append(ast.copy_location(ast.Break(), stmt))
            return out
        if not any(isinstance(n, ast.Return) for n in walk(stmt)):
            out.append(stmt)
            continue
        rest = body[i + 1:]
        if not in_loop and isinstance(stmt, ast.If) and (_surely_returns(stmt.body) or _surely_returns(stmt.orelse)):
            # `if c: return a` then the rest: the rest is the other path, as one writes it by hand
            if _surely_returns(stmt.body):
                stmt.orelse = stmt.orelse + rest
            else:
                stmt.body = stmt.body + rest
            rest = []
        inner_loop = in_loop or isinstance(stmt, _LOOPS)
        stmt.body = _lower_returns(stmt.body, result, returned, inner_loop)
        stmt.orelse = _lower_returns(stmt.orelse, result, returned, in_loop)
        out.append(stmt)
        if isinstance(stmt, _LOOPS) and in_loop:
            out.append(_if(ast.Name(returned, ast.Load()), [ast.copy_location(ast.Break(), stmt)], stmt))
        rest = _lower_returns(rest, result, returned, in_loop)
        if rest:
            out.append(_if(_not(returned), rest, rest[-1]))  # see `_if`
        return out
    return out


def _surely_returns(body: list[ast.stmt]) -> bool:
    """Whether every path through `body` ends in a `return` (loops are not followed)."""
    return any(isinstance(s, ast.Return) or (isinstance(s, ast.If) and _surely_returns(s.body) and _surely_returns(s.orelse))
               for s in body)


def _reads(body: list[ast.stmt], name: str) -> bool:
    return any(isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Load) for s in body for n in walk(s))


def _without_assignments(body: list[ast.stmt], name: str) -> list[ast.stmt]:
    """`body` without its assignments to `name` (a flag nothing reads), nested ones included."""
    out: list[ast.stmt] = []
    for stmt in body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name) \
                and stmt.targets[0].id == name:
            continue
        for field in ("body", "orelse"):
            if isinstance(getattr(stmt, field, None), list):
                setattr(stmt, field, _without_assignments(getattr(stmt, field), name))
        if isinstance(stmt, (ast.If, ast.For, ast.While)) and not stmt.body:
            stmt.body = [ast.Pass()]
        out.append(stmt)
    return out


def _lower_loops(body: list[ast.stmt], namer: Namer) -> list[ast.stmt]:
    out: list[ast.stmt] = []
    for stmt in body:
        for field in ("body", "orelse"):
            if hasattr(stmt, field) and not isinstance(stmt, _LOOPS):
                setattr(stmt, field, _lower_loops(getattr(stmt, field), namer))
        if isinstance(stmt, _LOOPS):
            out += _lower_loop(stmt, namer)
        else:
            out.append(stmt)
    return out


def _lower_loop(loop: ast.For | ast.While, namer: Namer) -> list[ast.stmt]:
    loop.body = _lower_loops(loop.body, namer)
    orelse = _lower_loops(loop.orelse, namer)
    loop.orelse = []
    has_break = _jumps(loop.body, ast.Break)
    has_continue = _jumps(loop.body, ast.Continue)
    if not has_break and not has_continue:
        return [loop, *orelse]
    stop = namer.fresh("_break") if has_break else None
    skip = namer.fresh("_continue") if has_continue else None
    flags = [f for f in (stop, skip) if f]
    body = _guard(loop.body, stop, skip, flags)
    if skip:
        body.insert(0, _assign(skip, ast.Constant(False), loop))
    if stop:
        body.append(_if(ast.Name(stop, ast.Load()), [ast.copy_location(ast.Break(), loop)], loop))
    loop.body = body
    before = [_assign(stop, ast.Constant(False), loop)] if stop else []
    after = [_if(_not(stop), orelse, orelse[-1])] if stop and orelse else orelse
    return before + [loop] + after


def _jumps(body: list[ast.stmt], kind: type) -> bool:
    """Whether `body` holds a `kind` jump belonging to this loop (not to an inner loop)."""
    for stmt in body:
        if isinstance(stmt, kind):
            return True
        if isinstance(stmt, ast.If) and (_jumps(stmt.body, kind) or _jumps(stmt.orelse, kind)):
            return True
    return False


def _guard(body: list[ast.stmt], stop: str | None, skip: str | None, flags: list[str]) -> list[ast.stmt]:
    out: list[ast.stmt] = []
    for i, stmt in enumerate(body):
        if isinstance(stmt, (ast.Break, ast.Continue)):
            flag = stop if isinstance(stmt, ast.Break) else skip
            out.append(_assign(flag, ast.Constant(True), stmt))  # type: ignore[arg-type]
            return out
        if isinstance(stmt, ast.If) and (_jumps([stmt], ast.Break) or _jumps([stmt], ast.Continue)):
            stmt.body = _guard(stmt.body, stop, skip, flags) or [ast.Pass()]
            stmt.orelse = _guard(stmt.orelse, stop, skip, flags)
            out.append(stmt)
            rest = _guard(body[i + 1:], stop, skip, flags)
            if rest:
                test = ast.BoolOp(ast.And(), [_not(f) for f in flags]) if len(flags) > 1 else _not(flags[0])
                out.append(_if(test, rest, rest[-1]))
            return out
        out.append(stmt)
    return out


def _assign(name: str, value: ast.expr, where: ast.AST) -> ast.Assign:
    return ast.copy_location(ast.Assign([ast.Name(name, ast.Store())], value), where)


def _if(test: ast.expr, body: list[ast.stmt], where: ast.AST) -> ast.If:
    """`if test: body` at `where`. A guard of the statements after a jump stands at the last of
    them, the first the backward sweep meets: its adjoint's comment is then that statement's
    own, which the reverse pass does not repeat, not the line of the jump's statement."""
    return ast.copy_location(ast.If(test, body, []), where)


def _not(name: str) -> ast.expr:
    return ast.UnaryOp(ast.Not(), ast.Name(name, ast.Load()))
