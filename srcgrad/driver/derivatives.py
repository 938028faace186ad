"""The driver: every derivative built once per function and request, and rebuilt when what it was
built from changes; the derivatives of callees in cells (filled once built, so recursion works);
and, for calls whose target is only known when generated code runs, `call_vjp`/`call_jvp`."""

from __future__ import annotations

import contextlib
import gc
import sys
import threading
import types
import weakref
from typing import Any, Callable, Iterator

from .. import failures
from ..errors import NotDifferentiableError, SrcGradError, UsageError, add_call, adjoint_advice
from ..frontend import depends
from ..frontend.depends import Dependencies
from ..frontend.parse import parse_function, unwrap
from ..frontend.resolve import METHOD_PRIMALS, PACKED_METHODS, classify
from ..pipeline import Generated, derive
from ..request import ALL, Request
from ..rules.registry import find_jvp_rule, find_vjp_rule, register_adjoint, register_tangent
from ..runtime import core as runtime
from ..runtime.core import call_rule
from ..runtime.objects import getattr_tangent, getattr_vjp
from ..syntax.naming import Namer

_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_VJP_CELLS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_JVP_CELLS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_BACKWARD_CELLS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_LOCK = threading.RLock()

def generate(fn: Callable[..., Any], request: Request) -> Generated:
    """The derivative `request` asks of `fn`, built once and cached while what it was built
    from holds (`depends.py`): the request is the key."""
    plain = unwrap(fn)
    with _LOCK:
        per_function = _CACHE.setdefault(plain, {})
        found = per_function.get(request)
        if found is None or not found.deps.valid():  # type: ignore[union-attr]
            deps = Dependencies(plain)
            with _without_cycle_collection(), _internal_failures(plain), depends.building(deps):
                found = derive(plain, request, _Callees(request.cleanups), deps)
            found.deps = deps
            per_function[request] = found
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


class _Callees:
    """The callees' derivatives under one request's clean-ups, and the run-time entry points
    (`call_vjp`...) generated code calls: what the driver lends the pipeline (`request.Callees`)."""

    def __init__(self, cleanups: frozenset[str]) -> None:
        self.cleanups = cleanups
        self.reverse_names = REVERSE
        self.forward_names = FORWARD

    def vjp(self, fn: Any, mask: tuple[int, ...]) -> types.CellType:
        return vjp_cell(fn, mask, self.cleanups)

    def backward(self, fn: Any, mask: tuple[int, ...]) -> tuple[types.CellType, str]:
        return backward_cell(fn, mask, self.cleanups)

    def jvp(self, fn: Any, mask: tuple[int, ...]) -> tuple[types.CellType, dict[str, str]]:
        return jvp_cell(fn, mask, self.cleanups)


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
            entry.generated = generate(plain, Request(wrt, mode, outputs, cleanups=cleanups))
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


def cached() -> list[Generated]:
    """Every derivative in the cache (export looks up the generated code a derivative calls)."""
    with _LOCK:
        return [generated for per_function in _CACHE.values() for generated in per_function.values()]


def clear_cache() -> None:
    """Forget every cached derivative (stale ones are rebuilt anyway; this frees them). Derivative
    objects already made keep their code: `api._rules_changed` tells them to forget it."""
    with _LOCK:
        _CACHE.clear()
        _VJP_CELLS.clear()
        _JVP_CELLS.clear()
        _BACKWARD_CELLS.clear()


def call_vjp(fn: Any, *args: Any, **kwargs: Any) -> tuple[Any, Callable[[Any], tuple]]:
    """Differentiate a call whose target is only known at run time (a method of a local
    object, a function passed as an argument). Cotangents follow the call's arguments:
    positional ones first, then keywords in the order given."""
    if isinstance(fn, types.BuiltinMethodType) and fn.__name__ in METHOD_PRIMALS and getattr(fn, "__self__", None) is not None:
        receiver = fn.__self__
        primal = METHOD_PRIMALS[fn.__name__]
        call_args = (receiver, (args if len(args) > 1 else args[0])) if fn.__name__ in PACKED_METHODS and args else (receiver, *args)
        out, back = _rule_pullback(primal, call_args, kwargs)
        return out, lambda g: back(g)[1:]
    callee = classify(fn, getattr(fn, "__qualname__", repr(fn)))
    if callee.kind == "nondiff":
        out = fn(*args, **kwargs)
        return out, lambda g: (0.0,) * (len(args) + len(kwargs))
    if callee.kind == "rule":
        return _rule_pullback(fn, args, kwargs)
    if callee.kind == "user":
        try:
            return _user_pullback(callee.value, args, kwargs)
        except (NotDifferentiableError, UsageError) as error:
            raise _from_caller(error, callee.value, sys._getframe(1)) from error.__cause__
    raise _from_caller(_no_source(callee.name, fn), fn, sys._getframe(1))


def _rule_pullback(primal: Any, args: tuple, kwargs: dict) -> tuple[Any, Callable[[Any], tuple]]:
    rule = find_vjp_rule(primal, len(args), tuple(kwargs))
    if rule is None:
        raise SrcGradError(f"no derivative rule of {getattr(primal, '__name__', primal)} for these arguments")
    out = primal(*args, **kwargs)
    return out, lambda g: runtime.call_rule(rule.fn, g, out, *args, **kwargs) + (0.0,) * len(kwargs)


def _user_pullback(fn: Any, args: tuple, kwargs: dict) -> tuple[Any, Callable[[Any], tuple]]:
    bound_self = (fn.__self__,) if isinstance(fn, types.MethodType) else ()
    plain = unwrap(fn)
    names = _param_names(plain)
    positions = list(range(len(bound_self), len(bound_self) + len(args))) + [names.index(k) for k in kwargs]
    mask = tuple(sorted(p for p, value in zip(positions, (*args, *kwargs.values())) if _differentiable(value)))
    vjp_fn = vjp_cell(plain, mask).cell_contents
    out, back = vjp_fn(*bound_self, *args, **kwargs)
    return out, lambda g: _pick(back(g), positions)


def _differentiable(value: Any) -> bool:
    return not isinstance(value, (bool, str, type(None), range)) and not callable(value)


def call_jvp(fn: Any, dots: tuple, *args: Any, **kwargs: Any) -> tuple[Any, Any]:
    """Forward mode of a call known only at run time: `(out, tangent of out)` given the
    tangents `dots` of the positional arguments (`None` for none)."""
    callee = classify(fn, getattr(fn, "__qualname__", repr(fn)))
    if callee.kind == "nondiff" or all(d is None for d in dots):
        out = fn(*args, **kwargs)
        return out, runtime.zero_tangent(out)
    if callee.kind == "rule":
        rule = find_jvp_rule(fn, len(args), tuple(kwargs))
        if rule is None:
            raise SrcGradError(f"no forward derivative rule of {callee.name} for these arguments; "
                               f"register one with @srcgrad.tangent({getattr(fn, '__name__', 'fn')})")
        out = fn(*args, **kwargs)
        if not rule.inline:
            return out, runtime.call_tangent(rule.fn, dots, out, *args, **kwargs)
        terms = [term(d, out, *args, **kwargs) for term, d in zip(rule.terms(), dots) if term is not None and d is not None]
        return out, sum(terms[1:], terms[0]) if terms else runtime.zero_tangent(out)
    if callee.kind == "user":
        plain = unwrap(callee.value)
        bound_self = (callee.value.__self__,) if isinstance(callee.value, types.MethodType) else ()
        params = _param_names(plain)
        mask = tuple(i + len(bound_self) for i, d in enumerate(dots) if d is not None)
        try:
            cell, names = jvp_cell(plain, mask)
        except (NotDifferentiableError, UsageError) as error:
            raise _from_caller(error, callee.value, sys._getframe(1), forward=True) from error.__cause__
        given = {names[params[i + len(bound_self)]]: d for i, d in enumerate(dots) if d is not None}
        return cell.cell_contents(*bound_self, *args, **kwargs, **given)
    raise _from_caller(_no_source(callee.name, fn, forward=True), fn, sys._getframe(1), forward=True)


def _no_source(name: str, fn: Any, forward: bool = False) -> NotDifferentiableError:
    """The refusal of a run-time callee `fn` that has neither a rule nor Python source."""
    error = NotDifferentiableError(f"`{name}` has no derivative rule and no Python source srcgrad can read")
    error.srcgrad_base, error.srcgrad_advice = str(error), adjoint_advice(fn, forward)  # type: ignore[attr-defined]
    return error


def _from_caller(error: SrcGradError, fn: Any, frame: types.FrameType | None, forward: bool = False) -> SrcGradError:
    """`error`, raised for the run-time callee `fn`, with the function whose generated code
    called it (`frame`'s) named: the call is only resolved at run time, so no column is known."""
    while frame is not None and frame.f_code.co_filename not in failures.ORIGINS:  # past srcgrad's helpers
        frame = frame.f_back
    origin = failures.ORIGINS[frame.f_code.co_filename] if frame is not None else None
    where = (f"called from `{origin.function}` ({origin.filename}:{origin.first_line}), "
             "a call whose target srcgrad found at run time") if origin else "called at run time"
    return add_call(error, where, fn, forward)


def _pick(cotangents: tuple, positions: list[int]) -> tuple:
    """The cotangents at `positions` (a pullback runs once: its tape is used up)."""
    return tuple(cotangents[p] for p in positions)


def _bound_method(receiver: Any, name: str) -> types.FunctionType | None:
    """The Python function behind `receiver.name` when it is a method of the receiver's class."""
    fn = getattr(receiver, name)
    if isinstance(fn, types.MethodType) and fn.__self__ is receiver and isinstance(fn.__func__, types.FunctionType):
        return fn.__func__
    return None


def call_method_vjp(receiver: Any, name: str, *args: Any, **kwargs: Any) -> tuple[Any, Callable[[Any], tuple]]:
    """Differentiate `receiver.name(*args)` for a differentiated receiver: the method's source is
    differentiated with `self` among its parameters. Cotangents: the receiver's, then the arguments'."""
    plain = _bound_method(receiver, name)
    if plain is None:  # a function held by the object: the receiver is only where it was found
        out, back = call_vjp(getattr(receiver, name), *args, **kwargs)
        return out, lambda g: (0.0, *back(g))
    names = _param_names(plain)
    positions = list(range(1 + len(args))) + [names.index(k) for k in kwargs]
    values = (receiver, *args, *kwargs.values())
    mask = tuple(p for i, (p, v) in enumerate(zip(positions, values)) if i == 0 or _differentiable(v))
    out, back = vjp_cell(plain, tuple(sorted(mask))).cell_contents(receiver, *args, **kwargs)
    return out, lambda g: _pick(back(g), positions)


def call_method_jvp(receiver: Any, receiver_dot: Any, name: str, dots: tuple, *args: Any, **kwargs: Any) -> tuple[Any, Any]:
    """Forward mode of `receiver.name(*args)` for a differentiated receiver with tangent `receiver_dot`."""
    plain = _bound_method(receiver, name)
    if plain is None:
        return call_jvp(getattr(receiver, name), dots, *args, **kwargs)
    params = _param_names(plain)
    mask = (0, *(i + 1 for i, d in enumerate(dots) if d is not None))
    cell, names = jvp_cell(plain, mask)
    given = {names[params[p]]: (receiver_dot if p == 0 else dots[p - 1]) for p in mask}
    return cell.cell_contents(receiver, *args, **kwargs, **given)


# ---- rules called rather than inlined: differentiate the rule function itself ------------
def call_rule_adjoint(gg, out, rule, g, ans, *args, **kwargs):
    """Reverse rule of `call_rule(rule, g, ans, *args)`: the reverse derivative of the rule
    function, generated from its source like any other function."""
    _, back = call_vjp(rule, g, ans, *args, **kwargs)
    return (None, *back(gg)[: 2 + len(args)])


def call_rule_tangent(dots, out, rule, g, ans, *args, **kwargs):
    """Forward rule of `call_rule(rule, g, ans, *args)`, from the rule function's source."""
    result, tangent = call_jvp(rule, tuple(dots[1:]), g, ans, *args, **kwargs)
    if not isinstance(result, tuple):
        result, tangent = (result,), (tangent,)
    padding = (0.0,) * (len(args) - len(result))
    return tuple(0.0 if r is None else t for r, t in zip(result, tangent)) + padding


register_adjoint(call_rule, call_rule_adjoint)
register_tangent(call_rule, call_rule_tangent)


REVERSE = {"call_vjp": call_vjp, "getattr_vjp": getattr_vjp, "call_method_vjp": call_method_vjp}  # what generated code calls
FORWARD = {"call_jvp": call_jvp, "getattr_tangent": getattr_tangent, "call_method_jvp": call_method_jvp}
