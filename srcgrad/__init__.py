"""srcgrad: ahead-of-time, source-to-source automatic differentiation for Python and NumPy."""

from . import rules  # noqa: F401  (registers the built-in rules)
from .api import adjoint, grad, jvp, no_grad, source, stop_gradient, tangent, value_and_grad, vjp
from .errors import NotDifferentiableError, SrcGradError, UsageError
from .jacobians import hessian, hvp, jacobian
from .testing import check_grad, check_jvp

__all__ = [
    "NotDifferentiableError",
    "SrcGradError",
    "UsageError",
    "adjoint",
    "check_grad",
    "check_jvp",
    "grad",
    "hessian",
    "hvp",
    "jacobian",
    "jvp",
    "no_grad",
    "source",
    "stop_gradient",
    "tangent",
    "value_and_grad",
    "vjp",
]
