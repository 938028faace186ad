"""srcgrad: ahead-of-time, source-to-source automatic differentiation for Python and NumPy."""

from . import optim, rules  # noqa: F401  (rules: registers the built-in rules)
from .api import adjoint, grad, no_grad, source, stop_gradient, value_and_grad, vjp
from .errors import NotDifferentiableError, SrcGradError, UsageError
from .testing import check_grad

__all__ = [
    "NotDifferentiableError",
    "SrcGradError",
    "UsageError",
    "adjoint",
    "check_grad",
    "grad",
    "no_grad",
    "source",
    "stop_gradient",
    "value_and_grad",
    "vjp",
]
