"""The `srcgrad` command line: show, eval, export, reference; targets, expressions and errors."""

import ast
import importlib.util
import inspect
import json
import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import srcgrad
from srcgrad.tools import cli
from srcgrad.tools.testing import directional_fd

ROOT = Path(__file__).resolve().parents[1]  # the repository, for docs/ and pyproject.toml
IMPORTED_FROM = str(Path(srcgrad.__file__).resolve().parents[1])  # subprocesses run the srcgrad imported here

MODEL = '''
import math
import numpy as np
from numpy import sin

import srcgrad
from srcgrad import stop_gradient

seed = 3.0                      # a user global that shares a name with a runtime helper
WEIGHTS = np.array([0.5, -1.0, 2.0])


def poly(x):
    return 3 * x**2 + 2 * x + 1


def two(x, y):
    return np.sum(np.sin(x) * y) + math.exp(0.5)


def square(a):
    return a * a


def calls_helper(x):
    return np.sum(square(x)) * seed + np.sum(WEIGHTS * x)


def looped(x, n):
    for i in range(n):
        x = sin(x) * 1.5
    return np.sum(x)


def doubles(x):
    while np.linalg.norm(x) < 1000:
        x = x * 2
    return np.sum(x ** 2)


def tree(p, data):
    return np.mean((data @ p["w"] + p["b"]) ** 2)


def rec(x, n):
    if n == 0:
        return x
    return rec(np.tanh(x) * x, n - 1) + x


def scaled(x, scale=seed, *, k=2.0):
    return np.sum(x ** 3) * scale * k


def tries(x):
    try:
        return x * 2
    except ValueError:
        return x


def method_call(x, obj):
    return obj.apply(x)


def softplus(x):
    return np.log1p(np.exp(x))


@srcgrad.adjoint(softplus)
def softplus_rule(g, ans, x):
    return (g * (1 - np.exp(-ans)),)


def uses_rule(x):
    return np.sum(softplus(x) * x)


def constants(x):
    with srcgrad.no_grad():
        s = np.sum(x)
    return s * np.sum(x * stop_gradient(x)) + srcgrad.stop_gradient(x[0]) * x[1]


squared = lambda x: x * x


def shadows(match, gradients, seed=seed):
    return np.sum(match * gradients) * seed + np.sum(gradients ** 2)


class Model:
    def loss(self, w):
        return np.sum(w ** 2) * 0.5

    @staticmethod
    def energy(x):
        return x ** 4
'''


@pytest.fixture
def model(tmp_path):
    path = tmp_path / "model.py"
    path.write_text(MODEL)
    return path


def load_original(path):
    """The model file as a module of its own (not whatever `model` an earlier test imported)."""
    spec = importlib.util.spec_from_file_location(f"original_{abs(hash(str(path)))}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def run(capsys, *argv):
    status = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return status, out, err


def lines_of(out):
    """`name = value` lines as a dict of Python values."""
    result = {}
    for line in out.strip().splitlines():
        key, _, value = line.partition(" = ")
        result[key] = ast.literal_eval(value)
    return result


# ---- eval --------------------------------------------------------------------------------


def test_eval_expression_prints_value_and_derivative(capsys):
    assert run(capsys, "eval", "-e", "3*x**2 + 2*x + 1", "--at", "x=2.0") == (0, "f(2.0) = 17.0\ndf/dx = 14.0\n", "")
    status, out, _ = run(capsys, "eval", "-e", "3*x**2 + 2*x + 1", "--at", "x=2")
    assert status == 0 and out.splitlines()[-1] == "df/dx = 14.0"


def test_eval_expression_free_variables_in_order_of_appearance_with_math_and_numpy(capsys):
    status, out, _ = run(capsys, "eval", "-e", "y * exp(x) + sin(z) * np.dot(v, v)", "--at", "x=0.5", "--at", "y=2.0",
                         "--at", "z=1.0", "--at", "v=[1.0, 2.0]")
    values = lines_of(out)
    assert status == 0 and list(values)[1:] == ["df/dy", "df/dx", "df/dz", "df/dv"]
    assert values["f(2.0, 0.5, 1.0, [1.0, 2.0])"] == pytest.approx(2 * math.exp(0.5) + math.sin(1.0) * 5)
    assert values["df/dx"] == pytest.approx(2 * math.exp(0.5))
    assert values["df/dy"] == pytest.approx(math.exp(0.5))
    assert values["df/dz"] == pytest.approx(math.cos(1.0) * 5)
    assert values["df/dv"] == pytest.approx([2 * math.sin(1.0), 4 * math.sin(1.0)])


def test_eval_arrays_and_wrt(capsys):
    status, out, _ = run(capsys, "eval", "-e", "sum(x**2)", "--at", "x=[1.0, 2.0, -3.0]")
    assert status == 0 and lines_of(out)["df/dx"] == [2.0, 4.0, -6.0]
    status, out, _ = run(capsys, "eval", "-e", "x * y**2", "--at", "x=3.0", "--at", "y=2.0", "--wrt", "y")
    assert status == 0 and out.splitlines()[1:] == ["df/dy = 12.0"]
    status, out, _ = run(capsys, "eval", "-e", "x * y**2", "--at", "x=3.0", "--at", "y=2.0", "--wrt", "1,0")
    assert [line.split(" =")[0] for line in out.splitlines()[1:]] == ["df/dy", "df/dx"]


def test_eval_target_matches_finite_differences(capsys, model):
    x, y = [0.3, -1.2, 2.0], [1.5, 0.5, -2.0]
    status, out, _ = run(capsys, "eval", f"{model}:two", "--at", f"x={x}", "--at", f"y={y}")
    values = lines_of(out)
    assert status == 0
    np.testing.assert_allclose(values["dtwo/dx"], np.cos(x) * y)
    np.testing.assert_allclose(values["dtwo/dy"], np.sin(x))
    status, out, _ = run(capsys, "eval", f"{model}:doubles", "--at", "x=[0.1, 0.2, 0.3]")
    g = lines_of(out)["ddoubles/dx"]
    for i in range(3):
        fd = directional_fd(doubles_reference, [np.array([0.1, 0.2, 0.3])], [0], [np.eye(3)[i]])
        assert g[i] == pytest.approx(float(fd), rel=1e-6)


def doubles_reference(x):
    while np.linalg.norm(x) < 1000:
        x = x * 2
    return np.sum(x ** 2)


def test_eval_integer_parameter_and_pytree(capsys, model):
    status, out, _ = run(capsys, "eval", f"{model}:looped", "--at", "x=0.4", "--at", "n=3", "--wrt", "x")
    fd = directional_fd(lambda v: looped_reference(v, 3), [0.4], [0], [1.0])
    assert status == 0 and lines_of(out)["dlooped/dx"] == pytest.approx(float(fd), rel=1e-6)
    status, out, _ = run(capsys, "eval", f"{model}:tree", "--at", "p={'w': [1.0, 2.0], 'b': 0.5}",
                         "--at", "data=[[1.0, 0.0], [0.0, 1.0]]", "--wrt", "p")
    grad = lines_of(out)["dtree/dp"]
    assert grad["w"] == pytest.approx([1.5, 2.5]) and grad["b"] == pytest.approx(4.0)


def looped_reference(x, n):
    for _ in range(n):
        x = np.sin(x) * 1.5
    return x


def test_targets_module_and_class_method(capsys, model, tmp_path, monkeypatch):
    package = tmp_path / "pkg_cli_test"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "funcs.py").write_text("def cube(x):\n    return x ** 3\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    assert run(capsys, "eval", "pkg_cli_test.funcs:cube", "--at", "x=2.0")[1].splitlines()[1] == "dcube/dx = 12.0"
    assert run(capsys, "eval", f"{model}:Model.loss", "--at", "w=[1.0, -2.0]")[1].splitlines()[1] == "dloss/dw = [1.0, -2.0]"
    assert run(capsys, "eval", f"{model}:Model.energy", "--at", "x=0.5")[1].splitlines()[1] == "denergy/dx = 0.5"


def test_what_a_target_prints_on_import_goes_to_stderr(capsys, tmp_path):
    path = tmp_path / "noisy.py"
    path.write_text('print("loading noisy")\n\n\ndef f(x):\n    return x * x\n')
    status, out, err = run(capsys, "export", f"{path}:f")
    assert status == 0 and "loading noisy" in err and "loading noisy" not in out
    compile(out, "exported", "exec")


# ---- show --------------------------------------------------------------------------------


def test_show_prints_the_generated_source(capsys, model):
    status, out, _ = run(capsys, "show", f"{model}:poly")
    assert status == 0 and out.startswith("def grad_poly(x):") and "x_bar" in out
    namespace = {}
    exec(out, namespace)  # plain text, no colour codes
    assert "\x1b[" not in out
    status, out, _ = run(capsys, "show", f"{model}:two", "--wrt", "y")
    assert status == 0 and "return (y_bar,)" in out
    status, out, _ = run(capsys, "show", "-e", "x * y", "--wrt", "x", "--wrt", "y")
    assert "return (x_bar, y_bar)" in out


def test_show_colour_when_asked(capsys, model):
    pytest.importorskip("pygments")
    status, out, _ = run(capsys, "show", f"{model}:poly", "--color", "always")
    assert status == 0 and "\x1b[" in out and "grad_poly" in out


def test_show_forward_mode(capsys, model):
    status, out, _ = run(capsys, "show", f"{model}:poly", "--mode", "forward")
    assert status == 0 and out.startswith("def jvp_poly(x, *, x_dot):")
    original = load_original(model)
    assert out == srcgrad.source(original.poly, mode="forward") + "\n"
    status, out, _ = run(capsys, "show", "-e", "x * y", "--mode", "forward", "--wrt", "y")
    assert "def jvp_f(x, y, *, y_dot):" in out and "x_dot" not in out


def test_a_derivative_as_target(capsys, tmp_path):
    path = tmp_path / "derivs.py"
    path.write_text("import srcgrad\n\n\ndef f(x):\n    return x ** 4\n\n\ndf = srcgrad.grad(f)\n")
    status, out, _ = run(capsys, "eval", f"{path}:df", "--at", "x=2.0")
    assert status == 0 and out == "df(2.0) = 32.0\nddf/dx = 48.0\n"  # 4x³ and 12x²
    status, out, err = run(capsys, "export", f"{path}:df")
    assert status == 2 and "export the function itself" in err


# ---- errors ------------------------------------------------------------------------------

ERRORS = [
    (["show", "missing.py:f"], "no such file: missing.py"),
    (["show", "{model}:nope"], "no function 'nope'"),
    (["show", "{bad}:f"], "syntax error"),
    (["show", "no_such_module_xyz:f"], "no module named 'no_such_module_xyz'"),
    (["show", "{model}"], "must look like path/to/file.py:function"),
    (["eval", "{model}:poly", "--at", "x=[1, 2"], "bad --at"),
    (["eval", "{model}:poly", "--at", "x"], "bad --at"),
    (["eval", "{model}:poly", "--at", "x=__import__('os')"], "not a Python literal"),
    (["eval", "{model}:poly"], "missing --at x=VALUE"),
    (["eval", "{model}:poly", "--at", "x=1.0", "--at", "z=2.0"], "has no parameter 'z'"),
    (["eval", "{model}:poly", "--at", "x=[1.0, 2.0]"], "scalar"),
    (["eval", "{model}:poly", "-e", "x", "--at", "x=1.0"], "either TARGET"),
    (["eval", "-e", "3 *", "--at", "x=1.0"], "cannot parse the expression"),
    (["eval", "-e", "1 / x", "--at", "x=0"], "ZeroDivisionError"),
    (["show", "{model}:poly", "--wrt", "q"], "wrt='q' is not a parameter of poly"),
    (["frobnicate"], "invalid choice"),
]


@pytest.mark.parametrize("argv, message", ERRORS, ids=[" ".join(a) for a, _ in ERRORS])
def test_errors_are_one_line_with_status_2(capsys, model, tmp_path, argv, message):
    bad = tmp_path / "bad.py"
    bad.write_text("def f(x):\n    return x +\n")
    argv = [a.format(model=model, bad=bad) for a in argv]
    with pytest.raises(SystemExit) if argv[0] == "frobnicate" else _no_exit() as caught:
        status = cli.main(argv)
    status = caught.value.code if argv[0] == "frobnicate" else status
    out, err = capsys.readouterr()
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("srcgrad: error: ") and message in err
    assert "Traceback" not in err


class _no_exit:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def test_debug_shows_the_exception(model):
    with pytest.raises(srcgrad.SrcGradError, match="try"):
        cli.main(["show", f"{model}:tries", "--debug"])
    with pytest.raises(srcgrad.SrcGradError):
        cli.main(["--debug", "show", f"{model}:tries"])


def test_python_dash_m_and_console_script(model):
    env = {**os.environ, "PYTHONPATH": IMPORTED_FROM}
    where = subprocess.run([sys.executable, "-c", "import srcgrad; print(srcgrad.__file__)"], capture_output=True,
                           text=True, env=env, cwd=model.parent)
    assert Path(where.stdout.strip()).resolve() == Path(srcgrad.__file__).resolve()  # the same srcgrad, installed or not
    ok = subprocess.run([sys.executable, "-m", "srcgrad", "eval", "-e", "3*x**2 + 2*x + 1", "--at", "x=2"],
                        capture_output=True, text=True, env=env, cwd=model.parent)
    assert (ok.returncode, ok.stdout) == (0, "f(2) = 17\ndf/dx = 14.0\n")
    bad = subprocess.run([sys.executable, "-m", "srcgrad", "show", "model.py:tries"], capture_output=True, text=True,
                         env=env, cwd=model.parent)
    assert bad.returncode == 2 and bad.stdout == "" and "Traceback" not in bad.stderr  # the refusal in full:
    assert bad.stderr.startswith("srcgrad: error: ") and "model.py:" in bad.stderr  # tests/test_messages.py
    pyproject = (ROOT / "pyproject.toml").read_text()  # the console script `srcgrad` is cli.main
    assert '[project.scripts]\nsrcgrad = "srcgrad.tools.cli:main"' in pyproject


# ---- export ------------------------------------------------------------------------------

EXPORTS = {  # name: (arguments as a Python expression, wrt)
    "poly": ("(1.5,)", None),
    "two": ("(np.array([0.3, -1.2]), np.array([1.5, 0.5]))", "x,y"),
    "calls_helper": ("(np.array([0.5, 1.0, -2.0]),)", None),
    "looped": ("(np.array([0.4, -0.3]), 3)", None),
    "doubles": ("(np.array([0.1, 0.2, 0.3]),)", None),
    "tree": ("({'w': np.array([1.0, 2.0]), 'b': 0.5}, np.array([[1.0, 0.5], [0.0, 1.0]]))", None),
    "rec": ("(0.7, 3)", None),
    "scaled": ("(np.array([0.5, 1.5]),)", "x,k"),
    "uses_rule": ("(np.array([0.5, -1.5]),)", None),
    "squared": ("(1.5,)", None),
    "shadows": ("(np.array([1.0, 2.0]), np.array([0.5, -0.5]))", "match,gradients"),
}

CHECK = '''
import json, sys
sys.modules["srcgrad"] = None          # the exported files must not need srcgrad
sys.path.insert(0, sys.argv[1])
import numpy as np

def plain(value):
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [plain(v) for v in value]
    return np.asarray(value, float).tolist()

results = {}
for name, (args, _) in json.loads(sys.argv[2]).items():
    module = __import__("exported_" + name)
    arguments = eval(args)
    results[name] = {"value": plain(getattr(module, name)(*arguments)),
                     "grad": plain(getattr(module, "grad_" + name)(*arguments))}
print(json.dumps(results))
'''


def test_exported_modules_run_without_srcgrad_and_match_finite_differences(capsys, model, tmp_path):
    out_dir = tmp_path / "exported"
    out_dir.mkdir()
    for name, (_, wrt) in EXPORTS.items():
        argv = ["export", f"{model}:{name}", "-o", out_dir / f"exported_{name}.py"] + (["--wrt", wrt] if wrt else [])
        status, out, err = run(capsys, *argv)
        assert (status, err) == (0, ""), err
        text = (out_dir / f"exported_{name}.py").read_text()
        assert f"from {model}:{name}" in text.splitlines()[0]
        assert "import srcgrad" not in text and "from srcgrad" not in text
    done = subprocess.run([sys.executable, "-c", CHECK, str(out_dir), json.dumps(EXPORTS)], capture_output=True,
                          text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    original = load_original(model)
    for name, (args, wrt) in EXPORTS.items():
        arguments = eval(args)
        fn = getattr(original, name)
        assert results[name]["value"] == pytest.approx(float(fn(*arguments)))
        names = (wrt or "0").split(",")
        grads = results[name]["grad"] if wrt else [results[name]["grad"]]
        for wrt_name, got in zip(names, grads):
            check_against_fd(fn, arguments, wrt_name, got)


def check_against_fd(fn, arguments, wrt_name, got):
    """Every entry of an exported gradient against central differences of the original."""
    names = list(inspect.signature(fn).parameters)
    if wrt_name == "k":  # keyword-only
        fd = directional_fd(lambda k: fn(*arguments, k=k), [2.0], [0], [1.0])
        assert got == pytest.approx(float(fd), rel=1e-6)
        return
    position = int(wrt_name) if wrt_name.isdigit() else names.index(wrt_name)
    x = arguments[position]
    leaves = [("w", i) for i in range(2)] + [("b", None)] if isinstance(x, dict) else [(None, i) for i in range(np.size(x))]
    for key, i in leaves:
        fd = float(directional_fd(fn, list(arguments), [position], [_unit(x, key, i)]))
        entry = got[key] if key is not None else got
        entry = entry if i is None else (np.ravel(entry)[i] if np.ndim(entry) else entry)
        assert entry == pytest.approx(fd, rel=1e-5, abs=1e-8), (fn.__name__, key, i)


def _unit(x, key, i):
    if isinstance(x, dict):
        return {k: (np.eye(np.size(v))[i] if k == key else np.zeros(np.shape(v))) if np.ndim(v) else float(k == key)
                for k, v in x.items()}
    return np.eye(np.size(x))[i].reshape(np.shape(x)) if np.ndim(x) else 1.0


def test_export_renames_clashing_names_and_keeps_user_globals(capsys, model):
    status, text, _ = run(capsys, "export", f"{model}:calls_helper")
    assert status == 0
    assert "seed = 3.0" in text and "def seed_2(out" in text  # user's `seed` kept; the helper renamed
    assert "WEIGHTS = np.array([0.5, -1.0, 2.0], dtype=np.float64)" in text
    assert "def square(a):" in text and "def vjp_square(a):" in text
    assert text.count("\ndef calls_helper(") == 1 and "\ndef grad_calls_helper(x):" in text


def test_export_user_rules_srcgrad_constants_and_lambdas(capsys, model, tmp_path):
    status, text, _ = run(capsys, "export", f"{model}:uses_rule")
    assert status == 0 and "def softplus_rule(g, ans, x):" in text and "@srcgrad" not in text
    path = tmp_path / "exported_constants.py"
    status, out, _ = run(capsys, "export", f"{model}:constants", "-o", path)
    assert (status, out) == (0, f"wrote {path}: constants and grad_constants\n")
    text = path.read_text()
    assert "srcgrad = types.SimpleNamespace(no_grad=no_grad, stop_gradient=stop_gradient)" in text
    check = "import sys, numpy as np; sys.modules['srcgrad'] = None; sys.path.insert(0, sys.argv[1]); " \
            "import exported_constants as e; print(e.grad_constants(np.array([0.5, 1.5])).tolist())"
    done = subprocess.run([sys.executable, "-c", check, str(tmp_path)], capture_output=True, text=True)
    # s * x (s = sum(x) = 2 and the stop_gradient factor constant) plus x[0] in entry 1
    assert done.returncode == 0 and json.loads(done.stdout) == [1.0, 3.5], done.stderr
    status, out, _ = run(capsys, "export", f"{model}:squared")
    assert "def squared(x):" in out and "def grad_squared(x):" in out


def test_export_expression(capsys, tmp_path):
    path = tmp_path / "expr_out.py"
    status, out, _ = run(capsys, "export", "-e", "sin(x) * y", "-o", path, "--wrt", "x", "--wrt", "y")
    assert status == 0 and out == f"wrote {path}: f and grad_f\n"
    namespace = {}
    exec(compile(path.read_text(), str(path), "exec"), namespace)
    assert namespace["grad_f"](0.5, 2.0) == pytest.approx((2 * math.cos(0.5), math.sin(0.5)))
    assert "from numpy import sin" in path.read_text()


@pytest.mark.parametrize("target, message", [
    ("method_call", "run time"),
    ("Model.loss", "bound to an object"),
])
def test_export_refuses_what_it_cannot_write(capsys, model, target, message):
    status, out, err = run(capsys, "export", f"{model}:{target}")
    assert status == 2 and message in err and len(err.splitlines()) == 1


def test_export_refuses_other_packages_and_closures(tmp_path):
    from srcgrad.tools.export import ExportError, export_source

    (tmp_path / "mylib_cli_test.py").write_text("def scale(x):\n    return 2 * x\n")
    sys.path.insert(0, str(tmp_path))
    try:
        import mylib_cli_test
    finally:
        sys.path.remove(str(tmp_path))
    namespace = {"mylib_cli_test": mylib_cli_test}
    source = "def uses(x):\n    return mylib_cli_test.scale(x) ** 2\n"
    path = tmp_path / "uses.py"
    path.write_text(source)
    exec(compile(source, str(path), "exec"), namespace)
    with pytest.raises(ExportError, match="module mylib_cli_test"):
        export_source(namespace["uses"])

    def outer(k):
        def inner(x):
            return x * k
        return inner

    with pytest.raises(ExportError, match="enclosing function"):
        export_source(outer(2.0))


# ---- reference ---------------------------------------------------------------------------


NEWER_PYTHON_ONLY = ("`math.cbrt(", "`math.exp2(", "`math.sumprod(", "`math.fma(")


def test_committed_reference_is_up_to_date():
    if int(np.__version__.split(".")[0]) < 2:
        pytest.skip("docs/reference.md is generated with NumPy 2")
    fresh = subprocess.run([sys.executable, "-m", "srcgrad", "reference"], capture_output=True, text=True,
                           env={**os.environ, "PYTHONPATH": IMPORTED_FROM}, cwd=ROOT)
    assert fresh.returncode == 0, fresh.stderr
    committed = (ROOT / "docs" / "reference.md").read_text()

    def common(text):  # without the rows of math functions that only some Pythons have
        return [line for line in text.splitlines() if not line.startswith(NEWER_PYTHON_ONLY, 2)]

    assert common(fresh.stdout) == common(committed), \
        "docs/reference.md is stale: run `python -m srcgrad reference -o docs/reference.md`"


def test_reference_lists_every_registered_rule():
    from srcgrad.rules.registry import all_nondifferentiable, all_rules
    from srcgrad.tools.reference import _place, render

    text = render()
    for name, primal in [("np.sin", np.sin), ("math.log", math.log), ("np.linalg.det", np.linalg.det), ("sum", sum)]:
        assert primal in all_rules() and f"`{name}(" in text
    assert "`x @ y`" in text and "`x.T`" in text and "`x.sum(axis=None" in text
    assert np.argmax in all_nondifferentiable() and "`np.argmax`" in text
    public = [p for p, rules in all_rules().items()
              if rules[0].fn.__module__.startswith("srcgrad.rules") and not getattr(p, "__module__", "").startswith("srcgrad")]
    assert len(public) > 150
    for primal in public:
        assert f"`{_place(primal)[1]}" in text, primal
    assert "div0" not in text and "unbroadcast_matmul" not in text  # helpers of the rules themselves
    assert textwrap.dedent(text) == text
