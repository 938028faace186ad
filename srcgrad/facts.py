"""Facts declared about srcgrad's runtime helpers where they are defined, for the passes to ask.

A helper is *pure* when a call has no effect but its value: dead-code removal may drop a call
whose value nothing reads. Declared by each helper's module (`declare_pure`), never inferred
from where a function lives, so moving a helper cannot change what the clean-ups drop.
"""

from __future__ import annotations

from typing import Any

_PURE: set[Any] = set()


def declare_pure(*helpers: Any) -> None:
    """Declare `helpers` pure: a call of one may be dropped when its value is not read."""
    _PURE.update(helpers)


def is_pure(value: Any) -> bool:
    """Whether `value` was declared a pure helper."""
    return _declared(_PURE, value)


def generated_filename(what: str) -> str:
    """The file name srcgrad gives code it generates (for linecache and tracebacks)."""
    return f"<srcgrad {what}>"


def is_generated(filename: str) -> bool:
    """Whether `filename` names code srcgrad generated (`generated_filename`)."""
    return filename.startswith("<srcgrad ")


_MACHINERY: set[Any] = set()


def declare_machinery(*functions: Any) -> None:
    """Declare srcgrad's own API functions: a call of one in differentiated code is never
    differentiated from its source (the derivatives they return are, through their code)."""
    _MACHINERY.update(functions)


def is_machinery(value: Any) -> bool:
    """Whether `value` was declared part of srcgrad's machinery."""
    return _declared(_MACHINERY, value)


def _declared(table: set[Any], value: Any) -> bool:
    try:
        return value in table
    except TypeError:  # unhashable: not a function
        return False
