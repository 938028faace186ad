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

from . import analysis, runtime
from .arrays import lighten
from .builder import Builder, literal
from .cleanups import ALL
from .emit import (
    Namespace,
    index_value,
    instantiate_rule,
    make_assign,
    make_call,
    make_function,
    receivers,
    simple_name,
)
from .errors import SourceInfo, plain_name
from .failures import note_line, stage
from .fastast import Transformer, fix_missing_locations, walk
from .inplace import accumulate_in_place
from .invariance import shift_free
from .loops import shape_stand_ins
from .naming import Namer
from .normalize import Normalized
from .number_calls import NumberCalls
from .optimize import clean_function
from .overwrite import plainly_basic, written_part
from .resolve import ATTRIBUTE_PRIMALS, MISSING, PACKED_METHODS, Callee, Resolver
from .rules.registry import find_vjp_rule
from .scalars import scalar_names
from .simplify import FloatSimplifier
from .tape import (
    RESTORE,
    SAVE,
    drop_empty,
    has_markers,
    is_comment,
    is_marker,
    live_restores,
    marker,
    prune,
    reads,
)
from .usage import UsageCache

_ELEMENTWISE_OPERATORS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow, ast.Mod)
_MATMUL = (ast.MatMult, np.matmul, operator.matmul)  # its rule reshapes the cotangent


class ReverseBuilder(Builder):
    """Builds the derivative of one normalized function."""

    def __init__(
        self,
        norm: Normalized,
        info: SourceInfo,
        resolver: Resolver,
        namer: Namer,
        wrt: list[str],
        callee_vjp: Callable[[Any, tuple[int, ...]], Any],
        runtime_names: dict[str, Any],
        scalar_params: frozenset[str] = frozenset(),
    ) -> None:
        self.norm, self.info, self.resolver, self.namer = norm, info, resolver, namer
        self.wrt = wrt
        self.outputs = list(wrt)
        self.callee_vjp = callee_vjp
        self.namespace = Namespace(namer, lambda name: resolver.static_value(ast.Name(name, ast.Load())))
        self.rt = {name: self.namespace.bind(name, value) for name, value in runtime_names.items()}
        self.impure = tuple(self.rt[name] for name in ("seed", "call_rule", "call_vjp", "call_method_vjp") if name in self.rt)
        body = norm.node.body
        arguments = norm.node.args
        self.params = [a.arg for a in arguments.posonlyargs + arguments.args + arguments.kwonlyargs]
        self.returned = body[-1].value  # type: ignore[attr-defined]
        returned_names = analysis.loads(self.returned)
        name_nodes: dict[int, list[ast.Name]] = {}  # per simple statement: its names, for both analyses below

        def names_of(stmt: ast.stmt) -> list[ast.Name]:
            found = name_nodes.get(id(stmt))
            if found is None:
                found = name_nodes[id(stmt)] = analysis.names(stmt)
            return found

        self.active = analysis.activity(body, set(wrt), returned_names, self.carries_derivative, (), names_of)
        self.shift_free = {name: shift for name, shift in shift_free(norm.node, resolver.callee).items()
                           if name in self.active}  # active names whose derivative is zero
        if self.shift_free:
            self.active = analysis.activity(body, set(wrt), returned_names, self.carries_derivative, self.shift_free,
                                            names_of)
        self.defined: set[str] = set()
        self.local_temps = _block_local_names(body, names_of, self.params)
        self.scalars = scalar_names(body, set(scalar_params), resolver.static_value, set(self.params),
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
        self.record_all = False
        self.cleanups = ALL  # the clean-up passes to run (cleanups.CLEANUPS)
        self.higher_order = False  # emit only what srcgrad can differentiate again
        self.single = False  # return the one gradient itself rather than a 1-tuple
        self.simplifier: FloatSimplifier | None = None  # entry form: rewrites of float arithmetic
        self.seed_param = "_out_bar"  # the cotangent parameter of the "backward" form
        self.callee_backward: Callable[[Any, tuple[int, ...]], tuple[Any, str]] | None = None
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
        if form == "value_and_grad" and (analysis.loads(value) & set().union(*map(analysis.stores, backward))):
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
            written = set().union(*map(analysis.stores, backward))
            restored = sorted(written & (set().union(*map(analysis.stores, forward)) | set(self.params)))
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
        if form != "vjp":
            simplifier = self.simplifier if "simplify" in self.cleanups else None
            if simplifier is not None:
                simplifier.prepare(definition)
            rewrite = simplifier.expression if simplifier is not None else None
            floats = frozenset(simplifier.floats) if simplifier is not None else None
            usage = UsageCache()
            with stage("clean-up"):
                definition = clean_function(definition, self.is_pure, rewrite, usage, floats, self.cleanups)
                if simplifier is not None:
                    simplifier.finish(definition, usage)
            bind = None if self.higher_order else self.namespace.bind
            if "arrays" in self.cleanups:
                with stage("arrays"):
                    definition = lighten(definition, self.scalars, self.value_of, self.is_pure, self.namer.adjoints,
                                         bind, usage, lambda helper: self.namespace.by_id.get(id(helper)), self.cleanups)
            adjoints = set(self.namer.adjoints.values())
            if bind is not None and "in_place" in self.cleanups:
                numbers = self.scalars | {self.namer.adjoints[p] for p in self.scalars if p in self.namer.adjoints}
                with stage("in_place"):
                    accumulate_in_place(definition, adjoints, numbers.__contains__, self.value_of, bind)
            definition.body = drop_empty(definition.body, self.comments)  # comments of removed code
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
                self.cotangent_may_be_zero = bool(self.depth) or not self.maybe_zero.isdisjoint(_written(stmt))
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
        if isinstance(stmt, ast.Assign) and isinstance(stmt.targets[0], ast.Subscript):
            return self.setitem(stmt)
        if isinstance(stmt, ast.Assign):
            return self.assignment(stmt)
        if isinstance(stmt, ast.Expr):
            return self.expression_statement(stmt)
        raise self.located(stmt, f"cannot differentiate {plain_name(stmt)} here")

    def compound(self, stmt: ast.stmt) -> tuple[list[ast.stmt], list[ast.stmt]]:
        zeros = []
        branch = isinstance(stmt, ast.If) and not self.loops  # its paths' adjoints are kept apart: see `branches`
        if self.depth == 0 or not (branch or self.loops):
            touched = (self.active - self.local_temps) & {n.id for n in walk(stmt) if isinstance(n, ast.Name)}
            if not branch:  # a loop's adjoints accumulate over its trips, from zero
                for name in sorted(touched - self.defined):
                    zeros.append(make_assign(self.adjoint(name), ast.Constant(0.0)))
                    self.defined.add(name)
            if self.depth == 0:
                self.maybe_zero |= touched  # zero if the body did not run, or (in a loop) reset to zero
        self.depth += 1
        self.loops += not isinstance(stmt, ast.If)
        try:
            if branch:
                body_fwd, body_bwd, else_fwd, else_bwd = self.branches(stmt)  # type: ignore[arg-type]
            else:
                body_fwd, body_bwd = self.block(stmt.body)
            self.loops -= not isinstance(stmt, ast.If)  # the loop's own bookkeeping is outside it
            if isinstance(stmt, ast.If):
                if not branch:
                    else_fwd, else_bwd = self.block(stmt.orelse)
                fwd = [ast.If(stmt.test, body_fwd or [ast.Pass()], else_fwd)]
                bwd = [ast.If(copy.deepcopy(stmt.test), body_bwd or [ast.Pass()], else_bwd)] if body_bwd or else_bwd else []
            elif isinstance(stmt, ast.For) and not _breaks(stmt.body):
                fwd = [ast.For(stmt.target, stmt.iter, body_fwd or [ast.Pass()], [])]
                reverse_steps = make_call("reversed", [copy.deepcopy(stmt.iter)])
                bwd = [ast.For(copy.deepcopy(stmt.target), reverse_steps, body_bwd, [])] if body_bwd else []
            else:
                fwd, bwd = self.counted_loop(stmt, body_fwd, body_bwd)
        except BaseException:
            self.loops -= not isinstance(stmt, ast.If)
            raise
        finally:
            self.depth -= 1
        for new in fwd + bwd:
            ast.copy_location(new, stmt)
        if bwd and self.depth and isinstance(stmt, ast.For):
            # the backward loop leaves its target at the first value; restore what it held
            # before the loop ran, in case earlier statements of the enclosing loop read it
            save, restore = self.tape_pair(stmt.target.id, stmt)  # type: ignore[attr-defined]
            fwd, bwd = [save, *fwd], [*bwd, restore]
        if not bwd:
            self.defined -= {z.targets[0].id for z in zeros}  # type: ignore[attr-defined]
            return fwd, []
        head = self.comment(stmt)
        if head and isinstance(stmt, ast.If) and self._heads(bwd[0].body, head[0]):  # type: ignore[attr-defined]
            head = []  # its body's adjoint starts with the same comment (a guard the jumps pass made)
        return fwd, head + zeros + bwd

    def _heads(self, stmts: list[ast.stmt], comment: ast.stmt) -> bool:
        """Whether `stmts` start (tape markers apart) with the comment `comment` says."""
        first = next((s for s in stmts if not is_marker(s)), None)
        if isinstance(first, ast.If):  # a guard in a guard, whose comment went
            return self._heads(first.body, comment)
        return first is not None and is_comment(first) and \
            self.comments.get(first.value.id) == self.comments.get(comment.value.id)  # type: ignore[attr-defined]

    def branches(self, stmt: ast.If) -> tuple[list, list, list, list]:
        """Both paths of an `if` outside loops, each starting from the adjoints defined before
        it: the first contribution on a path assigns. An adjoint only one path defines gets its
        zero at the end of the other, so that after the `if` it is defined on both."""
        before = set(self.defined)
        body_fwd, body_bwd = self.block(stmt.body)
        after_body, self.defined = self.defined, set(before)
        else_fwd, else_bwd = self.block(stmt.orelse)
        after_else = self.defined
        if body_bwd or else_bwd:
            body_bwd += [make_assign(self.adjoint(n), ast.Constant(0.0)) for n in sorted(after_else - after_body)]
            else_bwd += [make_assign(self.adjoint(n), ast.Constant(0.0)) for n in sorted(after_body - after_else)]
        self.defined = after_body | after_else
        return body_fwd, body_bwd, else_fwd, else_bwd

    def counted_loop(self, stmt: ast.For | ast.While, body_fwd: list, body_bwd: list) -> tuple[list, list]:
        """A `while` loop, or a `for` loop that may break: count the trips forward and
        replay that many backward."""
        count = self.namer.fresh("_n")
        increment = ast.AugAssign(ast.Name(count, ast.Store()), ast.Add(), ast.Constant(1))
        if isinstance(stmt, ast.While):
            loop: ast.stmt = ast.While(stmt.test, [increment, *body_fwd], [])
            target: ast.expr = ast.Name("_", ast.Store())
            steps = make_call("range", [ast.Name(count, ast.Load())])
        else:
            loop = ast.For(stmt.target, stmt.iter, [increment, *body_fwd], [])
            target = copy.deepcopy(stmt.target)
            taken = ast.Subscript(copy.deepcopy(stmt.iter), ast.Slice(None, ast.Name(count, ast.Load()), None), ast.Load())
            steps = make_call("reversed", [taken])
        fwd: list[ast.stmt] = [make_assign(count, ast.Constant(0)), loop]
        bwd: list[ast.stmt] = []
        if body_bwd:
            if self.depth > 1:  # a tape pair like the others: `finish` keeps it while the replay is kept
                save, restore = self.tape_pair(count, stmt)
                fwd.append(save)
                bwd.append(restore)
            bwd.append(ast.For(target, steps, body_bwd, []))
        return fwd, bwd

    # ---- simple statements ---------------------------------------------------------------
    def assignment(self, stmt: ast.Assign) -> tuple[list[ast.stmt], list[ast.stmt]]:
        target = stmt.targets[0]
        assert isinstance(target, ast.Name), ast.dump(target)
        name = target.id
        if _popped_list(stmt.value) is not None:
            return self.pop(stmt, name)
        forward: list[ast.stmt] = [*self.shift_note(name), stmt] if name in self.shift_free else [stmt]
        backward: list[ast.stmt] = []
        if self.carries_derivative(stmt) and name in self.active and self._has_adjoint(name):
            if self.depth and name in analysis.loads(stmt.value):
                # Normalization puts such a value in a temporary first (`_t = f(a); a = _t`), whose
                # adjoint holds `a_bar`, zeroes it, then adds into `a`: built here in one statement,
                # the adjoint would read the cotangent it adds into and the new value as the old.
                raise self.located(stmt, f"internal error: `{name}` is overwritten by a value that reads it")
            self.shape_sensitive = False
            forward, backward = self.adjoint_of(stmt, name)
            if self.shape_sensitive and (self.depth or name in self.maybe_zero) and name not in self.scalars and backward:
                # In a loop, or after a branch that may not have run, the adjoint may still be
                # the scalar zero of its initialisation; rules that reshape or split it need a
                # real cotangent, so skip the zero.
                test = ast.UnaryOp(ast.Not(), make_call(self.rt["is_zero"], [ast.Name(self.adjoint(name), ast.Load())]))
                adjoints = set(self.namer.adjoints.values())
                markers = [b for b in backward if is_marker(b)]
                work = [b for b in backward if not is_marker(b)]
                assigned = [make_assign(t.id, ast.Constant(0.0)) for b in work if isinstance(b, ast.Assign)
                            for t in b.targets if isinstance(t, ast.Name) and t.id in adjoints and t.id not in reads(b)]
                backward = [ast.If(test, work, assigned), *markers]
        elif self.carries_derivative(stmt) and isinstance(stmt.value, ast.Call):
            self._check_callable(stmt.value)
        if self.loops and name in self.active and name not in self.local_temps:
            backward.append(make_assign(self.adjoint(name), ast.Constant(0.0)))
        else:
            self.defined.discard(name)
        return self.with_save(name, forward, backward, stmt)

    def pop(self, stmt: ast.Assign, name: str) -> tuple[list[ast.stmt], list[ast.stmt]]:
        """`v = lst.pop()` (how derivative code reads its tape): backward, the popped value's
        cotangent goes back on the end of the list's cotangent and `v` back on the list.
        A list without a derivative gets its value back all the same: the backward sweep
        undoes every `lst.append(...)`, active or not, so it must undo every pop too."""
        lst = _popped_list(stmt.value)
        assert lst is not None
        if lst not in self.active:
            backward: list[ast.stmt] = [ast.Expr(make_call(f"{lst}.append", [ast.Name(name, ast.Load())]))]
            self.defined.discard(name)
            return self.with_save(name, [stmt], backward, stmt)
        g = ast.Name(self.adjoint(name), ast.Load()) if name in self.active and self._has_adjoint(name) else ast.Constant(0.0)
        backward = self.push_back(lst, g, name)
        if self.loops and name in self.active and name not in self.local_temps:
            backward.append(make_assign(self.adjoint(name), ast.Constant(0.0)))
        else:
            self.defined.discard(name)
        return self.with_save(name, [stmt], backward, stmt)

    def push_back(self, lst: str, g: ast.expr, value: str) -> list[ast.stmt]:
        """Undo a pop in the backward sweep: the cotangent `g` and the value `value` go back
        on the ends of the list's cotangent and of the list."""
        current = ast.Name(self.adjoint(lst), ast.Load()) if self._has_adjoint(lst) else ast.Constant(0.0)
        self.defined.add(lst)
        pushed = make_call(self.rt["pushed"], [current, g, ast.Name(lst, ast.Load())])
        return [make_assign(self.adjoint(lst), pushed),
                ast.Expr(make_call(f"{lst}.append", [ast.Name(value, ast.Load())]))]

    def tape_pair(self, name: str, stmt: ast.stmt) -> tuple[ast.stmt, ast.stmt]:
        """A push of `name` before `stmt` and the pop right after its adjoint, as markers
        that `finish` keeps only if the popped value is read later."""
        pair = next(self.pairs)
        if not self.loops:
            self.local_saves[pair] = None
        return marker(SAVE, name, stmt, pair), marker(RESTORE, name, stmt, pair)

    def with_save(self, name: str, forward: list, backward: list, stmt: ast.stmt) -> tuple[list, list]:
        if self.depth:
            save, restore = self.tape_pair(name, stmt)
            forward, backward = [save, *forward], [*backward, restore]
        if backward and any(not isinstance(b, ast.Expr) or not is_marker(b) for b in backward):
            backward = self.comment(stmt) + backward
        return forward, backward

    def adjoint_of(self, stmt: ast.Assign, name: str) -> tuple[list[ast.stmt], list[ast.stmt]]:
        value = stmt.value
        g = ast.Name(self.adjoint(name), ast.Load())
        ans = ast.Name(name, ast.Load())
        if isinstance(value, ast.Name):
            return [stmt], self.accumulate([(value, g)])
        if isinstance(value, ast.Constant):
            return [stmt], []
        if isinstance(value, (ast.BinOp, ast.UnaryOp)):
            operands = [value.left, value.right] if isinstance(value, ast.BinOp) else [value.operand]
            rule = find_vjp_rule(type(value.op), len(operands), ())
            if rule is None:
                raise self.located(value, "this operator has no derivative rule")
            return [stmt], self.apply_rule(rule, g, ans, operands, {}, stmt)
        if isinstance(value, ast.Subscript):
            index = index_value(value.slice)
            cotangent = make_call(self.rt["getitem_vjp"], [g, value.value, index])
            return [stmt], self.accumulate([(value.value, cotangent)])
        if isinstance(value, ast.Attribute):
            primal = ATTRIBUTE_PRIMALS.get(value.attr)
            rule = find_vjp_rule(primal, 1, ()) if primal is not None else None
            if rule is None:  # a field of a pytree node (NamedTuple, dataclass, registered class)
                cotangent = make_call(self.rt["getattr_vjp"], [g, value.value, ast.Constant(value.attr)])
                return [stmt], self.accumulate([(value.value, cotangent)])
            return [stmt], self.apply_rule(rule, g, ans, [value.value], {}, stmt)
        if isinstance(value, (ast.Tuple, ast.List)):
            pairs = [(e, make_call(self.rt["getitem"], [g, ast.Constant(i)])) for i, e in enumerate(value.elts)]
            return [stmt], self.accumulate(pairs)
        if isinstance(value, ast.Dict):
            pairs = [(v, make_call(self.rt["getitem"], [g, k])) for k, v in zip(value.keys, value.values)]
            return [stmt], self.accumulate(pairs)
        if isinstance(value, ast.Call):
            return self.call(stmt, value, g, ans)
        raise self.located(value, f"cannot differentiate `{ast.unparse(value)}`")

    def call(self, stmt: ast.Assign, call: ast.Call, g: ast.expr, ans: ast.expr) -> tuple[list, list]:
        callee = self.resolver.callee(call)
        args = list(call.args)
        keywords = {k.arg: k.value for k in call.keywords}
        if not self._any_active(args + list(keywords.values()) + receivers(call)):
            return [stmt], []
        if callee.kind == "method":
            receiver = call.func.value  # type: ignore[attr-defined]
            method = call.func.attr  # type: ignore[attr-defined]
            if method in PACKED_METHODS and len(args) > 1:
                args = [ast.Tuple(args, ast.Load())]
            args = [receiver, *args]
            callee = Callee("rule", callee.value, callee.name)
        if callee.kind == "rule":
            rule = find_vjp_rule(callee.value, len(args), tuple(keywords))
            if rule is None:
                raise self.located(call, f"`{callee.name}` has a derivative rule, but not for these arguments; "
                                    "check the call or register one with @srcgrad.adjoint")
            return [stmt], self.apply_rule(rule, g, ans, args, keywords, stmt)
        if callee.kind in ("user", "dynamic"):
            return self.split_call(stmt, call, callee, g)
        raise self._no_rule(call, callee)

    def split_call(self, stmt: ast.Assign, call: ast.Call, callee: Callee, g: ast.expr) -> tuple[list, list]:
        """`z = f(a, b)` for f with Python source: `z, pb = vjp_f(a, b)` and `pb(z_bar)`."""
        if self.higher_order:
            return self.recomputed_call(stmt, call, callee, g)
        pullback = self.pullback_name(stmt)
        self.shape_sensitive = True
        args = list(call.args) + [k.value for k in call.keywords]
        if callee.kind == "user":
            positions = self._callee_positions(callee, call)
            mask = tuple(sorted({p for p, a in zip(positions, args) if self._is_active(a)}))
            with self.calling(call, callee):
                cell = self.callee_vjp(callee.value, mask)
            vjp_name = self.namespace.bind(f"vjp_{simple_name(callee.value)}", cell)
            func: ast.expr = ast.Name(vjp_name, ast.Load())
            new_call = ast.Call(func, call.args, call.keywords)
            picks = [positions[i] for i in range(len(args))]
            cotangent_of = {i: pick for i, pick in enumerate(picks)}
        else:
            receiver, method = self._active_receiver(call)
            if receiver is None:
                new_call = make_call(self.rt["call_vjp"], [call.func, *call.args], call.keywords)
            else:  # a method of a differentiated object: `self` gets a cotangent too
                new_call = make_call(self.rt["call_method_vjp"], [receiver, ast.Constant(method), *call.args], call.keywords)
                args = [receiver, *args]
            cotangent_of = {i: i for i in range(len(args))}
        target = stmt.targets[0]
        forward = ast.Assign([ast.Tuple([target, ast.Name(pullback, ast.Store())], ast.Store())], new_call)
        ast.copy_location(forward, stmt)
        results = self.namer.fresh("_c")
        backward = [make_assign(results, make_call(pullback, [g]))]
        pairs = [(a, ast.Subscript(ast.Name(results, ast.Load()), ast.Constant(cotangent_of[i]), ast.Load())) for i, a in enumerate(args)]
        backward += self.accumulate(pairs)
        forward = fix_missing_locations(forward)
        if not self.depth:
            return [forward], backward
        save, restore = self.tape_pair(pullback, stmt)
        return [save, forward], [*backward, restore]

    def pullback_name(self, stmt: ast.Assign) -> str:
        """The pullback of a split call: names are handed out in source order (the backward
        sweep is built last statement first), to the calls `split_call` may meet."""
        if self.pullbacks is None:
            self.pullbacks = {}
            for candidate in analysis.statements(self.norm.node.body):
                if self._may_split(candidate):
                    self.pullbacks[id(candidate)] = self.namer.fresh("_pullback")
        name = self.pullbacks.get(id(stmt))
        return name if name is not None else self.namer.fresh("_pullback")

    def _may_split(self, stmt: ast.stmt) -> bool:
        """Whether `stmt` is `name = f(...)` of an active name, f with Python source, taking an active value."""
        if type(stmt) is not ast.Assign or type(stmt.value) is not ast.Call or type(stmt.targets[0]) is not ast.Name:
            return False
        call = stmt.value
        if not self.carries_derivative(stmt) or stmt.targets[0].id not in self.active \
                or not self._any_active(list(call.args) + [k.value for k in call.keywords] + receivers(call)):
            return False
        return self.resolver.callee(call).kind in ("user", "dynamic")

    def _active_receiver(self, call: ast.Call) -> tuple[ast.expr | None, str]:
        """The differentiated object a call found at run time is a method of (`model.pred(x)`,
        or `model(x)`, which calls `__call__`), and the method's name; else `(None, "")`."""
        func = call.func
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and self._is_active(func.value):
            return ast.Name(func.value.id, ast.Load()), func.attr
        if isinstance(func, ast.Name) and self._is_active(func):
            return ast.Name(func.id, ast.Load()), "__call__"
        return None, ""

    def recomputed_call(self, stmt: ast.Assign, call: ast.Call, callee: Callee, g: ast.expr) -> tuple[list, list]:
        """`z = f(a, b)` forward and `backward_f(a, b, _out_bar=z_bar)` backward, which runs
        f's sweeps again: no pullback closure, so the code can be differentiated again."""
        if callee.kind != "user" or self.callee_backward is None:
            receiver, method = self._active_receiver(call)
            if receiver is not None:
                raise self.located(call, f"a higher-order derivative through the method call `{callee.name}(...)` "
                                    f"is not supported; call the method through its class by name: "
                                    f"`ClassName.{method}({ast.unparse(receiver)}, ...)`")
            raise self.located(call, f"a higher-order derivative through `{callee.name}(...)`, whose "
                                "target is only known at run time, is not supported; call a function by its name")
        self.shape_sensitive = True
        args = list(call.args) + [k.value for k in call.keywords]
        positions = self._callee_positions(callee, call)
        mask = tuple(sorted({p for p, a in zip(positions, args) if self._is_active(a)}))
        with self.calling(call, callee):
            function, seed_param = self.callee_backward(callee.value, mask)
        name = self.namespace.bind(f"backward_{simple_name(callee.value)}", function)
        results = self.namer.fresh("_c")
        keywords = [*copy.deepcopy(call.keywords), ast.keyword(seed_param, g)]
        backward = [make_assign(results, ast.Call(ast.Name(name, ast.Load()), copy.deepcopy(call.args), keywords))]
        pairs = [(a, ast.Subscript(ast.Name(results, ast.Load()), ast.Constant(p), ast.Load())) for p, a in zip(positions, args)]
        return [stmt], backward + self.accumulate(pairs)

    def apply_rule(self, rule: Any, g: ast.expr, ans: ast.expr, args: list, keywords: dict, stmt: ast.stmt) -> list[ast.stmt]:
        bound = rule.arguments(g, ans, *args, **keywords)
        diff_args = [bound.get(name) for name, _ in rule.defaults[2:]]
        plan = self.rule_plans.get(id(rule))
        if plan is None:
            plan = self.rule_plans[id(rule)] = self._rule_plan(rule)
        template, fixed, objects, plain, reshapes = plan
        self.shape_sensitive = self.shape_sensitive or reshapes
        if template is None:
            fn_name = self.namespace.bind(rule.fn.__name__, rule.fn)
            results = self.namer.fresh("_c")
            invoke = make_call(self.rt["call_rule"], [ast.Name(fn_name, ast.Load()), g, ans, *args], [ast.keyword(k, v) for k, v in keywords.items()])
            pairs = [(a, ast.Subscript(ast.Name(results, ast.Load()), ast.Constant(i), ast.Load())) for i, a in enumerate(args)]
            return [make_assign(results, invoke)] + self.accumulate(pairs)
        substitutions = {**fixed, **bound}  # the arguments, else the defaults; the helpers' names
        for name, default in objects:  # defaults the code must name (made only when used)
            if name not in bound:
                substitutions[name] = self._constant(default)
        drop: bool | tuple[bool, ...] = False  # which `unbroadcast` calls have nothing to do
        if all(self._is_scalar(a) for a in [ans, *args, *keywords.values()]):
            drop = True
        elif rule.primal in _ELEMENTWISE_OPERATORS and isinstance(template, ast.Tuple) and len(args) == 2:
            # `a * c` with c a number, or `a * a`: the result has a's shape already.
            same = isinstance(args[0], ast.Name) and isinstance(args[1], ast.Name) and args[0].id == args[1].id
            drop = tuple(same or self._is_scalar(args[1 - i]) for i in range(len(template.elts)))
        needed = tuple(isinstance(a, ast.Name) and a.id in self.active for a in diff_args) if plain else ()
        expr = instantiate_rule(template, substitutions, drop if "unbroadcast" in substitutions else False, needed)
        if plain:
            pairs = [(a, e) for a, e in zip(diff_args, expr.elts) if a is not None]
            return self.accumulate(pairs)
        results = self.namer.fresh("_c")
        pairs = [(a, ast.Subscript(ast.Name(results, ast.Load()), ast.Constant(i), ast.Load())) for i, a in enumerate(diff_args) if a is not None]
        return [make_assign(results, expr)] + self.accumulate(pairs)

    def _rule_plan(self, rule: Any) -> tuple[ast.expr | None, dict[str, ast.expr], tuple, bool, bool]:
        """What applying `rule` takes that is the same every time: its template (None when it
        is called, not inlined), the substitutes of its literal defaults and of the helpers
        it reads, its other defaults (by name), whether it returns a plain tuple of
        cotangents, and whether it reshapes cotangents."""
        reshapes = rule.primal in _MATMUL or not rule.fn.__module__.endswith(("operators", "numpy_rules", "math_rules"))
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

    def setitem(self, stmt: ast.Assign) -> tuple[list[ast.stmt], list[ast.stmt]]:
        target = stmt.targets[0]
        container = target.value.id  # type: ignore[attr-defined]
        index = index_value(target.slice)  # type: ignore[attr-defined]
        old = self.namer.fresh("_old")
        save = make_assign(old, make_call(self.rt["copy_item"], [ast.Name(container, ast.Load()), index]))
        forward: list[ast.stmt] = [save, stmt]
        backward: list[ast.stmt] = []
        if container in self.active and self._has_adjoint(container):
            g = ast.Name(self.adjoint(container), ast.Load())
            # of repeated writes to an element (`out[[2, 2]] = v`), only the last receives the cotangent
            basic = plainly_basic(target.slice)  # type: ignore[attr-defined]
            reader = self.rt["getitem"] if basic else self.namespace.bind("written_part", written_part)
            part = make_call(reader, [g, copy.deepcopy(index)])
            backward = self.accumulate([(stmt.value, part)])
            backward.append(make_assign(g.id, make_call(self.rt["zero_at"], [g, copy.deepcopy(index)])))
        restore_args = [ast.Name(container, ast.Load()), copy.deepcopy(index), ast.Name(old, ast.Load())]
        if self.higher_order:  # an assignment of a restored copy, which srcgrad differentiates again
            backward.append(make_assign(container, make_call(self.rt["restored"], restore_args)))
        else:
            backward.append(ast.Expr(make_call(self.rt["restore_item"], restore_args)))
        return self.with_save(old, forward, backward, stmt)

    def expression_statement(self, stmt: ast.Expr) -> tuple[list[ast.stmt], list[ast.stmt]]:
        call = stmt.value
        if id(stmt) in self.norm.opaque or not isinstance(call, ast.Call):
            return [stmt], []
        func = call.func
        if isinstance(func, ast.Attribute) and func.attr == "append" and isinstance(func.value, ast.Name):
            lst = func.value.id
            backward: list[ast.stmt] = []
            if lst in self.active and self._has_adjoint(lst):
                g = ast.Name(self.adjoint(lst), ast.Load())
                backward = self.accumulate([(call.args[0], make_call(self.rt["getitem"], [g, ast.Constant(-1)]))])
                backward.append(make_assign(g.id, make_call(self.rt["drop_last"], [g])))
            backward.append(ast.Expr(make_call(f"{lst}.pop", [])))
            return [stmt], self.comment(stmt) + backward
        if _popped_list(call) is not None:  # a discarded `lst.pop()`: keep the value to put back
            popped = self.namer.fresh("_popped")
            lst = _popped_list(call)
            forward = [ast.copy_location(make_assign(popped, call), stmt)]
            if lst not in self.active:  # no derivative, but its appends are undone: so is this
                return self.with_save(popped, forward, [ast.Expr(make_call(f"{lst}.append", [ast.Name(popped, ast.Load())]))], stmt)
            return self.with_save(popped, forward, self.push_back(lst, ast.Constant(0.0), popped), stmt)
        if self._any_active(list(call.args) + [k.value for k in call.keywords] + receivers(call)):
            callee = self.resolver.callee(call)
            if callee.kind != "nondiff":
                raise self.located(call, f"the result of `{callee.name}(...)` is discarded but it "
                                    "takes a differentiated value; if it mutates that value, srcgrad cannot follow")
        return [stmt], []

    def _undoes_writes(self, backward: list[ast.stmt]) -> bool:
        """Whether `backward` changes objects in place: a call made for its effect
        (`restore_item(...)`, `lst.pop()`, `lst.append(...)`) on something other than the tape."""
        for node in (found for stmt in backward for found in walk(stmt)):
            if type(node) is ast.Expr and type(node.value) is ast.Call:  # type: ignore[attr-defined]
                func = node.value.func  # type: ignore[attr-defined]
                if not (type(func) is ast.Attribute and type(func.value) is ast.Name and func.value.id == self.tape):
                    return True
        return False

    # ---- accumulation ----------------------------------------------------------------
    def accumulate(self, pairs: list[tuple[ast.expr, ast.expr]]) -> list[ast.stmt]:
        """`a_bar = contribution` for the first contribution to `a`, `a_bar = a_bar + ...` after."""
        out = []
        for arg, contribution in pairs:
            if not isinstance(arg, ast.Name) or arg.id not in self.active:
                continue
            if isinstance(contribution, ast.Constant) and contribution.value is None:
                continue
            bar = self.adjoint(arg.id)
            accumulated = arg.id in self.defined or (self.loops and arg.id not in self.local_temps)
            if accumulated:
                contribution = ast.BinOp(ast.Name(bar, ast.Load()), ast.Add(), contribution)
            if not self.depth:  # zero only if the contribution may be, and (when added) the adjoint was too
                if self.cotangent_may_be_zero and (not accumulated or arg.id in self.maybe_zero):
                    self.maybe_zero.add(arg.id)
                else:
                    self.maybe_zero.discard(arg.id)
            self.defined.add(arg.id)
            out.append(make_assign(bar, contribution))
        return out

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
            if analysis.count_statements(pruned) == analysis.count_statements(backward):
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
        replace = _TapeMarkers(kept, self.tape, self.saved, self.local_saves, self.namer.reserve)
        out = []
        for stmt in stmts:
            new = replace.visit(stmt)
            if new is not None:
                out.append(new)
        self.taped = self.taped or replace.taped
        return drop_empty(out, self.comments)

    # ---- helpers -------------------------------------------------------------------------
    def value_of(self, expr: ast.expr) -> Any:
        """The object a name or `module.attr` of the generated code refers to, or None."""
        if isinstance(expr, ast.Name) and expr.id in self.namespace.values:
            return self.namespace.values[expr.id]
        if isinstance(expr, ast.Attribute):
            base = self.value_of(expr.value)
            return None if base is None else getattr(base, expr.attr, None)
        value = self.resolver.static_value(expr)
        return None if value is MISSING else value

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


class _TapeMarkers(Transformer):
    """Tape markers become pushes (`_tape.append(x)`) and pops (`x = _tape.pop()`) for the
    pairs in `kept`, and go for the others; `saved` gets the names taped. A pair of
    `local_saves` (outside loops: it runs at most once) becomes `x_old = x` and `x = x_old`
    instead, the local named by `reserve` at the save. (A class of its own, not one made per
    call: a class made in a method is a reference cycle.)"""

    def __init__(self, kept: set[int], tape: str, saved: set[str], local_saves: dict[int, str | None],
                 reserve: Callable[[str], str]) -> None:
        self.kept, self.tape, self.saved = kept, tape, saved
        self.local_saves, self.reserve = local_saves, reserve
        self.taped = False

    def visit_Expr(self, node: ast.Expr) -> Any:
        if not is_marker(node):
            return node
        kind, name = node.value.func.id, node.value.args[0].id  # type: ignore[attr-defined]
        if node.value.args[1].value not in self.kept:  # type: ignore[attr-defined]
            return None
        self.saved.add(name)
        pair = node.value.args[1].value  # type: ignore[attr-defined]
        if pair in self.local_saves:
            if kind == SAVE:
                local = self.local_saves[pair] = self.reserve(f"{name}_old")
                return ast.copy_location(make_assign(local, ast.Name(name, ast.Load())), node)
            return ast.copy_location(make_assign(name, ast.Name(self.local_saves[pair], ast.Load())), node)  # type: ignore[arg-type]
        self.taped = True
        if kind == SAVE:
            return ast.copy_location(ast.Expr(make_call(f"{self.tape}.append", [ast.Name(name, ast.Load())])), node)
        return ast.copy_location(make_assign(name, make_call(f"{self.tape}.pop", [])), node)

    def generic_visit(self, node: ast.AST) -> ast.AST:
        return node if isinstance(node, ast.expr) else super().generic_visit(node)  # markers are statements


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
            found = [n for head in heads for n in analysis.names(head)]
        else:
            found = names_of(stmt)
        for node in found:
            table = stores if type(node.ctx) is ast.Store else reads
            table.setdefault(node.id, []).append((id(stmts), position))
        for block in inner:
            _note_blocks(block, stores, reads, names_of)


def _written(stmt: ast.stmt) -> set[str]:
    """The names whose cotangents a simple statement's adjoint reads: its targets' root
    names, and a method call's receiver (`lst.append(v)`)."""
    if isinstance(stmt, ast.Assign):
        roots = [t.value if isinstance(t, ast.Subscript) else t for t in stmt.targets]
    elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call) and isinstance(stmt.value.func, ast.Attribute):
        roots = [stmt.value.func.value]
    else:
        return set()
    return {r.id for r in roots if isinstance(r, ast.Name)}


def _breaks(body: list[ast.stmt]) -> bool:
    """Whether a loop body holds a `break` of its own (not of an inner loop)."""
    for stmt in body:
        if isinstance(stmt, ast.Break):
            return True
        if isinstance(stmt, ast.If) and (_breaks(stmt.body) or _breaks(stmt.orelse)):
            return True
    return False


def _popped_list(value: ast.expr) -> str | None:
    """`lst` for a value `lst.pop()` (no index), else None."""
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr == "pop" \
            and isinstance(value.func.value, ast.Name) and not value.args and not value.keywords:
        return value.func.value.id
    return None
