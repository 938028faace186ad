"""What a derivative was built from, recorded while it is built and checked when it is reused.

A derivative depends on the code object (and defaults) of the function it was made from, on
the objects its global and closure names (and `module.attr` chains) resolved to when it was
built, on the derivatives of the callees it embeds, and on the rule registry. `Dependencies`
records them; `valid()` says, with a few identity comparisons each, whether they all still
hold, so a cache hit can be trusted and a stale entry rebuilt.
"""

from __future__ import annotations

import builtins
import types
from typing import Any

from ..rules import registry
from .parse import MISSING as _MISSING

_METHODS = (types.MethodType, types.BuiltinMethodType)
_STACK: list[Dependencies] = []  # the transforms running (nested for callees); under transform._LOCK
_LIBRARIES = ("numpy", "scipy", "math", "cmath", "operator", "builtins", "functools", "itertools", "srcgrad")


class Dependencies:
    """The things one derivative was built from, and a check that none has changed."""

    __slots__ = ("fn", "code", "defaults", "kwdefaults", "rules", "names", "attributes", "callees", "__weakref__")

    def __init__(self, fn: types.FunctionType) -> None:
        self.fn, self.code = fn, fn.__code__
        self.defaults, self.kwdefaults = fn.__defaults__, fn.__kwdefaults__
        self.rules = registry.version()
        self.names: dict[str, tuple[dict[str, Any], types.CellType | None, Any]] = {}
        self.attributes: dict[tuple[int, str], tuple[Any, str, Any]] = {}
        self.callees: dict[int, Any] = {}  # what has `.deps` (a Generated, or a callee cell's entry), by id

    def name(self, namespace: dict[str, Any], cell: types.CellType | None, name: str, value: Any) -> None:
        """Record that global or closure `name` (a cell when it is one) resolved to `value`."""
        self.names[name] = (namespace, cell, value)

    def attribute(self, base: Any, attr: str, value: Any) -> None:
        """Record that `base.attr` was `value`, unless reading it makes a new object each time
        (a property: nothing a derivative can follow by identity)."""
        if _same(getattr(base, attr, _MISSING), value):
            self.attributes[(id(base), attr)] = (base, attr, value)

    def valid(self, checked: set[int] | None = None) -> bool:
        """Whether everything recorded still holds (callees' dependencies included)."""
        checked = set() if checked is None else checked
        if id(self) in checked:
            return True
        checked.add(id(self))  # a cycle (recursion) is taken as valid while it is checked
        if not self._holds(checked):
            checked.discard(id(self))
            return False
        return True

    def _holds(self, checked: set[int]) -> bool:
        fn = self.fn
        if fn.__code__ is not self.code or fn.__defaults__ is not self.defaults or \
                fn.__kwdefaults__ is not self.kwdefaults or self.rules != registry.version():
            return False
        for name, (namespace, cell, value) in self.names.items():
            if not _same(_current(namespace, cell, name), value):
                return False
        for base, attr, value in self.attributes.values():
            if not _same(getattr(base, attr, _MISSING), value):
                return False
        for callee in self.callees.values():
            deps = getattr(callee, "deps", None)
            if deps is not None and not deps.valid(checked):
                return False
        return True

    def frozen(self) -> bool:
        """Whether this derivative reads no name a user program rebinds: only modules, builtins
        and library modules' attributes (so existing code may skip the per-call check)."""
        if self.callees:
            return False
        for name, (namespace, cell, value) in self.names.items():
            if cell is not None or name in namespace and not isinstance(value, types.ModuleType):
                return False
        return all(isinstance(base, types.ModuleType) and _library(base) for base, _, _ in self.attributes.values())


def _same(now: Any, then: Any) -> bool:
    return now is then or type(now) in _METHODS and type(now) is type(then) and now == then


def _current(namespace: dict[str, Any], cell: types.CellType | None, name: str) -> Any:
    """What `name` resolves to now, as `parse.lookup` resolves it."""
    if cell is not None:
        try:
            return cell.cell_contents
        except ValueError:
            return _MISSING
    if name in namespace:
        return namespace[name]
    return getattr(builtins, name, _MISSING)


def _library(value: Any) -> bool:
    module = value.__name__ if isinstance(value, types.ModuleType) else getattr(value, "__module__", None)
    return isinstance(module, str) and module.split(".")[0] in _LIBRARIES


def recording() -> Dependencies | None:
    """The dependencies of the innermost derivative being built, or None."""
    return _STACK[-1] if _STACK else None


class building:
    """`with building(deps):` records what the transform inside reads into `deps`."""

    def __init__(self, deps: Dependencies) -> None:
        self.deps = deps

    def __enter__(self) -> Dependencies:
        _STACK.append(self.deps)
        return self.deps

    def __exit__(self, *exc: Any) -> None:
        _STACK.pop()


def used(callee: Any) -> None:
    """Record that the derivative being built embeds `callee` (a Generated or a cell entry)."""
    if _STACK:
        _STACK[-1].callees[id(callee)] = callee

