"""An indexed assignment whose index repeats an element (`out[[2, 2]] = v`): NumPy keeps the last
write, so only that write's value receives the cotangent (overwrite.written_part). Checked
against finite differences in reverse, forward, vjp and second order, for several index forms,
plain and augmented (`out[[2, 2]] += v` adds once: the last value)."""

import numpy as np
import pytest
from generated import assert_hessian_matches_fd, load_function
from hypothesis import given, settings
from hypothesis import strategies as st

import srcgrad
from srcgrad.rules import mutation_helpers as rules
from srcgrad.runtime import writes
from srcgrad.runtime.overwrite import is_basic_index, last_writes, plainly_basic, written_part
from srcgrad.tools.testing import check_grad, check_jvp, check_jvp_rule, check_vjp_rule

W = np.array([0.3, -0.7, 1.1, 0.5, -1.3, 0.9])

BODIES = {
    "issue": "out = np.zeros(3)\n    out[[2, 2]] = 1.0 * w[:2]\n    return np.sum(out * w[:3])",
    "negative_alias": "out = np.zeros(3)\n    out[[-1, 2, 0]] = w[:3] ** 2\n    return np.sum(out * w[3:])",
    "broadcast_value": "out = w[:3] * 1.0\n    out[[1, 1, 0]] = w[4] * w[5]\n    return np.sum(out * w[3:])",
    "index_name": "idx = [0, 2, 0, 1]\n    out = np.zeros(3)\n    out[idx] = w[:4] * w[1]\n    return np.sum(out ** 2 * w[3:])",
    "index_array_2d": ("out = np.zeros(4)\n    out[np.array([[1, 1], [0, 1]])] = w[:4].reshape(2, 2) ** 2\n"
                       "    return np.sum(out * w[2:])"),
    "mixed_tuple": ("out = np.zeros((2, 3))\n    out[[0, 0], 1:] = w[:4].reshape(2, 2) * w[4]\n"
                    "    return np.sum(out * w.reshape(2, 3))"),
    "two_arrays": ("out = np.outer(w[:2], w[2:5])\n    out[[0, 0, 1], [2, 2, 0]] = w[3:] ** 2\n"
                   "    return np.sum(out * w.reshape(2, 3))"),
    "boolean_mask": "out = w * 2.0\n    out[w > 0] = w[w > 0] ** 3\n    return np.sum(out * w)",
    "slice": "out = w * 2.0\n    out[1:4] = w[:3] ** 2\n    return np.sum(out * w)",
    "augmented": "out = w[:3] * w[3]\n    out[[2, 2]] += w[:2] * w[1]\n    return np.sum(out * w[3:])",
    "augmented_mixed": ("out = np.outer(w[:2], w[:3])\n    out[[1, 1], :2] -= w[2:6].reshape(2, 2) ** 2\n"
                        "    return np.sum(out * w.reshape(2, 3))"),
    "vector_output": "out = w[:3] * 1.0\n    out[[0, 2, 0]] = w[3:] ** 2\n    return out * w[:3]",
}


@pytest.fixture(params=sorted(BODIES))
def program(request, tmp_path):
    return load_function(f"import numpy as np\n\n\ndef f(w):\n    {BODIES[request.param]}\n", tmp_path, "repeated")


def test_reverse_and_vjp(program):
    check_grad(program, W)


def test_forward(program):
    check_jvp(program, W)


@pytest.mark.parametrize("name", sorted(set(BODIES) - {"vector_output"}))
def test_second_order(name, tmp_path):
    program = load_function(f"import numpy as np\n\n\ndef f(w):\n    {BODIES[name]}\n", tmp_path, "second")
    assert_hessian_matches_fd(program, W)


def test_the_issue_against_its_closed_form():
    """f(w) = w[1] * w[2]: the gradient is (0, w[2], w[1]), not (w[2], w[2], w[1])."""
    def f(w):
        out = np.zeros(3)
        out[[2, 2]] = 1.0 * w[:2]
        return np.sum(out * w)

    w = W[:3]
    np.testing.assert_allclose(srcgrad.grad(f)(w), [0.0, w[2], w[1]])
    np.testing.assert_allclose(srcgrad.jvp(f, (w,), (np.array([1.0, 0.0, 0.0]),))[1], 0.0)


# ---- the helper itself --------------------------------------------------------------------------

G = np.arange(12.0).reshape(3, 4) + 1.0
INDICES = [
    [2, 2], [-1, 2, 0, 0], np.array([[1, 1], [0, 1]]), ([0, 0], slice(1, None)), ([1, 1, 2], [3, 3, 0]),
    (Ellipsis, [0, 0]), G > 5, (slice(None), [1, 1]), ([0, 0], None, 2),
]


@pytest.mark.parametrize("index", INDICES, ids=repr)
def test_written_part_is_the_cotangent_of_the_written_value(index):
    """Against its definition: the derivative of `out[index] = v` w.r.t. v, entry by entry."""
    got = written_part(G, index)
    shape = G[index].shape
    want = np.zeros(shape)
    for position in np.ndindex(shape):
        v = np.zeros(shape)
        v[position] = 1.0
        out = np.zeros_like(G)
        out[index] = v
        want[position] = np.sum(out * G)
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("index", INDICES, ids=repr)
def test_written_part_rules(index):
    check_vjp_rule(written_part, rules.written_part_vjp, G, index)
    check_jvp_rule(written_part, rules.written_part_jvp, G, index, vjp=rules.written_part_vjp)


def test_basic_indices_take_the_quick_path():
    for index in [1, slice(0, 2), (Ellipsis, 1), (None, 0), (np.int64(1), slice(None))]:
        assert is_basic_index(index) and last_writes(G.shape, index) is None
        assert written_part(G, index) is G[index] or np.shares_memory(written_part(G, index), G)
    assert last_writes(G.shape, G > 3) is None
    assert not is_basic_index([0, 0]) and not last_writes(G.shape, [0, 0]).all()


@pytest.mark.parametrize("source, basic", [("1", True), ("-1", True), ("1:3", True), ("..., 0", True), ("None, 1:", True),
                                           ("i", False), ("[0, 0]", False), ("mask", False), ("0, idx", False)])
def test_plainly_basic_reads_the_source(source, basic):
    import ast

    assert plainly_basic(ast.parse(f"x[{source}]", mode="eval").body.slice) is basic


# ---- properties: random repeated indices, against the definition and the inner-product test ---------

_ROWS = st.lists(st.integers(-3, 2), min_size=1, max_size=7)


@settings(max_examples=60, deadline=None)
@given(rows=_ROWS, columns=st.one_of(st.none(), st.lists(st.integers(0, 3), min_size=1, max_size=1)))
def test_written_part_against_numpy_assignment(rows, columns):
    """Only the last write of an element reaches the value: what assigning unit values finds."""
    index = rows if columns is None else (rows, columns * len(rows))
    shape = G[index].shape
    got = written_part(G, index)
    for position in np.ndindex(shape):
        v = np.zeros(shape)
        v[position] = 1.0
        out = np.zeros_like(G)
        out[index] = v
        assert got[position] == np.sum(out * G)


@settings(max_examples=60, deadline=None)
@given(ind=st.lists(st.integers(-30, 30), min_size=1, max_size=9), n_values=st.integers(1, 5),
       mode=st.sampled_from(["wrap", "clip"]), seed=st.integers(0, 2**16))
def test_put_transposes_by_the_inner_product(ind, n_values, mode, seed):
    """<put_into(a, ind, v), g> = <a, put_zeroed(g)> + <v, put_gather(g)>: the rules' transposes are exact."""
    rng = np.random.default_rng(seed)
    a, g, v = rng.standard_normal((3, 4)), rng.standard_normal((3, 4)), rng.standard_normal(n_values)
    left = np.sum(writes.put_into(a, ind, v, mode) * g)
    right = np.sum(a * writes.put_zeroed(g, ind, mode)) + np.sum(v * writes.put_gather(g, ind, v, mode))
    assert left == pytest.approx(right, rel=1e-12, abs=1e-12)
