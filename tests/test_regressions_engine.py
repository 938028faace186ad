"""Regressions of the derivative engine: programs srcgrad once got silently wrong or failed
on, each checked against finite differences of the program itself (or a closed form), in
reverse mode (floats, 0-d and 1-d arrays), forward mode and to second order."""

from __future__ import annotations

import math

import numpy as np
import pytest
from generated import fd_grad

import srcgrad
from srcgrad.tools.testing import directional_fd

# ---- an assignment whose value reads its own target -------------------------------------
# Normalization compared the user's name with the versioned names the value reads (`a_1 = 3.0 * a_1`
# after a top-level `a = a + a`), so it did not put the value in a temporary, and the adjoint
# added into `a_1_bar` what it read of `a_1_bar`, then zeroed it.


def serial_if(a):
    if a > 0:
        a = a * a
    a = a + a
    if a < 0:
        a = 3.0 * a
    return a


def shift(x):
    t = np.hypot(0.45, x)
    t = x - t
    c = 0.9
    if c > -0.97:
        t -= math.sin(c)
    return c + x + t


def square_in_if(a):
    a = a + 1.0
    if a > 0:
        a = a * a
    return a


def self_update_in_elif_and_else(a):
    a = a * 2.0
    if a > 10:
        a = a + 1.0
    elif a > 0:
        a = a * a
    else:
        a = 3.0 * a
    return a


def augmented_in_if(a):
    a = a + 0.5
    if a > 0:
        a *= 3.0
    return a * a


def self_update_in_for(x):
    x = x * 1.0
    for _ in range(3):
        x = x - 0.3 * np.sin(x)
    return x


def self_update_in_while(x):
    x = x + 0.0
    n = 0
    while n < 3:
        x = x * x * 0.5
        n = n + 1
    return x


def self_update_in_nested_ifs(a):
    a = a - 0.1
    if a < 5:
        if a < 3:
            a = a * a
        a = 2.0 * a
    return a


def several_serial_ifs(a):
    if a > 0:
        a = a * a
    a = a + a
    if a < 10:
        a = 3.0 * a
    a = a * 0.5
    if a < 10:
        a = a * a
    a = a + 1.0
    if a > -100:
        a = np.sin(a)
    return a


def self_update_of_array(x):
    x = x * 1.5
    if np.sum(x) < 100:
        x = x * x
    return np.sum(np.sin(x))


SELF_UPDATES = [serial_if, shift, square_in_if, self_update_in_elif_and_else, augmented_in_if, self_update_in_for,
                self_update_in_while, self_update_in_nested_ifs, several_serial_ifs]
POINTS = [-1.5, -0.4, 0.7, 2.2]


def _fd(f, x, step=1e-6):
    return float(directional_fd(f, [x], [0], [1.0], step=step))


def _fd2(f, x):
    """The second derivative of scalar `f` by central differences of central differences."""
    return _fd(lambda y: _fd(f, y, 1e-4), x, 1e-4)


def _close(got, want, rtol=1e-5, atol=1e-6):
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)


def test_serial_if_closed_form():
    # at -1.5 the first branch is skipped, a + a = -3 < 0, so the result is 6a
    assert srcgrad.grad(serial_if)(-1.5) == pytest.approx(6.0)


def test_shift_closed_form():
    for x in (-1.0, 0.3, 2.0):
        assert srcgrad.grad(shift)(x) == pytest.approx(1 + (1 - x / math.hypot(0.45, x)))


def test_self_update_of_an_array():
    x = np.array([0.3, -0.8, 1.1])
    _close(srcgrad.grad(self_update_of_array)(x), fd_grad(self_update_of_array, [x], 0))
    u = np.array([1.0, -0.5, 0.25])
    _close(srcgrad.jvp(self_update_of_array, (x,), (u,))[1], directional_fd(self_update_of_array, [x], [0], [u]))


# ---- dead code whose use was kept, and a push without its tape ---------------------------
# A loop whose replay the backward sweep does not need still counts its trips: `_n1 += 1`.
# The clean-up saw no read of `_n1` there (a statement's usage lists its `Load` names; `x += e`
# stores `x`), dropped `_n1 = 0` and kept the increment. In a loop, the trip count of an inner
# `while` (or breaking `for`) went on the tape outside the tape's bookkeeping: when the replay
# was dropped, its pop went, its push stayed, and no `_tape` was made.


def dead_loop(x):
    t = x
    for _ in range(3):
        t = t * 0.7 + x
        if t > 1.5:
            break
    return x * x


def dead_while(x):
    t = x
    n = 0
    while n < 3:
        t = t * 0.7 + x
        n = n + 1
    return x * x


def dead_loop_in_loop(x):
    t = x
    for _ in range(2):
        for _ in range(3):
            t = t * 0.7 + x
            if t > 1.5:
                break
    return np.sin(x)


def half_dead_loop(x):
    t = x
    y = x
    for _ in range(3):
        t = t * 0.7 + x
        y = y * 1.1
        if t > 1.5:
            break
    return y


def while_in_for(x):
    s = 0.0
    for i in range(3):
        j = 0
        while j < 2:
            j = j + 1
            s = s + 1.0
    return x * x + s


def while_in_while(x):
    i = 0
    s = 0.0
    while i < 2:
        i = i + 1
        j = 0
        while j < 2:
            j = j + 1
            s = s + 1.0
    return x * x + s


def breaking_for_in_for(x):
    s = 0.0
    for i in range(3):
        for k in range(4):
            s = s + 1.0
            if s > 5:
                break
    return x * s


def active_while_in_for(x):
    for i in range(3):
        j = 0
        while j < 2:
            j = j + 1
            x = x * 1.1 + 0.1 * np.sin(x)
    return x


def active_while_in_while(x):
    i = 0
    while i < 2:
        i = i + 1
        j = 0
        while j < i:
            j = j + 1
            x = np.sin(x) + x
    return x


def active_breaking_for_in_for(x):
    for i in range(3):
        for k in range(4):
            x = x * 0.9 + 0.1
            if x > 5:
                break
    return x * x


LOOPS = [dead_loop, dead_while, dead_loop_in_loop, half_dead_loop, while_in_for, while_in_while, breaking_for_in_for,
         active_while_in_for, active_while_in_while, active_breaking_for_in_for]


def test_dead_loops_closed_form():
    for x in (-1.0, 0.8, 3.0):
        assert srcgrad.grad(dead_loop)(x) == pytest.approx(2 * x)
        assert srcgrad.grad(while_in_for)(x) == pytest.approx(2 * x)
        assert srcgrad.grad(breaking_for_in_for)(x) == pytest.approx(7.0)  # 4 trips, then 2, then 1


# ---- copy propagation past a rebinding ----------------------------------------------------
# `_propagate` took a parameter bound once in the body (`stores.get(name, 1) == 1`: the
# default counted the parameter's own binding, which the body does not hold) for one never
# rebound, and replaced `a` by `x` after the loop rebinding `x` (reverse mode: the backward
# sweep's pops rebind parameters too; forward mode: `x_dot = zero_tangent(x)`).


def copy_then_rebind(x):
    a = x
    for i in range(1):
        x = 0.0
    return np.sin(a)


def copy_then_rebind_in_if(x):
    a = x
    if x > 0:
        x = 0.0
    return np.sin(a) + x


def copy_then_rebind_in_while(x):
    a = x
    n = 0
    while n < 2:
        x = x * 0.5
        n = n + 1
    return a * x


def copy_then_rebind_in_nested_blocks(x):
    a = x
    for i in range(2):
        if i > 0:
            x = x * 3.0
    return np.sin(a) * x


def copy_of_copy_then_rebind(x):
    a = x
    b = a
    for i in range(1):
        x = 1.0
    return np.sin(b) + x


def copy_of_local_then_rebind(x):
    b = x * 2.0
    a = b
    for i in range(1):
        b = 0.0
    return np.sin(a) + b


def constant_then_rebind(x):
    c = 2.0
    y = c * x
    for i in range(2):
        c = c + 1.0
    return y * c


COPIES = [copy_then_rebind, copy_then_rebind_in_if, copy_then_rebind_in_while, copy_then_rebind_in_nested_blocks,
          copy_of_copy_then_rebind, copy_of_local_then_rebind, constant_then_rebind]


def test_copy_then_rebind_closed_form():
    for x in (-1.0, 0.7, 2.0):
        assert srcgrad.grad(copy_then_rebind)(x) == pytest.approx(math.cos(x))
        assert srcgrad.jvp(copy_then_rebind, (x,), (1.0,)) == pytest.approx((math.sin(x), math.cos(x)))


def summed_copy_then_rebind(x):
    a = x
    for i in range(1):
        x = 0.0 * x
    return np.sum(np.sin(a)) + np.sum(x)


def test_copy_then_rebind_arrays():
    x = np.array([0.2, -1.3, 0.9])
    _close(srcgrad.grad(summed_copy_then_rebind)(x), np.cos(x))
    u = np.array([1.0, 2.0, -1.0])
    _close(srcgrad.jvp(summed_copy_then_rebind, (x,), (u,))[1], np.cos(x) @ u)


# ---- second order: a pop of a list without derivative was not undone ---------------------
# The backward sweep undoes every `lst.append(v)` with `lst.pop()`, but undid `v = lst.pop()`
# only for a list carrying a derivative. Differentiating a gradient again, whose own tape is
# such a list, the second backward sweep popped the first tape's pushes without putting its
# pops back: IndexError (pop from empty list) for constant_then_rebind and the programs
# above with a loop nested in a loop. Direct tests of the same on user lists:


def pops_and_appends(x):
    stack = [1.0, 2.0]
    for i in range(3):
        k = stack.pop()
        x = x * k + 0.1
        stack.append(k + 1.0)
        stack.append(k)
    return x


def discarded_pop(x):
    stack = [1.0, 2.0, 3.0]
    for i in range(2):
        stack.pop()
        x = np.sin(x) * len(stack)
    return x


# ---- a loop-carried name taken for a block-local temporary ------------------------------
# reverse._block_local_names took a name stored once and read once in the same statement
# list for a temporary whose adjoint its one reader assigns, also when the name is a
# parameter (bound before the body too) or is read before it is stored (in a loop: the value
# of the iteration before). The adjoint of `x = t` was then left out (found by a random check:
# grad of grad of a while loop rebinding its parameter; also silently wrong at first order).


def carried_parameter(x):
    s = 0.0
    for i in range(3):
        t = np.sin(x)
        s = s + t
        x = t
    return s


def carried_parameter_in_while(x):
    y = x * 0.5 + 0.2
    n = 0
    while n < 3:
        n = n + 1
        x = np.tanh(x)
        m = 0
        while m < 1:
            m = m + 1
            y = x
    return y + x


def carried_local(x):
    s = 0.0
    u = x * 1.0
    for i in range(3):
        t = np.sin(u)
        s = s + t
        u = t
    return s


CARRIED = [carried_parameter, carried_parameter_in_while, carried_local]


def test_carried_parameter_closed_form():
    x = 0.7
    s1, s2 = math.sin(x), math.sin(math.sin(x))
    want = math.cos(x) * (1 + math.cos(s1) * (1 + math.cos(s2)))  # d/dx of sin x + sin sin x + sin sin sin x
    assert srcgrad.grad(carried_parameter)(x) == pytest.approx(want)


# ---- every program above, in every mode ---------------------------------------------------
LISTS = [pops_and_appends, discarded_pop]
PROGRAMS = SELF_UPDATES + LOOPS + COPIES + LISTS + CARRIED


@pytest.mark.parametrize("f", PROGRAMS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("x", POINTS)
def test_first_order(f, x):
    """grad on a float and on a 0-d array (the gradient shaped like it), and jvp."""
    want = _fd(f, x)
    _close(srcgrad.grad(f)(x), want)
    got = srcgrad.grad(f)(np.array(x))
    assert np.shape(got) == ()
    _close(got, want)
    _close(srcgrad.jvp(f, (x,), (1.0,))[1], want)


@pytest.mark.parametrize("f", PROGRAMS, ids=lambda f: f.__name__)
@pytest.mark.parametrize("x", POINTS)
def test_second_order(f, x):
    want = _fd2(f, x)
    _close(srcgrad.grad(srcgrad.grad(f))(x), want, rtol=1e-4, atol=1e-4)
    _close(np.asarray(srcgrad.hessian(f)(x)).ravel()[0], want, rtol=1e-4, atol=1e-4)


def test_a_helpers_own_calls_are_read_in_its_own_module(tmp_path, monkeypatch):
    """A helper from another module calling its `sq` (an array) was judged to return a number
    because `sq` was looked up in the caller's module (whose `sq` returns a float): the
    caller's derivative then dropped the sum back to a float's shape (an InternalError)."""
    (tmp_path / "helper_module_sq.py").write_text(
        "import numpy as np\n\n\ndef sq(x):\n    return np.ones(3) * x\n\n\ndef h(x):\n    return sq(x)\n")
    (tmp_path / "caller_module_sq.py").write_text(
        "import numpy as np\nfrom helper_module_sq import h\n\n\ndef sq(x):\n    return x * x\n\n\n"
        "def f(x, y):\n    z = h(x)\n    return np.sum(z * y)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    from caller_module_sq import f

    got = srcgrad.grad(f, wrt=(0, 1))(0.7, 1.3)
    np.testing.assert_allclose(got, (3 * 1.3, 3 * 0.7), rtol=1e-12)  # d/dx, d/dy of 3 x y
