"""A small MLP classifier for two interleaved spirals, trained with srcgrad.optim.adam.

The parameters are a dict of arrays; `srcgrad.grad(loss)` returns gradients with the same
structure. The first layer is frozen (a fixed random feature map) with a mask, so the
optimizer leaves it alone; the other two layers learn. Prints loss and accuracy as it goes.

    python examples/mlp_spirals.py              # full run, about a second
    python examples/mlp_spirals.py --steps 50   # quicker
"""

import argparse

import numpy as np

import srcgrad
from srcgrad import optim


def two_spirals(n_per_class, turns=1.75, noise=0.3, seed=0):
    """Points on two interleaved spirals (class 0 and class 1), shape (2n, 2), and labels."""
    rng = np.random.default_rng(seed)
    end = 2 * np.pi * turns
    t = np.sqrt(rng.uniform(0.02, 1.0, n_per_class)) * end
    arm = np.stack([t * np.cos(t), t * np.sin(t)], axis=1) / end
    x = np.concatenate([arm, -arm]) + noise / end * rng.standard_normal((2 * n_per_class, 2))
    y = np.concatenate([np.zeros(n_per_class, dtype=int), np.ones(n_per_class, dtype=int)])
    return x, y


def init_params(hidden, seed=0):
    rng = np.random.default_rng(seed)
    return {
        "layer1": {"w": rng.normal(0, 2.0, (2, hidden)), "b": rng.uniform(-2, 2, hidden)},
        "layer2": {"w": rng.normal(0, 1 / np.sqrt(hidden), (hidden, hidden)), "b": np.zeros(hidden)},
        "out": {"w": rng.normal(0, 1 / np.sqrt(hidden), (hidden, 2)), "b": np.zeros(2)},
    }


def logits(params, x):
    h = np.tanh(x @ params["layer1"]["w"] + params["layer1"]["b"])
    h = np.tanh(h @ params["layer2"]["w"] + params["layer2"]["b"])
    return h @ params["out"]["w"] + params["out"]["b"]


def loss(params, x, onehot):
    """Mean softmax cross-entropy."""
    z = logits(params, x)
    z = z - np.max(z, axis=1, keepdims=True)
    log_probs = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return -np.mean(np.sum(onehot * log_probs, axis=1))


def accuracy(params, x, y):
    return float(np.mean(np.argmax(logits(params, x), axis=1) == y))


def main(steps=400, n_per_class=200, hidden=16, report_every=50, lr=0.02):
    """Train and report; returns the first and last (loss, train accuracy, test accuracy)
    and the parameters."""
    x, y = two_spirals(n_per_class)
    x_test, y_test = two_spirals(n_per_class, seed=1)
    onehot = np.eye(2)[y]
    params = init_params(hidden)
    first_layer = params["layer1"]
    opt = optim.adam(lr=optim.cosine_decay(lr, steps, final=lr / 10), mask={"layer1": False})
    state = opt.init(params)
    loss_and_grad = srcgrad.value_and_grad(loss)
    print(f"two spirals: {len(x)} training points; MLP 2-{hidden}-{hidden}-2, layer1 frozen, Adam")
    history = []
    for step in range(steps + 1):
        value, grads = loss_and_grad(params, x, onehot)
        if step % report_every == 0 or step == steps:
            history.append((float(value), accuracy(params, x, y), accuracy(params, x_test, y_test)))
            print("step {:4d}  loss {:.4f}  accuracy {:.3f}  test accuracy {:.3f}".format(step, *history[-1]))
        if step < steps:
            params, state = opt.update(params, grads, state)
    assert params["layer1"]["w"] is first_layer["w"]  # frozen: the very same array
    return history[0], history[-1], params


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=400)
    main(steps=parser.parse_args().steps)
