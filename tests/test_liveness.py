"""`liveness.live_after` against what reading the code says, on straight code, branches and loops."""

import ast

from srcgrad.analysis.liveness import live_after


def live(source: str) -> dict[str, frozenset[str]]:
    """Names live after each top-level or nested statement, keyed by its text."""
    body = ast.parse(source).body
    found = live_after(body)
    return {ast.unparse(stmt).splitlines()[0]: found[id(stmt)] for stmt in ast.walk(ast.Module(body, [])) if id(stmt) in found}


def test_straight_code_kills_on_rebinding():
    found = live("a = x\nb = a\na = 2.0\nc = a + b\n")
    assert found["a = x"] == {"a"}
    assert found["b = a"] == {"b"}
    assert found["c = a + b"] == frozenset()


def test_a_branch_keeps_what_either_side_reads():
    found = live("y = c\nif t:\n    z = y\nelse:\n    z = 1.0\nr = z\n")
    assert found["y = c"] == {"t", "y"}


def test_a_name_read_at_the_top_of_a_loop_is_live_at_its_bottom():
    found = live("for i in r:\n    w = v[i]\n    v = v * 2.0\nout = w\n")
    assert "v" in found["v = v * 2.0"]
    assert found["v = v * 2.0"] >= {"v", "w"}


def test_an_augmented_write_reads_its_target():
    found = live("s = 0.0\nfor i in r:\n    s += i\n")
    assert "s" in found["s = 0.0"]
    assert found["s += i"] == {"s"}  # a `for` reads its iterable once, before the first pass


def test_a_while_test_is_read_after_every_pass():
    found = live("while k < n:\n    k = k + 1\n    y = 2.0\nout = y\n")
    assert found["k = k + 1"] >= {"k", "n"}
