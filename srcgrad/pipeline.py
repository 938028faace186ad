"""The pipeline, written down once: the passes from a user function to its compiled derivative.

`derive` runs them top to bottom. Each stage is named (an internal failure names the stage it
happened in) and, under `verbose()`, prints the code it leaves, so a wrong or crashing program
shows which pass broke it. The frozen `Request` says what is asked; `Context` holds what the
stages share for one request.

    parse -> statements -> sharing -> fence -> jumps -> normalize -> complex
          -> reverse (tape) -> clean-up -> arrays -> in_place -> entry form -> compile
          |  forward -> clean-up -> compile
"""

from __future__ import annotations

import ast
import contextlib
import copy
import os
import sys
import types
from dataclasses import dataclass, field
from typing import Any, Iterator

from . import failures
from .backend.compile import build_function, render
from .backend.entry import entry_form
from .cleanup.arrays import lighten
from .cleanup.inplace import accumulate_in_place
from .cleanup.peephole import clean_function
from .cleanup.simplify import FloatSimplifier
from .frontend.depends import Dependencies
from .frontend.parse import ParsedFunction, parse_function
from .frontend.resolve import Resolver
from .frontend.staleness import check_source
from .lowering import complexity, fence, jumps, statements
from .lowering.normalize import Normalized, Normalizer
from .lowering.sharing import SharedWrites
from .request import Callees, Request
from .runtime import core as runtime
from .syntax.fastast import fix_missing_locations
from .syntax.naming import Namer
from .syntax.usage import UsageCache, usage
from .transforms.forward import ForwardBuilder
from .transforms.reverse import ReverseBuilder
from .transforms.tape import drop_empty

# runtime helpers every reverse (forward) derivative may call, bound under these names
REVERSE_RUNTIME = (
    "seed", "getitem_vjp", "getitem", "zero_at", "copy_item", "restore_item", "drop_last", "call_rule", "is_zero",
    "match", "pushed", "restored",
)
FORWARD_RUNTIME = ("zero_tangent", "with_item", "call_tangent")

_VERBOSE = [os.environ.get("SRCGRAD_VERBOSE", "") not in ("", "0")]


@contextlib.contextmanager
def verbose(on: bool = True) -> Iterator[None]:
    """Print the code between stages of every derivative built in the block (to stderr), as
    `SRCGRAD_VERBOSE=1` does for a whole run: how to find which pass broke a program."""
    before = _VERBOSE[0]
    _VERBOSE[0] = on
    try:
        yield
    finally:
        _VERBOSE[0] = before


@dataclass
class Generated:
    """A compiled derivative and its readable source."""

    function: types.FunctionType
    source: str
    parsed: ParsedFunction
    wrt: tuple[str, ...]
    namespace: dict[str, Any]  # objects the code reads as closure cells besides the user's
    tangent_params: dict[str, str] = field(default_factory=dict)  # forward mode: `x` -> `x_dot`
    fallback: types.CellType | None = None  # entry form: what the type guard calls otherwise
    deps: Dependencies | None = None  # what it was built from (depends.py)


@dataclass
class Context:
    """What the stages of one request share: the parsed function, the request, the namer that
    hands out every generated name, what calls refer to, and the objects the code will read."""

    parsed: ParsedFunction
    request: Request
    callees: Callees
    namer: Namer
    resolver: Resolver
    injected: dict[str, Any]  # helpers the lowering passes made the code call, by name
    origin: failures.Origin | None = None
    seed_param: str = ""  # the "backward" form's cotangent parameter
    comments: dict[str, str] = field(default_factory=dict)  # the transform's comment markers, by name


@contextlib.contextmanager
def stage(name: str, context: Context) -> Iterator[list[Any]]:
    """Run one stage: failures inside name it; under `verbose()` its result is printed (put
    the tree it leaves in the yielded list)."""
    left: list[Any] = []
    with failures.stage(name):
        yield left
    if _VERBOSE[0] and left:
        tree = left[0].node if isinstance(left[0], Normalized) else left[0]
        text = render(copy.deepcopy(tree), context.comments)  # the tree goes on to the next stage as it is
        print(f"# ---- {context.parsed.name}, {context.request.mode}: after {name} ----\n{text}", file=sys.stderr)


def derive(fn: types.FunctionType, request: Request, callees: Callees, deps: Dependencies | None = None) -> Generated:
    """The derivative `request` asks of `fn`, through every stage."""
    with failures.stage("parse"):
        parsed = parse_function(fn)
        check_source(parsed)
    context = _context(parsed, request, callees, deps)
    norm = _frontend(context)
    if request.mode == "jvp":
        return _forward(context, norm)
    return _reverse(context, norm)


def _context(parsed: ParsedFunction, request: Request, callees: Callees, deps: Dependencies | None) -> Context:
    names = usage([parsed.node])
    namer = Namer.for_usage(names)
    if request.mode == "jvp":  # reserved first, so callers can know them (`tangent_params`)
        for param in request.wrt:
            namer.tangent(param)
    seed_param = namer.reserve("_out_bar") if request.mode == "backward" else ""
    injected: dict[str, Any] = {}
    resolver = Resolver(parsed, injected, set(parsed.param_names) | names.stores, deps)
    info = parsed.info
    origin = failures.Origin(failures.function_name(parsed.fn), info.filename, info.first_line,
                             names.ids | set(parsed.param_names))
    return Context(parsed, request, callees, namer, resolver, injected, origin, seed_param)


def _frontend(context: Context) -> Normalized:
    """Lowering, refusals and three-address form: the tree every transform starts from."""
    parsed, namer, resolver, injected = context.parsed, context.namer, context.resolver, context.injected
    normalizer = Normalizer(parsed.info, namer, parsed.param_names, resolver)
    injected[normalizer.sequence_name] = runtime.as_sequence
    lowerer = statements.Lowerer(parsed.info, namer, resolver, normalizer.sequence_name)
    injected[lowerer.throw_name] = runtime.throw
    with stage("statements", context) as left:
        node = lowerer.run(parsed.fresh_node(), parsed.globals)
        left.append(node)
    injected.update(lowerer.helpers)
    with stage("sharing", context) as left:
        node = SharedWrites(parsed.info, resolver, namer, injected).run(node, context.request.scalars)
        left.append(node)
    with stage("fence", context):
        fence.check(node, parsed.info, resolver)
    with stage("jumps", context) as left:
        node = jumps.lower(node, namer)
        left.append(node)
    with stage("normalize", context) as left:
        norm = normalizer.run(node)
        left.append(norm)
    resolver.local_names |= usage([norm.node]).stores
    with stage("complex", context):
        complexity.Complexity(parsed.info, resolver, namer, injected, context.request.mode in ("grad", "value_and_grad")) \
            .run(norm.node)
    return norm


def _reverse(context: Context, norm: Normalized) -> Generated:
    """Both sweeps from the rules, then the clean-ups, the entry form and compilation."""
    parsed, request, namer = context.parsed, context.request, context.namer
    runtime_names = {name: getattr(runtime, name) for name in REVERSE_RUNTIME}
    runtime_names.update(context.callees.reverse_names)
    guards = dict(request.guards)
    # entry form: arithmetic on Python floats is simplified
    simplifier = FloatSimplifier({n for n, kind in guards.items() if kind is float}, context.resolver) \
        if guards else None
    builder = ReverseBuilder(norm, parsed.info, context.resolver, namer, request, context.callees, runtime_names,
                             context.seed_param)
    context.comments = builder.comments
    name = namer.reserve(f"{request.mode}_{_identifier(parsed.name)}")
    with stage("reverse", context) as left:
        node = builder.build(name, request.mode)
        left.append(node)
    if request.mode != "vjp":  # a pullback's closure is left as built
        node = _clean_reverse(context, builder, node, simplifier)
    namespace = {**builder.namespace.values, **context.injected}
    fallback = None
    if guards:
        fallback_name, fallback = namer.reserve("_general"), types.CellType()
        with stage("entry form", context) as left:
            node = entry_form(node, guards, fallback_name, request.mode, request.single, simplifier.floats)  # type: ignore[union-attr]
            left.append(node)
        namespace[fallback_name] = fallback
    function, source = _compile(context, node, builder.comments, namespace)
    return Generated(function, source, parsed, request.wrt, namespace, fallback=fallback)


def _clean_reverse(context: Context, builder: ReverseBuilder, node: ast.FunctionDef,
                   simplifier: FloatSimplifier | None) -> ast.FunctionDef:
    """The clean-ups the request switches on, in order: peephole and dead code (with the float
    algebra of the entry form), the array passes, in-place accumulation, tidied comments. The
    builder says what the code's names refer to."""
    cleanups = context.request.cleanups
    simplifier = simplifier if "simplify" in cleanups else None
    if simplifier is not None:
        simplifier.prepare(node)
    cache = UsageCache()
    with stage("clean-up", context) as left:
        node = clean_function(node, builder, cleanups, cache, simplifier)
        if simplifier is not None:
            simplifier.finish(node, cache)
        left.append(node)
    in_place = not builder.higher_order  # code differentiated again: nothing in place
    if "arrays" in cleanups:
        with stage("arrays", context) as left:
            node = lighten(node, builder, builder.scalars, context.namer.adjoints, cache, cleanups, in_place)
            left.append(node)
    if in_place and "in_place" in cleanups:
        adjoints = context.namer.adjoints
        numbers = builder.scalars | {adjoints[p] for p in builder.scalars if p in adjoints}
        with stage("in_place", context) as left:
            accumulate_in_place(node, builder, set(adjoints.values()), numbers)
            left.append(node)
    node.body = drop_empty(node.body, builder.comments)  # comments of removed code
    return node


def _forward(context: Context, norm: Normalized) -> Generated:
    """Tangent code beside each statement, the clean-ups, compilation."""
    parsed, request, namer = context.parsed, context.request, context.namer
    runtime_names = {name: getattr(runtime, name) for name in FORWARD_RUNTIME}
    runtime_names.update(context.callees.forward_names)
    tangent_params = {param: namer.tangent(param) for param in request.wrt}
    builder = ForwardBuilder(norm, parsed.info, context.resolver, namer, tangent_params, request, context.callees,
                             runtime_names)
    with stage("forward", context) as left:
        node = builder.build(namer.reserve(f"jvp_{_identifier(parsed.name)}"))
        left.append(node)
    with stage("clean-up", context) as left:
        node = fix_missing_locations(clean_function(node, builder, request.cleanups))
        left.append(node)
    namespace = {**builder.namespace.values, **context.injected}
    function, source = _compile(context, node, {}, namespace)
    return Generated(function, source, parsed, request.wrt, namespace, tangent_params)


def _compile(context: Context, node: ast.FunctionDef, comments: dict[str, str],
             namespace: dict[str, Any]) -> tuple[types.FunctionType, str]:
    fn = context.parsed.fn
    with stage("compile", context):
        return build_function(node, comments, namespace, context.parsed.globals, context.parsed.closure,
                              fn.__defaults__, fn.__kwdefaults__, context.origin)


def _identifier(name: str) -> str:
    return name if name.isidentifier() else "lambda_"
