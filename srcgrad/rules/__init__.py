"""Per-primitive derivative rules. Importing this package registers every built-in rule."""

from . import (  # noqa: F401
    array_rules,
    builtin_rules,
    container_rules,
    linalg_rules,
    math_rules,
    numpy_rules,
    operators,
    reduction_rules,
)
from .registry import (
    find_vjp_rule,
    has_vjp_rule,
    is_nondifferentiable,
    nondifferentiable,
    register_adjoint,
    vjp_rule,
)

__all__ = [
    "find_vjp_rule",
    "has_vjp_rule",
    "is_nondifferentiable",
    "nondifferentiable",
    "register_adjoint",
    "vjp_rule",
]
