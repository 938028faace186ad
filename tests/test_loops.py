"""Loop passes (loops.py): the generated text, and gradients against central finite
differences, including the cases where a rewrite must not apply (values whose shape or kind
changes from one iteration to the next, loop targets, branches, break, nested loops)."""

import textwrap

import numpy as np
import pytest
from generated import assert_grad_matches_fd
from generated import source_after_call as _source

import srcgrad
from srcgrad.tools.testing import check_grad


def _check(fn, *args, wrt=0):
    """`grad` against finite differences entry by entry, and the `vjp` form (a pullback
    closure) by `check_grad`'s inner-product test."""
    assert_grad_matches_fd(fn, *args, wrt=wrt)
    check_grad(fn, *args, wrt=wrt, elementwise=False)


def rnn(wx, wh, b, xs):
    h = np.zeros((xs.shape[1], wh.shape[0]))
    for t in range(xs.shape[0]):
        h = np.tanh(xs[t] @ wx + h @ wh + b)
    return np.sum(h * h)


def _rnn_args(rng=np.random.default_rng(0)):
    return (rng.standard_normal((3, 4)) * 0.5, rng.standard_normal((4, 4)) * 0.5, rng.standard_normal(4),
            rng.standard_normal((5, 2, 3)))


def test_rnn_tapes_shapes_not_the_arrays_read_only_for_their_shape():
    text = _source(rnn, *_rnn_args(), wrt=(0, 1, 2))
    for name in ("_t2", "_t3", "_t4"):  # read backward only by unbroadcast, for their shapes
        assert f"_tape.append({name})" not in text
        assert f"_tape.append({name}_shape)" in text
        assert f"{name}_shape = shape_of({name})" in text
    assert "_tape.append(h)" in text and "_tape.append(_t1)" in text  # read for their values


def test_rnn_backward_sweep_reads_like_the_hand_written_one():
    n = rnn.__code__.co_firstlineno
    assert _source(rnn, *_rnn_args(), wrt=(0, 1, 2)) == textwrap.dedent(f"""\
        def grad_rnn(wx, wh, b, xs):
            _tape = []
            _t1 = None
            _t2_shape = None
            _t3_shape = None
            _t4_shape = None
            h = np.zeros((xs.shape[1], wh.shape[0]))
            _range1 = range(xs.shape[0])
            for t in _range1:
                _tape.append(_t1)
                _t1 = xs[t]
                _tape.append(_t2_shape)
                _t2 = _t1 @ wx
                _t2_shape = shape_of(_t2)
                _tape.append(_t3_shape)
                _t3 = h @ wh
                _t3_shape = shape_of(_t3)
                _tape.append(_t4_shape)
                _t4 = _t2 + _t3
                _t4_shape = shape_of(_t4)
                _t5 = _t4 + b
                _tape.append(h)
                h = np.tanh(_t5)
            _t6 = h * h
            # adjoint of line {n + 4}: return np.sum(h * h)
            _t6_bar = expand_reduced(1.0, _t6, None, False)
            h_bar = _t6_bar * h + _t6_bar * h
            # adjoint of line {n + 2}: for t in range(xs.shape[0]):
            b_bar = 0.0
            wh_bar = 0.0
            wx_bar = 0.0
            for t in reversed(_range1):
                # adjoint of line {n + 3}: h = np.tanh(xs[t] @ wx + h @ wh + b)
                _t5_bar = h_bar * (1.0 - h ** 2)
                h_bar = 0.0
                h = _tape.pop()
                _t4_bar = unbroadcast(_t5_bar, _t4_shape)
                b_bar = add_into(b_bar, unbroadcast(_t5_bar, b))
                _t2_bar = unbroadcast(_t4_bar, _t2_shape)
                _t3_bar = unbroadcast(_t4_bar, _t3_shape)
                _t4_shape = _tape.pop()
                if not is_zero(_t3_bar):
                    h_bar = unbroadcast_matmul(_t3_bar, h, wh, 0)
                    wh_bar = add_into(wh_bar, unbroadcast_matmul(_t3_bar, h, wh, 1))
                _t3_shape = _tape.pop()
                # adjoint of line {n + 3}: h = np.tanh(xs[t] @ wx + h @ wh + b)
                if not is_zero(_t2_bar):
                    wx_bar = add_into(wx_bar, unbroadcast_matmul(_t2_bar, _t1, wx, 1))
                _t2_shape = _tape.pop()
                _t1 = _tape.pop()
            return (wx_bar, wh_bar, b_bar)""")


def test_rnn_gradient():
    _check(rnn, *_rnn_args(), wrt=(0, 1, 2))


def broadcast_in_loop(x, w):
    for i in range(3):
        x = x + w  # x is (3,) on the first trip, (2, 3) after
    return np.sum(x)


def test_a_parameter_whose_shape_changes_between_iterations():
    args = (np.array([0.5, -1.0, 2.0]), np.array([[0.1, 0.2, 0.3], [-0.4, 0.5, -0.6]]))
    text = _source(broadcast_in_loop, *args, wrt=(0, 1))
    assert "x_shape = shape_of(x)" in text.splitlines()[2]  # measured on entry, before the loop
    _check(broadcast_in_loop, *args, wrt=(0, 1))


def growing_slices(x, b):
    total = 0.0
    for i in range(1, 4):
        s = x[:i] + b  # a temporary of a different shape on every trip
        total = total + np.sum(s * s)
    return total


def test_values_whose_shape_changes_every_iteration():
    args = (np.array([0.3, -0.7, 1.1, 0.2]), np.array([0.5]))
    assert "shape_of(" in _source(growing_slices, *args, wrt=(0, 1))
    _check(growing_slices, *args, wrt=(0, 1))


def number_then_array(x, n):
    y = 0.0
    for i in range(n):
        y = y + x * x  # a Python float on the first trip, an array after
    return np.sum(y * y)


def test_a_value_that_is_a_number_then_an_array():
    x = np.array([0.5, -1.5, 2.0])
    _check(number_then_array, x, 3)
    _check(number_then_array, x, 0)


def scalar_loop(x, n):
    y = x
    for i in range(n):
        y = y * 0.5 + x
    return y * y


def test_python_numbers_go_through_unchanged():
    _check(scalar_loop, 0.7, 4)


def with_break(x, w):
    y = x
    k = 0
    while True:
        y = np.tanh(y @ w + x)
        k += 1
        if k >= 3:
            break
    return np.sum(y)


def test_while_loop_with_break():
    rng = np.random.default_rng(2)
    args = (rng.standard_normal((2, 3)), rng.standard_normal((3, 3)))
    assert "shape_of(" in _source(with_break, *args, wrt=(0, 1))
    _check(with_break, *args, wrt=(0, 1))


def nested(w, b, xs):
    h = xs[0]
    for i in range(2):
        for t in range(xs.shape[0]):
            h = np.tanh(xs[t] + h @ w + b) * (1.0 + i)
    return np.sum(h)


def test_nested_loops():
    rng = np.random.default_rng(3)
    args = (rng.standard_normal((3, 3)) * 0.5, rng.standard_normal(3), rng.standard_normal((4, 2, 3)))
    assert "shape_of(" in _source(nested, *args, wrt=(0, 1, 2))
    _check(nested, *args, wrt=(0, 1, 2))


def branches(x, b):
    for i in range(4):
        if i % 2 == 0:
            z = x + b
        else:
            z = x * 2.0
        x = np.sin(z)
    return np.sum(x)


def test_branches_in_a_loop():
    args = (np.array([[0.1, 0.2], [0.3, -0.4]]), np.array([0.5, -0.5]))
    _check(branches, *args, wrt=(0, 1))


def over_rows(xs, b):
    total = 0.0
    for row in xs:
        total = total + np.sum((row + b) ** 2)
    return total


def test_a_loop_over_rows_broadcast_against_a_column():
    args = (np.array([[0.1, 0.2], [0.3, -0.4], [1.0, 2.0]]), np.array([[0.5], [-0.5]]))
    assert "row_shape = shape_of(row)" in _source(over_rows, *args, wrt=(0, 1))
    _check(over_rows, *args, wrt=(0, 1))


def loop_target(xs, b):
    total = 0.0
    for i, row in enumerate(xs):
        total = total + np.sum(row + b)
    return total


def test_a_value_stored_by_unpacking():
    args = (np.array([[0.1, 0.2], [0.3, -0.4], [1.0, 2.0]]), np.array([[0.5], [-0.5]]))
    assert "row_shape = shape_of(row)" in _source(loop_target, *args, wrt=(0, 1))
    _check(loop_target, *args, wrt=(0, 1))


def read_for_value(x, w):
    for i in range(3):
        y = x @ w
        x = y * y  # the adjoint reads y itself: the array stays on the tape
    return np.sum(x)


def test_a_value_read_for_more_than_its_shape_stays_on_the_tape():
    args = (np.array([[0.5, -0.2]]), np.array([[0.3, 0.1], [-0.2, 0.4]]))
    text = _source(read_for_value, *args, wrt=(0, 1))
    assert "_tape.append(y)" in text and "y_shape" not in text
    _check(read_for_value, *args, wrt=(0, 1))


def squared_loop(x):
    return broadcast_in_loop(x, np.array([0.1, 0.2])) ** 2


def test_derivatives_of_derivatives_keep_the_plain_tape():
    x = np.array([0.3, -0.6])
    hessian = srcgrad.hessian(squared_loop)(x)
    np.testing.assert_allclose(hessian, 2.0 * np.ones((2, 2)), rtol=1e-9)  # of (sum(x) + 0.9) ** 2


@pytest.mark.parametrize("steps", [0, 1, 4])
def test_rnn_for_any_number_of_steps(steps):
    rng = np.random.default_rng(steps)
    args = (rng.standard_normal((3, 4)) * 0.5, rng.standard_normal((4, 4)) * 0.5, rng.standard_normal((1, 4)),
            rng.standard_normal((steps, 2, 3)))
    _check(rnn, *args, wrt=(0, 1, 2))


def running_total(w, xs):
    total = 0.0
    for t in range(xs.shape[0]):
        total = total + np.sum(np.sin(xs[t] * w))
    return total


def test_values_that_are_surely_numbers_are_taped_as_they_are():
    args = (np.array([0.5, -0.2, 0.1]), np.arange(12.0).reshape(4, 3) / 10)
    text = _source(running_total, *args)
    assert "_tape.append(total)" in text and "total_shape" not in text  # a number: its own stand-in
    assert "shape_of(_t3)" in text  # np.sin(...) is an array: its shape only
    _check(running_total, *args)


def doubled_sine(x):
    for i in range(3):
        x = np.sin(x) * 2.0
    return x


@pytest.mark.parametrize("fn, args", [
    (doubled_sine, (0.5,)), (doubled_sine, (np.array(0.5),)), (running_total, (np.array([0.5, -0.2, 0.1]), np.ones((4, 3)))),
    (rnn, _rnn_args()),
])
def test_value_and_grad_returns_the_value_the_loop_ended_with(fn, args):
    """The backward sweep pops older values into the loop's variables: the value returned is
    the one from before it."""
    value, grads = srcgrad.value_and_grad(fn, wrt=0)(*args)
    assert value == pytest.approx(fn(*args))
    np.testing.assert_allclose(grads, srcgrad.grad(fn, wrt=0)(*args), rtol=1e-12)
