"""Fast paths of the runtime helpers (`unbroadcast`, `unbroadcast_matmul`, `add_into`) and
the `ShapeOf` stand-in: each must give exactly what the generic path gives, for every
shape, dtype and kind of value, including those where the fast path must not apply."""

import itertools

import numpy as np
import pytest

from srcgrad.errors import NotDifferentiableError
from srcgrad.rules.operators_vjp import unbroadcast_matmul
from srcgrad.runtime import core as rt


def _generic_unbroadcast(g, x):
    """The generic path of `unbroadcast`, as it was before the fast path."""
    g_shape, x_shape = np.shape(g), np.shape(x)
    if g_shape == x_shape:
        return g
    extra = len(g_shape) - len(x_shape)
    if extra > 0:
        g = np.sum(g, axis=tuple(range(extra)))
    stretched = tuple(i for i, n in enumerate(x_shape) if n == 1 and np.shape(g)[i] != 1)
    if stretched:
        g = np.sum(g, axis=stretched, keepdims=True)
    return g


SHAPES = [(), (1,), (3,), (2, 3), (1, 3), (2, 1), (1, 1), (4, 2, 3), (4, 1, 3), (1, 2, 1)]


def _broadcastable(small, big):
    try:
        return np.broadcast_shapes(small, big) == big
    except ValueError:
        return False


@pytest.mark.parametrize("g_shape, x_shape", [
    (g, x) for g, x in itertools.product(SHAPES, SHAPES) if _broadcastable(x, g)
])
@pytest.mark.parametrize("stand_in", [False, True])
def test_unbroadcast_fast_path_matches_the_generic_one(g_shape, x_shape, stand_in):
    rng = np.random.default_rng(0)
    g = rng.standard_normal(g_shape) if g_shape else np.float64(rng.standard_normal())
    g = np.asarray(g) if g_shape == () and stand_in else g
    x = rng.standard_normal(x_shape) if x_shape else np.zeros(())
    like = rt.shape_of(x) if stand_in else x
    got, want = rt.unbroadcast(g, like), _generic_unbroadcast(g, x)
    assert np.shape(got) == np.shape(want) == x_shape
    np.testing.assert_array_equal(got, want)


def test_unbroadcast_returns_the_cotangent_itself_when_shapes_agree():
    g = np.ones((2, 3))
    assert rt.unbroadcast(g, np.zeros((2, 3))) is g
    assert rt.unbroadcast(g, rt.shape_of(np.zeros((2, 3)))) is g


def test_unbroadcast_keeps_other_kinds_on_the_generic_path():
    class Sub(np.ndarray):
        pass

    g = np.arange(6.0).reshape(2, 3).view(Sub)
    assert type(rt.unbroadcast(g, np.zeros(3))) is Sub  # np.sum keeps the subclass
    g = np.ones(3)
    assert rt.unbroadcast(g, [0.0, 0.0, 0.0]) is g
    assert rt.unbroadcast(2.5, 1.0) == 2.5
    with pytest.raises(NotDifferentiableError):  # a list joined by `+`: still the clear error
        rt.unbroadcast(np.ones((2, 3)), [0.0, 0.0, 0.0])


def test_shape_of_keeps_only_the_shape_of_arrays():
    x = np.zeros((4, 5), dtype=np.float32)
    s = rt.shape_of(x)
    assert type(s) is rt.ShapeOf and s.shape == (4, 5) and s.ndim == 2 and s.size == 20
    assert np.shape(s) == (4, 5) and np.ndim(s) == 2 and np.size(s) == 20
    assert not hasattr(s, "dtype") and "ShapeOf(4, 5)" == repr(s)
    for other in (2.0, 3, [1.0, 2.0], (1.0,), np.float64(1.5), None):
        assert rt.shape_of(other) is other


def test_shape_readers_accept_the_stand_in():
    from srcgrad.rules.reduction_vjp import expand_reduced, reduced_count

    x = np.arange(12.0).reshape(3, 4)
    g = np.ones(3)
    np.testing.assert_array_equal(expand_reduced(g, rt.shape_of(x), 1, False), expand_reduced(g, x, 1, False))
    assert reduced_count(rt.shape_of(x), rt.shape_of(g)) == reduced_count(x, g) == 4


MATMUL_SHAPES = [
    ((2, 3), (3, 4)), ((3,), (3, 4)), ((2, 3), (3,)), ((3,), (3,)), ((5, 2, 3), (3, 4)), ((2, 3), (5, 3, 4)),
    ((1, 3), (3, 4)), ((2, 1), (1, 4)),
]


@pytest.mark.parametrize("x_shape, y_shape", MATMUL_SHAPES)
@pytest.mark.parametrize("which", [0, 1])
def test_unbroadcast_matmul_matches_finite_differences_of_a_product(x_shape, y_shape, which):
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal(x_shape), rng.standard_normal(y_shape)
    g = rng.standard_normal(np.shape(x @ y))
    got = unbroadcast_matmul(g, x, y, which)
    arg = (x, y)[which]
    assert np.shape(got) == np.shape(arg)
    # the cotangent is linear: <got, u> = <g, d(x @ y)[u]>
    u = rng.standard_normal(np.shape(arg))
    dz = u @ y if which == 0 else x @ u
    np.testing.assert_allclose(np.sum(got * u), np.sum(g * dz), rtol=1e-12)


def test_unbroadcast_matmul_fast_path_leaves_a_broadcast_cotangent_to_the_generic_path():
    x, y = np.ones((2, 3)), np.ones((3, 4))
    g = np.ones((5, 2, 4))  # a cotangent with an extra batch axis: summed over it
    np.testing.assert_array_equal(unbroadcast_matmul(g, x, y, 0), np.full((2, 3), 20.0))
    np.testing.assert_array_equal(unbroadcast_matmul(g, x, y, 1), np.full((3, 4), 10.0))


@pytest.mark.parametrize("zero", [0.0, -0.0, np.float64(0.0), np.zeros(3)])
def test_a_zero_cotangent_with_fewer_axes_fits_any_shape(zero):
    """`0.0 * b` (a reset cotangent times an array, or times a reduced number) reaches
    `unbroadcast` as a zero with fewer axes than the value it is for."""
    got = rt.unbroadcast(zero, np.ones((2, 1, 3)))
    assert not np.any(got) and np.broadcast_shapes(np.shape(got), (2, 1, 3)) == (2, 1, 3)


def test_a_nonzero_cotangent_with_fewer_axes_is_not_guessed():
    with pytest.raises(Exception):  # the cotangent of which broadcast? an error, not a guess
        rt.unbroadcast(np.float64(2.0), np.ones((1, 3)))


@pytest.mark.parametrize("zero_shape, x_shape", [((3,), (1, 1)), ((2, 1), (1, 3)), ((4, 2, 1), (1, 3))])
@pytest.mark.parametrize("stand_in", [False, True])
def test_a_zero_of_another_operand_shape_becomes_zeros_of_the_value_shape(zero_shape, x_shape, stand_in):
    """`0.0 * y` for `z = y * b`: the reset cotangent of `z` times the other operand has
    `y`'s shape, which need not sum down to `b`'s."""
    x = np.ones(x_shape)
    got = rt.unbroadcast(np.zeros(zero_shape), rt.shape_of(x) if stand_in else x)
    assert np.shape(got) == x_shape and not np.any(got)


@pytest.mark.parametrize("x_shape, axis, keepdims", [
    ((3, 4), 1, False), ((3, 4), 0, False), ((3, 4), -1, False), ((2, 3, 4), -2, False), ((2, 3, 4), 2, True),
    ((3, 4), 1, True), ((5,), 0, False), ((2, 3, 4), (0, 2), False), ((3, 4), None, False),
])
def test_expand_reduced_quick_path_matches_expand_dims(x_shape, axis, keepdims):
    """The quick path for one integer axis of an array against `np.expand_dims` and
    `np.broadcast_to` written out here (an independent oracle)."""
    from srcgrad.rules.reduction_vjp import expand_reduced

    x = np.arange(float(np.prod(x_shape))).reshape(x_shape)
    g = np.sum(x, axis=axis, keepdims=keepdims) + 1.0
    want = np.broadcast_to(g if keepdims or axis is None else np.expand_dims(g, axis), x.shape)
    for like in (x, rt.shape_of(x)):
        got = expand_reduced(np.asarray(g), like, axis, keepdims)
        assert got.shape == x.shape
        np.testing.assert_array_equal(got, want)
