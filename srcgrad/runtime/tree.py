"""Pytrees: nested dicts, lists and tuples (NamedTuples too), dataclass instances and classes
registered with `register_pytree`, whose leaves are numbers or arrays."""

from __future__ import annotations

import dataclasses
import inspect
import types
from typing import Any, Callable

import numpy as np

from ..errors import NotDifferentiableError, UsageError
from ..facts import declare_machinery

_REGISTERED: dict[type, tuple[Callable[[Any], tuple], Callable[[Any, Any], Any]]] = {}


def register_pytree(cls: type, flatten: Callable[[Any], tuple], unflatten: Callable[[Any, Any], Any]) -> type:
    """Make instances of `cls` pytrees: `flatten(obj) -> (children, aux)` and
    `unflatten(aux, children) -> obj`, as `jax.tree_util.register_pytree_node`."""
    if not isinstance(cls, type) or issubclass(cls, (dict, list, tuple)):
        raise UsageError(f"register_pytree takes a class that is not a dict, list or tuple, not {cls!r}")
    if not callable(flatten) or not callable(unflatten):
        raise UsageError("register_pytree(cls, flatten, unflatten) needs two functions: "
                         "flatten(obj) -> (children, aux) and unflatten(aux, children) -> obj")
    _REGISTERED[cls] = (flatten, unflatten)
    return cls


def is_registered(cls: type) -> bool:
    """Whether `cls` was registered with `register_pytree`."""
    return cls in _REGISTERED


def is_node(x: Any) -> bool:
    """Whether `x` is a dataclass instance or an instance of a registered class."""
    return type(x) in _REGISTERED or (dataclasses.is_dataclass(x) and not isinstance(x, type))


def flatten(x: Any) -> tuple[list, Any]:
    """The children of the node `x` in order, and what `unflatten` needs to rebuild it."""
    registered = _REGISTERED.get(type(x))
    if registered is not None:
        children, aux = registered[0](x)
        return list(children), (type(x), aux)
    names = tuple(field.name for field in dataclasses.fields(x))
    return [getattr(x, name) for name in names], (type(x), names)


def unflatten(aux: Any, children: Any) -> Any:
    """The node `flatten` took apart, with `children` in place of its children. A dataclass
    is rebuilt field by field, without calling its `__init__` (frozen ones too)."""
    cls, data = aux
    registered = _REGISTERED.get(cls)
    if registered is not None:
        return registered[1](data, list(children))
    out = object.__new__(cls)
    for name, child in zip(data, children):
        object.__setattr__(out, name, child)
    return out


def rebuild(x: Any, children: list) -> Any:
    """The node `x` with `children` in place of its own."""
    return unflatten(flatten(x)[1], children)


def leaves(tree: Any) -> list[Any]:
    """The leaves of `tree` in a fixed order (dict entries in insertion order)."""
    if isinstance(tree, dict):
        return [leaf for value in tree.values() for leaf in leaves(value)]
    if isinstance(tree, (list, tuple)):
        return [leaf for value in tree for leaf in leaves(value)]
    if is_node(tree):
        return [leaf for value in flatten(tree)[0] for leaf in leaves(value)]
    return [tree]


def map_leaves(fn: Callable[..., Any], tree: Any, *others: Any) -> Any:
    """Apply `fn` leaf by leaf to `tree` and trees of the same structure."""
    if isinstance(tree, dict):
        return type(tree)((k, map_leaves(fn, v, *(o[k] for o in others))) for k, v in tree.items())
    if isinstance(tree, (list, tuple)):
        items = [map_leaves(fn, v, *(o[i] for o in others)) for i, v in enumerate(tree)]
        if isinstance(tree, list):
            return items
        return type(tree)(*items) if hasattr(tree, "_fields") else tuple(items)
    if is_node(tree):
        children, aux = flatten(tree)
        parts = [flatten(o)[0] for o in others]
        return unflatten(aux, [map_leaves(fn, c, *(p[i] for p in parts)) for i, c in enumerate(children)])
    return fn(tree, *others)


def vdot(a: Any, b: Any) -> float:
    """The inner product of two trees of the same structure."""
    return float(sum(np.vdot(np.asarray(x, float), np.asarray(y, float)) for x, y in zip(leaves(a), leaves(b))))


def misrouted(x: Any) -> None:
    """Refuse a node that received an array's cotangent: a method of its class named like an
    array method (`.sum()`, `.dot(...)`), which srcgrad takes for the array method."""
    names = sorted(name for name in dir(type(x)) if hasattr(np.ndarray, name) and not name.startswith("_")
                   and isinstance(inspect.getattr_static(x, name, None), types.FunctionType))
    raise NotDifferentiableError(
        f"a {type(x).__name__} object got the derivative of an array: srcgrad takes a method call named like an "
        f"array method ({', '.join(f'.{n}()' for n in names) or '.sum(), .dot()...'}) for the array method; "
        "rename that method of your class")


declare_machinery(register_pytree, is_node, flatten, unflatten, rebuild, leaves, map_leaves, vdot)
