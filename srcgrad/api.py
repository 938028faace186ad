"""Public entry points: grad, value_and_grad, vjp, jvp, stop_gradient, no_grad, adjoint, tangent, source."""

from __future__ import annotations

import functools
import inspect
import types
import weakref
from typing import Any, Callable

from .backend.entry import install, make_entry
from .driver import derivatives as transform
from .errors import UsageError
from .facts import declare_machinery
from .frontend.depends import Dependencies
from .frontend.parse import unwrap
from .lowering import fence
from .request import Optimize, Request, enabled
from .rules.registry import register_adjoint, register_tangent
from .runtime import core as runtime
from .runtime import objects
from .runtime.markers import no_grad

Wrt = int | str | tuple
_LIVE: weakref.WeakSet = weakref.WeakSet()  # every derivative object, told when a rule is registered


def parameters(f: Callable[..., Any]) -> tuple[list[str], int]:
    """The names of `f`'s parameters a caller passes (after `self` for bound methods), and
    how many of them can be passed by position."""
    inner = derivative_of(f)
    if inner is not None:
        return parameters(inner.f)
    plain = unwrap(f)
    if not isinstance(plain, types.FunctionType):
        transform.parse_function(f)  # raises the "no source" error
    code = plain.__code__
    names = list(code.co_varnames[: code.co_argcount + code.co_kwonlyargcount])
    positional = code.co_argcount
    if isinstance(f, types.MethodType):
        names, positional = names[1:], positional - 1
    return names, positional


def _refuse_star_parameters(f: Callable[..., Any]) -> None:
    """`*args`/`**kwargs` get the fence's located error before any `wrt` is resolved
    against parameters that are not there."""
    plain = unwrap(f)
    if isinstance(plain, types.FunctionType) and plain.__code__.co_flags & (inspect.CO_VARARGS | inspect.CO_VARKEYWORDS):
        parsed = transform.parse_function(plain)
        fence.check(parsed.node, parsed.info)


def resolve_wrt(f: Callable[..., Any], wrt: Wrt) -> tuple[tuple[str, ...], bool]:
    """The parameter names `wrt` refers to, and whether a single one was asked for."""
    _refuse_star_parameters(f)
    names, positional = parameters(f)
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


def normalize_wrt(f: Callable[..., Any], wrt: Wrt, nargs: int) -> list[int]:
    """Positions of the `wrt` parameters among the positional arguments (for check_grad)."""
    names, _ = parameters(f)
    chosen, _ = resolve_wrt(f, wrt)
    return [names.index(n) for n in chosen]


class _Derivative:
    """A derivative function's machinery: transforms `f` on first call, specialised on the
    argument types, then only runs compiled code. Users call `entry` (see entry.py)."""

    def __init__(self, f: Callable[..., Any], wrt: Wrt, mode: str, optimize: Optimize = True) -> None:
        self.f, self.mode = f, mode
        self.cleanups = enabled(optimize)
        self.wrt, self.single = resolve_wrt(f, wrt)
        self.names = parameters(f)[0]
        self.positions = [self.names.index(n) for n in self.wrt]
        self.self_arg = (f.__self__,) if isinstance(f, types.MethodType) else ()
        self.defaults = inspect.signature(f).parameters
        self._generated: transform.Generated | None = None
        self._by_types: dict[Any, tuple[Callable[..., Any], bool, Dependencies | None]] = {}
        plain = unwrap(f)
        self.entry = make_entry(plain, bool(self.self_arg), getattr(f, "__name__", "derivative"), self._first_call)
        self._stub = self.entry.__code__
        _LIVE.add(self)
        functools.update_wrapper(self.entry, f, updated=())  # not `__dict__`: f may be a derivative
        self.entry._srcgrad_derivative = self  # type: ignore[attr-defined]
        self.entry.differentiable_code = self.differentiable_code  # type: ignore[attr-defined]

    @property
    def generated(self) -> transform.Generated:
        """The derivative as built for the most recent call (general code before any call)."""
        if self._generated is None:
            self._generated = transform.generate(_code_of(self.f), Request(self.wrt, self.mode, cleanups=self.cleanups))
        return self._generated

    def differentiable_code(self, scalars: frozenset[str] = frozenset()) -> types.FunctionType:
        """This derivative as generated code srcgrad can differentiate again (no closures;
        returns what calling this derivative returns): for `grad(grad(f))`, `hessian`..."""
        if self.mode not in ("grad", "value_and_grad") or self.self_arg:
            raise UsageError(
                f"srcgrad can differentiate again a grad or value_and_grad of a plain function, not this {self!r}"
            )
        target = _code_of(self.f, scalars)
        return transform.generate(target, Request(self.wrt, self.mode, scalars=scalars, higher_order=True,
                                                   single=self.single, cleanups=self.cleanups)).function

    def _first_call(self, *args: Any, **kwargs: Any) -> Any:
        """Specialise on these arguments' types; from then on `entry` runs that code itself
        when it can (guarded), or this object's dispatch."""
        self._specialise(args, kwargs)
        return self(*args, **kwargs)

    def forget(self) -> None:
        """Drop the code built so far (after a rule is registered): the next call builds anew."""
        self._by_types.clear()
        self._generated = None
        self.entry.__code__ = self._stub
        self.entry.__closure__[0].cell_contents = self._first_call  # type: ignore[index]

    def _specialise(self, args: tuple, kwargs: dict) -> tuple[Callable[..., Any], bool, Dependencies | None]:
        """Code for this combination of argument types, and whether it returns what the
        derivative returns (entry form): parameters that hold Python numbers get scalar
        arithmetic without broadcasting bookkeeping."""
        passed = [*zip(self.names, args), *kwargs.items()]
        self.check_arguments(dict(passed))
        kinds = {name: type(a) for name, a in passed if type(a) in (float, int)}
        scalars = frozenset(kinds)
        direct = (self.mode in ("grad", "value_and_grad") and not self.self_arg
                  and all(kinds.get(name) is float for name in self.wrt))
        guards = tuple(kinds.items()) if direct else ()
        generated = transform.generate(_code_of(self.f, scalars), Request(
            self.wrt, self.mode, scalars=scalars, single=self.single and direct, guards=guards, cleanups=self.cleanups))
        self._generated = generated
        key = _types_of(args, kwargs)
        if direct:
            generated.fallback.cell_contents = self  # type: ignore[union-attr]
        checked = None if generated.deps.frozen() else generated.deps  # type: ignore[union-attr]
        self._by_types[key] = (generated.function, direct, checked)
        if self.entry.__closure__[0].cell_contents == self._first_call:  # type: ignore[index]
            install(self.entry, generated.function if direct and checked is None else None, self)
        return self._by_types[key]

    def check_arguments(self, passed: dict[str, Any]) -> None:
        """Refuse differentiated arguments holding objects that are not pytrees."""
        fname = getattr(self.f, "__name__", "the function")
        for name in self.wrt:
            if name in passed:
                objects.check_argument(passed[name], f"the argument {name!r} of {fname}")

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
        found = self._by_types.get(_types_of(args, kwargs))
        if found is None or found[2] is not None and not found[2].valid():  # what it was built from changed
            found = self._specialise(args, kwargs)
        function, in_entry_form, _ = found
        if in_entry_form:
            return function(*args, **kwargs)
        raw = function(*self.self_arg, *args, **kwargs)
        if self.mode == "grad":
            return self._shape(raw, args, kwargs)
        value, grads = raw
        return value, self._shape(grads, args, kwargs)

    def __repr__(self) -> str:
        return f"<srcgrad {self.mode} of {getattr(self.f, '__qualname__', self.f)!r} wrt {self.wrt}>"


def _types_of(args: tuple, kwargs: dict) -> Any:
    """What specialised code is looked up by: the arguments' types (quick for one argument)."""
    if kwargs:
        return tuple(map(type, args)), tuple((name, type(value)) for name, value in kwargs.items())
    return type(args[0]) if len(args) == 1 else tuple(map(type, args))


def derivative_of(fn: Any) -> _Derivative | None:
    """The machinery behind a derivative function made by `grad` or `value_and_grad`, else None."""
    return getattr(fn, "_srcgrad_derivative", None) if isinstance(fn, types.FunctionType) else None


def _code_of(f: Callable[..., Any], scalars: frozenset[str] = frozenset()) -> Callable[..., Any]:
    """What to transform for `f`: itself, or for a derivative made by srcgrad its generated
    code, specialised like the caller's."""
    inner = derivative_of(f)
    return inner.differentiable_code(scalars) if inner is not None else f


def _match(g: Any, x: Any) -> Any:
    """`runtime.match`, with Python floats (the scalar fast path) handled inline."""
    if type(x) is float:
        return g if type(g) is float else float(g)
    return runtime.match(g, x)


def grad(f: Callable[..., Any] | None = None, *, wrt: Wrt = 0, optimize: Optimize = True) -> Any:
    """The gradient of scalar-valued `f` w.r.t. the parameter(s) `wrt` (positions or names).

    Usable as `@grad`, `@grad(wrt=1)` or `grad(f, wrt=("x", "y"))`. The result has the
    structure, shape and float dtype of the argument; with a tuple `wrt`, a tuple of them.
    `optimize=False` builds the reference derivative, without clean-up passes (a collection
    of names from `srcgrad.CLEANUPS` runs just those).
    """
    if f is None:
        return lambda fn: grad(fn, wrt=wrt, optimize=optimize)
    return _Derivative(f, wrt, "grad", optimize).entry


def value_and_grad(f: Callable[..., Any] | None = None, *, wrt: Wrt = 0, optimize: Optimize = True) -> Any:
    """Like `grad`, but the derivative function returns `(value, gradient)`."""
    if f is None:
        return lambda fn: value_and_grad(fn, wrt=wrt, optimize=optimize)
    return _Derivative(f, wrt, "value_and_grad", optimize).entry


def vjp(f: Callable[..., Any], *primals: Any, wrt: Wrt = 0, optimize: Optimize = True) -> tuple[Any, Callable[[Any], Any]]:
    """Run `f(*primals)` and return `(out, pullback)`; `pullback(v)` gives v^T J for `wrt`.

    The output may have any shape or structure; the cotangent `v` has the output's.
    """
    derivative = _Derivative(f, wrt, "vjp", optimize)
    derivative.check_arguments(dict(zip(derivative.names, primals)))
    generated = derivative.generated
    self_arg = derivative.self_arg
    out, first = generated.function(*self_arg, *primals)
    unused = [first]

    def pullback(cotangent: Any) -> Any:
        back = unused.pop() if unused else generated.function(*self_arg, *primals)[1]
        return derivative._shape(back(cotangent), primals, {})

    return out, pullback


def source(derivative: Any, *, mode: str = "reverse", wrt: Wrt = 0, optimize: Optimize = True) -> str:
    """The generated code of a derivative made by `grad` or `value_and_grad`; or, given a
    plain function, of its reverse (`mode="reverse"`) or forward (`mode="forward"`)
    derivative w.r.t. `wrt`."""
    made = derivative_of(derivative)
    if made is not None:
        return made.source
    if mode not in ("reverse", "forward"):
        raise UsageError(f"mode must be 'reverse' or 'forward', not {mode!r}")
    if not callable(derivative):
        raise UsageError("srcgrad.source takes a function, or a function made by srcgrad.grad or srcgrad.value_and_grad")
    names, _ = resolve_wrt(derivative, wrt)
    return transform.generate(derivative, Request(names, "jvp" if mode == "forward" else "grad",
                                                      cleanups=enabled(optimize))).source


def adjoint(fn: Callable[..., Any]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register `rule(g, ans, *args) -> tuple` (one cotangent per positional argument,
    `None` for zero) as the reverse derivative of `fn`; calls to `fn` then use it."""

    def register(rule: Callable[..., Any]) -> Callable[..., Any]:
        register_adjoint(fn, rule)
        _rules_changed()
        return rule

    return register


def _rules_changed() -> None:
    """Every derivative built so far forgets its code: the next call builds it with the new rule."""
    transform.clear_cache()
    for derivative in list(_LIVE):
        derivative.forget()


def tangent(fn: Callable[..., Any]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register `rule(dots, ans, *args) -> tangent of ans` as the forward derivative of `fn`
    (`dots` holds one tangent per positional argument, `None` for zero); the counterpart of
    `adjoint` for `jvp`, `jacobian` and `hessian`."""

    def register(rule: Callable[..., Any]) -> Callable[..., Any]:
        register_tangent(fn, rule)
        _rules_changed()
        return rule

    return register


def jvp(f: Callable[..., Any], primals: tuple, tangents: tuple, wrt: Wrt = 0, optimize: Optimize = True) -> tuple[Any, Any]:
    """Forward mode: run `f(*primals)` and return `(out, J u)`, the tangent of the output
    along `tangents` (one per `wrt` parameter, each shaped like its argument).

    The generated code carries a tangent beside every value and follows the control flow
    that runs; it records nothing. `srcgrad.source(f, mode="forward")` shows it.
    """
    names, _ = resolve_wrt(f, wrt)
    primals, tangents = tuple(primals), tuple(tangents)
    if len(tangents) != len(names):
        raise UsageError(
            f"jvp got {len(tangents)} tangent(s) for {len(names)} differentiated parameter(s) "
            f"({', '.join(names)}); pass one tangent per wrt parameter, shaped like its argument"
        )
    for name, value in zip(parameters(f)[0], primals):
        if name in names:
            objects.check_argument(value, f"the argument {name!r} of {getattr(f, '__name__', 'the function')}")
    forward = forward_function(f, primals, names, optimize)
    out, out_dot = forward(*primals, **dict(zip(names, tangents)))
    return out, runtime.match(out_dot, out)


def forward_function(
    f: Callable[..., Any], primals: tuple, names: tuple[str, ...], optimize: Optimize = True,
) -> Callable[..., tuple]:
    """The generated forward function of `f` for these argument types, called as
    `forward(*primals, name=tangent...)` with tangents keyed by parameter name; returns
    `(out, raw tangent of out)`. For callers that run many sweeps (jacobian, hessian)."""
    params = parameters(f)[0]
    scalars = frozenset(name for name, a in zip(params, primals) if type(a) in (float, int))
    generated = transform.generate(_code_of(f, scalars), Request(names, "jvp", scalars=scalars, cleanups=enabled(optimize)))
    function = generated.function
    if isinstance(f, types.MethodType):
        function = functools.partial(function, f.__self__)
    renamed = generated.tangent_params
    if all(renamed[n] == n for n in names):
        return function
    return lambda *args, **tangents: function(*args, **{renamed[n]: t for n, t in tangents.items()})


declare_machinery(grad, value_and_grad, vjp, jvp, source, adjoint, tangent, no_grad, forward_function, derivative_of)
