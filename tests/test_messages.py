"""Messages users can act on: a refusal inside a library names the user's call site and says
what to register; the command line shows the located message whole; docs/limitations.md's
refused examples are refused with the words it shows (so the page cannot drift)."""

import ast
import importlib
import re
import sys
import textwrap
import uuid
from pathlib import Path

import numpy as np
import pytest

import srcgrad
from srcgrad import errors
from srcgrad.driver import derivatives as transform
from srcgrad.frontend.parse import parse_function
from srcgrad.rules import registry
from srcgrad.tools import cli

ROOT = Path(__file__).resolve().parents[1]  # the repository, for docs/
IMPORTED_FROM = str(Path(srcgrad.__file__).resolve().parents[1])  # subprocesses run the srcgrad imported here

LIBRARY = """
import numpy as np

def helper(x, y):
    try:
        return np.log(x) * y
    except ValueError:
        return 0.0
"""


@pytest.fixture
def modules(tmp_path, monkeypatch):
    """Write modules to tmp_path and import them (fresh names, so no test sees another's)."""
    monkeypatch.syspath_prepend(str(tmp_path))
    made = []

    def make(source, **names):
        name = f"m_{uuid.uuid4().hex[:10]}"
        text = textwrap.dedent(source)
        for key, value in names.items():
            text = text.replace("{" + key + "}", value)
        (tmp_path / f"{name}.py").write_text(text)
        made.append(name)
        return importlib.import_module(name)

    yield make
    for name in made:
        sys.modules.pop(name, None)


@pytest.fixture
def rules_restored():
    tables = ("_VJP_RULES", "_JVP_RULES", "_NONDIFF")
    saved = {t: {k: list(v) if isinstance(v, list) else v for k, v in getattr(registry, t).items()} for t in tables}
    yield
    for table, content in saved.items():
        getattr(registry, table).clear()
        getattr(registry, table).update(content)
    transform.clear_cache()


def _call_of(fn, written):
    """The parsed source of `fn` and its call node whose callee is written `written`."""
    parsed = parse_function(fn)
    calls = [n for n in ast.walk(parsed.node) if isinstance(n, ast.Call) and ast.unparse(n.func) == written]
    return parsed, calls[0]


def _refusal_of(callee, info, call, caller):
    with pytest.raises(srcgrad.NotDifferentiableError) as caught, errors.calling(info, call, caller, callee):
        transform.vjp_cell(callee, (0,))
    return caught.value


def test_a_refusal_inside_a_library_names_the_users_call_site(modules):
    lib = modules(LIBRARY)
    user = modules("""
        import {lib}

        def f(x):
            y = x * 2.0
            return {lib}.helper(y, 3.0) + 1.0
        """, lib=lib.__name__)
    parsed, call = _call_of(user.f, f"{lib.__name__}.helper")
    error = _refusal_of(lib.helper, parsed.info, call, "f")
    lines = str(error).splitlines()
    assert lines[0].startswith(f"{lib.__file__}:5:5: `try` blocks"), lines  # the callee's location stays
    assert lines[1:3] == ["        try:", "        ^"]
    assert lines[3] == f"  {user.__file__}:6:12: called from `f`"
    assert lines[4] == f"          return {lib.__name__}.helper(y, 3.0) + 1.0"
    assert lines[5] == "          " + " " * 7 + "^" * len(f"{lib.__name__}.helper(y, 3.0)")
    assert f"    @srcgrad.adjoint({lib.__name__}.helper)" in lines
    assert "    def helper_vjp(g, ans, x, y): ..." in lines
    assert "srcgrad.stop_gradient" in str(error) and "srcgrad.no_grad" in str(error)


def test_a_chain_of_calls_reads_outermost_first_innermost_last(modules):
    lib = modules(LIBRARY)
    user = modules("""
        import {lib}

        def g(x):
            return {lib}.helper(x, 3.0)

        def f(x):
            return g(x) * 2.0
        """, lib=lib.__name__)
    inner, inner_call = _call_of(user.g, f"{lib.__name__}.helper")
    outer, outer_call = _call_of(user.f, "g")
    with pytest.raises(srcgrad.NotDifferentiableError) as caught, errors.calling(outer.info, outer_call, "f", user.g):
        error = _refusal_of(lib.helper, inner.info, inner_call, "g")
        raise error
    text = str(caught.value)
    assert text.index(f"{user.__file__}:8:12: called from `f`") < text.index(f"{user.__file__}:5:12: called from `g`")
    assert text.count("called from") == 2 and text.count("@srcgrad.adjoint(") == 1
    assert f"@srcgrad.adjoint({lib.__name__}.helper)" in text  # the innermost callee: the library function


def test_a_callee_without_readable_source_names_the_call_site(modules):
    lib = modules("""
        namespace = {}
        exec("def made(x):\\n    return x * 2.0\\n", namespace)
        made = namespace["made"]
        """)
    user = modules("""
        import {lib}

        def f(x):
            return {lib}.made(x)
        """, lib=lib.__name__)
    parsed, call = _call_of(user.f, f"{lib.__name__}.made")
    with pytest.raises(srcgrad.UsageError) as caught, errors.calling(parsed.info, call, "f", lib.made):
        transform.vjp_cell(lib.made, (0,))
    text = str(caught.value)
    assert "cannot find the source" in text.splitlines()[0]
    assert f"{user.__file__}:5:12: called from `f`" in text and "@srcgrad.adjoint(" in text and "made_vjp(g, ans, x)" in text


def test_the_type_traceback_and_cause_stay(modules):
    lib = modules(LIBRARY)
    parsed, call = _call_of(lib.helper, "np.log")
    cause = ValueError("why")
    with pytest.raises(srcgrad.NotDifferentiableError) as caught, errors.calling(parsed.info, call, "helper", np.log):
        raise srcgrad.NotDifferentiableError("refused") from cause
    assert caught.value.__cause__ is cause and caught.value.__traceback__ is not None
    assert str(caught.value).startswith("refused\n") and "@srcgrad.adjoint(numpy.log)" in str(caught.value)


def test_the_advised_rule_is_the_one_that_works(modules, rules_restored):
    """The decorator and parameters the message shows, registered as shown, differentiate the
    caller (checked against the closed form)."""
    lib = modules(LIBRARY)
    user = modules("""
        import {lib}

        import numpy as np

        def f(x):
            return {lib}.helper(x, 3.0) * x

        def rule(g, ans, x, y):
            return (g * y / x, g * np.log(x))
        """, lib=lib.__name__)
    parsed, call = _call_of(user.f, f"{lib.__name__}.helper")
    text = str(_refusal_of(lib.helper, parsed.info, call, "f"))
    decorator = re.search(r"@srcgrad\.adjoint\((.*)\)", text).group(1)
    params = re.search(r"def helper_vjp\((.*)\): \.\.\.", text).group(1)
    assert params == "g, ans, x, y"
    target = eval(decorator, {lib.__name__: lib})
    srcgrad.adjoint(target)(user.rule)
    x = 1.7
    assert np.isclose(srcgrad.grad(user.f)(x), 3.0 / x * x + 3.0 * np.log(x))


def test_stop_gradient_as_advised_leaves_the_library_out(modules):
    lib = modules(LIBRARY)
    user = modules("""
        import srcgrad
        import {lib}

        def f(x):
            return {lib}.helper(srcgrad.stop_gradient(x), 3.0) + x * x
        """, lib=lib.__name__)
    assert np.isclose(srcgrad.grad(user.f)(1.5), 3.0)  # d(x*x)/dx; the helper's value is a constant


def test_a_run_time_callee_names_the_function_that_called_it(modules):
    lib = modules(LIBRARY)
    user = modules("""
        import {lib}

        def apply(fn, x):
            return fn(x, 2.0)

        def g(x):
            return apply({lib}.helper, x)
        """, lib=lib.__name__)
    runs = [(lambda: srcgrad.grad(user.g)(1.0), "@srcgrad.adjoint(", "def helper_vjp(g, ans, x, y)"),
            (lambda: srcgrad.jvp(user.g, (1.0,), (1.0,)), "@srcgrad.tangent(", "def helper_jvp(dots, ans, x, y)")]
    for run, decorator, rule in runs:
        with pytest.raises(srcgrad.NotDifferentiableError) as caught:
            run()
        text = str(caught.value)
        assert text.startswith(f"{lib.__file__}:5:5: `try` blocks"), text
        assert f"called from `apply` ({user.__file__}:4)" in text
        assert f"{decorator}{lib.__name__}.helper)" in text and rule in text


def test_a_run_time_callee_without_source_says_what_to_register(modules):
    user = modules("""
        import numpy as np

        def apply(fn, x):
            return fn(x)

        def g(x):
            return apply(np.frompyfunc(float, 1, 1), x)
        """)
    with pytest.raises(srcgrad.NotDifferentiableError) as caught:
        srcgrad.grad(user.g)(1.0)
    text = str(caught.value)
    assert "has no derivative rule and no Python source" in text and "called from `apply`" in text
    assert "@srcgrad.adjoint(" in text


# ---- the command line ----------------------------------------------------------------------


def test_the_command_line_shows_the_located_message_whole(tmp_path, capsys):
    model = tmp_path / "model.py"
    model.write_text("import numpy as np\n\n\ndef f(x):\n    try:\n        return np.log(x)\n    except ValueError:\n"
                     "        return 0.0\n")
    with pytest.raises(srcgrad.NotDifferentiableError) as caught:
        cli.main(["--debug", "show", f"{model}:f"])
    assert cli.main(["show", f"{model}:f"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err == f"srcgrad: error: {caught.value}\n"
    first, quoted, caret = err.splitlines()
    assert first.startswith(f"srcgrad: error: {model}:5:5: `try` blocks")
    assert (quoted, caret) == ("        try:", "        ^")


def test_the_console_script_shows_it_too(tmp_path):
    import os
    import subprocess

    (tmp_path / "model.py").write_text("def f(x):\n    global y\n    y = x\n    return x\n")
    env = {**os.environ, "PYTHONPATH": IMPORTED_FROM}
    done = subprocess.run([sys.executable, "-m", "srcgrad", "eval", "model.py:f", "--at", "x=1.0"],
                          capture_output=True, text=True, env=env, cwd=tmp_path)
    lines = done.stderr.splitlines()
    assert done.returncode == 2 and done.stdout == "" and len(lines) == 3, done.stderr
    assert re.match(r"srcgrad: error: .*model\.py:2:5: ", lines[0]), lines
    assert lines[1:] == ["        global y", "        ^^^^^^^^"]


# ---- docs/limitations.md -------------------------------------------------------------------

PAGE = ROOT / "docs" / "limitations.md"
FENCE = re.compile(r"^```([^\n`]*)\n(.*?)^```\s*$", re.MULTILINE | re.DOTALL)
MARK = re.compile(r"\A# refused( at run time)?: (.+)\n")


def _page_blocks():
    """(first line, code) of every `python` block of the page, in order."""
    text = PAGE.read_text()
    return [(text.count("\n", 0, m.start(2)) + 1, m.group(2)) for m in FENCE.finditer(text) if m.group(1).strip() == "python"]


REFUSED = [(line, code) for line, code in _page_blocks() if MARK.match(code)]


@pytest.fixture(scope="module")
def page_namespace():
    """The page's blocks run top to bottom in one namespace, compiled at their lines of the
    page's file (so srcgrad reads their source there, and messages name those lines)."""
    namespace = {"__name__": "docs_limitations_checked"}
    for line, code in _page_blocks():
        exec(compile("\n" * (line - 1) + code, str(PAGE), "exec"), namespace)
    yield namespace
    transform.clear_cache()


def test_the_page_documents_refusals_by_theme():
    text = PAGE.read_text()
    assert len(REFUSED) >= 40
    for heading in ("## A refusal inside a function you call", "## Syntax srcgrad does not follow",
                    "## In-place writes and aliasing", "## Calls without rules", "## Complex numbers",
                    "## Higher order and forward mode", "## Attributes and objects"):
        assert heading in text
    assert "how-it-works.md#in-place-writes-and-shared-storage" in text


@pytest.mark.parametrize("line, code", REFUSED, ids=[f"line {line}" for line, _ in REFUSED])
def test_each_documented_refusal_is_refused_with_its_words(line, code, page_namespace, capsys):
    at_run_time, words = MARK.match(code).groups()
    call = re.search(r"^# call: (.+)$", code, re.MULTILINE)
    assert call, f"docs/limitations.md:{line}: a refused example needs a `# call:` line"
    with pytest.raises(srcgrad.NotDifferentiableError) as caught:
        eval(call.group(1), page_namespace)
    message = str(caught.value)
    assert words in message, message
    located = re.match(rf"{re.escape(str(PAGE))}:(\d+):(\d+): ", message)
    if at_run_time:  # a refusal that names no line yet: when it does, mark the example `# refused:`
        assert located is None, message
        return
    assert located, message
    row, col = int(located.group(1)), int(located.group(2))
    assert line <= row < line + code.count("\n"), f"the refusal points outside the example: {message}"
    page_lines = PAGE.read_text().splitlines()
    quoted, caret = message.splitlines()[1:3]
    assert quoted == "    " + page_lines[row - 1].rstrip()
    assert caret.strip() and set(caret.strip()) == {"^"} and caret.index("^") == 4 + col - 1
