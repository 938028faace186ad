"""Building blocks for emitting generated code: AST constructors, template substitution,
and the namespace of objects the generated code reads as closure cells."""

from __future__ import annotations

import ast
import copy
from typing import Any, Callable, Protocol

from ..facts import generated_filename
from .fastast import CHILD_FIELDS, LEAVES, location
from .folding import fold_constants
from .naming import Namer


class CodeNames(Protocol):
    """What the names of a generated function refer to, as the clean-ups ask it (the builder
    that wrote the function answers)."""

    def value_of(self, expr: ast.expr) -> Any:
        """The object a name or `module.attr` of the code refers to, or None."""
        ...

    def is_pure(self, call: ast.Call) -> bool:
        """Whether an unread call may be dropped."""
        ...

    def bind(self, preferred: str, value: Any) -> str:
        """The name under which the code may call `value` (a runtime helper)."""
        ...

    def name_of(self, helper: Any) -> str | None:
        """The name the code already has for `helper`, if any."""
        ...


class Namespace:
    """Objects the generated code refers to by name (rule helpers, callee derivatives)."""

    def __init__(self, namer: Namer, visible: Callable[[str], Any]) -> None:
        self.namer = namer
        self.visible = visible
        self.values: dict[str, Any] = {}
        self.by_id: dict[int, str] = {}

    def bind(self, preferred: str, value: Any) -> str:
        key = id(value)
        if key in self.by_id:
            return self.by_id[key]
        if self.visible(preferred) is value:  # the user's module already calls it that
            self.by_id[key] = preferred
            return preferred
        name = self.namer.reserve(preferred)
        self.values[name] = value
        self.by_id[key] = name
        return name


def make_call(func: str, args: list[ast.expr], keywords: list[ast.keyword] | None = None) -> ast.Call:
    node: ast.expr = ast.parse(func, mode="eval").body if isinstance(func, str) else func
    return ast.Call(node, args, keywords or [])


def make_assign(name: str, value: ast.expr) -> ast.Assign:
    return ast.Assign([ast.Name(name, ast.Store())], value)


def make_function(name: str, params: list[str], body: list[ast.stmt]) -> ast.FunctionDef:
    args = ast.arguments(posonlyargs=[], args=[ast.arg(p) for p in params], vararg=None,
                         kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[])
    return ast.FunctionDef(name=name, args=args, body=body, decorator_list=[], returns=None,
                           type_comment=None, type_params=[])


def receivers(call: ast.Call) -> list[ast.expr]:
    """The object a call is made on: `m` in `m.pred(x)`, and in `m(x)` (a callable object)."""
    if isinstance(call.func, ast.Name):
        return [call.func]
    return [call.func.value] if isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Name) else []


def index_value(index: ast.expr) -> ast.expr:
    """The runtime value of a subscript: `1:3` becomes `slice(1, 3, None)`."""
    if isinstance(index, ast.Slice):
        parts = [copy.deepcopy(p) if p is not None else ast.Constant(None) for p in (index.lower, index.upper, index.step)]
        return make_call("slice", parts)
    if isinstance(index, ast.Tuple):
        return ast.Tuple([index_value(e) for e in index.elts], ast.Load())
    return copy.deepcopy(index)


def substitute(template: Any, substitutions: dict[str, ast.expr]) -> Any:
    """A fresh copy of `template` with names replaced by copies of their substitutes (the
    field-less nodes, `Load()` and `Add()`, are shared: they hold nothing)."""
    kind = type(template)
    if kind is list:
        return [substitute(item, substitutions) for item in template]
    if kind in LEAVES or not isinstance(template, ast.AST):
        return template
    if isinstance(template, ast.Name) and template.id in substitutions:
        return clone(substitutions[template.id])
    new = kind.__new__(kind)
    state = new.__dict__
    for field in kind._fields:
        value = getattr(template, field, None)
        state[field] = substitute(value, substitutions) if type(value) is list or isinstance(value, ast.AST) else value
    if hasattr(template, "lineno"):
        state.update(location(template))
    return new


def clone(node: Any) -> Any:
    """A fresh copy of `node` (`substitute` without substitutions)."""
    kind = type(node)
    plain = _PLAIN.get(kind)
    if plain is not None:  # a name or a constant, the usual substitutes: copy its attributes at once
        state = node.__dict__
        keys = state.keys()
        if keys <= plain and (state.get("lineno") is not None if "lineno" in keys else keys.isdisjoint(_POSITION)):
            new = kind.__new__(kind)
            new.__dict__.update(state)
            return new
    return substitute(node, {})


_POSITION = frozenset(("lineno", "col_offset", "end_lineno", "end_col_offset"))
# Nodes whose fields hold no nodes but shared ones (a context): with only fields and a
# position in their `__dict__`, a copy of it is what `substitute` would build.
_PLAIN = {ast.Name: frozenset(("id", "ctx")) | _POSITION, ast.Constant: frozenset(("value", "kind")) | _POSITION}


def instantiate(template: ast.AST, substitutions: dict[str, ast.expr]) -> Any:
    """`substitute(template, substitutions)` for a template that never changes (a rule's).
    A template used often is compiled, once per set of substituted names, into a function
    that builds the copy directly: several times quicker, but compiling costs as much as
    a few dozen substitutions, so a template is first substituted `_COMPILE_AFTER` times."""
    key = (id(template), frozenset(substitutions))
    entry = _BUILDERS.get(key)
    if entry is None or entry[0] is not template:  # the template is kept, so its id is not reused
        entry = _BUILDERS[key] = [template, 0]
    return _substituted(entry, template, substitutions)


def _substituted(entry: list[Any], template: ast.AST, substitutions: dict[str, ast.expr]) -> Any:
    """`substitute(template, substitutions)`, by the builder in `entry[-1]` once `template`
    has been substituted `_COMPILE_AFTER` times (`entry[-1]` counts them until then)."""
    state = entry[-1]
    if type(state) is int:
        if state < _COMPILE_AFTER:
            entry[-1] = state + 1
            return substitute(template, substitutions)
        entry[-1] = state = _builder(template, frozenset(substitutions))
    return state(substitutions)


_COMPILE_AFTER = 10
# (id of a template, names substituted) -> [the template, its builder or how often it was substituted]
_BUILDERS: dict[tuple[int, frozenset[str]], list[Any]] = {}


def _builder(template: ast.AST, substituted: frozenset[str]) -> Callable[[dict[str, ast.expr]], Any]:
    """A function of the substitutions returning what `substitute` would for `template`."""
    values: list[Any] = []  # everything that is not built afresh: names' ids, numbers, `Load()`...
    source = f"def build(S):\n    return {_builder_text(template, substituted, values)}\n"
    namespace: dict[str, Any] = {"V": values, "C": clone, "N": _new_node}
    exec(compile(source, generated_filename("template"), "exec"), namespace)
    return namespace["build"]


def _builder_text(node: Any, substituted: frozenset[str], values: list[Any]) -> str:
    """The expression that builds `node` afresh, reading what it keeps from `V` (`values`)."""
    kind = type(node)
    if kind is list:
        return "[" + ", ".join(_builder_text(item, substituted, values) for item in node) + "]"
    if kind in LEAVES or not isinstance(node, ast.AST):
        return _kept(node, values)
    if isinstance(node, ast.Name) and node.id in substituted:
        return f"C(S[{node.id!r}])"
    state = {}
    for field in kind._fields:
        item = getattr(node, field, None)
        nested = type(item) is list or isinstance(item, ast.AST)
        state[field] = _builder_text(item, substituted, values) if nested else _kept(item, values)
    if hasattr(node, "lineno"):
        state.update({a: _kept(v, values) for a, v in location(node).items()})
    return f"N({_kept(kind, values)}, {{{', '.join(f'{k!r}: {v}' for k, v in state.items())}}})"


def _kept(item: Any, values: list[Any]) -> str:
    values.append(item)
    return f"V[{len(values) - 1}]"


def _new_node(kind: type, state: dict[str, Any]) -> ast.AST:
    new = kind.__new__(kind)
    new.__dict__.update(state)
    return new


def instantiate_rule(
    template: ast.expr, substitutions: dict[str, ast.expr], drop: bool | tuple[bool, ...], needed: tuple[bool, ...],
) -> ast.expr:
    """A rule template's expression for these arguments, with the calls of the template's
    `unbroadcast` dropped (everywhere if `drop` is True, in the elements of the returned
    tuple it marks if a tuple) and constants folded; the elements of a returned tuple that
    `needed` does not mark (cotangents of arguments that need none) are `None`. What
    depends only on which arguments are names and which are constants (and their values)
    is worked out once per template and such pattern; names are substituted last.
    Arguments of other kinds, rarer, take the long way."""
    pattern = _pattern(substitutions)
    if pattern is None:
        return _prepared(template, substitutions, drop, substitutions.get("unbroadcast"), needed)
    key = (id(template), pattern, drop, needed)
    entry = _PREPARED.get(key)
    if entry is None or entry[0] is not template:  # the template is kept, so its id is not reused
        constants = {name: value for name, value in substitutions.items() if type(value) is ast.Constant}
        placeholder = ast.Name("unbroadcast", ast.Load()) if "unbroadcast" in substitutions else None
        entry = _PREPARED[key] = [template, _prepared(template, constants, drop, placeholder, needed), 0]
    names = {name: value for name, value in substitutions.items() if type(value) is ast.Name}
    return _substituted(entry, entry[1], names)  # a pattern always substitutes the same names


# (id of a template, argument pattern, drop, needed) ->
# [the template, its prepared expression, its builder or how often it was substituted]
_PREPARED: dict[tuple, list[Any]] = {}


def _pattern(substitutions: dict[str, ast.expr]) -> tuple | None:
    """Which substitutes are names (not which names) and which are constants, with their
    values (by `repr`: `-0.0` is not `0.0`); None when one is another expression."""
    parts = []
    for name, value in substitutions.items():
        kind = type(value)
        if kind is ast.Name:
            parts.append((name,))
        elif kind is ast.Constant:
            parts.append((name, type(value.value), repr(value.value)))  # type: ignore[attr-defined]
        else:
            return None
    return tuple(parts)


def _prepared(
    template: ast.expr, substitutions: dict[str, ast.expr], drop: bool | tuple[bool, ...], wrapper: ast.expr | None,
    needed: tuple[bool, ...],
) -> ast.expr:
    """`template` substituted, with the calls of `wrapper` dropped as `drop` says and the
    tuple elements not `needed` left out, folded."""
    expr = substitute(template, substitutions)
    if isinstance(expr, ast.Tuple) and len(needed) == len(expr.elts):
        expr.elts = [e if keep else ast.Constant(None) for e, keep in zip(expr.elts, needed)]
    if drop is True:
        expr = drop_calls(expr, wrapper)
    elif drop and isinstance(expr, ast.Tuple):
        expr.elts = [drop_calls(e, wrapper) if flag else e for e, flag in zip(expr.elts, drop)]
    return fold_constants(expr)


def drop_calls(expr: ast.expr, wrapper: ast.expr | None) -> ast.expr:
    """`wrapper(e, x)` becomes `e`: for shape bookkeeping (`unbroadcast`, `broadcast_like`)
    that has nothing to do when the shapes are known to agree."""
    if not isinstance(wrapper, ast.Name):
        return expr
    return _dropped(expr, wrapper.id)


def _dropped(node: ast.AST, name: str) -> ast.AST:
    """`node` with the calls of `name` replaced by their first argument, inner calls first
    (in place, as a `NodeTransformer` would)."""
    for field in CHILD_FIELDS[type(node)]:
        value = getattr(node, field, None)
        if type(value) is list:
            for i, item in enumerate(value):
                if isinstance(item, ast.AST) and type(item) not in LEAVES:
                    value[i] = _dropped(item, name)
        elif isinstance(value, ast.AST) and type(value) not in LEAVES:
            new = _dropped(value, name)
            if new is not value:
                setattr(node, field, new)
    if type(node) is ast.Call and isinstance(node.func, ast.Name) and node.func.id == name:  # type: ignore[attr-defined]
        return node.args[0]  # type: ignore[attr-defined]
    return node


def simple_name(fn: Any) -> str:
    name = getattr(fn, "__name__", "f")
    return name if name.isidentifier() else "lambda_"
