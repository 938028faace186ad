"""Oracles per mode: srcgrad's derivatives against finite differences of the plain Python program."""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

import srcgrad

from . import numeric as nm
from .generator import Program, S

MODES = ("reverse", "forward", "vjp", "second")
PASS, SKIP, REFUSED, CRASH, WRONG, INVALID = "pass", "skip", "refused", "crash", "wrong", "invalid"
_LOCATION = re.compile(r"^\S*?:\d+:\d+: ")
AFTER_RTOL, AFTER_ATOL = 1e-12, 1e-14  # the arguments after a call: Python's own values, to rounding


@dataclass
class Outcome:
    """What one program gave in one mode; `detail` is the reason, error or discrepancy."""

    kind: str
    detail: str = ""
    culprit: str = ""

    def key(self) -> str:
        """What shrinking keeps fixed: the outcome, and for a crash the exception type."""
        return f"{self.kind}:{self.detail.split(':', 1)[0]}" if self.kind == CRASH else self.kind

    def reason(self) -> str:
        return reason(self.detail)


class Verdict(Exception):
    """Raised inside an oracle to end it with an outcome."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.detail)
        self.outcome = outcome


def cleanups() -> tuple[str, ...]:
    return tuple(getattr(srcgrad, "CLEANUPS", ()))


def classify(exc: BaseException) -> Outcome:
    """A refusal for NotDifferentiableError (by its message without the location), else a crash: the
    exception type (for an InternalError, with its cause's), its message, and the clean-up it names."""
    text = str(exc).strip()
    first = text.splitlines()[0] if text else ""
    if isinstance(exc, srcgrad.NotDifferentiableError):
        return Outcome(REFUSED, _LOCATION.sub("", first))
    named = re.search(r"in the pass '(\w+)'", text)
    cause = exc.__cause__ or exc.__context__
    if type(exc).__name__ == "InternalError" and cause is not None:
        where = re.search(r"in generated code: `([^`]*)`", text)
        message = str(cause).splitlines()[0] if str(cause) else ""
        detail = f"InternalError({type(cause).__name__}): {message[:120]}" + (f" at `{where.group(1)[:60]}`" if where else "")
    else:
        detail = f"{type(exc).__name__}: {first[:160]}"
    return Outcome(CRASH, detail + (f" in pass {named.group(1)}" if named else ""), named.group(1) if named else "")


def reason(detail: str) -> str:
    """`detail` with numbers and generated names' suffixes made generic, for counting by reason."""
    return re.sub(r"#\d+|:\d+\)|(?<=[A-Za-z_])\d+", "N", detail.split(" at `")[0])


def _fail(kind: str, detail: str) -> None:
    raise Verdict(Outcome(kind, detail))


def _opt(optimize: Any) -> dict[str, Any]:
    return {} if optimize is None else {"optimize": optimize}


def _positions(program: Program, wrt: Any) -> list[int]:
    params = ["x", "y"][: len(program.args)]
    items = wrt if isinstance(wrt, tuple) else (wrt,)
    return [params.index(w) if isinstance(w, str) else w for w in items]


def _as_list(value: Any, wrt: Any) -> list[Any]:
    return list(value) if isinstance(wrt, tuple) else [value]


def _check_shapes(got: list[Any], program: Program, positions: list[int], what: str) -> None:
    for g, p in zip(got, positions):
        if np.shape(g) != np.shape(program.args[p]):
            _fail(WRONG, f"{what}: shape {np.shape(g)} for an argument of shape {np.shape(program.args[p])}")


def _compare(got: Any, want: Any, scale: float, what: str, rtol: float = nm.RTOL, atol: float = nm.ATOL,
             source: str = "finite differences") -> None:
    if not nm.close(got, want, scale, rtol, atol):
        _fail(WRONG, f"{what}: {nm.worst(got, want, source)}")


def _fd_gradient(g: Callable[..., Any], program: Program, position: int, scale: float) -> np.ndarray:
    """The finite-difference Jacobian of flat(g) w.r.t. one argument; skip at a kink."""
    fd = nm.two_step(lambda rel: nm.jacobian_fd(g, program.args, position, rel), scale)
    if fd is None:
        _fail(SKIP, "finite differences disagree between step sizes")
    return fd


class Oracle:
    """Truth by finite differences, computed once per program, then judged per pipeline."""

    def __init__(self, f: Callable[..., Any], program: Program, rng: np.random.Generator) -> None:
        self.f, self.program, self.rng = f, program, rng
        self.out = nm.evaluate(f, program.args)
        self.after = nm.after_call(f, program.args)
        if program.output == S and (isinstance(self.out, (list, tuple, dict)) or np.ndim(self.out) != 0):
            raise nm.Invalid(f"a scalar program returned {type(self.out).__name__} of shape {np.shape(self.out)}")
        self.scale = nm.scale_of(self.out)

    def truth(self) -> None:
        raise NotImplementedError

    def judge(self, optimize: Any) -> None:
        raise NotImplementedError

    def random_like(self, x: Any) -> Any:
        return float(self.rng.standard_normal()) if np.ndim(x) == 0 else self.rng.standard_normal(np.shape(x))

    def fresh(self) -> list[Any]:
        """Deep copies of the arguments for one call of a derivative, which may write into them."""
        return copy.deepcopy(list(self.program.args))

    def check_after(self, copies: list[Any], what: str) -> None:
        """The arguments `copies` after a derivative's call must be as plain Python's `f` leaves them."""
        for i, (got, want) in enumerate(zip(copies, self.after)):
            if np.shape(got) != np.shape(want) or not nm.close(got, want, 1.0, AFTER_RTOL, AFTER_ATOL):
                _fail(WRONG, f"{what}: arguments after the call differ from Python's: argument {i}, "
                      + nm.worst(got, want, "Python"))


class Reverse(Oracle):
    def truth(self) -> None:
        self.positions = _positions(self.program, self.program.wrt)
        self.want = [_fd_gradient(self.f, self.program, p, self.scale)[0] for p in self.positions]
        self.scale = nm.scale_of(self.out, *self.want)

    def judge(self, optimize: Any) -> None:
        copies = self.fresh()
        got = _as_list(srcgrad.grad(self.f, wrt=self.program.wrt, **_opt(optimize))(*copies), self.program.wrt)
        self.check_after(copies, "grad")
        _check_shapes(got, self.program, self.positions, "grad")
        _compare(got, self.want, self.scale, "grad")


class Forward(Oracle):
    def truth(self) -> None:
        self.positions = _positions(self.program, self.program.wrt)
        self.tangents = [self.random_like(self.program.args[p]) for p in self.positions]
        directions = dict(zip(self.positions, self.tangents))
        want = nm.two_step(lambda rel: nm.directional(self.f, self.program.args, directions, rel), self.scale)
        if want is None:
            _fail(SKIP, "finite differences disagree between step sizes")
        self.want = want
        self.scale = nm.scale_of(self.out, want, *self.tangents)

    def judge(self, optimize: Any) -> None:
        program, opt = self.program, _opt(optimize)
        copies = self.fresh()
        out, dot = srcgrad.jvp(self.f, tuple(copies), tuple(copy.deepcopy(self.tangents)), wrt=program.wrt, **opt)
        self.check_after(copies, "jvp")
        _compare(out, self.out, self.scale, "jvp primal output", 1e-9, 1e-12, "plain Python")
        _compare(dot, self.want, self.scale, "jvp")
        try:
            g = _as_list(srcgrad.grad(self.f, wrt=program.wrt, **opt)(*self.fresh()), program.wrt)
        except Exception:
            return  # the inner-product test needs both; reverse mode is judged on its own
        inner = sum(float(np.sum(np.asarray(a) * t)) for a, t in zip(g, self.tangents))
        _compare(inner, dot, self.scale, "inner product: <grad, u>", 1e-7, 1e-9, "jvp")


class Pullback(Oracle):
    def truth(self) -> None:
        self.positions = _positions(self.program, self.program.wrt)
        self.cotangent = _like(self.out, self.rng)
        v = nm.flat(self.cotangent)

        def inner(*args: Any) -> float:
            return float(nm.flat(self.f(*args)) @ v)

        self.want = [_fd_gradient(inner, self.program, p, self.scale)[0] for p in self.positions]
        self.scale = nm.scale_of(self.out, *self.want)

    def judge(self, optimize: Any) -> None:
        program = self.program
        copies = self.fresh()
        out, pullback = srcgrad.vjp(self.f, *copies, wrt=program.wrt, **_opt(optimize))
        self.check_after(copies, "vjp")
        kept = copy.deepcopy(out)
        _compare(out, self.out, self.scale, "vjp primal output", 1e-9, 1e-12, "plain Python")
        got = _as_list(pullback(copy.deepcopy(self.cotangent)), program.wrt)
        self.check_after(copies, "pullback")
        if not nm.close(out, kept, 1.0, 0.0, 0.0):
            _fail(WRONG, "the pullback changed the output it was given")
        _check_shapes(got, program, self.positions, "pullback")
        _compare(got, self.want, self.scale, "pullback")


class Second(Oracle):
    def truth(self) -> None:
        wrt = self.program.wrt[0] if isinstance(self.program.wrt, tuple) else self.program.wrt
        self.wrt, self.position = wrt, _positions(self.program, wrt)[0]
        x = self.program.args[self.position]
        self.direction = self.random_like(x)
        self.hessian, self.loose = self._hessian_truth()
        self.scale = nm.scale_of(self.out, self.hessian)

    def _hessian_truth(self) -> tuple[np.ndarray, bool]:
        """FD of srcgrad's gradient once it agrees with FD of f; else second differences of f."""
        program = self.program
        try:
            first = srcgrad.grad(self.f, wrt=self.wrt)
            want = _fd_gradient(self.f, program, self.position, self.scale)[0]
            got = first(*self.fresh())
            if nm.close(got, want, nm.scale_of(self.out, want)) and np.shape(got) == np.shape(program.args[self.position]):
                return _fd_gradient(first, program, self.position, nm.scale_of(want)), False
        except Verdict:
            raise
        except Exception:
            pass
        return _second_differences(self.f, program, self.position, self.scale), True

    def judge(self, optimize: Any) -> None:
        program, opt = self.program, _opt(optimize)
        rtol, atol = (1e-3, 1e-4) if self.loose else (nm.RTOL, nm.ATOL)
        x = program.args[self.position]
        if np.ndim(x) == 0:
            inner = srcgrad.grad(self.f, wrt=self.wrt, **opt)
            copies = self.fresh()
            got = srcgrad.grad(inner, wrt=self.wrt, **opt)(*copies)
            self.check_after(copies, "grad(grad(f))")
            _compare(got, self.hessian, self.scale, "grad(grad(f))", rtol, atol)
            return
        copies = self.fresh()
        hv = srcgrad.hvp(self.f, wrt=self.wrt, **opt)(*copies, copy.deepcopy(self.direction))
        self.check_after(copies, "hvp")
        _compare(hv, self.hessian @ self.direction.ravel(), self.scale, "hvp", rtol, atol)
        copies = self.fresh()
        h = srcgrad.hessian(self.f, wrt=self.wrt, **opt)(*copies)
        self.check_after(copies, "hessian")
        if np.shape(h) != np.shape(x) * 2:
            _fail(WRONG, f"hessian: shape {np.shape(h)} for an argument of shape {np.shape(x)}")
        _compare(h, self.hessian, self.scale, "hessian", rtol, atol)


def _second_differences(f: Callable[..., Any], program: Program, position: int, scale: float) -> np.ndarray:
    """The Hessian of scalar f by mixed second differences, at two steps (skip at a kink)."""
    x = program.args[position]
    n = int(np.size(x))

    def at(rel: float) -> np.ndarray:
        h = nm.step_of(x, rel)
        H = np.zeros((n, n))
        for i in range(n):
            for j in range(n):
                ei, ej = nm.unit(x, i), nm.unit(x, j)
                corners = [nm.evaluate(f, nm.moved(program.args, position, h * (a * ei + b * ej)))
                           for a, b in ((1, 1), (1, -1), (-1, 1), (-1, -1))]
                H[i, j] = (corners[0] - corners[1] - corners[2] + corners[3]) / (4 * h * h)
        return H

    coarse, fine = at(1e-2), at(1e-3)
    if not nm.close(coarse, fine, max(scale, nm.scale_of(fine)), 1e-2, 1e-3):
        _fail(SKIP, "second differences disagree between step sizes")
    return fine


def _like(value: Any, rng: np.random.Generator) -> Any:
    """A random cotangent with the structure of `value`."""
    if isinstance(value, (list, tuple)):
        return type(value)(_like(item, rng) for item in value)
    if isinstance(value, dict):
        return {k: _like(v, rng) for k, v in value.items()}
    return float(rng.standard_normal()) if np.ndim(value) == 0 else rng.standard_normal(np.shape(value))


ORACLES: dict[str, type[Oracle]] = {"reverse": Reverse, "forward": Forward, "vjp": Pullback, "second": Second}


def attempt(oracle: Oracle, optimize: Any) -> Outcome:
    """Judge one pipeline: pass, refused, crash or wrong."""
    try:
        oracle.judge(optimize)
    except Verdict as verdict:
        return verdict.outcome
    except Exception as exc:
        return classify(exc)
    return Outcome(PASS)


def check(f: Callable[..., Any], program: Program, mode: str, seed: int = 0, blame: bool = True) -> Outcome:
    """Run `mode`'s oracle on `program`; a failure of the optimized pipeline is blamed on a clean-up when
    the reference pipeline gets it right and switching that clean-up off alone fixes it."""
    rng = np.random.default_rng(seed)
    try:
        oracle = ORACLES[mode](f, program, rng)
        oracle.truth()
    except nm.Invalid as exc:
        return Outcome(INVALID, str(exc))
    except Verdict as verdict:
        return verdict.outcome
    except Exception as exc:  # the truth needs plain Python only; a program it cannot use is discarded
        return Outcome(INVALID, f"oracle: {type(exc).__name__}: {exc}")
    passes = cleanups()
    outcome = attempt(oracle, True if passes else None)
    if outcome.kind in (WRONG, CRASH) and passes and blame:
        reference = attempt(oracle, False)
        if reference.kind == PASS:
            fixed = [p for p in passes if attempt(oracle, set(passes) - {p}).kind == PASS]
            outcome.culprit = ",".join(fixed) or outcome.culprit or "(several clean-ups together)"
        else:
            outcome.detail += " [reference pipeline too]"
    return outcome
