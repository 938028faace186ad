"""The house: imports only go down the layers, no import cycles, no imports hidden in functions,
no module reaching for another's private names, every module short enough to read in one sitting.

The package is found through the imported `srcgrad`, so this holds for an installed wheel too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import srcgrad

PACKAGE = Path(srcgrad.__file__).parent

# Bottom to top: a module may import from its own layer and the ones before it.
LAYERS = [
    ["errors", "facts", "failures", "request"],  # the shared vocabulary
    ["syntax"],
    ["runtime"],
    ["rules"],
    ["frontend"],  # reading a function: source, what its names refer to
    ["analysis"],
    ["cleanup"],
    ["lowering"],
    ["transforms"],
    ["backend"],
    ["pipeline"],
    ["driver"],
    ["api", "jacobians", "optim"],
    ["tools"],
    ["__init__", "__main__"],
]
LAYER = {room: depth for depth, rooms in enumerate(LAYERS) for room in rooms}
MAX_LINES = 400


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
        if parts[-1] == "__init__" and len(parts) > 1:
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _room(module: str) -> str:
    return module.split(".")[0]


def _imports(module: str, path: Path) -> list[tuple[str, ast.ImportFrom | ast.Import, bool]]:
    """(imported srcgrad module, the statement, whether it is at module level) for each import."""
    tree = ast.parse(path.read_text())
    top = {id(node) for node in tree.body}
    top |= {id(n) for node in tree.body if isinstance(node, ast.If) for n in node.body}  # `if TYPE_CHECKING:`
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package[: len(package) - (node.level - 1)]
            stem = base + (node.module.split(".") if node.module else [])
            targets = [".".join(stem)] if node.module else []
            targets += [".".join(stem + [a.name]) for a in node.names if ".".join(stem + [a.name]) in MODULES]
            found += [(t, node, id(node) in top) for t in targets if t in MODULES or t == ""]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "srcgrad":
            target = node.module.partition(".")[2]
            found.append((target, node, id(node) in top))
        elif isinstance(node, ast.Import):
            found += [(a.name.partition(".")[2], node, id(node) in top) for a in node.names
                      if a.name.split(".")[0] == "srcgrad"]
    return [(t, n, top_level) for t, n, top_level in found if t]


def test_every_room_has_a_layer():
    assert {_room(m) for m in MODULES} <= set(LAYER), sorted({_room(m) for m in MODULES} - set(LAYER))


def test_imports_only_go_down():
    upward = [f"{module} imports {target} (line {node.lineno})"
              for module, path in MODULES.items() for target, node, _ in _imports(module, path)
              if LAYER[_room(target)] > LAYER[_room(module)]]
    assert not upward, upward


def test_no_import_hides_in_a_function():
    hidden = [f"{module} imports {target} inside a function (line {node.lineno})"
              for module, path in MODULES.items() for target, node, top in _imports(module, path) if not top]
    assert not hidden, hidden


def test_no_import_cycle():
    graph = {m: {t for t, _, _ in _imports(m, p) if t != m} for m, p in MODULES.items()}
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(module: str, path: list[str]) -> list[str] | None:
        state[module] = 1
        for target in sorted(graph.get(module, ())):
            if target not in graph:  # a package's own name imported from its __init__
                continue
            if state.get(target) == 1:
                return path + [module, target]
            if target not in state:
                found = visit(target, path + [module])
                if found:
                    return found
        state[module] = 2
        return None

    for module in sorted(graph):
        if module not in state:
            cycle = visit(module, [])
            assert cycle is None, " -> ".join(cycle[cycle.index(cycle[-1]):])


def test_no_module_reads_another_modules_private_names():
    short = {m.rpartition(".")[2] for m in MODULES}
    found = []
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("srcgrad")):
                found += [f"{module}: from {node.module} import {a.name}" for a in node.names
                          if a.name.startswith("_") and not a.name.startswith("__")]
            elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in short \
                    and node.attr.startswith("_") and not node.attr.startswith("__"):
                found.append(f"{module}: {node.value.id}.{node.attr} (line {node.lineno})")
    assert not found, found


@pytest.mark.parametrize("module", sorted(MODULES))
def test_module_is_short_enough_to_read_in_one_sitting(module):
    lines = len(MODULES[module].read_text().splitlines())
    assert lines <= MAX_LINES, f"{module} has {lines} lines"


def test_the_checks_can_fail(tmp_path):
    """The import reader sees an upward import, a hidden one and a private name."""
    path = tmp_path / "probe.py"
    path.write_text("from ..driver.derivatives import generate\n\ndef f():\n    from ..api import grad\n")
    imports = _imports("syntax.probe", path)
    assert [(t, top) for t, _, top in imports] == [("driver.derivatives", True), ("api", False)]
    assert LAYER[_room("driver.derivatives")] > LAYER[_room("syntax.probe")]


README = Path(__file__).resolve().parent.parent / "README.md"


def _readme_pipeline() -> tuple[list[str], list[str]]:
    """The stages README's Layout lists: (reverse modes, forward mode), in order."""
    block = README.read_text().split("`srcgrad/pipeline.py` runs the stages")[1].split("```text\n")[1].split("```")[0]
    lines = [[name.split("(")[0].strip() for name in line.split("->") if name.strip()] for line in block.splitlines()]
    return lines[0] + lines[1], lines[0] + lines[2]


def _stages_printed(fn, *args, derivative=None) -> list[str]:
    import contextlib
    import io

    printed = io.StringIO()
    with srcgrad.pipeline.verbose(), contextlib.redirect_stderr(printed):
        derivative(fn)(*args) if derivative else srcgrad.jvp(fn, args, tuple(1.0 for _ in args))
    return [line.split("after ")[1].rstrip(" -") for line in printed.getvalue().splitlines() if line.startswith("# ----")]


def _cube(x):
    return x * x * x


def test_readme_shows_the_pipeline_as_it_runs():
    reverse, forward = _readme_pipeline()
    declared = {node.args[0].value for node in ast.walk(ast.parse((PACKAGE / "pipeline.py").read_text()))
                if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "stage"}
    assert declared | {"parse"} == set(reverse) | set(forward)
    for ran, listed in ((_stages_printed(_cube, 2.0, derivative=srcgrad.grad), reverse),
                        (_stages_printed(_cube, 2.0), forward)):
        positions = [listed.index(name) for name in ran]
        assert positions == sorted(positions) and len(ran) >= 5, (ran, listed)
