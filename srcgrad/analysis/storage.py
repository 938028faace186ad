"""What storage a value may be: the abstract objects of the may-alias analysis (`aliasing.py`).

Abstract objects stand for storage: one per parameter, per module-level name and per
allocating expression (a call, an operator, a display). `holds` records, for the whole
function, which objects a container or closure may hold. `NUMBER` stands for immutable values
(numbers, strings, None): writing "into" one rebinds, so it is never shared. This module holds
the facts about calls and attributes, the data the analysis returns, and the bookkeeping of
objects; `aliasing.py` walks the function.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

import numpy as np

NUMBER = 0

# NumPy functions whose result can share its first argument's storage (views, or the argument itself).
VIEW_FUNCTIONS = frozenset(map(id, (
    np.reshape, np.ravel, np.transpose, np.swapaxes, np.moveaxis, np.rollaxis, np.squeeze, np.expand_dims,
    np.asarray, np.asanyarray, np.ascontiguousarray, np.asfortranarray, np.atleast_1d, np.atleast_2d,
    np.atleast_3d, np.broadcast_to, np.broadcast_arrays, np.diagonal, np.diag, np.real, np.imag, np.flip,
    np.fliplr, np.flipud, np.rot90, np.split, np.array_split, np.hsplit, np.vsplit, np.dsplit, np.require,
)))
VIEW_METHODS = frozenset({"reshape", "ravel", "view", "transpose", "swapaxes", "squeeze", "diagonal"})
VIEW_ATTRIBUTES = frozenset({"T", "mT", "real", "imag", "flat", "base"})
NUMBER_ATTRIBUTES = frozenset({"shape", "ndim", "size", "dtype", "itemsize", "nbytes"})
FRESH_METHODS = frozenset({
    "copy", "astype", "sum", "mean", "prod", "std", "var", "max", "min", "dot", "cumsum", "cumprod",
    "round", "clip", "conj", "conjugate", "tolist", "item", "flatten", "repeat", "trace", "all", "any",
    "argmax", "argmin", "argsort", "nonzero", "count", "index", "keys", "ptp", "sort", "fill",
})
ITEM_METHODS = frozenset({"pop", "get", "values", "items", "setdefault", "popitem"})
STORING_METHODS = frozenset({"append", "insert", "extend", "update"})
SEQUENCE_BUILTINS = frozenset(map(id, (list, tuple, dict, sorted, reversed, zip, enumerate, iter, set, frozenset)))
NUMBER_BUILTINS = frozenset(map(id, (float, int, bool, complex, len, range, str, isinstance, round, repr, hash)))
SELECTING_BUILTINS = frozenset(map(id, (min, max, next)))  # may return one of their arguments


@dataclass
class Write:
    """An in-place write: `node` writes into `objects`; `kind` is "rebinding" for `name op= value`
    (in place only when `name` holds a mutable object), "item" or "call"."""

    node: ast.AST
    statement: ast.stmt
    root: str
    kind: str
    objects: frozenset[int]
    names: dict[str, frozenset[int]]
    sources: frozenset[int] = frozenset()  # what a call writes in: the objects of its other arguments


@dataclass
class Aliasing:
    """What the analysis found: the writes, what objects stand for, what containers hold."""

    writes: dict[int, Write] = field(default_factory=dict)
    inputs: dict[int, str] = field(default_factory=dict)  # object -> parameter or module-level name
    module_level: set[int] = field(default_factory=set)  # the objects of module-level names
    holds: dict[int, set[int]] = field(default_factory=dict)
    sequences: set[int] = field(default_factory=set)  # certainly a list, tuple or dict (a display...)
    containers: set[int] = field(default_factory=set)  # may hold objects: those, and what a call returns
    # an operator's result and the arguments it was computed from: `t + s` of two tuple arguments
    # holds their items, which only the run-time type tells (for arrays it is new storage)
    joined_inputs: dict[int, set[int]] = field(default_factory=dict)
    markers: dict[int, int] = field(default_factory=dict)  # see `joined_marker`

    def held(self, objects: frozenset[int]) -> set[int]:
        """What the containers among `objects` may hold (numbers left out)."""
        return set().union(*(self.holds.get(obj, set()) for obj in objects)) - {NUMBER}

    def joined_marker(self, argument: int) -> int:
        """The object standing for "maybe an item of `argument`, joined by an operator": only the
        run-time check tells, so it counts neither as the argument nor as shared."""
        marker = argument - 10**7
        self.markers[marker] = argument
        return marker

    def inputs_joined(self, objects: frozenset[int] | set[int]) -> list[str]:
        """The arguments an operator joined into one of `objects` (`u = t + s`), or whose items
        those may be, by name."""
        found = set().union(*(self.joined_inputs.get(obj, set()) for obj in objects))
        found |= {self.markers[obj] for obj in objects if obj in self.markers}
        return sorted({self.inputs[obj] for obj in found} - self.module_names())

    def module_names(self) -> set[str]:
        return {self.inputs[obj] for obj in self.module_level}

    def reach(self, objects: frozenset[int]) -> set[int]:
        """`objects` and all they may hold, transitively."""
        seen, todo = set(objects), list(objects)
        while todo:
            for inner in self.holds.get(todo.pop(), ()):
                if inner not in seen:
                    seen.add(inner)
                    todo.append(inner)
        return seen


State = dict[str, frozenset[int]]


class Objects:
    """The objects met so far, and what containers hold (shared by all paths of the walk)."""

    def __init__(self, local_names: set[str]):
        self.result = Aliasing()
        self.local_names = local_names
        self.globals: dict[str, int] = {}
        self.changed = True
        self.state: State | None = None  # the state of the statement being analysed
        self.allocated: set[int] = set()  # the sites met so far in this pass

    def fresh(self, node: ast.AST, held: frozenset[int] = frozenset(), sequence: bool = False,
              container: bool = False) -> frozenset[int]:
        """The object `node` allocates. Run again (in a loop), it makes a new one: what the names
        referred to until now becomes the site's "older" object, so a write into the new one is
        not taken for a write into what an earlier pass left in another name."""
        obj = id(node)
        older = obj + 1  # object addresses are aligned, so no other site has this number
        if obj not in self.allocated:  # the first time in this pass: nothing can refer to it yet
            self.allocated.add(obj)
        elif self.state is not None:
            for name, objects in list(self.state.items()):
                if obj in objects:
                    self.state[name] = (objects - {obj}) | {older}
            self.age(obj, older)
        if obj in held:
            held = (held - {obj}) | {older}
        if sequence:
            self.result.sequences.add(obj)
        if sequence or container:
            self.result.containers.add(obj)
        self.hold(frozenset({obj}), held)
        return frozenset({obj})

    def age(self, obj: int, older: int) -> None:
        """Containers holding the site's object may hold the older one: they keep both."""
        for inner in list(self.result.holds.values()):
            if obj in inner and older not in inner:
                inner.add(older)
                self.changed = True
        if obj in self.result.holds:
            self.hold(frozenset({older}), frozenset(self.result.holds[obj]))
        for kinds in (self.result.sequences, self.result.containers):
            if obj in kinds:
                kinds.add(older)

    def hold(self, containers: frozenset[int], held: frozenset[int]) -> None:
        for container in containers - {NUMBER}:
            inner = self.result.holds.setdefault(container, set())
            new = held - {NUMBER} - inner
            if new:
                inner |= new
                self.changed = True

    def items(self, objects: frozenset[int]) -> frozenset[int]:
        """What indexing or iterating may give: an item, or (unless it is known to be a list,
        tuple or dict) a view of the same storage."""
        held = set(objects - self.result.sequences)
        for obj in objects:
            held |= self.result.holds.get(obj, set())
            for joined in self.result.joined_inputs.get(obj, ()):  # an item of `t + s` may be one of t's
                held.add(self.result.joined_marker(joined))
        return frozenset(held)

    def held(self, objects: frozenset[int]) -> frozenset[int]:
        """What a container's items may be (`pop`, `get`, `values`)."""
        return frozenset().union(*(self.result.holds.get(obj, set()) for obj in objects))

    def global_object(self, name: str) -> frozenset[int]:
        if name not in self.globals:
            obj = -(1000 + len(self.globals))
            self.globals[name] = obj
            self.result.inputs[obj] = name
            self.result.module_level.add(obj)
            self.result.holds[obj] = {obj}
        return frozenset({self.globals[name]})
