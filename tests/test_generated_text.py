"""Expected text of generated code: it should read like a careful hand-written backward pass."""

import textwrap

import numpy as np
import pytest
from generated import assert_grad_matches_fd
from generated import source_after_call as _source

import srcgrad


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


# ---- the seven programs of issue 16: branch, plain if, one-sided branch, early return,
# ---- Newton `while`, helper call, indexing; each also checked against finite differences

def overwritten_in_branch(x):
    y = x * x
    if x > 1.0:
        y = np.sin(y)
    else:
        y = y * 3.0
    return y


def plain_if(x):
    y = x * 2.0
    if x > 0.5:
        y = y * y
    return y + x


def one_sided(x):
    if x > 0.0:
        y = x * x
    else:
        y = 0.5
    return y


def early_return(x):
    if x > 1.0:
        return x * x
    y = np.sin(x)
    return y * 3.0


def newton_sqrt(a):
    x = a
    while abs(x * x - a) > 1e-12:
        x = 0.5 * (x + a / x)
    return x


def _square_plus_sine(u, v):
    return u * u + np.sin(v)


def helper_call(x, y):
    z = _square_plus_sine(x, y)
    w = _square_plus_sine(z, x)
    return w * y


def _pair(x):
    return (x * 2.0, np.sin(x))


def tuple_items(x):
    t = _pair(x)
    return t[0] * t[1]


def test_branch_saves_the_overwritten_value_in_a_local_not_on_a_tape():
    n = _line(overwritten_in_branch, 1)
    assert _source(overwritten_in_branch, 0.7) == textwrap.dedent(f"""\
        def grad_overwritten_in_branch(x):
            if type(x) is not float:
                return _general(x)
            y = x * x
            _cond1 = x > 1.0
            if _cond1:
                _t1 = np.sin(y)
                y_old = y
                y = _t1
            else:
                _t2 = y * 3.0
                y = _t2
            y_bar = 1.0
            # adjoint of line {n + 1}: if x > 1.0:
            if _cond1:
                # adjoint of line {n + 2}: y = np.sin(y)
                _t1_bar = y_bar
                y = y_old
                y_bar = _t1_bar * np.cos(y)
            else:
                # adjoint of line {n + 4}: y = y * 3.0
                _t2_bar = y_bar
                y_bar = _t2_bar * 3.0
            # adjoint of line {n}: y = x * x
            x_bar = y_bar * x + y_bar * x
            return float(x_bar)""")


def test_plain_if_adds_to_the_adjoint_it_found():
    n = _line(plain_if, 1)
    assert _source(plain_if, 0.7) == textwrap.dedent(f"""\
        def grad_plain_if(x):
            if type(x) is not float:
                return _general(x)
            y = x * 2.0
            _cond1 = x > 0.5
            if _cond1:
                _t1 = y * y
                y_old = y
                y = _t1
            # adjoint of line {n + 3}: return y + x
            y_bar = 1.0
            x_bar = 1.0
            # adjoint of line {n + 1}: if x > 0.5:
            if _cond1:
                # adjoint of line {n + 2}: y = y * y
                _t1_bar = y_bar
                y = y_old
                y_bar = _t1_bar * y + _t1_bar * y
            # adjoint of line {n}: y = x * 2.0
            x_bar = x_bar + y_bar * 2.0
            return float(x_bar)""")


def test_an_adjoint_one_path_defines_is_zero_on_the_other():
    n = _line(one_sided, 1)
    assert _source(one_sided, 0.7) == textwrap.dedent(f"""\
        def grad_one_sided(x):
            if type(x) is not float:
                return _general(x)
            _cond1 = x > 0.0
            # adjoint of line {n}: if x > 0.0:
            if _cond1:
                # adjoint of line {n + 1}: y = x * x
                x_bar = 2.0 * x
            else:
                x_bar = 0.0
            return x_bar""")


def test_early_return_is_the_other_path_of_its_if():
    n = _line(early_return, 1)
    assert _source(early_return, 0.7) == textwrap.dedent(f"""\
        def grad_early_return(x):
            if type(x) is not float:
                return _general(x)
            _cond1 = x > 1.0
            # adjoint of line {n}: if x > 1.0:
            if _cond1:
                # adjoint of line {n + 1}: return x * x
                x_bar = 2.0 * x
            else:
                # adjoint of line {n + 3}: return y * 3.0
                y_bar = 3.0
                # adjoint of line {n + 2}: y = np.sin(x)
                x_bar = y_bar * np.cos(x)
            return float(x_bar)""")


def test_newton_while_loop_tapes_what_each_trip_overwrites():
    n = _line(newton_sqrt, 1)
    assert _source(newton_sqrt, 2.0) == textwrap.dedent(f"""\
        def grad_newton_sqrt(a):
            if type(a) is not float:
                return _general(a)
            _tape = []
            _t1 = None
            x = a
            _n1 = 0
            while abs(x * x - a) > 1e-12:
                _n1 += 1
                _tape.append(_t1)
                _t1 = a / x
                _t2 = x + _t1
                _tape.append(x)
                x = 0.5 * _t2
            x_bar = 1.0
            # adjoint of line {n + 1}: while abs(x * x - a) > 1e-12:
            a_bar = 0.0
            for _ in range(_n1):
                # adjoint of line {n + 2}: x = 0.5 * (x + a / x)
                _t2_bar = x_bar * 0.5
                x = _tape.pop()
                _t1_bar = _t2_bar
                a_bar = a_bar + _t1_bar / x
                x_bar = _t2_bar + -_t1_bar * _t1 / x
                _t1 = _tape.pop()
            # adjoint of line {n}: x = a
            a_bar = a_bar + x_bar
            return float(a_bar)""")


def test_helper_on_floats_returns_a_float_and_pullbacks_are_named_in_source_order():
    n = _line(helper_call, 1)
    assert _source(helper_call, 0.3, 0.4, wrt=(0, 1)) == textwrap.dedent(f"""\
        def grad_helper_call(x, y):
            if type(x) is not float or type(y) is not float:
                return _general(x, y)
            z, _pullback1 = vjp__square_plus_sine(x, y)
            w, _pullback2 = vjp__square_plus_sine(z, x)
            # adjoint of line {n + 1}: w = _square_plus_sine(z, x)
            _c1 = _pullback2(y)
            z_bar = _c1[0]
            # adjoint of line {n}: z = _square_plus_sine(x, y)
            _c2 = _pullback1(z_bar)
            x_bar = _c1[1] + _c2[0]
            y_bar = w + _c2[1]
            return (float(x_bar), float(y_bar))""")


def test_items_of_a_tuple_of_floats_are_floats():
    n = _line(tuple_items, 1)
    text = _source(tuple_items, 0.3)
    assert "seed(" not in text and "unbroadcast(" not in text
    assert text.startswith(textwrap.dedent(f"""\
        def grad_tuple_items(x):
            if type(x) is not float:
                return _general(x)
            t, _pullback1 = vjp__pair(x)
            _t1 = t[0]
            _t2 = t[1]
            # adjoint of line {n + 1}: return t[0] * t[1]
        """))


@pytest.mark.parametrize("fn, args, wrt", [
    (overwritten_in_branch, (0.7,), 0), (overwritten_in_branch, (1.3,), 0),
    (plain_if, (0.3,), 0), (plain_if, (0.7,), 0),
    (one_sided, (0.7,), 0), (one_sided, (-0.7,), 0),
    (early_return, (0.7,), 0), (early_return, (1.3,), 0),
    (newton_sqrt, (2.0,), 0), (newton_sqrt, (0.3,), 0),
    (helper_call, (0.3, 0.4), (0, 1)), (helper_call, (-1.1, 2.0), (0, 1)),
    (tuple_items, (0.3,), 0), (tuple_items, (-2.0,), 0),
], ids=lambda value: getattr(value, "__name__", None))
def test_the_gradients_of_the_seven_programs_match_finite_differences(fn, args, wrt):
    assert_grad_matches_fd(fn, *args, wrt=wrt)


@pytest.mark.parametrize("a", [0.3, 2.0, 9.0])
def test_newton_gradient_is_the_derivative_of_the_square_root(a):
    assert abs(srcgrad.grad(newton_sqrt)(a) - 0.5 / np.sqrt(a)) < 1e-9


@pytest.mark.parametrize("x, second", [(0.3, 0.0), (0.7, 8.0)])
def test_second_derivative_through_a_branch_with_local_saves(x, second):
    # plain_if is 3x for x <= 0.5 and 4x^2 + x above
    assert abs(srcgrad.grad(srcgrad.grad(plain_if))(x) - second) < 1e-9
