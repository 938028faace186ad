"""Higher-order derivatives and forward mode: grad of grad, Hessians, Hessian-vector
products, Jacobians and Jacobian-vector products, and Newton's method built from them."""

import math

import numpy as np

import srcgrad


def f(x):
    return x**3 * math.sin(x)


def rosenbrock(p):
    x, y = p[0], p[1]
    return (1 - x) ** 2 + 100 * (y - x * x) ** 2


def mix(x):
    """A map from R³ to R³ (a vector output, for Jacobians): sin(x) * x[0] + x**2."""
    return np.sin(x) * x[0] + x**2


def derivatives_of_f(x=1.0):
    """f, f', f'' and f''' by nesting srcgrad.grad, next to their closed forms."""
    df = srcgrad.grad(f)
    d2f = srcgrad.grad(df)
    d3f = srcgrad.grad(d2f)
    s, c = math.sin(x), math.cos(x)
    exact = [
        x**3 * s,
        3 * x**2 * s + x**3 * c,
        6 * x * s + 6 * x**2 * c - x**3 * s,
        6 * s + 18 * x * c - 9 * x**2 * s - x**3 * c,
    ]
    got = [f(x), df(x), d2f(x), d3f(x)]
    print("f(x) = x³ sin x at x = 1:")
    for order, (g, e) in enumerate(zip(got, exact)):
        print(f"  order {order}: srcgrad {g: .12f}   closed form {e: .12f}")
    return got, exact


def newton(p, steps=8):
    """Newton's method on the Rosenbrock function: p <- p - H⁻¹ g."""
    gradient, hessian = srcgrad.grad(rosenbrock), srcgrad.hessian(rosenbrock)
    print("Newton's method on the Rosenbrock function, from", p)
    for step in range(steps):
        p = p - np.linalg.solve(hessian(p), gradient(p))
        print(f"  step {step + 1}: p = {np.round(p, 10)}, f(p) = {rosenbrock(p):.3e}")
    return p


def products(p, v):
    """A Hessian-vector product without the Hessian, and forward mode (Jacobian-vector
    products, and the Jacobian of a vector function)."""
    hv = srcgrad.hvp(rosenbrock)(p, v)
    print(f"H v      = {hv}   (hvp: Hessian times v, one forward sweep over the gradient)")
    print(f"H @ v    = {srcgrad.hessian(rosenbrock)(p) @ v}   (the whole Hessian, then the product)")
    x, u = np.array([0.3, -1.0, 2.0]), np.array([1.0, 0.0, -1.0])
    out, tangent = srcgrad.jvp(mix, (x,), (u,))
    jacobian = srcgrad.jacobian(mix)(x)
    print(f"J u      = {tangent}   (jvp: forward mode, the Jacobian times u)")
    print(f"J @ u    = {jacobian @ u}   (the whole Jacobian, then the product)")
    print("Jacobian of sin(x) * x[0] + x**2:")
    print(jacobian)
    return hv, tangent, jacobian


def main(newton_steps=8):
    """Run the three demonstrations; return their results."""
    got, exact = derivatives_of_f()
    print()
    p = newton(np.array([-1.2, 1.0]), steps=newton_steps)
    print()
    hv, tangent, jacobian = products(np.array([1.5, 0.5]), np.array([1.0, -2.0]))
    return got, exact, p, hv, tangent, jacobian


if __name__ == "__main__":
    main()
