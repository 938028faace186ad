"""Control-flow programs: each is checked at several points, covering both sides of every
branch and zero-trip loops, against central finite differences."""

import math

import numpy as np


def branch(x):
    if x > 0:
        y = x * x
    elif x > -1:
        y = -x * 3.0
    else:
        y = math.sin(x)
    return y * x


def nested_branches(x, y):
    if x > y:
        if x > 2 * y:
            z = x * y
        else:
            z = x - y
    else:
        z = y * y
    return z + (x if x > 0 and y > 0 else y) + (x or y) * (y and x)


def early_return(x):
    if x > 1.0:
        return x * x
    y = x * 3.0
    if not y > 0:
        return -y
    return y + 1.0


def range_loop(x, n):
    for i in range(n):
        x = x + 0.01 * math.sin(x * 1.3)
    return x


def range_start_stop_step(x, a, b, s):
    total = 0.0
    for k in range(a, b, s):
        total = total + x**k / (k + 1)
    return total


def loop_over_array_rows(w, xs):
    acc = 0.0
    for row in xs:
        acc = acc + np.tanh(row @ w)
    return acc


def loop_over_list_enumerate_zip_reversed(x):
    coefficients = [1.0, 2.0, 3.0]
    s = 0.0
    for i, c in enumerate(coefficients):
        s = s + c * x**i
    for a, b in zip([x, 2 * x], [3.0, x]):
        s = s + a * b
    for v in reversed([x, x * x]):
        s = s * 0.5 + v
    return s


def nested_loops(x, n):
    s = 0.0
    for i in range(n):
        for j in range(i):
            s = s + math.cos(x * i - j) * x
        x = x * 0.9
    return s


def indexing_with_loop_variable(x):
    out = np.zeros(x.shape[0] - 1)
    for i in range(x.shape[0] - 1):
        out[i] = x[i + 1] * x[i]
    return np.sum(out**2)


def overwrite_in_loop(x, n):
    y = x
    for i in range(n):
        t = np.exp(-y)
        y = t * y + np.sin(y)
    return y


def newton_sqrt(x):
    y = x
    while abs(y * y - x) > 1e-12:
        y = 0.5 * (y + x / y)
    return y


def projectile(angle, v0):
    x, y = 0.0, 0.0
    vx, vy = v0 * math.cos(angle), v0 * math.sin(angle)
    dt = 0.01
    while y >= 0.0:
        speed = math.sqrt(vx * vx + vy * vy)
        vx = vx - 0.1 * speed * vx * dt
        vy = vy - (9.81 + 0.1 * speed * vy) * dt
        x = x + vx * dt
        y = y + vy * dt
    return x


def break_and_continue(x, n):
    s = 0.0
    for i in range(n):
        if i % 3 == 1:
            continue
        s = s + x * i
        if s > 5.0:
            break
        s = s * 1.1
    return s


def while_break_else(x):
    s = x
    k = 0
    while k < 10:
        k += 1
        s = s * 1.2
        if s > 4.0:
            break
    else:
        s = -s
    for i in range(2):
        s = s + x
    else:
        s = s * x
    return s


def return_inside_loop(x):
    for i in range(10):
        x = x * 1.5
        if x > 4.0:
            return x * 2.0
    return -x


def list_built_in_loop(x, n):
    values = []
    for i in range(n):
        values.append(x**i)
    return sum(values) + np.sum(np.stack([np.array(v) for v in values])) + values[-1] * np.array(values)[0]


def dict_updated_in_loop(x):
    d = {"a": x, "b": 0.0}
    for k in range(3):
        d["b"] = d["b"] + d["a"] * k
        d["a"] = d["a"] * x
    return d["a"] + d["b"]


def comprehensions(v):
    squares = [a * a for a in v if a > 0]
    table = {i: v[i] * 2 for i in range(2)}
    pairs = sum(a * b for a in v for b in v[:2])
    return sum(x**k for k in range(4) for x in v[:1]) + sum(squares) + table[1] + pairs + np.array([np.sin(a) for a in v]).sum()


def _fact(x, n):
    if n <= 1:
        return x
    return x * _fact(x * 0.9, n - 1)


def recursion(x, n):
    return _fact(x, n)


def _is_even_poly(x, n):
    if n == 0:
        return x
    return _is_odd_poly(x * 1.1, n - 1) + x


def _is_odd_poly(x, n):
    if n == 0:
        return x * x
    return _is_even_poly(math.sin(x), n - 1)


def mutual_recursion(x, n):
    return _is_even_poly(x, n)


def helper_in_loop(x, n):
    for i in range(n):
        x = _fact(x, 2) * 0.5 + 0.1
    return x


v4 = np.array([0.4, -0.3, 1.1, 0.7])

FLOW_CORPUS = [
    (branch, (1.3,), 0), (branch, (-0.5,), 0), (branch, (-2.0,), 0),
    (nested_branches, (3.0, 1.0), (0, 1)), (nested_branches, (1.5, 1.0), (0, 1)),
    (nested_branches, (0.5, 1.0), (0, 1)), (nested_branches, (-0.5, 1.0), (0, 1)),
    (early_return, (2.0,), 0), (early_return, (0.5,), 0), (early_return, (-0.5,), 0),
    (range_loop, (0.3, 50), 0), (range_loop, (0.3, 0), 0),
    (range_start_stop_step, (0.7, 1, 8, 2), 0), (range_start_stop_step, (0.7, 5, 1, -1), 0),
    (range_start_stop_step, (0.7, 3, 3, 1), 0),
    (loop_over_array_rows, (np.array([0.3, -0.2]), np.array([[1.0, 2.0], [0.5, -1.0], [0.1, 0.2]])), (0, 1)),
    (loop_over_list_enumerate_zip_reversed, (0.8,), 0),
    (nested_loops, (0.4, 4), 0),
    (indexing_with_loop_variable, (v4,), 0),
    (overwrite_in_loop, (0.4, 5), 0),
    (newton_sqrt, (2.0,), 0), (newton_sqrt, (0.25,), 0),
    (projectile, (0.7, 10.0), (0, 1)),
    (break_and_continue, (1.0, 10), 0), (break_and_continue, (0.01, 8), 0),
    (while_break_else, (1.5,), 0), (while_break_else, (0.1,), 0),
    (return_inside_loop, (1.0,), 0), (return_inside_loop, (0.001,), 0),
    (list_built_in_loop, (0.7, 4), 0),
    (dict_updated_in_loop, (0.7,), 0),
    (comprehensions, (v4,), 0),
    (recursion, (0.9, 5), 0),
    (mutual_recursion, (0.6, 5), 0),
    (helper_in_loop, (0.6, 3), 0),
]


def reshape_in_loop(x):
    for i in range(3):
        y = np.reshape(x * i, (2, 3))
    return np.sum(y * y)


FLOW_CORPUS.append((reshape_in_loop, (np.arange(6.0) / 7,), 0))


def reads_inner_loop_target_of_previous_iteration(x):
    j = 0
    s = 0.0
    for i in range(3):
        s = s + x * j  # j is what the inner loop of the previous iteration left
        for j in range(i + 2):
            s = s + 0.1 * x * x
    return s


FLOW_CORPUS.append((reads_inner_loop_target_of_previous_iteration, (0.7,), 0))


def matmul_in_loop(A, x):
    s = 0.0
    for i in range(3):
        y = A @ x  # its adjoint is still the scalar zero in the first backward trips
        if i == 2:
            s = s + np.sum(y)
    return s


FLOW_CORPUS.append((matmul_in_loop, (np.array([[0.5, -1.0], [2.0, 0.25]]), np.array([0.3, -0.7])), (0, 1)))
