"""Independent checks of derivatives: central finite differences and the inner-product test."""

from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np

from ..api import grad, jvp, normalize_wrt, vjp
from ..facts import declare_machinery
from ..rules.registry import Rule
from ..runtime import tree

_STEP = 1e-6


def _perturb(args: Sequence[Any], position: int, direction: Any, step: float) -> list[Any]:
    moved = list(args)
    moved[position] = tree.map_leaves(lambda x, d: np.asarray(x, float) + step * d if isinstance(x, np.ndarray) else float(x) + step * d, args[position], direction)
    return moved


def _random_like(value: Any, rng: np.random.Generator) -> Any:
    return tree.map_leaves(lambda x: rng.standard_normal(np.shape(x)) if np.ndim(x) else float(rng.standard_normal()), value)


def directional_fd(f: Callable[..., Any], args: Sequence[Any], positions: Sequence[int], directions: Sequence[Any], step: float = _STEP) -> Any:
    """Central difference of `f` along `directions` (one per position in `positions`)."""
    plus, minus = list(args), list(args)
    for position, direction in zip(positions, directions):
        plus = _perturb(plus, position, direction, step)
        minus = _perturb(minus, position, direction, -step)
    out_plus, out_minus = f(*plus), f(*minus)
    return tree.map_leaves(lambda a, b: (np.asarray(a, float) - np.asarray(b, float)) / (2 * step), out_plus, out_minus)


def _close(name: str, got: float, want: float, rtol: float, atol: float) -> None:
    if not abs(got - want) <= atol + rtol * abs(want):
        raise AssertionError(f"{name}: srcgrad gives {got!r}, finite differences give {want!r} (difference {got - want:.3g})")


def check_grad(
    f: Callable[..., Any],
    *args: Any,
    wrt: Any = 0,
    rtol: float = 1e-5,
    atol: float = 1e-6,
    seed: int = 0,
    elementwise: bool = True,
    optimize: Any = True,
) -> None:
    """Check srcgrad's reverse derivative of `f` at `args` against finite differences.

    Runs the inner-product test <v, J u> = <J^T v, u> with random u and v (J u by central
    differences) and, for arguments with at most 64 entries, compares every partial
    derivative; for a scalar output, `grad`'s own answer too (its code is not the pullback's).
    Raises AssertionError showing the discrepancy. `optimize` is passed to `vjp` and `grad`.
    """
    rng = np.random.default_rng(seed)
    positions = normalize_wrt(f, wrt, len(args))
    out, pullback = vjp(f, *args, wrt=tuple(positions), optimize=optimize)
    v = _random_like(out, rng)
    bars = pullback(v)
    if np.ndim(out) == 0 and isinstance(out, (float, int, np.number, np.ndarray)):
        direct = grad(f, wrt=tuple(positions), optimize=optimize)(*args)
        for position, bar, got in zip(positions, bars, direct):
            for got_leaf, bar_leaf in zip(tree.leaves(got), tree.leaves(bar)):
                if not np.allclose(np.asarray(got_leaf, float) * float(v), np.asarray(bar_leaf, float), rtol=rtol, atol=atol):
                    raise AssertionError(f"grad gives {got!r} for argument {position}, vjp gives {bar!r} for v={v!r}")
    directions = [_random_like(args[p], rng) for p in positions]
    jvp_fd = directional_fd(f, args, positions, directions)
    want = tree.vdot(v, jvp_fd)
    got = sum(tree.vdot(bar, u) for bar, u in zip(bars, directions))
    _close("inner product <v, J u> vs <J^T v, u>", got, want, rtol * 10, atol * 10 * (1 + abs(want)))
    if not elementwise:
        return
    for position, bar in zip(positions, bars):
        flat_bar = [np.ravel(np.asarray(leaf, float)) for leaf in tree.leaves(bar)]
        flat_arg = tree.leaves(args[position])
        if sum(np.size(leaf) for leaf in flat_arg) > 64:
            continue
        for leaf_index, leaf in enumerate(flat_arg):
            for i in range(np.size(leaf)):
                unit = _unit_direction(args[position], leaf_index, i)
                fd = tree.vdot(v, directional_fd(f, args, [position], [unit]))
                _close(f"d/d(arg {position}) leaf {leaf_index} entry {i}", float(flat_bar[leaf_index][i]), fd, rtol, atol * (1 + abs(fd)))


def _unit_direction(value: Any, leaf_index: int, entry: int) -> Any:
    counter = iter(range(10**9))

    def unit(x: Any) -> Any:
        here = next(counter)
        out = np.zeros(np.shape(x))
        if here == leaf_index:
            out.flat[entry] = 1.0
        return out if np.ndim(x) else float(out)

    return tree.map_leaves(unit, value)


def check_vjp_rule(
    primal: Callable[..., Any],
    rule: Callable[..., Any],
    *args: Any,
    rtol: float = 1e-5,
    atol: float = 1e-7,
    seed: int = 0,
    **kwargs: Any,
) -> None:
    """Check a reverse rule, called directly, by the inner-product test on every array or
    float argument the rule differentiates (the leading `len(result)` arguments)."""
    rng = np.random.default_rng(seed)
    out = primal(*args, **kwargs)
    g = _random_like(out, rng)
    bars = rule(g, out, *args, **kwargs)
    assert isinstance(bars, tuple), f"{rule.__name__} must return a tuple"
    positions = [i for i, bar in enumerate(bars) if bar is not None]
    directions = [_random_like(args[i], rng) for i in positions]
    jvp_fd = directional_fd(lambda *a: primal(*a, **kwargs), args, positions, directions)
    want = tree.vdot(g, jvp_fd)
    got = sum(tree.vdot(np.broadcast_to(bars[i], np.shape(args[i])) if not isinstance(args[i], (list, tuple, dict)) else bars[i], u) for i, u in zip(positions, directions))
    _close(f"rule {rule.__name__}: <g, J u> vs <rule(g), u>", got, want, rtol, atol * (1 + abs(want)))
    for i in positions:
        if not isinstance(args[i], (list, tuple, dict)):
            assert np.shape(bars[i]) == np.shape(args[i]), f"{rule.__name__}: cotangent {i} has shape {np.shape(bars[i])}, argument has {np.shape(args[i])}"


def check_jvp_rule(
    primal: Callable[..., Any],
    rule: Callable[..., Any],
    *args: Any,
    vjp: Callable[..., Any] | None = None,
    rtol: float = 1e-5,
    atol: float = 1e-7,
    seed: int = 0,
    **kwargs: Any,
) -> None:
    """Check a forward rule of per-argument terms, called directly, on every argument it
    has a term for.

    The summed tangent must have the result's shape and match central differences along
    random directions u, entry by entry. With `vjp` (the primal's reverse rule) it also runs
    the inner-product test <v, J u> = <J^T v, u>, forward against reverse.
    """
    rng = np.random.default_rng(seed)
    out = primal(*args, **kwargs)
    terms = Rule(primal, rule).terms()
    positions = [i for i, term in enumerate(terms) if term is not None]
    directions = [_random_like(args[i], rng) for i in positions]
    tangent = None
    for i, u in zip(positions, directions):
        term = terms[i](u, out, *args, **kwargs)  # type: ignore[misc]
        tangent = term if tangent is None else tree.map_leaves(lambda a, b: a + b, tangent, term)
    want = directional_fd(lambda *a: primal(*a, **kwargs), args, positions, directions)
    for got_leaf, want_leaf, out_leaf in zip(tree.leaves(tangent), tree.leaves(want), tree.leaves(out)):
        assert np.shape(got_leaf) == np.shape(out_leaf), (
            f"rule {rule.__name__}: tangent has shape {np.shape(got_leaf)}, result has {np.shape(out_leaf)}")
        scale = 1 + float(np.max(np.abs(want_leaf), initial=0.0))
        if not np.allclose(np.asarray(got_leaf, float), want_leaf, rtol=rtol * 10, atol=atol * 10 * scale):
            raise AssertionError(f"rule {rule.__name__}: tangent {got_leaf!r} differs from finite differences {want_leaf!r}")
    if vjp is None:
        return
    v = _random_like(out, rng)
    bars = vjp(v, out, *args, **kwargs)
    reverse = sum(tree.vdot(bars[i], u) for i, u in zip(positions, directions) if bars[i] is not None)
    forward = tree.vdot(v, tangent)
    _close(f"rule {rule.__name__}: <v, J u> (forward) vs <J^T v, u> (reverse)", forward, reverse, rtol, atol * (1 + abs(reverse)))


def check_jvp(
    f: Callable[..., Any],
    *args: Any,
    wrt: Any = 0,
    rtol: float = 1e-5,
    atol: float = 1e-6,
    seed: int = 0,
    optimize: Any = True,
) -> None:
    """Check srcgrad's forward derivative of `f` at `args` along random directions u: the
    tangent against central finite differences, entry by entry, and forward against reverse
    by the inner-product test <v, J u> = <J^T v, u>. Raises AssertionError on a discrepancy."""
    rng = np.random.default_rng(seed)
    positions = normalize_wrt(f, wrt, len(args))
    directions = [_random_like(args[p], rng) for p in positions]
    out, tangent = jvp(f, args, tuple(directions), wrt=tuple(positions), optimize=optimize)
    want = directional_fd(f, args, positions, directions)
    for got_leaf, want_leaf, out_leaf in zip(tree.leaves(tangent), tree.leaves(want), tree.leaves(out)):
        assert np.shape(got_leaf) == np.shape(out_leaf), f"tangent has shape {np.shape(got_leaf)}, output has {np.shape(out_leaf)}"
        scale = 1 + float(np.max(np.abs(want_leaf), initial=0.0))
        if not np.allclose(np.asarray(got_leaf, float), want_leaf, rtol=rtol, atol=atol * scale):
            raise AssertionError(f"jvp gives {got_leaf!r}, finite differences give {want_leaf!r}")
    _, pullback = vjp(f, *args, wrt=tuple(positions), optimize=optimize)
    v = _random_like(out, rng)
    reverse = sum(tree.vdot(bar, u) for bar, u in zip(pullback(v), directions))
    forward = tree.vdot(v, tangent)
    _close("inner product <v, J u> (forward) vs <J^T v, u> (reverse)", forward, reverse, rtol, atol * (1 + abs(reverse)))


declare_machinery(directional_fd, check_grad, check_vjp_rule, check_jvp_rule, check_jvp)
