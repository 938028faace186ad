"""Each pass on tiny source strings: normalize, jumps, activity, scalars, optimize."""

import ast
import re
import textwrap

from srcgrad.analysis import activity as analysis
from srcgrad.analysis import scalars
from srcgrad.cleanup import peephole as optimize
from srcgrad.errors import SourceInfo
from srcgrad.lowering import jumps
from srcgrad.lowering.normalize import Normalizer
from srcgrad.syntax.naming import Namer


def _function(source: str) -> ast.FunctionDef:
    return ast.parse(textwrap.dedent(source)).body[0]


class _Calls:
    """What `Normalizer` asks of the resolver: which calls carry no derivative (here, by name)."""

    def __init__(self, opaque: tuple[str, ...]) -> None:
        self.opaque = opaque

    def is_opaque_call(self, call: ast.Call) -> bool:
        return isinstance(call.func, ast.Name) and call.func.id in self.opaque


class _AllPure:
    """What `clean_function` asks of the code's names: here every call may be dropped."""

    def is_pure(self, call: ast.Call) -> bool:
        return True


def normalized(source: str, opaque_calls=("len", "range")):
    node = _function(source)
    info = SourceInfo("<test>", 1, tuple(textwrap.dedent(source).splitlines()))
    namer = Namer.for_tree(node)
    params = [a.arg for a in node.args.args]
    normalizer = Normalizer(info, namer, params, _Calls(opaque_calls))
    return normalizer.run(jumps.lower(node, namer))


def text(source: str) -> str:
    return ast.unparse(normalized(source).node)


def test_three_address_form_and_versions():
    out = text("""
        def f(x, y):
            z = x * y + 1.0
            z = z * z
            return z
    """)
    assert out == textwrap.dedent("""\
        def f(x, y):
            _t1 = x * y
            z = _t1 + 1.0
            z_1 = z * z
            return z_1""")


def test_augmented_assignment_and_unpacking_are_expanded():
    out = text("""
        def f(x):
            a, b = x, 2 * x
            a += b
            return a
    """)
    assert "a_1 = a + b" in out and "_t" in out and "+=" not in out


def test_loop_body_keeps_names_and_uses_temp_when_target_is_an_operand():
    out = text("""
        def f(x, n):
            for i in range(n):
                x = x * 2.0
            return x
    """)
    assert "_range1 = range(n)" in out
    assert "_t1 = x * 2.0" in out and "x = _t1" in out


def test_comparisons_and_len_are_opaque():
    result = normalized("""
        def f(x):
            n = len(x)
            c = x > 0
            return n
    """)
    opaque = [ast.unparse(s) for s in result.node.body if id(s) in result.opaque]
    assert opaque == ["n = len(x)", "c = x > 0"]


def test_conditional_expression_and_lambda_are_lowered():
    out = text("""
        def f(x):
            sq = lambda t: t * t
            y = sq(x) if x > 0 else -x
            return y
    """)
    assert "lambda" not in out and "if " in out and "x * x" in out


def test_early_return_outside_loops_becomes_the_other_path_and_single_return():
    out = text("""
        def f(x):
            if x > 0:
                return x
            return -x
    """)
    assert len(re.findall(r"\breturn\b", out)) == 1 and "else:" in out and "_result" in out
    assert "_returned" not in out  # no flag: the rest of the body is the `else`


def test_early_return_in_a_loop_becomes_flag_and_single_return():
    out = text("""
        def f(x, n):
            for i in range(n):
                if x > 5.0:
                    return x
                x = x * 2.0
            return -x
    """)
    assert len(re.findall(r"\breturn\b", out)) == 1 and "_returned" in out and "_result" in out


def test_break_becomes_flag_guard_and_single_exit():
    node = jumps.lower(_function("""
        def f(x):
            for i in range(3):
                if x > i:
                    break
                x = x + 1
            return x
    """), Namer(set()))
    out = ast.unparse(node)
    assert len(re.findall(r"\bbreak\b", out)) == 1 and "_break1 = True" in out and "if not _break1:" in out


def test_activity_is_varied_and_useful():
    result = normalized("""
        def f(x, y):
            a = x * 2
            b = y * 3
            c = a + 1
            unused = a * a
            return c + b
    """)
    active = analysis.activity(result.node.body, {"x"}, {"_t1"}, lambda s: True)
    assert {"x", "a", "c"} <= active and "b" not in active and "unused" not in active


def test_scalar_inference_stops_at_arrays():
    result = normalized("""
        def f(x, v):
            a = x * 2.0
            b = v * a
            return a + 1.0
    """)
    known = scalars.scalar_names(result.node.body, {"x"}, lambda e: None)
    assert "a" in known and "b" not in known


def test_optimizer_folds_propagates_and_drops_dead_values():
    node = _function("""
        def g(x):
            t = x * 2.0
            dead = x * 3.0
            a_bar = 1.0
            b_bar = a_bar * 2 * 3
            x_bar = 0.0
            x_bar = x_bar + b_bar * x
            return (x_bar,)
    """)
    out = ast.unparse(optimize.clean_function(node, _AllPure()))
    assert out == textwrap.dedent("""\
        def g(x):
            x_bar = 6.0 * x
            return (x_bar,)""")
