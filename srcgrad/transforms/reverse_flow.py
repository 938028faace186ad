"""Reverse mode, compound statements: branches, loops and the saves of overwritten values.

A branch outside loops keeps its paths' adjoints apart (the first contribution on a path
assigns); a loop's adjoints accumulate over its trips from zero. A value a branch or loop
overwrites is saved before the statement and put back after its adjoint: in a local outside
loops (it is saved at most once), on the tape inside them (`tape.py` keeps the pairs read).
"""

from __future__ import annotations

import ast
import copy

from ..syntax.emit import make_assign, make_call
from ..syntax.fastast import walk
from .tape import RESTORE, SAVE, is_comment, is_marker, marker


class FlowMixin:
    """The compound statements of `ReverseBuilder` (reverse.py), whose state they use."""

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
        loop = not isinstance(stmt, ast.If)
        self.depth += 1
        try:
            self.loops += loop  # for the body only: the loop's own bookkeeping is outside it
            try:
                if branch:
                    body_fwd, body_bwd, else_fwd, else_bwd = self.branches(stmt)  # type: ignore[arg-type]
                else:
                    body_fwd, body_bwd = self.block(stmt.body)
            finally:
                self.loops -= loop
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


def _breaks(body: list[ast.stmt]) -> bool:
    """Whether a loop body holds a `break` of its own (not of an inner loop)."""
    for stmt in body:
        if isinstance(stmt, ast.Break):
            return True
        if isinstance(stmt, ast.If) and (_breaks(stmt.body) or _breaks(stmt.orelse)):
            return True
    return False


def written(stmt: ast.stmt) -> set[str]:
    """The names whose cotangents a simple statement's adjoint reads: its targets' root
    names, and a method call's receiver (`lst.append(v)`)."""
    if isinstance(stmt, ast.Assign):
        roots = [t.value if isinstance(t, ast.Subscript) else t for t in stmt.targets]
    elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call) and isinstance(stmt.value.func, ast.Attribute):
        roots = [stmt.value.func.value]
    else:
        return set()
    return {r.id for r in roots if isinstance(r, ast.Name)}
