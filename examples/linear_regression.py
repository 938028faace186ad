"""Linear regression trained with minibatch SGD; compared with the least-squares solution.

The model is y ≈ X w + b. Each step takes the gradient of the mean squared error on a
minibatch with `srcgrad.grad` (a dict of parameters in, a dict of gradients out) and
applies `srcgrad.optim.sgd` with momentum and a cosine learning-rate schedule.
"""

import numpy as np

import srcgrad
from srcgrad import optim


def mse(params, x, y):
    residual = x @ params["w"] + params["b"] - y
    return np.mean(residual**2)


def make_data(n=500, features=3, noise=0.1, seed=0):
    rng = np.random.default_rng(seed)
    true_w = rng.uniform(-2.0, 2.0, features)
    true_b = 0.7
    x = rng.standard_normal((n, features))
    y = x @ true_w + true_b + noise * rng.standard_normal(n)
    return x, y, true_w, true_b


def main(epochs=30, batch=32, lr=0.05, seed=0):
    """Train; print the loss per few epochs; return the learned and the least-squares parameters."""
    x, y, true_w, true_b = make_data(seed=seed)
    rng = np.random.default_rng(seed + 1)
    params = {"w": np.zeros(x.shape[1]), "b": 0.0}
    steps = epochs * -(-len(x) // batch)
    opt = optim.sgd(lr=optim.cosine_decay(lr, steps), momentum=0.9)  # a schedule: lr(step)
    state = opt.init(params)
    grad = srcgrad.grad(mse)
    for epoch in range(epochs):
        order = rng.permutation(len(x))
        for start in range(0, len(x), batch):
            rows = order[start:start + batch]
            params, state = opt.update(params, grad(params, x[rows], y[rows]), state)
        if epoch % 5 == 0 or epoch == epochs - 1:
            print(f"epoch {epoch:3d}  mse {mse(params, x, y):.5f}")
    solution = np.linalg.lstsq(np.c_[x, np.ones(len(x))], y, rcond=None)[0]
    print(f"learned        w = {np.round(params['w'], 3)}, b = {params['b']:.3f}")
    print(f"least squares  w = {np.round(solution[:-1], 3)}, b = {solution[-1]:.3f}")
    print(f"true           w = {np.round(true_w, 3)}, b = {true_b:.3f}")
    return params, solution


if __name__ == "__main__":
    main()
