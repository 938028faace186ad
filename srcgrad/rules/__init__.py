"""Per-primitive derivative rules. Importing this package registers every built-in rule.

Each family of primitives has up to three modules, named the same way everywhere:
`<family>_vjp.py` (reverse rules), `<family>_jvp.py` (forward rules) and `<family>_helpers.py`
(the helpers the rule templates call, or the rules of helpers defined elsewhere, so that
generated code can be differentiated again). The families: `operators` (Python's operators),
`builtin` (`sum`, `min`, `pow`...), `math`, `numpy` (NumPy's elementwise functions),
`reduction` (sum, mean, prod, norm, sort...), `array` (shapes, joining, splitting, methods),
`products` (dot, tensordot, einsum, trace...), `linalg` (`np.linalg`), `container` (lists,
tuples, dicts), `complex`, `mutation` (the functional forms of writing calls) and `runtime`
(the runtime's own functions). `registry.py` holds the tables and the registration decorators.
"""

from . import (  # noqa: F401
    array_jvp,
    array_vjp,
    builtin_jvp,
    builtin_vjp,
    complex_jvp,
    complex_vjp,
    container_jvp,
    container_vjp,
    linalg_jvp,
    linalg_vjp,
    math_jvp,
    math_vjp,
    mutation_helpers,
    numpy_jvp,
    numpy_vjp,
    operators_jvp,
    operators_vjp,
    products_helpers,
    products_jvp,
    products_vjp,
    reduction_jvp,
    reduction_vjp,
    runtime_helpers,
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
