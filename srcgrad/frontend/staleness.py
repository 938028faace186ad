"""Refuse a function whose source file was edited after it was defined.

srcgrad reads a function's text from its file, but Python runs the code compiled when the
`def` ran. When the file has changed since, the text read no longer compiles to that code,
and differentiating it would give the derivative of a program that does not run.
"""

from __future__ import annotations

import ast
import dis
import linecache
import os
import types

from ..errors import NotDifferentiableError, located_error
from ..syntax.fastast import fix_missing_locations
from .parse import ParsedFunction

_SKIPPED = frozenset({"PUSH_NULL", "CACHE", "EXTENDED_ARG", "NOP"})
_ALIASES = {"LOAD_METHOD": "LOAD_ATTR"}
_JUMPS = frozenset(dis.hasjrel + dis.hasjabs)
_FUTURE_FLAGS = 0x3FE0000  # the `from __future__` compiler flags a code object carries (CO_FUTURE_*)


def check_source(parsed: ParsedFunction) -> None:
    """Raise a located error unless `parsed`'s text compiles to the code its function runs.
    Only for functions read from a file on disk (generated code and notebook cells cannot
    change under the running code)."""
    fn = parsed.fn
    if not isinstance(fn, types.FunctionType) or not parsed.source or not os.path.isfile(fn.__code__.co_filename):
        return
    if "@py_builtins" in fn.__globals__:
        # pytest rewrote the module's `assert` statements, so its code is not what the text
        # compiles to; the definition must still start where the running code does
        stale = not _starts_where(parsed, fn.__code__.co_firstlineno)
    else:
        modules = [name for name in fn.__code__.co_names if isinstance(fn.__globals__.get(name), types.ModuleType)]
        compiled = _compiled(parsed.node, fn.__code__, fn.__qualname__, modules)
        stale = compiled is None or not _same_code(compiled, fn.__code__)
    if stale:
        raise located_error(
            parsed.info, parsed.node,
            f"the file changed after `{fn.__qualname__}` was defined: the running code is not this text; "
            "re-import the module (or re-run the code that defines it) and take the derivative again",
            NotDifferentiableError,
        )


def _starts_where(parsed: ParsedFunction, first_line: int) -> bool:
    """Whether the definition read starts at `first_line`: its `def` line, or (a decorated
    function's code starts at its first decorator) a decorator line above it."""
    def_line = parsed.info.absolute_line(parsed.node.lineno)
    if first_line == def_line:
        return True
    text = linecache.getline(parsed.fn.__code__.co_filename, first_line).strip()
    return first_line < def_line and text.startswith("@")


def _compiled(node: ast.FunctionDef, running: types.CodeType, qualname: str, modules: list[str]) -> types.CodeType | None:
    """The code object the definition `node` compiles to where `running` was compiled: in its
    class (private names are mangled by the class's name, `super()` needs `__class__`), inside
    a function binding its other free names, so they are closure cells too, and after imports
    of the `modules` it reads (how a name was bound decides how `np.sum(x)` is compiled)."""
    path, body = [node.name], [node]
    owner = qualname.split(".")  # the function's, not its code's: `co_qualname` is new in Python 3.11
    if len(owner) > 1 and owner[-2] != "<locals>":
        body = [ast.ClassDef(name=owner[-2], bases=[], keywords=[], body=body, decorator_list=[])]
        path.insert(0, owner[-2])
    free = [name for name in running.co_freevars if name != "__class__"]
    if free:
        binds: list[ast.stmt] = [ast.Assign([ast.Name(name, ast.Store())], ast.Constant(None)) for name in free]
        body = [ast.FunctionDef("__srcgrad_outer__", ast.arguments([], [], None, [], [], None, []),
                                binds + body, [], None, None)]
        path.insert(0, "__srcgrad_outer__")
    imports: list[ast.stmt] = [ast.Import([ast.alias("sys", name)]) for name in modules]
    module = fix_missing_locations(ast.Module(imports + body, []))
    try:
        code: types.CodeType | None = compile(
            module, running.co_filename, "exec", flags=running.co_flags & _FUTURE_FLAGS, dont_inherit=True)
    except (SyntaxError, ValueError, TypeError):
        return None
    for name in path:
        code = _code_named(code, name) if code is not None else None
    return code


def _code_named(code: types.CodeType, name: str) -> types.CodeType | None:
    return next((c for c in code.co_consts if isinstance(c, types.CodeType) and c.co_name == name), None)


def _instructions(code: types.CodeType) -> list[tuple[str, object]]:
    """The instructions, a method load taken for the attribute load it is: whether `np.sum(x)`
    compiles to one or the other depends on how the module bound `np` (by `import` or not)."""
    kept, index = [], {}  # jumps are compared by the instruction they land on, not by offset
    for instruction in dis.get_instructions(code):
        index[instruction.offset] = len(kept)
        if instruction.opname not in _SKIPPED:
            kept.append(instruction)
    return [(_ALIASES.get(i.opname, i.opname), _argument(i, index)) for i in kept]


def _argument(instruction: dis.Instruction, index: dict[int, int]) -> object:
    if instruction.opcode in _JUMPS:
        return index.get(instruction.argval)
    value = instruction.argval
    return None if isinstance(value, types.CodeType) else value  # nested code: compared among the constants


def _same_code(a: types.CodeType, b: types.CodeType) -> bool:
    """Whether two code objects do the same: instructions, names and constants (nested code
    compared the same way); names of the code and line numbers aside."""
    if (a.co_names != b.co_names or a.co_varnames != b.co_varnames or a.co_freevars != b.co_freevars
            or a.co_cellvars != b.co_cellvars or len(a.co_consts) != len(b.co_consts)):
        return False
    if a.co_code != b.co_code and _instructions(a) != _instructions(b):
        return False
    for x, y in zip(a.co_consts, b.co_consts):
        if isinstance(x, types.CodeType) or isinstance(y, types.CodeType):
            if not (isinstance(x, types.CodeType) and isinstance(y, types.CodeType) and _same_code(x, y)):
                return False
        elif type(x) is not type(y) or repr(x) != repr(y):
            return False
    return True
