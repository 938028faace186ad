"""Per-primitive derivative rules. Importing this package registers every built-in rule."""

from . import (  # noqa: F401
    array_jvp,
    array_rules,
    builtin_jvp,
    builtin_rules,
    complex_jvp,
    complex_rules,
    container_jvp,
    container_rules,
    linalg_jvp,
    linalg_rules,
    math_jvp,
    math_rules,
    mutation_rules,
    numpy_jvp,
    numpy_rules,
    operators,
    operators_jvp,
    reduction_jvp,
    reduction_rules,
    runtime_rules,
)
from .registry import (
    find_jvp_rule,
    find_vjp_rule,
    has_jvp_rule,
    has_vjp_rule,
    is_nondifferentiable,
    jvp_rule,
    nondifferentiable,
    register_adjoint,
    register_tangent,
    vjp_rule,
)

__all__ = [
    "find_jvp_rule",
    "find_vjp_rule",
    "has_jvp_rule",
    "has_vjp_rule",
    "is_nondifferentiable",
    "nondifferentiable",
    "register_adjoint",
    "jvp_rule",
    "register_tangent",
    "vjp_rule",
]
