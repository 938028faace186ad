"""Checks generated code runs where only the run-time type decides whether a write is safe."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import NotDifferentiableError


def check_unshared(value: Any, in_place_method: str, message: str) -> None:
    """Refuse `x += v` (`in_place_method` "__iadd__") when `x` is an object that changes in place
    (an array, a list) and other names share it; on a number `+=` rebinds, which is safe."""
    if hasattr(type(value), in_place_method):
        raise NotDifferentiableError(message)


def check_held_once(container: Any, item: Any, in_place_method: str, arguments: tuple, message: str) -> None:
    """Refuse `L[0] += v` (or `L[0][1] = v`) when the object written into, `item`, is one that
    changes in place and `container` holds it more than once (`L = [c, c]`), or one of the
    `arguments` joined into it holds it (`L = t + s`): Python changes it in every place,
    srcgrad only in the one written."""
    if not hasattr(type(item), in_place_method):
        return
    if not isinstance(container, np.ndarray) and _occurrences(container, item) > 1 \
            or any(_occurrences(a, item) for a in arguments):
        raise NotDifferentiableError(message)


def _occurrences(container: Any, item: Any) -> int:
    """How many times `item` itself is held in `container`, through nested lists, tuples, dicts."""
    if container is item:
        return 1
    if isinstance(container, dict):
        container = container.values()
    elif not isinstance(container, (list, tuple)):
        return 0
    return sum(_occurrences(inner, item) for inner in container)

