"""Whole derivative matrices built from sweeps: jacobian, hessian, and Hessian-vector products."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .api import Wrt, forward_function, grad, jvp, parameters, resolve_wrt, vjp
from .errors import UsageError
from .facts import declare_machinery
from .request import Optimize


def jacobian(f: Callable[..., Any], wrt: Wrt = 0, optimize: Optimize = True) -> Callable[..., Any]:
    """The Jacobian of `f` w.r.t. the parameter(s) `wrt`, with shape `out.shape + arg.shape`
    (a tuple of them for a tuple `wrt`).

    It takes whichever mode needs fewer sweeps: forward mode (one `jvp` per entry of the
    arguments, giving columns) when the arguments have no more entries than the output,
    reverse mode (one `vjp` per entry of the output, giving rows) otherwise.
    """
    names, single = resolve_wrt(f, wrt)

    def jacobian_of_f(*args: Any) -> Any:
        out = np.asarray(f(*args))
        inputs = [args[_position(f, name)] for name in names]
        if sum(np.size(x) for x in inputs) <= out.size:
            blocks = [_forward_columns(f, args, name, x, out.shape, optimize) for name, x in zip(names, inputs)]
        else:
            blocks = _reverse_rows(f, args, names, inputs, out.shape, optimize)
        return blocks[0] if single else tuple(blocks)

    jacobian_of_f.__name__ = f"jacobian_{getattr(f, '__name__', 'f')}"
    return jacobian_of_f


def hessian(f: Callable[..., Any], wrt: int | str = 0, optimize: Optimize = True) -> Callable[..., Any]:
    """The Hessian of scalar-valued `f` w.r.t. one parameter, with shape `x.shape + x.shape`:
    forward mode over the generated reverse-mode gradient, one `jvp` per entry of `x`."""
    if isinstance(wrt, (tuple, list)):
        raise UsageError("hessian takes one parameter (a position or a name); for several, "
                         "differentiate srcgrad.grad(f, wrt=...) with srcgrad.jacobian")
    gradient = grad(f, wrt=wrt, optimize=optimize)

    def hessian_of_f(*args: Any) -> Any:
        name = resolve_wrt(f, wrt)[0][0]
        x = args[_position(f, name)]
        return _forward_columns(gradient, args, name, x, np.shape(x), optimize)

    hessian_of_f.__name__ = f"hessian_{getattr(f, '__name__', 'f')}"
    return hessian_of_f


def hvp(f: Callable[..., Any], wrt: int | str = 0, optimize: Optimize = True) -> Callable[..., Any]:
    """`hvp(f)(*args, v)` is the Hessian of scalar-valued `f` times `v`, without forming the
    Hessian: one forward sweep over the generated gradient, at about the cost of two gradients."""
    gradient = grad(f, wrt=wrt, optimize=optimize)

    def hessian_vector_product(*args_and_v: Any) -> Any:
        *args, v = args_and_v
        return jvp(gradient, tuple(args), (v,), wrt=wrt, optimize=optimize)[1]

    hessian_vector_product.__name__ = f"hvp_{getattr(f, '__name__', 'f')}"
    return hessian_vector_product


def _forward_columns(
    f: Callable[..., Any], args: tuple, name: str, x: Any, out_shape: tuple, optimize: Optimize = True,
) -> np.ndarray:
    """`J` with shape `out_shape + x.shape`, one jvp along each unit direction of `x`."""
    size = np.size(x)
    columns = np.empty(out_shape + (size,))
    forward = forward_function(f, args, (name,), optimize)  # built once, swept `size` times
    for i in range(size):
        _, column = forward(*args, **{name: _unit(x, i)})
        columns[..., i] = np.broadcast_to(np.asarray(column, dtype=float), out_shape)
    return columns.reshape(out_shape + np.shape(x))


def _reverse_rows(
    f: Callable[..., Any], args: tuple, names: tuple, inputs: list, out_shape: tuple, optimize: Optimize = True,
) -> list[np.ndarray]:
    """One `J` per input with shape `out_shape + x.shape`, one vjp per output entry."""
    out, pullback = vjp(f, *args, wrt=names, optimize=optimize)
    size = int(np.prod(out_shape, dtype=int))
    rows = [np.empty((size,) + np.shape(x)) for x in inputs]
    for j in range(size):
        for block, cotangent in zip(rows, pullback(_unit(out, j))):
            block[j] = cotangent
    return [block.reshape(out_shape + np.shape(x)) for block, x in zip(rows, inputs)]


def _unit(x: Any, i: int) -> Any:
    """The i-th unit direction in the space of `x` (a number or an array)."""
    if np.ndim(x) == 0 and not isinstance(x, np.ndarray):
        return 1.0
    e = np.zeros(np.shape(x))
    e.flat[i] = 1.0
    return e


def _position(f: Callable[..., Any], name: str) -> int:
    return parameters(f)[0].index(name)


declare_machinery(jacobian, hessian, hvp)
