"""y = sum(x**2) has gradient 2x: srcgrad's answer, the closed form, and the generated code."""

import numpy as np

import srcgrad


def y(x):
    return np.sum(x**2)


def main(n=5):
    """Print and return the gradient at x = [0, 1, ..., n-1]."""
    x = np.arange(float(n))
    dy = srcgrad.grad(y)
    gradient = dy(x)
    print(f"x        = {x}")
    print(f"y(x)     = {y(x)}")
    print(f"dy/dx    = {gradient}")
    print(f"2x       = {2 * x}")
    print(f"equal: {np.array_equal(gradient, 2 * x)}")
    print()
    print("Generated code (srcgrad.source(dy)):")
    print(srcgrad.source(dy))
    return x, gradient


if __name__ == "__main__":
    main()
