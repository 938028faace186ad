"""Benchmarks: srcgrad against hand-written derivatives (and autograd, JAX, PyTorch where
installed), side by side in one process, interleaved, best of several repeats.

    python benchmarks/run.py [--quick]   # writes docs/performance.md

Every gradient is checked against the hand-written one before it is timed.
"""

from __future__ import annotations

import argparse
import math
import platform
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import problems  # noqa: E402

import srcgrad  # noqa: E402
from srcgrad import transform  # noqa: E402


def best_time(fn, args, repeats: int, number: int) -> float:
    """Seconds per call: the best of `repeats` runs of `number` calls."""
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(number):
            fn(*args)
        best = min(best, (time.perf_counter() - start) / number)
    return best


def interleaved(candidates: dict, args, repeats: int, number: int) -> dict[str, float]:
    """Time each candidate in turn, round after round, keeping each one's best."""
    best = {name: math.inf for name in candidates}
    for _ in range(repeats):
        for name, fn in candidates.items():
            best[name] = min(best[name], best_time(fn, args, 1, number))
    return best


def _agree(got, want) -> None:
    for g, w in zip(got if isinstance(got, tuple) else (got,), want if isinstance(want, tuple) else (want,)):
        np.testing.assert_allclose(g, w, rtol=1e-6, atol=1e-9)


def peers(name: str) -> dict:
    """Gradient functions of the installed peers for scalar problem `name` (P1, P2, P3)."""
    out = {}
    try:
        import autograd.numpy as anp
        from autograd import grad as agrad
    except ImportError:
        return out

    def p2(x, a):  # autograd traces NumPy calls only: math.sin becomes anp.sin
        for i in range(1000):
            x = x + 0.01 * anp.sin(x * a)
        return x

    out["autograd"] = agrad({"P1": problems.p1, "P2": p2, "P3": problems.p3}[name])
    return out


def scalar_problems(quick: bool) -> list[dict]:
    rows = []
    n = 2000 if quick else 20000
    for name, fn, hand, args in [
        ("P1 3x²+2x+1", problems.p1, problems.p1_hand, (2.0,)),
        ("P2 1000-step scalar loop", problems.p2, problems.p2_hand, (0.3, 1.2)),
        ("P3 Newton sqrt (while)", problems.p3, problems.p3_hand, (2.0,)),
    ]:
        derivative = srcgrad.grad(fn)
        _agree(derivative(*args), hand(*args))
        number = {"P1": n, "P2": max(20, n // 500), "P3": max(200, n // 20)}[name[:2]]
        candidates = {"hand-written": hand, "srcgrad": derivative}
        if name.startswith("P1"):
            candidates["srcgrad (generated function)"] = lambda x, f=derivative._by_types[float]: f(x)[0]
        for peer, peer_grad in peers(name[:2]).items():
            candidates[peer] = peer_grad
        times = interleaved(candidates, args, 5, number)
        rows.append({"problem": name, **times})
    return rows


def array_problems(quick: bool) -> list[dict]:
    rng = np.random.default_rng(0)
    rows = []
    for name, fn, hand, args, wrt in [
        ("P4 MLP 64×784-256-10", problems.p4, problems.p4_hand, problems.p4_inputs(rng), (0, 1, 2, 3)),
        ("P5 RNN 50 steps, hidden 128", problems.p5, problems.p5_hand, problems.p5_inputs(rng), (0, 1, 2)),
        ("P6 Rosenbrock 10⁶", problems.p6, problems.p6_hand, (rng.standard_normal(10**5 if quick else 10**6),), 0),
    ]:
        derivative = srcgrad.grad(fn, wrt=wrt)
        _agree(derivative(*args), hand(*args))
        times = interleaved({"hand-written": hand, "srcgrad": derivative}, args, 3 if quick else 7, 3 if quick else 10)
        rows.append({"problem": name, **times})
    return rows


def tape_memory() -> list[dict]:
    """Peak memory of the gradient call with the minimal tape and with every assignment recorded."""
    rng = np.random.default_rng(0)
    rows = []
    for name, fn, args, wrt in [
        ("P2 scalar loop", problems.p2, (0.3, 1.2), ("x",)),
        ("P5 RNN", problems.p5, problems.p5_inputs(rng), ("wx", "wh", "b")),
    ]:
        peaks = {}
        for label, record_all in (("srcgrad tape", False), ("record every assignment", True)):
            generated = transform.generate(fn, wrt, "grad", record_all=record_all)
            generated.function(*args)
            tracemalloc.start()
            generated.function(*args)
            peaks[label] = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        rows.append({"problem": name, **peaks})
    return rows


def transform_times() -> list[dict]:
    rows = []
    for lines in (10, 200):
        body = "\n".join(f"    x{i + 1} = np.sin(x{i}) * 1.01 + x{i} ** 2 * 0.5" for i in range(lines - 1))
        source = f"import numpy as np\n\ndef long_{lines}(x0):\n{body}\n    return x{lines - 1}\n"
        path = Path(__file__).resolve().parent / f"_generated_{lines}.py"
        path.write_text(source)
        namespace: dict = {}
        exec(compile(source, str(path), "exec"), namespace)
        fn = namespace[f"long_{lines}"]
        start = time.perf_counter()
        srcgrad.grad(fn)(0.1)
        rows.append({"problem": f"transform of a {lines}-line function", "srcgrad": time.perf_counter() - start})
        path.unlink()
    return rows


NOTES = """
## Reading the figures

- The issue-4 targets hold: P2 (scalar loop, 1000 steps) and P3 (Newton `while`) cost
  less than twice a hand-written reverse loop that saves its trajectory.
- srcgrad is hundreds of times faster than autograd on the scalar problems: it runs
  generated Python, with no tracing per call.
- On P1 the generated function costs about what the hand-written derivative costs; most of
  the remaining time is the wrapper `grad(f)` returns (type dispatch and result shaping).
- The tape records only what the backward sweep reads back; "record every assignment"
  pushes every overwritten value in loops, as a tracing tape would.
- Not yet at the later performance targets: P5 and P6 (full-size zero buffers for slices
  and per-step temporaries) and the transform time of long functions.
"""


def _format_time(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:.2f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def table(rows: list[dict], unit=_format_time, ratio_to: str | None = "hand-written") -> str:
    columns = [c for c in rows[0] if c != "problem"]
    for row in rows[1:]:
        columns += [c for c in row if c != "problem" and c not in columns]
    header = "| problem | " + " | ".join(columns) + (" | srcgrad / hand-written |" if ratio_to else " |")
    lines = [header, "|" + " --- |" * (len(columns) + 1 + bool(ratio_to))]
    for row in rows:
        cells = [unit(row[c]) if c in row else "" for c in columns]
        if ratio_to:
            cells.append(f"{row['srcgrad'] / row[ratio_to]:.2f}")
        lines.append(f"| {row['problem']} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller sizes and fewer repeats")
    parser.add_argument("--output", default=str(Path(__file__).resolve().parent.parent / "docs" / "performance.md"))
    options = parser.parse_args()
    scalar = scalar_problems(options.quick)
    arrays = array_problems(options.quick)
    memory = tape_memory()
    transforms = transform_times()
    versions = f"Python {platform.python_version()}, NumPy {np.__version__}"
    try:
        import autograd

        versions += f", autograd {getattr(autograd, '__version__', 'installed')}"
    except ImportError:
        pass
    command = "python benchmarks/run.py" + (" --quick" if options.quick else "")
    text = f"""# Performance

Measured with `{command}` on {platform.machine()} ({platform.processor() or 'cpu'}), {versions}.
Each problem runs side by side in one process, interleaved, best of several repeats; each
gradient is checked against the hand-written one before it is timed. Times are per call.

## Scalar code

{table(scalar)}

`srcgrad` is the function `grad(f)` returns (its wrapper checks argument types and shapes
the result); `srcgrad (generated function)` calls the generated code directly.

## Array code

{table(arrays)}

## Tape memory (peak bytes allocated during one gradient call, tracemalloc)

{table(memory, unit=lambda b: f"{b:,} B", ratio_to=None)}

## Transform time (first call: parse, transform, compile)

{table(transforms, ratio_to=None)}
{NOTES}"""
    Path(options.output).write_text(text)
    print(text)


if __name__ == "__main__":
    main()
