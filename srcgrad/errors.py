"""Errors raised by srcgrad, with messages that point at the user's source."""

from __future__ import annotations

import ast
from dataclasses import dataclass


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
