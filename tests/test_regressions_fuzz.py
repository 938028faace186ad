"""Minimal programs the differential fuzzer (`python -m fuzz`) found wrong or crashing, each
against finite differences; the comment says what went wrong before the fix."""

import numpy as np
import pytest
from generated import fd_grad

import srcgrad


def outer_after_early_return(x):
    # the cotangent of `t1` is the scalar zero when the early return did not run; np.outer's
    # rule reshapes its cotangent, and was applied to that zero (ValueError from reshape)
    t1 = np.outer(0.7, x)
    if np.sum(x) > 10.0:
        return np.sum(t1)
    return np.sum(x)


@pytest.mark.parametrize("scale", [1.0, 5.0])
@pytest.mark.parametrize("optimize", [True, False])
def test_reshaping_rule_after_a_branch_that_may_not_have_run(scale, optimize):
    x = np.array([0.3, -0.2, 0.5]) * scale
    got = srcgrad.grad(outer_after_early_return, optimize=optimize)(x)
    np.testing.assert_allclose(got, fd_grad(outer_after_early_return, (x,), 0), rtol=1e-6, atol=1e-9)


def buffer_holding_an_argument(x, w):
    buf = np.zeros(3)
    for i in range(3):
        buf[i] = x  # the buffer holds the float: writing buf[j] replaces an item, not x
    buf[1] = w[0] * x
    return np.sum(buf * w)


def item_of_an_argument(x):
    y = np.zeros(2)
    y[0] = x[0]
    y[1] = x[2] * x[1]
    return np.sum(y * x[:2])


def test_writing_items_of_a_container_that_holds_an_argument_is_not_refused():
    w = np.array([0.3, -0.6, 0.9])
    got = srcgrad.grad(buffer_holding_an_argument, wrt=(0, 1))(0.7, w)
    args = (0.7, w)
    np.testing.assert_allclose(got[0], fd_grad(buffer_holding_an_argument, args, 0), rtol=1e-6)
    np.testing.assert_allclose(got[1], fd_grad(buffer_holding_an_argument, args, 1), rtol=1e-6)
    x = np.array([0.5, -1.5, 2.0])
    np.testing.assert_allclose(srcgrad.grad(item_of_an_argument)(x), fd_grad(item_of_an_argument, (x,), 0), rtol=1e-6)
    hessian = srcgrad.hessian(buffer_holding_an_argument, wrt=1)(0.7, w)
    want = np.zeros((3, 3))
    want[0, 1] = want[1, 0] = 0.7  # f = x w0 + x w0 w1 + x w2
    np.testing.assert_allclose(hessian, want, atol=1e-12)


def writes_into_an_argument_held_by_a_list(x):
    held = [0.0, 0.0]
    held[0] = x
    held[0][1] = 5.0
    return np.sum(held[0])


def mutates_an_argument_held_by_a_list(xs):
    held = [0.0]
    held[0] = xs
    held[0].append(1.0)
    return sum(held[0])


@pytest.mark.parametrize("fn, arg", [(writes_into_an_argument_held_by_a_list, np.ones(3)),
                                     (mutates_an_argument_held_by_a_list, [1.0, 2.0])])
def test_writing_into_an_argument_through_a_container_is_refused_with_its_line(fn, arg):
    with pytest.raises(srcgrad.NotDifferentiableError, match=r"test_regressions_fuzz.py:\d+:\d+: .*the argument"):
        srcgrad.grad(fn)(arg)


def first_entry_squared(x):
    # second order: forward mode over the gradient slices the steps of its loop, read back
    # off the tape, and the zero tangent of a `range` was the number 0.0 (not subscriptable)
    if 0.5 < 0.2:
        return 0.5
    for e in x:
        return e * e * x[1]


def nested_loops_return(x):
    for a in x:
        for b in x:
            return a * b * b


@pytest.mark.parametrize("fn", [first_entry_squared, nested_loops_return])
def test_second_order_through_a_loop_left_by_an_early_return(fn):
    x = np.array([0.58, 1.051, 0.61])
    gradient = srcgrad.grad(fn)
    want = np.array([fd_grad(lambda y, i=i: gradient(y)[i], (x,), 0) for i in range(3)])
    np.testing.assert_allclose(srcgrad.hessian(fn)(x), want, rtol=1e-6, atol=1e-8)
    v = np.array([0.3, -0.2, 0.7])
    np.testing.assert_allclose(srcgrad.hvp(fn)(x, v), want @ v, rtol=1e-6, atol=1e-8)


A = np.array([[0.2, 0.4, 0.6], [0.5, 0.1, 0.3]])


def number_beside_an_array(x):
    # forward mode dropped `broadcast_like` from the tangent of `A + x` for a number x (it is
    # only right for an array's tangent beside numbers): `x_dot[0, 2]` on a float
    y = (A + x)[0, 2]
    return y * x


def test_tangent_of_a_number_beside_an_array_has_the_arrays_shape():
    from srcgrad.tools.testing import directional_fd

    _, tangent = srcgrad.jvp(number_beside_an_array, (-0.017,), (1.0,))
    assert tangent == pytest.approx(directional_fd(number_beside_an_array, (-0.017,), [0], [1.0]), rel=1e-6)


def outer_then_early_return(x):
    # the adjoint of `b1` is zero when the loop returns early; np.outer's rule was applied to
    # the copy of that zero the subtraction made (a zero can reach a rule through other rules)
    b1 = 0.5
    b1 -= np.outer(0.7, x)
    for _ in x:
        return x * b1[0, 1]
    return b1


def matmul_then_overwritten_in_a_loop(x):
    # the loop resets the adjoint of `y` to zero; matmul's rule then met that zero
    b = x[0].copy()
    y = x @ b
    for _ in y:
        y = 0.7 * np.sum(b)
    return y


def test_rules_that_reshape_skip_a_cotangent_that_became_zero():
    x = np.array([0.221, 0.997, 0.61])
    out, pullback = srcgrad.vjp(outer_then_early_return, x)
    v = np.array([0.5, -1.0, 2.0])
    want = fd_grad(lambda y: np.dot(v, outer_then_early_return(y)), (x,), 0)
    np.testing.assert_allclose(pullback(v), want, rtol=1e-6, atol=1e-9)
    x2 = np.array([[-0.062, -0.501, -0.038], [1.003, -0.761, -1.052]])
    got = srcgrad.grad(matmul_then_overwritten_in_a_loop)(x2)
    np.testing.assert_allclose(got, fd_grad(matmul_then_overwritten_in_a_loop, (x2,), 0), rtol=1e-6, atol=1e-9)
    hessian = srcgrad.hessian(matmul_then_overwritten_in_a_loop)(x2)
    assert hessian.shape == (2, 3, 2, 3) and np.allclose(hessian, 0.0)  # linear in x[0]


def comprehension_over_a_filled_buffer(x, y):
    # second order: `'float' object is not iterable` at the comprehension's sequence tangent
    buf = np.zeros(3)
    for i in range(3):
        buf[i] = np.max(y) * y[i]
    y = buf
    for _ in range(1):
        squares = [c * c for c in buf]
    return sum(squares) + np.sum(y) * x


def test_second_order_through_a_comprehension_over_a_filled_buffer():
    y = np.array([-0.085, 0.345, 0.269])
    gradient = srcgrad.grad(comprehension_over_a_filled_buffer, wrt=1)
    want = np.array([fd_grad(lambda z, i=i: gradient(1.371, z)[i], (y,), 0) for i in range(3)])
    np.testing.assert_allclose(srcgrad.hessian(comprehension_over_a_filled_buffer, wrt=1)(1.371, y), want,
                               rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(gradient(1.371, y), fd_grad(comprehension_over_a_filled_buffer, (1.371, y), 1),
                               rtol=1e-6, atol=1e-8)


def clip_to_one_value(x):
    # equal bounds make the value constant; x kept the cotangent where it equals them
    return np.sum(np.clip(x, 0.7, 0.7) * x)


def test_clip_with_equal_bounds_passes_nothing_to_x():
    x = np.array([[-0.267, 0.7], [0.7, 1.5]])
    want = np.full(x.shape, 0.7)  # d/dx sum(0.7 * x)
    np.testing.assert_allclose(srcgrad.grad(clip_to_one_value)(x), want)
    np.testing.assert_allclose(srcgrad.jvp(clip_to_one_value, (x,), (np.ones_like(x),))[1], np.sum(want))


def outer_copy_scaled_by_a_numpy_number(x):
    # `0.0 * np.tanh(0.5)` is NumPy's float64 zero, which `is_zero` did not take for the zero
    # it is, so np.outer's rule was applied to it after all
    b = np.outer(0.7, x).copy()
    b *= np.tanh(0.5)
    if np.sum(x) > 0.5:
        return np.sum(b * b)
    return np.sum(x)


@pytest.mark.parametrize("x", [np.zeros(3), np.array([0.3, 0.4, 0.1])])
def test_a_numpy_scalar_zero_is_a_zero_cotangent(x):
    got = srcgrad.grad(outer_copy_scaled_by_a_numpy_number)(x)
    np.testing.assert_allclose(got, fd_grad(outer_copy_scaled_by_a_numpy_number, (x,), 0), rtol=1e-6, atol=1e-9)


W = np.array([0.3, 0.5, 0.8])


def concatenated_then_unused(x):
    # second order: the zero an adjoint starts from is a number; reverse over `unbroadcast`
    # stretched the array cotangent to that number's shape
    t = np.concatenate([np.exp(np.tanh(0.5 * W))[1:], (W * x)[:1]])
    t = np.concatenate([t[1:], t[:1]])[::1]
    t = t + W
    if 0.5 < 0.3:
        return np.sum(t)
    return 0.5


def test_second_order_when_an_adjoint_stays_the_number_zero():
    assert srcgrad.grad(srcgrad.grad(concatenated_then_unused))(1.348) == 0.0


def item_copied_then_unused(x):
    # second order: the adjoint of `c` stays the number zero (the branch that reads it does not
    # run); reverse over `zero_at(c_bar, 1)` indexed the cotangent of that number
    b = np.tanh(A[0]).copy()
    b *= x
    c = b.copy()
    c[1] = c[2]
    if 1.0 < 0.2:
        return np.mean(c)
    return 0.5 * x * x


def test_second_order_through_an_item_write_whose_adjoint_stays_zero():
    assert srcgrad.grad(srcgrad.grad(item_copied_then_unused))(-1.293) == pytest.approx(1.0)
