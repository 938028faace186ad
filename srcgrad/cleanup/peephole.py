"""The clean-up of a whole derivative function: propagate constants and copies, fold numbers
(`folding`), merge first accumulations, drop dead values, round after round until nothing changes."""

from __future__ import annotations

import ast
from collections import Counter
from typing import Any, Callable

from ..request import ALL
from ..syntax.astquery import count_statements, is_number, statements
from ..syntax.emit import CodeNames
from ..syntax.fastast import Transformer, walk
from ..syntax.folding import equals_number, fold_statement
from ..syntax.usage import UsageCache
from .simplify import FloatSimplifier


# ---- whole-function clean-up ------------------------------------------------------------
def _name_counts(body: list[ast.stmt]) -> tuple[dict[str, int], dict[str, int]]:
    """How often each name is bound (assignments, parameters, `x += ...`) and read
    (loads, and `nonlocal` declarations, which must keep their binding)."""
    return UsageCache().counts(body)


class _Replace(Transformer):
    def __init__(self, mapping: dict[str, ast.expr]) -> None:
        self.mapping = mapping

    def visit_Name(self, node: ast.Name) -> ast.expr:
        value = self.mapping.get(node.id)
        if value is not None and isinstance(node.ctx, ast.Load):
            return ast.copy_location(type(value)(**{f: getattr(value, f) for f in value._fields}), node)
        return node


def _propagate(
    body: list[ast.stmt], params: set[str], cache: UsageCache | None = None,
) -> tuple[list[ast.stmt], set[int]]:
    """Replace names bound once, at top level, to a number or to another name bound once
    (or to a parameter the body never rebinds); also returns the ids of the statements that
    changed."""
    cache = cache or UsageCache()
    stores, _ = cache.counts(body)
    once = {name for name, count in stores.items() if count == 1 and name not in params}
    fixed_params = {name for name in params if not stores.get(name)}  # `body` holds no binding of a parameter
    mapping: dict[str, ast.expr] = {}
    kept: list[ast.stmt] = []
    for stmt in body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name):
            name, value = stmt.targets[0].id, stmt.value
            if isinstance(value, ast.Name) and value.id in mapping:
                value = mapping[value.id]
            constant = is_number(value)
            copy_of_fixed = isinstance(value, ast.Name) and (value.id in once or value.id in fixed_params)
            if name in once and (constant or copy_of_fixed):
                mapping[name] = value
                continue
        kept.append(stmt)
    if not mapping:
        return body, set()
    replace = _Replace(mapping)
    mapped = set(mapping)  # a set: `isdisjoint` would walk a dict whole for every statement
    changed = {id(s) for s in kept if not cache.of(s).ids.isdisjoint(mapped)}
    for stmt in kept:
        if id(stmt) in changed:
            cache.forget(stmt)  # its names are about to be replaced in place
    return [replace.visit(s) if id(s) in changed else s for s in kept], changed


def _single_target(stmt: ast.stmt) -> str | None:
    if type(stmt) is ast.Assign and len(stmt.targets) == 1 and type(stmt.targets[0]) is ast.Name:  # type: ignore[attr-defined]
        return stmt.targets[0].id  # type: ignore[attr-defined]
    return None


def _merge_accumulations(
    body: list[ast.stmt], cache: UsageCache | None = None, rewrite: Callable[[ast.expr], ast.expr] | None = None,
) -> list[ast.stmt]:
    """`v = a` followed by `v = v + e` becomes `v = a + e`, when nothing in between reads `v`
    or changes what `a` reads (so `a` may be evaluated later; a statement other than an
    assignment to a name may change in place any object it mentions) and `e` does not read `v`.
    `rewrite` (see `clean_function`) is applied to the merged values."""
    cache = cache or UsageCache()
    out: list[ast.stmt] = []
    for stmt in body:
        if type(stmt) is not ast.Assign:
            for field in ("body", "orelse"):
                inner = getattr(stmt, field, None)
                if isinstance(inner, list) and inner:
                    setattr(stmt, field, _merge_accumulations(inner, cache, rewrite))
        name = _single_target(stmt)
        value = stmt.value if name else None  # type: ignore[attr-defined]
        if (
            isinstance(value, ast.BinOp) and isinstance(value.op, ast.Add)
            and isinstance(value.left, ast.Name) and value.left.id == name
            and cache.of(stmt).read.count(name) == 1  # `e` does not read `v`
        ):
            written: set[str] = set()  # what the statements in between bind
            for index in range(len(out) - 1, -1, -1):
                earlier = out[index]
                if _single_target(earlier) == name:
                    first = earlier.value  # type: ignore[attr-defined]
                    first_reads = cache.loads(earlier)  # `v = a` reads what `a` reads
                    if first_reads.isdisjoint(written) and name not in first_reads:
                        merged = value.right if equals_number(first, 0) else ast.BinOp(first, ast.Add(), value.right)
                        if rewrite is not None:
                            merged = rewrite(merged)
                        del out[index]
                        stmt = ast.copy_location(ast.Assign(earlier.targets, merged), stmt)  # type: ignore[attr-defined]
                    break
                if isinstance(earlier, (ast.If, ast.For, ast.While)):
                    break
                found = cache.of(earlier)
                if name in found.ids:  # read, bound or deleted in between
                    break
                written |= found.stores
                if _single_target(earlier) is None:
                    # `restore_item(a, i, old)`, `a[i] = e`, `lst.pop()`: what it mentions
                    # may be changed in place (binding no name), so `a` may not read it later
                    written |= found.ids
        out.append(stmt)
    return out


def _drop_dead(
    body: list[ast.stmt], is_pure: Callable[[ast.Call], bool], cache: UsageCache | None = None,
) -> list[ast.stmt]:
    """Drop assignments of pure values to names nothing reads. Statements are visited last
    first, and a dropped one's reads are taken off the counts: a chain of values that only
    fed the dropped one goes in the same pass."""
    cache = cache or UsageCache()
    _, reads = cache.counts(body)
    reads.update(_self_reads(body))
    return _pruned(body, is_pure, cache, reads)


def _self_reads(body: list[ast.stmt]) -> Counter[str]:
    """The names that `x += e` statements of `body` (nested ones too) read as they rebind them,
    which a statement's usage (its `Load` names) leaves out."""
    return Counter(s.target.id for s in statements(body)  # type: ignore[attr-defined]
                   if type(s) is ast.AugAssign and type(s.target) is ast.Name)  # type: ignore[attr-defined]


def _pruned(
    stmts: list[ast.stmt], is_pure: Callable[[ast.Call], bool], cache: UsageCache, reads: Counter[str],
) -> list[ast.stmt]:
    """`_drop_dead` for one statement list, given how often each name is read. (A function of
    its own, not a closure calling itself: that would be a reference cycle keeping the whole
    derivative builder alive until the garbage collector runs.)"""
    kept = []
    for stmt in reversed(stmts):
        if type(stmt) is ast.Assign:
            targets = stmt.targets
            if len(targets) == 1:  # the usual case, without two generators per statement
                unread = isinstance(targets[0], ast.Name) and not reads.get(targets[0].id)
            else:
                unread = all(isinstance(t, ast.Name) for t in targets) and not any(
                    reads.get(t.id) for t in targets)  # type: ignore[attr-defined]
            if unread and all(is_pure(c) for c in walk(stmt.value) if isinstance(c, ast.Call)):
                reads.subtract(cache.of(stmt).read)
                continue
        elif type(stmt) is ast.AugAssign:
            target = stmt.target
            if isinstance(target, ast.Name) and reads.get(target.id) == 1 \
                    and all(is_pure(c) for c in walk(stmt.value) if isinstance(c, ast.Call)):
                # `x += e` and nothing else reads `x` (a trip count whose replay was dropped)
                reads.subtract(cache.of(stmt).read)
                reads[target.id] -= 1
                continue
        elif not isinstance(stmt, ast.FunctionDef):
            for field in ("body", "orelse"):
                inner = getattr(stmt, field, None)
                if isinstance(inner, list) and inner:
                    setattr(stmt, field, _pruned(inner, is_pure, cache, reads) or [ast.Pass()])
        kept.append(stmt)
    return kept[::-1]


def _drop_dead_stores(
    body: list[ast.stmt], live_after: set[str], cache: UsageCache | None = None,
) -> list[ast.stmt]:
    """Drop `v = <pure>` when nothing later reads `v` (inside loops every read counts as
    later), and branches left with nothing to do."""
    cache = cache or UsageCache()
    usage_of = cache.of
    live = set(live_after)
    out: list[ast.stmt] = []
    for stmt in reversed(body):
        kind = type(stmt)
        if kind is ast.Assign:
            target = stmt.targets[0] if len(stmt.targets) == 1 else None  # type: ignore[attr-defined]
            if isinstance(target, ast.Name) and target.id not in live and _simple(stmt.value):  # type: ignore[attr-defined]
                continue
            usage = usage_of(stmt)
            live -= usage.stores  # in place: copying the set per statement made this quadratic
            live |= usage.loads
        elif isinstance(stmt, (ast.For, ast.While)):
            live |= usage_of(stmt).loads
            live.update(_self_reads(stmt.body))
            stmt.body = _drop_dead_stores(stmt.body, live, cache) or [ast.Pass()]
        elif isinstance(stmt, ast.If):
            stmt.body = _drop_dead_stores(stmt.body, live, cache) or [ast.Pass()]
            stmt.orelse = _drop_dead_stores(stmt.orelse, live, cache)
            if all(isinstance(s, ast.Pass) for s in stmt.body + stmt.orelse) and isinstance(stmt.test, ast.Name):
                continue
            live |= usage_of(stmt).loads
            live.update(_self_reads(stmt.body + stmt.orelse))
        else:
            usage = usage_of(stmt)
            live -= usage.stores
            live |= usage.loads
            if kind is ast.AugAssign and type(stmt.target) is ast.Name:  # type: ignore[attr-defined]
                live.add(stmt.target.id)  # `x += e` reads `x`  # type: ignore[attr-defined]
        out.append(stmt)
    return out[::-1]


def _simple(value: ast.expr) -> bool:
    """Values whose computation cannot fail or have effects: numbers and names."""
    return isinstance(value, (ast.Constant, ast.Name))


def _rewrite_values(
    body: list[ast.stmt], rewrite: Callable[[ast.expr], ast.expr], cache: UsageCache, reads: frozenset[str] | None,
) -> None:
    """Apply `rewrite` (which returns its argument itself when it has nothing to change,
    and never changes it in place) to the values of `body`'s statements (those that read
    one of `reads` or hold numbers to fold, unless `reads` is None)."""
    for stmt in statements(body):
        if isinstance(stmt, ast.Assign | ast.Return) and stmt.value is not None:
            if reads is not None:
                found = cache.of(stmt)
                if found.loads.isdisjoint(reads) and not found.foldable:
                    continue
            value = rewrite(stmt.value)
            if value is not stmt.value:
                stmt.value = value
                cache.forget(stmt)


def clean_function(
    node: ast.FunctionDef, names: CodeNames, passes: frozenset[str] = ALL, cache: UsageCache | None = None,
    simplifier: FloatSimplifier | None = None,
) -> ast.FunctionDef:
    """Propagate constants and copies, fold, merge first accumulations, drop dead values
    (the calls `names` says are pure may go with them). The `simplifier`'s rewrite of float
    arithmetic is applied to the values of the statements that changed, after folding, and
    only to values that read one of its floats or hold numbers to fold (`Usage.foldable`).
    `cache` (the passes ask every round what each statement reads and writes) is right
    about the statements of the result, for a later pass to go on with. `passes` names the
    clean-ups to run (see `cleanups.CLEANUPS`: "propagate", "fold", "merge", "dead")."""
    if passes.isdisjoint(_OWN_PASSES):
        return node
    is_pure = names.is_pure
    rewrite = simplifier.expression if simplifier is not None else None
    rewrite_reads = frozenset(simplifier.floats) if simplifier is not None else None
    merge = _merge_accumulations if "merge" in passes else _unchanged
    drop = _drop_dead if "dead" in passes else _unchanged
    drop_stores = _drop_dead_stores if "dead" in passes else _unchanged
    fold = _folded_statement if "fold" in passes else _unchanged
    propagate = _propagate if "propagate" in passes else _no_propagation
    params = {a.arg for a in node.args.posonlyargs + node.args.args + node.args.kwonlyargs}
    cache = cache or UsageCache()
    cache.check(node.body)
    # first, so that the first round's propagation finds all it can: a gradient summed in one
    # statement is bound once (its copies can go), and dead values are gone
    body = drop(merge(node.body, cache, rewrite), is_pure, cache)
    changed: set[int] | None = None  # at first every statement may fold
    settled = False  # whether merging and dropping left last round's propagation as it was
    for _ in range(10):
        size = count_statements(body)
        body = [fold(s, cache) if changed is None or id(s) in changed else s for s in body]
        touched = [s for s in body if changed is None or id(s) in changed]
        if rewrite is not None:
            _rewrite_values(touched, rewrite, cache, rewrite_reads)
        if settled and not any(_propagates(s) for s in touched):
            # Folding and rewriting change numbers, never which names a statement reads or
            # binds, so the passes would meet what they left last round.
            break
        body, changed = propagate(body, params, cache)
        propagated = _identities(body)
        body = merge(body, cache, rewrite)
        body = drop(body, is_pure, cache)
        body = drop_stores(body, set(), cache)
        settled = _identities(body) == propagated
        if not changed and count_statements(body) == size:
            break
    node.body = body
    return node


_OWN_PASSES = frozenset({"propagate", "fold", "merge", "dead"})


def _unchanged(body: Any, *args: Any) -> Any:
    """A switched-off pass: its input as it is."""
    return body


def _no_propagation(body: list[ast.stmt], *args: Any) -> tuple[list[ast.stmt], set[int]]:
    return body, set()


def _propagates(stmt: ast.stmt) -> bool:
    """Whether `stmt` is one that `_propagate` may remove: `name = number` or `name = name`."""
    value = stmt.value if _single_target(stmt) else None  # type: ignore[attr-defined]
    return isinstance(value, ast.Name) or is_number(value)


def _identities(body: list[ast.stmt]) -> list[int]:
    """The ids of `body`'s statements, nested ones included: equal lists, the same code
    (the passes after propagation never rewrite a statement in place)."""
    return [id(s) for s in statements(body)]


def _folded_statement(stmt: ast.stmt, cache: UsageCache) -> ast.stmt:
    """`stmt` with its arithmetic on number literals folded. Folding rewrites only number
    literals and the operations on them, never names: `cache` stays right about `stmt`."""
    if not cache.of(stmt).foldable:
        return stmt  # nothing that folding rewrites
    return fold_statement(stmt)
