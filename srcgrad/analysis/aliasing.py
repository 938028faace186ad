"""May-alias analysis: which storage each name can refer to at each in-place write.

Abstract objects (`storage.py`) stand for storage: one per parameter, per module-level name and
per allocating expression (a call, an operator, a display). A name maps to the set of objects it
may refer to, flow-sensitively (branches join, loops run to a fixpoint); `holds` records, for
the whole function, which objects a container or closure may hold. Views (slices, `.T`,
`reshape`, `np.asarray`...) refer to their base's object, so a write through either is a write
into both. `NUMBER` stands for immutable values (numbers, strings, None): writing "into" one
rebinds, so it is never shared. The analysis returns data: the writes it found, each with the
objects it writes and the objects each name could refer to at that point.
"""

from __future__ import annotations

import ast
from typing import Any, Callable

from .storage import (
    FRESH_METHODS,
    ITEM_METHODS,
    NUMBER,
    NUMBER_ATTRIBUTES,
    NUMBER_BUILTINS,
    SELECTING_BUILTINS,
    SEQUENCE_BUILTINS,
    STORING_METHODS,
    VIEW_ATTRIBUTES,
    VIEW_FUNCTIONS,
    VIEW_METHODS,
    Aliasing,
    Objects,
    State,
    Write,
)

__all__ = ["NUMBER", "Aliasing", "Write", "analyse"]

class _Analysis(Objects):
    """The walk: expressions give the objects they may be, statements bind and write them."""

    def __init__(self, params: list[str], numbers: set[str], local_names: set[str],
                 callee_kind: Callable[[ast.Call], tuple[str, Any]], mutated: Callable[[ast.Call], ast.expr | None]):
        super().__init__(local_names)
        self.callee_kind = callee_kind
        self.mutated = mutated
        self.start: State = {}
        for index, name in enumerate(params):
            obj = -(index + 1)
            self.result.inputs[obj] = name
            self.result.holds[obj] = {obj}  # an argument's items are the caller's storage too
            self.start[name] = frozenset({NUMBER}) if name in numbers else frozenset({obj})
        self.current: ast.stmt | None = None
        self.synthetic: dict[int, ast.expr] = {}  # `x + v` read off `x += v`, kept so its object is stable

    # ---- expressions --------------------------------------------------------------------
    def value(self, node: ast.expr | None, state: State) -> frozenset[int]:
        """The objects `node`'s value may be."""
        if node is None or isinstance(node, (ast.Constant, ast.JoinedStr, ast.Slice)):
            if node is not None:
                self.reads(node, state)
            return frozenset({NUMBER})
        method = getattr(self, "expr_" + type(node).__name__, None)
        if method is not None:
            return method(node, state)
        return self.fresh(node, self.reads(node, state))

    def reads(self, node: ast.AST, state: State) -> frozenset[int]:
        """The objects of every name `node` reads (for expressions analysed coarsely)."""
        found: set[int] = set()
        for child in ast.walk(node):
            if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Load):
                found |= self.items(self.expr_Name(child, state))
        return frozenset(found)

    def expr_Name(self, node: ast.Name, state: State) -> frozenset[int]:
        if node.id in state:
            return state[node.id]
        if node.id in self.local_names:
            return frozenset()  # not bound on this path yet
        return self.global_object(node.id)

    def expr_BinOp(self, node: ast.BinOp, state: State) -> frozenset[int]:
        left, right = self.value(node.left, state), self.value(node.right, state)
        if left <= {NUMBER} and right <= {NUMBER}:
            return frozenset({NUMBER})
        joined = (left | right) & self.result.containers  # `(a,) + t` joins items; arrays make new storage
        made = self.fresh(node, self.items(frozenset(joined)) - joined, container=bool(joined))
        inputs = (left | right) & set(self.result.inputs)
        if inputs and not left <= {NUMBER} and not right <= {NUMBER}:
            self.result.joined_inputs.setdefault(id(node), set()).update(inputs)
        return made

    def expr_Compare(self, node: ast.Compare, state: State) -> frozenset[int]:
        operands = [self.value(e, state) for e in (node.left, *node.comparators)]
        return frozenset({NUMBER}) if all(o <= {NUMBER} for o in operands) else self.fresh(node)

    def expr_UnaryOp(self, node: ast.UnaryOp, state: State) -> frozenset[int]:
        operand = self.value(node.operand, state)
        return frozenset({NUMBER}) if operand <= {NUMBER} or isinstance(node.op, ast.Not) else self.fresh(node)

    def expr_BoolOp(self, node: ast.BoolOp, state: State) -> frozenset[int]:
        return frozenset().union(*(self.value(v, state) for v in node.values))

    def expr_IfExp(self, node: ast.IfExp, state: State) -> frozenset[int]:
        self.value(node.test, state)
        return self.value(node.body, state) | self.value(node.orelse, state)

    def expr_NamedExpr(self, node: ast.NamedExpr, state: State) -> frozenset[int]:
        found = self.value(node.value, state)
        state[node.target.id] = found
        return found

    def expr_Subscript(self, node: ast.Subscript, state: State) -> frozenset[int]:
        self.value(node.slice, state)
        base = self.value(node.value, state)
        if isinstance(node.slice, ast.Slice) and base & self.result.sequences:  # a list's slice is a new list
            copied = self.fresh(node, self.held(base & self.result.sequences), sequence=True)
            return copied | self.items(base - self.result.sequences)
        return self.items(base)

    def expr_Attribute(self, node: ast.Attribute, state: State) -> frozenset[int]:
        base = self.value(node.value, state)
        if node.attr in NUMBER_ATTRIBUTES:
            return frozenset({NUMBER})
        return base if node.attr in VIEW_ATTRIBUTES else self.items(base)

    def expr_Starred(self, node: ast.Starred, state: State) -> frozenset[int]:
        return self.items(self.value(node.value, state))

    def expr_Tuple(self, node: ast.Tuple | ast.List | ast.Set, state: State) -> frozenset[int]:
        held = frozenset().union(*(self.value(e, state) for e in node.elts))
        return self.fresh(node, held, sequence=True)

    expr_List = expr_Set = expr_Tuple

    def expr_Dict(self, node: ast.Dict, state: State) -> frozenset[int]:
        for key in node.keys:
            self.value(key, state)
        held = frozenset().union(*(self.value(v, state) for v in node.values))
        return self.fresh(node, held, sequence=True)

    def expr_Lambda(self, node: ast.Lambda, state: State) -> frozenset[int]:
        return self.fresh(node, self.reads(node.body, state))

    def expr_ListComp(self, node: Any, state: State) -> frozenset[int]:
        inner = dict(state)
        for generator in node.generators:
            self.bind(generator.target, self.items(self.value(generator.iter, inner)), inner)
            for test in generator.ifs:
                self.value(test, inner)
        if isinstance(node, ast.DictComp):
            self.value(node.key, inner)
            held = self.value(node.value, inner)
        else:
            held = self.value(node.elt, inner)
        return self.fresh(node, held, sequence=True)

    expr_SetComp = expr_GeneratorExp = expr_DictComp = expr_ListComp

    def expr_Call(self, node: ast.Call, state: State) -> frozenset[int]:
        args = [self.value(a, state) for a in node.args] + [self.value(k.value, state) for k in node.keywords]
        every = frozenset().union(*args) if args else frozenset()
        written = self.mutated(node)
        if written is not None:
            sources = [found for arg, found in zip([*node.args, *(k.value for k in node.keywords)], args)
                       if arg is not written]
            self.write(node, _root(written), "call", state, self.value(written, state), frozenset().union(*sources))
        kind, value = self.callee_kind(node)
        if kind == "method":
            return self.method_call(node, self.value(node.func.value, state), every)
        self.value(node.func, state)
        if kind == "number" or id(value) in NUMBER_BUILTINS:
            return frozenset({NUMBER})
        if id(value) in SEQUENCE_BUILTINS:
            return self.fresh(node, self.items(every), sequence=True)
        if id(value) in SELECTING_BUILTINS:
            return self.items(every) if len(node.args) == 1 else every
        if kind == "view" or id(value) in VIEW_FUNCTIONS:
            return args[0] if args else frozenset()
        if kind in ("rule", "nondiff"):
            return self.fresh(node)
        if value is None:  # a local callable (a lambda, a closure) may return what it holds
            every |= self.items(self.value(node.func, state))
        return self.fresh(node, self.items(every), container=True) | self.items(every)

    def method_call(self, node: ast.Call, receiver: frozenset[int], args: frozenset[int]) -> frozenset[int]:
        method = node.func.attr  # type: ignore[attr-defined]
        if method in STORING_METHODS:
            self.hold(receiver, args if method in ("append", "insert") else self.items(args))
            return frozenset({NUMBER})
        if method in VIEW_METHODS:
            return receiver
        if method in FRESH_METHODS:
            return self.fresh(node)
        if method in ITEM_METHODS:
            return self.held(receiver) | (receiver & set(self.result.inputs)) | args
        return self.fresh(node, self.items(receiver | args), container=True) | self.items(receiver | args)

    # ---- statements ---------------------------------------------------------------------
    def block(self, body: list[ast.stmt], state: State) -> State:
        for stmt in body:
            self.current, self.state = stmt, state
            state = self.statement(stmt, state)
        return state

    def statement(self, stmt: ast.stmt, state: State) -> State:
        method = getattr(self, "stmt_" + type(stmt).__name__, None)
        if method is not None:
            return method(stmt, state)
        self.reads(stmt, state)
        for child in ast.walk(stmt):
            if isinstance(child, ast.Call):
                self.expr_Call(child, state)
        return state

    def stmt_Assign(self, stmt: ast.Assign, state: State) -> State:
        value, targets = stmt.value, stmt.targets
        if len(targets) == 1 and _pairs(targets[0], value):  # `a, b = (u, v)`: each name gets its own value
            for target, part in zip(list(targets[0].elts), [self.value(v, state) for v in value.elts]):  # type: ignore[attr-defined]
                self.bind(target, part, state, stmt)
            return state
        found = self.value(value, state)
        for target in targets:
            self.bind(target, found, state, stmt)
        return state

    def stmt_AnnAssign(self, stmt: ast.AnnAssign, state: State) -> State:
        if stmt.value is not None:
            self.bind(stmt.target, self.value(stmt.value, state), state, stmt)
        return state

    def stmt_AugAssign(self, stmt: ast.AugAssign, state: State) -> State:
        target = stmt.target
        combined = self.synthetic.setdefault(id(stmt), ast.BinOp(_as_load(target), stmt.op, stmt.value))
        result = self.value(combined, state)
        if isinstance(target, ast.Name):
            self.write(stmt, target.id, "rebinding", state, self.value(_as_load(target), state))
            state[target.id] = state.get(target.id, frozenset()) | result
        elif isinstance(target, ast.Subscript):
            container = self.value(target.value, state)
            self.write(stmt, _root(target), "item", state, self.items(container))  # the item may be written into too
            self.hold(container, result)
        return state

    def stmt_Expr(self, stmt: ast.Expr, state: State) -> State:
        self.value(stmt.value, state)
        return state

    def stmt_Return(self, stmt: ast.Return, state: State) -> State:
        self.value(stmt.value, state)
        return state

    def stmt_Delete(self, stmt: ast.Delete, state: State) -> State:
        for target in stmt.targets:
            if isinstance(target, ast.Subscript):
                self.write(target, _root(target), "item", state, self.value(target.value, state))
        return state

    def stmt_If(self, stmt: ast.If, state: State) -> State:
        self.value(stmt.test, state)
        return _join(self.block(stmt.body, dict(state)), self.block(stmt.orelse, dict(state)))

    def stmt_With(self, stmt: ast.With, state: State) -> State:
        for item in stmt.items:
            self.value(item.context_expr, state)
        return self.block(stmt.body, state)

    def stmt_For(self, stmt: ast.For | ast.While, state: State) -> State:
        head = dict(state)
        while True:
            inner = dict(head)
            self.state = inner
            if isinstance(stmt, ast.For):
                self.bind(stmt.target, self.items(self.value(stmt.iter, inner)), inner)
            else:
                self.value(stmt.test, inner)
            grown = _join(head, self.block(stmt.body, inner))
            if grown == head:
                break
            head = grown
        return self.block(stmt.orelse, head)

    stmt_While = stmt_For

    def stmt_FunctionDef(self, stmt: ast.FunctionDef, state: State) -> State:
        state[stmt.name] = self.fresh(stmt, self.reads(stmt, state))
        return state

    # ---- binding and writing ------------------------------------------------------------
    def bind(self, target: ast.expr, found: frozenset[int], state: State, stmt: ast.AST | None = None) -> None:
        if isinstance(target, ast.Name):
            state[target.id] = found
        elif isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                inner = self.items(found)
                if isinstance(element, ast.Starred):
                    self.bind(element.value, self.fresh(element, inner, sequence=True), state, stmt)
                else:
                    self.bind(element, inner, state, stmt)
        elif isinstance(target, ast.Subscript):
            container = self.value(target.value, state)
            self.value(target.slice, state)
            self.write(target, _root(target), "item", state, container)
            self.hold(container, found)
        elif isinstance(target, ast.Starred):
            self.bind(target.value, found, state, stmt)

    def write(self, node: ast.AST, root: str | None, kind: str, state: State,
              objects: frozenset[int] | None = None, sources: frozenset[int] = frozenset()) -> None:
        if root is None:
            return
        if objects is None:
            objects = state.get(root, frozenset())
        before = self.result.writes.get(id(node))
        names = dict(state)
        if before is not None:
            objects, sources = objects | before.objects, sources | before.sources
            names = _join(before.names, names)
        statement = self.current if self.current is not None else node
        self.result.writes[id(node)] = Write(node, statement, root, kind, objects - {NUMBER}, names, sources)


def analyse(
    node: ast.FunctionDef, numbers: set[str], local_names: set[str],
    callee_kind: Callable[[ast.Call], tuple[str, Any]], mutated: Callable[[ast.Call], ast.expr | None],
) -> Aliasing:
    """The in-place writes of `node` and what each may write into. `numbers` names parameters known
    to hold numbers; `callee_kind(call)` says what a call is ("rule", "view", "number", "nondiff",
    "method", "user"...) and the object called; `mutated(call)` is what a call writes into, or None."""
    params = [a.arg for a in node.args.posonlyargs + node.args.args + node.args.kwonlyargs]
    analysis = _Analysis(params, numbers, local_names, callee_kind, mutated)
    while analysis.changed:  # what containers hold is shared by all paths: run until it settles
        analysis.changed = False
        analysis.allocated.clear()
        analysis.block(node.body, dict(analysis.start))
    return analysis.result


def _pairs(target: ast.expr, value: ast.expr) -> bool:
    return isinstance(target, (ast.Tuple, ast.List)) and isinstance(value, (ast.Tuple, ast.List)) \
        and len(target.elts) == len(value.elts) and not any(isinstance(e, ast.Starred) for e in (*target.elts, *value.elts))


def _join(one: State, other: State) -> State:
    return {name: one.get(name, frozenset()) | other.get(name, frozenset()) for name in one.keys() | other.keys()}


def _root(expr: ast.expr) -> str | None:
    while isinstance(expr, (ast.Attribute, ast.Subscript, ast.Starred)):
        expr = expr.value
    return expr.id if isinstance(expr, ast.Name) else None


def _as_load(target: ast.expr) -> ast.expr:
    """A read of the augmented target (`x` in `x += v`), for evaluating `x + v`."""
    if isinstance(target, ast.Name):
        return ast.Name(target.id, ast.Load())
    return ast.Subscript(target.value, target.slice, ast.Load()) if isinstance(target, ast.Subscript) else target
