"""Helpers the tests of generated code share: its text, gradients by finite differences, and
functions loaded from source written at test time."""

import importlib.util
import itertools

import numpy as np

import srcgrad
from srcgrad.tools.testing import directional_fd


def source_after_call(fn, *args, wrt=0):
    """The text of `grad(fn, wrt)`'s generated code, as specialised by a first call on `args`."""
    derivative = srcgrad.grad(fn, wrt=wrt)
    derivative(*args)
    return srcgrad.source(derivative)


def fd_grad(fn, args, position):
    """Every partial derivative of scalar `fn` w.r.t. argument `position`, by central differences."""
    x = np.asarray(args[position], float)
    out = np.zeros(x.shape)
    for i in np.ndindex(x.shape):
        unit = np.zeros(x.shape)
        unit[i] = 1.0
        out[i] = directional_fd(fn, args, [position], [unit])
    return out


def assert_grad_matches_fd(fn, *args, wrt=0, rtol=1e-6):
    """`grad(fn, wrt)` against finite differences entry by entry (shapes too); returns the
    gradients, as a tuple."""
    positions = wrt if isinstance(wrt, tuple) else (wrt,)
    got = srcgrad.grad(fn, wrt=wrt)(*args)
    got = got if isinstance(wrt, tuple) else (got,)
    for g, position in zip(got, positions):
        assert np.shape(g) == np.shape(args[position])
        np.testing.assert_allclose(g, fd_grad(fn, args, position), rtol=rtol, atol=1e-7)
    return got


_COUNTER = itertools.count()


def load_function(source, directory, stem, name="f"):
    """Function `name` of `source`, written to a fresh file `<stem>_<n>.py` in `directory`
    (srcgrad reads a function's source from its file) and imported from there."""
    path = directory / f"{stem}_{next(_COUNTER)}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, name)


def assert_hessian_matches_fd(f, x) -> None:
    """srcgrad's Hessian of `f` at the array `x`, column by column, against central differences
    of srcgrad's gradient (which the caller checks against finite differences of `f`)."""
    hessian = srcgrad.hessian(f)(x)
    grad = srcgrad.grad(f)
    for i, unit in enumerate(np.eye(x.size)):
        np.testing.assert_allclose(hessian[:, i], directional_fd(grad, [x], [0], [unit]), rtol=1e-5, atol=1e-6)
