"""The small runtime that generated derivative code imports.

Everything here is array-library neutral: NumPy functions that dispatch through
`__array_function__`, shapes read with `np.shape`, no in-place writes into inputs.
Zero cotangents are the Python float `0.0`; container cotangents (for dict, list and
tuple values) are the `*Cotangent` classes of `cotangents.py`, which add element by element.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import UsageError
from ..facts import declare_pure
from .broadcast import ShapeOf as ShapeOf  # re-exported: helpers generated code calls
from .broadcast import add_into as add_into
from .broadcast import shape_of as shape_of
from .broadcast import unbroadcast as unbroadcast
from .cotangents import DictCotangent, ListCotangent, TupleCotangent, add, is_zero
from .tree import flatten, is_node, misrouted, rebuild

_SCALARS = (float, int, complex, np.floating, np.integer, np.complexfloating, np.bool_, bool)


def broadcast_like(t: Any, like: Any) -> Any:
    """The tangent `t` of a broadcast operand, stretched to the shape of the result `like`."""
    if type(t) is float and type(like) is float:
        return t
    shape = np.shape(like)
    return t if np.shape(t) == shape else np.broadcast_to(t, shape)


def zero_tangent(x: Any) -> Any:
    """The zero tangent of `x`: `0.0` for a number, zeros of its shape for an array, and
    the same structure for a list, tuple or dict."""
    if isinstance(x, dict):
        return {key: zero_tangent(value) for key, value in x.items()}
    if isinstance(x, (list, tuple)):
        return type(x)(zero_tangent(v) for v in x) if not hasattr(x, "_fields") else type(x)(*map(zero_tangent, x))
    if isinstance(x, np.ndarray):
        return np.zeros(x.shape, dtype=_float_dtype(x))
    if is_node(x):  # a dataclass or registered class: the same class, zero in each child
        return rebuild(x, [zero_tangent(child) for child in flatten(x)[0]])
    if isinstance(x, range):  # a loop's steps (second order reads them off the tape): sliced and indexed like it
        return np.zeros(len(x))
    return 0.0


def with_item(t: Any, index: Any, value: Any) -> Any:
    """A copy of the tangent `t` with `t[index] = value`: the tangent of an item assignment.
    A copy, because `t` may be shared with another value's tangent."""
    if isinstance(t, dict):
        return {**t, index: value}
    if isinstance(t, list):
        out = list(t)
        out[index] = value
        return out
    out = np.array(t, dtype=np.result_type(t, value, float), copy=True)
    out[index] = value
    return out


def call_tangent(rule: Any, dots: tuple, ans: Any, *args: Any, **kwargs: Any) -> Any:
    """Call a forward rule of the `(dots, ans, *args)` kind (user rules registered with
    `srcgrad.tangent`); `None` (no tangent) becomes a zero of the result's shape."""
    result = rule(dots, ans, *args, **kwargs)
    return zero_tangent(ans) if result is None else result


def getitem_vjp(g: Any, x: Any, index: Any) -> Any:
    """Cotangent of `x` from the cotangent `g` of `x[index]` (dict, list, tuple or array)."""
    if isinstance(x, dict):
        return DictCotangent({index: g})
    if isinstance(x, (list, tuple)):
        cls = TupleCotangent if isinstance(x, tuple) else ListCotangent
        out = [0.0] * len(x)
        if isinstance(index, slice):
            for position, value in zip(range(*index.indices(len(x))), g):
                out[position] = value
        else:
            out[index] = g
        return cls(out)
    out = np.zeros(np.shape(x), dtype=_float_dtype(x))
    if _is_basic_index(index):
        out[index] = g
    else:
        np.add.at(out, index, g)
    return out


def add_at(out: Any, index: Any, g: Any) -> Any:
    """`out + getitem_vjp(g, out, index)`: adds `g` into `out[index]` in place (as
    `np.add.at`) and returns `out`. Generated code calls it only on a cotangent buffer it
    made itself and reads nowhere else; where in place would change the result's dtype, or
    `out` is not a NumPy array, it returns a new sum instead."""
    if is_zero(g):
        return out
    if type(out) is np.ndarray and np.result_type(out, g) == out.dtype:
        if _is_basic_index(index):
            out[index] += g
        else:
            np.add.at(out, index, g)
        return out
    return out + getitem_vjp(g, out, index)


def getitem(g: Any, index: Any) -> Any:
    """`g[index]` for a cotangent that may still be the symbolic zero."""
    if is_zero(g):
        return 0.0
    if isinstance(g, dict):
        return g.get(index, 0.0)
    return g[index]


def zero_at(g: Any, index: Any) -> Any:
    """A copy of the cotangent `g` with the entries at `index` set to zero."""
    if is_zero(g):
        return g
    if isinstance(g, dict):
        out = DictCotangent(g)
        out.pop(index, None)
        return out
    if isinstance(g, list):
        out = ListCotangent(g)
        out[index] = 0.0
        return out
    out = np.array(g, copy=True)
    out[index] = 0
    return out


def split(g: Any, n: int) -> Any:
    """The `n` element cotangents of a sequence cotangent (zeros where `g` is zero)."""
    if is_zero(g):
        return (0.0,) * n
    if isinstance(g, (list, tuple)):
        return tuple(g)
    return tuple(g[i] for i in range(n))


def unsplit(h: Any, g: Any) -> Any:
    """The cotangent of `g` from the cotangents `h` of the parts `split(g, n)` returned."""
    parts = list(h) if not is_zero(h) else []
    if is_zero(h) or all(is_zero(p) for p in parts):
        return 0.0
    if isinstance(g, (list, tuple)) or is_zero(g):
        return TupleCotangent(parts) if not isinstance(g, list) else ListCotangent(parts)
    like = next(p for p in parts if not is_zero(p))
    return np.stack([np.zeros(np.shape(like)) if is_zero(p) else p for p in parts])


def undrop_last(h: Any, g: Any) -> Any:
    """The cotangent of a list cotangent `g` from the cotangent `h` of `drop_last(g)`."""
    if is_zero(h):
        return 0.0
    return ListCotangent([*h, 0.0])


def unmatch(h: Any, g: Any) -> Any:
    """The cotangent of `g` from the cotangent `h` of `match(g, x)`: sums what `match`
    broadcast (containers are matched entry by entry, so theirs passes through)."""
    if isinstance(h, (dict, list, tuple)):
        return h
    return unbroadcast(h, g)


def is_absent(value: Any) -> bool:
    """Whether `copy_item` found no entry (a dict key an assignment is about to create)."""
    return value is _ABSENT


def _is_basic_index(index: Any) -> bool:
    parts = index if isinstance(index, tuple) else (index,)
    return all(
        part is None or part is Ellipsis or isinstance(part, (slice, int, np.integer))
        for part in parts
    )


def _float_dtype(x: Any) -> Any:
    dtype = getattr(x, "dtype", None)
    if dtype is not None and np.issubdtype(dtype, np.inexact):
        return dtype
    return np.float64


def match(g: Any, x: Any) -> Any:
    """Shape the raw cotangent `g` like the argument `x`: structure, shape and float dtype."""
    if isinstance(x, dict):
        g = g if isinstance(g, dict) else {}
        return type(x)((key, match(g.get(key, 0.0), value)) for key, value in x.items())
    if isinstance(x, (list, tuple)):
        parts = split(g, len(x))
        items = [match(part, value) for part, value in zip(parts, x)]
        return items if isinstance(x, list) else _rebuild_tuple(x, items)
    if is_node(x):  # a dataclass or registered class: its cotangent holds one entry per child
        children = flatten(x)[0]
        if not (is_zero(g) or isinstance(g, tuple) or is_node(g)):
            misrouted(x)
        parts = flatten(g)[0] if is_node(g) else split(g, len(children))
        return rebuild(x, [match(part, child) for part, child in zip(parts, children)])
    if isinstance(x, np.ndarray):
        dtype = _float_dtype(x)
        if is_zero(g):
            return np.zeros(x.shape, dtype=dtype)
        g = np.asarray(g)
        if g.shape != x.shape:
            g = np.broadcast_to(g, x.shape)
        return np.array(g, dtype=dtype, copy=True) if g.dtype != dtype or g.base is not None else g
    if isinstance(x, (float, int, bool)):
        return complex(g) if np.iscomplexobj(g) else float(g)
    if isinstance(x, (np.floating, np.integer)):
        return np.dtype(_float_dtype(x)).type(g)
    return g


def _rebuild_tuple(x: tuple, items: list) -> tuple:
    if hasattr(x, "_fields"):  # namedtuple
        return type(x)(*items)
    return tuple(items)


def is_scalar(x: Any) -> bool:
    return isinstance(x, _SCALARS) or (isinstance(x, np.ndarray) and x.ndim == 0)


def seed(out: Any) -> float:
    """The cotangent 1.0 that starts a gradient; the output must be a scalar."""
    if type(out) is float or is_scalar(out):
        return 1.0
    raise UsageError(
        f"grad needs a function that returns a scalar, but it returned a value of shape "
        f"{np.shape(out)} ({type(out).__name__}); use srcgrad.vjp for other outputs, or "
        "reduce the output (e.g. `.sum()`)"
    )


def copy_item(container: Any, index: Any) -> Any:
    """A copy of `container[index]`, saved before an item assignment overwrites it."""
    if isinstance(container, dict) and index not in container:
        return _ABSENT
    value = container[index]
    return value.copy() if hasattr(value, "copy") else value


def snapshot(value: Any) -> Any:
    """A copy of `value` the backward sweep cannot change: arrays copied, lists, tuples and
    dicts rebuilt around copies of their items, anything else itself. What a vjp returns when
    its pullback undoes in-place writes (item assignments, appends) to restore older values."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, list):
        return [snapshot(item) for item in value]
    if isinstance(value, tuple):
        items = [snapshot(item) for item in value]
        return type(value)(*items) if hasattr(value, "_fields") else type(value)(items)
    if isinstance(value, dict):
        return type(value)((key, snapshot(item)) for key, item in value.items())
    return rebuild(value, [snapshot(c) for c in flatten(value)[0]]) if is_node(value) else value


class _Absent:
    """Stands for a dict entry that did not exist before an assignment created it."""


_ABSENT = _Absent()


def drop_last(g: Any) -> Any:
    """The cotangent of a list before its last `append`."""
    if is_zero(g):
        return g
    return ListCotangent(g[:-1])


def pushed(g: Any, item: Any, lst: list) -> Any:
    """The cotangent of a list before a `pop`, from the cotangent `g` of the list after it
    (`lst`, as it is after the pop) and the cotangent `item` of the popped value."""
    entries = [0.0] * len(lst) if is_zero(g) else list(g)
    return ListCotangent([*entries, item])


def restored(container: Any, index: Any, old: Any) -> Any:
    """A copy of `container` with the entry at `index` put back to `old` (or removed, for a
    dict key the assignment created): `restore_item` without mutation, for derivative code
    that is differentiated again."""
    if isinstance(container, dict):
        out = dict(container)
        if old is _ABSENT:
            del out[index]
        else:
            out[index] = old
        return out
    out = list(container) if isinstance(container, list) else np.array(container, copy=True)
    out[index] = old
    return out


def call_rule(rule: Any, g: Any, ans: Any, *args: Any, **kwargs: Any) -> tuple:
    """Call a user rule registered with `srcgrad.adjoint`; `None` entries become zeros."""
    result = rule(g, ans, *args, **kwargs)
    if not isinstance(result, tuple):
        result = (result,)
    if len(result) < len(args):
        result = result + (None,) * (len(args) - len(result))
    return tuple(0.0 if part is None else part for part in result)


def as_sequence(x: Any) -> Any:
    """`x` itself if it can be indexed by position, else `list(x)`."""
    if isinstance(x, (list, tuple)) or np.ndim(x) > 0 and hasattr(x, "shape"):
        return x
    return list(x)


def is_dict_view(x: Any) -> bool:
    """True for `d.keys()`, `d.values()` and `d.items()`: sequences in the dict's order, whose
    cotangents are lists (which `values_cotangent` and `items_cotangent` read in that order)."""
    return isinstance(x, (type({}.keys()), type({}.values()), type({}.items())))


def dict_items(d: dict) -> list:
    return list(d.items())


def dict_values(d: dict) -> list:
    return list(d.values())


def dict_get(d: dict, key: Any, default: Any = None) -> Any:
    return d.get(key, default)


def restore_item(container: Any, index: Any, old: Any) -> None:
    """Undo `container[index] = ...` in the backward sweep, given the saved old entry."""
    if old is _ABSENT:
        del container[index]
    else:
        container[index] = old


_NO_CAUSE = object()


def throw(exception: Any, cause: Any = _NO_CAUSE) -> None:
    """Raise `exception` (from `cause`): a `raise` or failed `assert` of the user's code."""
    if cause is _NO_CAUSE:
        raise exception
    raise exception from cause


declare_pure(
    broadcast_like, zero_tangent, with_item, is_zero, add, DictCotangent, ListCotangent, TupleCotangent,
    getitem_vjp, add_at, getitem, zero_at, split, unsplit, undrop_last, unmatch, is_absent, match, is_scalar,
    copy_item, snapshot, drop_last, pushed, restored, as_sequence, is_dict_view, dict_items, dict_values, dict_get,
)
