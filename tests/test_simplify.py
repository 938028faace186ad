"""Float code loses unit factors, equal terms and recomputed expressions (simplify.py).

Each test checks the text and the gradient, the latter against finite differences
(`srcgrad.check_grad`) or a closed form.
"""

import math
import textwrap

import numpy as np
import pytest
from generated import source_after_call as _source

import srcgrad


def product_and_its_sine(x, y):
    return math.sin(x * y) + x * y


def test_a_recomputed_product_reuses_the_first():
    text = _source(product_and_its_sine, 0.5, 2.0, wrt=(0, 1))
    code = [line for line in text.splitlines() if not line.strip().startswith("#")]
    assert sum(line.count("x * y") for line in code) == 1
    srcgrad.check_grad(product_and_its_sine, 0.5, 2.0, wrt=(0, 1))


def unit_seed(x, y):
    return math.exp(x) * math.cos(y)


def test_the_unit_seed_leaves_no_multiplication_by_one():
    n = unit_seed.__code__.co_firstlineno + 1
    assert _source(unit_seed, 0.3, 0.7, wrt=(0, 1)) == textwrap.dedent(f"""\
        def grad_unit_seed(x, y):
            if type(x) is not float or type(y) is not float:
                return _general(x, y)
            _t1 = math.exp(x)
            _t2 = math.cos(y)
            # adjoint of line {n}: return math.exp(x) * math.cos(y)
            y_bar = -_t1 * math.sin(y)
            x_bar = _t2 * _t1
            return (x_bar, y_bar)""")
    srcgrad.check_grad(unit_seed, 0.3, 0.7, wrt=(0, 1))


def square_plus_sine(x):
    return x * x + math.sin(x)


def test_equal_terms_become_one_doubled_term():
    text = _source(square_plus_sine, 0.4)
    assert "2.0 * x" in text and "x + x" not in text
    assert srcgrad.grad(square_plus_sine)(0.4) == pytest.approx(2 * 0.4 + math.cos(0.4))


def negated_quotient(x, y):
    return -(x / y) + math.log(y)


def test_negative_one_folds_into_a_negation():
    text = _source(negated_quotient, 1.5, 2.0, wrt=(0, 1))
    assert "1.0 *" not in text and "-1.0 *" not in text
    srcgrad.check_grad(negated_quotient, 1.5, 2.0, wrt=(0, 1))


def test_array_code_keeps_its_unit_factors_and_terms():
    def f(x):
        return np.sum(x * x)

    x = np.array([0.5, -1.0])
    text = _source(f, x)
    assert "2.0 *" not in text  # arrays are not rewritten: aliasing and dtypes matter there
    np.testing.assert_allclose(srcgrad.grad(f)(x), 2 * x)


def int_and_float(x, n):
    return x**n + n * x


def test_an_int_parameter_stays_an_int_and_the_gradient_a_float():
    text = _source(int_and_float, 1.5, 3)
    assert "type(n) is not int" in text
    got = srcgrad.grad(int_and_float)(1.5, 3)
    assert type(got) is float and got == pytest.approx(3 * 1.5**2 + 3)


def test_python_floats_are_proven_conservatively():
    import ast

    from srcgrad.analysis.scalars import python_floats

    body = ast.parse(textwrap.dedent("""\
        a = 2.0 * x
        b = n * 2
        c = np.sin(x)
        d = math.sin(a) + a ** 2
        e = a ** 0.5
        for i in range(3):
            a = a + 1
        f = d if b else 1
    """)).body
    known = {"math.sin": math.sin, "np.sin": np.sin}
    floats = python_floats(body, {"x"}, lambda node: known.get(ast.unparse(node)))
    assert floats == {"x", "a", "d"}  # b: int times int; c: NumPy scalar; e: may be complex; f: may be int


def the_same_value_twice(x, y):
    a = x * y
    b = x * y
    return a * b + math.sin(b)


def test_a_value_computed_twice_is_one_name():
    text = _source(the_same_value_twice, 0.5, 2.0, wrt=(0, 1))
    code = [line.strip() for line in text.splitlines() if not line.strip().startswith("#")]
    assert sum(line.count("x * y") for line in code) == 1
    assert not any(line.startswith("b = ") for line in code)  # `b = a` went: later lines read `a`
    srcgrad.check_grad(the_same_value_twice, 0.5, 2.0, wrt=(0, 1))


def the_same_value_read_in_a_loop(x, y):
    a = x * y
    b = x * y
    s = 0.0
    for i in range(3):
        s = s + b * i
    return s + a * b


def test_a_copy_read_by_a_loop_stays():
    text = _source(the_same_value_read_in_a_loop, 0.5, 2.0, wrt=(0, 1))
    assert "b = a" in text  # the loop reads `b`: it is not rewritten, so `b` must still be bound
    srcgrad.check_grad(the_same_value_read_in_a_loop, 0.5, 2.0, wrt=(0, 1))
    assert srcgrad.grad(the_same_value_read_in_a_loop)(0.5, 2.0) == pytest.approx(3 * 2.0 + 2 * 0.5 * 2.0 ** 2)
