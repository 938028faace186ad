"""Read a Python function's source into an AST, with where it came from and what it sees."""

from __future__ import annotations

import ast
import builtins
import inspect
import linecache
import textwrap
import types
from dataclasses import dataclass, field
from typing import Any, Callable

from ..errors import SourceInfo, UsageError
from ..syntax.fastast import copy_tree, fix_missing_locations


@dataclass
class ParsedFunction:
    """A user function's definition AST plus its source location and namespaces."""

    fn: Callable[..., Any]
    parsed_node: ast.FunctionDef | None  # `node`, until `fresh_node` hands it over
    info: SourceInfo
    globals: dict[str, Any]
    closure: dict[str, types.CellType] = field(default_factory=dict)
    source: str = ""  # the dedented text `node` was parsed from ("" for a lambda's made-up definition)

    def __post_init__(self) -> None:
        node = self.node
        args = node.args
        self.name: str = node.name
        self.positional_names = [a.arg for a in args.posonlyargs + args.args]
        self.param_names = self.positional_names + [a.arg for a in args.kwonlyargs]

    @property
    def node(self) -> ast.FunctionDef:
        """The definition's tree (parsed again if `fresh_node` handed the first one over)."""
        if self.parsed_node is None:
            self.parsed_node = self._parse_again()
        return self.parsed_node

    def fresh_node(self) -> ast.FunctionDef:
        """A tree of the definition that passes may rewrite: the parsed one itself, which this
        object then parses again if it is asked for it (parsing is quicker than copying a
        tree, and after the transform nothing usually asks)."""
        if not self.source:
            return copy_tree(self.node)
        node = self.parsed_node
        self.parsed_node = None
        return node if node is not None else self._parse_again()

    def _parse_again(self) -> ast.FunctionDef:
        node = ast.parse(self.source).body[0]
        node.decorator_list = []
        return mangle_private_names(node, self.fn)  # type: ignore[arg-type]


_MISSING = object()


def unwrap(fn: Any) -> Callable[..., Any]:
    """The plain Python function behind a bound method, staticmethod or functools.wraps;
    for a derivative made by srcgrad, its generated code (to differentiate it again)."""
    if hasattr(fn, "differentiable_code"):
        return fn.differentiable_code()
    if isinstance(fn, (staticmethod, classmethod)):
        fn = fn.__func__
    if isinstance(fn, types.MethodType):
        fn = fn.__func__
    return inspect.unwrap(fn)


def parse_function(fn: Callable[..., Any]) -> ParsedFunction:
    """Parse `fn` (a function, lambda or bound method) or raise UsageError saying why not."""
    plain = unwrap(fn)
    if not isinstance(plain, types.FunctionType):
        name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn)
        raise UsageError(
            f"srcgrad cannot read the source of {name!r}: it is not a Python function "
            f"(a builtin or C function?). Give it a derivative with @srcgrad.adjoint({name})."
        )
    node, info, source = _read_definition(plain)
    node = mangle_private_names(node, plain)
    closure = {}
    if plain.__closure__:
        closure = dict(zip(plain.__code__.co_freevars, plain.__closure__))
    return ParsedFunction(plain, node, info, plain.__globals__, closure, source)


def mangle_private_names(node: ast.FunctionDef, fn: Any) -> ast.FunctionDef:
    """`self.__w` in a method of class `Model` names `self._Model__w`, as Python compiles it."""
    parts = getattr(fn, "__qualname__", "").split(".")
    owner = parts[-2].lstrip("_") if len(parts) >= 2 and parts[-2] != "<locals>" else ""
    if not owner:
        return node

    def mangled(name: str) -> str:
        return f"_{owner}{name}" if name.startswith("__") and not name.endswith("__") else name

    for child in ast.walk(node):
        if isinstance(child, ast.Name):
            child.id = mangled(child.id)
        elif isinstance(child, ast.Attribute):
            child.attr = mangled(child.attr)
        elif isinstance(child, (ast.arg, ast.keyword)) and child.arg is not None:
            child.arg = mangled(child.arg)
    return node


def _read_definition(fn: types.FunctionType) -> tuple[ast.FunctionDef, SourceInfo, str]:
    """The definition's AST, where it came from and the text it was parsed from ("" for a
    lambda): read by the quick cut of its file's lines when that parses as `fn`'s
    definition, else by `inspect` (which also finds lambdas)."""
    quick = _definition_lines(fn)
    if quick is not None:
        try:
            found = _parse_lines(fn, *quick)
        except UsageError:
            found = None
        if found is not None and found[0].name == fn.__name__:
            return found
    try:
        lines, first_line = inspect.getsourcelines(fn)
    except (OSError, TypeError) as exc:
        raise UsageError(
            f"srcgrad cannot find the source of {fn.__qualname__!r} ({exc}). "
            "Define it in a file (not in an interactive prompt or with exec), "
            "or register a derivative with @srcgrad.adjoint."
        ) from None
    return _parse_lines(fn, lines, first_line)


def _parse_lines(
    fn: types.FunctionType, lines: list[str], first_line: int,
) -> tuple[ast.FunctionDef, SourceInfo, str]:
    text = "".join(lines)
    dedented = textwrap.dedent(text)
    info = SourceInfo(fn.__code__.co_filename, first_line, tuple(dedented.splitlines()), _indent_removed(text, dedented))
    return _find_definition(fn, dedented, info), info, dedented if fn.__name__ != "<lambda>" else ""


def _definition_lines(fn: types.FunctionType) -> tuple[list[str], int] | None:
    """The lines of a `def` (decorators included) and the number of the first, cut where
    the indentation returns to the decorator's; None for a lambda or a file linecache
    cannot read. The cut is checked by parsing: a line less indented than the body can
    only be inside a string or brackets, and a cut there does not parse. (`inspect`
    tokenizes the file from the definition on in Python, which costs more than the rest.)"""
    first = fn.__code__.co_firstlineno
    lines = linecache.getlines(fn.__code__.co_filename, fn.__globals__)
    if fn.__name__ == "<lambda>" or not 0 < first <= len(lines):
        return None
    base = _indentation(lines[first - 1])
    number = first
    while number <= len(lines) and not lines[number - 1].lstrip().startswith(("def ", "async def ")):
        number += 1  # past the decorators
    end = number
    for number in range(number + 1, len(lines) + 1):
        stripped = lines[number - 1].strip()
        if stripped and not stripped.startswith("#"):
            if _indentation(lines[number - 1]) <= base:
                break
            end = number
    return lines[first - 1:end], first


def _indentation(line: str) -> int:
    return len(line) - len(line.lstrip())


def _indent_removed(original: str, dedented: str) -> int:
    first = next((line for line in original.splitlines() if line.strip()), "")
    first_dedented = next((line for line in dedented.splitlines() if line.strip()), "")
    return len(first) - len(first_dedented)


def _find_definition(fn: types.FunctionType, source: str, info: SourceInfo) -> ast.FunctionDef:
    if fn.__name__ != "<lambda>":
        try:
            module = ast.parse(source)
        except SyntaxError as exc:
            raise UsageError(f"cannot parse the source of {fn.__qualname__}: {exc}") from None
        node = module.body[0]
        if not isinstance(node, ast.FunctionDef):
            kind = "async function" if isinstance(node, ast.AsyncFunctionDef) else "definition"
            raise UsageError(
                f"{info.filename}:{info.first_line}: {fn.__qualname__} is an {kind}; "
                "srcgrad differentiates plain `def` functions"
            )
        node.decorator_list = []
        return node
    return _lambda_as_function(fn, source, info)


def _lambda_as_function(fn: types.FunctionType, source: str, info: SourceInfo) -> ast.FunctionDef:
    """Find the lambda in its source line(s) and wrap it as `def <lambda>(...): return ...`."""
    module = _parse_fragment(source)
    wanted = list(fn.__code__.co_varnames[: fn.__code__.co_argcount])
    found = [
        node
        for node in ast.walk(module) if module is not None
        if isinstance(node, ast.Lambda) and [a.arg for a in node.args.args] == wanted
    ] if module is not None else []
    if len(found) != 1:
        raise UsageError(
            f"{info.filename}:{info.first_line}: cannot tell which lambda on this line is "
            f"{fn.__qualname__}; define it with `def` or put it on a line of its own"
        )
    lam = found[0]
    definition = ast.FunctionDef(
        name="lambda_",
        args=lam.args,
        body=[ast.copy_location(ast.Return(lam.body), lam.body)],
        decorator_list=[],
        returns=None,
        type_comment=None,
        type_params=[],
    )
    return fix_missing_locations(ast.copy_location(definition, lam))


def _parse_fragment(source: str) -> ast.Module | None:
    """Parse source lines that may be a fragment of a larger statement."""
    candidates = [source, source.strip().rstrip(",").rstrip(")"), "(" + source.strip() + ")"]
    for candidate in candidates:
        try:
            return ast.parse(candidate)
        except SyntaxError:
            continue
    return None


def lookup(parsed: ParsedFunction, name: str) -> Any:
    """The value a free name of the function refers to now, or `MISSING`."""
    cell = parsed.closure.get(name)
    if cell is not None:
        try:
            return cell.cell_contents
        except ValueError:
            return _MISSING
    if name in parsed.globals:
        return parsed.globals[name]
    return getattr(builtins, name, _MISSING)


MISSING = _MISSING
