"""The differential fuzzer: a fixed-seed slice of every mode must find nothing; the fuzzer itself works."""

import ast
import copy

import numpy as np
import pytest

import srcgrad
from fuzz import aliasing, oracles, runner, shrink
from fuzz.generator import Program, S, V, generate

SEED = 20240601
SLICE = 150  # programs per mode
# The in-place/aliasing families stay out of the CI slice until srcgrad gets them right; then make this
# `aliasing.ALL` (about a quarter of the slice's programs then contain one).
SLICE_MIX = aliasing.ALL

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
    results = list(runner.run(SEED, range(SLICE), [mode], mix=SLICE_MIX))
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


ALIASED = """import numpy as np


def f(x):
    c = x * 1.0
    y = c
    c += 1.0
    return np.sum(y * x)
"""

WRITES_ARGUMENT = """import numpy as np


def f(x):
    x *= 2.0
    return np.sum(x * x)
"""

X = np.array([0.3, -0.5, 0.8])


def _fake_grad(derivative, mutate=None):
    """A stand-in for srcgrad.grad: the hand-written `derivative`, which applies `mutate` to its argument."""
    def grad(f, wrt=0, **options):
        def call(x):
            result = derivative(np.array(x))
            if mutate is not None:
                mutate(x)
            return result
        return call
    return grad


def test_oracle_flags_rebinding_semantics_of_an_aliased_write(monkeypatch):
    program = Program(ALIASED, [X.copy()], 0, [V])
    # Python: y is c, so f = sum((x + 1) x) and the gradient is 2x + 1; reading `c += 1` as a rebinding
    # (y keeps x) gives 2x, the derivative a source transformer that ignores aliasing writes.
    monkeypatch.setattr(srcgrad, "grad", _fake_grad(lambda x: 2 * x))
    outcome = runner.check_source(program, "reverse", blame=False)
    assert outcome.kind == oracles.WRONG and outcome.detail.startswith("grad: entry"), outcome
    monkeypatch.setattr(srcgrad, "grad", _fake_grad(lambda x: 2 * x + 1.0))
    assert runner.check_source(program, "reverse", blame=False).kind == oracles.PASS


def test_oracle_flags_a_derivative_that_leaves_the_argument_as_python_would_not(monkeypatch):
    program = Program(WRITES_ARGUMENT, [X.copy()], 0, [V])
    right = lambda x: 8 * x  # noqa: E731  f = sum((2x)^2) = 4 sum(x^2)
    monkeypatch.setattr(srcgrad, "grad", _fake_grad(right))  # forgets to double the caller's x
    outcome = runner.check_source(program, "reverse", blame=False)
    assert outcome.kind == oracles.WRONG and "arguments after the call differ from Python's" in outcome.detail
    monkeypatch.setattr(srcgrad, "grad", _fake_grad(right, lambda x: x.__imul__(2.0)))
    assert runner.check_source(program, "reverse", blame=False).kind == oracles.PASS


def test_oracle_flags_a_derivative_that_writes_into_an_argument_python_leaves_alone(monkeypatch):
    program = Program("import numpy as np\n\n\ndef f(x):\n    return np.sum(x * x)\n", [X.copy()], 0, [V])
    monkeypatch.setattr(srcgrad, "grad", _fake_grad(lambda x: 2 * x, lambda x: x.__setitem__(0, 9.0)))
    outcome = runner.check_source(program, "reverse", blame=False)
    assert outcome.kind == oracles.WRONG and "arguments after the call differ" in outcome.reason()


def test_truth_of_a_program_writing_into_its_argument_uses_fresh_copies():
    program = Program(WRITES_ARGUMENT, [X.copy()], 0, [V])
    f = runner.load(program.source)
    for mode, closed_form in (("reverse", 8 * X), ("vjp", None)):
        oracle = oracles.ORACLES[mode](f, program, np.random.default_rng(0))
        oracle.truth()
        assert np.array_equal(program.args[0], X), "no evaluation wrote into the program's own arguments"
        assert np.allclose(oracle.out, 4 * np.sum(X * X))
        if closed_form is not None:
            assert np.allclose(oracle.want[0], closed_form, rtol=1e-6)
        assert np.allclose(oracle.after[0], 2 * X), "Python's after-state: the caller's x doubled"
    vjp = Program(WRITES_ARGUMENT.replace("np.sum(x * x)", "x * x"), [X.copy()], 0, [V], output=V)
    oracle = oracles.Pullback(runner.load(vjp.source), vjp, np.random.default_rng(0))
    oracle.truth()
    assert np.allclose(oracle.want[0], 8 * X * oracle.cotangent, rtol=1e-6)


def test_srcgrad_refuses_or_gets_python_right_on_the_planted_alias_and_argument_write():
    for source in (ALIASED, WRITES_ARGUMENT):
        for mode in ("reverse", "forward"):
            outcome = runner.check_source(Program(source, [X.copy()], 0, [V]), mode)
            assert outcome.kind in (oracles.PASS, oracles.REFUSED), (mode, outcome)


def test_default_mix_has_no_family_and_is_unchanged_by_the_families():
    for i in range(40):
        program = generate(SEED, i)
        assert not program.families and "q" not in "".join(program.features)
        assert program.source == generate(SEED, i, families=aliasing.NONE).source


def test_natural_mix_puts_families_in_about_a_quarter_of_the_programs():
    share = sum(bool(generate(4, i, families=aliasing.ALL).families) for i in range(300)) / 300
    assert 0.15 <= share <= 0.4, share


@pytest.mark.parametrize("family", sorted(aliasing.FAMILIES))
def test_each_family_is_generated_on_demand_and_runs_in_plain_python(family):
    mix = aliasing.parse_mix(family)
    invalid = 0
    for i in range(15):
        for mode in ("reverse", "vjp"):
            program = runner.program_for(9, i, mode, mix)
            assert family in program.families, program.source
            assert program.source == runner.program_for(9, i, mode, mix).source, "deterministic"
            try:
                with np.errstate(all="raise"):
                    runner.load(program.source)(*copy.deepcopy(program.args))
            except FloatingPointError:
                invalid += 1
    assert invalid <= 2


def test_unknown_family_is_an_error():
    with pytest.raises(ValueError, match="unknown families"):
        aliasing.parse_mix("alias_name,nope")


def test_shrinker_keeps_the_aliased_write(monkeypatch):
    source = ALIASED.replace("    c = x * 1.0\n    y = c\n    c += 1.0\n    return np.sum(y * x)",
                             "    t = np.tanh(x) * 0.5\n    qc1 = x * 1.0\n    qy2 = qc1\n    qc1 += 1.0\n"
                             "    qs3 = np.sum(qy2 * x)\n    return np.sum(t) + qs3")
    program = Program(source, [X.copy()], 0, [V], families={"alias_name"})
    monkeypatch.setattr(srcgrad, "grad", _fake_grad(lambda x: 2 * x))  # wrong with or without the alias
    outcome = runner.check_source(program, "reverse", blame=False)
    small, small_outcome = shrink.shrink(program, "reverse", outcome, budget=150, seconds=30)
    assert small_outcome.kind == oracles.WRONG
    assert shrink.size(small) < shrink.size(program), "the unprotected statements still shrink"
    for line in ("qy2 = qc1", "qc1 += 1.0", "qs3 = np.sum(qy2 * x)"):
        assert line in small.source, small.source
