"""Checks generated code runs where only the run-time type decides whether a write is safe."""

from __future__ import annotations

from typing import Any

from .errors import NotDifferentiableError
from .rules.registry import nondifferentiable


def check_unshared(value: Any, in_place_method: str, message: str) -> None:
    """Refuse `x += v` (`in_place_method` "__iadd__") when `x` is an object that changes in place
    (an array, a list) and other names share it; on a number `+=` rebinds, which is safe."""
    if hasattr(type(value), in_place_method):
        raise NotDifferentiableError(message)


nondifferentiable(check_unshared, reason="a check: no value")
