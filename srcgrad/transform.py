"""The pipeline: parse, fence, normalize, analyse, emit reverse code, compile; cached."""

from __future__ import annotations

import ast
import contextlib
import functools
import gc
import threading
import types
import weakref
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from . import complexity, depends, failures, fence, jumps, runtime, statements
from .cleanups import ALL
from .compile import build_function
from .depends import Dependencies
from .entry import entry_form
from .errors import SrcGradError
from .forward import ForwardBuilder
from .naming import Namer
from .normalize import Normalizer
from .parse import ParsedFunction, parse_function, unwrap
from .resolve import Resolver
from .reverse import ReverseBuilder
from .sharing import SharedWrites
from .simplify import FloatSimplifier
from .staleness import check_source
from .usage import usage


@dataclass
class Generated:
    """A compiled derivative and its readable source."""

    function: types.FunctionType
    source: str
    parsed: ParsedFunction
    wrt: tuple[str, ...]
    namespace: dict[str, Any]  # objects the code reads as closure cells besides the user's
    tangent_params: dict[str, str] = field(default_factory=dict)  # forward mode: `x` -> `x_dot`
    fallback: types.CellType | None = None  # entry form: what the type guard calls otherwise
    deps: Dependencies | None = None  # what it was built from (depends.py)


_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_VJP_CELLS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_JVP_CELLS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_BACKWARD_CELLS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_LOCK = threading.RLock()

_RUNTIME_NAMES = (
    "seed", "getitem_vjp", "getitem", "zero_at", "copy_item", "restore_item", "drop_last", "call_rule", "is_zero",
    "match", "pushed", "restored",
)
_FORWARD_RUNTIME_NAMES = ("zero_tangent", "with_item", "call_tangent")


def generate(
    fn: Callable[..., Any],
    wrt: tuple[str, ...],
    mode: str,
    outputs: tuple[str, ...] | None = None,
    scalars: frozenset[str] = frozenset(),
    record_all: bool = False,
    higher_order: bool = False,
    single: bool = False,
    guards: tuple[tuple[str, type], ...] = (),
    cleanups: frozenset[str] = ALL,
) -> Generated:
    """The derivative of `fn` w.r.t. the parameters named in `wrt`, built once and cached.

    `mode` is "grad" (returns the gradients), "value_and_grad" (value and gradients),
    "vjp" (returns the value and a pullback) or "jvp" (forward mode: tangent parameters
    `x_dot` for `wrt`, returns the value and its tangent). `outputs` names the parameters whose
    cotangents are returned (default: `wrt`). `scalars` names parameters known to be Python
    numbers, for which the code is specialised (the caller guards that). `record_all` keeps
    every tape push (for measuring what the to-be-recorded analysis saves).

    `higher_order` asks for code that srcgrad can differentiate again: no closures (callees
    are re-run by their "backward" form, which takes the cotangent as the keyword-only
    `_out_bar`), and gradients shaped like the arguments, the single one itself if `single`.

    `guards` (name, type) asks for the *entry form* of grad or value_and_grad code (see
    entry.py): it checks those parameters have those types, else calls `Generated.fallback`'s
    contents, and returns what the derivative returns.

    `cleanups` names the clean-up passes to run (`cleanups.CLEANUPS`; none is the reference
    pipeline); callees are differentiated with the same ones.
    """
    plain = unwrap(fn)
    key = (wrt, mode, outputs, scalars, record_all, higher_order, single, guards, cleanups)
    with _LOCK:
        per_function = _CACHE.setdefault(plain, {})
        found = per_function.get(key)
        if found is None or not found.deps.valid():  # type: ignore[union-attr]
            deps = Dependencies(plain)
            with _without_cycle_collection(), _internal_failures(plain), depends.building(deps):
                found = _generate(plain, wrt, mode, outputs or wrt, scalars, record_all, higher_order, single,
                                  dict(guards), cleanups, deps)
            found.deps = deps
            per_function[key] = found
        depends.used(found)
        return found


@contextlib.contextmanager
def _without_cycle_collection() -> Iterator[None]:
    """The garbage collector's cycle search off while a derivative is built. Building makes
    tens of thousands of short-lived AST nodes, freed by reference counting (they form no
    cycles); each time enough are made, the collector walks every object the program holds,
    which cost a 200-line function's transform a fifth of its time. Left as it was found, so
    a nested transform (of a callee) does not switch it back on early."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextlib.contextmanager
def _internal_failures(fn: types.FunctionType) -> Iterator[None]:
    """A failure of srcgrad's while building `fn`'s derivative raised as an `InternalError`
    naming the function, the pass and the line; srcgrad's own errors go on as they are."""
    try:
        yield
    except SrcGradError:
        raise
    except Exception as error:
        try:
            info = parse_function(fn).info
        except Exception:
            info = None
        raise failures.transform_failure(error, failures.function_name(fn), info) from error


def _generate(
    fn: types.FunctionType, wrt: tuple[str, ...], mode: str, outputs: tuple[str, ...], scalars: frozenset[str],
    record_all: bool = False, higher_order: bool = False, single: bool = False, guards: dict[str, type] | None = None,
    cleanups: frozenset[str] = ALL, deps: Dependencies | None = None,
) -> Generated:
    with failures.stage("parse"):
        parsed = parse_function(fn)
        check_source(parsed)
    names = usage([parsed.node])
    local_names = set(parsed.param_names) | names.stores
    namer = Namer.for_usage(names)
    if mode == "jvp":  # reserved first, so callers can know them (`tangent_params`)
        for param in wrt:
            namer.tangent(param)
    seed_param = namer.reserve("_out_bar") if mode == "backward" else ""
    injected: dict[str, Any] = {}
    resolver = Resolver(parsed, injected, local_names, deps)
    normalizer = Normalizer(parsed.info, namer, parsed.param_names, resolver.is_opaque_call)
    injected[normalizer.sequence_name] = runtime.as_sequence
    lowerer = statements.Lowerer(parsed.info, namer, resolver.static_value, normalizer.sequence_name)
    injected[lowerer.throw_name] = runtime.throw
    with failures.stage("statements"):
        node = lowerer.run(parsed.fresh_node(), parsed.globals)
    injected.update(lowerer.helpers)
    with failures.stage("sharing"):
        node = SharedWrites(parsed.info, resolver, namer, injected).run(node, scalars)
    with failures.stage("fence"):
        fence.check(node, parsed.info, lambda expr: _is_no_grad(resolver, expr))
    with failures.stage("jumps"):
        lowered = jumps.lower(node, namer)
    with failures.stage("normalize"):
        norm = normalizer.run(lowered)
    origin = failures.Origin(failures.function_name(fn), parsed.info.filename, parsed.info.first_line, names.ids | set(parsed.param_names))
    resolver.local_names |= usage([norm.node]).stores
    with failures.stage("complex"):
        complexity.Complexity(parsed.info, resolver, namer, injected, mode in ("grad", "value_and_grad")).run(norm.node)
    if mode == "jvp":
        return _generate_forward(parsed, norm, resolver, namer, wrt, scalars, injected, cleanups, origin)
    runtime_names = {name: getattr(runtime, name) for name in _RUNTIME_NAMES}
    from . import objects
    from .dispatch import call_vjp

    runtime_names["call_vjp"] = call_vjp
    runtime_names.update(objects.REVERSE)
    callee_vjp = functools.partial(vjp_cell, cleanups=cleanups)
    builder = ReverseBuilder(norm, parsed.info, resolver, namer, list(wrt), callee_vjp, runtime_names, scalars)
    builder.cleanups = cleanups
    builder.outputs = list(outputs)
    builder.record_all = record_all  # benchmarks: push every overwritten value, needed or not
    builder.higher_order = higher_order or mode == "backward"
    builder.single = single and builder.higher_order
    builder.seed_param = seed_param
    builder.callee_backward = functools.partial(backward_cell, cleanups=cleanups)
    if guards:  # entry form: arithmetic on Python floats is simplified
        builder.simplifier = FloatSimplifier({n for n, kind in guards.items() if kind is float}, resolver.static_value)
    name = namer.reserve(f"{mode}_{_identifier(parsed.name)}")
    with failures.stage("reverse"):
        node = builder.build(name, mode)
    namespace = dict(builder.namespace.values)
    namespace.update(injected)
    fallback = None
    if guards:
        fallback_name, fallback = namer.reserve("_general"), types.CellType()
        with failures.stage("entry form"):
            node = entry_form(node, guards, fallback_name, mode, single, builder.simplifier.floats)
        namespace[fallback_name] = fallback
    with failures.stage("compile"):
        function, source = build_function(
            node, builder.comments, namespace, parsed.globals, parsed.closure,
            fn.__defaults__, fn.__kwdefaults__, origin,
        )
    return Generated(function, source, parsed, wrt, namespace, fallback=fallback)


def _generate_forward(
    parsed: ParsedFunction, norm: Any, resolver: Resolver, namer: Namer, wrt: tuple[str, ...],
    scalars: frozenset[str], injected: dict[str, Any], cleanups: frozenset[str] = ALL,
    origin: failures.Origin | None = None,
) -> Generated:
    from . import objects
    from .dispatch import call_jvp

    runtime_names = {name: getattr(runtime, name) for name in _FORWARD_RUNTIME_NAMES}
    runtime_names["call_jvp"] = call_jvp
    runtime_names.update(objects.FORWARD)
    tangent_params = {param: namer.tangent(param) for param in wrt}
    callee_jvp = functools.partial(jvp_cell, cleanups=cleanups)
    builder = ForwardBuilder(norm, parsed.info, resolver, namer, tangent_params, callee_jvp, runtime_names, scalars)
    builder.cleanups = cleanups
    with failures.stage("forward"):
        node = builder.build(namer.reserve(f"jvp_{_identifier(parsed.name)}"))
    namespace = {**builder.namespace.values, **injected}
    fn = parsed.fn
    with failures.stage("compile"):
        function, source = build_function(
            node, {}, namespace, parsed.globals, parsed.closure, fn.__defaults__, fn.__kwdefaults__, origin,
        )
    return Generated(function, source, parsed, wrt, namespace, tangent_params)


def tangent_params(fn: Any, wrt: tuple[str, ...]) -> dict[str, str]:
    """The keyword-only tangent parameters (`x` -> `x_dot`) of `fn`'s forward function."""
    namer = Namer.for_tree(parse_function(fn).node)
    return {param: namer.tangent(param) for param in wrt}


def jvp_cell(fn: Any, mask: tuple[int, ...], cleanups: frozenset[str] = ALL) -> tuple[types.CellType, dict[str, str]]:
    """A cell holding the forward function of user function `fn` with the parameters at
    `mask` carrying tangents (filled once the transform finishes, for recursion), and the
    names of its tangent parameters."""
    return _callee_cell(_JVP_CELLS, fn, mask, "jvp", False, tangent_params, cleanups)


def backward_cell(fn: Any, mask: tuple[int, ...], cleanups: frozenset[str] = ALL) -> tuple[types.CellType, str]:
    """A cell holding the "backward" form of user function `fn` (both sweeps, cotangents of
    all its parameters for the cotangent `_out_bar`), and that parameter's name."""
    def seed_name(plain: types.FunctionType, wrt: tuple[str, ...]) -> str:
        return Namer.for_tree(parse_function(plain).node).reserve("_out_bar")

    return _callee_cell(_BACKWARD_CELLS, fn, mask, "backward", True, seed_name, cleanups)


def vjp_cell(fn: Any, mask: tuple[int, ...], cleanups: frozenset[str] = ALL) -> types.CellType:
    """A cell holding the vjp form of user function `fn` with the parameters at `mask`
    active; filled once the transform finishes, so recursive functions can refer to it."""
    return _callee_cell(_VJP_CELLS, fn, mask, "vjp", True, lambda plain, wrt: None, cleanups)[0]


def _callee_cell(
    table: weakref.WeakKeyDictionary, fn: Any, mask: tuple[int, ...], mode: str, all_outputs: bool,
    describe: Callable[[types.FunctionType, tuple[str, ...]], Any], cleanups: frozenset[str] = ALL,
) -> tuple[types.CellType, Any]:
    """The cell (and what `describe` says of the callee) for `fn` in `mode` with the
    parameters at `mask` differentiated, cached in `table` while what it was built from holds.
    The cell is cached before the transform runs, so a recursive callee finds it; a failed
    transform leaves no entry."""
    plain = unwrap(fn)
    with _LOCK:
        cells = table.setdefault(plain, {})
        key = (mask, cleanups)
        entry = cells.get(key)
        if entry is not None and (entry.deps is None or entry.deps.valid()):
            depends.used(entry)
            return entry.cell, entry.described
        params = _param_names(plain)
        wrt = tuple(params[i] for i in mask if i < len(params))
        entry = cells[key] = _CalleeCell(types.CellType(), describe(plain, wrt))
        try:
            outputs = tuple(params) if all_outputs else None
            entry.generated = generate(plain, wrt, mode, outputs, cleanups=cleanups)
        except BaseException:
            del cells[key]
            raise
        entry.cell.cell_contents = entry.generated.function
        depends.used(entry)
        return entry.cell, entry.described


class _CalleeCell:
    """A callee's cell, what `describe` said of it, and its derivative once built."""

    __slots__ = ("cell", "described", "generated")

    def __init__(self, cell: types.CellType, described: Any) -> None:
        self.cell, self.described, self.generated = cell, described, None

    @property
    def deps(self) -> Dependencies | None:
        return self.generated.deps if self.generated is not None else None


def _param_names(fn: types.FunctionType) -> list[str]:
    code = fn.__code__
    count = code.co_argcount + code.co_kwonlyargcount
    return list(code.co_varnames[:count])


def _is_no_grad(resolver: Resolver, expr: ast.expr) -> bool:
    from .api import no_grad

    target = expr.func if isinstance(expr, ast.Call) else expr
    return resolver.static_value(target) is no_grad


def _identifier(name: str) -> str:
    return name if name.isidentifier() else "lambda_"


def clear_cache() -> None:
    """Forget every cached derivative (stale ones are rebuilt anyway; this frees them). Derivative
    objects already made keep their code: `api._rules_changed` tells them to forget it."""
    with _LOCK:
        _CACHE.clear()
        _VJP_CELLS.clear()
        _JVP_CELLS.clear()
        _BACKWARD_CELLS.clear()
