"""Programs srcgrad must refuse, each with a marker comment on the offending line."""

import numpy as np

COUNTER = 0
ufunc_without_rule = np.frompyfunc(lambda a: a * 2, 1, 1)


def uses_yield(x):
    yield x * 2  # ERROR generators


def writes_global(x):
    global COUNTER  # ERROR global
    COUNTER = x
    return x


def uses_eval(x):
    return eval("x * 2")  # ERROR eval


def calls_c_function(x):
    y = x * 2.0
    return ufunc_without_rule(y)  # ERROR no derivative rule


def mutates_input(x):
    x[0] = 1.0  # ERROR in place
    return np.sum(x)


def mutates_alias(x):
    y = x[1:]
    y[0] = 2.0  # ERROR in place
    return np.sum(x)


def uses_try(x):
    try:  # ERROR try
        return x * 2
    finally:
        pass


def uses_with(x):
    with open("f") as handle:  # ERROR with
        return x * len(handle.name)


async def is_async(x):
    return x


def takes_star_args(x, *rest):  # ERROR *args parameters
    return x * sum(rest)


def joins_lists(x):
    a = [x, 2.0 * x] + [x * x]  # ERROR joining lists
    return a[0] + a[2]


def repeats_a_tuple(x):
    t = (x, 2.0 * x)
    u = t * 2  # ERROR repeating tuples
    return u[0] + u[3]
