"""Finite differences at two step sizes, tolerant comparison, and flattening of outputs."""

from __future__ import annotations

import copy
import random
from typing import Any, Callable, Sequence

import numpy as np

STEPS = (1e-4, 1e-6)  # relative steps; disagreement between them means a kink or a branch boundary
RTOL, ATOL = 1e-5, 1e-6  # for a derivative against finite differences, ATOL scaled by the magnitude
KINK_RTOL, KINK_ATOL = 1e-4, 1e-5
JUMP = 1e-3  # at the fine step one-sided differences differ by h * curvature, at a kink by its slope change


class Invalid(Exception):
    """Plain Python raised, or gave a non-finite value, at a point the oracle needs."""


def leaves(value: Any) -> list[np.ndarray]:
    """The float leaves of a number, array, list, tuple or dict, in order."""
    if isinstance(value, dict):
        return [leaf for k in sorted(value) for leaf in leaves(value[k])]
    if isinstance(value, (list, tuple)):
        return [leaf for item in value for leaf in leaves(item)]
    return [np.asarray(value, dtype=float)]


def flat(value: Any) -> np.ndarray:
    """All the leaves of `value` as one float vector."""
    parts = [leaf.ravel() for leaf in leaves(value)]
    return np.concatenate(parts) if parts else np.zeros(0)


def evaluate(f: Callable[..., Any], args: Sequence[Any]) -> Any:
    """`f(*args)` by plain Python on deep copies of `args` (a program may write into its arguments, and one
    evaluation must not change another's inputs); raises Invalid if it raises or is not finite."""
    try:
        with np.errstate(all="raise"):
            out = f(*copy.deepcopy(list(args)))
        values = flat(out)
    except Exception as exc:  # any failure of the user's program makes the point unusable
        raise Invalid(f"{type(exc).__name__}: {exc}") from None
    if not np.all(np.isfinite(values)):
        raise Invalid("non-finite value")
    if any(leaf.dtype.kind == "f" and leaf.dtype.itemsize < 8 for leaf in _raw_leaves(out)):
        raise Invalid("a value below double precision (e.g. np.tanh of a bool is float16)")
    return out


def after_call(f: Callable[..., Any], args: Sequence[Any]) -> list[Any]:
    """Deep copies of `args` as plain Python's `f` leaves them (it may write into them)."""
    copies = copy.deepcopy(list(args))
    with np.errstate(all="ignore"):
        f(*copies)
    return copies


def _raw_leaves(value: Any) -> list[np.ndarray]:
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in _raw_leaves(v)]
    if isinstance(value, (list, tuple)):
        return [leaf for item in value for leaf in _raw_leaves(item)]
    return [np.asarray(value)]


def moved(args: Sequence[Any], position: int, delta: Any) -> list[Any]:
    """`args` with `delta` added to the one at `position` (a float stays a float)."""
    out = list(args)
    x = args[position]
    out[position] = float(x + delta) if isinstance(x, float) else np.asarray(x, float) + delta
    return out


def step_of(x: Any, rel: float) -> float:
    return rel * max(1.0, float(np.max(np.abs(x))))


def directional(g: Callable[..., Any], args: Sequence[Any], directions: dict[int, Any], rel: float) -> np.ndarray:
    """Central difference of flat(g(*args)) along `directions` (position -> direction). At
    the fine step, NaN where the one-sided differences disagree, which curvature cannot
    explain at that step: a kink or jump that central differences average away (`np.clip` at
    a bound, `np.where(x, a, x)` at x = 0), where there is no derivative to compare with."""
    h = min(step_of(args[p], rel) for p in directions)
    plus, minus = list(args), list(args)
    for p, d in directions.items():
        plus, minus = moved(plus, p, h * d), moved(minus, p, -h * d)
    above, below = flat(evaluate(g, plus)), flat(evaluate(g, minus))
    central = (above - below) / (2 * h)
    if rel > min(STEPS):
        return central
    here = flat(evaluate(g, args))  # only the fine step compares one-sided differences
    one_sided_gap = np.abs((above - here) - (here - below)) / h
    return np.where(one_sided_gap > JUMP * scale_of(central), np.nan, central)


def unit(x: Any, i: int) -> Any:
    if np.ndim(x) == 0:
        return 1.0
    e = np.zeros(np.shape(x))
    e.flat[i] = 1.0
    return e


def jacobian_fd(g: Callable[..., Any], args: Sequence[Any], position: int, rel: float) -> np.ndarray:
    """d flat(g) / d args[position], one column per entry, shape (outputs, entries)."""
    x = args[position]
    columns = [directional(g, args, {position: unit(x, i)}, rel) for i in range(int(np.size(x)))]
    return np.stack(columns, axis=1)


def scale_of(*values: Any) -> float:
    return max([1.0] + [float(np.max(np.abs(flat(v)), initial=0.0)) for v in values])


def close(got: Any, want: Any, scale: float, rtol: float = RTOL, atol: float = ATOL) -> bool:
    """Whether `got` matches `want` entry by entry, with an absolute floor of `atol * scale`."""
    got, want = flat(got), flat(want)
    if got.shape != want.shape:
        return False
    return bool(np.all(np.abs(got - want) <= atol * scale + rtol * np.abs(want)))


def two_step(compute: Callable[[float], np.ndarray], scale: float) -> np.ndarray | None:
    """`compute(step)` at the fine step, or None when the two steps disagree (a kink: skip)."""
    coarse, fine = (compute(rel) for rel in STEPS)
    if not close(coarse, fine, max(scale, scale_of(fine)), KINK_RTOL, KINK_ATOL):
        return None
    return fine


def worst(got: Any, want: Any, source: str = "finite differences") -> str:
    """A short description of the largest discrepancy with `want`, which `source` gave."""
    got, want = flat(got), flat(want)
    if got.shape != want.shape:
        return f"shape {got.shape} vs {want.shape}"
    i = int(np.argmax(np.abs(got - want)))
    return f"entry {i}: got {got[i]:.10g}, {source} {want[i]:.10g}"


def argument(rng: random.Random, shape: tuple[int, ...]) -> Any:
    """A point to evaluate a program at: a float in [-1.5, 1.5], or an array of `shape` in
    [-1.2, 1.2], rounded to 3 decimals."""
    if shape == ():
        return _off_zero(round(rng.uniform(-1.5, 1.5), 3))
    return np.array([_off_zero(round(rng.uniform(-1.2, 1.2), 3)) for _ in range(int(np.prod(shape)))]).reshape(shape)


def _off_zero(value: float) -> float:
    """Not exactly 0.0 (one draw in 2400): on a branch's edge (`x * x > 0.0`) the path that ran
    differs from its neighbours' while the values agree, which finite differences cannot judge."""
    return value if value != 0.0 else 0.05
