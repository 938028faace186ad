"""Reverse mode, simple statements: assignments, item assignments, appends and pops, and the
accumulation of the cotangents their adjoints give (the first contribution assigns, later
ones add).
"""

from __future__ import annotations

import ast
import copy

from ..frontend.resolve import ATTRIBUTE_PRIMALS
from ..rules.registry import find_vjp_rule
from ..runtime.overwrite import plainly_basic, written_part
from ..syntax.astquery import loads
from ..syntax.emit import index_value, make_assign, make_call, receivers
from ..syntax.fastast import walk
from .tape import is_marker, reads


class StatementsMixin:
    """The simple statements of `ReverseBuilder` (reverse.py), whose state they use."""

    def assignment(self, stmt: ast.Assign) -> tuple[list[ast.stmt], list[ast.stmt]]:
        target = stmt.targets[0]
        assert isinstance(target, ast.Name), ast.dump(target)
        name = target.id
        if _popped_list(stmt.value) is not None:
            return self.pop(stmt, name)
        forward: list[ast.stmt] = [*self.shift_note(name), stmt] if name in self.shift_free else [stmt]
        backward: list[ast.stmt] = []
        if self.carries_derivative(stmt) and name in self.active and self._has_adjoint(name):
            if self.depth and name in loads(stmt.value):
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


def _popped_list(value: ast.expr) -> str | None:
    """`lst` for a value `lst.pop()` (no index), else None."""
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr == "pop" \
            and isinstance(value.func.value, ast.Name) and not value.args and not value.keywords:
        return value.func.value.id
    return None
