"""NumPy calls that write into an array (mutators.py, writes.py, rules/mutation_helpers.py): the
functional forms against NumPy's own in-place calls, their rules against finite differences,
derivatives through them in every mode, and the rewrite of a writing statement end to end."""

import ast
import textwrap

import numpy as np
import pytest
from generated import assert_hessian_matches_fd, load_function

import srcgrad
from srcgrad.frontend.parse import MISSING
from srcgrad.lowering.mutators import functional_form, mutates, written_into, written_names
from srcgrad.rules import mutation_helpers as rules
from srcgrad.runtime import writes
from srcgrad.tools.testing import check_grad, check_jvp, check_jvp_rule, check_vjp_rule, directional_fd

RNG = np.random.default_rng(7)


def _static_value(expr):
    """Names of this module's globals (`np`) and their attributes; MISSING for locals."""
    if isinstance(expr, ast.Name):
        return {"np": np}.get(expr.id, MISSING)
    if isinstance(expr, ast.Attribute):
        base = _static_value(expr.value)
        return MISSING if base is MISSING else getattr(base, expr.attr, MISSING)
    return MISSING


def _in_place(call, a, *args, **kwargs):
    out = np.array(a, copy=True)
    call(out, *args, **kwargs)
    return out


# ---- the functional forms do what NumPy's in-place calls do, and leave their inputs alone ------

A = RNG.standard_normal((4, 4))
CASES = [
    (writes.copied_into, np.copyto, (RNG.standard_normal(4),), {}),
    (writes.copied_into, np.copyto, (2.5,), {}),
    (writes.put_into, np.put, ([0, 5, 5, 15], RNG.standard_normal(3)), {}),
    (writes.put_into, np.put, ([1, 20, -1], RNG.standard_normal(2)), {"mode": "wrap"}),
    (writes.put_into, np.put, ([1, 20], RNG.standard_normal(2)), {"mode": "clip"}),
    (writes.placed_into, np.place, (A > 0, RNG.standard_normal(3)), {}),
    (writes.diagonal_filled, np.fill_diagonal, (RNG.standard_normal(3),), {}),
    (writes.diagonal_filled, np.fill_diagonal, (1.5,), {"wrap": True}),
    (writes.added_at, np.add.at, ([0, 0, 2], RNG.standard_normal((3, 4))), {}),
    (writes.subtracted_at, np.subtract.at, ((np.array([1, 1]), np.array([2, 2])), 0.5), {}),
]


@pytest.mark.parametrize("helper, numpy_call, args, kwargs", CASES)
def test_functional_form_matches_numpy(helper, numpy_call, args, kwargs):
    before = A.copy()
    got = helper(A, *args, **kwargs)
    np.testing.assert_array_equal(got, _in_place(numpy_call, A, *args, **kwargs))
    np.testing.assert_array_equal(A, before)


def test_filled_matches_fill_and_refuses_a_list():
    out = A.copy()
    out.fill(0.25)
    np.testing.assert_array_equal(writes.filled(A, 0.25), out)
    with pytest.raises(TypeError, match="np.full_like"):
        writes.filled([1.0, 2.0], 0.25)


def test_diagonal_positions_follow_numpy():
    for shape, wrap in [((4, 4), False), ((6, 3), False), ((7, 3), True), ((3, 3, 3), False), ((2, 5), False)]:
        marked = np.zeros(shape)
        np.fill_diagonal(marked, 1.0, wrap=wrap)
        np.testing.assert_array_equal(writes.diagonal_positions(shape, wrap), np.flatnonzero(marked))


# ---- each rule against finite differences, called directly -------------------------------------

RULE_CASES = [
    (writes.copied_into, rules.copied_into_vjp, rules.copied_into_jvp, (A, RNG.standard_normal(4)), {}),
    (writes.filled, rules.filled_vjp, rules.filled_jvp, (A, 0.7), {}),
    (writes.put_into, rules.put_into_vjp, rules.put_into_jvp, (A, [0, 5, 5, 15, 3], RNG.standard_normal(2)), {}),
    (writes.put_into, rules.put_into_vjp, rules.put_into_jvp, (A, [1, 20, -1], RNG.standard_normal(3)),
     {"mode": "wrap"}),
    (writes.placed_into, rules.placed_into_vjp, rules.placed_into_jvp, (A, A > 0, RNG.standard_normal(3)), {}),
    (writes.diagonal_filled, rules.diagonal_filled_vjp, rules.diagonal_filled_jvp, (A, RNG.standard_normal(3)), {}),
    (writes.diagonal_filled, rules.diagonal_filled_vjp, rules.diagonal_filled_jvp,
     (RNG.standard_normal((7, 3)), RNG.standard_normal(2)), {"wrap": True}),
    (writes.added_at, rules.added_at_vjp, rules.added_at_jvp, (A, [0, 0, 2], RNG.standard_normal((3, 4))), {}),
    (writes.subtracted_at, rules.subtracted_at_vjp, rules.subtracted_at_jvp,
     (A, (np.array([1, 1, 3]), np.array([2, 2, 0])), RNG.standard_normal(3)), {}),
    (writes.put_zeroed, rules.put_zeroed_vjp, rules.put_zeroed_jvp, (A, [3, 3, 9]), {}),
    (writes.put_gather, rules.put_gather_vjp, rules.put_gather_jvp, (A, [3, 3, 9, 0], RNG.standard_normal(3)), {}),
]


@pytest.mark.parametrize("primal, vjp, jvp, args, kwargs", RULE_CASES)
def test_rules_against_finite_differences(primal, vjp, jvp, args, kwargs):
    check_vjp_rule(primal, vjp, *args, **kwargs)
    check_jvp_rule(primal, jvp, *args, vjp=vjp, **kwargs)


# ---- derivatives of functions calling the forms: reverse, forward, second order -----------------

SOURCES = {
    "put": "return np.sum(put_into(np.zeros(3), [0, 2], w[:2]) * w[1:] ** 2)",
    "put_repeated_cyclic": "return np.sum(put_into(w * w[0], [0, 3, 0, 1, 2], w[1:3]) * w)",
    "place": "return np.sum(placed_into(w * 2.0, w > 0.0, w[1:3] ** 2) * w)",
    "diagonal": "return np.sum(diagonal_filled(np.outer(w, w), w[:3] * w[1]) * np.outer(w, w[::-1]))",
    "added_at": "return np.sum(added_at(w * w[2], [1, 1, 3], w[:3] ** 2) * w)",
    "subtracted_at": "return np.sum(subtracted_at(w ** 2, [0, 0], w[3]) * w)",
    "copied_into": "return np.sum(copied_into(np.ones((2, 4)), w * w[0]) * w)",
    "filled": "return np.sum(filled(w * 3.0, w[1] ** 2) * w)",
}
HEADER = "import numpy as np\nfrom srcgrad.runtime.writes import *  # noqa\n\n\ndef f(w):\n    "
W = np.array([0.3, -0.7, 1.1, 0.5])


@pytest.fixture(params=sorted(SOURCES))
def through_form(request, tmp_path):
    return load_function(HEADER + SOURCES[request.param] + "\n", tmp_path, "forms")


def test_reverse_and_forward(through_form):
    check_grad(through_form, W)
    check_jvp(through_form, W)


def test_second_order(through_form):
    assert_hessian_matches_fd(through_form, W)


# ---- the rewrite of a writing statement ----------------------------------------------------------


def _rewrite(source):
    """The function of `source` with each writing statement replaced by its functional form (as
    the alias stage does), and the helpers it names."""
    node = ast.parse(textwrap.dedent(source)).body[0]
    helpers = {}
    for i, stmt in enumerate(node.body):
        if isinstance(stmt, ast.Expr):
            form = functional_form(stmt, _static_value, lambda name: name)
            if form is not None:
                node.body[i], names = form
                helpers.update(names)
    return node, helpers


REWRITES = [
    ("np.copyto(out, w[:3])", "out = copied_into(out, w[:3])"),
    ("np.copyto(dst=out, src=w[0])", "out = copied_into(out, w[0])"),
    ("np.put(out, [0, 2, 2], w, mode='wrap')", "out = put_into(out, [0, 2, 2], w, 'wrap')"),
    ("np.place(out, out == 0.0, w[1:])", "out = placed_into(out, out == 0.0, w[1:])"),
    ("np.add.at(out, [1, 1], w[:2])", "out = added_at(out, [1, 1], w[:2])"),
    ("np.subtract.at(out, [0, 2], w[3])", "out = subtracted_at(out, [0, 2], w[3])"),
    ("out.fill(w[0] * 2.0)", "out = filled(out, w[0] * 2.0)"),
    ("np.multiply(w[:3], 2.0, out=out)", "out = copied_into(out, np.multiply(w[:3], 2.0))"),
    ("np.sin(w[1:], out)", "out = copied_into(out, np.sin(w[1:]))"),
    ("np.add(w[:3], w[1:], out=(out,))", "out = copied_into(out, np.add(w[:3], w[1:]))"),
]


@pytest.mark.parametrize("statement, expected", REWRITES)
def test_rewrite_text_and_gradient(statement, expected, tmp_path):
    source = f"def f(w):\n    out = w[1:] * w[0]\n    {statement}\n    return np.sum(out * w[:3])\n"
    node, helpers = _rewrite(source)
    assert ast.unparse(node.body[1]) == expected
    assert all(getattr(writes, name) is obj for name, obj in helpers.items())
    original = load_function("import numpy as np\n\n" + source, tmp_path, "original")
    rewritten = load_function(f"import numpy as np\nfrom srcgrad.runtime.writes import {', '.join(helpers)}\n\n"
                              + ast.unparse(node) + "\n", tmp_path, "rewritten")
    w = RNG.standard_normal(4)
    assert rewritten(w) == pytest.approx(original(w), rel=1e-12)
    check_grad(rewritten, w)
    check_jvp(rewritten, w)
    np.testing.assert_allclose(srcgrad.grad(rewritten)(w), [directional_fd(original, [w], [0], [e]) for e in np.eye(4)],
                               rtol=1e-5, atol=1e-7)


def test_rewrite_of_fill_diagonal_text():
    """(Its gradient, on a 2-D array, is in the end-to-end tests below.)"""
    stmt = ast.parse("np.fill_diagonal(out, w[0], True)").body[0]
    assign, helpers = functional_form(stmt, _static_value, lambda name: name)
    assert ast.unparse(assign) == "out = diagonal_filled(out, w[0], True)" and helpers == {
        "diagonal_filled": writes.diagonal_filled}


def test_rewrite_keeps_the_location_and_reserves_the_helper_name():
    stmt = ast.parse("np.put(out, [0], v)").body[0]
    stmt.lineno, stmt.col_offset = 7, 4
    assign, helpers = functional_form(stmt, _static_value, lambda name: name + "_9")
    assert (assign.lineno, assign.col_offset, assign.value.lineno) == (7, 4, 7)
    assert assign.value.func.id == "put_into_9" and helpers == {"put_into_9": writes.put_into}


LEFT_ALONE = [
    "np.multiply.at(out, [0, 0], v)",  # no functional form: the existing refusal stays
    "np.negative.at(out, [0])",
    "np.putmask(out, out > 0, v)",
    "np.copyto(out, v, where=m)",
    "np.multiply(x, 2.0, out=out, where=m)",
    "np.divmod(x, 2.0, out=(q, r))",
    "np.put(*args)",
    "np.put(out, ind, v, **options)",
    "out.sort()",
    "out.resize(3)",
    "self.out.fill(0.0)",
    "np.put(self.out, [0], v)",
    "np.sin(x)",
    "print(out)",
    "f(out=out)",
]


@pytest.mark.parametrize("statement", LEFT_ALONE)
def test_calls_not_rewritten(statement):
    stmt = ast.parse(statement).body[0]
    assert functional_form(stmt, _static_value, lambda name: name) is None


WRITES = [
    ("np.copyto(out, v)", ["out"]), ("np.put(out, ind, v)", ["out"]), ("np.place(out, m, v)", ["out"]),
    ("np.putmask(out, m, v)", ["out"]), ("np.fill_diagonal(a=out, val=v)", ["out"]),
    ("np.multiply.at(out, [0], v)", ["out"]), ("np.add.at(out, [0], v)", ["out"]), ("out.fill(v)", ["out"]),
    ("out.sort()", ["out"]), ("out.resize(3)", ["out"]), ("out.partition(1)", ["out"]),
    ("out.itemset(0, v)", ["out"]), ("out.setfield(v, float)", ["out"]),
    ("np.multiply(x, 2.0, out=out)", ["out"]), ("np.sin(x, out)", ["out"]), ("np.divmod(x, 2.0, out=(q, r))", ["q", "r"]),
    ("np.sum(x, axis=0, out=out)", ["out"]), ("np.add.reduce(x, out=out)", ["out"]), ("g(x, out=out)", ["out"]),
    ("np.sin(x)", []), ("np.put(self.out, [0], v)", []), ("print(out)", []), ("np.fill_diagonal(x.T, 0.0)", []),
]


@pytest.mark.parametrize("statement, names", WRITES)
def test_mutates_names_the_written_local(statement, names):
    call = ast.parse(statement).body[0].value
    assert written_names(call, _static_value) == names
    assert mutates(call, _static_value) == (names[0] if names else None)


@pytest.mark.parametrize("statement, written", [
    *((statement, names[0]) for statement, names in WRITES if len(names) == 1),
    ("np.divmod(x, 2.0, out=(q, r))", "(q, r)"), ("np.put(self.out, [0], v)", "self.out"),
    ("np.fill_diagonal(x.T, 0.0)", "x.T"), ("xs.append(v)", "xs"), ("d.update(e)", "d"), ("np.sin(x)", None),
    ("print(out)", None),
])
def test_written_into_is_what_the_alias_stage_sees_written(statement, written):
    call = ast.parse(statement).body[0].value
    found = written_into(call, _static_value)
    assert (None if found is None else ast.unparse(found)) == written


# ---- end to end: the alias stage rewrites the writing statements of a differentiated function -------

PROGRAMS = {
    "put": "out = np.zeros(4)\n    np.put(out, [0, 2, 2], w[:3] * w[0])\n    return np.sum(out * w[:4])",
    "put_wrap_cyclic": "out = w[:4] * 1.0\n    np.put(out, [1, 5, 9, 0], w[4:], mode='wrap')\n    return np.sum(out ** 2 * w[:4])",
    "put_method": "out = np.zeros(4)\n    out.put([3, 1], w[2] * w[:2])\n    return np.sum(out * w[:4])",
    "copyto": "out = np.zeros((2, 4))\n    np.copyto(out, w[:4] * w[1])\n    return np.sum(out * w[1:5])",
    # the written array passed by NumPy's keyword: it was not seen as written, and the derivative lost the write
    "copyto_keywords": "out = np.zeros(4)\n    np.copyto(dst=out, src=w[:4] * w[1])\n    return np.sum(out * w[1:5])",
    "put_keywords": "out = np.zeros(4)\n    np.put(a=out, ind=[0, 2], v=w[:2] * w[3])\n    return np.sum(out * w[:4])",
    "place_keywords": "out = np.ones(6)\n    np.place(arr=out, mask=w > 0, vals=w[:2] ** 2)\n    return np.sum(out * w)",
    "place": "out = np.ones(6)\n    np.place(out, w > 0, w[:2] ** 2)\n    return np.sum(out * w)",
    "fill_diagonal": ("out = np.outer(w[:3], w[3:])\n    np.fill_diagonal(out, w[:2] * w[3])\n"
                      "    return np.sum(out * np.outer(w[3:], w[:3]))"),
    "fill_diagonal_wrap": ("out = np.ones((5, 2))\n    np.fill_diagonal(out, w[0] * w[1], wrap=True)\n"
                           "    return np.sum(out * w[:2] * w[2])"),
    "add_at": "out = w * 1.0\n    np.add.at(out, [0, 0, 3], w[:3] * w[2])\n    return np.sum(out * w)",
    "subtract_at_2d": ("out = np.outer(w[:2], w[:3])\n    np.subtract.at(out, ([1, 1], [2, 2]), w[4] ** 2)\n"
                       "    return np.sum(out * w.reshape(2, 3))"),
    "fill": "out = np.zeros(4)\n    out.fill(w[0] * w[1])\n    return np.sum(out * w[2:])",
    "fill_constant": "out = w * 2.0\n    out.fill(0.5)\n    return np.sum(out * w)",
    "out_keyword": "out = np.zeros(6)\n    np.multiply(w, w[2], out=out)\n    return np.sum(out * w)",
    "out_positional": "out = np.zeros(6)\n    np.sin(w * w[0], out)\n    return np.sum(out * w)",
    "in_a_loop": ("out = np.zeros(3)\n    for i in range(2):\n        np.add.at(out, [i, i + 1, i], w[i] * w[3])\n"
                  "    return np.sum(out * w[:3])"),
    "in_a_branch": ("out = np.zeros(3)\n    if w[0] > 0:\n        np.copyto(out, w[3:] ** 2)\n    else:\n"
                    "        out.fill(w[1])\n    return np.sum(out * w[:3])"),
}


@pytest.fixture(params=sorted(PROGRAMS))
def writing(request, tmp_path):
    return load_function(f"import numpy as np\n\n\ndef f(w):\n    {PROGRAMS[request.param]}\n", tmp_path, "writing")


V = np.array([0.3, -0.7, 1.1, 0.5, -1.3, 0.9])


def test_writing_calls_reverse_and_forward(writing):
    check_grad(writing, V)
    check_jvp(writing, V)


def test_writing_calls_second_order(writing):
    assert_hessian_matches_fd(writing, V)


def test_writing_call_leaves_no_in_place_write_in_the_derivative():
    def f(w):
        out = np.zeros(3)
        np.put(out, [0, 2], w[:2])
        return np.sum(out * w)

    text = srcgrad.source(f)
    code = [line.strip() for line in text.splitlines() if not line.strip().startswith("#")]
    assert any("put_into(out" in line for line in code) and not any("np.put(" in line for line in code)


REFUSED = [
    ("out = np.zeros(3)\n    np.multiply.at(out, [0, 0], w[:2])", "np.multiply.at(...)` writes values into `out`"),
    ("out = np.zeros(3)\n    np.putmask(out, w > 0, w)", "np.putmask(...)` writes values into `out`"),
    ("out = np.zeros(3)\n    np.copyto(out, w, where=w > 0)", "np.copyto(...)` writes values into `out`"),
    ("np.put(w, [0], w[1])", "writes in place into the argument `w`"),
    ("out = np.zeros(3)\n    view = out\n    out.fill(w[0])\n    w = w * view", "`view`"),
    ("out = np.zeros(3)\n    view = out\n    np.copyto(dst=out, src=w)\n    w = w * view", "`view`"),
]


@pytest.mark.parametrize("body, message", REFUSED)
@pytest.mark.parametrize("mode", ["reverse", "forward"])
def test_writes_without_a_form_or_into_shared_storage_stay_refused(body, message, mode, tmp_path):
    f = load_function(f"import numpy as np\n\n\ndef f(w):\n    {body}\n    return np.sum(w)\n", tmp_path, "refused")
    w = np.array([0.3, -0.7, 1.1])
    with pytest.raises(srcgrad.NotDifferentiableError, match=r"refused_\d+\.py:\d+:\d+") as info:
        if mode == "reverse":
            srcgrad.grad(f)(w)
        else:
            srcgrad.jvp(f, (w,), (w,))
    assert message in str(info.value)
