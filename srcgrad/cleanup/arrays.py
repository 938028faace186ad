"""Array-aware clean-up of generated reverse code: no bookkeeping the shapes make idle.

Runs on a derivative function after `clean_function`, on its top-level straight-line code
(loops and branches are left as they are), using the shape facts of `shapes.py`:

* `unbroadcast(g, x)` where `g` is known to be shaped like `x` is just `g`;
* `seed(out)` where `out` is known to have shape `()` (a full reduction) is just `1.0`;
* `reduced_count(x, ans)` where `ans` has shape `()` (a mean over everything) is
  `np.size(x)`, so `ans` need not be computed for the gradient alone;
* the gradient of a full reduction stays a number ("lazy") instead of being spread into a
  full array by `expand_reduced`, as long as every reader is elementwise arithmetic with
  numbers, other such numbers, or values of the reduced argument's shape, where NumPy
  broadcasting spreads it for free, or a dropped `unbroadcast` back to that shape; any
  other reader (a final gradient, a call, a loop) keeps the `expand_reduced`;
* a value read only for its shape (`unbroadcast(g, x)`, `expand_reduced(g, x, ...)`) is
  read from an equally shaped value the code keeps anyway, so `x` need not be computed.

The values these rewrites stop reading are then dead, and `clean_function` drops them.
"""

from __future__ import annotations

import ast
from typing import Any, Callable, NamedTuple

import numpy as np

from ..analysis.shapes import ELEMENTWISE, SCALAR, SHAPE_ONLY, Shapes, bound_once
from ..request import ALL
from ..rules.reduction_vjp import expand_reduced, reduced_count
from ..runtime.core import add_at, getitem_vjp, seed, unbroadcast
from ..syntax.astquery import callee, loads
from ..syntax.emit import CodeNames
from ..syntax.fastast import walk
from ..syntax.folding import fold_signs, fold_statement, without_unit_float
from ..syntax.usage import UsageCache
from .fusion import fuse_single_use
from .peephole import clean_function


class Info(NamedTuple):
    """The shape class a value has (`actual`) and, for a lazy number, the class of the
    array it stands for (`virtual`); `lazy` are the `expand_reduced` calls it relies on."""

    actual: str
    virtual: str
    lazy: frozenset[int] = frozenset()


class _Walk:
    """One pass over the top-level statements: shape facts, lazies, and what to rewrite."""

    def __init__(self, shapes: Shapes, rejected: set[int]) -> None:
        self.shapes, self.rejected = shapes, rejected
        self.lazy: dict[str, Info] = {}
        self.drop: set[int] = set()  # ids of calls to replace by their first argument
        self.seeds: set[int] = set()  # ids of `seed(...)` calls that are `1.0`
        self.sizes: set[int] = set()  # ids of `reduced_count(x, ans)` calls that are `np.size(x)`
        self.rejections: set[int] = set()

    def is_lazy(self, info: Info | None) -> bool:
        return info is not None and self.shapes.find(info.actual) != self.shapes.find(info.virtual)

    def reject(self, *infos: Info | None) -> None:
        for info in infos:
            if self.is_lazy(info):
                self.rejections |= info.lazy  # type: ignore[union-attr]

    def statement(self, stmt: ast.stmt) -> None:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            name = stmt.targets[0].id
            info = self.expr(stmt.value)
            if self.is_lazy(info):
                if name in self.shapes.stable:
                    self.lazy[name] = info  # type: ignore[assignment]
                else:
                    self.reject(info)
            elif info is not None and name in self.shapes.stable:
                self.shapes.union(name, info.actual)
            else:
                self.shapes.learn(stmt)
            return
        for name in loads(stmt):  # returned, looped over, passed to a statement: needs the array
            self.reject(self.lazy.get(name))

    def plain(self, expr: ast.expr) -> str | None:
        """The class of a value read as it is (a lazy number there needs its array)."""
        info = self.expr(expr)
        self.reject(info)
        return None if info is None or self.is_lazy(info) else self.shapes.find(info.actual)

    def expr(self, expr: ast.expr) -> Info | None:
        shapes = self.shapes
        if isinstance(expr, ast.Name) and expr.id in self.lazy:
            return self.lazy[expr.id]
        if isinstance(expr, (ast.Name, ast.Constant)):
            known = shapes.of(expr)
            return Info(known, known) if known is not None else None
        if isinstance(expr, ast.BinOp) and isinstance(expr.op, ELEMENTWISE):
            return self.elementwise([expr.left, expr.right])
        if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, (ast.USub, ast.UAdd)):
            return self.elementwise([expr.operand])
        if isinstance(expr, ast.Call):
            return self.call(expr)
        for name in loads(expr):
            self.reject(self.lazy.get(name))
        return None

    def elementwise(self, operands: list[ast.expr]) -> Info | None:
        infos = [self.expr(o) for o in operands]
        lazies = [i for i in infos if self.is_lazy(i)]
        find = self.shapes.find
        if not lazies:
            known = self.shapes.combine([i.actual if i else None for i in infos])
            return Info(known, known) if known is not None else None
        virtual = find(lazies[0].virtual)
        fits = all(find(i.virtual) == virtual for i in lazies) and all(
            i is not None and find(i.actual) in (SCALAR, virtual) for i in infos if not self.is_lazy(i)
        )
        if not fits:
            self.reject(*lazies)
            return None
        if any(find(i.actual) == virtual for i in infos if i is not None and not self.is_lazy(i)):
            return Info(virtual, virtual)  # broadcasting against a full operand spreads the number
        return Info(SCALAR, virtual, frozenset().union(*(i.lazy for i in lazies)))

    def call(self, call: ast.Call) -> Info | None:
        fn = callee(call, self.shapes.value_of)
        args = call.args
        if fn is expand_reduced and len(args) >= 2 and not call.keywords:
            first, like = self.expr(args[0]), self.plain(args[1])
            for arg in args[2:]:
                self.plain(arg)
            if first is not None and like is not None and like != SCALAR and self.shapes.find(first.actual) == SCALAR \
                    and id(call) not in self.rejected:
                self.drop.add(id(call))
                return Info(SCALAR, like, first.lazy | {id(call)})
            return Info(like, like) if like is not None else None  # spreads a lazy number itself
        if fn is unbroadcast and len(args) == 2 and not call.keywords:
            first, like = self.expr(args[0]), self.plain(args[1])
            if first is not None and like is not None and self.shapes.find(first.virtual) == like:
                self.drop.add(id(call))
                return first
            self.reject(first)
            return Info(like, like) if like is not None else None
        if fn is seed and len(args) == 1 and not call.keywords:
            if self.plain(args[0]) == SCALAR:
                self.seeds.add(id(call))
            return Info(SCALAR, SCALAR)
        if fn is reduced_count and len(args) == 2 and not call.keywords:
            self.plain(args[0])
            if self.plain(args[1]) == SCALAR:
                self.sizes.add(id(call))
            return Info(SCALAR, SCALAR)
        if isinstance(fn, np.ufunc) and fn.nout == 1 and fn.nin == len(args) and not call.keywords:
            return self.elementwise(list(args))
        for arg in [*args, *(k.value for k in call.keywords)]:
            self.plain(arg)
        known = self.shapes.of(call)
        return Info(known, known) if known is not None else None


def _plan(node: ast.FunctionDef, scalars: set[str], value_of: Callable[[ast.expr], Any]) -> _Walk:
    """Walk until no lazy number meets a reader that needs its array."""
    stable = bound_once(node)
    rejected: set[int] = set()
    while True:
        walk = _Walk(Shapes(stable, scalars, value_of), rejected)
        for stmt in node.body:
            walk.statement(stmt)
        if not walk.rejections - rejected:
            return walk
        rejected |= walk.rejections


class _Rewrite(ast.NodeTransformer):
    def __init__(self, walk: _Walk, size: str | None) -> None:
        self.walk, self.size = walk, size

    def visit_Call(self, node: ast.Call) -> ast.expr:
        self.generic_visit(node)
        if id(node) in self.walk.seeds:
            return ast.copy_location(ast.Constant(1.0), node)
        if id(node) in self.walk.sizes and self.size is not None:
            return ast.copy_location(ast.Call(ast.Name(self.size, ast.Load()), [node.args[0]], []), node)
        if id(node) in self.walk.drop:
            return node.args[0]
        return node


def drop_shape_bookkeeping(
    node: ast.FunctionDef, scalars: set[str], value_of: Callable[[ast.expr], Any],
    bind: Callable[[str, Any], str] | None = None,
) -> bool:
    """Apply the rewrites the module docstring lists to `node`'s top-level statements; say
    whether there were any. Without `bind`, which names `np.size` in the generated code,
    counts stay `reduced_count` calls."""
    walk = _plan(node, scalars, value_of)
    size = bind("size", np.size) if bind is not None and walk.sizes else None
    if walk.drop or walk.seeds or size is not None:
        rewrite = _Rewrite(walk, size)
        node.body = [rewrite.visit(s) if not isinstance(s, (ast.If, ast.For, ast.While)) else s for s in node.body]
        return True
    return False


def read_shapes_from_kept_values(node: ast.FunctionDef, scalars: set[str], value_of: Callable[[ast.expr], Any]) -> bool:
    """`unbroadcast(g, t)` where `t` is read only for its shape becomes `unbroadcast(g, u)`
    for a value `u` of `t`'s class that the code reads anyway (a parameter, or one defined
    earlier), so `t` need not be kept alive or even computed. Returns whether it changed `node`."""
    shapes = _plan(node, scalars, value_of).shapes
    shape_reads: dict[str, int] = {}
    positions: list[tuple[ast.Call, int]] = []
    for stmt in node.body:
        if isinstance(stmt, (ast.If, ast.For, ast.While)):
            continue
        for call in walk(stmt):
            if isinstance(call, ast.Call) and isinstance(call.func, ast.Name):
                for position in SHAPE_ONLY.get(id(callee(call, value_of)), ()):
                    if position < len(call.args) and isinstance(call.args[position], ast.Name):
                        positions.append((call, position))
                        name = call.args[position].id  # type: ignore[attr-defined]
                        shape_reads[name] = shape_reads.get(name, 0) + 1
    if not positions:
        return False
    reads: dict[str, int] = {}
    for stmt in node.body:
        for n in walk(stmt):
            if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load):
                reads[n.id] = reads.get(n.id, 0) + 1
    params = [a.arg for a in node.args.posonlyargs + node.args.args + node.args.kwonlyargs]
    order = list(params)
    for stmt in node.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            order.append(stmt.targets[0].id)
    kept = [n for n in order if n in shapes.stable and (n in params or reads.get(n, 0) > shape_reads.get(n, 0))]
    defined_at = {name: i for i, name in enumerate(order)}
    changed = False
    for call, position in positions:
        name = call.args[position].id  # type: ignore[attr-defined]
        if name not in shapes.stable or reads.get(name, 0) > shape_reads.get(name, 0):
            continue  # its value is read anyway
        cls = shapes.find(name)
        if cls == SCALAR:
            continue
        for other in kept:
            if shapes.find(other) == cls and defined_at.get(other, 0) < defined_at.get(name, 0):
                call.args[position] = ast.copy_location(ast.Name(other, ast.Load()), call.args[position])
                changed = True
                break
    return changed



def scatter_into_one_buffer(node: ast.FunctionDef, value_of: Callable[[ast.expr], Any], add_at_name: str) -> None:
    """`v = getitem_vjp(a, x, i) + getitem_vjp(b, x, j)` (the cotangent of `x` from two of
    its slices) becomes `v = getitem_vjp(a, x, i)` and `v = add_at(v, j, b)`: one zero-filled
    buffer that the other parts are added into, rather than one buffer per part and their sums."""
    out: list[ast.stmt] = []
    for stmt in node.body:
        out.append(stmt)
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)):
            continue
        terms = _sum_terms(stmt.value)
        name = stmt.targets[0].id
        if len(terms) < 2 or name in loads(stmt.value) or not all(_is_getitem_vjp(t, value_of) for t in terms):
            continue
        bases = {ast.dump(t.args[1]) for t in terms}  # type: ignore[attr-defined]
        if len(bases) != 1 or not isinstance(terms[0].args[1], ast.Name):  # type: ignore[attr-defined]
            continue
        stmt.value = terms[0]
        for term in terms[1:]:
            g, _, index = term.args  # type: ignore[attr-defined]
            call = ast.Call(ast.Name(add_at_name, ast.Load()), [ast.Name(name, ast.Load()), index, g], [])
            out.append(ast.copy_location(ast.Assign([ast.Name(name, ast.Store())], call), stmt))
    node.body = out


def _sum_terms(value: ast.expr) -> list[ast.expr]:
    if isinstance(value, ast.BinOp) and isinstance(value.op, ast.Add):
        return _sum_terms(value.left) + [value.right]
    return [value]


def _is_getitem_vjp(term: ast.expr, value_of: Callable[[ast.expr], Any]) -> bool:
    return isinstance(term, ast.Call) and len(term.args) == 3 and not term.keywords \
        and callee(term, value_of) is getitem_vjp


def lighten(
    node: ast.FunctionDef, names: CodeNames, scalars: set[str], adjoints: dict[str, str], usage: UsageCache,
    passes: frozenset[str] = ALL, in_place: bool = True,
) -> ast.FunctionDef:
    """The array passes on a cleaned derivative function: shape bookkeeping, then
    `clean_function` again for the values it left unread, then one buffer per sliced
    cotangent and fusion of single-use values into the backward sweep (the assignments to
    the cotangents, the values of `adjoints`, which maps a name to its cotangent's). `names`
    says what the code's names refer to; without `in_place` (code that is differentiated
    again) nothing is done in place. `usage` knows what `node`'s statements read. `passes`:
    the clean-ups `clean_function` may run."""
    value_of, is_pure = names.value_of, names.is_pure
    bind = names.bind if in_place else None
    called = _helpers_read(node, usage, names.name_of)
    if called & {id(unbroadcast), id(expand_reduced), id(reduced_count), id(seed)}:
        if drop_shape_bookkeeping(node, scalars, value_of, bind):
            node = clean_function(node, names, passes)
        for _ in range(3):  # each round can leave another value read only for its shape
            if not read_shapes_from_kept_values(node, scalars, value_of):
                break
            node = clean_function(node, names, passes)
    if bind is not None and id(getitem_vjp) in called:
        scatter_into_one_buffer(node, value_of, bind("add_at", add_at))
    numbers = scalars | {adjoints[name] for name in scalars if name in adjoints}
    learned: list[Shapes] = []  # the shape facts, worked out only if a name is not known to be a number

    def movable(value: ast.expr) -> bool:
        return all(is_pure(c) and callee(c, value_of) is not add_at for c in walk(value) if isinstance(c, ast.Call))

    def keep(name: str) -> bool:
        """Whether `name` holds a number (fusing it buys nothing): a scalar value, or its
        cotangent (a number's cotangent is one, as the rules for scalars give)."""
        if name in numbers:
            return True
        if not learned:
            learned.append(Shapes(bound_once(node), scalars, value_of))
            for stmt in node.body:
                learned[0].learn(stmt)
        return learned[0].of(ast.Name(name, ast.Load())) == SCALAR

    def ufunc(call: ast.Call) -> bool:
        fn = callee(call, value_of)
        return isinstance(fn, np.ufunc) and fn.nout == 1 and fn.nin == len(call.args) and not call.keywords

    node = fuse_single_use(node, movable, keep, ufunc, set(adjoints.values()))
    for stmt in node.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name) \
                and not keep(stmt.targets[0].id):
            stmt.value = fold_signs(stmt.value)
            fold_statement(stmt)
            if isinstance(stmt.value, ast.BinOp) and isinstance(stmt.value.op, ast.Mult):
                stmt.value = without_unit_float(stmt.value)
    return node


def _helpers_read(node: ast.FunctionDef, usage: UsageCache, named: Callable[[Any], str | None]) -> set[int]:
    """The ids of the runtime helpers whose names `node` reads (how it calls them): the
    passes for helpers it does not call have nothing to do."""
    usage.check(node.body)
    names = {name: id(helper) for helper in _GATED if (name := named(helper)) is not None}
    if not names:
        return set()
    read = set().union(*(usage.of(stmt).loads for stmt in node.body))
    return {key for name, key in names.items() if name in read}


_GATED = (unbroadcast, expand_reduced, reduced_count, seed, getitem_vjp)
