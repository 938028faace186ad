"""Vector-Jacobian products with `srcgrad.vjp`, including a data-dependent `while` loop.

For a function with a vector output y = f(x), `out, pullback = srcgrad.vjp(f, x)` runs f
once and `pullback(v)` gives vᵀ J (J = dy/dx) for any vector v, without forming J. This is
what PyTorch's `y.backward(v)` computes.
"""

import numpy as np

import srcgrad


def doubled(x):
    """Double x until its norm passes 1000 (how many times depends on the data)."""
    while np.linalg.norm(x) < 1000:
        x = x * 2
    return x


def squash(x):
    return np.tanh(x) * x


def main(seed=0):
    """Print both examples; return (x, y, v, vᵀJ, expected) of the loop example."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(3)
    y, pullback = srcgrad.vjp(doubled, x)
    v = np.array([0.1, 1.0, 0.0001])
    vjp = pullback(v)
    doublings = 0
    while np.linalg.norm(x * 2.0**doublings) < 1000:
        doublings += 1
    expected = v * 2.0**doublings  # y = 2^k x, so J = 2^k I with k the loop's trip count
    print("y = x doubled until ||y|| >= 1000")
    print(f"x     = {x}")
    print(f"y     = {y}   ({doublings} doublings)")
    print(f"v     = {v}")
    print(f"vᵀJ   = {vjp}")
    print(f"v 2^k = {expected}")
    print()
    z = np.linspace(-1.0, 1.0, 4)
    out, back = srcgrad.vjp(squash, z)
    w = np.ones(4)
    print("y = tanh(x) * x, elementwise, so vᵀJ with v = 1 is the derivative at each point")
    print(f"vᵀJ            = {back(w)}")
    print(f"tanh' x + tanh = {(1 - np.tanh(z) ** 2) * z + np.tanh(z)}")
    return x, y, v, vjp, expected


if __name__ == "__main__":
    main()
