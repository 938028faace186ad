"""Gather pieces of Python source from several modules into one module, renaming globals
that would clash (used by `srcgrad.tools.export`).

A `Chunk` is the text of one top-level statement (a `def`, a `class`, an assignment)
together with what each global name it reads or defines refers to. The `Linker` gives
every object one module-level name and writes each chunk with its names replaced.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass
class Chunk:
    """One top-level statement's text, and the objects its global names refer to."""

    text: str
    section: str
    refs: dict[str, Any] = field(default_factory=dict)  # local global name -> object
    defines: Any = None  # the object this statement defines, if any
    defined_name: str = ""  # the name it defines it under in `text`
    places: list[tuple[int, int, str]] = field(default_factory=list)  # (line, column, name)


def global_places(text: str) -> list[tuple[int, int, str]]:
    """(line, column, name) of every occurrence in `text` (top-level statements) of a name
    that refers to a module global, including the names that `def` and `class` define."""
    tree = ast.parse(text)
    lines = text.splitlines()
    scopes = _Scopes(lines)
    for statement in tree.body:
        scopes.visit(statement)
    return scopes.places


class _Scopes(ast.NodeVisitor):
    """Walks statements keeping a stack of function and class scopes (their local names)."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.stack: list[tuple[str, set[str]]] = []
        self.places: list[tuple[int, int, str]] = []

    def _is_global(self, name: str) -> bool:
        for depth, (kind, names) in enumerate(reversed(self.stack)):
            if kind == "class" and depth > 0:
                continue  # a class body's names are not visible inside its methods
            if name in names:
                return False
        return True

    def _column(self, line: int, byte_col: int) -> int:
        return len(self.lines[line - 1].encode()[:byte_col].decode(errors="replace"))

    def visit_Name(self, node: ast.Name) -> None:
        if self._is_global(node.id):
            self.places.append((node.lineno, self._column(node.lineno, node.col_offset), node.id))

    def _defined_name(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> None:
        if not self._is_global(node.name):
            return
        line = self.lines[node.lineno - 1]
        match = re.compile(r"(async\s+)?(def|class)\s+(\w+)").search(line, self._column(node.lineno, node.col_offset))
        if match:
            self.places.append((node.lineno, match.start(3), node.name))

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        for expr in [*node.decorator_list, *_defaults(node.args)]:
            self.visit(expr)
        self._defined_name(node)
        annotations = [a.annotation for a in _all_args(node.args)] + [node.returns]
        for expr in annotations:
            if expr is not None:
                self.visit(expr)
        self._scope("function", {a.arg for a in _all_args(node.args)} | _bound_names(node.body), node.body)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, node: ast.Lambda) -> None:
        for expr in _defaults(node.args):
            self.visit(expr)
        self._scope("function", {a.arg for a in _all_args(node.args)}, [node.body])

    def _comprehension(self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp) -> None:
        first, *rest = node.generators
        self.visit(first.iter)  # evaluated in the enclosing scope
        targets = {n.id for g in node.generators for n in ast.walk(g.target) if isinstance(n, ast.Name)}
        parts = [*first.ifs, *[e for g in rest for e in (g.iter, *g.ifs)]]
        parts += [node.key, node.value] if isinstance(node, ast.DictComp) else [node.elt]
        self._scope("function", targets, parts)

    visit_ListComp = visit_SetComp = visit_GeneratorExp = visit_DictComp = _comprehension

    def _scope(self, kind: str, names: set[str], body: list[Any]) -> None:
        self.stack.append((kind, names))
        for node in body:
            self.visit(node)
        self.stack.pop()

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for expr in [*node.decorator_list, *node.bases, *[k.value for k in node.keywords]]:
            self.visit(expr)
        self._defined_name(node)
        self._scope("class", _bound_names(node.body), node.body)


def _defaults(args: ast.arguments) -> list[ast.expr]:
    return [*args.defaults, *[d for d in args.kw_defaults if d is not None]]


def _all_args(args: ast.arguments) -> list[ast.arg]:
    extra = [a for a in (args.vararg, args.kwarg) if a is not None]
    return [*args.posonlyargs, *args.args, *args.kwonlyargs, *extra]


def _bound_names(body: list[Any]) -> set[str]:
    """Names a scope binds: assigned, imported, defined, loop and comprehension targets
    (nested functions and classes excluded), minus those declared `global`."""
    bound: set[str] = set()
    declared_global: set[str] = set()
    todo = list(body)
    while todo:
        node = todo.pop()
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            bound.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
            todo.extend(node.decorator_list)
            continue
        elif isinstance(node, (ast.Lambda, ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
            continue  # scopes of their own
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.Global):
            declared_global.update(node.names)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            bound.add(node.name)
        todo.extend(ast.iter_child_nodes(node))
    return bound - declared_global


class Linker:
    """Collects chunks, gives each object one module-level name, and writes them out."""

    def __init__(self) -> None:
        self.names: dict[int, str] = {}  # id(object) -> its name in the written module
        self.taken: set[str] = set()
        self.keep: list[Any] = []  # objects named here, kept alive so their ids stay unique
        self.chunks: list[Chunk] = []
        self.imports: dict[str, str] = {}  # name -> import statement

    def name(self, obj: Any, preferred: str) -> tuple[str, bool]:
        """The module-level name of `obj` and whether it is new (then it must be defined)."""
        if id(obj) in self.names:
            return self.names[id(obj)], False
        name, n = preferred, 1
        while name in self.taken:
            n += 1
            name = f"{preferred}_{n}"
        self.names[id(obj)] = name
        self.taken.add(name)
        self.keep.append(obj)
        return name, True

    def reserve(self, obj: Any, name: str) -> None:
        """Give `obj` exactly `name` (before any other object can take it)."""
        assert name not in self.taken, name
        self.names[id(obj)] = name
        self.taken.add(name)
        self.keep.append(obj)

    def add_import(self, obj: Any, preferred: str, statement: Callable[[str], str]) -> str:
        """Name `obj` and remember the import statement that binds it, made by `statement`
        from the name."""
        name, new = self.name(obj, preferred)
        if new:
            self.imports[name] = statement(name)
        return name

    def render(self, chunk: Chunk) -> str:
        """The chunk's text with every global name replaced by its module-level name."""
        lines = chunk.text.splitlines()
        for line, column, local in sorted(chunk.places, reverse=True):
            if local in chunk.refs:
                final = self.names.get(id(chunk.refs[local]), local)
            elif local == chunk.defined_name:
                final = self.names.get(id(chunk.defines), local)
            else:
                continue  # a builtin
            if final != local:
                text = lines[line - 1]
                lines[line - 1] = text[:column] + final + text[column + len(local):]
        return "\n".join(lines)

    def import_lines(self) -> list[str]:
        """The import statements, plain `import`s first, each group sorted."""
        plain = sorted(s for s in self.imports.values() if s.startswith("import "))
        return plain + sorted(s for s in self.imports.values() if not s.startswith("import "))
