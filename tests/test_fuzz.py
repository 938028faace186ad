"""The differential fuzzer: a fixed-seed slice of every mode must find nothing; the fuzzer itself works."""

import ast

import pytest

import srcgrad
from fuzz import oracles, runner, shrink
from fuzz.generator import Program, S, generate

SEED = 20240601
SLICE = 150  # programs per mode

PLANTED = '''import math

import srcgrad


def g(a):
    return math.sin(a)


@srcgrad.adjoint(g)
def _g_adjoint(g_bar, ans, a):
    return (2.0 * g_bar,)


def f(x, y):
    t = math.tanh(x) * y
    for i in range(2):
        t = 0.5 * t + math.cos(x)
    u = g(x) + t
    if y > 0.0:
        u = u * 1.5
    return u + y
'''


@pytest.mark.parametrize("mode", oracles.MODES)
def test_fixed_slice_finds_no_wrong_derivative_and_no_crash(mode):
    results = list(runner.run(SEED, range(SLICE), [mode]))
    bad = [f"{r.index}: {r.outcome.kind}: {r.outcome.detail[:100]}" for r in results
           if r.outcome.kind in (oracles.WRONG, oracles.CRASH)]
    assert sum(r.outcome.kind == oracles.PASS for r in results) > SLICE // 2
    assert not bad, f"{mode} (seed {SEED}; python -m fuzz --seed {SEED} --only INDEX --mode {mode}):\n" + "\n".join(bad)


def test_generation_is_deterministic_per_seed():
    first = [generate(7, i).source for i in range(20)]
    assert first == [generate(7, i).source for i in range(20)]
    assert first != [generate(8, i).source for i in range(20)]
    assert generate(7, 3, "v").args[0].__repr__() == generate(7, 3, "v").args[0].__repr__()


def test_generated_programs_parse_and_mostly_run():
    outcomes = [runner.check_source(generate(3, i), "reverse").kind for i in range(40)]
    assert outcomes.count(oracles.INVALID) <= 4
    for i in range(40):
        ast.parse(generate(3, i, "v").source)


def _planted() -> Program:
    return Program(PLANTED, [0.3, 0.4], 0, [S, S])


def test_runner_classifies_a_wrong_adjoint_as_wrong():
    outcome = runner.check_source(_planted(), "reverse")
    assert outcome.kind == oracles.WRONG, outcome
    assert "grad" in outcome.detail


def test_runner_classifies_a_correct_program_as_pass_and_a_kink_as_skip():
    smooth = Program("import math\n\n\ndef f(x):\n    return math.sin(x) * x\n", [0.7], 0, [S])
    assert runner.check_source(smooth, "reverse").kind == oracles.PASS
    assert runner.check_source(smooth, "second").kind == oracles.PASS
    kink = Program("def f(x):\n    return abs(x)\n", [1e-7], 0, [S])
    assert runner.check_source(kink, "reverse").kind == oracles.SKIP


def test_runner_classifies_refusals_by_reason():
    program = Program("def f(x):\n    print(x)\n    return x * x\n", [0.5], 0, [S])
    outcome = runner.check_source(program, "reverse")
    if outcome.kind == oracles.REFUSED:
        assert ":" not in outcome.detail.split(" ")[0], "the location is stripped"
    else:
        assert outcome.kind == oracles.PASS


def test_shrinker_shrinks_a_planted_failure():
    program = _planted()
    outcome = runner.check_source(program, "reverse")
    small, small_outcome = shrink.shrink(program, "reverse", outcome)
    assert small_outcome.kind == oracles.WRONG
    assert shrink.size(small) < shrink.size(program)
    f = next(node for node in ast.parse(small.source).body if isinstance(node, ast.FunctionDef) and node.name == "f")
    assert len(f.body) <= 2 and "g(" in ast.unparse(f), small.source
    assert small.args == [0.3], "the unused second parameter is dropped"


def test_shrinker_keeps_the_exception_type_of_a_crash(monkeypatch):
    def fake_check(f, program, mode, seed=0, blame=True):
        if "math.cos" in program.source:
            return oracles.Outcome(oracles.CRASH, "ZeroDivisionError: planted")
        return oracles.Outcome(oracles.PASS)

    monkeypatch.setattr(oracles, "check", fake_check)
    program = Program("import math\n\n\ndef f(x):\n    y = math.sin(x) + 1.0\n    z = math.cos(y) * 2.0\n    return z + y\n",
                      [0.5], 0, [S])
    small, outcome = shrink.shrink(program, "reverse", fake_check(None, program, "reverse"))
    assert outcome.detail.startswith("ZeroDivisionError")
    assert shrink.size(small) < shrink.size(program) and "math.cos" in small.source


def test_outcome_key_and_blame_without_cleanups():
    assert oracles.Outcome(oracles.CRASH, "NameError: name '_tape' is not defined").key() == "crash:NameError"
    assert oracles.Outcome(oracles.WRONG, "grad: entry 0").key() == "wrong"
    if not hasattr(srcgrad, "CLEANUPS"):
        assert oracles.cleanups() == ()
