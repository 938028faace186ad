"""Statement families whose in-place semantics matter: writes into fresh storage, writes through aliases
(names, views, containers, iteration), helpers that mutate their argument, float augmented assignment,
writes into f's own array argument, and NumPy calls that write. Python's result is the truth for each.

Every name a family binds starts with `q` (helpers too), so the shrinker can keep a family's statements
intact (`protected`) and a shrunk aliased program stays aliased. Each family's scalar result is kept and
added to f's return value, so the in-place write always reaches the output."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from typing import Any, Callable

from .templates import M, S, V

# Natural weights (the generic statements weigh about 32 at f's top level): about a quarter of programs
# contain at least one family when all are on.
FAMILIES: dict[str, float] = {
    "fresh_write": 0.6, "alias_name": 0.25, "alias_view": 0.25, "alias_container": 0.2, "alias_loop": 0.15,
    "helper_fresh": 0.15, "helper_alias": 0.15, "helper_float": 0.15, "float_update": 0.4,
    "arg_write": 0.1, "numpy_write": 0.15,
}
REQUIRED_WEIGHT = 1.0  # shared by the families `--families` asks for: a program mostly holds just one
_OWNED = re.compile(r"\bq[a-z]*\d+\b")


@dataclass(frozen=True)
class Mix:
    """Which families may appear, and whether every program must contain at least one of them."""

    names: tuple[str, ...] = ()
    required: bool = False


NONE = Mix()
ALL = Mix(tuple(FAMILIES))


def parse_mix(text: str | None, aliasing: bool = False) -> Mix:
    """The mix for the command line: `--families a,b` (or `all`) requires them; `--aliasing` mixes all in."""
    if text:
        names = tuple(FAMILIES) if text == "all" else tuple(n.strip() for n in text.split(",") if n.strip())
        unknown = [n for n in names if n not in FAMILIES]
        if unknown:
            raise ValueError(f"unknown families {unknown}; known: {', '.join(FAMILIES)}")
        return Mix(names, True)
    return ALL if aliasing else NONE


def weights(mix: Mix) -> dict[str, float]:
    """The statement weights of the families in `mix` (absent families weigh 0)."""
    return {n: REQUIRED_WEIGHT / len(mix.names) if mix.required else FAMILIES[n] for n in mix.names}


def with_kept(kept: list[str], output: str, text: str) -> str:
    """f's return expression `text` with the families' scalar results added (a vector output gets a pair)."""
    if not kept:
        return text
    total = " + ".join(kept)
    return f"({text}) + {total}" if output == S else f"({text}, {total})"


def ensure(gen: Any, mix: Mix) -> None:
    """When `mix` requires a family and f's body has none yet, append one at its top level."""
    if mix.required and not set(gen.features) & set(mix.names):
        gen.features.append(emit(gen, gen.rng.choice(mix.names)))


def emit(gen: Any, family: str) -> str:
    """Emit one statement group of `family` at f's top level; the family actually written (an argument
    write falls back to a fresh write when f has no array argument it has not rebound)."""
    return _EMITTERS[family](_Writer(gen))


def protected(node: ast.AST) -> bool:
    """Whether `node` (a statement, or part of one) belongs to a family or holds a family's result:
    the shrinker leaves it as it is."""
    if isinstance(node, ast.FunctionDef):
        return node.name.startswith("q")
    return bool(_OWNED.search(ast.unparse(node))) or _writes_argument(node)


def _writes_argument(node: ast.AST) -> bool:
    """An in-place write into f's parameter `x` or `y` (`x += ...`, `x[...] = ...`)."""
    targets = [node.target] if isinstance(node, ast.AugAssign) else getattr(node, "targets", [])
    for t in targets:
        base = t.value if isinstance(t, ast.Subscript) else t
        if isinstance(base, ast.Name) and base.id in ("x", "y") and (isinstance(node, ast.AugAssign) or base is not t):
            return True
    return False


def _paren(text: str) -> str:
    return text if re.fullmatch(r"[\w.]+", text) else f"({text})"


class _Writer:
    """Helpers over the generator: fresh `q` names, sub-expressions, emitted lines and the kept result."""

    def __init__(self, gen: Any) -> None:
        self.gen, self.rng = gen, gen.rng

    def name(self, prefix: str) -> str:
        return self.gen.fresh("q" + prefix)

    def v(self) -> str:
        return _paren(self.gen.expr(V, 1))

    def m(self) -> str:
        return _paren(self.gen.expr(M, 1))

    def s(self) -> str:
        return _paren(self.gen.expr(S, 1))

    def k(self) -> int:
        return self.rng.randrange(3)

    def lines(self, *lines: str) -> None:
        for line in lines:
            self.gen.emit(line)

    def keep(self, expression: str) -> None:
        """Bind `expression` (a float) to a fresh name that f's return value adds in."""
        out = self.name("s")
        self.gen.emit(f"{out} = {expression}")
        self.gen.kept.append(out)

    def local(self, kind: str = V) -> str:
        """A fresh array local (`q = <expr> * 1.0`), storage nothing else sees."""
        name = self.name("c" if kind == V else "m")
        self.gen.emit(f"{name} = {self.v() if kind == V else self.m()} * 1.0")
        return name

    def helper(self, body: str, ret: str) -> str:
        """Define a module-level helper `qhN(u)` with one in-place statement; its name."""
        name = self.name("h")
        self.gen.defs += [f"def {name}(u):", f"    {body}", f"    return {ret}", "", ""]
        return name

    def pick(self, *variants: Callable[[], None]) -> None:
        self.rng.choice(variants)()


def _fresh_write(w: _Writer) -> str:
    def scale() -> None:
        c = w.local()
        w.lines(f"{c} *= {w.s()}")
        w.keep(f"np.sum({c} * {w.v()})")

    def copy_slice() -> None:
        c = w.name("c")
        w.lines(f"{c} = {w.v()}.copy()", f"{c}[1:] *= 2.0")
        w.keep(f"np.sum({c} * {w.v()})")

    def copy_item() -> None:
        c = w.name("c")
        w.lines(f"{c} = {w.v()}.copy()", f"{c}[{w.k()}] += {w.s()}")
        w.keep(f"np.sum({c} * {w.v()})")

    def zeros() -> None:
        b = w.name("b")
        w.lines(f"{b} = np.zeros(3)", f"{b}[{w.k()}] = {w.s()}", f"{b} += {w.v()}")
        w.keep(f"np.sum({b} * {w.v()})")

    def accumulate() -> None:
        a, i = w.name("a"), w.name("i")
        w.lines(f"{a} = np.zeros(3)", f"for {i} in range({w.rng.randint(1, 3)}):")
        w.gen.env[i] = "i"
        w.lines(f"    {a} += {w.v()} * {w.s()}")
        del w.gen.env[i]
        w.keep(f"np.sum({a} * {w.v()})")

    def matrix() -> None:
        t = w.name("t")
        w.lines(f"{t} = {w.m()}.copy()", f"{t}[0] -= {w.v()}")
        w.keep(f"np.sum({t} * {w.m()})")

    def dead_base() -> None:
        c, view = w.local(), w.name("w")
        w.lines(f"{view} = {c}[1:]", f"{view} *= 2.0")
        w.keep(f"np.sum({view} * {w.v()}[1:])")

    def rebinding() -> None:
        a = w.name("a")
        w.lines(f"{a} = {w.gen.atom(V)}", f"{a} = {a} * 2.0")
        w.keep(f"np.sum({a} * {w.v()})")

    w.pick(scale, copy_slice, copy_item, zeros, accumulate, matrix, dead_base, rebinding)
    return "fresh_write"


def _alias_name(w: _Writer) -> str:
    c, y = w.local(), w.name("y")

    def add() -> None:
        w.lines(f"{y} = {c}", f"{c} += {w.v()}")
        w.keep(f"np.sum({y} * {w.v()})")

    def scale() -> None:
        w.lines(f"{y} = {c}", f"{c} *= {w.s()}")
        w.keep(f"np.sum({y}) + np.sum({c} * {w.v()})")

    def asarray() -> None:
        w.lines(f"{y} = np.asarray({c})", f"{y} *= 2.0")
        w.keep(f"np.sum({c} * {w.v()})")

    def item() -> None:
        w.lines(f"{y} = {c}", f"{y}[{w.k()}] = {w.s()}")
        w.keep(f"np.sum({c} * {w.v()})")

    w.pick(add, scale, asarray, item)
    return "alias_name"


def _alias_view(w: _Writer) -> str:
    view = w.name("w")

    def slice_() -> None:
        c = w.local()
        w.lines(f"{view} = {c}[1:]", f"{view} *= 2.0")
        w.keep(f"np.sum({c} * {w.v()})")

    def transpose() -> None:
        m = w.local(M)
        w.lines(f"{view} = {m}.T", f"{view}[0] += {w.s()}")
        w.keep(f"np.sum({m} * {w.m()})")

    def reshape() -> None:
        m = w.local(M)
        w.lines(f"{view} = {m}.reshape(6)", f"{view}[1:3] *= 0.5")
        w.keep(f"np.sum({m} * {w.m()})")

    def ravel() -> None:
        c = w.local()
        w.lines(f"{view} = {c}.ravel()", f"{view}[0] = {w.s()}")
        w.keep(f"np.sum({c} * {w.v()})")

    def base_written() -> None:
        m = w.local(M)
        w.lines(f"{view} = {m}[{w.rng.randrange(2)}]", f"{m} *= 0.5")
        w.keep(f"np.sum({view} * {w.v()})")

    w.pick(slice_, transpose, reshape, ravel, base_written)
    return "alias_view"


def _alias_container(w: _Writer) -> str:
    box = w.name("d")

    def list_item() -> None:
        c = w.local()
        w.lines(f"{box} = [{c}]", f"{box}[0] *= 2.0")
        w.keep(f"np.sum({c} * {w.v()})")

    def dict_value() -> None:
        c = w.local()
        w.lines(f'{box} = {{"a": {c}}}', f"{c} += 1.0")
        w.keep(f'np.sum({box}["a"] * {w.v()})')

    def twice() -> None:
        c = w.local()
        w.lines(f"{box} = [{c}, {c}]", f"{box}[0] += {w.v()}")
        w.keep(f"np.sum({box}[1] * {w.v()})")

    def append() -> None:
        ys = w.name("ys")
        w.lines(f"{box} = [{w.s()}, {w.s()}]", f"{ys} = {box}", f"{ys}.append({w.s()})")
        w.keep(f"sum({box}) * {box}[-1]")

    w.pick(list_item, dict_value, twice, append)
    return "alias_container"


def _alias_loop(w: _Writer) -> str:
    m, row = w.local(M), w.name("r")

    def rows() -> None:
        w.lines(f"for {row} in {m}:", f"    {row} *= 0.5")
        w.keep(f"np.sum({m} * {w.m()})")

    def whole() -> None:
        acc = w.name("a")
        w.lines(f"{acc} = 0.0", f"for {row} in {m}:", f"    {m} *= 0.9", f"    {acc} = {acc} + np.sum({row} * {w.v()})")
        w.keep(f"{acc} + np.sum({m})")

    w.pick(rows, whole)
    return "alias_loop"


_ARRAY_BODIES = ("u *= 2.0", "u += 1.0", "u[0] += 1.0", "u[1:] *= 0.5")


def _helper_fresh(w: _Writer) -> str:
    h = w.helper(w.rng.choice(_ARRAY_BODIES), "np.sum(u * u)")
    temporary = w.rng.choice([f"{w.v()} * 1.0", f"np.zeros(3) + {w.v()}", f"{w.v()}.copy()"])
    w.keep(f"{h}({temporary})")
    return "helper_fresh"


def _helper_alias(w: _Writer) -> str:
    h = w.helper(w.rng.choice(_ARRAY_BODIES), "np.sum(u * u)")
    c, out = w.local(), w.name("k")
    w.lines(f"{out} = {h}({c})")
    w.keep(f"{out} + np.sum({c} * {w.v()})")
    return "helper_alias"


def _helper_float(w: _Writer) -> str:
    h = w.helper(w.rng.choice(["u += 1.0", "u *= 2.0", "u -= 0.5 * u"]), "u * u")
    scalars = [n for n, k in w.gen.env.items() if k == S]
    a = w.rng.choice(scalars) if scalars and w.rng.random() < 0.5 else w.name("f")
    if a not in scalars:
        w.lines(f"{a} = {w.s()}")
    w.keep(f"{h}({a}) + {a}")
    return "helper_float"


def _float_update(w: _Writer) -> str:
    scalars = [n for n, k in w.gen.env.items() if k == S]

    def chain() -> None:
        s = w.name("f")
        w.lines(f"{s} = {w.s()}", f"{s} += {w.s()}", f"{s} *= 2.0")
        w.keep(s)

    def old() -> None:
        s = w.rng.choice(scalars) if scalars else w.name("f")
        if s not in scalars:
            w.lines(f"{s} = {w.s()}")
        before = w.name("o")
        w.lines(f"{before} = {s}", f"{s} *= 2.0")
        w.keep(f"{before} + {s}")

    def loop() -> None:
        s, i = w.name("f"), w.name("i")
        w.lines(f"{s} = 0.0", f"for {i} in range({w.rng.randint(1, 3)}):")
        w.gen.env[i] = "i"
        w.lines(f"    {s} += {w.s()}", f"    {s} -= 0.1 * {s}")
        del w.gen.env[i]
        w.keep(s)

    def element() -> None:
        c, s = w.local(), w.name("f")
        w.lines(f"{s} = {c}[{w.k()}]", f"{s} += 1.0")
        w.keep(f"{s} + np.sum({c} * {w.v()})")

    w.pick(chain, old, loop, element)
    return "float_update"


def _arg_write(w: _Writer) -> str:
    arrays = [p for p in ("x", "y") if w.gen.env.get(p) in (V, M) and not _rebound(w.gen.lines, p)]
    if not arrays:
        return _fresh_write(w)
    x = w.rng.choice(arrays)
    item = f"{x}[{w.k()}] = {w.s()}" if w.gen.env[x] == V else f"{x}[{w.rng.randrange(2)}] = {w.v()}"
    w.lines(w.rng.choice([f"{x} += 1.0", f"{x} *= {w.s()}", item]))
    w.keep(f"np.sum(np.tanh({x}))")
    return "arg_write"


def _rebound(lines: list[str], name: str) -> bool:
    return any(re.match(rf"^\s*(for )?[\w, ]*\b{name}\b[\w, ]*(= | in )", line) for line in lines)


def _numpy_write(w: _Writer) -> str:
    out = w.name("o")
    square = w.rng.random() < 0.15
    w.lines(f"{out} = np.zeros({'(3, 3)' if square else 3})")
    if square:
        w.lines(f"np.fill_diagonal({out}, {w.v()})")
        w.keep(f"np.sum({out} @ {w.v()})")
        return "numpy_write"
    w.lines(w.rng.choice([f"np.copyto({out}, {w.v()})", f"np.put({out}, [0, 2], {w.v()}[:2])",
                          f"np.add.at({out}, [0, 0, 2], {w.v()})", f"{out}.fill({w.s()})",
                          f"{out}[[2, 2]] = {w.v()}[:2]", f"np.multiply({w.v()}, 2.0, out={out})",
                          f"np.copyto(dst={out}, src={w.v()})", f"np.put(a={out}, ind=[0, 2], v={w.v()}[:2])"]))
    w.keep(f"np.sum({out} * {w.v()})")
    return "numpy_write"


_EMITTERS: dict[str, Callable[[_Writer], str]] = {
    "fresh_write": _fresh_write, "alias_name": _alias_name, "alias_view": _alias_view,
    "alias_container": _alias_container, "alias_loop": _alias_loop, "helper_fresh": _helper_fresh,
    "helper_alias": _helper_alias, "helper_float": _helper_float, "float_update": _float_update,
    "arg_write": _arg_write, "numpy_write": _numpy_write,
}
