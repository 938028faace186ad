"""The benchmark problems written for the peers: autograd, JAX and PyTorch.

Each peer differentiates the problem as its users would write it: the same code with the
peer's own functions (`anp.sin`, `jnp.sin`, `torch.sin` for `math.sin`). Every maker returns
`Peer`s or raises `Unavailable` with the reason; none of the peers is a requirement.

All peers work in float64 (JAX with `jax_enable_x64`), so their gradients can be checked
against the hand-written ones at the same tolerance as srcgrad's.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np


class Unavailable(Exception):
    """This peer cannot run this problem (not installed, or not expressible); the message says why."""


@dataclass
class Peer:
    name: str
    fn: Callable[..., Any]  # the timed call: inputs already converted, result ready (not lazy)
    args: tuple
    to_numpy: Callable[[Any], Any]  # its result in the hand-written derivative's structure
    unavailable: str | None = None  # why this peer cannot run the problem ("n/a: ...")


def version(module: str) -> str | None:
    """The installed version of `module`, or None when it cannot be imported."""
    try:
        imported = importlib.import_module(module)
    except Exception:
        return None
    try:
        return importlib.metadata.version(module)
    except importlib.metadata.PackageNotFoundError:
        return getattr(imported, "__version__", "installed")


# ---- the problems, written once for any module with NumPy's names -------------------------------
def p1(x):
    return 3 * x**2 + 2 * x + 1


def p1b_with(m):
    def p1b(x, y):
        return (
            m.sin(x * y)
            + m.exp(x / (1.0 + y * y)) * m.cos(y)
            - m.log(1.0 + x * x) / (2.0 + m.tanh(y))
            + x**3 * y
            - m.sqrt(1.0 + (x * y) ** 2)
            + (x - y) ** 2 / (1.0 + m.exp(-x))
        )

    return p1b


def p2_with(m):
    def p2(x, a):
        for i in range(1000):
            x = x + 0.01 * m.sin(x * a)
        return x

    return p2


def p3(x):
    y = x
    while abs(y * y - x) > 1e-12:
        y = 0.5 * (y + x / y)
    return y


def p4_with(m):
    def p4(w1, b1, w2, b2, x, labels):
        h = m.tanh(x @ w1 + b1)
        logits = h @ w2 + b2
        shifted = logits - m.max(logits, axis=1, keepdims=True)
        logp = shifted - m.log(m.sum(m.exp(shifted), axis=1, keepdims=True))
        return -m.mean(m.sum(logp * labels, axis=1))

    return p4


def p5_with(m):
    def p5(wx, wh, b, xs):
        h = m.zeros((xs.shape[1], wh.shape[0]))
        for t in range(xs.shape[0]):
            h = m.tanh(xs[t] @ wx + h @ wh + b)
        return m.sum(h * h)

    return p5


def p6_with(m):
    def p6(x):
        return m.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)

    return p6


def p7_with(m):
    def p7(x):
        return m.sin(x) * m.exp(0.5 * x) + x**4

    return p7


WRT = {"P1": (0,), "P1b": (0, 1), "P2": (0,), "P3": (0,), "P4": (0, 1, 2, 3), "P5": (0, 1, 2), "P6": (0,), "P7": (0,)}


def _numpy_result(single: bool) -> Callable[[Any], Any]:
    def convert(result):
        if single:
            return np.asarray(result, dtype=float)
        return tuple(np.asarray(r, dtype=float) for r in result)

    return convert


# ---- autograd ---------------------------------------------------------------------------------------
def autograd_peers(problem: str, args: tuple) -> list[Peer]:
    try:
        import autograd.numpy as anp
        from autograd import grad
    except ImportError:
        raise Unavailable("not installed") from None
    if problem == "P1b":  # autograd's grad takes one argnum: differentiate w.r.t. the pair
        f = p1b_with(anp)
        pair_grad = grad(lambda xy: f(xy[0], xy[1]))
        return [Peer("autograd", lambda x, y: pair_grad((x, y)), args, _numpy_result(False))]
    if problem == "P7":
        g = grad(grad(p7_with(anp)))
        return [Peer("autograd", g, args, _numpy_result(True))]
    f = {"P1": lambda: p1, "P2": lambda: p2_with(anp), "P3": lambda: p3, "P4": lambda: p4_with(anp),
         "P5": lambda: p5_with(anp), "P6": lambda: p6_with(anp)}[problem]()
    wrt = WRT[problem]
    if len(wrt) == 1:
        return [Peer("autograd", grad(f, wrt[0]), args, _numpy_result(True))]
    # autograd's grad takes one argnum: one sweep w.r.t. the parameters packed in a tuple
    packed = grad(lambda params, *rest: f(*params, *rest))
    n = len(wrt)
    return [Peer("autograd", lambda *a: tuple(packed(a[:n], *a[n:])), args, _numpy_result(False))]


# ---- JAX --------------------------------------------------------------------------------------------
def _jax():
    try:
        import jax
        import jax.numpy as jnp
    except ImportError:
        raise Unavailable("not installed") from None
    jax.config.update("jax_enable_x64", True)
    return jax, jnp


def jax_peers(problem: str, args: tuple) -> list[Peer]:
    """`JAX` (grad, un-jitted: traces on every call) and `JAX jit` (jit of grad)."""
    jax, jnp = _jax()
    wrt = WRT[problem]
    single = len(wrt) == 1
    argnums = wrt[0] if single else wrt
    scalar = problem in ("P1", "P1b", "P2", "P3", "P7")
    jargs = args if scalar else tuple(jnp.asarray(a) for a in args)
    block = jax.block_until_ready
    if problem == "P7":
        g = jax.grad(jax.grad(p7_with(jnp)))
    else:
        f = {"P1": lambda: p1, "P1b": lambda: p1b_with(jnp), "P2": lambda: p2_with(jnp), "P3": lambda: p3,
             "P4": lambda: p4_with(jnp), "P5": lambda: p5_with(jnp), "P6": lambda: p6_with(jnp)}[problem]()
        g = jax.grad(f, argnums=argnums)
    peers = [Peer("JAX", lambda *a: block(g(*a)), jargs, _numpy_result(single))]
    if problem == "P3":
        reason = "n/a: the `while` depends on the data; jit needs lax.while_loop, which JAX cannot reverse-differentiate"
        return peers + [Peer("JAX jit", None, jargs, _numpy_result(single), reason)]
    if problem == "P2":  # jit of the Python loop would unroll 1000 steps: JAX users write fori_loop
        def p2_fori(x, a):
            return jax.lax.fori_loop(0, 1000, lambda i, x: x + 0.01 * jnp.sin(x * a), x)

        jg = jax.jit(jax.grad(p2_fori, argnums=argnums))
    else:
        jg = jax.jit(g)
    peers.append(Peer("JAX jit", lambda *a: block(jg(*a)), jargs, _numpy_result(single)))
    return peers


# ---- PyTorch ----------------------------------------------------------------------------------------
def _torch():
    try:
        import torch
    except ImportError:
        raise Unavailable("not installed") from None
    threads = int(os.environ.get("OMP_NUM_THREADS", "0") or 0)
    if threads > 0 and torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    return torch


def torch_peers(problem: str, args: tuple) -> list[Peer]:
    """PyTorch on the CPU, eager. Scalar problems take Python floats, as srcgrad's do: the
    timed call makes the leaf tensors and returns the gradient tensors."""
    torch = _torch()
    wrt = WRT[problem]
    single = len(wrt) == 1
    if problem in ("P1", "P1b", "P2", "P3"):
        f = {"P1": p1, "P1b": p1b_with(torch), "P2": p2_with(torch), "P3": p3}[problem]
        n = len(wrt)

        def scalar_grad(*a):
            leaves = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in a[:n]]
            rest = [torch.tensor(v, dtype=torch.float64) for v in a[n:]]
            grads = torch.autograd.grad(f(*leaves, *rest), leaves)
            return grads[0] if single else grads

        return [Peer("PyTorch", scalar_grad, args, _numpy_result(single))]
    if problem == "P7":
        f = p7_with(torch)

        def second(x):
            t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
            (d,) = torch.autograd.grad(f(t), t, create_graph=True)
            (dd,) = torch.autograd.grad(d, t)
            return dd

        return [Peer("PyTorch", second, args, _numpy_result(True))]
    tensors = tuple(torch.from_numpy(np.ascontiguousarray(a)) for a in args)
    leaves = [tensors[i].clone().requires_grad_(True) for i in wrt]
    targs = tuple(leaves[wrt.index(i)] if i in wrt else t for i, t in enumerate(tensors))
    f = {"P4": _torch_p4, "P5": _torch_p5, "P6": p6_with(torch)}[problem]

    def array_grad(*a):
        grads = torch.autograd.grad(f(*a), [a[i] for i in wrt])
        return grads[0] if single else grads

    return [Peer("PyTorch", array_grad, targs, lambda r: _numpy_result(single)(
        r.detach() if single else tuple(t.detach() for t in r)))]


def _torch_p4(w1, b1, w2, b2, x, labels):
    import torch

    h = torch.tanh(x @ w1 + b1)
    logits = h @ w2 + b2
    shifted = logits - torch.max(logits, dim=1, keepdim=True).values
    logp = shifted - torch.log(torch.sum(torch.exp(shifted), dim=1, keepdim=True))
    return -torch.mean(torch.sum(logp * labels, dim=1))


def _torch_p5(wx, wh, b, xs):
    import torch

    h = torch.zeros((xs.shape[1], wh.shape[0]), dtype=xs.dtype)
    for t in range(xs.shape[0]):
        h = torch.tanh(xs[t] @ wx + h @ wh + b)
    return torch.sum(h * h)


MAKERS = (autograd_peers, jax_peers, torch_peers)
PEER_NAMES = {autograd_peers: ("autograd",), jax_peers: ("JAX", "JAX jit"), torch_peers: ("PyTorch",)}
