"""Calls whose target is only known at run time (a function passed as an argument, a method
of a local object): generated code hands them to `call_vjp` or `call_jvp`, which pick the
rule or generated derivative for the object they get."""

from __future__ import annotations

import sys
import types
from typing import Any, Callable

from . import failures, runtime, transform
from .errors import NotDifferentiableError, SrcGradError, UsageError, add_call, adjoint_advice
from .parse import unwrap
from .resolve import METHOD_PRIMALS, PACKED_METHODS, classify
from .rules.registry import find_jvp_rule, find_vjp_rule


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
    names = transform._param_names(plain)
    positions = list(range(len(bound_self), len(bound_self) + len(args))) + [names.index(k) for k in kwargs]
    mask = tuple(sorted(p for p, value in zip(positions, (*args, *kwargs.values())) if _differentiable(value)))
    vjp_fn = transform.vjp_cell(plain, mask).cell_contents
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
        params = transform._param_names(plain)
        mask = tuple(i + len(bound_self) for i, d in enumerate(dots) if d is not None)
        try:
            cell, names = transform.jvp_cell(plain, mask)
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
