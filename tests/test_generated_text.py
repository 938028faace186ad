"""Expected text of generated code: it should read like a careful hand-written backward pass."""

import textwrap

import numpy as np
from generated import source_after_call as _source


def product_then_sine(x, y):
    z = x * y
    return np.sin(z) + y


def doubled_sine_loop(x, n):
    for i in range(n):
        x = np.sin(x) * 2.0
    return x


def absolute_square(x):
    if x > 0.0:
        y = x * x
    else:
        y = -x
    return y


def polynomial(x):
    return 3 * x**2 + 2 * x + 1


def _line(fn, offset):
    return fn.__code__.co_firstlineno + offset


def test_straight_line_reads_like_the_hand_written_backward_pass():
    n = _line(product_then_sine, 1)
    assert _source(product_then_sine, 1.0, 2.0, wrt=(0, 1)) == textwrap.dedent(f"""\
        def grad_product_then_sine(x, y):
            if type(x) is not float or type(y) is not float:
                return _general(x, y)
            z = x * y
            # adjoint of line {n + 1}: return np.sin(z) + y
            z_bar = np.cos(z)
            # adjoint of line {n}: z = x * y
            x_bar = z_bar * y
            y_bar = 1.0 + z_bar * x
            return (float(x_bar), float(y_bar))""")


def test_polynomial_folds_to_the_derivative():
    n = _line(polynomial, 1)
    assert _source(polynomial, 2.0) == textwrap.dedent(f"""\
        def grad_polynomial(x):
            if type(x) is not float:
                return _general(x)
            # adjoint of line {n}: return 3 * x**2 + 2 * x + 1
            x_bar = 2.0 + 6.0 * x
            return x_bar""")


def test_loop_records_only_the_overwritten_value_it_reads_back():
    n = _line(doubled_sine_loop, 2)
    assert _source(doubled_sine_loop, 0.5, 3) == textwrap.dedent(f"""\
        def grad_doubled_sine_loop(x, n):
            if type(x) is not float or type(n) is not int:
                return _general(x, n)
            _tape = []
            _range1 = range(n)
            for i in _range1:
                _t1 = np.sin(x)
                _tape.append(x)
                x = _t1 * 2.0
            x_bar = 1.0
            # adjoint of line {n - 1}: for i in range(n):
            for i in reversed(_range1):
                # adjoint of line {n}: x = np.sin(x) * 2.0
                _t1_bar = x_bar * 2.0
                x = _tape.pop()
                x_bar = _t1_bar * np.cos(x)
            return float(x_bar)""")


def test_branch_replays_the_recorded_decision():
    n = _line(absolute_square, 1)
    assert _source(absolute_square, 0.5) == textwrap.dedent(f"""\
        def grad_absolute_square(x):
            if type(x) is not float:
                return _general(x)
            _cond1 = x > 0.0
            # adjoint of line {n}: if x > 0.0:
            if _cond1:
                # adjoint of line {n + 1}: y = x * x
                x_bar = 2.0 * x
            else:
                # adjoint of line {n + 3}: y = -x
                x_bar = -1.0
            return x_bar""")


def test_array_code_keeps_broadcasting_bookkeeping_only_where_needed():
    def f(w, b, x):
        return np.sum(np.tanh(x @ w + b))

    text = _source(f, np.ones((3, 2)), np.ones(2), np.ones((4, 3)), wrt=(0, 1))
    assert "unbroadcast(" in text  # b is broadcast over the batch
    assert "seed(" not in text  # a sum over all axes is a number: no run-time check needed


def test_an_output_of_unknown_shape_is_checked_at_run_time():
    def f(w, x):
        return np.tanh(x @ w)

    text = _source(f, np.ones(3), np.ones(3))
    assert "seed(" in text  # x @ w may or may not be a single number
