"""srcgrad: ahead-of-time, source-to-source automatic differentiation for Python and NumPy."""

from . import optim, rules  # noqa: F401  (rules: registers the built-in rules)
from .api import adjoint, grad, jvp, source, tangent, value_and_grad, vjp
from .errors import InternalError, NotDifferentiableError, SrcGradError, UsageError
from .jacobians import hessian, hvp, jacobian
from .request import CLEANUPS
from .runtime.markers import no_grad, stop_gradient
from .runtime.tree import register_pytree
from .tools.testing import check_grad, check_jvp

__all__ = [
    "CLEANUPS",
    "InternalError",
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
    "register_pytree",
    "source",
    "stop_gradient",
    "tangent",
    "value_and_grad",
    "vjp",
]
