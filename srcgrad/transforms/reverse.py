"""Reverse mode: emit the forward sweep and the backward sweep of a normalized function.

Invariant: when the backward sweep reaches the adjoint of statement S, every variable holds
the value it had right after S ran forward. Loops and branches overwrite values, so a value
the backward sweep reads is pushed on the per-call tape before it is overwritten and popped
right after the adjoint of the statement that overwrote it. Straight-line code needs no tape
(normalization gave each reassignment its own name).
"""

from __future__ import annotations

import ast
import copy
import inspect
import itertools
import operator
from typing import Any, Callable, Iterable

import numpy as np

from ..analysis import activity as analysis
from ..analysis.invariance import shift_free
from ..analysis.number_calls import NumberCalls
from ..analysis.scalars import scalar_names
from ..errors import SourceInfo
from ..failures import note_line, stage
from ..frontend.resolve import Resolver
from ..lowering.normalize import Normalized
from ..request import Callees, Request
from ..runtime import core as runtime
from ..syntax.astquery import count_statements, loads, names, stores
from ..syntax.emit import Namespace, make_assign, make_call, make_function
from ..syntax.naming import Namer
from .builder import Builder, literal
from .loops import shape_stand_ins
from .reverse_calls import CallsMixin
from .reverse_flow import FlowMixin, written
from .reverse_statements import StatementsMixin
from .tape import (
    TapeMarkers,
    drop_empty,
    has_markers,
    live_restores,
    prune,
)

_MATMUL = (ast.MatMult, np.matmul, operator.matmul)  # its rule reshapes the cotangent


class ReverseBuilder(FlowMixin, StatementsMixin, CallsMixin, Builder):
    """Builds the derivative of one normalized function."""

    def __init__(
        self,
        norm: Normalized,
        info: SourceInfo,
        resolver: Resolver,
        namer: Namer,
        request: Request,
        callees: Callees,
        runtime_names: dict[str, Any],
        seed_param: str = "_out_bar",
    ) -> None:
        self.norm, self.info, self.resolver, self.namer = norm, info, resolver, namer
        self.wrt = wrt = list(request.wrt)
        self.outputs = list(request.returned)
        self.callee_vjp = callees.vjp
        self.callee_backward = callees.backward
        self.record_all = request.record_all  # benchmarks: push every overwritten value, needed or not
        self.cleanups = request.cleanups  # the clean-up passes to run (request.CLEANUPS)
        self.higher_order = request.reentrant  # emit only what srcgrad can differentiate again
        self.single = request.single and self.higher_order  # return the one gradient itself, not a 1-tuple
        self.seed_param = seed_param  # the cotangent parameter of the "backward" form
        self.namespace = Namespace(namer, lambda name: resolver.static_value(ast.Name(name, ast.Load())))
        self.rt = {name: self.namespace.bind(name, value) for name, value in runtime_names.items()}
        self.impure = tuple(self.rt[name] for name in ("seed", "call_rule", "call_vjp", "call_method_vjp") if name in self.rt)
        body = norm.node.body
        arguments = norm.node.args
        self.params = [a.arg for a in arguments.posonlyargs + arguments.args + arguments.kwonlyargs]
        self.returned = body[-1].value  # type: ignore[attr-defined]
        returned_names = loads(self.returned)
        name_nodes: dict[int, list[ast.Name]] = {}  # per simple statement: its names, for both analyses below

        def names_of(stmt: ast.stmt) -> list[ast.Name]:
            found = name_nodes.get(id(stmt))
            if found is None:
                found = name_nodes[id(stmt)] = names(stmt)
            return found

        self.active = analysis.activity(body, set(wrt), returned_names, self.carries_derivative, (), names_of)
        self.shift_free = {name: shift for name, shift in shift_free(norm.node, resolver.callee).items()
                           if name in self.active}  # active names whose derivative is zero
        if self.shift_free:
            self.active = analysis.activity(body, set(wrt), returned_names, self.carries_derivative, self.shift_free,
                                            names_of)
        self.defined: set[str] = set()
        self.local_temps = _block_local_names(body, names_of, self.params)
        self.scalars = scalar_names(body, set(request.scalars), resolver.static_value, set(self.params),
                                    NumberCalls(resolver).result)
        self.depth = 0  # branches and loops around the statement being built
        self.loops = 0  # loops around it: outside loops each value is saved at most once, in a local
        self.saved: set[str] = set()
        self.local_saves: dict[int, str | None] = {}  # tape pairs outside loops -> their local, once named
        self.taped = False  # whether a kept pair goes through `_tape`
        self.pullbacks: dict[int, str] | None = None  # per split call statement: its pullback's name
        self.tape = namer.reserve("_tape")
        self.pairs = itertools.count(1)
        self.shape_sensitive = False
        # Outside loops: the names whose adjoint may still be the scalar zero of an initialisation
        # at the point of the backward sweep being built (a branch that did not run leaves it so,
        # and a rule applied to that zero gives zero again); rules that reshape their cotangent
        # must then skip it. In loops every adjoint may be.
        self.maybe_zero: set[str] = set()
        self.cotangent_may_be_zero = False  # of the statement being built: see `block`
        self.comments: dict[str, str] = {}
        self.rule_plans: dict[int, tuple] = {}  # per rule (by id; the registry keeps rules): see `_rule_plan`
        self.last_comment: str | None = None  # the text of the last comment in the statement list being built

    # ---- public ---------------------------------------------------------------------
    def build(self, name: str, form: str) -> ast.FunctionDef:
        """`name(params)` running both sweeps. `form` says what it returns: "grad" the
        gradients, "value_and_grad" the value and gradients (for a scalar output), "vjp" the
        value and a pullback closure, "backward" the cotangents for the cotangent passed as
        the keyword-only `seed_param` (no closure: code meant to be differentiated again)."""
        body = self.norm.node.body
        returned = self.returned
        seed_name = self.adjoint(returned.id) if isinstance(returned, ast.Name) else self.namer.reserve("_out_bar")
        if isinstance(returned, ast.Name) and returned.id in self.active:
            self.defined.add(returned.id)
        forward, backward = self.block(body[:-1])
        with stage("tape"):
            forward, backward = self.finish(forward, backward, comments_tidied_later=form != "vjp")
        gradients = [self.final_adjoint(p) for p in self.outputs]
        if self.higher_order and form != "backward":
            # return what the derivative function itself returns, shaped like its arguments
            # (a number's gradient is a number already)
            gradients = [g if p in self.scalars else make_call(self.rt["match"], [g, ast.Name(p, ast.Load())])
                         for g, p in zip(gradients, self.outputs)]
        results: ast.expr = gradients[0] if self.single else ast.Tuple(gradients, ast.Load())
        value = copy.deepcopy(returned)
        if form == "value_and_grad" and (loads(value) & set().union(*map(stores, backward))):
            kept = self.namer.fresh("_value")  # the backward sweep pops older values into those names
            forward = [*forward, make_assign(kept, value)]
            value = ast.Name(kept, ast.Load())
        if form == "vjp":
            pullback = self.namer.reserve(f"{self.norm.node.name}_pullback")
            if self._undoes_writes(backward) and not self._is_scalar(returned):
                # the pullback puts back what item assignments and appends overwrote, in the
                # objects themselves: the caller gets a copy of the output, which it cannot change
                kept = self.namer.fresh("_value")
                snapshot = self.namespace.bind("snapshot", runtime.snapshot)
                forward = [*forward, make_assign(kept, make_call(snapshot, [value]))]
                value = ast.Name(kept, ast.Load())
            written = set().union(*map(stores, backward))
            restored = sorted(written & (set().union(*map(stores, forward)) | set(self.params)))
            inner = ([ast.Nonlocal(restored)] if restored else []) + backward + [ast.Return(results)]
            definition = make_function(pullback, [seed_name], inner)
            tail = [definition, ast.Return(ast.Tuple([value, ast.Name(pullback, ast.Load())], ast.Load()))]
            stmts = forward + tail
        else:
            if form == "backward":
                seed = make_assign(seed_name, ast.Name(self.seed_param, ast.Load()))
            elif self._is_scalar(returned):
                seed = make_assign(seed_name, ast.Constant(1.0))
            else:
                seed = make_assign(seed_name, make_call(self.rt["seed"], [copy.deepcopy(returned)]))
            returned_value = ast.Tuple([value, results], ast.Load()) if form == "value_and_grad" else results
            stmts = forward + [seed] + backward + [ast.Return(returned_value)]
        definition = make_function(name, [], stmts)
        definition.args = copy.deepcopy(self.norm.node.args)
        if form == "backward":
            definition.args.kwonlyargs.append(ast.arg(self.seed_param))
            definition.args.kw_defaults.append(None)  # type: ignore[arg-type]
        return definition  # compiled from its text: positions are not needed

    def final_adjoint(self, param: str) -> ast.expr:
        if param in self.active and param in self.defined:
            return ast.Name(self.adjoint(param), ast.Load())
        return ast.Constant(0.0)

    # ---- blocks ----------------------------------------------------------------------
    def block(self, stmts: list[ast.stmt]) -> tuple[list[ast.stmt], list[ast.stmt]]:
        """Forward statements in order and backward statements in execution order."""
        forward: list[ast.stmt] = []
        backward: list[ast.stmt] = []
        outer, self.last_comment = self.last_comment, None
        for stmt in reversed(stmts):
            try:
                self.cotangent_may_be_zero = bool(self.depth) or not self.maybe_zero.isdisjoint(written(stmt))
                fwd, bwd = self.statement(stmt)
            except Exception as error:
                note_line(error, getattr(stmt, "lineno", 0))
                raise
            forward[:0] = fwd
            backward.extend(bwd)
            if any(isinstance(b, (ast.If, ast.For, ast.While)) for b in bwd):
                self.last_comment = None  # as in `drop_empty`: a comment repeats one only in a run of simple statements
        self.last_comment = outer
        return forward, backward

    def statement(self, stmt: ast.stmt) -> tuple[list[ast.stmt], list[ast.stmt]]:
        if isinstance(stmt, (ast.If, ast.For, ast.While)):
            return self.compound(stmt)
        if isinstance(stmt, ast.Break):
            return [stmt], []  # jumps were lowered to flags: this is the loop's single exit
        if isinstance(stmt, ast.Pass):
            return [], []
        return self.simple_statement(stmt)

    def _rule_plan(self, rule: Any) -> tuple[ast.expr | None, dict[str, ast.expr], tuple, bool, bool]:
        """What applying `rule` takes that is the same every time: its template (None when it
        is called, not inlined), the substitutes of its literal defaults and of the helpers
        it reads, its other defaults (by name), whether it returns a plain tuple of
        cotangents, and whether it reshapes cotangents."""
        reshapes = rule.reshapes
        if not rule.inline or rule.packs:
            return None, {}, (), False, reshapes
        template, template_globals = rule.template()
        fixed: dict[str, ast.expr] = {}
        objects = []
        for name, default in rule.defaults:
            if literal(default):
                fixed[name] = self._constant(default)
            elif default is not inspect.Parameter.empty:
                objects.append((name, default))
        for global_name, value in template_globals.items():
            fixed[global_name] = ast.Name(self.namespace.bind(global_name, value), ast.Load())
        plain = isinstance(template, ast.Tuple) and not any(isinstance(e, ast.Starred) for e in template.elts)
        return template, fixed, tuple(objects), plain, reshapes

    # ---- finishing: tape pushes and pops ------------------------------------------------
    def finish(
        self, forward: list[ast.stmt], backward: list[ast.stmt], comments_tidied_later: bool = False,
    ) -> tuple[list, list]:
        """The tape: pushes and pops for the saves and restores that are needed, the rest
        dropped. `comments_tidied_later`: `drop_empty` runs on the finished function."""
        record_all = self.record_all or "tape" not in self.cleanups
        if not record_all and not has_markers(forward) and not has_markers(backward) \
                and not any(isinstance(s, (ast.If, ast.For, ast.While)) for s in backward):  # nothing taped
            if comments_tidied_later:
                return forward, backward
            return drop_empty(forward, self.comments), drop_empty(backward, self.comments)
        if not (record_all or self.higher_order):  # keep only the shape of what only that is read of
            forward, backward = shape_stand_ins(forward, backward, self.params, self.scalars, self.value_of, self.namer.reserve,
                                                lambda: next(self.pairs), self.namespace.bind)
        while True:
            kept = live_restores(backward, set()) if not record_all else set(range(1, next(self.pairs)))
            pruned = prune(backward, kept)
            if count_statements(pruned) == count_statements(backward):
                break
            backward = pruned
        forward = self._materialize(forward, kept)
        backward = self._materialize(backward, kept)
        inits = [make_assign(name, ast.Constant(None)) for name in sorted(self.saved - set(self.params))]
        if self.taped:
            inits.insert(0, make_assign(self.tape, ast.List([], ast.Load())))
        return inits + forward, backward

    def _materialize(self, stmts: list[ast.stmt], kept: set[int]) -> list[ast.stmt]:
        if not has_markers(stmts):
            return drop_empty(list(stmts), self.comments)  # no markers: nothing to replace
        replace = TapeMarkers(kept, self.tape, self.saved, self.local_saves, self.namer.reserve)
        out = []
        for stmt in stmts:
            new = replace.visit(stmt)
            if new is not None:
                out.append(new)
        self.taped = self.taped or replace.taped
        return drop_empty(out, self.comments)

    # ---- helpers -------------------------------------------------------------------------
    def adjoint(self, name: str) -> str:
        return self.namer.adjoint(name)

    def _has_adjoint(self, name: str) -> bool:
        return (self.loops > 0 and name not in self.local_temps) or name in self.defined

    def comment(self, stmt: ast.stmt) -> list[ast.stmt]:
        """The comment that heads the adjoint of `stmt`: which line of the user's code it
        is, unless the comment before it in this statement list says so already (the
        statements one line becomes share one comment; `drop_empty` would drop the repeats)."""
        lineno = getattr(stmt, "lineno", 0)
        text = f"# adjoint of line {self.info.absolute_line(lineno)}: {self.info.line_text(lineno).strip()}"
        if text == self.last_comment:
            return []
        self.last_comment = text
        return self._note(text)

    def shift_note(self, name: str) -> list[ast.stmt]:
        """A comment for the definition of a name of `shift_free`: why it has no adjoint."""
        axis = self.shift_free[name].axis
        where = "" if axis is None else f" along axis {axis}"
        return self._note(f"# `{name}` needs no adjoint: adding a constant to it{where} would not change the result")

    def _note(self, text: str) -> list[ast.stmt]:
        """A statement that `render` writes as the comment `text`."""
        key = f"__comment{len(self.comments) + 1}__"
        self.comments[key] = text
        return [ast.Expr(ast.Name(key, ast.Load()))]


def _block_local_names(
    body: list[ast.stmt], names_of: Callable[[ast.stmt], list[ast.Name]], params: Iterable[str] = (),
) -> set[str]:
    """Names assigned once and read once, both in the same statement list, the read after the
    assignment: their adjoint is assigned by the one reader and consumed by the one
    definition, even inside loops. (A parameter has a binding before the body; a read before
    the assignment, in a loop, reads the value of the iteration before: not local.)
    `names_of(stmt)` gives a simple statement's `Name` nodes."""
    stores: dict[str, list[tuple[int, int]]] = {}
    reads: dict[str, list[tuple[int, int]]] = {}
    _note_blocks(body, stores, reads, names_of)
    local = set()
    for name, where in stores.items():
        read = reads.get(name)
        if len(where) == 1 and read is not None and len(read) == 1 and read[0][0] == where[0][0] \
                and read[0][1] > where[0][1]:
            local.add(name)
    return local - set(params)


def _note_blocks(
    stmts: list[ast.stmt], stores: dict[str, list[tuple[int, int]]], reads: dict[str, list[tuple[int, int]]],
    names_of: Callable[[ast.stmt], list[ast.Name]],
) -> None:
    """For each name, where it is stored and read, from `stmts` down: (the statement list by
    id, the statement's position in it)."""
    for position, stmt in enumerate(stmts):
        inner = [getattr(stmt, f) for f in ("body", "orelse") if isinstance(getattr(stmt, f, None), list)]
        if inner:
            heads = [stmt.test] if isinstance(stmt, (ast.If, ast.While)) else [stmt.iter, stmt.target] if isinstance(stmt, ast.For) else []
            found = [n for head in heads for n in names(head)]
        else:
            found = names_of(stmt)
        for node in found:
            table = stores if type(node.ctx) is ast.Store else reads
            table.setdefault(node.id, []).append((id(stmts), position))
        for block in inner:
            _note_blocks(block, stores, reads, names_of)

