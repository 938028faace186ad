"""Failures inside srcgrad, told apart from the user's own, and reported as `InternalError`.

Generated code is compiled with an invisible handler (see `compile.build_function`) that
hands any exception to `internal_failure`. An exception raised on a line the user wrote
(their own function's forward code, a helper of theirs, their arithmetic failing at this
point) goes on unchanged; one raised on a line srcgrad made, or inside srcgrad's rules and
runtime, is srcgrad's bug and becomes an `InternalError` naming the user's function and the
line whose derivative failed. Transform failures get the same treatment in `transform`.
"""

from __future__ import annotations

import contextlib
import linecache
import os
import re
import sys
import sysconfig
import types
from dataclasses import dataclass
from typing import Iterator

from .errors import InternalError, SourceInfo, SrcGradError
from .facts import is_generated

_PACKAGE = os.path.dirname(os.path.abspath(__file__)) + os.sep
_LIBRARIES = tuple({os.path.abspath(p) + os.sep for p in (sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["purelib"],
                                                          sysconfig.get_paths()["platlib"], sys.prefix, sys.base_prefix)})
_ARITHMETIC = (ZeroDivisionError, OverflowError, FloatingPointError)  # a derivative that is infinite at this point
_ADJOINT_COMMENT = re.compile(r"#\s*adjoint of line (\d+): (.*)$")
ADVICE = ("This is a bug in srcgrad, not in your code; please report it with the function. "
          "`optimize=False` (the reference pipeline, without clean-ups) may avoid it meanwhile.")


@dataclass(frozen=True)
class Origin:
    """Where generated code comes from: the user's function, its file and first line, and the
    names the user's code uses (a name srcgrad made that is missing is srcgrad's bug)."""

    function: str
    filename: str
    first_line: int
    user_names: frozenset[str]


ORIGINS: dict[str, Origin] = {}  # generated file name -> where its code comes from
_MADE = re.compile(r"\b(_tape|_n\d+|\w+_bar|\w+_dot)\b")  # srcgrad's bookkeeping (not temporaries of the user's values)


def internal_failure(error: BaseException) -> None:
    """Raise an `InternalError` for `error` if srcgrad is at fault; return if it is the user's."""
    if isinstance(error, SrcGradError) or not isinstance(error, Exception) or isinstance(error, _ARITHMETIC):
        return  # arithmetic failing at this point is the point's (an infinite derivative), not a bug
    frames = _frames(error.__traceback__)
    if _thrown(error.__traceback__):
        return  # the user's `raise` or `assert`, raised by `runtime.throw` as their code would
    for filename, lineno in reversed(frames):  # innermost first
        kind = _kind(filename)
        if kind == "user":
            return
        if kind == "srcgrad":
            raise InternalError(_message(error, frames, f"inside srcgrad ({_short(filename)}:{lineno})")) from error
        if kind == "generated":
            if _srcgrads_line(error, filename, lineno):
                text = linecache.getline(filename, lineno).strip()
                raise InternalError(_message(error, frames, f"in generated code: `{text}`")) from error
            return


def _srcgrads_line(error: Exception, filename: str, lineno: int) -> bool:
    """Whether generated line `lineno` failing with `error` is srcgrad's doing: a line of the
    backward sweep, one that uses a name srcgrad made, or a missing name the user never used.
    The forward sweep's other lines are the user's code, failing as it would in their function."""
    origin = ORIGINS.get(filename)
    if origin is None:
        return False
    if is_generated(origin.filename):
        return True  # a derivative of srcgrad's own generated code (higher order): every line is srcgrad's
    if isinstance(error, NameError):
        return getattr(error, "name", None) not in origin.user_names
    text = linecache.getline(filename, lineno)
    return _adjoint_line(filename, lineno) is not None or bool(_MADE.search(text.split("#")[0]))


def _thrown(tb: types.TracebackType | None) -> bool:
    """Whether the innermost frame of `tb` is `runtime.throw` (the user's `raise`)."""
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb is not None and tb.tb_frame.f_code.co_name == "throw" and _kind(tb.tb_frame.f_code.co_filename) == "srcgrad"


def _frames(tb: types.TracebackType | None) -> list[tuple[str, int]]:
    out = []
    while tb is not None:
        out.append((tb.tb_frame.f_code.co_filename, tb.tb_lineno))
        tb = tb.tb_next
    return out


def _kind(filename: str) -> str:
    """"generated", "srcgrad", "library" (Python's and installed packages') or "user"."""
    if is_generated(filename):
        return "generated"
    path = os.path.abspath(filename) if not filename.startswith("<") else filename
    if path.startswith(_PACKAGE):
        return "srcgrad"
    if filename.startswith("<") or path.startswith(_LIBRARIES):
        return "library"
    return "user"


def _message(error: Exception, frames: list[tuple[str, int]], where: str) -> str:
    """Which of the user's functions and lines failed, what failed, and what to do."""
    generated = [(f, n) for f, n in frames if f in ORIGINS]
    if not generated:
        return f"srcgrad failed {where}: {type(error).__name__}: {error}\n{ADVICE}"
    filename, lineno = generated[-1]
    origin = ORIGINS[filename]
    line = _adjoint_line(filename, lineno)
    at = f", in the derivative of line {line[0]}: {line[1]}" if line else ""
    return (f"srcgrad failed in its derivative of `{origin.function}` ({origin.filename}:{origin.first_line}){at}\n"
            f"  {where}\n  {type(error).__name__}: {error}\n{ADVICE}")


def _adjoint_line(filename: str, lineno: int) -> tuple[int, str] | None:
    """The user's line whose adjoint generated line `lineno` belongs to (the nearest
    `# adjoint of line N` comment above it), if any."""
    for index in range(lineno, 0, -1):
        found = _ADJOINT_COMMENT.search(linecache.getline(filename, index))
        if found:
            return int(found.group(1)), found.group(2).strip()
    return None


def _short(filename: str) -> str:
    return filename[len(_PACKAGE):] if filename.startswith(_PACKAGE) else filename


def function_name(fn: object) -> str:
    """How messages name `fn`: its qualified name, or for srcgrad's own generated code (a
    derivative being differentiated again) its plain name (`grad_f`), without the factory."""
    qualname = getattr(fn, "__qualname__", repr(fn))
    return getattr(fn, "__name__", qualname) if qualname.startswith("__srcgrad_factory__") else qualname


def transform_failure(error: Exception, function: str, info: SourceInfo | None) -> InternalError:
    """The `InternalError` for a failure while building a derivative of `function` (whose
    source is `info`, if it was read), naming the pass and the line (not raised here)."""
    where = f" ({info.filename}:{info.first_line})" if info is not None else ""
    stage = getattr(error, "srcgrad_stage", None)
    lineno = getattr(error, "srcgrad_line", None)
    at = ""
    if info is not None and lineno is not None:
        at = f", at line {info.absolute_line(lineno)}: {info.line_text(lineno).strip()}"
    return InternalError(
        f"srcgrad failed while building the derivative of `{function}`{where}"
        f"{f', in the pass {stage!r}' if stage else ''}{at}\n  {type(error).__name__}: {error}\n{ADVICE}")


@contextlib.contextmanager
def stage(name: str) -> Iterator[None]:
    """Mark an exception raised inside with the pass it came from (the innermost one)."""
    try:
        yield
    except Exception as error:
        if not hasattr(error, "srcgrad_stage"):
            error.srcgrad_stage = name  # type: ignore[attr-defined]
        raise


def note_line(error: Exception, lineno: int) -> None:
    """Mark an exception with the (relative) line of the user's code being transformed."""
    if not hasattr(error, "srcgrad_line"):
        error.srcgrad_line = lineno  # type: ignore[attr-defined]
