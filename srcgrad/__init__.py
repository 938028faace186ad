"""srcgrad: ahead-of-time, source-to-source automatic differentiation for Python and NumPy."""

from . import rules  # noqa: F401  (registers the built-in rules)
from .api import adjoint, grad, jvp, no_grad, source, stop_gradient, tangent, value_and_grad, vjp
from .errors import NotDifferentiableError, SrcGradError, UsageError
from .testing import check_grad

__all__ = [
    "NotDifferentiableError",
    "SrcGradError",
    "UsageError",
    "adjoint",
    "check_grad",
    "grad",
    "jvp",
    "no_grad",
    "source",
    "stop_gradient",
    "tangent",
    "value_and_grad",
    "vjp",
]
