"""The derivative function users call, with no wrapper between them and the generated code.

`grad(f)` returns a small Python function with `f`'s parameters. Before the first call it
forwards to srcgrad's dispatcher, which builds code specialised on the argument types seen.
When that code can stand in for the derivative itself (every differentiated argument a
Python float), it is rewritten into *entry form*: a type guard that hands other argument
types back to the dispatcher, and results shaped as `grad` returns them. Its code object then
replaces the small function's, so a call costs what the generated code costs.
"""

from __future__ import annotations

import ast
import inspect
import types
import weakref
from typing import Any, Callable

from ..facts import generated_filename
from ..syntax.astquery import statements
from ..syntax.emit import make_call
from .compile import FACTORY, inner_code

_STUB_CODES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _parameter_text(code: types.CodeType, skip_first: bool) -> tuple[str, str]:
    """`f`'s parameter list, and the call that passes them on, as source text."""
    if code.co_flags & (inspect.CO_VARARGS | inspect.CO_VARKEYWORDS):
        return "*args, **kwargs", "*args, **kwargs"
    start = 1 if skip_first else 0
    names = code.co_varnames[:code.co_argcount + code.co_kwonlyargcount]
    positional_only = list(names[start:code.co_posonlyargcount])
    positional = list(names[max(start, code.co_posonlyargcount):code.co_argcount])
    keyword_only = list(names[code.co_argcount:])
    params = positional_only + (["/"] if positional_only else []) + positional + (["*"] if keyword_only else [])
    params += keyword_only
    passed = positional_only + positional + [f"{name}={name}" for name in keyword_only]
    return ", ".join(params), ", ".join(passed)


def make_entry(plain: types.FunctionType, skip_first: bool, name: str, dispatch: Callable[..., Any]) -> types.FunctionType:
    """A function with `plain`'s parameters (less `self` when `skip_first`) that calls
    `dispatch` with them; its one closure cell holds `dispatch`, so it can be repointed."""
    name = name if name.isidentifier() else "derivative"
    code = _STUB_CODES.setdefault(plain.__code__, {}).get(skip_first)
    if code is None:
        params, passed = _parameter_text(plain.__code__, skip_first)
        text = f"def {FACTORY}():\n    _call = None\n    def {name}({params}):\n        return _call({passed})\n"
        code = _STUB_CODES[plain.__code__][skip_first] = inner_code(text, generated_filename(f"entry {name}"), name)
    defaults = plain.__defaults__
    if skip_first and defaults and len(defaults) == plain.__code__.co_argcount:
        defaults = defaults[1:]  # `self` had a default
    entry = types.FunctionType(code, plain.__globals__, name, defaults, (types.CellType(dispatch),))
    entry.__kwdefaults__ = plain.__kwdefaults__
    return entry


def install(entry: types.FunctionType, specialised: types.FunctionType | None, dispatch: Callable[..., Any]) -> None:
    """Point `entry` at `specialised` (code in entry form) when it needs no other closure
    cell than its fallback, else keep calling `dispatch`."""
    entry.__closure__[0].cell_contents = dispatch  # type: ignore[index]  # also the guard's fallback
    if specialised is not None and len(specialised.__code__.co_freevars) == 1:
        entry.__code__ = specialised.__code__


def entry_form(
    node: ast.FunctionDef, guards: dict[str, type], fallback: str, form: str, single: bool, floats: set[str],
) -> ast.FunctionDef:
    """`node` (gradients returned as a tuple) rewritten to guard the argument types it was
    specialised on and to return what the derivative returns: the one gradient itself when
    `single`, each a Python float (converted unless `floats` says it is one)."""
    for stmt in statements(node.body):  # returns are statements: no need to visit expressions
        if isinstance(stmt, ast.Return) and stmt.value is not None:
            stmt.value = _shaped(stmt.value, form, single, floats)
    node.body = [_guard(node, guards, fallback)] + node.body
    return node


def _shaped(value: ast.expr, form: str, single: bool, floats: set[str]) -> ast.expr:
    def as_float(expr: ast.expr) -> ast.expr:
        proven = isinstance(expr, ast.Name) and expr.id in floats or \
            isinstance(expr, ast.Constant) and type(expr.value) is float
        return expr if proven else make_call(ast.Name("float", ast.Load()), [expr])

    if form == "value_and_grad":
        assert isinstance(value, ast.Tuple)
        return ast.Tuple([value.elts[0], _shaped(value.elts[1], "grad", single, floats)], ast.Load())
    assert isinstance(value, ast.Tuple)
    gradients = [as_float(g) for g in value.elts]
    return gradients[0] if single else ast.Tuple(gradients, ast.Load())


def _guard(node: ast.FunctionDef, guards: dict[str, type], fallback: str) -> ast.If:
    """`if type(x) is not float or ...: return fallback(x, ...)`."""
    tests: list[ast.expr] = [
        ast.Compare(make_call(ast.Name("type", ast.Load()), [ast.Name(name, ast.Load())]), [ast.IsNot()],
                    [ast.Name(kind.__name__, ast.Load())])
        for name, kind in guards.items()
    ]
    args = node.args
    positional = [ast.Name(a.arg, ast.Load()) for a in args.posonlyargs + args.args]
    keywords = [ast.keyword(a.arg, ast.Name(a.arg, ast.Load())) for a in args.kwonlyargs]
    call = ast.Call(ast.Name(fallback, ast.Load()), positional, keywords)
    test = tests[0] if len(tests) == 1 else ast.BoolOp(ast.Or(), tests)
    return ast.If(test, [ast.Return(call)], [])
