"""Deterministic names for generated code: every user name is reserved first."""

from __future__ import annotations

import ast

from .usage import Usage, usage


class Namer:
    """Hands out names that never collide with the user's: `_t1`, `x_bar`, `x_1`."""

    def __init__(self, reserved: set[str]) -> None:
        self.taken = set(reserved)
        self.counters: dict[str, int] = {}
        self.adjoints: dict[str, str] = {}
        self.tangents: dict[str, str] = {}

    @classmethod
    def for_tree(cls, tree: ast.AST, extra: set[str] = frozenset()) -> Namer:
        return cls.for_usage(usage([tree]), extra)

    @classmethod
    def for_usage(cls, found: Usage, extra: set[str] = frozenset()) -> Namer:
        """A namer reserving every name a tree mentions (`found` is its usage), parameters included."""
        return cls(set(found.ids).union(found.bound, extra))

    def fresh(self, prefix: str = "_t") -> str:
        """A new name `prefix1`, `prefix2`, ... not used anywhere yet."""
        while True:
            count = self.counters.get(prefix, 0) + 1
            self.counters[prefix] = count
            name = f"{prefix}{count}"
            if name not in self.taken:
                self.taken.add(name)
                return name

    def version(self, name: str) -> str:
        """A new name for a reassigned variable: `x_1`, `x_2`, ..."""
        return self.fresh(f"{name}_")

    def reserve(self, name: str) -> str:
        """Claim `name` itself if free, else the next free `name_N`."""
        if name not in self.taken:
            self.taken.add(name)
            return name
        return self.fresh(f"{name}_")

    def adjoint(self, name: str) -> str:
        """The adjoint variable of `name` (`x` -> `x_bar`), the same every time it is asked."""
        if name not in self.adjoints:
            self.adjoints[name] = self.reserve(f"{name}_bar")
        return self.adjoints[name]

    def tangent(self, name: str) -> str:
        """The tangent variable of `name` (`x` -> `x_dot`), the same every time it is asked."""
        if name not in self.tangents:
            self.tangents[name] = self.reserve(f"{name}_dot")
        return self.tangents[name]
