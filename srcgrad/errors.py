"""Errors raised by srcgrad, with messages that point at the user's source."""

from __future__ import annotations

import ast
import contextlib
import inspect
import types
from dataclasses import dataclass
from typing import Iterator


class SrcGradError(Exception):
    """Something srcgrad cannot differentiate, or was asked to do wrongly."""


class NotDifferentiableError(SrcGradError):
    """A construct in the user's code that srcgrad refuses to differentiate."""


class InternalError(SrcGradError):
    """A failure inside srcgrad itself (in a transform, or in the code it generated): a bug
    to report. The message names the user's function and line, and the pass if known."""


class UsageError(SrcGradError, ValueError):
    """Bad input from the caller: an unknown `wrt`, a non-scalar output, no source."""


@dataclass(frozen=True)
class SourceInfo:
    """Where a function's source lives: its file, first line and the text of its lines."""

    filename: str
    first_line: int
    lines: tuple[str, ...]
    col_offset: int = 0

    def line_text(self, lineno: int) -> str:
        """The user's text of relative (1-based, within the parsed source) line `lineno`."""
        index = lineno - 1
        if 0 <= index < len(self.lines):
            return self.lines[index].rstrip("\n")
        return ""

    def absolute_line(self, lineno: int) -> int:
        return self.first_line + lineno - 1


def located_message(info: SourceInfo, node: ast.AST, message: str) -> str:
    """Format `message` as `file:line:col: message`, then the user's line and a caret."""
    lineno = getattr(node, "lineno", 1)
    col = getattr(node, "col_offset", 0)
    text = info.line_text(lineno)
    absolute_col = col + info.col_offset
    shown = (" " * info.col_offset + text) if info.col_offset else text
    end_col = getattr(node, "end_col_offset", None)
    same_line = getattr(node, "end_lineno", lineno) == lineno
    width = max(1, (end_col - col) if end_col is not None and same_line else 1)
    caret = " " * absolute_col + "^" * width
    where = f"{info.filename}:{info.absolute_line(lineno)}:{absolute_col + 1}"
    return f"{where}: {message}\n    {shown.rstrip()}\n    {caret}"


def located_error(
    info: SourceInfo, node: ast.AST, message: str, cls: type[SrcGradError] = NotDifferentiableError
) -> SrcGradError:
    """Build (not raise) an error of class `cls` located at `node` in the user's source."""
    return cls(located_message(info, node, message))


_PLAIN_NAMES = {
    "Raise": "a `raise` statement", "Try": "a `try` block", "With": "this `with` block", "Delete": "a `del` statement",
    "Assert": "an `assert` statement", "Match": "a `match` statement", "Global": "a `global` statement",
    "Nonlocal": "a `nonlocal` statement", "Import": "an `import`", "ImportFrom": "an `import`",
    "FunctionDef": "a `def`", "ClassDef": "a `class`", "NamedExpr": "an assignment expression (`:=`)",
    "Starred": "`*` unpacking", "Set": "a set display", "Await": "`await`", "Yield": "`yield`", "Slice": "a slice",
}


def plain_name(node: ast.AST) -> str:
    """How a message names the construct `node` in words (not its AST class)."""
    return _PLAIN_NAMES.get(type(node).__name__, "this construct")


def called_from(error: SrcGradError, info: SourceInfo, call: ast.AST, caller: str, callee: object,
                forward: bool = False) -> SrcGradError:
    """Add to `error`, raised while differentiating `callee`, the call of it at `call` in
    `caller` (whose source is `info`), so a refusal inside a library names the user's line.
    The error is changed in place (its type, traceback and `__cause__` stay) and returned."""
    return add_call(error, located_message(info, call, f"called from `{caller}`"), callee, forward)


def add_call(error: SrcGradError, frame: str, callee: object, forward: bool = False) -> SrcGradError:
    """Add the text `frame` (where `callee` was called) to `error`'s message, then advice for
    the innermost callee (a forward rule if `forward`); a chain reads outermost first, innermost last."""
    if not hasattr(error, "srcgrad_base"):
        error.srcgrad_base = str(error.args[0]) if error.args else str(error)  # type: ignore[attr-defined]
        error.srcgrad_advice = adjoint_advice(callee, forward)  # type: ignore[attr-defined]
    calls = (frame, *getattr(error, "srcgrad_calls", ()))
    error.srcgrad_calls = calls  # type: ignore[attr-defined]
    chain = "\n".join("  " + text.replace("\n", "\n  ") for text in calls)
    error.args = (f"{error.srcgrad_base}\n{chain}\n{error.srcgrad_advice}",)  # type: ignore[attr-defined]
    return error


@contextlib.contextmanager
def calling(info: SourceInfo, call: ast.AST, caller: str, callee: object, forward: bool = False) -> Iterator[None]:
    """Around the transform of `callee`, called at `call` in `caller`: a refusal inside it, or
    its source not found, goes on with the call site added (see `called_from`)."""
    try:
        yield
    except (NotDifferentiableError, UsageError) as error:
        called_from(error, info, call, caller, callee, forward)
        raise


def primal_name(fn: object) -> str:
    """How user code names `fn` for `@srcgrad.adjoint(...)`: `module.qualname`, or the bare
    name for a function of `__main__` or of no module."""
    qualname = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn)
    module = getattr(fn, "__module__", None)
    if module is None and isinstance(getattr(fn, "__self__", None), types.ModuleType):
        module = fn.__self__.__name__  # type: ignore[attr-defined]  (a builtin of a module)
    if not module or module in ("__main__", "builtins") or "<locals>" in qualname:
        return qualname
    return f"{module}.{qualname}"


def adjoint_advice(fn: object, forward: bool = False) -> str:
    """What to write instead of differentiating through `fn`: a rule of one's own (shown with
    `fn`'s name and parameters; a forward rule if `forward`), or its value as a constant."""
    name = primal_name(fn)
    simple = name.rsplit(".", 1)[-1].replace("<", "").replace(">", "") or "fn"
    decorator, rule, first, what = ("tangent", "jvp", "dots", "the tangent of its result") if forward else \
        ("adjoint", "vjp", "g", "one cotangent per positional argument")
    return (f"To differentiate through `{name}` without its source being followed, register its derivative "
            f"({what}):\n"
            f"    @srcgrad.{decorator}({name})\n"
            f"    def {simple}_{rule}({first}, ans, {_parameters(fn)}): ...\n"
            f"or, if no derivative should flow through it, call it on `srcgrad.stop_gradient(value)` "
            f"or inside `with srcgrad.no_grad():`.")


def _parameters(fn: object) -> str:
    """`fn`'s parameter names as a rule's primal parameters (`*args` when unknown)."""
    try:
        params = inspect.signature(fn).parameters.values()  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "*args"
    names = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return ", ".join(names) or "*args"
