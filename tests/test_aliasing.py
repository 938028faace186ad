"""In-place writes: Python's semantics where nothing else sees the storage, else a located refusal.

Each program is checked against central finite differences of the program itself, run on
fresh copies of its arguments (so Python's own in-place semantics are the truth).
"""

import copy

import numpy as np
import pytest

import srcgrad

X = np.array([0.3, -0.7, 1.1])


def fd_grad(f, x, eps=1e-6):
    g = np.zeros_like(x)
    for i in range(x.size):
        e = np.zeros_like(x)
        e.flat[i] = eps
        g.flat[i] = (f(copy.deepcopy(x + e)) - f(copy.deepcopy(x - e))) / (2 * eps)
    return g


# ---- shared storage: refused at the line, naming who shares it ---------------------------
def copy_then_add(x):
    c = x * 1.0
    y = c
    c += 1.0
    return np.sum(c * y)


def slice_view(x):
    c = x * 1.0
    v = c[1:]
    v *= 2.0
    return np.sum(c * x)


def transposed_view(x):
    c = np.outer(x, x)
    v = c.T
    v *= 2.0
    return np.sum(c * x)


def reshaped_view(x):
    c = x * 1.0
    v = c.reshape(3)
    v *= 2.0
    return np.sum(c * x)


def asarray_view(x):
    c = x * 1.0
    v = np.asarray(c)
    v[0] = 5.0
    return np.sum(c * x)


def held_by_dict(x):
    c = x * 1.0
    d = {"a": c}
    d["a"] *= 2.0
    return np.sum(c * x)


def held_by_list(x):
    c = x * 1.0
    box = [c]
    c += 1.0
    return np.sum(box[0] * x)


def rows_then_scaled(x):
    a = np.stack([x, x * 2.0])
    s = 0.0
    for b in a:
        a /= 2.0
        s = s + np.sum(b * x)
    return s


def list_alias_appended(x):
    xs = [x]
    ys = xs
    ys.append(x * 2.0)
    return np.sum(xs[1] * x)


def doubles_in_place(u):
    u *= 2.0
    return np.sum(u)


def helper_doubles_a_local(x):
    c = x * 1.0
    s = doubles_in_place(c)
    return s + np.sum(c * x)


SHARED = [
    (copy_then_add, "`y`"), (slice_view, "`c`"), (transposed_view, "`c`"), (reshaped_view, "`c`"),
    (asarray_view, "`c`"), (held_by_dict, "`c`"), (held_by_list, "`box`"), (rows_then_scaled, "`b`"),
    (list_alias_appended, "`xs`"), (helper_doubles_a_local, "the argument `u`"),
]


@pytest.mark.parametrize("fn, sharer", SHARED, ids=[f.__name__ for f, _ in SHARED])
@pytest.mark.parametrize("mode", ["grad", "jvp"])
def test_a_write_into_shared_storage_is_refused_at_its_line(fn, sharer, mode):
    twin = _rebinding_twin(fn)
    assert twin is None or not np.allclose(fd_grad(fn, X), fd_grad(twin, X))
    with pytest.raises(srcgrad.NotDifferentiableError) as caught:
        if mode == "grad":
            srcgrad.grad(fn)(X.copy())
        else:
            srcgrad.jvp(fn, (X.copy(),), (np.ones(3),))
    message = str(caught.value)
    assert "test_aliasing.py:" in message and sharer in message and "^" in message
    assert "copy" in message


def _rebinding_twin(fn):
    """What srcgrad would compute if it took the write for a new value: the truth must differ,
    or the refusal would test nothing."""
    return {copy_then_add: lambda x: np.sum((x + 1.0) * x), slice_view: lambda x: np.sum(x * x),
            transposed_view: lambda x: np.sum(np.outer(x, x) * x), reshaped_view: lambda x: np.sum(x * x),
            asarray_view: lambda x: np.sum(x * x), held_by_dict: lambda x: np.sum(x * x),
            held_by_list: lambda x: np.sum(x * x), rows_then_scaled: lambda x: np.sum(x * x) * 3.0,
            }.get(fn)  # appending to `ys` alone leaves `xs[1]` missing; the helper's copy is the caller's


def writes_argument(x):
    x[0] = 0.0
    return np.sum(x * x)


def adds_into_argument(x):
    x += 1.0
    return np.sum(x * x)


def writes_module_array(x):
    MODULE[0] = x[0]
    return np.sum(MODULE * x)


MODULE = np.zeros(3)


@pytest.mark.parametrize("fn, what", [(writes_argument, "the argument `x`"), (adds_into_argument, "the argument `x`"),
                                      (writes_module_array, "the module-level `MODULE`")])
def test_a_write_into_an_argument_or_module_array_is_refused(fn, what):
    with pytest.raises(srcgrad.NotDifferentiableError, match=r"test_aliasing.py:\d+:\d+: .*" + what):
        srcgrad.grad(fn)(X.copy())


# ---- nothing else sees the storage: differentiated as Python runs it ---------------------
def fresh_scaled(x):
    c = x * 1.0
    c *= 2.0
    return np.sum(c * x)


def copied_slice_scaled(x):
    c = x.copy()
    c[1:] *= 2.0
    return np.sum(c * x)


def view_with_dead_base(x):
    c = x * 1.0
    v = c[1:]
    v *= 2.0
    return np.sum(v * x[1:])


def alias_dead_after(x):
    c = x * 2.0
    y = c
    s = np.sum(y)
    c += x
    return s + np.sum(c * x)


def buffer_filled(x):
    buf = np.zeros(3)
    buf[0] = x[1]
    buf += x
    return np.sum(buf * x)


def accumulated_in_loop(x):
    acc = np.zeros(3)
    for i in range(3):
        acc += x * x[i]
    return np.sum(acc)


def float_updates(x):
    s = x[0]
    old = s
    s *= 2.0
    s += x[1]
    return old * s + x[2]


def adds_to_a_float(a, b):
    c = a
    a += b
    return a * c


def helper_on_floats(x):
    return adds_to_a_float(x[0], x[1]) + x[2]


def new_array_each_pass(x):
    prev, total = np.ones(3), 0.0
    for i in range(3):
        buf = np.zeros(3)
        buf[i] = x[i] * 2.0  # `prev` holds the array of the pass before, not this one
        total = total + np.sum(buf * prev * x)
        prev = buf
    return total


def rebound_not_written(x):
    a = x
    a = a * 2.0
    return np.sum(a * x)


FRESH = [fresh_scaled, copied_slice_scaled, view_with_dead_base, alias_dead_after, buffer_filled,
         accumulated_in_loop, float_updates, helper_on_floats, new_array_each_pass, rebound_not_written]


@pytest.mark.parametrize("fn", FRESH, ids=[f.__name__ for f in FRESH])
def test_writes_nothing_else_sees_follow_python(fn):
    want = fd_grad(fn, X)
    np.testing.assert_allclose(srcgrad.grad(fn)(X.copy()), want, rtol=1e-6, atol=1e-8)
    value, tangent = srcgrad.jvp(fn, (X.copy(),), (np.array([0.2, -0.4, 0.9]),))
    np.testing.assert_allclose(tangent, want @ np.array([0.2, -0.4, 0.9]), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(value, fn(X.copy()))


def scale_float(s, w):
    t = s
    s *= w
    return s + t


def test_the_run_time_check_passes_numbers_and_refuses_arrays():
    """`s *= w` on a parameter of unknown type: a number rebinds (differentiated), an array
    shared with `t` is refused when it arrives."""
    df = srcgrad.grad(scale_float, wrt=1)
    assert df(1.5, 2.0) == pytest.approx(1.5)
    assert "check_unshared(s, '__imul__'" in srcgrad.source(srcgrad.grad(scale_float))
    with pytest.raises(srcgrad.NotDifferentiableError, match=r"test_aliasing.py:\d+:\d+: `s \*= \.\.\.`.*the argument `s`"):
        df(np.ones(3), 2.0)


def test_second_order_through_a_checked_update():
    f = srcgrad.grad(lambda_free_helper)
    want = (fd_grad(lambda z: srcgrad.grad(lambda_free_helper)(z)[0], X))
    np.testing.assert_allclose(srcgrad.hessian(lambda_free_helper)(X.copy())[0], want, rtol=1e-5, atol=1e-7)
    assert np.allclose(f(X.copy()), fd_grad(lambda_free_helper, X), rtol=1e-6)


def lambda_free_helper(x):
    return scale_float(x[0], x[1]) * x[2] + x[0] ** 3


# ---- a container holding one object twice ------------------------------------------------
def held_twice(x):
    c = np.tanh(x) * 1.0
    d = [c, c]
    d[0] += 1.5 * x
    return np.sum(d[1] * x)


def held_twice_written_deep(x):
    c = x * 1.0
    rows = [c, c]
    rows[0][1] = 5.0 * x[0]
    return np.sum(rows[1] * x)


def held_once_each(x):
    d = [x * 1.0, x * 2.0]
    d[0] += 1.5 * x
    return np.sum(d[0] * d[1])


@pytest.mark.parametrize("fn", [held_twice, held_twice_written_deep])
def test_writing_an_object_a_container_holds_twice_is_refused(fn):
    for run in (lambda: srcgrad.grad(fn)(X.copy()), lambda: srcgrad.jvp(fn, (X.copy(),), (np.ones(3),))):
        with pytest.raises(srcgrad.NotDifferentiableError, match=r"test_aliasing.py:\d+:\d+: .*holds more than once"):
            run()


def test_a_container_holding_distinct_arrays_is_written_as_python_does():
    np.testing.assert_allclose(srcgrad.grad(held_once_each)(X.copy()), fd_grad(held_once_each, X), rtol=1e-6)
    np.testing.assert_allclose(srcgrad.grad(held_once_each)(X.copy()), 10.0 * X)  # sum(2.5x * 2x)


def joins_argument_tuples(t, s):
    u = t + s  # the items of u are the arrays the caller passed in
    u[0][1] = 5.0 * s[0][0]
    return np.sum(t[0] * s[0])


def joins_argument_arrays(x):
    c = x + x * 2.0  # new storage: writing into it leaves the argument alone
    c[1:] *= 2.0
    return np.sum(c * x)


def test_writing_into_an_item_of_joined_argument_tuples_is_refused():
    t, s = (np.array([0.3, -0.7]),), (np.array([1.1, 0.4]),)
    with pytest.raises(srcgrad.NotDifferentiableError, match=r"test_aliasing.py:\d+:\d+: .*an argument holds"):
        srcgrad.grad(joins_argument_tuples, wrt=1)(t, s)


def test_writing_into_the_sum_of_argument_arrays_is_differentiated():
    np.testing.assert_allclose(srcgrad.grad(joins_argument_arrays)(X.copy()), fd_grad(joins_argument_arrays, X), rtol=1e-6)


def item_of_joined_arguments_written(t, s):
    v = (t + s)[0]  # the caller's array t[0]
    v[1] = 5.0 * s[0][0]
    return np.sum(t[0] * s[0])


def item_of_joined_arguments_updated(t, s):
    u = t + s
    v = u[0]
    v += s[0]
    return np.sum(t[0] * s[0])


def view_of_joined_arrays_written(x):
    c = x + x * 2.0
    v = c[1:]
    v[0] = 5.0 * x[0]
    return np.sum(v * x[1:])


@pytest.mark.parametrize("fn", [item_of_joined_arguments_written, item_of_joined_arguments_updated])
def test_a_name_for_an_item_of_joined_argument_tuples_is_refused_when_written(fn):
    t, s = (np.array([0.3, -0.7]),), (np.array([1.1, 0.4]),)
    with pytest.raises(srcgrad.NotDifferentiableError, match=r"test_aliasing.py:\d+:\d+: .*an argument holds"):
        srcgrad.grad(fn, wrt=1)(t, s)


def test_a_view_of_joined_argument_arrays_is_fresh_storage():
    got = srcgrad.grad(view_of_joined_arrays_written)(X.copy())
    np.testing.assert_allclose(got, fd_grad(view_of_joined_arrays_written, X), rtol=1e-6)


def helper_sum(a, b):
    return a + b


def view_of_a_value_made_from_a_helpers_result(x):
    parts = [np.sum(x), helper_sum(0.5, 0.5)]  # a helper's result might be a list, or an array
    t = parts[0] * parts[-1] + parts[1]
    c = W3 * t * 1.0
    v = c[1:]  # a view of an array, not a copy of a list
    v *= 2.0
    return np.sum(c * x)


W3 = np.array([0.3, -0.5, 0.8])


def test_a_slice_of_what_only_may_be_a_list_is_taken_for_a_view():
    """Seed 25, program 6527 (vjp): an operator's result made from a helper's was taken for a
    list, its slice for a copy, and the write through the view was differentiated as a rebinding."""
    with pytest.raises(srcgrad.NotDifferentiableError, match=r"test_aliasing.py:\d+:\d+: `v \*= \.\.\.`.*`c`"):
        srcgrad.grad(view_of_a_value_made_from_a_helpers_result)(X.copy())
