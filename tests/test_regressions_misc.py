"""Regressions, each against an independent truth (central finite differences, the
inner-product test or a closed form): the entry form of float code whose gradient holds a
conditional expression; `d.values()` and `d.items()`; negative constants written under
`**`; vjp outputs the pullback must not change; reads moved past
an item restore; second order through lists, tuples, slices and loops."""

import ast
import copy
import math

import numpy as np
import pytest
from generated import assert_grad_matches_fd
from hypothesis import given, settings
from hypothesis import strategies as st

import srcgrad
from srcgrad.syntax.unparse import function_text
from srcgrad.tools.testing import directional_fd


def _fd(f, args, position):
    return float(directional_fd(f, args, [position], [1.0]))


# ---- float code whose gradient holds `a if c else b` (math.hypot's rule) --------------------

def hyp(x, y):
    return math.hypot(x, y) + math.atan2(y, x)


def hypot_chain(x):
    a = math.hypot(x, 1.0)
    b = math.hypot(a, x)
    return b * a + math.sin(b)


def test_entry_form_with_conditional_gradient_two_parameters():
    args = (0.3, 0.7)
    got = srcgrad.grad(hyp, wrt=(0, 1))(*args)
    assert isinstance(got, tuple) and all(type(g) is float for g in got)
    for position, g in enumerate(got):
        assert g == pytest.approx(_fd(hyp, args, position), rel=1e-6)
    value, grads = srcgrad.value_and_grad(hyp, wrt=(0, 1))(*args)
    assert value == hyp(*args) and grads == got


def test_entry_form_with_conditional_gradients_in_a_chain():
    got = srcgrad.grad(hypot_chain)(0.7)
    assert type(got) is float
    assert got == pytest.approx(_fd(hypot_chain, (0.7,), 0), rel=1e-6)


# ---- dict views: d.values(), d.items() ---------------------------------------------------------

def sum_of_values(x):
    d = {"a": x, "b": x * x}
    return sum(d.values())


def list_of_values(x):
    d = {"a": x, "b": x * x}
    v = list(d.values())
    return v[0] * v[1]


def tuple_of_values(x):
    d = {"a": x, "b": x * x}
    v = tuple(d.values())
    return v[1] * 3.0


def loop_over_items(x):
    d = {"a": x, "b": x * x}
    s = 0.0
    for k, v in d.items():
        s = s + v * v
    return s


def list_of_items(x):
    d = {"a": x, "b": x * x}
    its = list(d.items())
    return its[1][1] * x


def max_of_values(x):
    d = {"a": x, "b": x * x}
    return max(d.values())


DICT_VIEW_PROGRAMS = [sum_of_values, list_of_values, tuple_of_values, loop_over_items, list_of_items, max_of_values]


@pytest.mark.parametrize("f", DICT_VIEW_PROGRAMS)
def test_dict_views_first_and_second_order_on_floats(f):
    x = 1.5
    df = srcgrad.grad(f)
    assert df(x) == pytest.approx(_fd(f, (x,), 0), rel=1e-6)
    assert srcgrad.grad(df)(x) == pytest.approx(_fd(df, (x,), 0), rel=1e-6)


def array_sum_of_values(x):
    return np.sum(sum_of_values(x) * x)


def array_loop_over_items(x):
    return np.sum(loop_over_items(x))


def array_tuple_of_values(x):
    return np.sum(tuple_of_values(x) * x)


@pytest.mark.parametrize("f", [sum_of_values, loop_over_items, tuple_of_values, list_of_items])
def test_dict_views_on_arrays_inner_product(f):
    srcgrad.check_grad(f, np.array([1.5, 0.5, -0.7]))


@pytest.mark.parametrize("f", [array_sum_of_values, array_loop_over_items, array_tuple_of_values])
def test_dict_views_hessian_vector_products(f):
    x, v = np.array([1.5, 0.5, -0.7]), np.array([0.3, -1.0, 0.4])
    want = directional_fd(srcgrad.grad(f), (x,), [0], [v])
    np.testing.assert_allclose(srcgrad.hvp(f)(x, v), want, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(srcgrad.hessian(f)(x) @ v, want, rtol=1e-6, atol=1e-7)


# ---- a negative constant base of `**` (constant folding makes `Constant(-2.0)`) -----------

def negative_base(x):
    return x * (-2.0) ** 2


def negated_base(x):
    return (-x) ** 2


def odd_power_of_negative(x):
    return x * (-2.0) ** 3


def minus_of_power(x):
    return x * -(2.0 ** 2)


def negative_base_power_of_parameter(x, y):
    return x ** (-2.0) * (-3.0) ** y


@pytest.mark.parametrize("f, factor", [(negative_base, 4.0), (odd_power_of_negative, -8.0), (minus_of_power, -4.0)])
@pytest.mark.parametrize("x", [1.5, np.array([1.5, -0.5])])
def test_vjp_of_constant_powers(f, factor, x):
    out, pullback = srcgrad.vjp(f, x)
    np.testing.assert_array_equal(out, factor * x)
    v = np.array([0.3, -2.0]) if np.ndim(x) else 0.3
    np.testing.assert_allclose(pullback(v), factor * v)  # closed form: f(x) = factor * x


@pytest.mark.parametrize("x", [1.5, np.array([1.5, -0.5])])
def test_vjp_of_negated_base(x):
    out, pullback = srcgrad.vjp(negated_base, x)
    np.testing.assert_array_equal(out, x * x)
    np.testing.assert_allclose(pullback(np.ones_like(x) if np.ndim(x) else 1.0), 2.0 * x)


def test_negative_base_raised_to_a_parameter():
    args = (1.5, 2.0)
    out, pullback = srcgrad.vjp(negative_base_power_of_parameter, *args, wrt=0)
    assert out == pytest.approx(9.0 / 1.5 ** 2)
    assert pullback(1.0) == pytest.approx(_fd(negative_base_power_of_parameter, args, 0), rel=1e-6)
    assert srcgrad.grad(negative_base_power_of_parameter)(*args) == pytest.approx(-18.0 / 1.5 ** 3)


def _numbers_function(expr):
    body = [ast.Return(expr)]
    node = ast.FunctionDef("f", ast.arguments([], [ast.arg("x")], None, [], [], None, []), body, [], None, None)
    node.type_params = []
    return ast.fix_missing_locations(node)


NUMBER_LEAVES = st.one_of(
    st.sampled_from([-2.0, -0.5, -0.0, 1.5, -3, 2, -1]).map(ast.Constant),
    st.just(ast.Name("x", ast.Load())),
)


def _number_trees():
    def extend(inner):
        return st.one_of(
            st.builds(lambda a, op, b: ast.BinOp(a, op(), b), inner, st.sampled_from([ast.Add, ast.Mult, ast.Pow, ast.Sub]), inner),
            st.builds(lambda a: ast.UnaryOp(ast.USub(), a), inner),
            st.builds(lambda a: ast.Attribute(a, "real", ast.Load()), inner),
        )
    return st.recursive(NUMBER_LEAVES, extend, max_leaves=5)


def _evaluate(code_or_text, x):
    namespace = {}
    exec(code_or_text, namespace)
    try:
        return namespace["f"](x)
    except (ZeroDivisionError, OverflowError) as error:
        return type(error)


@settings(max_examples=300, deadline=None)
@given(_number_trees())
def test_written_text_computes_what_the_tree_computes(expr):
    node = _numbers_function(expr)
    tree_value = _evaluate(compile(ast.Module([node], []), "<tree>", "exec"), 1.25)
    text_value = _evaluate(function_text(node), 1.25)
    assert repr(text_value) == repr(tree_value)


# ---- what vjp returns is not changed by the pullback --------------------------------------

def filled_array(x):
    out = np.zeros(3)
    out[0] = x[0] * 2.0
    out[1] = x[1] * x[2]
    return out


def two_item_list(x):
    return [x * 2.0, x * x]


def appended_list(x):
    ys = []
    for i in range(3):
        ys.append(x * i)
    return ys


def filled_list(x):
    out = [0.0, 0.0]
    out[0] = x * 2.0
    out[1] = x * x
    return out


def filled_array_in_a_list(x):
    out = np.zeros(2)
    out[0] = x * 3.0
    return [out, x]


def overwritten_items(x):
    out = x * 1.0
    out[0] = out[0] * out[1]
    out[1] = out[0] * 2.0
    return out


def _tree_map(fn, value):
    if isinstance(value, list):
        return [_tree_map(fn, item) for item in value]
    return fn(value)


def _inner(a, b):
    if isinstance(a, list):
        return sum(_inner(p, q) for p, q in zip(a, b))
    return float(np.sum(np.asarray(a) * np.asarray(b)))


@pytest.mark.parametrize("f, x", [
    (filled_array, np.array([1.0, 2.0, 3.0])),
    (two_item_list, 1.5), (two_item_list, np.array([1.0, 2.0, 3.0])),
    (appended_list, 1.5), (appended_list, np.array([1.0, 2.0])),
    (filled_list, 1.5), (filled_list, np.array([1.0, 2.0])),
    (filled_array_in_a_list, 1.5),
    (overwritten_items, np.array([1.0, 2.0, 3.0])),
])
def test_pullback_leaves_the_output_alone(f, x):
    out, pullback = srcgrad.vjp(f, x)
    want = f(x)
    rng = np.random.default_rng(0)
    v = _tree_map(lambda leaf: rng.standard_normal(np.shape(leaf)) if np.ndim(leaf) else float(rng.standard_normal()), out)
    kept = copy.deepcopy(v)
    first = pullback(v)
    assert repr(out) == repr(want)
    second = pullback(v)
    assert repr(out) == repr(want) and repr(v) == repr(kept)
    np.testing.assert_array_equal(first, second)
    u = rng.standard_normal(np.shape(x)) if np.ndim(x) else 1.0
    # the inner-product test: <v, J u> by central differences against <J^T v, u>
    assert _inner(first, u) == pytest.approx(_inner(v, directional_fd(f, (x,), [0], [u])), rel=1e-6, abs=1e-8)


def sum_of_filled_array(x):
    z = filled_array(x)
    w = z * x
    return np.sum(w * z)


def test_callee_whose_pullback_restores_items():
    srcgrad.check_grad(sum_of_filled_array, np.array([1.0, 2.0, 3.0]))


# ---- a read moved past an item restore (merging first accumulations) ---------------------

def copy_then_add_to_item(y):
    a = y.copy()
    a[2] += 1.0
    return np.dot(y, a)


def overwrite_item_of_product(y):
    a = y * 1.0
    a[0] = 5.0
    return np.sum(a * y)


def add_then_scale_items(y):
    a = y.copy()
    a[2] += 1.0
    b = np.dot(y, a)
    a[0] *= 2.0
    return b * np.dot(y, a)


def slice_overwritten_after_use(y):
    a = y * 2.0
    b = a * y
    a[1:] = y[:2] * 3.0
    return np.sum(a * b) + np.sum(a * y)


def test_copy_then_add_to_item_closed_form():
    y = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(srcgrad.grad(copy_then_add_to_item)(y), 2.0 * y + np.array([0.0, 0.0, 1.0]))


@pytest.mark.parametrize("f", [copy_then_add_to_item, overwrite_item_of_product, add_then_scale_items,
                               slice_overwritten_after_use])
def test_item_restores_first_and_second_order(f):
    y, v = np.array([1.0, 2.0, 3.0]), np.array([0.3, -1.0, 0.7])
    assert_grad_matches_fd(f, y)
    want = directional_fd(srcgrad.grad(f), (y,), [0], [v])
    np.testing.assert_allclose(srcgrad.hvp(f)(y, v), want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(srcgrad.hessian(f)(y) @ v, want, rtol=1e-5, atol=1e-6)


# ---- second order ------------------------------------------------------------------------

def comprehension(x):
    ys = [x * i for i in range(3)]
    return sum(ys) * x


def filtered_comprehension(x):
    ys = [x * i for i in range(4) if i % 2 == 0]
    return sum(ys) * x


def comprehension_in_a_loop(x):
    s = 0.0
    for k in range(2):
        ys = [x * i + k for i in range(3)]
        s = s + sum(ys) * x
    return s


def nested_comprehension(x):
    ys = [[x * i * j for j in range(2)] for i in range(3)]
    return sum([sum(r) for r in ys]) * x


@pytest.mark.parametrize("f", [comprehension, filtered_comprehension, comprehension_in_a_loop, nested_comprehension])
def test_second_order_through_comprehensions(f):
    df = srcgrad.grad(f)
    want = _fd(df, (1.5,), 0)
    assert srcgrad.grad(df)(1.5) == pytest.approx(want, rel=1e-6)
    assert srcgrad.hvp(f)(1.5, 1.0) == pytest.approx(want, rel=1e-6)
    assert srcgrad.hessian(f)(1.5) == pytest.approx(want, rel=1e-6)


def array_and_float_tuple(x):
    t = (x, 2.0)
    a, b = t
    return np.sum(a * a) * b


def slice_assigned(x):
    y = x * 1.0
    y[1:] = x[:2] * x[:2]
    return np.sum(y * y)


def appended_in_a_loop(x):
    ys = []
    for i in range(3):
        ys.append(x * (i + 1.0))
    return np.sum(ys[0] * ys[2]) + np.sum(ys[1])


def pairs_in_a_list(x):
    t = [(x, 2.0), (x * x, 3.0)]
    s = 0.0
    for a, b in t:
        s = s + np.sum(a) * b
    return s * np.sum(x)


def _pair(z):
    return z * 2.0, np.exp(z)


def tuple_from_a_helper(x):
    a, b = _pair(x)
    return np.sum(a * b)


@pytest.mark.parametrize("f", [array_and_float_tuple, slice_assigned, appended_in_a_loop, pairs_in_a_list,
                               tuple_from_a_helper])
def test_second_order_on_arrays(f):
    x, v = np.array([0.5, -1.2, 0.8]), np.array([0.3, -1.0, 0.7])
    df = srcgrad.grad(f)
    want = directional_fd(df, (x,), [0], [v])
    np.testing.assert_allclose(srcgrad.hvp(f)(x, v), want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(srcgrad.hessian(f)(x) @ v, want, rtol=1e-5, atol=1e-6)
    _, pullback = srcgrad.vjp(df, x)  # reverse over reverse
    np.testing.assert_allclose(pullback(v), want, rtol=1e-5, atol=1e-6)


def test_closed_form_hessians():
    x = np.array([1.5, -0.5, 0.7])
    np.testing.assert_allclose(srcgrad.hessian(array_and_float_tuple)(x), 4.0 * np.eye(3))
    # slice_assigned is x0^2 + x0^4 + x1^4
    np.testing.assert_allclose(srcgrad.hessian(slice_assigned)(x), np.diag([2.0 + 12 * x[0] ** 2, 12 * x[1] ** 2, 0.0]))


# ---- third order through comprehensions (rules of the cotangent helpers) -----------------

def comprehension_over_a_list(x):
    zs = [x, x * x]
    ys = [z * x for z in zs]
    return sum(ys)


@pytest.mark.parametrize("f", [comprehension, filtered_comprehension, comprehension_in_a_loop, comprehension_over_a_list])
def test_third_order_through_comprehensions(f):
    second = srcgrad.grad(srcgrad.grad(f))
    want = _fd(second, (1.5,), 0)
    assert srcgrad.grad(second)(1.5) == pytest.approx(want, rel=1e-5)
    assert srcgrad.jvp(second, (1.5,), (1.0,))[1] == pytest.approx(want, rel=1e-5)
