"""`match` on values as an `if`/`elif` chain over the subject, bound once to a name.

Supported patterns: literals and dotted constants (`case 1:`, `case Color.RED:`, compared
with `==` as Python does), `None`/`True`/`False` (compared with `is`), alternatives of those
(`case 1 | 2:`), captures and `_` (`case y:`), `pattern as name` without a guard, and guards.
"""

from __future__ import annotations

import ast

from ..errors import SourceInfo, located_error

_KINDS = {
    "MatchSequence": "a sequence pattern (`case [a, b]:`)",
    "MatchMapping": "a mapping pattern (`case {\"k\": v}:`)",
    "MatchClass": "a class pattern (`case Point(x=0):`)",
    "MatchStar": "a starred pattern (`case [*rest]:`)",
}


def chain(cases: list[ast.match_case], subject: str, info: SourceInfo) -> list[ast.stmt]:
    """The statements that run `cases` against the value of the name `subject`."""
    if not cases:
        return []
    case, rest = cases[0], cases[1:]
    otherwise = chain(rest, subject, info)
    test, captured = _pattern(case.pattern, subject, info)
    binds = [_at(ast.Assign([ast.Name(n, ast.Store())], _load(subject)), case.pattern) for n in captured]
    body = case.body
    if test is None:  # irrefutable: binds, then the guard decides
        if case.guard is None:
            return binds + body
        return binds + [_at(ast.If(case.guard, body, otherwise), case.guard)]
    if binds and case.guard is not None:
        raise located_error(info, case.guard, "a guard after `pattern as name` is not supported; "
                            "test the guard inside the case with `if`")
    if case.guard is not None:
        test = ast.BoolOp(ast.And(), [test, case.guard])
    return [_at(ast.If(test, binds + body, otherwise), case.pattern)]


def _pattern(pattern: ast.pattern, subject: str, info: SourceInfo) -> tuple[ast.expr | None, list[str]]:
    """The test of `pattern` on `subject` (None when it always matches) and the names it binds."""
    if isinstance(pattern, ast.MatchValue):
        return _at(ast.Compare(_load(subject), [ast.Eq()], [pattern.value]), pattern), []
    if isinstance(pattern, ast.MatchSingleton):
        return _at(ast.Compare(_load(subject), [ast.Is()], [ast.Constant(pattern.value)]), pattern), []
    if isinstance(pattern, ast.MatchAs):
        names = [pattern.name] if pattern.name else []
        if pattern.pattern is None:
            return None, names
        test, inner = _pattern(pattern.pattern, subject, info)
        return test, inner + names
    if isinstance(pattern, ast.MatchOr):
        tests = []
        for alternative in pattern.patterns:
            test, names = _pattern(alternative, subject, info)
            if names or test is None:
                raise located_error(info, alternative, "alternatives that bind names are not supported; "
                                    "bind the subject with `as` after the alternatives: `case 1 | 2 as n:`")
            tests.append(test)
        return _at(ast.BoolOp(ast.Or(), tests), pattern), []
    kind = _KINDS.get(type(pattern).__name__, "this pattern")
    raise located_error(info, pattern, f"{kind} is not supported in `match`; only literal values, constants, "
                        "captures and `_` are: unpack the value and test it with `if`/`elif`")


def _load(name: str) -> ast.Name:
    return ast.Name(name, ast.Load())


def _at(node: ast.AST, where: ast.AST) -> ast.AST:
    return ast.copy_location(node, where)
