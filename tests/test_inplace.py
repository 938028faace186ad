"""In-place accumulation (inplace.py): which loop accumulations become `add_into`, on tiny
source strings and on whole programs, and gradients against finite differences where the
rewrite applies and where it must not (aliases, dtypes, shapes, numbers)."""

import ast
import textwrap

import numpy as np
import pytest
from generated import assert_grad_matches_fd
from generated import fd_grad as _fd_grad
from generated import source_after_call as _source

import srcgrad
from srcgrad.cleanup.inplace import accumulate_in_place, assign_onto_zeros
from srcgrad.rules.operators_vjp import unbroadcast_matmul
from srcgrad.runtime.core import add_into, is_zero, unbroadcast
from srcgrad.tools.testing import check_grad

_NAMES = {"np": np, "unbroadcast": unbroadcast, "unbroadcast_matmul": unbroadcast_matmul, "is_zero": is_zero,
          "add_into": add_into}


def _value_of(expr):
    if isinstance(expr, ast.Name):
        return _NAMES.get(expr.id)
    if isinstance(expr, ast.Attribute):
        base = _value_of(expr.value)
        return getattr(base, expr.attr, None)
    return None


class _Names:
    """What the pass asks of the code's names: the objects of `_NAMES`, helpers bound as named."""

    value_of = staticmethod(_value_of)

    def bind(self, preferred, value):
        return preferred


def _rewrite(source, numbers=()):
    node = ast.parse(textwrap.dedent(source)).body[0]
    accumulate_in_place(node, _Names(), {"w_bar", "h_bar", "v_bar"}, set(numbers))
    return ast.unparse(node)


LOOP = """\
    def f(w, g, xs):
        w_bar = 0.0
        for x in xs:
            w_bar = w_bar + unbroadcast_matmul(g, x, w, 1)
        {extra}
        return w_bar
"""


def test_a_gradient_buffer_of_its_own_is_added_into():
    assert "w_bar = add_into(w_bar, unbroadcast_matmul(g, x, w, 1))" in _rewrite(LOOP.format(extra="pass"))


@pytest.mark.parametrize("extra", [
    "v = w_bar",  # an alias
    "keep.append(w_bar)",  # kept in a list
    "v = w_bar * 2.0",  # read in arithmetic (a lazy array type could keep it)
    "v_bar = unbroadcast(w_bar, w)",  # may return the buffer itself
    "w_bar = g",  # an array that is someone else's
    "w_bar = unbroadcast(g, w)",
    "w_bar = np.sum(g, axis=0)",  # a call with keywords: not known to make a new array
    "w_bar = np.add(g, g, g)",  # writes into its third argument, and returns it
    "w_bar, v = g, g",
    "del w_bar",
    "fn = lambda: w_bar",
])
def test_a_buffer_that_may_be_shared_is_not_added_into(extra):
    assert "add_into" not in _rewrite(LOOP.format(extra=extra))


@pytest.mark.parametrize("extra", ["v = is_zero(w_bar)", "v = unbroadcast(g, w_bar)", "w_bar = w_bar * 2.0 + g",
                                   "w_bar = np.tanh(g)", "w_bar = 1.0"])
def test_reads_that_keep_nothing_and_stores_of_new_values_allow_it(extra):
    assert "add_into" in _rewrite(LOOP.format(extra=extra.replace("w_bar * 2.0", "g * 2.0")))


def test_numbers_and_top_level_sums_are_left_alone():
    assert "add_into" not in _rewrite(LOOP.format(extra="pass"), numbers={"w_bar"})
    assert "add_into" not in _rewrite("""\
        def f(w, g):
            w_bar = g * 2.0
            w_bar = w_bar + g
            return w_bar
    """)


def test_a_sum_onto_a_surely_zero_gradient_is_the_new_value():
    node = ast.parse(textwrap.dedent("""\
        def f(g, c, xs):
            for x in xs:
                h_bar = 0.0
                if c:
                    h_bar = h_bar + g * x
                v_bar = 0.0
                if c:
                    v_bar = 1.0
                v_bar = v_bar + g * x
                w_bar = 0.0
                w_bar = w_bar + g
            return h_bar, v_bar, w_bar
    """)).body[0]
    assign_onto_zeros(node.body, set(), _value_of)
    text = ast.unparse(node)
    assert "h_bar = g * x" in text  # surely 0.0 where it is added to
    assert "v_bar = v_bar + g * x" in text  # 0.0 or 1.0
    assert "w_bar = w_bar + g" in text  # `g` is someone else's array: `0.0 + g` copies it


def test_add_into_adds_in_place_only_when_nothing_changes():
    total = np.ones(3)
    assert add_into(total, np.ones(3)) is total and total.tolist() == [2.0, 2.0, 2.0]
    single = np.ones(3, dtype=np.float32)
    out = add_into(single, np.ones(3))  # float64 part: the sum is float64, as `+` gives
    assert out is not single and out.dtype == np.float64 and single.tolist() == [1.0, 1.0, 1.0]
    row = np.ones(3)
    out = add_into(row, np.ones((2, 3)))  # broadcasts to a bigger shape
    assert out is not row and out.shape == (2, 3)
    frozen = np.broadcast_to(np.ones(3), (3,))
    assert add_into(frozen, np.ones(3)) is not frozen
    assert add_into(0.0, 2.5) == 2.5
    part = np.ones(2)
    assert add_into(0.0, part) is not part


# ---- whole programs -------------------------------------------------------------------------
def _check(fn, *args, wrt=0, rtol=1e-6):
    got = assert_grad_matches_fd(fn, *args, wrt=wrt, rtol=rtol)
    check_grad(fn, *args, wrt=wrt, elementwise=False)
    return got


def linear_steps(w, b, xs):
    total = 0.0
    for t in range(xs.shape[0]):
        total = total + np.sum(np.sin(xs[t] @ w + b))
    return total


def test_parameter_gradients_accumulate_in_place():
    rng = np.random.default_rng(0)
    args = (rng.standard_normal((3, 2)), rng.standard_normal(2), rng.standard_normal((4, 5, 3)))
    text = _source(linear_steps, *args, wrt=(0, 1))
    assert "w_bar = add_into(w_bar, " in text and "b_bar = add_into(b_bar, " in text
    _check(linear_steps, *args, wrt=(0, 1))
    both = srcgrad.value_and_grad(linear_steps, wrt=(0, 1))
    value, grads = both(*args)
    assert "add_into(w_bar, " in srcgrad.source(both)  # `return value, (w_bar, b_bar)`
    assert value == pytest.approx(linear_steps(*args))
    for g, want in zip(grads, srcgrad.grad(linear_steps, wrt=(0, 1))(*args)):
        np.testing.assert_allclose(g, want, rtol=1e-12)


def shared_gradient(w, xs):
    u = w
    total = 0.0
    for t in range(xs.shape[0]):
        total = total + np.sum(np.sin(xs[t] * u) + xs[t] * w)
    return total


def test_a_gradient_that_flows_into_another_one():
    rng = np.random.default_rng(1)
    _check(shared_gradient, rng.standard_normal(3), rng.standard_normal((4, 3)))


def test_float32_parameters_keep_the_dtype_arithmetic_gives():
    rng = np.random.default_rng(2)
    args = (rng.standard_normal((3, 2)).astype(np.float32), rng.standard_normal(2).astype(np.float32),
            rng.standard_normal((4, 5, 3)))
    got = srcgrad.grad(linear_steps, wrt=(0, 1))(*args)
    want = [_fd_grad(linear_steps, args, p) for p in (0, 1)]
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-3, atol=1e-4)


def row_then_matrix(b, xs):
    total = 0.0
    acc = 0.0
    for t in range(xs.shape[0]):
        acc = acc + b * xs[t]  # a number, then shaped like xs[t]
        total = total + np.sum(acc * acc)
    return total


def test_accumulators_whose_shape_changes():
    rng = np.random.default_rng(3)
    _check(row_then_matrix, rng.standard_normal((1, 3)), rng.standard_normal((3, 2, 3)))


def conditional_contributions(w, xs):
    total = 0.0
    for t in range(xs.shape[0]):
        if t % 2 == 0:
            total = total + np.sum(xs[t] @ w)
        else:
            total = total + np.sum(np.cos(xs[t] @ w))
    return total


def test_contributions_in_branches_of_a_loop():
    rng = np.random.default_rng(4)
    _check(conditional_contributions, rng.standard_normal((3, 2)), rng.standard_normal((5, 4, 3)))


def nested_accumulation(w, xs):
    total = 0.0
    for i in range(2):
        for t in range(xs.shape[0]):
            total = total + np.sum(np.tanh(xs[t] @ w) * (i + 1.0))
    return total


def test_nested_loops_accumulate_in_place():
    rng = np.random.default_rng(5)
    args = (rng.standard_normal((3, 2)), rng.standard_normal((3, 4, 3)))
    assert "add_into(w_bar, " in _source(nested_accumulation, *args)
    _check(nested_accumulation, *args)


def test_calls_do_not_share_their_buffers():
    rng = np.random.default_rng(6)
    args = (rng.standard_normal((3, 2)), rng.standard_normal(2), rng.standard_normal((4, 5, 3)))
    derivative = srcgrad.grad(linear_steps, wrt=(0, 1))
    first = derivative(*args)
    kept = [np.copy(g) for g in first]
    derivative(*args)
    for g, k in zip(first, kept):
        np.testing.assert_array_equal(g, k)


def newton_sqrt(x):
    y = x
    while abs(y * y - x) > 1e-12:
        y = 0.5 * (y + x / y)
    return y


def test_gradients_of_python_numbers_add_as_numbers():
    assert "add_into" not in _source(newton_sqrt, 2.0)  # x_bar is a float: no call for nothing
    np.testing.assert_allclose(srcgrad.grad(newton_sqrt)(2.0), 0.5 / np.sqrt(2.0), rtol=1e-9)
