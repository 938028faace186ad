"""Runs generated programs through the oracles: one program per (seed, index, mode), in processes."""

from __future__ import annotations

import importlib.util
import itertools
import linecache
import signal
import tempfile
import time
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from . import aliasing, oracles
from .generator import Program, S, generate

TIMEOUT = 30  # seconds per program; a hang is a crash
_COUNTER = itertools.count()
_DIRECTORY: list[Path] = []


class Timeout(BaseException):
    """A program took longer than TIMEOUT (a BaseException, so no `except Exception` swallows it)."""


def directory() -> Path:
    """This process's temporary directory for generated modules (one per run and process)."""
    if not _DIRECTORY:
        _DIRECTORY.append(Path(tempfile.mkdtemp(prefix="srcgrad-fuzz-")))
    return _DIRECTORY[0]


def load(source: str, stem: str = "prog") -> Callable[..., Any]:
    """Function `f` of `source`, written to a fresh .py file (srcgrad reads source from files) and imported."""
    path = directory() / f"{stem}_{next(_COUNTER)}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module.f


def program_for(seed: int, index: int, mode: str, mix: aliasing.Mix = aliasing.NONE) -> Program:
    """The program (seed, index) of `mode`: vjp gets the vector-valued variant. When `mix` requires
    families, the first of a fixed series of variants of (seed, index) that contains one of them."""
    output = "v" if mode == "vjp" else S
    program = generate(seed, index, output, families=mix)
    for attempt in range(1, 40):
        if not mix.required or program.families & set(mix.names):
            break
        program = generate(seed, f"{index}.{attempt}", output, families=mix)  # type: ignore[arg-type]
    return program


def _alarm(signum: int, frame: Any) -> None:
    raise Timeout()


def check_source(program: Program, mode: str, seed: int = 0, blame: bool = True,
                 timeout: float = TIMEOUT) -> oracles.Outcome:
    """Load and check one program under a time limit; a program that does not even load is invalid."""
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                f = load(program.source)
            except Exception as exc:
                return oracles.Outcome(oracles.INVALID, f"does not load: {type(exc).__name__}: {exc}")
            return oracles.check(f, program, mode, seed, blame)
    except Timeout:
        return oracles.Outcome(oracles.CRASH, f"Timeout: over {timeout} s")
    except RecursionError as exc:
        return oracles.classify(exc)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@dataclass
class Result:
    """One program's outcome in one mode, with what identifies it."""

    seed: int
    index: int
    mode: str
    outcome: oracles.Outcome
    seconds: float
    features: list[str] = field(default_factory=list)
    families: set[str] = field(default_factory=set)


def run_one(seed: int, index: int, mode: str, mix: aliasing.Mix = aliasing.NONE) -> Result:
    """Generate and check program (seed, index) of the program mix `mix` in `mode`."""
    start = time.perf_counter()
    program = program_for(seed, index, mode, mix)
    outcome = check_source(program, mode, seed * 1_000_003 + index)
    if index % 100 == 0:
        linecache.clearcache()
    return Result(seed, index, mode, outcome, time.perf_counter() - start, program.features, program.families)


def _task(job: tuple[int, int, str, aliasing.Mix]) -> Result:
    return run_one(*job)


def run(seed: int, indices: range | list[int], modes: list[str], jobs: int = 1,
        mix: aliasing.Mix = aliasing.NONE) -> Iterator[Result]:
    """Results of every (index, mode), in order; with `jobs` > 1 in a pool of processes."""
    tasks = [(seed, i, m, mix) for m in modes for i in indices]
    if jobs <= 1:
        yield from map(_task, tasks)
        return
    import multiprocessing

    with multiprocessing.get_context("fork").Pool(jobs) as pool:
        yield from pool.imap(_task, tasks, chunksize=8)


def tally(results: list[Result]) -> dict[str, Counter]:
    """Per mode: counts of each outcome kind, and of refusal reasons as `refused: <reason>`."""
    table: dict[str, Counter] = {}
    for r in results:
        counts = table.setdefault(r.mode, Counter())
        counts[r.outcome.kind] += 1
        if r.outcome.kind in (oracles.REFUSED, oracles.CRASH, oracles.SKIP):
            blame = f" [clean-up at fault: {r.outcome.culprit}]" if r.outcome.culprit else ""
            counts[f"{r.outcome.kind}: {r.outcome.reason()}{blame}"] += 1
    return table


def family_tally(results: list[Result]) -> dict[tuple[str, str], Counter]:
    """Per (mode, family): counts of each outcome kind, and refusals by the first words of their reason."""
    table: dict[tuple[str, str], Counter] = {}
    for r in results:
        for family in sorted(r.families):
            counts = table.setdefault((r.mode, family), Counter())
            counts[r.outcome.kind] += 1
            if r.outcome.kind == oracles.REFUSED:
                counts["refused: " + " ".join(r.outcome.reason().split()[:10])] += 1
    return table
