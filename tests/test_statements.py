"""Everyday statements: assert/raise, `:=`, match, starred unpacking, del, harmless `with`,
logging and f-strings. Each derivative is checked against finite differences, in reverse,
forward and second order, with and without the clean-ups; refusals are located."""

import contextlib
import logging
import warnings

import numpy as np
import pytest

import srcgrad
from srcgrad.tools.testing import directional_fd

logger = logging.getLogger("srcgrad.tests.statements")


def check_everything(f, *args, second=True):
    """Reverse and forward against finite differences (both pipelines), and the Hessian of
    the first argument against finite differences of the gradient."""
    for optimize in (True, False):
        srcgrad.check_grad(f, *args, optimize=optimize)
        srcgrad.check_jvp(f, *args, optimize=optimize)
    if second:
        x = np.asarray(args[0], float)
        hessian = np.asarray(srcgrad.hessian(f)(*args))
        for i in np.ndindex(x.shape):
            unit = np.zeros(x.shape)
            unit[i] = 1.0
            column = directional_fd(srcgrad.grad(f), args, [0], [unit if x.shape else 1.0])
            np.testing.assert_allclose(hessian.reshape(x.shape + x.shape)[(Ellipsis, *i)] if x.shape else hessian,
                                       column, rtol=1e-5, atol=1e-6)


# ---- assert and raise ----------------------------------------------------------------------

def checked_log(x):
    assert np.all(x > 0), "x must be positive"
    if np.any(x > 100):
        raise ValueError(f"too big: {x}")
    return np.sum(np.log(x) * x)


def checked_float(x):
    assert x > 0
    if x > 100:
        raise ValueError("too big") from None
    return x * np.sin(x)


@pytest.mark.parametrize("x", [1.5, np.array([0.5, 2.0, 3.0])])
def test_assert_and_raise_pass_through(x):
    check_everything(checked_log, x)


def test_assert_and_raise_run_as_in_python():
    check_everything(checked_float, 1.3)
    for make in (lambda: srcgrad.grad(checked_float), lambda: srcgrad.grad(checked_float, optimize=False),
                 lambda: (lambda x: srcgrad.jvp(checked_float, (x,), (1.0,)))):
        with pytest.raises(AssertionError):
            make()(-1.0)
        with pytest.raises(ValueError, match="too big") as info:
            make()(200.0)
        assert info.value.__suppress_context__
    with pytest.raises(AssertionError, match="x must be positive"):
        srcgrad.grad(checked_log)(np.array([1.0, -1.0]))
    with pytest.raises(AssertionError):
        srcgrad.hessian(checked_float)(-1.0)


def bare_raise(x):
    if x < 0:
        raise
    return x


def test_bare_raise_is_refused_with_advice():
    with pytest.raises(srcgrad.NotDifferentiableError, match=r"test_statements.py:\d+:9: .*raise ValueError"):
        srcgrad.grad(bare_raise)(1.0)


# ---- walrus --------------------------------------------------------------------------------

def walrus_test(x):
    if (y := x * x) > 1.0:
        return y * x
    return y + np.sin(x)


def walrus_value(x):
    z = np.tanh(y := 2.0 * x) * (w := y + 1.0)
    return z + w * y


def walrus_while(x):
    n = 0
    while (n := n + 1) < 4:
        x = np.sin(x) + x
    return x


def walrus_comprehension(xs):
    kept = [y for x in xs if (y := x * x) > 0.5]
    return sum(kept) + y


def walrus_read_before(x):
    y = x
    if y > 0 and (y := x * 2) > 1:
        return y
    return x


@pytest.mark.parametrize("x", [2.0, 0.5])
def test_walrus_in_a_test(x):
    check_everything(walrus_test, x)


def test_walrus_in_values_loops_and_comprehensions():
    check_everything(walrus_value, 0.3)
    check_everything(walrus_while, 0.7)
    check_everything(walrus_comprehension, [0.3, 1.2, 2.0], second=False)


def test_walrus_where_it_would_move_is_refused():
    with pytest.raises(srcgrad.NotDifferentiableError, match=r":\d+:19: a `:=` inside `and`/`or`"):
        srcgrad.grad(walrus_read_before)(1.0)


# ---- match ---------------------------------------------------------------------------------

def matched(x, k):
    match k:
        case 0:
            return x * x
        case 1 | 2:
            return np.sin(x)
        case None:
            return x
        case n if n > 5:
            return x * n
        case _:
            return x * x * x


def match_sequence(x, k):
    match k:
        case [a, b]:
            return x * a * b
    return x


@pytest.mark.parametrize("k", [0, 1, 2, None, 7, 4])
def test_match_on_values(k):
    check_everything(matched, 1.3, k)
    check_everything(matched, np.array([0.5, 1.5]), k, second=False)


def test_match_patterns_that_are_not_values_are_refused():
    with pytest.raises(srcgrad.NotDifferentiableError, match=r":\d+:14: a sequence pattern .*`if`/`elif`"):
        srcgrad.grad(match_sequence)(1.0, [1, 2])


# ---- starred unpacking -----------------------------------------------------------------------

def star_first(xs):
    first, *rest = xs
    return first * sum(rest)


def star_middle(xs):
    a, *middle, b = xs
    return a * b + np.sum(np.array(middle) ** 2)


def star_loop(rows):
    total = 0.0
    for head, *tail in rows:
        total = total + head * tail[0]
    return total


@pytest.mark.parametrize("xs", [[1.0, 2.0, 3.0], np.array([0.5, 1.5, 2.5, 3.5])])
def test_starred_unpacking(xs):
    check_everything(star_first, xs, second=not isinstance(xs, list))
    check_everything(star_middle, xs, second=not isinstance(xs, list))


def test_starred_for_target_and_too_few_values():
    check_everything(star_loop, np.array([[1.0, 2.0], [3.0, 4.0]]))
    with pytest.raises(ValueError, match="not enough values to unpack"):
        srcgrad.grad(star_middle)(np.array([1.0]))


# ---- del -------------------------------------------------------------------------------------

def deletes(x):
    y = x * 2.0
    z = np.sin(y) * y
    del y
    for i in range(2):
        w = z * x
        z = w + 1.0
        del w
    return z


def deletes_then_reads(x):
    y = x * 2.0
    del y
    y = 3.0
    return x * y


def deletes_item(x):
    items = [x, x * x]
    del items[0]
    return items[0]


def test_del_name():
    check_everything(deletes, 0.4)


def test_del_that_python_would_follow_differently_is_refused():
    with pytest.raises(srcgrad.NotDifferentiableError, match=r":\d+:9: `y` is read again after this `del`"):
        srcgrad.grad(deletes_then_reads)(1.0)
    with pytest.raises(srcgrad.NotDifferentiableError, match=r":\d+:9: `del` of an item .*lst.pop\(i\)"):
        srcgrad.grad(deletes_item)(1.0)


# ---- with ------------------------------------------------------------------------------------

def quiet(x):
    with np.errstate(divide="ignore", invalid="ignore"):
        y = np.log(x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        z = np.sum(y * x)
    return z


def suppresses(x):
    with contextlib.suppress(ValueError):
        x = np.log(x)
    return x


def raising_errstate(x):
    with np.errstate(all="raise"):
        return np.log(x)


@pytest.mark.parametrize("x", [1.5, np.array([0.5, 2.0])])
def test_harmless_with_is_its_body(x):
    check_everything(quiet, x)


def test_with_that_changes_what_runs_is_refused():
    with pytest.raises(srcgrad.NotDifferentiableError, match=r":\d+:26: `np.errstate` is supported with"):
        srcgrad.grad(raising_errstate)(1.0)
    with pytest.raises(srcgrad.NotDifferentiableError, match=r":\d+:10: `contextlib.suppress` skips .* with `if`"):
        srcgrad.grad(suppresses)(1.0)


# ---- logging, print, f-strings ------------------------------------------------------------------

def chatty(x):
    print(x)
    logging.info("x is %s", x)
    logger.debug("x is %s", x)
    label = f"{np.sum(x):.3f}"
    logger.info(label)
    return np.sum(np.exp(x))


@pytest.mark.parametrize("x", [0.3, np.array([0.1, 0.2])])
def test_logging_print_and_fstrings_read_values(x, capsys):
    check_everything(chatty, x)
    assert capsys.readouterr().out


# ---- nested def ------------------------------------------------------------------------------

def with_helper(x):
    def helper(y, scale=2.0):
        z = np.sin(y) * scale
        return z * y

    total = helper(x) + helper(x * x, scale=3.0)
    return np.sum(total)


def with_closure(x):
    a = 2.0 * x

    def helper(y):
        return y * a

    return helper(x)


def helper_as_value(xs):
    def helper(y):
        return y * y

    return sum(map(helper, xs))


@pytest.mark.parametrize("x", [0.7, np.array([0.3, 1.1])])
def test_nested_def_called_in_the_body(x):
    check_everything(with_helper, x)


def test_nested_def_that_would_need_a_closure_is_refused_with_advice_that_works():
    with pytest.raises(srcgrad.NotDifferentiableError, match=r":\d+:20: the nested function `helper` reads `a`.*"
                       r"add a parameter `a` to `helper` and write `helper\(\.\.\., a\)`"):
        srcgrad.grad(with_closure)(1.0)
    with pytest.raises(srcgrad.NotDifferentiableError, match=r":\d+:20: the nested function `helper` is used here"):
        srcgrad.grad(helper_as_value)([1.0])


def with_closure_followed(x):
    a = 2.0 * x

    def helper(y, a):
        return y * a

    return helper(x, a)


def test_following_the_closure_advice_works():
    check_everything(with_closure_followed, 0.9)


def helper_in_comprehension(xs):
    def helper(y):
        return y * y

    return sum([helper(y) for y in xs])


def test_following_the_used_as_value_advice_works():
    check_everything(helper_in_comprehension, [0.5, 1.5], second=False)
    check_everything(helper_in_comprehension, np.array([0.5, 1.5]))
