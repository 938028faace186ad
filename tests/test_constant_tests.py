"""Branches on constants: `if 2.0 > 1.0:` leaves only the taken body in the generated code
(reverse and forward), and the derivative agrees with central finite differences. The
folding of tests (`folding.truth`) agrees with Python's own evaluation of the same text."""

import ast
import math
import textwrap

from generated import assert_grad_matches_fd
from generated import source_after_call as _source
from hypothesis import given, settings
from hypothesis import strategies as st

import srcgrad
from srcgrad.syntax.folding import truth
from srcgrad.tools.testing import directional_fd


def constant_branch(x):
    if 2.0 > 1.0:
        y = x * x
    else:
        y = math.sin(x)
    return y


def constant_chain(x):
    if not (1 < 2 <= 2) or None:
        y = x * x
    elif "a" == "a" and 1.5 >= -2:
        y = math.sin(x)
    else:
        y = x
    return y * x


def constant_branch_in_loop(x):
    for i in range(3):
        if 0 == 1:
            x = x * x
        else:
            x = math.sin(x)
    return x


def variable_branch(x):
    if x > 1.0:
        y = x * x
    else:
        y = math.sin(x)
    return y


def _line(fn, offset):
    return fn.__code__.co_firstlineno + offset


def _tangent_matches_fd(fn, x):
    _, tangent = srcgrad.jvp(fn, (x,), (1.0,))
    assert math.isclose(tangent, directional_fd(fn, (x,), [0], [1.0]), rel_tol=1e-6, abs_tol=1e-9)


def test_constant_branch_reverse_has_only_the_taken_body():
    n = _line(constant_branch, 2)
    assert _source(constant_branch, 0.7) == textwrap.dedent(f"""\
        def grad_constant_branch(x):
            if type(x) is not float:
                return _general(x)
            # adjoint of line {n}: y = x * x
            x_bar = 2.0 * x
            return x_bar""")
    for x in (0.7, -1.3):
        assert_grad_matches_fd(constant_branch, x)


def test_constant_branch_forward_has_only_the_taken_body():
    assert srcgrad.source(constant_branch, mode="forward") == textwrap.dedent("""\
        def jvp_constant_branch(x, *, x_dot):
            y = x * x
            y_dot = x_dot * x + x * x_dot
            return (y, y_dot)""")
    for x in (0.7, -1.3):
        _tangent_matches_fd(constant_branch, x)


def test_chained_comparisons_not_and_or_fold_to_the_elif_body():
    n = _line(constant_chain, 4)
    assert _source(constant_chain, 0.7) == textwrap.dedent(f"""\
        def grad_constant_chain(x):
            if type(x) is not float:
                return _general(x)
            y = math.sin(x)
            # adjoint of line {n}: y = math.sin(x)
            x_bar = y + x * math.cos(x)
            return x_bar""")
    assert srcgrad.source(constant_chain, mode="forward") == textwrap.dedent("""\
        def jvp_constant_chain(x, *, x_dot):
            y = math.sin(x)
            y_dot = x_dot * math.cos(x)
            _t1 = y * x
            _t1_dot = y_dot * x + y * x_dot
            return (_t1, _t1_dot)""")
    for x in (0.7, -1.3):
        assert_grad_matches_fd(constant_chain, x)
        _tangent_matches_fd(constant_chain, x)


def test_constant_branch_inside_a_loop_keeps_the_loop_and_drops_the_test():
    for text in (_source(constant_branch_in_loop, 0.7), srcgrad.source(constant_branch_in_loop, mode="forward")):
        assert "_cond" not in text and "if " not in text.replace("if type(x)", "")
        assert "for i in" in text
    for x in (0.7, -1.3):
        assert_grad_matches_fd(constant_branch_in_loop, x)
        _tangent_matches_fd(constant_branch_in_loop, x)


def test_a_test_that_reads_a_variable_keeps_its_branch():
    assert "if _cond1:" in srcgrad.source(variable_branch, mode="forward")
    for x in (0.7, 1.6):
        assert_grad_matches_fd(variable_branch, x)


# ---- `truth` against Python -------------------------------------------------------------------
_LITERALS = st.sampled_from(["0", "1", "-1", "2.5", "-0.0", "True", "False", "None", "''", "'a'", "'b'"])
_COMPARE = st.sampled_from(["==", "!=", "<", "<=", ">", ">="])


@st.composite
def _tests(draw, depth=2):
    if depth == 0 or draw(st.booleans()):
        parts = [draw(_LITERALS)]
        for _ in range(draw(st.integers(0, 2))):
            parts += [draw(_COMPARE), draw(_LITERALS)]
        return " ".join(parts)
    kind = draw(st.sampled_from(["not", "and", "or"]))
    if kind == "not":
        return f"not ({draw(_tests(depth - 1))})"
    return f"({draw(_tests(depth - 1))}) {kind} ({draw(_tests(depth - 1))})"


@settings(max_examples=300, deadline=None)
@given(_tests())
def test_truth_is_what_python_computes(text):
    try:
        want = bool(eval(text, {}))  # noqa: S307 (literals only)
    except TypeError:
        want = None  # Python raises: the test must not fold
    got = truth(ast.parse(text, mode="eval").body)
    assert got is None or got == want
    if want is None:
        assert got is None


def test_truth_leaves_names_calls_and_identity_alone():
    for text in ("x > 1", "1 is 1", "1 in (1, 2)", "f()", "1j == 1j", "b'a' == b'a'", "[] == []"):
        assert truth(ast.parse(text, mode="eval").body) is None
