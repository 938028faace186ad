"""What the command line differentiates: a TARGET (`file.py:func`, `package.module:func`,
`file.py:Class.method`) or an expression (`-e "3*x**2 + 2*x + 1"`), and its `--at` values."""

from __future__ import annotations

import ast
import builtins
import contextlib
import importlib
import importlib.util
import inspect
import itertools
import linecache
import math
import os
import sys
import types
from typing import Any, Callable

import numpy as np


class CLIError(Exception):
    """A mistake in what the command line asked for; shown as one line, exit status 2."""


_EXPRESSIONS = itertools.count(1)


def load_target(target: str) -> Callable[..., Any]:
    """The function named by `path/to/file.py:func`, `package.module:func` or `...:Class.method`
    (an instance method is bound to `Class()`)."""
    where, colon, attribute = target.rpartition(":")
    if not colon or not where or not attribute:
        raise CLIError(f"TARGET {target!r} must look like path/to/file.py:function or package.module:function")
    is_file = where.endswith(".py") or "/" in where or os.sep in where
    module = _load_file(where) if is_file else _import_module(where)
    owner, value = None, module
    for part in attribute.split("."):
        if not hasattr(value, part):
            kind = "file" if is_file else "module"
            raise CLIError(f"no function {attribute!r} in {kind} {where}" + (f" ({part!r} is missing)" if part != attribute else ""))
        owner, value = value, getattr(value, part)
    if isinstance(owner, type) and isinstance(inspect.getattr_static(owner, attribute.split(".")[-1]), types.FunctionType):
        value = getattr(_instance(owner), value.__name__)
    if not callable(value):
        raise CLIError(f"{target} is a {type(value).__name__}, not a function")
    return value


def _load_file(path: str) -> types.ModuleType:
    if not os.path.isfile(path):
        raise CLIError(f"no such file: {path}")
    directory = os.path.dirname(os.path.abspath(path))
    if directory not in sys.path:
        sys.path.insert(0, directory)  # so the file can import its neighbours
    stem = os.path.splitext(os.path.basename(path))[0]
    name = stem if stem.isidentifier() and stem not in sys.modules else f"_srcgrad_target_{abs(hash(path))}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        with contextlib.redirect_stdout(sys.stderr):  # keep stdout for what the command prints
            spec.loader.exec_module(module)
    except SyntaxError as exc:
        del sys.modules[name]
        raise CLIError(f"{path}:{exc.lineno}: syntax error: {exc.msg}") from None
    except Exception as exc:
        del sys.modules[name]
        raise CLIError(f"running {path} failed: {type(exc).__name__}: {exc}") from exc
    return module


def _import_module(name: str) -> types.ModuleType:
    if "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # as `python -m` does
    try:
        with contextlib.redirect_stdout(sys.stderr):  # keep stdout for what the command prints
            return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        raise CLIError(f"no module named {exc.name!r} (importing {name})") from None
    except SyntaxError as exc:
        raise CLIError(f"{exc.filename}:{exc.lineno}: syntax error: {exc.msg}") from None


def _instance(cls: type) -> Any:
    try:
        return cls()
    except Exception as exc:
        raise CLIError(
            f"cannot make {cls.__name__}() to call its method ({type(exc).__name__}: {exc}); "
            "use a staticmethod or a module-level function"
        ) from exc


def expression_function(expression: str, name: str = "f") -> types.FunctionType:
    """A function `name(*free variables)` returning `expression`; names from `math` and
    `numpy` (NumPy's first), `np`, `numpy` and `math` are known, every other name is a
    parameter, in order of first appearance."""
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError as exc:
        raise CLIError(f"cannot parse the expression {expression!r}: {exc.msg}") from None
    bound = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)}
    bound |= {a.arg for n in ast.walk(tree) if isinstance(n, ast.Lambda) for a in n.args.args}
    loads = sorted(
        (n for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)),
        key=lambda n: (n.lineno, n.col_offset),
    )
    namespace: dict[str, Any] = {"__name__": "__srcgrad_expression__", "np": np, "numpy": np, "math": math}
    params: list[str] = []
    for node in loads:
        known = _known_name(node.id)
        if node.id in namespace or node.id in bound or node.id in params or hasattr(builtins, node.id):
            continue
        if known is not None:
            namespace[node.id] = known
        else:
            params.append(node.id)
    body = expression.strip()
    body = f"({body})" if "\n" in body else body
    text = f"def {name}({', '.join(params)}):\n    return {body}\n"
    filename = f"<expression {next(_EXPRESSIONS)}>"
    linecache.cache[filename] = (len(text), None, text.splitlines(True), filename)
    exec(compile(text, filename, "exec"), namespace)
    function = namespace[name]
    function.__srcgrad_expression__ = expression.strip()
    return function


def _known_name(name: str) -> Any:
    if name.startswith("_"):
        return None
    for module in (np, math):
        value = getattr(module, name, None)
        if value is not None and not isinstance(value, types.ModuleType):
            return value
    return None


def parse_at(items: list[str]) -> dict[str, Any]:
    """`["x=2.0", "v=[1, 2]"]` as `{"x": 2.0, "v": array([1, 2])}`: Python literals read with
    `ast.literal_eval`; lists and tuples of numbers become NumPy arrays."""
    values: dict[str, Any] = {}
    for item in items:
        name, equals, text = item.partition("=")
        name = name.strip()
        if not equals or not name.isidentifier():
            raise CLIError(f"bad --at {item!r}: write NAME=VALUE, e.g. --at x=2.0 or --at v=\"[1.0, 2.0]\"")
        try:
            value = ast.literal_eval(text.strip())
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            raise CLIError(
                f"bad --at {item!r}: {text.strip()!r} is not a Python literal (a number, a list like [1.0, 2.0], a dict...)"
            ) from None
        values[name] = _arrays(value)
    return values


def _arrays(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _arrays(v) for key, v in value.items()}
    if isinstance(value, (list, tuple)) and value and all(_numeric_nest(v) for v in value):
        try:
            return np.array(value)
        except ValueError:
            raise CLIError(f"{value!r} is not a rectangular array of numbers") from None
    if isinstance(value, (list, tuple)):
        return type(value)(_arrays(v) for v in value)
    return value


def _numeric_nest(value: Any) -> bool:
    if isinstance(value, (list, tuple)):
        return all(_numeric_nest(v) for v in value)
    return isinstance(value, (int, float, complex)) and not isinstance(value, bool)


def call_arguments(fn: Callable[..., Any], at: dict[str, Any]) -> tuple[list[Any], dict[str, Any]]:
    """Positional and keyword arguments for calling `fn` with the `--at` values."""
    params = inspect.signature(fn).parameters
    unknown = [name for name in at if name not in params]
    if unknown:
        raise CLIError(f"{_name(fn)} has no parameter {unknown[0]!r}; its parameters are: {', '.join(params) or 'none'}")
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    by_position = True
    for p in params.values():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            continue
        if p.name not in at:
            if p.default is p.empty:
                raise CLIError(f"missing --at {p.name}=VALUE ({_name(fn)} takes {', '.join(params)})")
            by_position = False
        elif by_position and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD):
            args.append(at[p.name])
        elif p.kind == p.POSITIONAL_ONLY:
            raise CLIError(f"give --at for every positional-only parameter of {_name(fn)} before {p.name}")
        else:
            kwargs[p.name] = at[p.name]
    return args, kwargs


def differentiable(value: Any) -> bool:
    """Whether a `--at` value is numbers (or arrays, or containers of them) to differentiate."""
    if isinstance(value, dict):
        return bool(value) and all(differentiable(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return bool(value) and all(differentiable(v) for v in value)
    if isinstance(value, np.ndarray):
        return value.dtype.kind in "iufc"
    return isinstance(value, (int, float, complex)) and not isinstance(value, bool)


def _name(fn: Callable[..., Any]) -> str:
    return getattr(fn, "__name__", "the function")
