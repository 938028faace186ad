"""The `srcgrad` command: show, evaluate and export derivatives from a terminal.

    srcgrad show examples/quickstart.py:f            the generated derivative code
    srcgrad eval -e "3*x**2 + 2*x + 1" --at x=2      the value and every partial derivative
    srcgrad export model.py:loss -o loss_grad.py     a standalone module that needs only NumPy
    srcgrad reference                                every function srcgrad can differentiate
"""

from __future__ import annotations

import argparse
import inspect
import os
import sys
from typing import Any, Callable, NoReturn, Sequence

import numpy as np

from .. import api
from ..errors import NotDifferentiableError, SrcGradError
from .export import export_source
from .reference import render
from .target import CLIError, call_arguments, differentiable, expression_function, load_target, parse_at

_MODES = ("reverse", "forward")


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line on stderr, exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    """The parser of `srcgrad` and its subcommands."""
    examples = "examples:\n" + "\n".join(__doc__.split("\n")[2:6])
    parser = _Parser(prog="srcgrad", description=__doc__.split("\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter,
                     epilog=f"{examples}\n\nTARGET is path/to/file.py:func, package.module:func or file.py:Class.method.")
    parser.add_argument("--debug", action="store_true", help="show the full traceback of an error")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser, required=True)
    show = _command(commands, "show", "print the generated derivative source", _show)
    show.add_argument("--mode", choices=_MODES, default="reverse",
                      help="reverse: the gradient's code; forward: the code of jvp (tangents beside values)")
    show.add_argument("--color", choices=("auto", "always", "never"), default="auto",
                      help="syntax colours (auto: when stdout is a terminal and pygments is installed)")
    evaluate = _command(commands, "eval", "print the value and every partial derivative at a point", _eval)
    evaluate.add_argument("--at", action="append", default=[], metavar="NAME=VALUE",
                          help='a parameter\'s value, a Python literal: --at x=2.0 --at v="[1.0, 2.0]"')
    export = _command(commands, "export", "write a standalone module (NumPy only) with the function and its gradient", _export)
    export.add_argument("-o", "--output", metavar="FILE", help="where to write it (default: print it)")
    reference = commands.add_parser("reference", help="print the reference of every supported function (Markdown)")
    reference.add_argument("-o", "--output", metavar="FILE", help="where to write it (default: print it)")
    reference.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    reference.set_defaults(run=_reference)
    return parser


def _command(commands: Any, name: str, summary: str, run: Callable[[argparse.Namespace], int]) -> argparse.ArgumentParser:
    sub = commands.add_parser(name, help=summary, description=summary)
    sub.add_argument("target", nargs="?", metavar="TARGET", help="path/to/file.py:func or package.module:func")
    sub.add_argument("-e", "--expression", metavar="EXPR",
                     help='an expression instead of TARGET, e.g. "3*x**2 + 2*x + 1"; its free names are the parameters')
    sub.add_argument("--wrt", action="append", metavar="NAME", help="differentiate with respect to NAME (repeat for several)")
    sub.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show the full traceback of an error")
    sub.set_defaults(run=run)
    return sub


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; the exit status is 0, or 2 after an error on stderr: one line, or
    for code srcgrad refuses the whole located message (the line, its caret, what to write)."""
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        if args.debug:
            raise
        print(f"srcgrad: error: {_one_line(exc)}", file=sys.stderr)
        return 2


def _one_line(exc: BaseException) -> str:
    """How an error is shown: a refusal of the user's code in full, as the exception says it
    (`file:line:col: ...`, the quoted line and its caret); any other error on one line."""
    if isinstance(exc, NotDifferentiableError):
        return str(exc).rstrip("\n") or type(exc).__name__
    if isinstance(exc, (CLIError, SrcGradError)):
        lines = str(exc).strip().splitlines() or [type(exc).__name__]
        return lines[0] + (" (--debug shows more)" if len(lines) > 1 else "")
    return f"{type(exc).__name__}: {exc}".splitlines()[0]


# ---- commands ------------------------------------------------------------------------------


def _show(args: argparse.Namespace) -> int:
    fn = _function(args)
    wrt = _wrt(args.wrt, default=0)
    if args.mode == "forward":
        if api.derivative_of(fn) is not None:
            raise CLIError(f"{fn.__name__} is a derivative made by srcgrad; show --mode forward takes a plain function")
        text = api.source(fn, mode="forward", wrt=wrt)
    else:
        text = api.source(api.grad(fn, wrt=wrt))
    print(_highlight(text, args.color))
    return 0


def _eval(args: argparse.Namespace) -> int:
    fn = _function(args)
    at = parse_at(args.at)
    positional, keywords = call_arguments(fn, at)
    if args.wrt:
        names, _ = api.resolve_wrt(fn, _wrt(args.wrt, default=0))
    else:
        names = tuple(name for name in inspect.signature(fn).parameters if name in at and differentiable(at[name]))
        if not names:
            raise CLIError("no --at value is a number or an array of numbers; say what to differentiate with --wrt")
    value, gradients = api.value_and_grad(fn, wrt=tuple(names))(*positional, **keywords)
    name = _display_name(args)
    shown = [format_value(v) for v in positional] + [f"{k}={format_value(v)}" for k, v in keywords.items()]
    print(f"{name}({', '.join(shown)}) = {format_value(value)}")
    for wrt, gradient in zip(names, gradients):
        print(f"d{name}/d{wrt} = {format_value(gradient)}")
    return 0


def _export(args: argparse.Namespace) -> int:
    fn = _function(args)
    origin = f"the expression {args.expression.strip()!r}" if args.expression else args.target
    name = _display_name(args)
    text = export_source(fn, wrt=_wrt(args.wrt, default=0), origin=origin, name=name)
    if not args.output:
        sys.stdout.write(text)
        return 0
    with open(args.output, "w", encoding="utf-8") as out:
        out.write(text)
    defined = name if getattr(fn, "__name__", "<lambda>") == "<lambda>" or args.expression else fn.__name__
    print(f"wrote {args.output}: {defined} and grad_{defined}")
    return 0


def _reference(args: argparse.Namespace) -> int:
    text = render()
    if args.output:
        with open(args.output, "w", encoding="utf-8") as out:
            out.write(text)
    else:
        sys.stdout.write(text)
    return 0


# ---- helpers -------------------------------------------------------------------------------


def _function(args: argparse.Namespace) -> Callable[..., Any]:
    if (args.target is None) == (args.expression is None):
        raise CLIError("give either TARGET (path/to/file.py:func) or -e EXPRESSION")
    return expression_function(args.expression) if args.expression is not None else load_target(args.target)


def _display_name(args: argparse.Namespace) -> str:
    """What the function is called in output: the TARGET's last name, or `f` for `-e`."""
    return args.target.rpartition(":")[2].split(".")[-1] if args.target else "f"


def _wrt(items: list[str] | None, default: Any) -> Any:
    """`--wrt` values as srcgrad's `wrt`: names or positions, one or a tuple."""
    if not items:
        return default
    chosen: list[int | str] = []
    for item in items:
        for part in item.split(","):
            part = part.strip()
            if part:
                chosen.append(int(part) if part.lstrip("-").isdigit() else part)
    return chosen[0] if len(chosen) == 1 else tuple(chosen)


def format_value(value: Any) -> str:
    """A value as the command line shows it: floats in full, arrays as nested lists."""
    if isinstance(value, np.ndarray):
        return repr(value.tolist()) if value.size <= 1000 else np.array2string(value, threshold=20)
    if isinstance(value, np.generic):
        return repr(value.item())
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {format_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    if isinstance(value, tuple):
        return "(" + ", ".join(format_value(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    return repr(value)


def _highlight(text: str, when: str) -> str:
    if when == "never" or (when == "auto" and (not sys.stdout.isatty() or os.environ.get("NO_COLOR"))):
        return text
    try:
        from pygments import highlight
        from pygments.formatters import TerminalFormatter
        from pygments.lexers import PythonLexer
    except ImportError:
        return text
    return highlight(text, PythonLexer(), TerminalFormatter()).rstrip("\n")


if __name__ == "__main__":
    sys.exit(main())
