"""Public entry points: grad, value_and_grad, vjp, stop_gradient, no_grad, adjoint, source."""

from __future__ import annotations

import functools
import inspect
import types
from typing import Any, Callable

from . import runtime, transform
from .errors import SrcGradError, UsageError
from .parse import unwrap
from .resolve import METHOD_PRIMALS, PACKED_METHODS, classify
from .rules.registry import find_vjp_rule, nondifferentiable, register_adjoint

Wrt = int | str | tuple


def _parameters(f: Callable[..., Any]) -> tuple[list[str], int]:
    """The names of `f`'s parameters a caller passes (after `self` for bound methods), and
    how many of them can be passed by position."""
    plain = unwrap(f)
    if not isinstance(plain, types.FunctionType):
        transform.parse_function(f)  # raises the "no source" error
    code = plain.__code__
    names = list(code.co_varnames[: code.co_argcount + code.co_kwonlyargcount])
    positional = code.co_argcount
    if isinstance(f, types.MethodType):
        names, positional = names[1:], positional - 1
    return names, positional


def _resolve_wrt(f: Callable[..., Any], wrt: Wrt) -> tuple[tuple[str, ...], bool]:
    """The parameter names `wrt` refers to, and whether a single one was asked for."""
    names, positional = _parameters(f)
    single = not isinstance(wrt, (tuple, list))
    chosen = []
    for item in (wrt,) if single else wrt:
        if isinstance(item, bool) or not isinstance(item, (int, str)):
            raise UsageError(f"wrt must be a parameter position (int), a name (str) or a tuple of them, not {item!r}")
        if isinstance(item, int):
            if not -positional <= item < positional:
                raise UsageError(
                    f"wrt={item} is out of range: {getattr(f, '__name__', 'the function')} takes "
                    f"{positional} positional parameter(s) ({', '.join(names[:positional]) or 'none'})"
                )
            chosen.append(names[item % positional])
        else:
            if item not in names:
                raise UsageError(
                    f"wrt={item!r} is not a parameter of {getattr(f, '__name__', 'the function')}; "
                    f"its parameters are: {', '.join(names) or 'none'}"
                )
            chosen.append(item)
    return tuple(chosen), single


def _normalize_wrt(f: Callable[..., Any], wrt: Wrt, nargs: int) -> list[int]:
    """Positions of the `wrt` parameters among the positional arguments (for check_grad)."""
    names, _ = _parameters(f)
    chosen, _ = _resolve_wrt(f, wrt)
    return [names.index(n) for n in chosen]


class _Derivative:
    """A derivative function: transforms `f` on first call, then only runs compiled code."""

    def __init__(self, f: Callable[..., Any], wrt: Wrt, mode: str) -> None:
        self.f, self.mode = f, mode
        self.wrt, self.single = _resolve_wrt(f, wrt)
        names, _ = _parameters(f)
        self.positions = [names.index(n) for n in self.wrt]
        self.self_arg = (f.__self__,) if isinstance(f, types.MethodType) else ()
        self.defaults = inspect.signature(f).parameters
        self.names = _parameters(f)[0]
        self._generated: transform.Generated | None = None
        self._by_types: dict[Any, Callable[..., Any]] = {}
        self._quick = False
        functools.update_wrapper(self, f)

    @property
    def generated(self) -> transform.Generated:
        """The derivative as built for the most recent call (general code before any call)."""
        if self._generated is None:
            self._generated = transform.generate(self.f, self.wrt, self.mode)
        return self._generated

    def _specialise(self, args: tuple) -> Callable[..., Any]:
        """Code for this combination of argument types: parameters that hold Python numbers
        get scalar arithmetic without broadcasting bookkeeping."""
        scalars = frozenset(name for name, a in zip(self.names, args) if type(a) in (float, int))
        self._generated = transform.generate(self.f, self.wrt, self.mode, scalars=scalars)
        key = type(args[0]) if len(args) == 1 else tuple(map(type, args))
        function = self._by_types[key] = self._generated.function
        self._quick_position = self.positions[0]
        self._quick = (
            self.mode == "grad" and self.single and not self.self_arg and self._quick_position < len(args)
        )
        return function

    @property
    def source(self) -> str:
        """The generated derivative code."""
        return self.generated.source

    def _arguments(self, args: tuple, kwargs: dict) -> list[Any]:
        values = []
        for name, position in zip(self.wrt, self.positions):
            if position < len(args):
                values.append(args[position])
            elif name in kwargs:
                values.append(kwargs[name])
            else:
                values.append(self.defaults[name].default)
        return values

    def _shape(self, raw: tuple, args: tuple, kwargs: dict) -> Any:
        if self.single and not kwargs and self.positions[0] < len(args):
            return _match(raw[0], args[self.positions[0]])  # the common case, kept quick
        matched = tuple(_match(g, x) for g, x in zip(raw, self._arguments(args, kwargs)))
        return matched[0] if self.single else matched

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        key = type(args[0]) if len(args) == 1 else tuple(map(type, args))
        function = self._by_types.get(key) or self._specialise(args)
        if self._quick and not kwargs:
            # grad of one positional parameter of a plain function: the common scalar case
            gradient = function(*args)[0]
            x = args[self._quick_position]
            if type(x) is float:
                return gradient if type(gradient) is float else float(gradient)
            return runtime.match(gradient, x)
        raw = function(*self.self_arg, *args, **kwargs)
        if self.mode == "grad":
            return self._shape(raw, args, kwargs)
        value, grads = raw
        return value, self._shape(grads, args, kwargs)

    def __repr__(self) -> str:
        return f"<srcgrad {self.mode} of {getattr(self.f, '__qualname__', self.f)!r} wrt {self.wrt}>"


def _match(g: Any, x: Any) -> Any:
    """`runtime.match`, with Python floats (the scalar fast path) handled inline."""
    if type(x) is float:
        return g if type(g) is float else float(g)
    return runtime.match(g, x)


def grad(f: Callable[..., Any] | None = None, *, wrt: Wrt = 0) -> Any:
    """The gradient of scalar-valued `f` w.r.t. the parameter(s) `wrt` (positions or names).

    Usable as `@grad`, `@grad(wrt=1)` or `grad(f, wrt=("x", "y"))`. The result has the
    structure, shape and float dtype of the argument; with a tuple `wrt`, a tuple of them.
    """
    if f is None:
        return lambda fn: grad(fn, wrt=wrt)
    return _Derivative(f, wrt, "grad")


def value_and_grad(f: Callable[..., Any] | None = None, *, wrt: Wrt = 0) -> Any:
    """Like `grad`, but the derivative function returns `(value, gradient)`."""
    if f is None:
        return lambda fn: value_and_grad(fn, wrt=wrt)
    return _Derivative(f, wrt, "value_and_grad")


def vjp(f: Callable[..., Any], *primals: Any, wrt: Wrt = 0) -> tuple[Any, Callable[[Any], Any]]:
    """Run `f(*primals)` and return `(out, pullback)`; `pullback(v)` gives v^T J for `wrt`.

    The output may have any shape or structure; the cotangent `v` has the output's.
    """
    derivative = _Derivative(f, wrt, "vjp")
    generated = derivative.generated
    self_arg = derivative.self_arg
    out, first = generated.function(*self_arg, *primals)
    unused = [first]

    def pullback(cotangent: Any) -> Any:
        back = unused.pop() if unused else generated.function(*self_arg, *primals)[1]
        return derivative._shape(back(cotangent), primals, {})

    return out, pullback


def source(derivative: Any) -> str:
    """The generated code of a derivative made by `grad`, `value_and_grad` (or `vjp`'s `f`)."""
    if isinstance(derivative, _Derivative):
        return derivative.source
    raise UsageError("srcgrad.source takes a function made by srcgrad.grad or srcgrad.value_and_grad")


def stop_gradient(x: Any) -> Any:
    """`x` itself, as a constant: no derivative flows through it."""
    return x


nondifferentiable(stop_gradient, reason="stop_gradient")


class no_grad:
    """`with srcgrad.no_grad():` makes values computed in the block constants.

    Inside a differentiated function it is handled by the transform; elsewhere a no-op.
    """

    def __enter__(self) -> no_grad:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None


def adjoint(fn: Callable[..., Any]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register `rule(g, ans, *args) -> tuple` (one cotangent per positional argument,
    `None` for zero) as the reverse derivative of `fn`; calls to `fn` then use it."""

    def register(rule: Callable[..., Any]) -> Callable[..., Any]:
        register_adjoint(fn, rule)
        transform.clear_cache()
        return rule

    return register


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
        return _user_pullback(callee.value, args, kwargs)
    raise SrcGradError(
        f"`{callee.name}` has no derivative rule and no Python source srcgrad can read; "
        f"register one with @srcgrad.adjoint({getattr(fn, '__name__', 'fn')})"
    )


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
    return out, lambda g: tuple(back(g)[p] for p in positions)


def _differentiable(value: Any) -> bool:
    return not isinstance(value, (bool, str, type(None), range)) and not callable(value)
