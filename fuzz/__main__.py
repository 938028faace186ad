"""`python -m fuzz`: a differential fuzzing campaign of srcgrad against finite differences."""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter

from . import aliasing, oracles, runner
from .generator import Program

KINDS = ("pass", "skip", "refused", "crash", "wrong", "invalid")


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m fuzz", description=__doc__)
    p.add_argument("--n", type=int, default=1000, help="programs per mode")
    p.add_argument("--modes", default=",".join(oracles.MODES), help="comma-separated: " + ",".join(oracles.MODES))
    p.add_argument("--mode", help="one mode (with --only)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--start", type=int, default=0, help="first program index")
    p.add_argument("--only", type=int, help="run program INDEX only, and print it")
    p.add_argument("--jobs", type=int, default=1)
    p.add_argument("--shrink", action="store_true", help="shrink the failures shown")
    p.add_argument("--show", type=int, default=5, help="failures shown per mode")
    p.add_argument("--out", help="also write the report to this file")
    p.add_argument("--every", type=int, default=200, help="progress line every this many programs")
    p.add_argument("--aliasing", action="store_true",
                   help="mix the in-place/aliasing statement families in (about a quarter of the programs)")
    p.add_argument("--families", help="only programs containing one of these families (comma-separated, or "
                   "'all'): " + ",".join(aliasing.FAMILIES))
    args = p.parse_args(argv)
    try:
        args.mix = aliasing.parse_mix(args.families, args.aliasing)
    except ValueError as exc:
        p.error(str(exc))
    return args


def table(counts: dict[str, Counter], seconds: dict[str, float]) -> str:
    """The Markdown table of outcomes per mode, then refusal and crash reasons."""
    lines = ["| mode | programs | pass | skip | refused | crash | wrong | invalid | programs/s per core |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for mode, c in counts.items():
        total = sum(c[k] for k in KINDS)
        rate = total / seconds[mode] if seconds.get(mode) else 0.0
        lines.append(f"| {mode} | {total} | " + " | ".join(str(c[k]) for k in KINDS) + f" | {rate:.1f} |")
    for kind in ("refused", "crash"):
        reasons: Counter = Counter()
        for c in counts.values():
            reasons.update({k: v for k, v in c.items() if k.startswith(kind + ": ")})
        if reasons:
            lines += ["", f"{kind} by reason (all modes):", ""]
            lines += [f"- {v} × {k[len(kind) + 2:]}" for k, v in reasons.most_common()]
    return "\n".join(lines)


def family_table(counts: dict[tuple[str, str], Counter]) -> str:
    """Outcomes per mode and family, then each family's refusals by the first words of the reason."""
    if not counts:
        return ""
    lines = ["Per family (a program with several families counts in each):", "",
             "| mode | family | programs | pass | skip | refused | crash | wrong | invalid |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for (mode, family), c in sorted(counts.items()):
        lines.append(f"| {mode} | {family} | {sum(c[k] for k in KINDS)} | " + " | ".join(str(c[k]) for k in KINDS) + " |")
    refusals = [(mode, family, k[len("refused: "):], v) for (mode, family), c in sorted(counts.items())
                for k, v in c.most_common() if k.startswith("refused: ")]
    if refusals:
        lines += ["", "refused by family and reason:", ""]
        lines += [f"- {mode} / {family}: {v} × {why}" for mode, family, why, v in refusals]
    return "\n".join(lines)


def call(program: Program) -> str:
    """How the oracle calls `f`: its arguments and `wrt`, on one line."""
    args = ", ".join(f"np.array({a.tolist()})" if hasattr(a, "tolist") else repr(a) for a in program.args)
    return f"f({args}), wrt={program.wrt!r}"


def describe(result: runner.Result, shrink: bool, mix: aliasing.Mix = aliasing.NONE) -> str:
    """A failure as Markdown: its identity, outcome, and source (shrunk if asked)."""
    program = runner.program_for(result.seed, result.index, result.mode, mix)
    outcome = result.outcome
    families = f" [{', '.join(sorted(program.families))}]" if program.families else ""
    head = f"### {result.mode} seed {result.seed} index {result.index}: {outcome.kind}{families}"
    blame = f" (clean-up at fault: {outcome.culprit})" if outcome.culprit else ""
    text = [head, "", f"{outcome.detail}{blame}; {call(program)}", ""]
    if shrink:
        from .shrink import shrink as shrink_program

        small, small_outcome = shrink_program(program, result.mode, outcome, seed=result.seed * 1_000_003 + result.index)
        text += [f"shrunk ({small_outcome.detail}); {call(small)}:", ""]
        program = small
    body = program.source.split("\n\n\n", 1)[-1] if shrink else program.source
    return "\n".join(text + ["```python", body.rstrip(), "```", ""])


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    modes = [args.mode] if args.mode else args.modes.split(",")
    if args.only is not None:
        for mode in modes:
            result = runner.run_one(args.seed, args.only, mode, args.mix)
            print(runner.program_for(args.seed, args.only, mode, args.mix).source)
            print(describe(result, args.shrink, args.mix) if result.outcome.kind in ("wrong", "crash") else result.outcome)
        return 0
    results: list[runner.Result] = []
    seconds: dict[str, float] = Counter()
    start = time.perf_counter()
    indices = range(args.start, args.start + args.n)
    for k, result in enumerate(runner.run(args.seed, indices, modes, args.jobs, args.mix), 1):
        results.append(result)
        seconds[result.mode] += result.seconds
        if k % args.every == 0:
            c = Counter(f"{r.mode}.{r.outcome.kind}" for r in results)
            rate = k / (time.perf_counter() - start)
            print(f"[{k}/{len(modes) * args.n}] {rate:.1f}/s " + " ".join(f"{n}={v}" for n, v in sorted(c.items())),
                  file=sys.stderr, flush=True)
    mixed = f", families {','.join(args.mix.names)}{' (required)' if args.mix.required else ''}" if args.mix.names else ""
    report = [f"srcgrad fuzz: seed {args.seed}, programs {indices.start}..{indices.stop - 1}, modes {','.join(modes)}"
              f"{mixed}, {time.perf_counter() - start:.0f} s with {args.jobs} job(s)", "",
              table(runner.tally(results), seconds), "", family_table(runner.family_tally(results)), ""]
    for mode in modes:
        failures = [r for r in results if r.mode == mode and r.outcome.kind in ("wrong", "crash")]
        report += [describe(r, args.shrink, args.mix) for r in _distinct(failures)[: args.show]]
    text = "\n".join(report)
    print(text)
    if args.out:
        with open(args.out, "w") as handle:
            handle.write(text + "\n")
    return 0


def _distinct(failures: list[runner.Result]) -> list[runner.Result]:
    """The first failure of each outcome key (kind and exception type), then the rest."""
    seen: set[str] = set()
    first, rest = [], []
    for r in failures:
        key = r.outcome.kind + r.outcome.reason() + r.outcome.culprit
        (rest if key in seen else first).append(r)
        seen.add(key)
    return first + rest


if __name__ == "__main__":
    sys.exit(main())
