"""The clean-up passes by name, and what a request's `optimize=` switch turns on.

`optimize=True` runs every clean-up, `optimize=False` none (the *reference pipeline*: the
plain derivative, simple enough to check by reading), and a collection of names runs just
those, so a disagreement between the two can be pinned on one pass.
"""

from __future__ import annotations

from typing import Collection

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
