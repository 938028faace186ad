"""Objects in derivative code: attribute reads of pytree nodes (NamedTuples, dataclasses and
classes registered with `register_pytree`), and methods called on differentiated objects.

A node's cotangent holds one entry per child, in `tree.flatten`'s order (a NamedTuple's, its
fields'); `runtime.match` turns it into an object of the node's class. A node's tangent is an
object of its class already (what the caller passes to `jvp`).
"""

from __future__ import annotations

import inspect
import types
from typing import Any

import numpy as np

from ..errors import NotDifferentiableError, UsageError
from .core import TupleCotangent, is_zero, zero_tangent
from .tree import flatten, is_node, is_registered

_CONSTANTS = (str, bytes, bool, type(None), range, types.ModuleType)


def _is_namedtuple(x: Any) -> bool:
    return isinstance(x, tuple) and hasattr(type(x), "_fields")


def child_index(x: Any, name: str) -> int | None:
    """Which child of the pytree node `x` its attribute `name` is, or None when it is none."""
    if _is_namedtuple(x):
        return x._fields.index(name) if name in x._fields else None
    if not is_node(x):
        raise NotDifferentiableError(
            f"srcgrad cannot differentiate the attribute `.{name}` of a {type(x).__name__} object: "
            "pass parameters as a NamedTuple, a dataclass or a dict, or register the class with "
            "srcgrad.register_pytree(cls, flatten, unflatten)")
    children, (_, data) = flatten(x)
    if dataclass_names(x) is not None:
        return data.index(name) if name in data else None
    value = getattr(x, name)
    hits = [i for i, child in enumerate(children) if child is value]
    if len(hits) > 1 and not isinstance(value, _CONSTANTS):
        raise NotDifferentiableError(
            f"`.{name}` of this {type(x).__name__} is the same object as several of the children its "
            "flatten function returns, so srcgrad cannot tell which one it reads; store distinct objects")
    return hits[0] if hits else None


def dataclass_names(x: Any) -> tuple | None:
    """The field names of a dataclass instance that is not a registered class, else None."""

    return None if is_registered(type(x)) or _is_namedtuple(x) else flatten(x)[1][1]


def _not_a_child(x: Any, name: str) -> None:
    """An attribute that is no child of `x`: a constant when it holds no number or array (a
    string, a function, a class attribute), else refused."""
    static = inspect.getattr_static(x, name, None)
    if isinstance(static, property):
        raise NotDifferentiableError(
            f"`.{name}` of a {type(x).__name__} is a property, which srcgrad does not differentiate; "
            f"make it a method and call it (`.{name}()`), which srcgrad differentiates")
    value = getattr(x, name)
    owned = name in getattr(x, "__dict__", {}) or name in getattr(type(x), "__slots__", ())
    if owned and not isinstance(value, _CONSTANTS) and not callable(value):
        raise NotDifferentiableError(
            f"`.{name}` of a {type(x).__name__} is not one of the children its pytree flatten function "
            "returns, so its derivative would be lost; return it from flatten, or read it as a constant "
            "with srcgrad.stop_gradient")


def getattr_vjp(g: Any, x: Any, name: str) -> Any:
    """The cotangent of the node `x` from the cotangent `g` of `x.name`."""
    if is_zero(g):
        return 0.0
    index = child_index(x, name)
    if index is None:
        _not_a_child(x, name)
        return 0.0
    out: list[Any] = [0.0] * (len(x) if _is_namedtuple(x) else len(flatten(x)[0]))
    out[index] = g
    return TupleCotangent(out)


def child_cotangent(g: Any, x: Any, name: str) -> Any:
    """The entry of the node cotangent `g` for `x.name`: the transpose of `getattr_vjp`."""
    index = child_index(x, name)
    if is_zero(g) or index is None:
        return 0.0
    return g[index] if isinstance(g, tuple) else flatten(g)[0][index]


def getattr_tangent(t: Any, x: Any, name: str) -> Any:
    """The tangent of `x.name` from the tangent `t` of the node `x` (an object of x's class)."""
    index = child_index(x, name)
    if index is None:
        _not_a_child(x, name)
        return zero_tangent(getattr(x, name))
    if t is None or is_zero(t):
        return zero_tangent(getattr(x, name))
    return t[index] if isinstance(t, tuple) else flatten(t)[0][index]


def check_argument(x: Any, what: str) -> None:
    """Refuse a differentiated argument that holds an object srcgrad cannot take apart."""
    if isinstance(x, dict):
        for value in x.values():
            check_argument(value, what)
    elif isinstance(x, (list, tuple)):
        for value in x:
            check_argument(value, what)
    elif is_node(x):
        for value in flatten(x)[0]:
            check_argument(value, what)
    elif isinstance(x, complex) or np.iscomplexobj(x) and isinstance(x, (np.ndarray, np.generic)):
        raise UsageError(
            f"{what} is complex; srcgrad differentiates with respect to real numbers (complex values inside "
            "the function are fine): pass the real and imaginary parts as two real arguments, "
            "e.g. `def f(x, y): z = x + 1j * y; ...`, and differentiate with respect to both")
    elif not (isinstance(x, (int, float, np.ndarray, np.generic, *_CONSTANTS)) or hasattr(x, "__array_function__")):
        raise UsageError(
            f"{what} is a {type(x).__name__} object, which srcgrad cannot differentiate with respect to: "
            "pass its numbers and arrays as a NamedTuple, a dataclass or a dict (methods of a dataclass "
            "are differentiated too), or register the class with srcgrad.register_pytree(cls, flatten, unflatten)")


REVERSE = {"getattr_vjp": getattr_vjp}  # what generated code calls
FORWARD = {"getattr_tangent": getattr_tangent}
