"""Array passes (shapes.py, arrays.py, fusion.py): the generated text, and gradients against
central finite differences, including the cases where a rewrite must not apply."""

import ast
import textwrap

import numpy as np
import pytest
from generated import assert_grad_matches_fd as _check
from generated import source_after_call as _source

import srcgrad
from srcgrad.cleanup.fusion import fuse_single_use
from srcgrad.runtime.core import add_at, getitem_vjp


def _line(fn, offset):
    return fn.__code__.co_firstlineno + offset


def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def test_rosenbrock_reads_like_the_hand_written_gradient():
    n = _line(rosenbrock, 1)
    assert _source(rosenbrock, np.ones(5)) == textwrap.dedent(f"""\
        def grad_rosenbrock(x):
            _t2 = x[:-1]
            # adjoint of line {n}: return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)
            _t7_bar = -2.0 * (1.0 - x[:-1])
            _t4_bar = 200.0 * (x[1:] - _t2 ** 2)
            _t2_bar = _t4_bar * -2 * _t2
            x_bar = getitem_vjp(_t7_bar, x, slice(None, -1, None))
            x_bar = add_at(x_bar, slice(None, -1, None), _t2_bar)
            x_bar = add_at(x_bar, slice(1, None, None), _t4_bar)
            return (x_bar,)""")


def test_rosenbrock_gradient_and_value():
    x = np.random.default_rng(0).standard_normal(7)
    _check(rosenbrock, x)
    value, _ = srcgrad.value_and_grad(rosenbrock)(x)
    assert value == rosenbrock(x)


def total(x):
    return np.sum(x)


def test_a_gradient_returned_as_it_is_is_spread_to_the_argument_shape():
    n = _line(total, 1)
    assert _source(total, np.ones((2, 3))) == textwrap.dedent(f"""\
        def grad_total(x):
            # adjoint of line {n}: return np.sum(x)
            x_bar = expand_reduced(1.0, x, None, False)
            return (x_bar,)""")
    np.testing.assert_array_equal(srcgrad.grad(total)(np.ones((2, 3))), np.ones((2, 3)))


def outer_product_sum(a, b):
    return np.sum(a * b)


def matmul_sum(x, w):
    return np.sum(np.tanh(x @ w) * 3.0)


def logsumexp_twice(z):
    m = np.sum(np.exp(z), axis=1, keepdims=True)
    return np.sum((z - np.log(m)) * 2.0)


def read_in_a_loop(x, n):
    a = np.exp(x)
    s = 0.0
    for i in range(n):
        s = s + a[i]
    return s + np.sum(a * 2.0)


def slices_of_two_arrays(x, y):
    return np.sum((x[1:] + y[:-1]) ** 2)


def repeated_index(x):
    i = np.array([0, 2, 2])
    return np.sum(x[i] ** 2) + np.sum(x[1:] * 3.0)


@pytest.mark.parametrize("fn, args, wrt", [
    (outer_product_sum, (np.arange(1.0, 4.0).reshape(3, 1), np.arange(1.0, 5.0).reshape(1, 4)), (0, 1)),
    (matmul_sum, (np.linspace(-1, 1, 6).reshape(2, 3), np.linspace(0.5, -0.5, 12).reshape(3, 4)), (0, 1)),
    (logsumexp_twice, (np.linspace(-1, 1, 6).reshape(2, 3),), 0),
    (read_in_a_loop, (np.linspace(-1, 1, 4), 3), 0),
    (slices_of_two_arrays, (np.linspace(-1, 1, 5), np.array([0.3, -0.7])), (0, 1)),
    (repeated_index, (np.linspace(-1, 1, 4),), 0),
    (rosenbrock, (np.array(0.5)[None],), 0),
])
def test_gradients_where_a_rewrite_must_stop_match_finite_differences(fn, args, wrt):
    """A lazy number meeting broadcasting, a matmul, a reduction along an axis, a loop;
    slices of differently shaped arrays; scatters into repeated positions."""
    _check(fn, *args, wrt=wrt)


def test_broadcast_operands_keep_their_bookkeeping():
    text = _source(outer_product_sum, np.ones((3, 1)), np.ones((1, 4)), wrt=(0, 1))
    assert text.count("unbroadcast(") == 2 and "expand_reduced(1.0, _t1, None, False)" in text
    text = _source(slices_of_two_arrays, np.ones(5), np.ones(2), wrt=(0, 1))
    assert "unbroadcast(" in text  # x[1:] and y[:-1] are not known to agree


def test_a_value_read_only_for_its_shape_is_not_computed():
    text = _source(logsumexp_twice, np.ones((2, 3)))
    assert "= np.log" not in text  # its shape is m's
    assert "expand_reduced(1.0, z, None, False)" in text and "unbroadcast(-_t3_bar, m)" in text


def keepdims_total(x):
    return np.sum(x, keepdims=True)


def column_totals(x):
    return np.sum(x, axis=0)


@pytest.mark.parametrize("fn", [keepdims_total, column_totals])
def test_reductions_that_keep_axes_still_check_the_output_is_a_number(fn):
    with pytest.raises(srcgrad.UsageError, match="returns a scalar"):
        srcgrad.grad(fn)(np.ones((2, 3)))


def test_lists_and_float32_arrays_sliced_twice():
    def pair(xs):
        return xs[0] * xs[1] + xs[0]

    assert srcgrad.grad(pair)([2.0, 5.0]) == [6.0, 2.0]
    x = np.linspace(-1, 1, 6).astype(np.float32)
    g = srcgrad.grad(rosenbrock)(x)
    assert g.dtype == np.float32
    np.testing.assert_allclose(g, srcgrad.grad(rosenbrock)(x.astype(np.float64)), rtol=1e-5)


def test_add_at_adds_in_place_only_where_that_gives_the_same_result():
    out = getitem_vjp(np.ones(2), np.zeros(4), slice(1, 3))
    same = add_at(out, np.array([0, 3, 3]), 1.0)
    assert same is out
    np.testing.assert_array_equal(out, [1.0, 1.0, 1.0, 2.0])
    narrow = np.zeros(3, np.float32)
    summed = add_at(narrow, slice(0, 2), np.ones(2))  # float64 parts: a new sum, as getitem_vjp's
    assert summed.dtype == np.float32 and not narrow.any()
    np.testing.assert_array_equal(summed, [1.0, 1.0, 0.0])
    assert add_at(getitem_vjp(1.0, [0.0, 0.0], 0), 1, 2.0) == [1.0, 2.0]
    assert add_at(out, 0, 0.0) is out


def _fused(source, barrier="effect"):
    node = ast.parse(textwrap.dedent(source)).body[0]

    def movable(value):
        return not any(isinstance(c, ast.Call) and ast.unparse(c.func) == barrier for c in ast.walk(value))

    fuse_single_use(node, movable, lambda name: False, lambda call: False, {"_t1_bar", "x_bar"})
    return ast.unparse(node)


def test_fusion_moves_a_single_use_value_only_past_pure_assignments():
    assert _fused("""
        def f(x):
            _t1 = x * 2.0
            _t1_bar = _t1 * 3.0
            return _t1_bar
    """) == "def f(x):\n    _t1_bar = x * 2.0 * 3.0\n    return _t1_bar"
    kept = """
        def f(x):
            _t1 = x * 2.0
            y = effect(x)
            _t1_bar = _t1 * 3.0
            return _t1_bar
    """
    assert "_t1 = x * 2.0" in _fused(kept)  # `effect` might change what x holds
    twice = """
        def f(x):
            _t1 = x * 2.0
            _t1_bar = _t1 * _t1
            return _t1_bar
    """
    assert "_t1 = x * 2.0" in _fused(twice)
    forward = """
        def f(x):
            _t1 = x * 2.0
            _t2 = _t1 * 3.0
            return _t2
    """
    assert "_t1 = x * 2.0" in _fused(forward)  # the forward sweep keeps one operation per line


def mean_of_row_sums(x):
    return np.mean(np.sum(x * x, axis=1))


def row_means(x):
    return np.sum(np.mean(x * x, axis=1) ** 2)


def test_a_mean_over_everything_divides_by_the_size_without_computing_the_mean():
    n = _line(mean_of_row_sums, 1)
    assert _source(mean_of_row_sums, np.ones((2, 3))) == textwrap.dedent(f"""\
        def grad_mean_of_row_sums(x):
            _t1 = x * x
            _t2 = np.sum(_t1, axis=1)
            # adjoint of line {n}: return np.mean(np.sum(x * x, axis=1))
            _t2_bar = 1.0 / size(_t2)
            x_bar = _t2_bar * x + _t2_bar * x
            return (x_bar,)""")
    x = np.random.default_rng(3).standard_normal((4, 3))
    _check(mean_of_row_sums, x)
    value, _ = srcgrad.value_and_grad(mean_of_row_sums)(x)
    assert value == mean_of_row_sums(x)


def test_a_mean_along_an_axis_keeps_its_count():
    text = _source(row_means, np.ones((2, 3)))
    assert "reduced_count(_t1, _t2)" in text and "size(" not in text
    _check(row_means, np.random.default_rng(4).standard_normal((4, 3)))


def test_a_mean_over_everything_differentiated_twice():
    def cube_mean(x):
        return np.mean(x ** 3)

    x = np.arange(1.0, 5.0)
    np.testing.assert_allclose(srcgrad.hessian(cube_mean)(x), np.diag(6.0 * x / x.size), rtol=1e-12)
