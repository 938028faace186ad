"""What users write in a differentiated function to stop derivatives: `stop_gradient(x)` and
`with no_grad():`. Plain no-ops when run; the transform reads them (see `rules/runtime_helpers.py`
and the fence)."""

from __future__ import annotations

from typing import Any


def stop_gradient(x: Any) -> Any:
    """`x` itself, as a constant: no derivative flows through it."""
    return x


class no_grad:
    """`with srcgrad.no_grad():` makes values computed in the block constants.

    Inside a differentiated function it is handled by the transform; elsewhere a no-op.
    """

    def __enter__(self) -> no_grad:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None
