"""Functional optimizers over pytrees of arrays: SGD (momentum, Nesterov, weight decay), Adam, AdamW.

```python
opt = optim.adam(lr=1e-3)
state = opt.init(params)
params, state = opt.update(params, grads, state)
```

`params` and `grads` are pytrees (nested dicts, lists and tuples of arrays or floats) of the
same structure, such as `srcgrad.grad` returns. Nothing is modified in place: `update`
returns new parameters and a new state. `lr` is a number or a schedule, a plain callable
`lr(step)` of the update count (0 for the first update). `mask` freezes parameters: a pytree
of booleans with the structure of `params`, or a prefix of it (one boolean for a subtree);
entries that are False are left unchanged, with no weight decay and no optimizer state.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Iterator, NamedTuple

import numpy as np

from .facts import declare_machinery
from .runtime.tree import map_leaves

Schedule = Callable[[int], float]
LearningRate = float | Schedule


class Optimizer(NamedTuple):
    """A pair of pure functions: `init(params) -> state` and `update(params, grads, state)
    -> (new_params, new_state)`."""

    init: Callable[[Any], Any]
    update: Callable[[Any, Any, Any], tuple[Any, Any]]


class SGDState(NamedTuple):
    """The update count and, with momentum, the velocity (a pytree like the parameters)."""

    step: int
    velocity: Any


class AdamState(NamedTuple):
    """The update count and the running first and second moments of the gradients."""

    step: int
    m: Any
    v: Any


def full_mask(mask: Any, params: Any) -> Any:
    """`mask` (None, a boolean, or a pytree prefix of booleans) expanded to one boolean per
    leaf of `params`."""
    if mask is None or isinstance(mask, (bool, np.bool_)):
        return map_leaves(lambda _: bool(True if mask is None else mask), params)
    if isinstance(params, dict):
        if not isinstance(mask, dict) or set(mask) - set(params):
            raise ValueError(f"mask {mask!r} does not match the parameters' keys {list(params)}")
        return type(params)((k, full_mask(mask.get(k, True), v)) for k, v in params.items())
    if isinstance(params, (list, tuple)):
        if not isinstance(mask, (list, tuple)) or len(mask) != len(params):
            raise ValueError(f"mask {mask!r} does not match parameters with {len(params)} entries")
        items = [full_mask(m, p) for m, p in zip(mask, params)]
        return type(params)(*items) if hasattr(params, "_fields") else type(params)(items)
    raise ValueError(f"mask entry {mask!r} must be a boolean where the parameters have a leaf")


def _rate(lr: LearningRate, step: int) -> float:
    return float(lr(step)) if callable(lr) else float(lr)


def _zeros(params: Any) -> Any:
    return map_leaves(lambda p: np.zeros_like(p, dtype=float) if np.ndim(p) else 0.0, params)


def sgd(
    lr: LearningRate = 1e-2, momentum: float = 0.0, nesterov: bool = False, weight_decay: float = 0.0,
    mask: Any = None,
) -> Optimizer:
    """Stochastic gradient descent, as `torch.optim.SGD` (without dampening): with
    `weight_decay` the gradient gets `weight_decay * p` added; with `momentum` the step
    follows the velocity `b = momentum * b + g` (Nesterov: `g + momentum * b`)."""
    if nesterov and momentum <= 0:
        raise ValueError("nesterov=True needs a positive momentum")

    def init(params: Any) -> SGDState:
        return SGDState(0, _zeros(params) if momentum else None)

    def update(params: Any, grads: Any, state: SGDState) -> tuple[Any, SGDState]:
        rate = _rate(lr, state.step)
        keep = full_mask(mask, params)

        def leaf(p: Any, g: Any, b: Any, train: bool) -> tuple[Any, Any]:
            if not train:
                return p, b
            g = g + weight_decay * p if weight_decay else g
            if momentum:
                b = momentum * b + g
                g = g + momentum * b if nesterov else b
            return p - rate * g, b

        velocity = state.velocity if momentum else map_leaves(lambda p: None, params)
        new_params, new_velocity = _map_unzip(leaf, 2, params, grads, velocity, keep)
        return new_params, SGDState(state.step + 1, new_velocity if momentum else None)

    return Optimizer(init, update)


def adam(
    lr: LearningRate = 1e-3, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8, weight_decay: float = 0.0,
    mask: Any = None,
) -> Optimizer:
    """Adam (Kingma & Ba), as `torch.optim.Adam`: bias-corrected moment estimates;
    `weight_decay` adds `weight_decay * p` to the gradient (L2 regularisation)."""
    return _adam(lr, b1, b2, eps, weight_decay, decoupled=False, mask=mask)


def adamw(
    lr: LearningRate = 1e-3, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8, weight_decay: float = 1e-2,
    mask: Any = None,
) -> Optimizer:
    """AdamW (Loshchilov & Hutter), as `torch.optim.AdamW`: Adam with decoupled weight
    decay, each step first shrinks the parameters by `lr * weight_decay`."""
    return _adam(lr, b1, b2, eps, weight_decay, decoupled=True, mask=mask)


def _adam(lr: LearningRate, b1: float, b2: float, eps: float, weight_decay: float, decoupled: bool, mask: Any) -> Optimizer:
    def init(params: Any) -> AdamState:
        return AdamState(0, _zeros(params), _zeros(params))

    def update(params: Any, grads: Any, state: AdamState) -> tuple[Any, AdamState]:
        t = state.step + 1
        rate = _rate(lr, state.step)
        correction1, correction2 = 1 - b1**t, 1 - b2**t
        keep = full_mask(mask, params)

        def leaf(p: Any, g: Any, m: Any, v: Any, train: bool) -> tuple[Any, Any, Any]:
            if not train:
                return p, m, v
            if weight_decay and decoupled:
                p = p * (1 - rate * weight_decay)
            elif weight_decay:
                g = g + weight_decay * p
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            step = rate * (m / correction1) / (np.sqrt(v / correction2) + eps)
            return p - step, m, v

        new_params, m, v = _map_unzip(leaf, 3, params, grads, state.m, state.v, keep)
        return new_params, AdamState(t, m, v)

    return Optimizer(init, update)


def _map_unzip(fn: Callable[..., tuple], n: int, params: Any, *others: Any) -> tuple[Any, ...]:
    """Apply `fn` leaf by leaf (it returns `n` results per leaf) and return `n` pytrees
    shaped like `params`."""
    results: list[tuple] = []
    map_leaves(lambda *leaves: results.append(fn(*leaves)), params, *others)
    return tuple(_rebuild(params, (r[i] for r in results)) for i in range(n))


def _rebuild(like: Any, values: Iterator[Any]) -> Any:
    return map_leaves(lambda _: next(values), like)


def exponential_decay(lr: float, rate: float, every: int = 1) -> Schedule:
    """`lr * rate ** (step / every)`: multiply the learning rate by `rate` every `every` steps."""
    return lambda step: lr * rate ** (step / every)


def cosine_decay(lr: float, steps: int, final: float = 0.0) -> Schedule:
    """From `lr` down to `final` along half a cosine over `steps` steps, then `final`."""
    return lambda step: final + (lr - final) * 0.5 * (1 + math.cos(math.pi * min(step, steps) / steps))


def warmup(schedule: LearningRate, steps: int) -> Schedule:
    """Ramp linearly from near zero up to `schedule` over the first `steps` steps."""
    return lambda step: _rate(schedule, step) * min(1.0, (step + 1) / steps)


declare_machinery(sgd, adam, adamw, exponential_decay, cosine_decay, warmup, full_mask)
