"""Caches follow their inputs: a derivative is rebuilt when a callee is redefined, a global or
closure name is rebound, a rule is registered; a file edited after import is refused."""

import importlib.util
import itertools
import linecache

import numpy as np
import pytest
from generated import fd_grad

import srcgrad
from srcgrad.frontend.parse import parse_function
from srcgrad.frontend.staleness import check_source
from srcgrad.rules import registry

_COUNTER = itertools.count()


def _module(directory, source):
    """A module imported from `source`, written to a fresh file in `directory`."""
    path = directory / f"cache_mod_{next(_COUNTER)}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _rerun(module, directory, source):
    """Run `source` in `module`'s globals from a file of its own, as re-running a notebook cell does."""
    path = directory / f"cache_cell_{next(_COUNTER)}.py"
    path.write_text(source)
    exec(compile(source, str(path), "exec"), module.__dict__)


def _check_everything(f, x, second):
    """Reverse (floats and arrays), forward and the pullback against finite differences, with
    and without clean-ups; the second derivative at `x` against its closed form `second`."""
    for optimize in (True, False):
        srcgrad.check_grad(f, x, optimize=optimize)
        srcgrad.check_grad(f, np.array([x, x + 0.3]), optimize=optimize)
        srcgrad.check_jvp(f, x, optimize=optimize)
        assert srcgrad.grad(srcgrad.grad(f, optimize=optimize))(x) == pytest.approx(second(x), rel=1e-7)
    assert srcgrad.hessian(f)(np.array([x]))[0, 0] == pytest.approx(second(x), rel=1e-7)


CALLER = """
import numpy as np

def g(x):
    return x * x

def f(x):
    return np.sum(g(x) + 1.0)
"""


def test_a_redefined_callee_is_differentiated_anew(tmp_path):
    module = _module(tmp_path, CALLER)
    _check_everything(module.f, 0.7, lambda x: 2.0)
    _rerun(module, tmp_path, "def g(x):\n    return x * x * x\n")
    _check_everything(module.f, 0.7, lambda x: 6.0 * x)
    assert srcgrad.grad(module.f)(0.7) == pytest.approx(3 * 0.7**2)


ALIAS = """
import numpy as np

ACT = np.tanh

def f(x):
    return np.sum(ACT(x) * 2.0)
"""


def test_a_rebound_global_is_resolved_anew(tmp_path):
    module = _module(tmp_path, ALIAS)
    _check_everything(module.f, 0.4, lambda x: -4.0 * np.tanh(x) * (1 - np.tanh(x) ** 2))
    module.ACT = np.sin
    _check_everything(module.f, 0.4, lambda x: -2.0 * np.sin(x))
    assert srcgrad.grad(module.f)(0.4) == pytest.approx(2.0 * np.cos(0.4))


CLOSURE = """
import numpy as np

def make():
    act = np.tanh

    def f(x):
        return np.sum(act(x) * 2.0)

    def use(new):
        nonlocal act
        act = new

    return f, use
"""


def test_a_changed_closure_cell_is_resolved_anew(tmp_path):
    f, use = _module(tmp_path, CLOSURE).make()
    _check_everything(f, 0.4, lambda x: -4.0 * np.tanh(x) * (1 - np.tanh(x) ** 2))
    use(np.sin)
    _check_everything(f, 0.4, lambda x: -2.0 * np.sin(x))


NESTED = """
import numpy as np

ACT = np.tanh

def g(x):
    return ACT(x) * x

def f(x):
    return np.sum(g(x) + x)
"""


def test_a_callee_whose_global_is_rebound_is_differentiated_anew(tmp_path):
    module = _module(tmp_path, NESTED)
    srcgrad.check_grad(module.f, 0.4)
    module.ACT = np.sin
    _check_everything(module.f, 0.4, lambda x: 2.0 * np.cos(x) - x * np.sin(x))


def test_a_file_edited_after_import_is_refused_where_it_changed(tmp_path):
    module = _module(tmp_path, CALLER)
    path = module.__file__
    with open(path, "w") as file:
        file.write(CALLER.replace("g(x) + 1.0", "g(x) + 2.0 * x"))
    linecache.checkcache(path)
    with pytest.raises(srcgrad.NotDifferentiableError) as error:
        srcgrad.grad(module.f)(0.5)
    message = str(error.value)
    assert message.startswith(f"{path}:7:1: the file changed after `f` was defined")
    assert "re-import the module" in message and "\n    def f(x):\n    ^" in message
    module = _module(tmp_path, open(path).read())  # the advice works: import it again
    srcgrad.check_grad(module.f, 0.5)
    assert srcgrad.grad(module.f)(0.5) == pytest.approx(2 * 0.5 + 2.0)


def test_an_edit_elsewhere_in_the_file_is_no_reason_to_refuse(tmp_path):
    module = _module(tmp_path, CALLER)
    with open(module.__file__, "a") as file:
        file.write("\n\ndef h(x):\n    return x\n")
    linecache.checkcache(module.__file__)
    srcgrad.check_grad(module.f, 0.5)


METHODS = """
import numpy as np

class Base:
    def scale(self, x):
        return 2.0 * x

class Layer(Base):
    def __init__(self):
        self.__w = 3.0

    def __call__(self, x):
        return np.sum(super().scale(x) * self.__w * x)
"""


def test_methods_with_private_names_and_super_are_not_taken_for_edited(tmp_path):
    method = _module(tmp_path, METHODS).Layer.__call__
    check_source(parse_function(method))  # compiled in its class, as Python compiled it: no refusal
    with open(method.__code__.co_filename, "a") as file:
        file.write("# an edit below\n")
    linecache.checkcache(method.__code__.co_filename)
    check_source(parse_function(method))


UNRULED = """
import numpy as np

def f(x):
    return np.sum(np.cbrt(x) * x)
"""


@pytest.fixture
def restored_registry():
    tables = (registry._VJP_RULES, registry._JVP_RULES, registry._NONDIFF)
    saved = [dict(table) for table in tables]
    yield
    for table, content in zip(tables, saved):
        table.clear()
        table.update(content)
    srcgrad.driver.derivatives.clear_cache()


def test_a_rule_registered_later_is_used_by_derivatives_taken_later(tmp_path, restored_registry):
    f = _module(tmp_path, UNRULED).f
    if not registry.has_vjp_rule(np.cbrt):
        with pytest.raises(srcgrad.SrcGradError):
            srcgrad.grad(f)(0.5)

    @srcgrad.adjoint(np.cbrt)
    def cbrt_vjp(g, ans, x):
        return (g / (3.0 * ans * ans),)

    @srcgrad.tangent(np.cbrt)
    def cbrt_jvp(dots, ans, x):
        return dots[0] / (3.0 * ans * ans)

    srcgrad.check_grad(f, 0.5)
    srcgrad.check_grad(f, np.array([0.5, 2.0]))
    srcgrad.check_jvp(f, 0.5)
    assert srcgrad.grad(f)(0.5) == pytest.approx(4.0 / 3.0 * np.cbrt(0.5))


def test_an_existing_derivative_follows_a_redefined_callee(tmp_path):
    module = _module(tmp_path, CALLER)
    df = srcgrad.grad(module.f)
    x = np.array([0.7, 1.1])
    assert df(0.7) == pytest.approx(2 * 0.7) and df(x) == pytest.approx(2 * x)
    _rerun(module, tmp_path, "def g(x):\n    return x * x * x\n")
    assert df(0.7) == pytest.approx(fd_grad(module.f, (0.7,), 0), rel=1e-6)
    np.testing.assert_allclose(df(x), fd_grad(module.f, (x,), 0), rtol=1e-6)


def test_an_existing_derivative_follows_a_rebound_global(tmp_path):
    module = _module(tmp_path, ALIAS)
    df = srcgrad.value_and_grad(module.f)
    x = np.array([0.4, -0.2])
    df(0.4), df(x)
    module.ACT = np.sin
    value, gradient = df(0.4)
    assert value == pytest.approx(module.f(0.4)) and gradient == pytest.approx(fd_grad(module.f, (0.4,), 0), rel=1e-6)
    np.testing.assert_allclose(df(x)[1], fd_grad(module.f, (x,), 0), rtol=1e-6)


def test_an_existing_derivative_follows_a_changed_closure_cell(tmp_path):
    f, use = _module(tmp_path, CLOSURE).make()
    df = srcgrad.grad(f)
    df(0.4)
    use(np.sin)
    assert df(0.4) == pytest.approx(fd_grad(f, (0.4,), 0), rel=1e-6)


def test_a_rule_registered_later_reaches_existing_derivatives(tmp_path, restored_registry):
    f = _module(tmp_path, "import numpy as np\n\ndef f(x):\n    return np.sum(np.sin(x) * x)\n").f
    df = srcgrad.grad(f)
    x = np.array([0.3, 0.9])
    df(0.3), df(x)

    @srcgrad.adjoint(np.sin)
    def sin_vjp(g, ans, x):  # a correct rule, called instead of inlined: the source shows it
        return (g * np.cos(x),)

    assert df(0.3) == pytest.approx(fd_grad(f, (0.3,), 0), rel=1e-6)
    np.testing.assert_allclose(df(x), fd_grad(f, (x,), 0), rtol=1e-6)
    assert "call_rule" in srcgrad.source(df)
