"""NumPy's calls that write into an array, and their functional forms.

`np.put(out, ind, v)` changes `out` in place and returns None, so a derivative built from the
returned values would lose the write. When `out` is a local name nothing else shares (the
alias stage, `sharing.py`, decides that), the statement means exactly
`out = put_into(out, ind, v)`, whose derivative srcgrad has (`writes.py`,
`rules/mutation_helpers.py`). `MUTATORS` declares which calls write, into which argument, and
which functional form replaces them (None: no derivative, the call stays refused);
`functional_form` rewrites one statement, `mutates` names what a call writes into.
"""

from __future__ import annotations

import ast
import inspect
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from ..frontend.resolve import MISSING
from ..runtime import writes


@dataclass(frozen=True)
class Mutator:
    """One writing call: it writes into its first argument (the receiver, for a method) and is
    replaced by `helper(written, *args, **keywords)` (the helper takes NumPy's own parameter
    names); `helper` None: srcgrad has no derivative for it."""

    spelling: str
    helper: Callable[..., Any] | None
    written: str = "a"  # NumPy's name for the written argument (`np.copyto(dst=out, ...)`)


FUNCTIONS: dict[Any, Mutator] = {
    np.copyto: Mutator("np.copyto", writes.copied_into, "dst"),
    np.put: Mutator("np.put", writes.put_into),
    np.place: Mutator("np.place", writes.placed_into, "arr"),
    np.fill_diagonal: Mutator("np.fill_diagonal", writes.diagonal_filled),
    np.putmask: Mutator("np.putmask", None),
}
UFUNC_AT: dict[Any, Mutator] = {
    np.add: Mutator("np.add.at", writes.added_at),
    np.subtract: Mutator("np.subtract.at", writes.subtracted_at),
}
METHODS: dict[str, Mutator] = {
    "fill": Mutator("ndarray.fill", writes.filled),
    **{name: Mutator(f"ndarray.{name}", None) for name in ("sort", "resize", "partition", "itemset", "setfield")},
    "put": Mutator("ndarray.put", writes.put_into),
}
# list, dict and set methods that change their receiver: the reverse pass follows them itself
CONTAINER_METHODS = frozenset({"append", "pop", "extend", "insert", "remove", "clear", "reverse", "sort", "update",
                               "setdefault", "popitem", "discard", "add"})
OUT_FORM = writes.copied_into  # `f(x, out=out)` as a statement: `out = copied_into(out, f(x))`

Rewrite = tuple[ast.Assign, dict[str, Any]]


def functional_form(stmt: ast.Expr, static_value: Callable[[ast.expr], Any],
                    reserve: Callable[[str], str]) -> Rewrite | None:
    """`out = helper(out, ...)` for an expression statement whose call writes into the plain local
    name `out`, with the names it gives the helpers (reserved through `reserve`, e.g.
    `Namer.reserve`) and the objects they stand for, to inject into the generated code's
    namespace; None for any other statement (left as it is, so a refusal stays a refusal)."""
    call = stmt.value
    if not isinstance(stmt, ast.Expr) or not isinstance(call, ast.Call) or any(k.arg is None for k in call.keywords) \
            or any(isinstance(a, ast.Starred) for a in call.args):
        return None
    if _out_targets(call, static_value):
        return _out_form(stmt, call, static_value, reserve)
    found = _mutator(call, static_value)
    if found is None or found[0].helper is None or not _local(found[1], static_value):
        return None  # no derivative for it: the call stays as it is (and refused)
    mutator, written, args, keywords = found
    try:
        bound = inspect.signature(mutator.helper).bind(written, *args, **{k.arg: k.value for k in keywords})
    except TypeError:  # arguments NumPy refuses (or a keyword the form does not take, `where=`)
        return None
    name = reserve(mutator.helper.__name__)  # type: ignore[union-attr]
    value = ast.Call(ast.Name(name, ast.Load()), [ast.Name(written.id, ast.Load()), *bound.args[1:]], [])  # type: ignore[attr-defined]
    return _located(ast.Assign([ast.Name(written.id, ast.Store())], value), stmt), {name: mutator.helper}  # type: ignore[attr-defined]


def written_names(call: ast.Call, static_value: Callable[[ast.expr], Any]) -> list[str]:
    """The plain names `call` writes into in place: a NumPy writing function's or a ufunc's
    `.at` array, the receiver of an array-mutating method, `out=` arguments (of any callee) and
    a ufunc's positional outputs; whether or not `functional_form` rewrites the call."""
    outs = _out_targets(call, static_value)
    if outs:
        return [out.id for out in outs if isinstance(out, ast.Name)]
    found = _mutator(call, static_value)
    return [found[1].id] if found is not None and isinstance(found[1], ast.Name) else []


def written_into(call: ast.Call, static_value: Callable[[ast.expr], Any]) -> ast.expr | None:
    """What `call` writes into in place, as written: its `out=` argument, a ufunc's first
    positional output, the array a NumPy writing function or a ufunc's `.at` is given (by
    position or by NumPy's keyword), the receiver of an array's or a container's mutating
    method; None for other calls."""
    for keyword in call.keywords:
        if keyword.arg == "out":
            return keyword.value
    outs = _out_targets(call, static_value)
    if outs:
        return outs[0]
    found = _mutator(call, static_value)
    if found is not None:
        return found[1]
    func = call.func
    if isinstance(func, ast.Attribute) and func.attr in CONTAINER_METHODS and static_value(func.value) is MISSING:
        return func.value
    return None


def mutates(call: ast.Call, static_value: Callable[[ast.expr], Any]) -> str | None:
    """The (first) plain name `call` writes into in place (`written_names`), or None."""
    names = written_names(call, static_value)
    return names[0] if names else None


def _mutator(call: ast.Call, static_value: Callable[[ast.expr], Any]) \
        -> tuple[Mutator, ast.expr, list[ast.expr], list[ast.keyword]] | None:
    """The table's entry for `call`, the expression written into, and the other arguments."""
    func = call.func
    value = static_value(func)
    mutator = _lookup(FUNCTIONS, value) if value is not MISSING else None
    if mutator is None and isinstance(func, ast.Attribute) and func.attr == "at":
        ufunc = static_value(func.value)
        if isinstance(ufunc, np.ufunc):
            mutator = _lookup(UFUNC_AT, ufunc) or Mutator(f"np.{ufunc.__name__}.at", None)
    if mutator is not None:
        if call.args:
            return mutator, call.args[0], list(call.args[1:]), list(call.keywords)
        for keyword in call.keywords:
            if keyword.arg == mutator.written:
                return mutator, keyword.value, [], [k for k in call.keywords if k is not keyword]
        return None
    if isinstance(func, ast.Attribute) and func.attr in METHODS and value is MISSING \
            and static_value(func.value) is MISSING:
        return METHODS[func.attr], func.value, list(call.args), list(call.keywords)
    return None


def _lookup(table: dict[Any, Mutator], value: Any) -> Mutator | None:
    try:
        return table.get(value)
    except TypeError:  # an unhashable object
        return None


def _local(expr: ast.expr, static_value: Callable[[ast.expr], Any]) -> bool:
    """Whether `expr` is a plain local name (not a module-level or built-in one)."""
    return isinstance(expr, ast.Name) and static_value(expr) is MISSING


def _out_targets(call: ast.Call, static_value: Callable[[ast.expr], Any]) -> list[ast.expr]:
    """What a call writes its results into: its `out=` argument (a tuple's elements), or a
    ufunc's positional outputs after its inputs."""
    for keyword in call.keywords:
        if keyword.arg == "out":
            out = keyword.value
            return list(out.elts) if isinstance(out, ast.Tuple) else [out]
    value = static_value(call.func)
    if isinstance(value, np.ufunc) and len(call.args) > value.nin:
        return list(call.args[value.nin:])
    return []


def _out_form(stmt: ast.Expr, call: ast.Call, static_value: Callable[[ast.expr], Any],
              reserve: Callable[[str], str]) -> Rewrite | None:
    """`out = copied_into(out, f(x))` for `f(x, out=out)`: a NumPy function or ufunc with one
    output and no `where=` (where it is False, `out` keeps its old values)."""
    value = static_value(call.func)
    if value is MISSING or not (isinstance(value, np.ufunc) or getattr(value, "__module__", "").startswith("numpy")):
        return None
    outs = _out_targets(call, static_value)
    if len(outs) != 1 or not _local(outs[0], static_value) or any(k.arg == "where" for k in call.keywords):
        return None
    out = outs[0]
    args = call.args[:value.nin] if isinstance(value, np.ufunc) else list(call.args)
    result = ast.Call(call.func, args, [k for k in call.keywords if k.arg != "out"])
    name = reserve(OUT_FORM.__name__)
    assign = ast.Assign([ast.Name(out.id, ast.Store())],  # type: ignore[attr-defined]
                        ast.Call(ast.Name(name, ast.Load()), [ast.Name(out.id, ast.Load()), result], []))  # type: ignore[attr-defined]
    return _located(assign, stmt), {name: OUT_FORM}


def _located(node: ast.Assign, stmt: ast.stmt) -> ast.Assign:
    """`node` placed at `stmt`'s position (its new parts too), so errors point at the user's line."""
    for part in ast.walk(node):
        if "lineno" in part._attributes and not hasattr(part, "lineno"):
            ast.copy_location(part, stmt)
    return node
