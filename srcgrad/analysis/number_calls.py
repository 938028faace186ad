"""Which calls of user functions certainly return a number, or a tuple of numbers, given numbers.

`scalars.scalar_names` asks this of `z = helper(x, y)` when x and y hold numbers, so that the
adjoints of such a call need no broadcasting bookkeeping. A wrong "number" would drop an
`unbroadcast` an array needs, so the answer is yes only for helpers simple enough to be sure
of: plain positional parameters, a body of assignments to names, `if`s and `return`s (every
path returning), and results made of numbers the way `scalar_names` knows (arithmetic, math
functions, NumPy ufuncs, such helpers again).
"""

from __future__ import annotations

import ast
import inspect
import types
from typing import Any

from ..frontend.parse import parse_function
from ..frontend.resolve import MISSING, Resolver
from .scalars import NUMBER, NUMBERS, TUPLE, number_facts

_RESULT = "<result>"  # the key of the returned value in the helper's assignments
_SIMPLE = (ast.Assign, ast.Return, ast.If, ast.Pass)
_NOT_PLAIN = inspect.CO_GENERATOR | inspect.CO_COROUTINE | inspect.CO_ASYNC_GENERATOR


class NumberCalls:
    """Answers `result(call)` for the calls of one function being differentiated, with
    `resolver` its resolver (what each call is; the helpers' names are recorded in its
    dependencies); each helper is read at most once."""

    def __init__(self, resolver: Resolver, known: dict[tuple[Any, int], str | None] | None = None) -> None:
        self.resolver = resolver
        self.known = {} if known is None else known  # per (helper, arity): shared with the helpers' own readers

    def result(self, call: ast.Call) -> str | None:
        """`NUMBER` or `NUMBERS` (a tuple of numbers) if the user function `call` calls
        certainly returns that when its arguments are numbers (the caller checks they are),
        else None."""
        if call.keywords or any(isinstance(a, ast.Starred) for a in call.args):
            return None
        fn = self.resolver.static_value(call.func)
        if fn is MISSING or self.resolver.callee(call).value is not fn or not _plain_function(fn, len(call.args)):
            return None
        key = (fn, len(call.args))
        if key not in self.known:
            self.known[key] = None  # a recursive helper is not followed
            self.known[key] = self._read(fn)
        return self.known[key]

    def _read(self, fn: types.FunctionType) -> str | None:
        try:
            parsed = parse_function(fn)
        except Exception:  # no source to read: nothing is certain
            return None
        node = parsed.node
        if not _simple_body(node.body) or not _surely_returns(node.body):
            return None
        params = [a.arg for a in node.args.posonlyargs + node.args.args]
        local = {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load)} | set(params)
        resolver = Resolver(parsed, {}, local, self.resolver.deps)
        inner = NumberCalls(resolver, self.known)  # the helper's own calls mean what its module says
        body = _returns_as_assignments(node.body)
        facts = number_facts(body, set(params), resolver.static_value, set(params), inner.result)
        if _RESULT in facts:
            return NUMBER
        return NUMBERS if _RESULT + TUPLE in facts else None


def _plain_function(fn: Any, arity: int) -> bool:
    """A function called as it is defined: positional parameters only, all given, and an
    ordinary body (no generator, no coroutine, no wrapper around it)."""
    if type(fn) is not types.FunctionType or hasattr(fn, "__wrapped__") or fn.__code__.co_flags & _NOT_PLAIN:
        return False
    code = fn.__code__
    if code.co_flags & (inspect.CO_VARARGS | inspect.CO_VARKEYWORDS) or code.co_kwonlyargcount:
        return False
    return code.co_argcount == arity


def _simple_body(body: list[ast.stmt]) -> bool:
    """Assignments to one name, returns of a value, `if`s of those, `pass` and a docstring."""
    for i, stmt in enumerate(body):
        if isinstance(stmt, ast.Expr) and i == 0 and isinstance(stmt.value, ast.Constant):
            continue
        if not isinstance(stmt, _SIMPLE):
            return False
        if isinstance(stmt, ast.Assign) and (len(stmt.targets) != 1 or not isinstance(stmt.targets[0], ast.Name)):
            return False
        if isinstance(stmt, ast.Return) and stmt.value is None:
            return False
        if isinstance(stmt, ast.If) and not (_simple_body(stmt.body) and _simple_body(stmt.orelse)):
            return False
    return True


def _surely_returns(body: list[ast.stmt]) -> bool:
    """Whether every path through `body` ends in a `return`."""
    return any(isinstance(s, ast.Return) or (isinstance(s, ast.If) and _surely_returns(s.body) and _surely_returns(s.orelse))
               for s in body)


def _returns_as_assignments(body: list[ast.stmt]) -> list[ast.stmt]:
    """`body` with each `return v` written `<result> = v`, for `scalar_names` to judge."""
    out: list[ast.stmt] = []
    for stmt in body:
        if isinstance(stmt, ast.Return):
            out.append(ast.Assign([ast.Name(_RESULT, ast.Store())], stmt.value))
        elif isinstance(stmt, ast.If):
            out.append(ast.If(stmt.test, _returns_as_assignments(stmt.body), _returns_as_assignments(stmt.orelse)))
        else:
            out.append(stmt)
    return out
