"""Shift invariance: reductions whose derivative cannot reach the output.

In `s = z - m` with `m = np.max(z, axis=a, keepdims=True)`, the value `m` is constant along
axis `a`. When the output does not change if any such constant is added to `m` (adding the
same number to every entry of a row of a softmax or log-softmax changes nothing), the total
derivative of the output with respect to `m` is exactly zero, so `m` needs no adjoint; JAX's
`logsumexp` gets the same by a `stop_gradient` on the max.

The proof is a forward data flow over the top-level straight-line statements after `m`,
for a perturbation `m -> m + d` with `d` shaped like `m` (so constant along axis `a`, or a
single number when `m` is a full reduction). Each value reading `m` is classified as

* shifted by k: it becomes `v + k*d` (`m` itself is shifted by 1, `z - m` by -1);
* scaled by k: it becomes `v * exp(k*d)` (`np.exp` of a value shifted by k);
* invariant: unchanged (k = 0, or it does not read `m` at all).

Any other use of a shifted or scaled value (returned, read in a loop or branch, passed to a
call without a rule below, a name bound more than once) leaves the proof unfinished, and
`m` keeps its adjoint: in doubt, nothing is dropped.
"""

from __future__ import annotations

import ast
from typing import Any, Callable, NamedTuple

import numpy as np

from ..frontend.resolve import Callee
from ..syntax.astquery import is_number, loads
from .shapes import bound_once, one_of

_REDUCTIONS = (np.max, np.amax, np.min, np.amin, np.sum, np.mean, np.nanmax, np.nanmin, np.nansum, np.nanmean)
_REDUCTION_NAMES = {"max", "amax", "min", "amin", "sum", "mean", "nanmax", "nanmin", "nansum", "nanmean"}
_SUMS = (np.sum, np.mean)  # linear: a positive factor constant along the axis comes out
_EXTREMES = (np.max, np.amax, np.min, np.amin)  # a constant added along the axis comes out
_OPERATOR_UFUNCS = {np.add: ast.Add, np.subtract: ast.Sub, np.multiply: ast.Mult, np.divide: ast.Div}

Resolve = Callable[[ast.Call], Callee]


class Shift(NamedTuple):
    """What `d` is constant along: one axis of `m` (`m` a keepdims reduction) or every axis
    (`axis` None: `m` a full reduction, so `d` is a single number)."""

    axis: int | None
    base: str | None  # the reduced name: its values have `m`'s number of dimensions


class Track(NamedTuple):
    """How a value moves under the perturbation: `kind` "shift" (v + k*d) or "scale"
    (v * exp(k*d)); `aligned` says its number of dimensions is `m`'s (a positive axis of `m`
    is then the same axis of this value)."""

    kind: str
    k: int
    aligned: bool


INVARIANT = Track("shift", 0, True)


def shift_free(node: ast.FunctionDef, resolve: Resolve) -> dict[str, Shift]:
    """The names `m` (keepdims or full reductions) that the returned value of `node`, a
    normalized function, provably does not change with when a constant is added along the
    reduced axis: their total derivative is zero, so they need no adjoint."""
    body = node.body
    candidates = [(i, c) for i, stmt in enumerate(body) if (c := _candidate(stmt, resolve)) is not None]
    if not candidates:
        return {}
    stable = bound_once(node)
    found = {}
    for index, (name, shift) in candidates:
        if name in stable and _proven(body[index + 1:], name, shift, stable, resolve):
            found[name] = shift
    return found


def _candidate(stmt: ast.stmt, resolve: Resolve) -> tuple[str, Shift] | None:
    """(`m`, its shift) for `m = np.max(w, axis=a, keepdims=True)` or a full reduction."""
    if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)
            and isinstance(stmt.value, ast.Call)):
        return None
    func = stmt.value.func  # spelled like a reduction: resolving every call would cost more
    if (func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)) not in _REDUCTION_NAMES:
        return None
    parts = _reduction(stmt.value, resolve, _REDUCTIONS)
    if parts is None:
        return None
    _, operand, axis, keepdims = parts
    if axis is None:
        return stmt.targets[0].id, Shift(None, None)
    if type(axis) is int and keepdims:
        return stmt.targets[0].id, Shift(axis, operand.id if isinstance(operand, ast.Name) else None)
    return None


def _proven(after: list[ast.stmt], m: str, shift: Shift, stable: set[str], resolve: Resolve) -> bool:
    """Whether every use of `m` in `after` (the statements following its definition) ends in
    an invariant value and none of its tracked descendants escapes."""
    flow = _Flow(shift, resolve, {m: Track("shift", 1, True)})
    for stmt in after:
        read = loads(stmt) & flow.tracked.keys()
        if not read:
            continue
        if isinstance(stmt, ast.Return):
            track = flow.classify(stmt.value) if stmt.value is not None else None
            return track is not None and track.k == 0
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)):
            return False  # a loop, a branch, an item assignment, a discarded call
        track = flow.classify(stmt.value)
        name = stmt.targets[0].id
        if track is None or name not in stable:
            return False
        if track.k != 0:
            flow.tracked[name] = track
    return True


class _Flow:
    """Classifies expressions by the tracks of the names they read."""

    def __init__(self, shift: Shift, resolve: Resolve, tracked: dict[str, Track]) -> None:
        self.shift, self.resolve, self.tracked = shift, resolve, tracked

    def classify(self, expr: ast.expr) -> Track | None:
        """The track of `expr`, or None when no rule covers it."""
        if not loads(expr) & self.tracked.keys():
            return INVARIANT._replace(aligned=self._small(expr))
        if isinstance(expr, ast.Name):
            return self.tracked[expr.id]
        if isinstance(expr, ast.BinOp):
            return self.binary(type(expr.op), expr.left, expr.right)
        if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, (ast.USub, ast.UAdd)):
            return self.negated(expr.operand) if isinstance(expr.op, ast.USub) else self.classify(expr.operand)
        if isinstance(expr, ast.Call):
            return self.call(expr)
        return None

    def _small(self, expr: ast.expr) -> bool:
        """Whether an invariant value has at most `m`'s number of dimensions."""
        return is_number(expr) or isinstance(expr, ast.Name) and expr.id == self.shift.base

    def negated(self, operand: ast.expr) -> Track | None:
        track = self.classify(operand)
        return track if track is None or track.kind == "scale" else track._replace(k=-track.k)

    def binary(self, op: type, left: ast.expr, right: ast.expr) -> Track | None:
        a, b = self.classify(left), self.classify(right)
        if a is None or b is None:
            return None
        aligned = a.aligned and b.aligned
        kinds = (a.kind if a.k else "invariant", b.kind if b.k else "invariant")
        if op in (ast.Add, ast.Sub):
            sign = 1 if op is ast.Add else -1
            if "scale" not in kinds:
                return _track("shift", a.k + sign * b.k, aligned)
            if kinds == ("scale", "scale") and a.k == b.k:
                return _track("scale", a.k, aligned)  # v*e + u*e = (v + u)*e
            return None
        if op in (ast.Mult, ast.Div) and "shift" not in kinds:
            sign = 1 if op is ast.Mult else -1
            return _track("scale", a.k + sign * b.k, aligned)
        return None

    def call(self, call: ast.Call) -> Track | None:
        callee = self.resolve(call)
        fn = callee.value if callee.kind in ("rule", "method") else None
        args = [call.func.value, *call.args] if callee.kind == "method" else list(call.args)  # type: ignore[attr-defined]
        if fn is None:
            return None
        for ufunc, op in _OPERATOR_UFUNCS.items():
            if fn is ufunc and len(args) == 2 and not call.keywords:
                return self.binary(op, args[0], args[1])
        if fn is np.negative and len(args) == 1 and not call.keywords:
            return self.negated(args[0])
        if (fn is np.exp or fn is np.log) and len(args) == 1 and not call.keywords:
            track = self.classify(args[0])
            before, after = ("shift", "scale") if fn is np.exp else ("scale", "shift")
            if track is None or track.k == 0:
                return track
            return track._replace(kind=after) if track.kind == before else None
        return self.reduction(call)

    def reduction(self, call: ast.Call) -> Track | None:
        """A sum or mean of a scaled value, a max, min or mean of a shifted one, along axes
        the perturbation is constant along."""
        parts = _reduction(call, self.resolve, _REDUCTIONS)
        if parts is None:
            return None
        fn, operand, axis, keepdims = parts
        track = self.classify(operand)
        if track is None or track.k == 0:
            return track
        if not self._along_shift(axis, keepdims, track):
            return None
        linear = one_of(fn, _SUMS) and track.kind == "scale"
        shifts = (one_of(fn, _EXTREMES) or fn is np.mean) and track.kind == "shift"
        extreme = one_of(fn, _EXTREMES) and track.kind == "scale"  # exp(k*d) > 0
        return track if linear or shifts or extreme else None

    def _along_shift(self, axis: Any, keepdims: bool, track: Track) -> bool:
        """Whether `d` is constant along the reduced axes of a value with this track."""
        if self.shift.axis is None:
            return True  # `d` is one number
        same_axis = type(axis) is int and axis == self.shift.axis and (axis < 0 or track.aligned)
        return same_axis and keepdims


def _track(kind: str, k: int, aligned: bool) -> Track:
    return Track(kind, k, aligned) if k else INVARIANT._replace(aligned=aligned)


def _reduction(call: ast.Call, resolve: Resolve, group: tuple) -> tuple[Any, ast.expr, Any, bool] | None:
    """(function, operand, axis, keepdims) of a NumPy reduction call or method with nothing
    but an axis and keepdims; the axis is an int, None, or `...` when not a constant."""
    callee = resolve(call)
    if callee.kind not in ("rule", "method") or not one_of(callee.value, group):
        return None
    args = [call.func.value, *call.args] if callee.kind == "method" else list(call.args)  # type: ignore[attr-defined]
    keywords = {k.arg: k.value for k in call.keywords}
    if len(args) == 2 and "axis" not in keywords:
        keywords["axis"] = args.pop()
    if len(args) != 1 or not set(keywords) <= {"axis", "keepdims"}:
        return None
    axis, keepdims = _constant(keywords.get("axis")), _constant(keywords.get("keepdims"))
    if keepdims is not None and type(keepdims) is not bool:
        return None
    return callee.value, args[0], axis, keepdims is True


def _constant(node: ast.expr | None) -> Any:
    """The value of an absent (None), constant or negated constant argument; `...` otherwise."""
    if node is None:
        return None
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant) \
            and type(node.operand.value) is int:
        return -node.operand.value
    if isinstance(node, ast.Constant) and node.value is not Ellipsis:
        return node.value
    return ...
