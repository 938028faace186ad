"""Static shape facts of generated straight-line code: which values have equal shapes.

The derivative passes in `arrays.py` ask two questions of a value in the generated code:
is its shape `()` (a number, or a full reduction), and is it the same shape as that other
value? Facts come from how values are made, never from run-time data:

* a number, and a full reduction (`np.sum(x)` with no axis) has shape `()`;
* an elementwise operation (`+ - * / ** %`, a unary minus, a NumPy ufunc) has the shape of
  its operands when they are equal, or when one of them is a number or a `keepdims`
  reduction of the other (it broadcasts into it without changing it);
* `x[1:]` and `x[:-1]` have equal shapes (any two constant slices along the same axes that
  select the same count for every length), as do `y[1:]` for `y` shaped like `x`;
* `unbroadcast(g, x)`, `expand_reduced(g, x, ...)` are shaped like `x`, and so on.

Like the operator rules, the facts take arithmetic operands to be numbers or NumPy arrays
(a sliced container that flows into arithmetic holds equally shaped entries). Only names
bound once (and parameters never rebound) carry facts: their value cannot change.
"""

from __future__ import annotations

import ast
from typing import Any, Callable

import numpy as np

from ..rules.operators_vjp import unbroadcast_matmul
from ..rules.reduction_vjp import expand_reduced, reduced_count, tie_share
from ..runtime.core import seed, unbroadcast
from ..syntax.astquery import callee
from ..syntax.fastast import walk

SCALAR = "()"  # the class of shape-() values; not an identifier, so never a name

ELEMENTWISE = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.Mod)
_REDUCTIONS = (
    np.sum, np.mean, np.max, np.min, np.amax, np.amin, np.prod, np.nansum, np.nanmean, np.nanmax, np.nanmin,
    np.var, np.std, np.ptp,
)
_LIKE_SECOND = (unbroadcast, expand_reduced)  # helpers whose result is shaped like their second argument

# the helpers' arguments read only for their shapes, by position
SHAPE_ONLY = {id(unbroadcast): (1,), id(expand_reduced): (1,), id(reduced_count): (0, 1)}


def one_of(fn: Any, group: tuple) -> bool:
    """Whether `fn` is one of the functions in `group` (by identity: no hashing or `==`)."""
    return any(fn is member for member in group)


def bound_once(node: ast.FunctionDef) -> set[str]:
    """Names bound exactly once in `node`, by a parameter or a top-level `name = value`
    (a name bound in a loop or a branch may hold different values at different reads)."""
    counts: dict[str, int] = {}
    for arg in node.args.posonlyargs + node.args.args + node.args.kwonlyargs:
        counts[arg.arg] = counts.get(arg.arg, 0) + 1
    for stmt in node.body:
        plain = isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)
        for inner in walk(stmt):
            kind = type(inner)
            if kind is ast.Name and type(inner.ctx) is not ast.Load:  # type: ignore[attr-defined]
                counts[inner.id] = counts.get(inner.id, 0) + (1 if plain else 2)  # type: ignore[attr-defined]
            elif kind is ast.Nonlocal or kind is ast.Global:  # rebound from elsewhere
                for name in inner.names:  # type: ignore[attr-defined]
                    counts[name] = 2
    return {name for name, count in counts.items() if count == 1}


def slice_parts(index: ast.expr) -> tuple[slice, ...] | None:
    """`1:` / `(1:, :-2)` as Python slices when every bound is a constant int or absent and
    every step is absent or 1; None for anything else (ints, arrays, run-time bounds)."""
    parts = index.elts if isinstance(index, ast.Tuple) else [index]
    out = []
    for part in parts:
        if isinstance(part, ast.Call) and isinstance(part.func, ast.Name) and part.func.id == "slice" \
                and len(part.args) == 3 and not part.keywords:
            bounds = part.args
        elif isinstance(part, ast.Slice):
            bounds = [part.lower, part.upper, part.step]
        else:
            return None
        values = [_int_or_none(b) for b in bounds]
        if any(v is False for v in values) or values[2] not in (None, 1):
            return None
        out.append(slice(values[0], values[1]))
    return tuple(out)


def _int_or_none(node: ast.expr | None) -> Any:
    if node is None or (isinstance(node, ast.Constant) and node.value is None):
        return None
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _int_or_none(node.operand)
        return -inner if type(inner) is int else False
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    return False


def same_counts(a: tuple[slice, ...], b: tuple[slice, ...]) -> bool:
    """Whether the slices select equally many entries along every axis, whatever its length.
    Past twice the largest bound every count is constant or the length minus a constant,
    so agreeing on the lengths up to there (and two more) means agreeing on all."""
    if len(a) != len(b):
        return False
    for s, t in zip(a, b):
        bound = max([abs(v) for v in (s.start, s.stop, t.start, t.stop) if v is not None], default=0)
        if any(len(range(n)[s]) != len(range(n)[t]) for n in range(2 * bound + 4)):
            return False
    return True


class Shapes:
    """Classes of values known to have equal shapes (union-find over names and SCALAR)."""

    def __init__(self, stable: set[str], scalars: set[str], value_of: Callable[[ast.expr], Any]) -> None:
        self.stable, self.scalars, self.value_of = stable, scalars, value_of
        self.parent: dict[str, str] = {}
        self.fits_into: dict[str, set[str]] = {}  # class -> classes it broadcasts into unchanged
        self.sliced: list[tuple[str, tuple[slice, ...], str]] = []  # (base class, slices, result class)

    # ---- classes -----------------------------------------------------------------------
    def find(self, key: str) -> str:
        root = key
        while self.parent.get(root, root) != root:
            root = self.parent[root]
        while key != root:
            self.parent[key], key = root, self.parent.get(key, key)
        return root

    def union(self, a: str, b: str) -> str:
        a, b = self.find(a), self.find(b)
        if a == b:
            return a
        if b == SCALAR:  # keep SCALAR the root of its class
            a, b = b, a
        self.parent[b] = a
        self.fits_into.setdefault(a, set()).update(self.fits_into.pop(b, set()))
        return a

    def fits(self, small: str, big: str) -> bool:
        """Whether broadcasting a `small`-class value against a `big`-class one keeps `big`'s shape."""
        small, big = self.find(small), self.find(big)
        return small in (big, SCALAR) or big in {self.find(c) for c in self.fits_into.get(small, ())}

    def combine(self, classes: list[str | None]) -> str | None:
        """The class of an elementwise result of operands of these classes, if known."""
        if not classes or any(c is None for c in classes):
            return None
        for candidate in classes:
            if all(self.fits(c, candidate) for c in classes):  # type: ignore[arg-type]
                return self.find(candidate)  # type: ignore[arg-type]
        return None

    # ---- learning from statements ------------------------------------------------------
    def learn(self, stmt: ast.stmt) -> None:
        """Record what `name = value` says about `name`'s shape (if `name` is bound once)."""
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)):
            return
        name = stmt.targets[0].id
        if name not in self.stable:
            return
        value = stmt.value
        reduced = self.keepdims_reduction(value)
        if reduced is not None:
            base = self.of(reduced)
            if base is not None:
                self.fits_into.setdefault(self.find(name), set()).add(base)
            return
        if isinstance(value, ast.Subscript) and isinstance(value.value, ast.Name):
            parts = slice_parts(value.slice)
            base = self.of(value.value)
            if parts is not None and base is not None:
                for other_base, other_parts, other in self.sliced:
                    if self.find(other_base) == self.find(base) and same_counts(parts, other_parts):
                        self.union(other, name)
                        return
                self.sliced.append((base, parts, name))
            return
        known = self.of(value)
        if known is not None:
            self.union(name, known)

    def keepdims_reduction(self, value: ast.expr) -> ast.expr | None:
        """`x` of `np.sum(x, axis=..., keepdims=True)` (and the other reductions), else None."""
        if isinstance(value, ast.Call) and len(value.args) == 1 and one_of(callee(value, self.value_of), _REDUCTIONS):
            keywords = {k.arg: k.value for k in value.keywords}
            keep = keywords.get("keepdims")
            if isinstance(keep, ast.Constant) and keep.value is True and set(keywords) <= {"axis", "keepdims"}:
                return value.args[0]
        return None

    # ---- the class of an expression -----------------------------------------------------
    def of(self, expr: ast.expr) -> str | None:
        """The class of `expr`'s shape, or None when it is not known."""
        if isinstance(expr, ast.Name):
            if expr.id in self.scalars:
                return SCALAR
            return self.find(expr.id) if expr.id in self.stable else None
        if isinstance(expr, ast.Constant):
            return SCALAR if type(expr.value) in (int, float, complex) else None
        if isinstance(expr, ast.BinOp) and isinstance(expr.op, ELEMENTWISE):
            return self.combine([self.of(expr.left), self.of(expr.right)])
        if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, (ast.USub, ast.UAdd)):
            return self.of(expr.operand)
        if isinstance(expr, ast.Call):
            return self._call(expr)
        return None

    def _call(self, call: ast.Call) -> str | None:
        fn = callee(call, self.value_of)
        args = call.args
        if isinstance(fn, np.ufunc) and fn.nout == 1 and fn.nin == len(args) and not call.keywords:
            return self.combine([self.of(a) for a in args])
        if one_of(fn, _REDUCTIONS) and len(args) == 1 and not call.keywords:
            return SCALAR
        if fn is seed or fn is reduced_count:
            return SCALAR
        if one_of(fn, _LIKE_SECOND) and len(args) >= 2:
            return self.of(args[1])
        if fn is tie_share and args:
            return self.of(args[0])
        if fn is unbroadcast_matmul and len(args) == 4 and isinstance(args[3], ast.Constant) \
                and args[3].value in (0, 1):
            return self.of(args[1 + args[3].value])
        return None
