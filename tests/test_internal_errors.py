"""Failures inside srcgrad are `InternalError`s naming the user's function and line; the
user's own errors reach them unchanged."""

import ast
import math

import numpy as np
import pytest
from generated import fd_grad

import srcgrad
from srcgrad import pipeline
from srcgrad.cleanup import peephole as optimize
from srcgrad.driver import derivatives as transform


def smooth(x):
    y = x * x
    return math.sin(y) + y


def needs_undefined_global(x):
    if x > 0.0:
        return x * undefined_helper(x)  # noqa: F821  (the user's own bug)
    return x


def domain(x):
    return math.log(x) * x


def test_a_failing_pass_is_an_internal_error_naming_function_pass_and_advice(monkeypatch):
    def broken(*args, **kwargs):
        raise TypeError("planted")

    monkeypatch.setattr(optimize, "_drop_dead", broken)
    transform.clear_cache()
    with pytest.raises(srcgrad.InternalError) as caught:
        srcgrad.grad(smooth)(0.5)
    message = str(caught.value)
    assert "`smooth`" in message and "test_internal_errors.py" in message
    assert "'clean-up'" in message and "planted" in message and "optimize=False" in message
    assert isinstance(caught.value.__cause__, TypeError)
    transform.clear_cache()


def test_a_failing_rule_application_names_the_users_line(monkeypatch):
    def broken(self, *args, **kwargs):
        raise KeyError("planted")

    monkeypatch.setattr(srcgrad.transforms.reverse.ReverseBuilder, "apply_rule", broken)
    transform.clear_cache()
    with pytest.raises(srcgrad.InternalError, match=r"at line \d+: return math.sin\(y\) \+ y"):
        srcgrad.grad(smooth)(0.5)
    transform.clear_cache()


def test_generated_code_reading_a_name_srcgrad_never_made_is_an_internal_error(monkeypatch):
    real = pipeline.build_function

    def with_a_stray_read(node, *args, **kwargs):
        node.body.insert(0, ast.Expr(ast.Name("_tape", ast.Load())))
        return real(node, *args, **kwargs)

    monkeypatch.setattr(pipeline, "build_function", with_a_stray_read)
    transform.clear_cache()
    with pytest.raises(srcgrad.InternalError, match="in generated code: `_tape`") as caught:
        srcgrad.grad(smooth)(0.5)
    assert "`smooth`" in str(caught.value) and isinstance(caught.value.__cause__, NameError)
    transform.clear_cache()


def test_the_users_own_errors_pass_unchanged():
    with pytest.raises(NameError, match="undefined_helper"):
        srcgrad.grad(needs_undefined_global)(0.5)
    assert srcgrad.grad(needs_undefined_global)(-0.5) == 1.0
    with pytest.raises(ValueError, match="math domain"):
        srcgrad.grad(domain)(-1.0)
    with pytest.raises(ValueError, match="math domain"):
        srcgrad.jvp(domain, (-1.0,), (1.0,))
    assert srcgrad.grad(domain)(2.0) == pytest.approx(math.log(2.0) + 1.0)


def test_the_handler_keeps_line_numbers_and_the_text_shows_none():
    derivative = srcgrad.grad(smooth)
    assert derivative(0.5) == pytest.approx(fd_grad(smooth, (0.5,), 0))
    text = srcgrad.source(derivative)
    assert "try" not in text and "__srcgrad" not in text


def max_then_sum(x, y, n):
    x = max(y, x)
    return x + y


@pytest.mark.parametrize("point", [(0.0, 1.0, 2), (1.5, 1.0, 2)])
def test_common_subexpressions_never_stand_in_for_a_value_they_cannot_compare(point):
    # a value with a conditional expression has no key; every such value had the key None,
    # so the returned tuple of gradients was taken for the first one (an entry-form crash)
    got = srcgrad.grad(max_then_sum, wrt=(0, 1))(*point)
    want = (fd_grad(max_then_sum, point, 0), fd_grad(max_then_sum, point, 1))
    np.testing.assert_allclose(got, want, rtol=1e-6)
