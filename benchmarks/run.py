"""Benchmarks: srcgrad against the primal function, a hand-written derivative (the ideal)
and, where installed, autograd, JAX (jit and not) and PyTorch (CPU), side by side in one
process, interleaved, best of several repeats.

    python benchmarks/run.py            # full run (a few minutes); writes docs/performance.md
    python benchmarks/run.py --quick    # smoke check (well under a minute); prints only

Every derivative is checked before it is timed: the hand-written one against finite
differences of the primal, srcgrad's and each peer's against the hand-written one. A
mismatch is printed loudly, shown in the report instead of a time, and makes the run exit
with status 1. Peers that are not installed are skipped with a note
(`pip install -e .[bench]` installs them).

Every library runs on one thread by default (NumPy's BLAS, PyTorch, XLA): the comparison is
of what differentiation costs, and on a small shared machine multi-threaded timings swing
with the other jobs' load. `--threads N` changes that.
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import platform
import subprocess
import sys
import tempfile
import time
import tracemalloc
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable


def _threads_option(argv: list[str]) -> str:
    """The --threads value, read before NumPy is imported (BLAS reads its settings then)."""
    for i, arg in enumerate(argv):
        if arg == "--threads" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--threads="):
            return arg.split("=", 1)[1]
    return "1"


THREADS = _threads_option(sys.argv[1:])
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = THREADS
if THREADS == "1":
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen=false").strip()

import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import peers  # noqa: E402
import problems  # noqa: E402

import srcgrad  # noqa: E402

HAND, SRCGRAD, PRIMAL, GENERATED = "hand-written", "srcgrad", "primal", "srcgrad, generated code alone"
PEERS = ("autograd", "JAX", "JAX jit", "PyTorch")


# ---- measuring ---------------------------------------------------------------------------------------
@dataclass
class Settings:
    quick: bool
    batch: float  # seconds one timed batch of calls should last at least
    rounds: int  # interleaved rounds at most
    budget: float  # seconds of timing per candidate and problem, after which it sits out
    min_rounds: int  # rounds every candidate takes part in, whatever its budget


def _run_batch(fn: Callable, args: tuple, number: int) -> float:
    """Seconds per call of `number` calls, with the garbage collector off (as timeit does)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        for _ in range(number):
            fn(*args)
        return (time.perf_counter() - start) / number
    finally:
        if enabled:
            gc.enable()


def interleaved(candidates: dict[str, tuple[Callable, tuple]], settings: Settings) -> dict[str, float]:
    """Per-call seconds of each candidate: round after round, each candidate runs one batch
    in turn (so all of them see the same machine load) and keeps its best batch."""
    numbers, spent, best = {}, {}, {}
    for name, (fn, args) in candidates.items():
        once = _run_batch(fn, args, 1)  # already warm: it was called to check its result
        numbers[name] = max(1, math.ceil(settings.batch / max(once, 1e-9)))
        spent[name], best[name] = 0.0, once
    for round_ in range(settings.rounds):
        active = [n for n in candidates if round_ < settings.min_rounds or spent[n] < settings.budget]
        if not active:
            break
        for name in active:
            fn, args = candidates[name]
            start = time.perf_counter()
            best[name] = min(best[name], _run_batch(fn, args, numbers[name]))
            spent[name] += time.perf_counter() - start
    return best


# ---- checking ----------------------------------------------------------------------------------------
class Mismatch(Exception):
    pass


def _leaves(x: Any) -> list:
    return [np.asarray(v, dtype=float) for v in x] if isinstance(x, (tuple, list)) else [np.asarray(x, dtype=float)]


def agree(got: Any, want: Any, rtol: float = 1e-6, atol: float = 1e-9) -> None:
    """Raise Mismatch (saying by how much) unless `got` matches `want` leaf by leaf."""
    got_leaves, want_leaves = _leaves(got), _leaves(want)
    if len(got_leaves) != len(want_leaves):
        raise Mismatch(f"{len(got_leaves)} gradient(s) where {len(want_leaves)} were expected")
    for i, (g, w) in enumerate(zip(got_leaves, want_leaves)):
        if g.shape != w.shape:
            raise Mismatch(f"gradient {i} has shape {g.shape}, expected {w.shape}")
        if not np.allclose(g, w, rtol=rtol, atol=atol):
            err = float(np.max(np.abs(g - w)))
            show = f"got {g.item():.12g}, expected {w.item():.12g}" if g.size == 1 else f"max abs error {err:.3g}"
            raise Mismatch(f"gradient {i}: {show}")


def check_by_finite_differences(f: Callable, gradient: Any, args: tuple, wrt: tuple[int, ...]) -> None:
    """The directional derivative of `f` along a random direction, by central differences,
    against the one `gradient` gives."""
    rng = np.random.default_rng(1)
    directions = [rng.standard_normal(np.shape(args[i])) for i in wrt]
    grads = _leaves(gradient)
    exact = sum(float(np.sum(g * d)) for g, d in zip(grads, directions))
    scale = max(1.0, max(float(np.max(np.abs(np.asarray(args[i], dtype=float)))) for i in wrt))
    h = 1e-6 * scale

    def shifted(sign: float) -> float:
        moved = list(args)
        for i, d in zip(wrt, directions):
            moved[i] = args[i] + sign * h * (d if np.ndim(args[i]) else float(d))
        return float(f(*moved))

    approx = (shifted(1.0) - shifted(-1.0)) / (2 * h)
    if not math.isclose(approx, exact, rel_tol=1e-5, abs_tol=1e-6):
        raise Mismatch(f"directional derivative {exact:.10g}, finite differences give {approx:.10g}")


def check_jacobian_by_finite_differences(f: Callable, jacobian: np.ndarray, args: tuple) -> None:
    """`jacobian @ d` against central differences of vector-valued `f` in its first argument."""
    d = np.random.default_rng(2).standard_normal(np.shape(args[0]))
    h = 1e-6
    approx = (f(args[0] + h * d, *args[1:]) - f(args[0] - h * d, *args[1:])) / (2 * h)
    if not np.allclose(jacobian @ d, approx, rtol=1e-5, atol=1e-6):
        raise Mismatch(f"Jacobian times a direction differs from finite differences by {np.max(np.abs(jacobian @ d - approx)):.3g}")


# ---- the problems ------------------------------------------------------------------------------------
@dataclass
class Problem:
    key: str
    title: str
    primal: Callable
    hand: Callable
    make_args: Callable[[np.random.Generator], tuple]
    wrt: tuple[int, ...]
    target: float  # srcgrad / hand-written at most
    # the function whose derivative `hand` is (P7: the first derivative), to check `hand` by finite differences
    differentiated: Callable | None = None
    peers: bool = True  # whether autograd, JAX and PyTorch are timed too

    def make_srcgrad(self) -> Callable:
        wrt = self.wrt[0] if len(self.wrt) == 1 else self.wrt
        if self.key == "P7":
            return srcgrad.grad(srcgrad.grad(self.primal))
        if self.key == "P8":
            return srcgrad.hessian(self.primal)
        return srcgrad.grad(self.primal, wrt=wrt)


PROBLEMS = [
    Problem("P1", "`3*x**2 + 2*x + 1` on a float", problems.p1, problems.p1_hand, lambda rng: (2.0,), (0,), 1.5),
    Problem("P1b", "31-operation scalar expression of two floats", problems.p1b, problems.p1b_hand,
            lambda rng: (0.7, -0.4), (0, 1), 1.5),
    Problem("P2", "1000-step scalar loop", problems.p2, problems.p2_hand, lambda rng: (0.3, 1.2), (0,), 2.0),
    Problem("P3", "Newton square root (data-dependent `while`)", problems.p3, problems.p3_hand, lambda rng: (2.0,),
            (0,), 2.0),
    Problem("P4", "MLP, batch 64, 784-256-10, softmax cross-entropy", problems.p4, problems.p4_hand,
            problems.p4_inputs, (0, 1, 2, 3), 1.1),
    Problem("P5", "RNN, 50 steps, hidden 128, input 32, batch 16", problems.p5, problems.p5_hand,
            problems.p5_inputs, (0, 1, 2), 1.2),
    Problem("P6", "Rosenbrock on 10⁶ elements", problems.p6, problems.p6_hand,
            lambda rng: (rng.standard_normal(10**6),), (0,), 1.3),
    Problem("P7", "second derivative, `grad(grad(f))`", problems.p7, problems.p7_hand, lambda rng: (0.7,), (0,), 3.0,
            differentiated=problems.p7_grad),
    Problem("P8", "Hessian of a quadratic form, n = 100 (`hessian`: forward over reverse)", problems.p8,
            problems.p8_hand, problems.p8_inputs, (0,), float("inf"), differentiated=problems.p8_grad, peers=False),
]


@dataclass
class Row:
    problem: Problem
    times: dict[str, float] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)  # candidates not timed, and why
    mismatches: list[str] = field(default_factory=list)


def loud(message: str) -> None:
    bar = "!" * 78
    print(f"\n{bar}\n!!! {message}\n{bar}\n", file=sys.stderr, flush=True)


def run_problem(problem: Problem, settings: Settings) -> Row:
    rng = np.random.default_rng(0)
    args = problem.make_args(rng)
    row = Row(problem)
    single = len(problem.wrt) == 1
    want = problem.hand(*args)
    candidates: dict[str, tuple[Callable, tuple]] = {}

    def fail(name: str, message: str) -> None:
        row.notes[name] = f"MISMATCH: {message}"
        row.mismatches.append(name)
        loud(f"{problem.key} {name}: gradient MISMATCH, not timed: {message}")

    try:
        if problem.key == "P8":  # a matrix: check it column by column against the gradient's differences
            check_jacobian_by_finite_differences(problem.differentiated, want, args)
        else:
            check_by_finite_differences(problem.differentiated or problem.primal, want, args, problem.wrt)
        if problem.differentiated is not None:  # P7, P8: the first derivative, too
            check_by_finite_differences(problem.primal, problem.differentiated(*args), args, problem.wrt)
    except Mismatch as exc:
        fail(HAND, f"against finite differences: {exc}")
        return row
    candidates[PRIMAL] = (problem.primal, args)
    candidates[HAND] = (problem.hand, args)

    try:
        derivative = problem.make_srcgrad()
        got = derivative(*args)
    except Exception as exc:  # e.g. grad(grad(f)) before srcgrad supports it
        row.notes[SRCGRAD] = f"not available: {type(exc).__name__}: {exc}"
        print(f"{problem.key} srcgrad: not available: {type(exc).__name__}: {exc}", file=sys.stderr)
    else:
        try:
            agree(got, want)
        except Mismatch as exc:
            fail(SRCGRAD, str(exc))
        else:
            candidates[SRCGRAD] = (derivative, args)
            generated = _generated_code(derivative, args, want, single)
            if generated is not None:
                candidates[GENERATED] = (generated, args)

    for maker in peers.MAKERS if problem.peers else ():
        try:
            made = maker(problem.key, args)
        except peers.Unavailable as exc:
            for name in peers.PEER_NAMES[maker]:
                row.notes[name] = str(exc)
            continue
        for peer in made:
            if peer.unavailable:
                row.notes[peer.name] = peer.unavailable
                continue
            try:
                agree(peer.to_numpy(peer.fn(*peer.args)), want)
            except Mismatch as exc:
                fail(peer.name, str(exc))
            except Exception as exc:
                row.notes[peer.name] = f"failed: {type(exc).__name__}: {exc}"
            else:
                candidates[peer.name] = (peer.fn, peer.args)

    row.times = interleaved(candidates, settings)
    return row


def _generated_code(derivative: Any, args: tuple, want: Any, single: bool) -> Callable | None:
    """The generated function itself, without the wrapper `grad` returns (for telling the
    wrapper's cost from the generated code's); None if srcgrad's internals moved."""
    try:
        function = srcgrad.api.derivative_of(derivative).generated.function
        if function.__code__ is derivative.__code__:
            return function  # the derivative runs the generated code itself (entry form)
        agree(function(*args)[0] if single else function(*args), want)
    except Exception:
        return None
    return function


# ---- transform time and memory -----------------------------------------------------------------------
_LINES = (
    "x{i} = np.sin(x{j}) * 1.01 + np.cos(x{j} * y) * 0.5",
    "x{i} = np.exp(-x{j} * x{j}) + np.tanh(x{j}) / 3.0",
    "x{i} = x{j} * y - np.log(1.0 + x{j} ** 2)",
    "x{i} = np.sqrt(1.0 + x{j} ** 2) - 0.5 * x{j}",
)


def _long_function(lines: int, tag: str, directory: Path) -> Callable:
    """A fresh `lines`-line function (the def, lines - 2 assignments, the return), from a
    file of its own, so that srcgrad has never seen it."""
    body = [f"    {_LINES[i % len(_LINES)].format(i=i + 1, j=i)}" for i in range(lines - 2)]
    name = f"long_{lines}_{tag}"
    source = f"import numpy as np\n\n\ndef {name}(x0, y):\n" + "\n".join(body) + f"\n    return x{lines - 2}\n"
    path = directory / f"{name}.py"
    path.write_text(source)
    namespace: dict = {}
    exec(compile(source, str(path), "exec"), namespace)
    return namespace[name]


def transform_times(settings: Settings) -> dict[int, float | str]:
    """Seconds of the first call of `grad(f)` (read the source, transform, compile, run
    once), best over several fresh functions."""
    best = {}
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        srcgrad.grad(_long_function(4, "warmup", directory))(0.1, 0.5)  # first-use imports and caches
        for lines, count in ((10, 3 if settings.quick else 10), (200, 1 if settings.quick else 5)):
            times = []
            for k in range(count):
                fn = _long_function(lines, str(k), directory)
                gc.collect()
                start = time.perf_counter()
                derivative = srcgrad.grad(fn)
                got = derivative(0.1, 0.5)
                times.append(time.perf_counter() - start)
            try:
                check_by_finite_differences(fn, got, (0.1, 0.5), (0,))
            except Mismatch as exc:
                loud(f"transform of a {lines}-line function: gradient MISMATCH: {exc}")
                best[lines] = f"MISMATCH: {exc}"
            else:
                best[lines] = min(times)
    return best


def peak_bytes(fn: Callable, args: tuple) -> int:
    """Peak bytes traced by tracemalloc during one call, above what was allocated before it
    (NumPy reports its array buffers to tracemalloc)."""
    fn(*args)
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        fn(*args)
        return tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()


def memory() -> list[tuple[str, dict[str, int | str]]]:
    rows = []
    for problem in PROBLEMS:
        if problem.key not in ("P4", "P6"):
            continue
        args = problem.make_args(np.random.default_rng(0))
        peaks: dict[str, int | str] = {PRIMAL: peak_bytes(problem.primal, args), HAND: peak_bytes(problem.hand, args)}
        try:
            derivative = problem.make_srcgrad()
            agree(derivative(*args), problem.hand(*args))
            peaks[SRCGRAD] = peak_bytes(derivative, args)
        except Exception as exc:
            peaks[SRCGRAD] = f"not measured: {exc}"
        try:
            (peer,) = peers.autograd_peers(problem.key, args)
            agree(peer.to_numpy(peer.fn(*peer.args)), problem.hand(*args))
            peaks["autograd"] = peak_bytes(peer.fn, peer.args)
        except (peers.Unavailable, Mismatch):
            pass
        rows.append((problem.key, peaks))
    return rows


def tape_memory() -> list[tuple[str, dict[str, int]]]:
    """Peak memory of srcgrad's minimal tape against recording every overwritten value (uses
    srcgrad's internal `transform.generate(fn, Request(..., record_all=True))`; skipped if that moved)."""
    from srcgrad.driver import derivatives as transform
    from srcgrad.request import Request

    rows = []
    for label, fn, args, wrt in [
        ("P2 scalar loop", problems.p2, (0.3, 1.2), ("x",)),
        ("P5 RNN", problems.p5, problems.p5_inputs(np.random.default_rng(0)), ("wx", "wh", "b")),
    ]:
        peaks = {}
        for name, record_all in (("srcgrad tape", False), ("record every assignment", True)):
            generated = transform.generate(fn, Request(wrt, "grad", record_all=record_all))
            peaks[name] = peak_bytes(generated.function, args)
        rows.append((label, peaks))
    return rows


# ---- the report --------------------------------------------------------------------------------------
def fmt_time(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.2f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def fmt_ratio(r: float) -> str:
    return f"{r:.0f}×" if r >= 10 else f"{r:.1f}×" if r >= 1 else f"{r:.2f}×"


def fmt_bytes(n: int) -> str:
    return f"{n / 2**20:.1f} MiB" if n >= 2**20 else f"{n / 2**10:.1f} KiB"


def machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cores = os.cpu_count()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    memory = ""
    try:
        kib = int(next(line for line in Path("/proc/meminfo").read_text().splitlines()
                       if line.startswith("MemTotal")).split()[1])
        memory = f", {kib / 2**20:.0f} GiB memory"
    except (OSError, StopIteration, ValueError):
        pass
    return f"{model}, {cores} cores ({usable} usable){memory}, {platform.system()} {platform.machine()}"


def versions() -> str:
    parts = [f"Python {platform.python_version()}", f"NumPy {np.__version__}"]
    try:  # "-modified" when srcgrad/ itself differs from the commit (the report being rewritten does not count)
        git = ["git", "-C", str(HERE.parent)]
        commit = subprocess.run(git + ["describe", "--always"], capture_output=True, text=True, timeout=10).stdout.strip()
        changed = subprocess.run(git + ["status", "--porcelain", "--", "srcgrad"], capture_output=True, text=True,
                                 timeout=10).stdout.strip()
        commit += "-modified" if commit and changed else ""
    except (OSError, subprocess.SubprocessError):
        commit = ""
    parts.append(f"srcgrad at commit {commit or 'unknown'}")
    for module, label in (("autograd", "autograd"), ("jax", "JAX"), ("jaxlib", "jaxlib"), ("torch", "PyTorch")):
        found = peers.version(module)
        parts.append(f"{label} {found}" if found else f"{label} not installed")
    return ", ".join(parts)


class Notes:
    """Footnotes for cells that hold no time."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def mark(self, label: str, text: str) -> str:
        if text not in self.texts:
            self.texts.append(text)
        return f"{label} [{self.texts.index(text) + 1}]"

    def render(self) -> str:
        return "\n".join(f"{i + 1}. {text}" for i, text in enumerate(self.texts))


def cell(row: Row, name: str, notes: Notes, relative_to: str | None = None) -> str:
    if name in row.times:
        text = fmt_time(row.times[name])
        if relative_to and relative_to in row.times:
            text += f" ({fmt_ratio(row.times[name] / row.times[relative_to])})"
        return text
    note = row.notes.get(name)
    if note is None:
        return "—"
    if note.startswith("MISMATCH"):
        return notes.mark("**MISMATCH**", f"{row.problem.key} {name}: {note}")
    if note.startswith("n/a"):
        return notes.mark("n/a", f"{row.problem.key} {name}: {note[4:].strip()}")
    if note == "not installed":
        return "not installed"
    return notes.mark("not available", f"{row.problem.key} {name}: {note}")


def ratio(row: Row, name: str = SRCGRAD, to: str = HAND) -> float | None:
    if name in row.times and to in row.times:
        return row.times[name] / row.times[to]
    return None


def targets(rows: list[Row], transforms: dict[int, float | str], mem: list) -> list[tuple[str, str, str, bool | None]]:
    out = []
    for row in rows:
        if row.problem.target == float("inf"):  # measured, with no target set
            continue
        r = ratio(row)
        if r is not None:
            measured, met = f"{r:.2f}", r <= row.problem.target
        elif SRCGRAD in row.mismatches:
            measured, met = "wrong gradient", False
        elif HAND in row.mismatches:
            measured, met = "hand-written derivative wrong", None
        else:
            measured, met = row.notes.get(SRCGRAD, "not measured").split(":")[0], None
        out.append((f"{row.problem.key} srcgrad / hand-written", f"≤ {row.problem.target:g}", measured, met))
    for lines, limit in ((10, 0.020), (200, 0.200)) if transforms else ():
        t = transforms.get(lines)
        if isinstance(t, float):
            out.append((f"transform, {lines}-line function", f"≤ {limit * 1e3:g} ms", fmt_time(t), t <= limit))
        else:
            out.append((f"transform, {lines}-line function", f"≤ {limit * 1e3:g} ms", "wrong gradient", False))
    for key, peaks in mem:
        s, h = peaks.get(SRCGRAD), peaks[HAND]
        ok = isinstance(s, int)
        out.append((f"{key} peak memory, srcgrad / hand-written", "≤ 1.5", f"{s / h:.2f}" if ok else "not measured",
                    s / h <= 1.5 if ok else None))
    for row in rows:
        if row.problem.key not in ("P1", "P1b", "P2"):
            continue
        r = ratio(row, "autograd", SRCGRAD)
        out.append((f"{row.problem.key} autograd / srcgrad", "≥ 10", f"{r:.0f}" if r is not None else "—",
                    None if r is None else r >= 10))
    return out


def report(rows: list[Row], transforms: dict[int, float | str], mem: list, tape: list, command: str,
           quick: bool, load: tuple[str, str], elapsed: float) -> str:
    notes = Notes()
    lines = [
        "# Performance",
        "",
        "Generated by the benchmark harness; do not edit by hand. Re-run with:",
        "",
        f"    {command}",
        "",
    ]
    if quick:
        lines += ["**This is a `--quick` run: fewer repeats, for smoke checks. Its figures are rough.**", ""]
    lines += [
        f"- Machine: {machine()}",
        f"- Versions: {versions()}",
        f"- Threads: {THREADS} for NumPy's BLAS, PyTorch and XLA (`--threads` changes it)",
        f"- Date: {time.strftime('%Y-%m-%d %H:%M %Z')}; the run took {elapsed:.0f} s; load average "
        f"{load[0]} at the start, {load[1]} at the end (other jobs share the machine)",
        "",
        "## Targets",
        "",
        "| target | wanted | measured | met |",
        "| --- | --- | --- | --- |",
    ]
    met_cells = {True: "yes", False: "**no**", None: "not measured"}
    target_rows = targets(rows, transforms, mem)
    for what, wanted, measured, met in target_rows:
        lines.append(f"| {what} | {wanted} | {measured} | {met_cells[met]} |")
    met = sum(1 for *_, m in target_rows if m)
    lines += ["", f"{met} of {len(target_rows)} targets met.", ""]

    lines += [
        "## srcgrad against the hand-written derivative",
        "",
        "Time per call; the ratio is srcgrad / hand-written, measured side by side in the same run.",
        "",
        f"| problem | {PRIMAL} | {HAND} | {SRCGRAD} | ratio | target | {GENERATED} |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        r = ratio(row)
        generated = fmt_time(row.times[GENERATED]) if GENERATED in row.times else "—"
        lines.append(
            f"| {row.problem.key} {row.problem.title} | {cell(row, PRIMAL, notes)} | {cell(row, HAND, notes)} | "
            f"{cell(row, SRCGRAD, notes)} | {f'{r:.2f}' if r is not None else '—'} | ≤ {row.problem.target:g} | "
            f"{generated} |"
        )
    lines += [
        "",
        "## Peers",
        "",
        "Time per call; in brackets, how many times srcgrad's time it is (above 1: srcgrad is faster).",
        "",
        f"| problem | {SRCGRAD} | " + " | ".join(PEERS) + " |",
        "|" + " --- |" * (len(PEERS) + 2),
    ]
    for row in rows:
        lines.append(f"| {row.problem.key} | {cell(row, SRCGRAD, notes)} | "
                     + " | ".join(cell(row, p, notes, relative_to=SRCGRAD) for p in PEERS) + " |")
    if notes.texts:
        lines += ["", "Notes:", "", notes.render()]

    if transforms:
        lines += transform_section(transforms)
    if mem:
        lines += memory_section(mem, tape)
    lines += ["", HOW_TO_READ]
    return "\n".join(lines) + "\n"


def transform_section(transforms: dict[int, float | str]) -> list[str]:
    lines = ["", "## Transform time", "",
              "The first call of `grad(f)` on a function srcgrad has not seen: read its source, transform,",
              "compile, run once. Best over fresh functions of the same shape (ten of 10 lines, five of 200",
              "lines; a quick run takes fewer). On this shared machine the same transform measures up to a",
              "third slower minutes apart, so single runs swing.", "",
              "| function | first call | target |", "| --- | --- | --- |"]
    for count, limit in ((10, "≤ 20 ms"), (200, "≤ 200 ms")):
        t = transforms.get(count)
        if t is not None:
            lines.append(f"| {count} lines | {fmt_time(t) if isinstance(t, float) else '**' + t + '**'} | {limit} |")
    return lines


def memory_section(mem: list, tape: list) -> list[str]:
    lines = ["", "## Peak memory", "",
              "Peak bytes allocated during one gradient call above what was allocated before it",
              "(tracemalloc, which sees NumPy's array buffers; JAX and PyTorch allocate outside it).", "",
              f"| problem | {PRIMAL} | {HAND} | {SRCGRAD} | srcgrad / hand-written | autograd |",
              "| --- | --- | --- | --- | --- | --- |"]
    for key, peaks in mem:
        s = peaks.get(SRCGRAD)
        r = f"{s / peaks[HAND]:.2f}" if isinstance(s, int) else "—"
        a = peaks.get("autograd")
        lines.append(f"| {key} | {fmt_bytes(peaks[PRIMAL])} | {fmt_bytes(peaks[HAND])} | "
                     f"{fmt_bytes(s) if isinstance(s, int) else s} | {r} | {fmt_bytes(a) if a else '—'} |")
    if tape:
        lines += ["", "Tape: srcgrad records only what the backward sweep reads back; recording every",
                  "overwritten value in loops (as a tracing tape would) costs this much more:", "",
                  "| problem | srcgrad tape | record every assignment |", "| --- | --- | --- |"]
        for label, peaks in tape:
            lines.append(f"| {label} | {fmt_bytes(peaks['srcgrad tape'])} | "
                         f"{fmt_bytes(peaks['record every assignment'])} |")
    return lines


HOW_TO_READ = """## How to read this

- **Ratios are the figures that matter.** The machine is shared and noisy, so absolute times
  move from run to run; the candidates of one problem are timed round after round in turn
  (interleaved), each keeping its best batch, so a ratio compares times taken under the same load.
- **hand-written** is the ideal: a careful reverse-mode derivative written by hand that reuses
  the forward pass's values. A ratio of 1.0 means srcgrad's generated code costs what that costs.
- **srcgrad** is the function `srcgrad.grad(f)` returns, called as a user calls it (argument
  type dispatch and result shaping included). **srcgrad, generated code alone** calls the
  generated function directly, so the difference between the two is the wrapper's cost.
- **primal** is the function itself, for scale: a reverse-mode gradient costs a few primals.
- **Peers** differentiate the same problem written with their own functions, in float64.
  `JAX` is `jax.grad` without `jit` (it traces on every call); `JAX jit` is `jit(grad(f))`,
  compiled before timing (the P2 jit version uses `lax.fori_loop`, as JAX users write such a
  loop; jit of the Python loop would unroll it). PyTorch runs eagerly on the CPU; on scalar
  problems its timed call makes the leaf tensors from the Python floats, as srcgrad takes floats.
  JAX results are waited for (`block_until_ready`).
- **Checks**: before any timing, the hand-written derivative is checked against central finite
  differences of the function, and srcgrad's and each peer's gradients against the hand-written
  one (rtol 1e-6). A mismatch is shown as **MISMATCH** with the error instead of a time.
- Timing: each batch runs enough calls to last a few milliseconds, with the garbage collector
  off (as `timeit` does); the time shown is the best batch's time per call. Every library runs
  on one thread (unless `--threads` says otherwise): on a shared 2-core machine two-thread BLAS
  timings swing with other jobs' load, and the comparison is of what differentiation costs.
- To see where srcgrad's time goes: `srcgrad.source(df)` shows the generated code.
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer repeats: a smoke check, well under a minute")
    parser.add_argument("--output", help="where to write the report (default: docs/performance.md for a full "
                                         "run; a --quick run only prints unless this is given)")
    parser.add_argument("--threads", default="1", help="threads for BLAS, PyTorch and XLA (default 1)")
    parser.add_argument("--only", help="comma-separated problem keys to run (e.g. P1,P4); skips transform and memory")
    options = parser.parse_args()
    if options.quick:
        settings = Settings(quick=True, batch=0.002, rounds=12, budget=0.25, min_rounds=1)
    else:
        settings = Settings(quick=False, batch=0.02, rounds=60, budget=8.0, min_rounds=3)
    started = time.perf_counter()
    load_start = "{:.2f}".format(os.getloadavg()[0]) if hasattr(os, "getloadavg") else "?"
    wanted = set(options.only.split(",")) if options.only else None
    rows = []
    for problem in PROBLEMS:
        if wanted and problem.key not in wanted:
            continue
        print(f"{problem.key} {problem.title} ...", end=" ", file=sys.stderr, flush=True)
        start = time.perf_counter()
        rows.append(run_problem(problem, settings))
        print(f"{time.perf_counter() - start:.1f} s", file=sys.stderr, flush=True)
    transforms, mem, tape = {}, [], []
    if not wanted:
        print("transform time ...", file=sys.stderr, flush=True)
        transforms = transform_times(settings)
        print("memory ...", file=sys.stderr, flush=True)
        mem = memory()
        try:
            tape = tape_memory()
        except Exception as exc:  # srcgrad internals moved: this table is optional
            print(f"tape memory skipped: {type(exc).__name__}: {exc}", file=sys.stderr)
    load_end = "{:.2f}".format(os.getloadavg()[0]) if hasattr(os, "getloadavg") else "?"
    command = "python benchmarks/run.py" + (" --quick" if options.quick else "") + (
        f" --threads {options.threads}" if options.threads != "1" else "") + (
        f" --only {options.only}" if options.only else "")
    text = report(rows, transforms, mem, tape, command, options.quick, (load_start, load_end),
                  time.perf_counter() - started)
    output = options.output or (None if options.quick or options.only else str(HERE.parent / "docs" / "performance.md"))
    if output:
        Path(output).write_text(text)
    print(text)
    mismatches = [f"{row.problem.key} {name}" for row in rows for name in row.mismatches]
    mismatches += [f"transform of a {n}-line function" for n, t in transforms.items() if isinstance(t, str)]
    if mismatches:
        loud("gradient MISMATCH (not timed): " + ", ".join(mismatches))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
