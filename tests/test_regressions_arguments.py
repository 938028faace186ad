"""Arguments srcgrad took in silence: complex ones (the convention would be a guess) and
private attributes of a method's class (`self.__w` is `self._Model__w` to Python)."""

import numpy as np
import pytest

import srcgrad


def power(z):
    return np.sum(np.abs(z) ** 2)


@pytest.mark.parametrize("call", [
    lambda: srcgrad.grad(power)(np.array([1 + 2j, 0.5 - 1j])),
    lambda: srcgrad.grad(power)(1 + 2j),
    lambda: srcgrad.vjp(power, np.array([1 + 2j]))[1](1.0),
    lambda: srcgrad.jvp(power, (np.array([1 + 2j]),), (np.array([1.0 + 0j]),)),
])
def test_a_complex_argument_is_refused_with_what_to_write(call):
    with pytest.raises(srcgrad.UsageError, match=r"complex.*real and imaginary parts"):
        call()


def test_complex_values_inside_stay_differentiated():
    def f(x, y):
        return np.sum(np.abs(x + 1j * y) ** 2)
    gx, gy = srcgrad.grad(f, wrt=(0, 1))(np.array([1.0, 0.5]), np.array([2.0, -1.0]))
    np.testing.assert_allclose(gx, 2 * np.array([1.0, 0.5]))  # |x + iy|^2 = x^2 + y^2
    np.testing.assert_allclose(gy, 2 * np.array([2.0, -1.0]))


class Scaled:
    def __init__(self, w):
        self.__w = w

    def pred(self, x):
        return self.__w * x ** 2


srcgrad.register_pytree(Scaled, lambda m: ([m._Scaled__w], None), lambda aux, children: Scaled(children[0]))


def loss(model, x):
    return model.pred(x) ** 2


def test_a_private_attribute_of_a_method_is_read_under_its_mangled_name():
    got = srcgrad.grad(loss)(Scaled(2.0), 3.0)
    assert got._Scaled__w == pytest.approx(2 * 2.0 * 3.0 ** 4)  # d/dw (w x^2)^2
    assert srcgrad.grad(loss, wrt=1)(Scaled(2.0), 3.0) == pytest.approx(4 * 2.0 ** 2 * 3.0 ** 3)
