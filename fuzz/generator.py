"""Random programs of the kind users write, as the source of a module defining `f`; deterministic per seed."""

from __future__ import annotations

import ast
import random
import re
from dataclasses import dataclass, field
from typing import Any

from . import aliasing as fam
from . import numeric
from .templates import HEADER, SELF_UPDATES, TEMPLATES, M, S, V  # noqa: E402

C = "i"  # float, shape (3,), shape (2, 3), int loop counter
SHAPES = {S: (), V: (3,), M: (2, 3)}

FEATURES: dict[str, float] = {
    "assign": 5, "self_update": 4, "augassign": 2, "copy_inplace": 2, "zeros_buffer": 1, "if": 3,
    "for": 3, "for_array": 1, "while": 2, "early_return": 1, "list": 1.5, "dict": 1, "unpack": 1,
    "comprehension": 1, "helper_call": 1.5, "recursion": 0.7, "break": 1, "continue": 0.7,
}

@dataclass
class Program:
    """A generated program: module source, the arguments to call `f` with, and the `wrt` to use."""

    source: str
    args: list[Any]
    wrt: Any
    kinds: list[str]
    output: str = S
    features: list[str] = field(default_factory=list)
    families: set[str] = field(default_factory=set)  # the aliasing/in-place families it contains (fuzz.aliasing)


class _Gen:
    """Emits one module's lines; `env` maps the names in scope to their kinds."""

    def __init__(self, rng: random.Random, output: str, weights: dict[str, float]) -> None:
        self.rng, self.output, self.weights = rng, output, weights
        self.lines: list[str] = []
        self.env: dict[str, str] = {}
        self.indent, self.count, self.budget = 1, 0, 0
        self.helpers: list[tuple[str, int, bool]] = []  # name, arity, returns a tuple
        self.recursive: str | None = None
        self.features: list[str] = []
        self.main, self.kept, self.defs = False, [], []  # f's own body; scalars of families it returns; helpers

    def fresh(self, prefix: str = "t") -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    def emit(self, line: str) -> None:
        self.lines.append("    " * self.indent + line)
        self.budget -= 1

    def emit_in(self, line: str) -> None:
        """`line` one level further in (the body of the header just emitted)."""
        self.indent += 1
        self.emit(line)
        self.indent -= 1

    def names(self, kind: str) -> list[str]:
        return [n for n, k in self.env.items() if k == kind]

    def const(self) -> str:
        return self.rng.choice(["0.5", "0.9", "1.1", "-0.7", "0.3", "2.0", "1.5"])

    def atom(self, kind: str) -> str:
        names = self.names(kind)
        if kind == S and self.names(C) and self.rng.random() < 0.2:
            return f"(0.2 * {self.rng.choice(self.names(C))})"
        if names and self.rng.random() < 0.9:
            return self.rng.choice(names)
        if kind == S:
            arrays = self.names(V) + self.names(M)
            return f"np.sum({self.rng.choice(arrays)})" if arrays and self.rng.random() < 0.5 else self.const()
        if kind == V:
            return f"({self.const()} * W)" if not self.names(M) else f"np.tanh({self.rng.choice(self.names(M))}[0])"
        return f"({self.const()} * A)" if not self.names(V) else f"np.outer(np.array([0.7, -0.4]), {self.atom(V)})"

    def expr(self, kind: str, depth: int = 0) -> str:
        if depth >= 2 or self.rng.random() < 0.3:
            return self.atom(kind)
        if kind == S and self.helpers and self.rng.random() < 0.1 * self.weights["helper_call"]:
            return self.helper_expr(depth)
        if kind == S and self.recursive and self.rng.random() < 0.2:
            return f"{self.recursive}({self.expr(S, depth + 1)}, {self.rng.randint(1, 3)})"
        template = self.rng.choice(TEMPLATES[kind])
        return self.fill(template, depth)

    def fill(self, template: str, depth: int) -> str:
        def one(match: re.Match) -> str:
            key = match.group(1)
            if key in (S, V, M):
                sub = self.expr(key, depth + 1)
                return sub if re.fullmatch(r"[\w.]+", sub) else f"({sub})"  # ast.unparse drops needless ones
            if key == "c":
                return self.const()
            if key in ("k2", "k3"):
                loops = self.names(C)
                if loops and self.rng.random() < 0.5:
                    return f"{self.rng.choice(loops)} % {key[1]}"
                return str(self.rng.randrange(int(key[1])))
            return key
        return re.sub(r"\{(\w+)\}", one, template.replace("{S}", "{s}").replace("{V}", "{v}").replace("{M}", "{m}"))

    def helper_expr(self, depth: int) -> str:
        name, arity, tupled = self.rng.choice(self.helpers)
        call = f"{name}({', '.join(self.expr(S, depth + 1) for _ in range(arity))})"
        return f"{call}[{self.rng.randrange(2)}]" if tupled else call

    def squashed(self, kind: str) -> str:
        e = self.expr(kind)
        if self.rng.random() < 0.4:
            return f"{'math' if kind == S and self.rng.random() < 0.5 else 'np'}.tanh({e})"
        return e

    def result(self) -> str:
        """An expression of the program's output kind from the names in scope, with the families' results."""
        return fam.with_kept(self.kept, self.output, self.plain_result())

    def plain_result(self) -> str:
        if self.output == S:
            terms = []
            for name, kind in self.rng.sample(sorted(self.env.items()), min(3, len(self.env))):
                if kind == C:
                    continue
                terms.append(name if kind == S else f"np.{self.rng.choice(['sum', 'mean'])}({name})")
            return " + ".join(terms) or self.expr(S)
        choice = self.rng.choice(["array", "matrix", "list", "tuple", "matvec"])
        if choice == "array":
            return self.expr(V)
        if choice == "matrix":
            return self.expr(M)
        if choice == "list":
            return f"[{self.expr(S)}, {self.expr(S)}]"
        if choice == "tuple":
            return f"({self.expr(S)}, {self.expr(V)})"
        return f"{self.atom(M)} @ {self.atom(V)}"

    def pick(self, allowed: list[str]) -> str:
        weights = [self.weights.get(a, 0) for a in allowed]
        return self.rng.choices(allowed, weights)[0]

    def block(self, depth: int, loop: bool, size: int) -> None:
        """A body of about `size` statements; names first bound in it are forgotten after it."""
        saved = dict(self.env)
        start = len(self.lines)
        for _ in range(size):
            if self.budget <= 0:
                break
            self.statement(depth, loop)
        if len(self.lines) == start:
            self.emit("pass")
        self.env = {k: v for k, v in self.env.items() if k in saved}

    def statement(self, depth: int, loop: bool) -> None:
        allowed = ["assign", "self_update", "augassign", "copy_inplace", "list", "dict", "unpack", "comprehension"]
        if depth < 2:
            allowed += ["if", "for", "for_array", "while", "zeros_buffer"]
        if loop:
            allowed += ["break", "continue"]
        allowed += ["early_return"] if depth > 0 or loop else []
        allowed += ["helper_call"] if any(t for _, _, t in self.helpers) else []
        feature = self.pick(allowed + (list(fam.FAMILIES) if self.main and depth == 0 and not loop else []))
        if feature in fam.FAMILIES:
            return self.features.append(fam.emit(self, feature))
        self.features.append(feature)
        getattr(self, "st_" + feature)(depth, loop)

    def target(self) -> tuple[str, str]:
        """An existing non-counter name to rebind (with its kind), or a fresh one."""
        names = [n for n, k in self.env.items() if k != C]
        if names and self.rng.random() < 0.5:
            name = self.rng.choice(names)
            return name, self.env[name]
        return self.fresh(), self.rng.choice([S, S, S, V, M])

    def st_assign(self, depth: int, loop: bool) -> None:
        name, kind = self.target()
        value = self.squashed(kind)
        self.emit(f"{name} = {value if kind == S or value not in self.env else f'np.tanh({value})'}")
        self.env[name] = kind

    def st_self_update(self, depth: int, loop: bool) -> None:
        name, kind = self.target()
        if name not in self.env:
            return self.st_assign(depth, loop)
        template = self.rng.choice(SELF_UPDATES)
        k = self.rng.choice(["0.1", "0.3", "0.5"])
        self.emit(template.format(x=name, c=self.const(), k=k, E=self.expr(kind, 1)))

    def st_augassign(self, depth: int, loop: bool) -> None:
        scalars = [n for n in self.names(S)]
        if not scalars:
            return self.st_assign(depth, loop)
        name = self.rng.choice(scalars)
        op = self.rng.choice(["+=", "-=", "*="])
        self.emit(f"{name} {op} {self.const() if op == '*=' else self.squashed(S)}")

    def st_copy_inplace(self, depth: int, loop: bool) -> None:
        kind = self.rng.choice([V, M])
        name = self.fresh("b")
        self.emit(f"{name} = {self.atom(kind)}.copy()")
        index = f"[{self.rng.randrange(3)}]" if kind == V else f"[{self.rng.randrange(2)}, {self.rng.randrange(3)}]"
        choice = self.rng.choice(["item", "aug", "scale", "slice"])
        if choice == "item":
            self.emit(f"{name}{index} = {self.squashed(S)}")
        elif choice == "aug":
            self.emit(f"{name} {self.rng.choice(['+=', '-='])} {self.expr(kind, 1)}")
        elif choice == "scale":
            self.emit(f"{name} *= {self.expr(S, 1)}")
        else:
            self.emit(f"{name}[1:] = np.tanh({name}[:2])" if kind == V else f"{name}[0] = np.tanh({self.expr(V, 1)})")
        self.env[name] = kind

    def st_zeros_buffer(self, depth: int, loop: bool) -> None:
        name, counter = self.fresh("buf"), self.fresh("i")
        self.emit(f"{name} = np.zeros(3)")
        self.emit(f"for {counter} in range(3):")
        self.env[counter] = C
        self.emit_in(f"{name}[{counter}] = {self.squashed(S)}")
        del self.env[counter]
        self.env[name] = V

    def condition(self) -> str:
        if self.rng.random() < 0.25:
            return self.rng.choice(["K > 1", "K == 3", "True"])
        return f"{self.expr(S, 1)} {self.rng.choice(['>', '<'])} {self.rng.choice(['0.3', '-0.2', '0.0', '0.6'])}"

    def st_if(self, depth: int, loop: bool) -> None:
        self.emit(f"if {self.condition()}:")
        self.nested(depth, loop)
        if self.rng.random() < 0.3:
            self.emit(f"elif {self.condition()}:")
            self.nested(depth, loop)
        if self.rng.random() < 0.5:
            self.emit("else:")
            self.nested(depth, loop)

    def nested(self, depth: int, loop: bool) -> None:
        self.indent += 1
        self.block(depth + 1, loop, self.rng.randint(1, 3))
        self.indent -= 1

    def st_for(self, depth: int, loop: bool) -> None:
        counter = self.fresh("i")
        self.emit(f"for {counter} in range({self.rng.randint(1, 3)}):")
        self.env[counter] = C
        self.nested(depth, True)
        del self.env[counter]
        if self.rng.random() < 0.2:
            self.emit("else:")
            self.nested(depth, loop)

    def st_for_array(self, depth: int, loop: bool) -> None:
        arrays = self.names(V) + self.names(M)
        if not arrays:
            return self.st_for(depth, loop)
        source = self.rng.choice(arrays)
        item = self.fresh("e")
        self.emit(f"for {item} in {source}:")
        self.env[item] = S if self.env[source] == V else V
        self.nested(depth, True)
        self.env.pop(item, None)

    def st_while(self, depth: int, loop: bool) -> None:
        counter = self.fresh("n")
        self.emit(f"{counter} = 0")
        self.emit(f"while {counter} < {self.rng.randint(1, 4)} and {self.condition()}:")
        self.emit_in(f"{counter} += 1")
        self.nested(depth, True)

    def st_break(self, depth: int, loop: bool) -> None:
        self.emit(f"if {self.condition()}:")
        self.emit_in(self.rng.choice(["break", "continue"]) if self.rng.random() < 0.3 else "break")

    def st_continue(self, depth: int, loop: bool) -> None:
        self.emit(f"if {self.condition()}:")
        self.emit_in("continue")

    def st_early_return(self, depth: int, loop: bool) -> None:
        self.emit(f"if {self.condition()}:")
        self.emit_in(f"return {self.result()}")

    def st_list(self, depth: int, loop: bool) -> None:
        name, out = self.fresh("L"), self.fresh()
        if self.rng.random() < 0.5:
            self.emit(f"{name} = [{', '.join(self.expr(S, 1) for _ in range(3))}]")
        else:
            counter = self.fresh("i")
            self.emit(f"{name} = []")
            self.emit(f"for {counter} in range(3):")
            self.env[counter] = C
            self.emit_in(f"{name}.append({self.squashed(S)})")
            del self.env[counter]
        use = self.rng.choice([f"sum({name})", f"{name}[0] * {name}[-1] + {name}[1]", f"{name}[2]"])
        self.emit(f"{out} = {use}")
        self.env[out] = S

    def st_dict(self, depth: int, loop: bool) -> None:
        name, out = self.fresh("d"), self.fresh()
        self.emit(f'{name} = {{"a": {self.expr(S, 1)}, "b": {self.expr(S, 1)}}}')
        if self.rng.random() < 0.4:
            self.emit(f'{name}["c"] = {self.expr(S, 1)}')
        use = self.rng.choice([f"sum({name}.values())", f'{name}["a"] * {name}["b"]', f'{name}["b"] - {name}["a"]'])
        self.emit(f"{out} = {use}")
        self.env[out] = S

    def st_unpack(self, depth: int, loop: bool) -> None:
        scalars = self.names(S)
        if len(scalars) >= 2 and self.rng.random() < 0.4:
            a, b = self.rng.sample(scalars, 2)
            self.emit(f"{a}, {b} = {b}, {self.expr(S, 1)}")
            return
        a, b = self.fresh(), self.fresh()
        self.emit(f"{a}, {b} = {self.expr(S, 1)}, {self.squashed(S)}")
        self.env[a] = self.env[b] = S

    def st_comprehension(self, depth: int, loop: bool) -> None:
        out, item = self.fresh(), self.fresh("c")
        vectors = self.names(V)
        if vectors and self.rng.random() < 0.5:
            source = self.rng.choice(vectors)
        else:
            source = "(1.0, 2.0, 3.0)"
        self.env[item] = S
        body = self.expr(S, 1)
        del self.env[item]
        body = body if item in body else f"{item} * {body}"
        self.emit(f"{out} = sum([math.tanh({body}) for {item} in {source}])")
        self.env[out] = S

    def st_helper_call(self, depth: int, loop: bool) -> None:
        name, arity, _ = self.rng.choice([h for h in self.helpers if h[2]])
        a, b = self.fresh(), self.fresh()
        self.emit(f"{a}, {b} = {name}({', '.join(self.expr(S, 1) for _ in range(arity))})")
        self.env[a] = self.env[b] = S


def _helper(gen: _Gen, name: str, tupled: bool) -> tuple[list[str], int]:
    """The lines of a helper of scalar parameters with its own branches and loops, and its arity."""
    sub = _Gen(gen.rng, S, dict(gen.weights, early_return=0 if tupled else gen.weights["early_return"]))
    sub.count = 100 * (len(gen.helpers) + 1)
    params = ["a", "b"][: gen.rng.randint(1, 2)]
    sub.env = {p: S for p in params}
    sub.budget = gen.rng.randint(1, 4)
    sub.block(0, False, sub.budget)
    names = sub.names(S)
    ret = f"{gen.rng.choice(names)}, {sub.expr(S)}" if tupled else sub.result()
    return [f"def {name}({', '.join(params)}):", *sub.lines, f"    return {ret}", "", ""], len(params)


def _recursive(gen: _Gen) -> list[str]:
    """A recursive helper with a depth argument."""
    sub = _Gen(gen.rng, S, gen.weights)
    sub.env = {"a": S}
    step = sub.expr(S)
    return ["def rec(a, depth):", "    if depth <= 0:", "        return a",
            f"    return rec(0.8 * math.tanh({step}) + 0.1 * a, depth - 1)", "", ""]


def generate(seed: int, index: int, output: str = S, weights: dict[str, float] | None = None,
             families: fam.Mix = fam.NONE) -> Program:
    """Program `index` of campaign `seed`; `output` is S for a scalar `f`, else a vector-valued one;
    `families` says which in-place/aliasing families may (or must) appear (none by default)."""
    rng = random.Random(f"{seed}/{index}/{output}")
    gen = _Gen(rng, output, dict(FEATURES, **fam.weights(families), **(weights or {})))
    chunks = [HEADER, "", ""]
    for k in range(rng.choice([0, 0, 1, 1, 2])):
        tupled = rng.random() < 0.5
        lines, arity = _helper(gen, f"h{k}", tupled)
        gen.helpers.append((f"h{k}", arity, tupled))
        chunks += lines
    if rng.random() < 0.15 * gen.weights["recursion"]:
        chunks += _recursive(gen)
        gen.recursive = "rec"
    kinds = [rng.choice([S, S, V, M]) for _ in range(rng.randint(1, 2))]
    params = ["x", "y"][: len(kinds)]
    gen.env = dict(zip(params, kinds))
    gen.budget, gen.main = rng.randint(3, 15), True
    gen.block(0, False, gen.budget)
    fam.ensure(gen, families)
    body = [f"def f({', '.join(params)}):", *gen.lines, f"    return {gen.result()}"]
    args = [numeric.argument(rng, SHAPES[k]) for k in kinds]
    wrt_choices: list[Any] = [0, params[0]] + ([1, params[1], (0, 1)] if len(params) == 2 else [])
    features = sorted(set(gen.features)) + (["recursion"] if gen.recursive else []) + (["helper"] if gen.helpers else [])
    source = ast.unparse(ast.parse("\n".join(chunks + gen.defs + body))) + "\n"
    return Program(source, args, rng.choice(wrt_choices), kinds, output, features, set(features) & set(fam.FAMILIES))
