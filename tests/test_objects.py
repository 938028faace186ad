"""Objects as parameters: NamedTuples, dataclasses and registered classes are pytrees; their
fields and methods are differentiated; other objects are refused. Truth: finite differences."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import pytest

import srcgrad
from srcgrad.runtime.tree import leaves, map_leaves
from srcgrad.tools.testing import directional_fd

X = np.array([0.5, -1.0, 2.0])
OPTIMIZE = [True, False]


class Pair(NamedTuple):
    w: np.ndarray
    b: float


@dataclass
class Params:
    w: np.ndarray
    b: float
    extra: dict


@dataclass(frozen=True)
class Frozen:
    w: np.ndarray
    b: float

    def pred(self, x):
        return np.tanh(self.w * x) + self.b

    def __call__(self, x):
        return self.pred(x) * 2.0


class Layer(NamedTuple):
    w: np.ndarray
    b: np.ndarray


@dataclass
class Net:
    layers: list
    scale: float = 1.0

    def __call__(self, x):
        for layer in self.layers:
            x = np.tanh(layer.w @ x + layer.b)
        return self.scale * np.sum(x)


class Affine:
    """A plain class made a pytree with `register_pytree`."""

    def __init__(self, w, b):
        self.w, self.b = w, b

    def apply(self, x):
        return self.w * x + self.b


srcgrad.register_pytree(Affine, lambda a: ((a.w, a.b), None), lambda aux, children: Affine(*children))


class Plain:
    def __init__(self, w):
        self.w = w

    def pred(self, x):
        return np.sum(self.w * x)


def fields_loss(p, x):
    return np.sum(np.sin(p.w) * x) + p.b**3


def nested_loss(p, x):
    return np.sum(p.w * x) * p.extra["s"] + np.sum(p.extra["v"][0] ** 2) + p.b


def method_loss(m, x):
    return np.sum(m.pred(x) ** 2) + np.sum(m(x))


def layers_loss(net, x):
    s = 0.0
    for i in range(len(net.layers)):
        s = s + np.sum(net.layers[i].w * x[i]) + np.sum(net.layers[i].b)
    return s * net.scale


def net_loss(net, x):
    return net(x) ** 2


def affine_loss(a, x):
    return np.sum(a.apply(x) ** 2) + np.sum(a.w)


def via_class(m, x):
    return np.sum(Frozen.pred(m, x) ** 2)


def plain_loss(model, x):
    return model.pred(x) ** 2


def _net(seed=0):
    rng = np.random.default_rng(seed)
    return Net([Layer(rng.standard_normal((3, 3)), rng.standard_normal(3)) for _ in range(2)], 1.5)


CASES = [
    (fields_loss, lambda: Pair(np.array([0.3, -0.2, 1.1]), 2.0)),
    (fields_loss, lambda: Frozen(np.array([0.3, -0.2, 1.1]), 2.0)),
    (nested_loss, lambda: Params(np.array([0.3, -0.2, 1.1]), 0.7, {"s": 1.3, "v": [np.array([1.0, -2.0])]})),
    (method_loss, lambda: Frozen(np.array([0.3, -0.2, 1.1]), 0.4)),
    (layers_loss, _net),
    (net_loss, _net),
    (affine_loss, lambda: Affine(np.array([0.3, -0.2, 1.1]), np.array([1.0, 0.5, -0.5]))),
]
IDS = [f"{f.__name__}-{i}" for i, (f, _) in enumerate(CASES)]


@pytest.mark.parametrize("optimize", OPTIMIZE)
@pytest.mark.parametrize(("f", "make"), CASES, ids=IDS)
def test_reverse_and_forward_match_finite_differences(f, make, optimize):
    params = make()
    srcgrad.check_grad(f, params, X, optimize=optimize)
    srcgrad.check_jvp(f, params, X, optimize=optimize)


@pytest.mark.parametrize(("f", "make"), CASES, ids=IDS)
def test_gradient_has_the_parameters_type_and_each_partial(f, make):
    params = make()
    got = srcgrad.grad(f)(params, X)
    assert type(got) is type(params)
    want = map_leaves(np.zeros_like, params)  # one finite difference per entry, leaf by leaf
    flat = leaves(params)
    for index, leaf in enumerate(flat):
        for entry in range(np.size(leaf)):
            count = iter(range(len(flat)))

            def unit(x, index=index, entry=entry, count=count):
                e = np.zeros(np.shape(x))
                if next(count) == index:
                    e.flat[entry] = 1.0
                return e if np.ndim(x) else float(e)

            direction = map_leaves(unit, params)
            np.asarray(leaves(want)[index]).flat[entry] = directional_fd(f, (params, X), [0], [direction])
    for got_leaf, want_leaf in zip(leaves(got), leaves(want)):
        np.testing.assert_allclose(got_leaf, want_leaf, rtol=1e-5, atol=1e-6)


def test_floats_in_fields_give_floats():
    got = srcgrad.grad(fields_loss)(Pair(np.array([0.3, -0.2, 1.1]), 2.0), X)
    assert type(got.b) is float and got.b == pytest.approx(3 * 2.0**2)  # closed form: d b^3 = 3 b^2
    np.testing.assert_allclose(got.w, np.cos([0.3, -0.2, 1.1]) * X)


@pytest.mark.parametrize("optimize", OPTIMIZE)
def test_second_order_through_fields_and_a_method_called_by_its_class(optimize):
    m = Frozen(np.array([0.3, -0.2, 1.1]), 0.4)
    v = Frozen(np.array([1.0, 0.5, -2.0]), 0.3)
    gradient = srcgrad.grad(via_class, optimize=optimize)
    want = directional_fd(lambda p, x: gradient(p, x), (m, X), [0], [v])
    got = srcgrad.hvp(via_class, optimize=optimize)(m, X, v)
    for got_leaf, want_leaf in zip(leaves(got), leaves(want)):
        np.testing.assert_allclose(got_leaf, want_leaf, rtol=1e-5, atol=1e-6)
    outer = srcgrad.grad(lambda p, x: np.sum(gradient(p, x).w), optimize=optimize)
    got = outer(m, X)
    for i in range(3):
        e = Frozen(np.eye(3)[i], 0.0)
        assert got.w[i] == pytest.approx(directional_fd(lambda p, x: np.sum(gradient(p, x).w), (m, X), [0], [e]), rel=1e-5, abs=1e-6)


def test_vjp_of_a_vector_output():
    a = Affine(np.array([0.3, -0.2, 1.1]), np.array([1.0, 0.5, -0.5]))
    out, pullback = srcgrad.vjp(lambda p, x: p.apply(x), a, X)
    bar = pullback(np.ones(3))
    assert type(bar) is Affine
    np.testing.assert_allclose(bar.w, X)  # closed form: d(w x + b)/dw = x
    np.testing.assert_allclose(bar.b, np.ones(3))


@pytest.mark.parametrize("make", [_net, lambda: Pair(np.array([0.3, -0.2, 1.1]), 2.0)])
def test_optimizers_keep_the_type_and_lower_the_loss(make):
    params = make()
    loss = net_loss if isinstance(params, Net) else fields_loss
    for opt in (srcgrad.optim.sgd(0.01, momentum=0.9), srcgrad.optim.adam(0.01)):
        p, state = params, opt.init(params)
        for _ in range(5):
            p, state = opt.update(p, srcgrad.grad(loss)(p, X), state)
        assert type(p) is type(params)
        assert loss(p, X) < loss(params, X)


def test_a_plain_object_is_refused_with_the_way_to_pass_it():
    with pytest.raises(srcgrad.UsageError, match="NamedTuple, a dataclass or a dict.*register_pytree"):
        srcgrad.grad(plain_loss)(Plain(np.ones(3)), X)
    with pytest.raises(srcgrad.UsageError, match="'model' of plain_loss is a Plain object"):
        srcgrad.jvp(plain_loss, (Plain(np.ones(3)), X), (Plain(np.ones(3)),))


def test_the_advice_for_a_plain_object_works():
    srcgrad.register_pytree(Plain, lambda p: ((p.w,), None), lambda aux, children: Plain(*children))
    got = srcgrad.grad(plain_loss)(Plain(np.array([0.3, -0.2, 1.1])), X)
    np.testing.assert_allclose(got.w, 2 * np.sum(np.array([0.3, -0.2, 1.1]) * X) * X)  # closed form


def method_twice(m, x):
    return np.sum(m.pred(x))


def test_second_order_through_a_method_call_is_refused_with_working_advice():
    m = Frozen(np.array([0.3, -0.2, 1.1]), 0.4)
    with pytest.raises(srcgrad.NotDifferentiableError, match=r"test_objects.py:\d+:\d+: .*`ClassName.pred\(m, ...\)`") as error:
        srcgrad.hvp(method_twice)(m, X, m)
    assert "^" in str(error.value)


class WithProperty(NamedTuple):
    w: np.ndarray

    @property
    def doubled(self):
        return 2 * self.w


def reads_property(p, x):
    return np.sum(p.doubled * x)


def test_a_property_is_refused_not_zero():
    with pytest.raises(srcgrad.NotDifferentiableError, match="property.*make it a method"):
        srcgrad.grad(reads_property)(WithProperty(np.ones(3)), X)


@dataclass
class Summed:
    w: np.ndarray

    def sum(self):
        return np.sum(self.w * 3.0)

    def total(self):
        return np.sum(self.w * 3.0)


def calls_sum(p):
    return p.sum() ** 2


def calls_total(p):
    return p.total() ** 2


def test_a_method_named_like_an_array_method_is_refused_and_renaming_works():
    p = Summed(np.array([0.3, -0.2, 1.1]))
    with pytest.raises(srcgrad.NotDifferentiableError, match=r"\.sum\(\).*rename"):
        srcgrad.grad(calls_sum)(p)
    np.testing.assert_allclose(srcgrad.grad(calls_total)(p).w, 2 * np.sum(p.w * 3.0) * 3.0)  # closed form
