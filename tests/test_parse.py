"""Reading a function's definition from its file: the quick cut by indentation must give
what `inspect` gives, and fall back to it where the cut would be wrong."""

from __future__ import annotations

import functools
import importlib.util
import inspect
import textwrap

import pytest

from srcgrad import grad
from srcgrad.frontend.parse import _definition_lines, parse_function

MODULE = '''
import functools


def tagged(fn):
    @functools.wraps(fn)
    def wrapper(*args):
        return fn(*args)
    return wrapper


def plain(x):
    y = x * x
# a comment at the margin, inside the body
    return y + 1.0


def string_at_margin(x):
    note = """
not code: def g(x):
"""
    return x * 3.0 + len(note) * 0.0


def header_at_margin(
x, y=2.0):
    return x * y


@functools.lru_cache(
    maxsize=None,
)
def decorated(x):
    return x ** 3


class Holder:
    def method(self, x):
        return x * 5.0

    @staticmethod
    def static(x):
        return x * 7.0


def continued(x):
    y = x + \\
1.0
    return y * y


def last(x):
    return x - 1.0
'''


@pytest.fixture(scope="module")
def module(tmp_path_factory):
    path = tmp_path_factory.mktemp("parse") / "defs.py"
    path.write_text(textwrap.dedent(MODULE))
    spec = importlib.util.spec_from_file_location("srcgrad_parse_defs", path)
    loaded = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loaded)
    return loaded


@pytest.mark.parametrize("name", ["plain", "string_at_margin", "header_at_margin", "continued", "last"])
def test_the_definition_read_is_the_one_inspect_reads(module, name):
    fn = getattr(module, name)
    parsed = parse_function(fn)
    lines, first = inspect.getsourcelines(fn)
    assert parsed.info.first_line == first
    assert parsed.node.name == name
    assert parsed.info.lines == tuple(textwrap.dedent("".join(lines)).splitlines())


def test_a_cut_inside_a_string_or_continuation_is_not_used(module):
    # the indentation cut ends inside the string (or after the backslash): it does not parse
    assert _definition_lines(module.string_at_margin) is not None
    assert parse_function(module.string_at_margin).node.body[-1].lineno == 5


def test_decorators_methods_and_static_methods(module):
    assert grad(module.decorated.__wrapped__)(2.0) == pytest.approx(12.0)
    assert grad(module.Holder().method)(1.0) == pytest.approx(5.0)
    assert grad(module.Holder.static)(1.0) == pytest.approx(7.0)
    assert grad(module.plain)(3.0) == pytest.approx(6.0)
    assert grad(module.string_at_margin)(1.0) == pytest.approx(3.0)
    assert grad(module.header_at_margin)(1.0, 4.0) == pytest.approx(4.0)
    assert grad(module.continued)(1.0) == pytest.approx(4.0)


def test_a_rewritten_file_is_read_again(tmp_path):
    path = tmp_path / "changing.py"
    path.write_text("def f(x):\n    return x * 2.0\n")
    namespace: dict = {}
    exec(compile(path.read_text(), str(path), "exec"), namespace)
    assert grad(namespace["f"])(1.0) == pytest.approx(2.0)
    path.write_text("def f(x):\n    return x * 3.0\n")
    import linecache

    linecache.checkcache(str(path))
    namespace = {}
    exec(compile(path.read_text(), str(path), "exec"), namespace)
    assert grad(namespace["f"])(1.0) == pytest.approx(3.0)


def test_wrapped_functions_are_read_through(module):
    @functools.wraps(module.last)
    def wrapper(x):
        return module.last(x)

    assert grad(wrapper)(1.0) == pytest.approx(1.0)
