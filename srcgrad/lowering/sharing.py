"""In-place writes to shared storage: Python's semantics, or a located refusal.

srcgrad differentiates `x += v`, `a[i] = v` and the mutating calls as if they made a new value
for the name written. That is exactly what Python does when nothing else can see the storage:
the name's old value is fresh (made by an allocating operation or `.copy()`), or is a number
(`+=` on a number rebinds). When another name that is read later, a container that holds the
storage, or an argument (the caller's array) shares it, Python changes them too, which srcgrad
cannot follow: such a write is refused at its line, naming what shares the storage and how to
copy. Where only the run-time type tells (`s += v` on a parameter that may be a float or an
array), a check before the statement raises the same refusal when the value is an object that
`+=` changes in place.
"""

from __future__ import annotations

import ast
import copy
from typing import Any

from ..analysis import aliasing
from ..analysis.liveness import live_after
from ..errors import SourceInfo, located_error, located_message
from ..facts import is_generated
from ..frontend.resolve import MISSING, Resolver
from ..runtime.guards import check_held_once, check_unshared
from .mutators import CONTAINER_METHODS, functional_form, written_into

_OPERATORS = {
    ast.Add: ("+", "add"), ast.Sub: ("-", "sub"), ast.Mult: ("*", "mul"), ast.Div: ("/", "truediv"),
    ast.FloorDiv: ("//", "floordiv"), ast.Mod: ("%", "mod"), ast.Pow: ("**", "pow"), ast.MatMult: ("@", "matmul"),
    ast.BitAnd: ("&", "and"), ast.BitOr: ("|", "or"), ast.BitXor: ("^", "xor"),
    ast.LShift: ("<<", "lshift"), ast.RShift: (">>", "rshift"),
}


class SharedWrites:
    """The pass: analyse `node`'s writes, refuse the shared ones, guard the undecided ones."""

    def __init__(self, info: SourceInfo, resolver: Resolver, namer: Any, injected: dict[str, Any]):
        self.info = info
        self.resolver = resolver
        self.namer = namer
        self.injected = injected

    def run(self, node: ast.FunctionDef, numbers: frozenset[str]) -> ast.FunctionDef:
        if is_generated(self.info.filename):
            # srcgrad's own derivative code, differentiated again (higher order): its in-place
            # writes are its tape's, and the user's were checked when it was generated
            return node
        found = aliasing.analyse(node, set(numbers), self.resolver.local_names, self.callee_kind, self.mutated)
        live = live_after(node.body)
        guards: dict[int, list[ast.stmt]] = {}
        rewrites: dict[int, ast.stmt] = {}
        for write in found.writes.values():
            inputs, sharers = _sharing(write, found, live.get(id(write.statement), frozenset()))
            inputs = [("the module-level " if name in found.module_names() else "the argument ") + f"`{name}`"
                      for name in inputs]
            if not inputs and not sharers or write.kind == "rebinding" and not write.objects:
                held_once = self.held_once(write, found)
                if held_once is not None:
                    guards.setdefault(id(write.statement), []).append(held_once)
                rewrite = self.rewritten_or_refused(write)
                if rewrite is not None:
                    rewrites[id(write.statement)] = rewrite
                continue
            message = self.message(write, inputs, sharers)
            if write.kind != "rebinding":
                raise located_error(self.info, write.node, message)
            guards.setdefault(id(write.statement), []).append(
                self.guard(write, located_message(self.info, write.node, message)))
        if guards or rewrites:
            _splice(node, guards, rewrites)
        return node

    def rewritten_or_refused(self, write: aliasing.Write) -> ast.stmt | None:
        """A NumPy call that writes into an array nothing else shares becomes its functional form
        (`out = put_into(out, i, w)`, returned: `mutators.py`); one with no derivative for the write
        (`np.putmask(out, m, w)`) is refused: run as it is, its derivative would be lost."""
        call = write.node
        if write.kind == "call" and write.statement.value is call:  # type: ignore[attr-defined]
            rewrite = functional_form(write.statement, self.resolver.static_value, self.namer.reserve)  # type: ignore[arg-type]
            if rewrite is not None:
                self.injected.update(rewrite[1])
                return rewrite[0]
        if write.kind != "call" or not write.sources - {aliasing.NUMBER}:
            return None
        if isinstance(call.func, ast.Attribute) and call.func.attr in CONTAINER_METHODS:  # type: ignore[attr-defined]
            return None
        raise located_error(self.info, call, f"{_describe(write)} writes values into `{write.root}` in place, and "
                            "srcgrad has no derivative for that write; build a new array instead (e.g. "
                            f"`{write.root} = np.where(...)`, `{write.root}[index] = value`, `np.full_like(...)`)")

    # ---- what calls are -----------------------------------------------------------------
    def callee_kind(self, call: ast.Call) -> tuple[str, Any]:
        value = self.resolver.static_value(call.func)
        if value is MISSING:
            return ("method" if isinstance(call.func, ast.Attribute) else "dynamic"), None
        return self.resolver.callee(call).kind, value

    def mutated(self, call: ast.Call) -> ast.expr | None:
        """What `call` writes into (`mutators.written_into`), for the analysis."""
        return written_into(call, self.resolver.static_value)

    # ---- refusals -----------------------------------------------------------------------
    def message(self, write: aliasing.Write, inputs: list[str], sharers: list[str]) -> str:
        what = _describe(write)
        if inputs:
            return (f"{what} writes in place into {' and '.join(inputs)}, so Python changes it outside the function "
                    f"too; srcgrad cannot differentiate that: {_advice(write, inputs[0].split('`')[1])}")
        names = ", ".join(f"`{name}`" for name in sharers)
        return (f"{what} writes in place into storage that {names} also refer{'s' if len(sharers) == 1 else ''} to "
                f"(a copy, a view or a container holding it), so Python changes {names} too; srcgrad cannot "
                f"follow that: to leave {names} as {'it is' if len(sharers) == 1 else 'they are'}, "
                f"{_advice(write, write.root)}; to change {'it' if len(sharers) == 1 else 'them'} too, "
                f"write into {names} itself")

    def held_once(self, write: aliasing.Write, found: aliasing.Aliasing) -> ast.stmt | None:
        """`check_held_once(L, L[0], "__iadd__", _shared1)` before `L[0] += v` or `L[0][1] = v`
        when `L` may hold objects that change in place: one held twice (`[c, c]`) is refused."""
        node = write.node
        target = node.target if isinstance(node, ast.AugAssign) else node
        root = ast.Name(write.root, ast.Load())
        objects = write.names.get(write.root, frozenset())
        joined = found.inputs_joined(objects | found.held(objects))
        if write.kind == "rebinding" and joined and write.objects:  # `v += 1` where v may be an item of `t + s`
            container, item, method = root, root, f"__i{_OPERATORS[type(node.op)][1]}__"
        elif write.kind != "item" or not isinstance(target, ast.Subscript):
            return None
        elif isinstance(node, ast.AugAssign):
            container, item, method = target.value, target, f"__i{_OPERATORS[type(node.op)][1]}__"
        elif isinstance(target.value, ast.Subscript):
            container, item, method = root, target.value, "__setitem__"
        elif joined:  # `v[1] = x` where v may be an item of `t + s`
            container, item, method = root, root, "__setitem__"
        else:
            return None
        # only lists, tuples, dicts (or what may be one) hold objects; an array's items are its own storage
        containers = objects & (found.containers | set(found.inputs))
        if not (containers and found.held(containers)) and not joined:
            return None
        message = (f"{_describe(write)} writes in place into an object that `{ast.unparse(container)}` holds more "
                   "than once (as in `[c, c]`) or that an argument holds, so Python changes it in every place it "
                   "is held; srcgrad cannot "
                   "follow that: hold copies (`[c, c.copy()]`)"
                   + (f", or write `{ast.unparse(target)} = {ast.unparse(target)} "
                      f"{_OPERATORS[type(node.op)][0]} ...` (a new value)" if isinstance(node, ast.AugAssign) else ""))
        sources = ast.Tuple([ast.Name(name, ast.Load()) for name in joined], ast.Load())
        return self.check_call("check_held_once", check_held_once,
                               [_load(container), _load(item), ast.Constant(method), sources],
                               located_message(self.info, write.node, message), node)

    def check_call(self, name: str, check: Any, args: list[ast.expr], message: str, where: ast.AST) -> ast.stmt:
        """The statement `<check>(*args, _sharedN)`, with the located message bound to `_sharedN`."""
        message_name = self.namer.reserve("_shared")
        check_name = self.namer.reserve(name)
        self.injected[message_name] = message
        self.injected[check_name] = check
        call = ast.Call(ast.Name(check_name, ast.Load()), [*args, ast.Name(message_name, ast.Load())], [])
        return ast.copy_location(ast.Expr(call), where)

    def guard(self, write: aliasing.Write, message: str) -> ast.stmt:
        """`check_unshared(x, "__iadd__", _shared1)` before `x += v`: refuses when `x` is an
        object that `+=` changes in place (an array, a list), not when it is a number."""
        assert isinstance(write.node, ast.AugAssign)
        dunder = f"__i{_OPERATORS[type(write.node.op)][1]}__"
        args = [ast.Name(write.root, ast.Load()), ast.Constant(dunder)]
        return self.check_call("check_unshared", check_unshared, args, message, write.node)


def _sharing(write: aliasing.Write, found: aliasing.Aliasing, live: frozenset[str]) -> tuple[list[str], list[str]]:
    """The arguments or module-level names whose storage `write` may change, and the other
    names read later that may see the change."""
    inputs = sorted({found.inputs[obj] for obj in write.objects if obj in found.inputs})
    written = write.objects - found.markers.keys()
    sharers = sorted(
        name for name in live if name != write.root and name in write.names
        and found.reach(write.names[name]) & written
    )
    return inputs, sharers


def _describe(write: aliasing.Write) -> str:
    node = write.node
    if isinstance(node, ast.AugAssign):
        return f"`{ast.unparse(node.target)} {_OPERATORS[type(node.op)][0]}= ...`"
    if isinstance(node, ast.Call):
        return f"`{ast.unparse(node.func)}(...)`"
    if isinstance(node, ast.Subscript):
        return f"`{ast.unparse(node)} = ...`"
    return "this statement"


def _advice(write: aliasing.Write, name: str) -> str:
    node = write.node
    if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
        symbol = _OPERATORS[type(node.op)][0]
        return f"write `{name} = {name} {symbol} ...` (a new value), or copy first: `{name} = {name}.copy()`"
    return f"copy first, e.g. `{name} = {name}.copy()`, and write into the copy"


def _load(expr: ast.expr) -> ast.expr:
    """A copy of `expr` that reads it (a target's subscript, turned into a read)."""
    copied = copy.deepcopy(expr)
    for node in ast.walk(copied):
        if hasattr(node, "ctx"):
            node.ctx = ast.Load()
    return copied


def _splice(node: ast.AST, guards: dict[int, list[ast.stmt]], rewrites: dict[int, ast.stmt]) -> None:
    """Put each statement's guards just before it and its rewrite in its place, in whatever body holds it."""
    for holder in ast.walk(node):
        for field in ("body", "orelse", "finalbody"):
            body = getattr(holder, field, None)
            if isinstance(body, list) and any(id(stmt) in guards or id(stmt) in rewrites for stmt in body):
                setattr(holder, field, [part for stmt in body for part in (
                    *guards.get(id(stmt), ()), rewrites.get(id(stmt), stmt))])
