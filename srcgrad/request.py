"""What a derivative is asked for: the frozen request that drives the pipeline and keys its cache,
and the clean-up passes it may switch on.

`optimize=True` runs every clean-up, `optimize=False` none (the *reference pipeline*: the
plain derivative, simple enough to check by reading), and a collection of names runs just
those, so a disagreement between the two can be pinned on one pass.
"""

from __future__ import annotations

import types
from dataclasses import dataclass
from typing import Any, Collection, Protocol

from .errors import UsageError

CLEANUPS: tuple[str, ...] = (
    "tape",       # keep only the tape pushes whose values the backward sweep reads; shape stand-ins
    "simplify",   # entry form: algebra on Python floats (units, equal terms, common subexpressions)
    "propagate",  # copy and constant propagation
    "fold",       # arithmetic on number literals
    "merge",      # `v = a; v = v + e` becomes `v = a + e`
    "dead",       # values nothing reads, and branches left with nothing to do
    "arrays",     # shape bookkeeping, one buffer per sliced cotangent, fusion of single-use values
    "in_place",   # accumulate array cotangents in place
)
ALL: frozenset[str] = frozenset(CLEANUPS)
NONE: frozenset[str] = frozenset()

Optimize = bool | Collection[str]

MODES = ("grad", "value_and_grad", "vjp", "backward", "jvp")


def enabled(optimize: Optimize) -> frozenset[str]:
    """The clean-ups `optimize` asks for, checked against the known names."""
    if optimize is True:
        return ALL
    if optimize is False:
        return NONE
    if isinstance(optimize, str) or not isinstance(optimize, Collection):
        raise UsageError(f"optimize must be True, False or a collection of clean-up names from {CLEANUPS}, not {optimize!r}")
    unknown = sorted(set(optimize) - ALL)
    if unknown:
        raise UsageError(f"unknown clean-up(s) {', '.join(map(repr, unknown))}; the clean-ups are {', '.join(CLEANUPS)}")
    return frozenset(optimize)


@dataclass(frozen=True)
class Request:
    """One derivative of one function: everything its code depends on besides the function.

    `mode` is "grad" (returns the gradients), "value_and_grad" (value and gradients), "vjp"
    (the value and a pullback), "backward" (both sweeps, the cotangents of all parameters for
    the keyword-only cotangent `_out_bar`: what a caller's derivative re-runs at higher order)
    or "jvp" (forward mode: tangent parameters `x_dot` for `wrt`, returns value and tangent).
    `outputs` names the parameters whose cotangents are returned (default: `wrt`). `scalars`
    names parameters known to be Python numbers, for which the code is specialised (the caller
    guards that). `record_all` keeps every tape push (for measuring what the tape analysis saves).
    `higher_order` asks for code srcgrad can differentiate again: no closures, gradients shaped
    like the arguments, the single one itself if `single`. `guards` (name, type) asks for the
    *entry form* (entry.py). `cleanups` names the clean-up passes to run (none: the reference
    pipeline); callees are differentiated with the same ones.
    """

    wrt: tuple[str, ...]
    mode: str
    outputs: tuple[str, ...] | None = None
    scalars: frozenset[str] = frozenset()
    record_all: bool = False
    higher_order: bool = False
    single: bool = False
    guards: tuple[tuple[str, type], ...] = ()
    cleanups: frozenset[str] = ALL

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {self.mode!r}")

    @property
    def returned(self) -> tuple[str, ...]:
        """The parameters whose cotangents the derivative returns."""
        return self.outputs or self.wrt

    @property
    def reentrant(self) -> bool:
        """Whether the code must be differentiable by srcgrad again (the "backward" form is)."""
        return self.higher_order or self.mode == "backward"


class Callees(Protocol):
    """What the driver lends the transforms: the derivatives of the user functions a program
    calls, each in a cell filled once built (so recursion works), and the driver's entry points
    that generated code calls for calls decided only at run time."""

    reverse_names: dict[str, Any]  # e.g. `call_vjp`: bound into reverse-mode code
    forward_names: dict[str, Any]  # e.g. `call_jvp`: bound into forward-mode code

    def vjp(self, fn: Any, mask: tuple[int, ...]) -> types.CellType:
        """The vjp form of user function `fn`, the parameters at `mask` differentiated."""
        ...

    def backward(self, fn: Any, mask: tuple[int, ...]) -> tuple[types.CellType, str]:
        """The "backward" form of `fn` and the name of its cotangent parameter."""
        ...

    def jvp(self, fn: Any, mask: tuple[int, ...]) -> tuple[types.CellType, dict[str, str]]:
        """The forward form of `fn` and the names of its tangent parameters."""
        ...
