"""Errors name the user's file, line and column, quote the line and put a caret under it."""

import inspect

import bad_programs
import numpy as np
import pytest

import srcgrad
from srcgrad import SrcGradError


def _marked_line(fn):
    lines, first = inspect.getsourcelines(fn)
    for offset, line in enumerate(lines):
        if "# ERROR" in line:
            return first + offset, line.split("# ERROR")[1].strip(), line.rstrip("\n")
    raise AssertionError("no marker")


@pytest.mark.parametrize("fn, args", [
    (bad_programs.uses_yield, (1.0,)),
    (bad_programs.writes_global, (1.0,)),
    (bad_programs.uses_eval, (1.0,)),
    (bad_programs.calls_c_function, (1.0,)),
    (bad_programs.mutates_input, (np.ones(3),)),
    (bad_programs.mutates_alias, (np.ones(3),)),
    (bad_programs.uses_try, (1.0,)),
    (bad_programs.uses_with, (1.0,)),
    (bad_programs.takes_star_args, (1.0, 2.0)),  # before "wrt out of range" could mislead
    (bad_programs.joins_lists, (1.0,)),
    (bad_programs.repeats_a_tuple, (1.0,)),
])
def test_located_error(fn, args):
    line, words, text = _marked_line(fn)
    with pytest.raises(SrcGradError) as info:
        srcgrad.grad(fn)(*args)
    message = str(info.value)
    first, quoted, caret = message.splitlines()[:3]
    assert first.startswith(f"{bad_programs.__file__}:{line}:"), message
    assert words.split()[0].lower() in message.lower()
    assert quoted.strip() == text.split("#")[0].strip() or quoted.strip() == text.strip()
    column = int(first.split(":")[2]) - 1
    assert caret.index("^") - 4 == column and text[column] != " "


def test_missing_rule_suggests_adjoint():
    with pytest.raises(SrcGradError, match=r"srcgrad\.adjoint"):
        srcgrad.grad(bad_programs.calls_c_function)(1.0)


def test_async_function_is_refused():
    with pytest.raises(SrcGradError, match="async"):
        srcgrad.grad(bad_programs.is_async)(1.0)


def test_unknown_wrt_name_lists_parameters():
    def f(x, y):
        return x * y

    with pytest.raises(SrcGradError, match=r"'z'.*x, y"):
        srcgrad.grad(f, wrt="z")


def test_wrt_position_out_of_range_gives_count():
    def f(x, y):
        return x * y

    with pytest.raises(SrcGradError, match=r"wrt=5.*2 positional"):
        srcgrad.grad(f, wrt=5)


def test_builtin_without_source_is_named():
    with pytest.raises(SrcGradError, match="len"):
        srcgrad.grad(len)


def test_non_scalar_output_message():
    def f(x):
        return x * 2.0

    with pytest.raises(SrcGradError) as info:
        srcgrad.grad(f)(np.ones((2, 3)))
    assert "scalar" in str(info.value) and "(2, 3)" in str(info.value) and "vjp" in str(info.value)


def test_lists_joined_at_run_time_are_refused_not_differentiated_wrongly():
    def f(xs, ys):
        z = xs + ys  # lists from the caller: only the run time knows this joins them
        return z[0] * z[2]

    with pytest.raises(SrcGradError, match="lists or tuples"):
        srcgrad.grad(f)([1.0], [2.0, 3.0])
