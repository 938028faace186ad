"""The rule registry: reverse (vjp) rules, forward (jvp) rules and non-differentiable functions.

A built-in reverse rule is a plain function whose body is a single `return`; its parameters
are `(g, ans, *primal_args)` and it returns one cotangent per differentiable argument (`None`
is a zero). The returned expression doubles as a template that the reverse pass inlines, with
the rule's parameters replaced by the names of the generated code. User rules registered
with `srcgrad.adjoint` may be any callable; they are called, not inlined.

A built-in forward rule has the same shape, `(d, ans, *primal_args)`, and returns one term
per argument: term i is the contribution of argument i's tangent to the tangent of `ans`,
written with `d` standing for that tangent (linear in `d`; `None` if the argument has no
derivative). The forward pass sums the terms of the arguments that carry a tangent, so a
constant argument costs nothing. Rules that cannot be written per argument (variadic ones)
and user rules (`srcgrad.tangent`) are registered with `inline=False` and take
`(dots, ans, *args)`, `dots` holding one tangent per positional argument (`None` = zero).
"""

from __future__ import annotations

import ast
import builtins
import functools
import inspect
import textwrap
from dataclasses import dataclass, field
from typing import Any, Callable

Key = Any  # a primal callable, or an `ast` operator class such as `ast.Mult`


@dataclass
class Rule:
    """One reverse or forward rule for one primal (one arity, when a primal has several)."""

    primal: Key
    fn: Callable[..., Any]
    inline: bool = True
    reshapes: bool = True  # whether the cotangents it returns may differ in shape from `g` (declared at registration)
    _template: ast.expr | None = field(default=None, repr=False)
    _globals: dict[str, Any] | None = field(default=None, repr=False)
    _terms: list[Callable[..., Any] | None] | None = field(default=None, repr=False)
    _accepts: dict[tuple[int, tuple[str, ...]], bool] = field(default_factory=dict, repr=False)
    _plans: dict[tuple[int, tuple[str, ...]], list[tuple[str, int | str]]] = field(default_factory=dict, repr=False)

    @functools.cached_property
    def signature(self) -> inspect.Signature:
        return inspect.signature(self.fn)

    @functools.cached_property
    def defaults(self) -> tuple[tuple[str, Any], ...]:
        """(name, default) of every parameter, in order (read each time a rule is inlined)."""
        return tuple((p.name, p.default) for p in self.signature.parameters.values())

    @functools.cached_property
    def packs(self) -> bool:
        """Whether a parameter packs arguments (`*args` or `**kwargs`)."""
        return any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in self.signature.parameters.values())

    @property
    def primal_params(self) -> list[inspect.Parameter]:
        """The parameters after `(g, ans)`: the primal's own arguments."""
        return list(self.signature.parameters.values())[2:]

    def accepts(self, n_positional: int, keywords: tuple[str, ...]) -> bool:
        """Whether a primal call with these arguments binds to this rule's parameters
        (remembered per call shape: binding a signature is slow and asked per call site)."""
        shape = (n_positional, keywords)
        known = self._accepts.get(shape)
        if known is None:
            try:
                self.signature.bind(*[None] * (2 + n_positional), **{k: None for k in keywords})
            except TypeError:
                known = False
            else:
                known = True
            self._accepts[shape] = known
        return known

    def arguments(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """`self.signature.bind(*args, **kwargs).arguments`, with the parameter each argument
        goes to worked out once per call shape (binding is slow and asked for every rule applied)."""
        if self.packs:
            return dict(self.signature.bind(*args, **kwargs).arguments)  # packs arguments: bind each time
        shape = (len(args), tuple(kwargs))
        plan = self._plans.get(shape)
        if plan is None:
            marks = [object() for _ in args]
            named = {k: object() for k in kwargs}
            bound = self.signature.bind(*marks, **named)
            where: dict[int, int | str] = {id(m): i for i, m in enumerate(marks)}
            where.update({id(m): k for k, m in named.items()})
            plan = self._plans[shape] = [(name, where[id(mark)]) for name, mark in bound.arguments.items()]
        return {name: args[source] if type(source) is int else kwargs[source] for name, source in plan}

    def template(self) -> tuple[ast.expr, dict[str, Any]]:
        """The returned expression and the globals it reads (for inlining)."""
        if self._template is None:
            self._template, self._globals = _parse_template(self.fn)
        assert self._globals is not None
        return self._template, self._globals

    def terms(self) -> list[Callable[..., Any] | None]:
        """A forward rule's terms as separate functions of `(d, ans, *args)`, so each is
        evaluated only with its own argument's tangent (for calls resolved at run time)."""
        if self._terms is None:
            template, namespace = self.template()
            if not isinstance(template, ast.Tuple):
                raise TypeError(f"forward rule {self.fn.__name__} must return a tuple of terms")
            definition = ast.parse(textwrap.dedent(inspect.getsource(self.fn))).body[0]
            assert isinstance(definition, ast.FunctionDef)
            terms: list[Callable[..., Any] | None] = []
            for element in template.elts:
                if isinstance(element, ast.Constant) and element.value is None:
                    terms.append(None)
                    continue
                lam = ast.Expression(ast.Lambda(definition.args, element))
                code = compile(ast.fix_missing_locations(lam), f"<term of {self.fn.__name__}>", "eval")
                terms.append(eval(code, {**namespace, "__builtins__": builtins}))
            self._terms = terms
        return self._terms


def _parse_template(fn: Callable[..., Any]) -> tuple[ast.expr, dict[str, Any]]:
    source = textwrap.dedent(inspect.getsource(fn))
    definition = ast.parse(source).body[0]
    assert isinstance(definition, ast.FunctionDef), fn
    body = [s for s in definition.body if not _is_docstring(s)]
    if len(body) != 1 or not isinstance(body[0], ast.Return) or body[0].value is None:
        raise TypeError(f"rule {fn.__name__} must have a single `return` as its body")
    expr = body[0].value
    params = {a.arg for a in definition.args.args + definition.args.kwonlyargs}
    free = {
        n.id for n in ast.walk(expr) if isinstance(n, ast.Name) and n.id not in params
    }
    namespace = {}
    for name in free:
        if name in fn.__globals__:
            namespace[name] = fn.__globals__[name]
        elif hasattr(builtins, name):
            namespace[name] = getattr(builtins, name)
        else:
            raise TypeError(f"rule {fn.__name__} reads unknown name {name!r}")
    _TEMPLATE_HELPERS.update(value for value in namespace.values() if callable(value))
    return expr, namespace


def _is_docstring(stmt: ast.stmt) -> bool:
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and isinstance(
        stmt.value.value, str
    )


_VJP_RULES: dict[Key, list[Rule]] = {}
_JVP_RULES: dict[Key, list[Rule]] = {}
_NONDIFF: dict[Key, str] = {}
_COMPLEX: set[Key] = set()
_TEMPLATE_HELPERS: set[Any] = set()  # what inlined templates call: pure by the templates' contract
_INTERNAL: set[Key] = set()  # srcgrad's own functions: only generated code and rules call them
_VERSION = [0]  # counts registrations: a derivative built under another count is rebuilt


def is_template_helper(value: Any) -> bool:
    """Whether `value` is called by an inlined rule template. A template is a pure expression
    (one `return`, no effects), so the helpers it calls are pure: an unread call may be dropped."""
    try:
        return value in _TEMPLATE_HELPERS
    except TypeError:  # unhashable: not a function
        return False


def version() -> int:
    """How many registrations the registry has seen (derivatives record it, see depends.py)."""
    return _VERSION[0]


def _changed() -> None:
    _VERSION[0] += 1


def vjp_rule(*primals: Key, reshapes: bool = True) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register the decorated template function as the reverse rule of each of `primals`.

    A primal may get several rules of different arities (e.g. `math.log(x)` and
    `math.log(x, base)`); the first one whose signature binds the call is used.
    `reshapes=True` (the safe default) says the rule may reshape or split `g`, so it needs a real
    cotangent: the reverse pass skips it while the adjoint may still be the scalar zero of its
    initialisation. The elementwise families (operators, NumPy's functions,
    `math`) declare `reshapes=False` as their modules' default.
    """

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        for primal in primals:
            _VJP_RULES.setdefault(_key(primal), []).append(Rule(primal, fn, reshapes=reshapes))
        _changed()
        return fn

    return register


def jvp_rule(*primals: Key, inline: bool = True) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register the decorated function as the forward rule of each of `primals`: a template
    of per-argument terms, or with `inline=False` a function of `(dots, ans, *args)`."""

    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        for primal in primals:
            _JVP_RULES.setdefault(_key(primal), []).append(Rule(primal, fn, inline=inline))
        _changed()
        return fn

    return register


def register_tangent(primal: Key, rule: Callable[..., Any]) -> None:
    """Register a user rule `rule(dots, ans, *args) -> tangent of ans`, called rather than
    inlined; it replaces every earlier forward rule of `primal`."""
    _JVP_RULES[_key(primal)] = [Rule(primal, rule, inline=False)]
    _NONDIFF.pop(_key(primal), None)
    _changed()


def register_adjoint(primal: Key, rule: Callable[..., Any]) -> None:
    """Register a user rule `rule(g, ans, *args) -> tuple`, called rather than inlined.

    It replaces every earlier rule of `primal`, so a user can override a built-in.
    """
    _VJP_RULES[_key(primal)] = [Rule(primal, rule, inline=False)]
    _NONDIFF.pop(_key(primal), None)
    _changed()


def nondifferentiable(*primals: Key, reason: str = "") -> None:
    """Declare primals whose outputs carry no derivative (comparisons, shapes, floor...)."""
    for primal in primals:
        _NONDIFF[_key(primal)] = reason
    _changed()


def complex_safe(*primals: Key) -> None:
    """Declare primals whose reverse and forward rules hold for complex arguments too (holomorphic
    formulas, unconjugated, or rules written for complex values; see docs/how-it-works.md)."""
    _COMPLEX.update(_key(primal) for primal in primals)
    _changed()


def internal(*primals: Key) -> None:
    """Declare srcgrad's own functions that generated code and rule templates call (runtime and
    rule helpers): they have rules so derivatives can be differentiated again, but no user
    calls them, so the reference (`srcgrad reference`) does not list them."""
    _INTERNAL.update(_key(primal) for primal in primals)


def is_internal(primal: Key) -> bool:
    return _key(primal) in _INTERNAL


def is_complex_safe(primal: Key) -> bool:
    return _key(primal) in _COMPLEX


def find_vjp_rule(primal: Key, n_positional: int, keywords: tuple[str, ...]) -> Rule | None:
    """The reverse rule for a call of `primal` with these arguments, or None if there is none."""
    return _find(_VJP_RULES, primal, n_positional, keywords)


def find_jvp_rule(primal: Key, n_positional: int, keywords: tuple[str, ...]) -> Rule | None:
    """The forward rule for a call of `primal` with these arguments, or None if there is none."""
    return _find(_JVP_RULES, primal, n_positional, keywords)


def _find(table: dict[Key, list[Rule]], primal: Key, n_positional: int, keywords: tuple[str, ...]) -> Rule | None:
    for rule in table.get(_key(primal), ()):
        if rule.accepts(n_positional, keywords):
            return rule
    return None


def has_vjp_rule(primal: Key) -> bool:
    return _key(primal) in _VJP_RULES


def has_jvp_rule(primal: Key) -> bool:
    return _key(primal) in _JVP_RULES


def is_nondifferentiable(primal: Key) -> bool:
    return _key(primal) in _NONDIFF


def all_rules() -> dict[Key, list[Rule]]:
    """Every registered reverse rule, for documentation and tests."""
    return dict(_VJP_RULES)


def all_jvp_rules() -> dict[Key, list[Rule]]:
    """Every registered forward rule, for documentation and tests."""
    return dict(_JVP_RULES)


def all_nondifferentiable() -> dict[Key, str]:
    return dict(_NONDIFF)


def _key(primal: Key) -> Key:
    # Bound methods of the same object compare equal but are distinct objects; unwrap
    # `functools.wraps` style wrappers so decorated NumPy functions hit their rule.
    try:
        hash(primal)
    except TypeError:
        return id(primal)
    return primal
