"""srcgrad.optim against closed forms, a reference loop written out by hand, and training."""

from collections import namedtuple

import numpy as np
import pytest

import srcgrad
from srcgrad import optim


def run(opt, params, grad_fn, steps):
    state = opt.init(params)
    for _ in range(steps):
        params, state = opt.update(params, grad_fn(params), state)
    return params, state


def constant(g):
    return lambda params: g


def test_plain_sgd_step_is_p_minus_lr_g():
    p = np.array([1.0, -2.0])
    g = np.array([0.5, 4.0])
    new, state = optim.sgd(lr=0.1).update(p, g, optim.sgd(lr=0.1).init(p))
    np.testing.assert_allclose(new, [0.95, -2.4])
    assert state.step == 1
    np.testing.assert_array_equal(p, [1.0, -2.0])  # not modified in place


@pytest.mark.parametrize("nesterov", [False, True])
def test_momentum_with_constant_gradient_matches_closed_form(nesterov):
    lr, mu, g, k = 0.1, 0.9, 2.0, 7
    p, _ = run(optim.sgd(lr=lr, momentum=mu, nesterov=nesterov), 5.0, constant(g), k)
    # velocity after j steps: b_j = g (1 - mu^j) / (1 - mu); Nesterov steps along g + mu b_j
    b = [g * (1 - mu**j) / (1 - mu) for j in range(1, k + 1)]
    steps = [g + mu * bj for bj in b] if nesterov else b
    assert p == pytest.approx(5.0 - lr * sum(steps), rel=1e-12)


def test_sgd_weight_decay_shrinks_geometrically_without_gradient():
    p, _ = run(optim.sgd(lr=0.1, weight_decay=0.5), np.array([2.0, -4.0]), constant(np.zeros(2)), 10)
    np.testing.assert_allclose(p, np.array([2.0, -4.0]) * (1 - 0.05) ** 10)


def test_adam_with_constant_gradient_moves_lr_per_step():
    # m and v are bias-corrected exactly to g and g**2, so each step is lr * g / (|g| + eps)
    g = np.array([3.0, -0.25, 1e3])
    p, state = run(optim.adam(lr=0.01), np.zeros(3), constant(g), 20)
    np.testing.assert_allclose(p, -20 * 0.01 * np.sign(g), rtol=1e-6)
    assert state.step == 20


def test_adamw_without_gradient_only_decays():
    p, _ = run(optim.adamw(lr=0.1, weight_decay=0.2), np.array([1.0, -3.0]), constant(np.zeros(2)), 5)
    np.testing.assert_allclose(p, np.array([1.0, -3.0]) * (1 - 0.02) ** 5)


def reference_adam(p, grads, lr, b1, b2, eps, wd, decoupled):
    """Adam and AdamW on one float, written out as in the papers / torch.optim docs."""
    m = v = 0.0
    for t, g in enumerate(grads, start=1):
        if decoupled:
            p = p - lr * wd * p
        else:
            g = g + wd * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g**2
        p = p - lr * (m / (1 - b1**t)) / ((v / (1 - b2**t)) ** 0.5 + eps)
    return p


@pytest.mark.parametrize("make, decoupled", [(optim.adam, False), (optim.adamw, True)])
def test_adam_and_adamw_match_reference_loop(make, decoupled):
    rng = np.random.default_rng(1)
    grads = rng.standard_normal((6, 3))
    opt = make(lr=0.05, b1=0.8, b2=0.95, eps=1e-6, weight_decay=0.3)
    params, state = np.array([0.5, -1.0, 2.0]), None
    state = opt.init(params)
    for g in grads:
        params, state = opt.update(params, g, state)
    want = [reference_adam(p0, grads[:, i], 0.05, 0.8, 0.95, 1e-6, 0.3, decoupled) for i, p0 in enumerate([0.5, -1.0, 2.0])]
    np.testing.assert_allclose(params, want, rtol=1e-12)


Layer = namedtuple("Layer", "w b")


def test_pytree_structure_is_kept():
    params = {"layers": [Layer(np.ones((2, 2)), np.zeros(2))], "scale": 1.5, "pair": (np.ones(1), 2.0)}
    grads = {"layers": [Layer(np.full((2, 2), 2.0), np.ones(2))], "scale": 1.0, "pair": (np.ones(1), -1.0)}
    for opt in (optim.sgd(0.1, momentum=0.9), optim.adam(0.1), optim.adamw(0.1)):
        new, state = opt.update(params, grads, opt.init(params))
        assert isinstance(new["layers"][0], Layer) and isinstance(new["pair"], tuple)
        assert new["layers"][0].w.shape == (2, 2)
        assert new["scale"] < 1.5 and new["pair"][1] > 2.0


def test_mask_freezes_leaves_and_accepts_prefixes():
    params = {"frozen": {"w": np.ones(2), "b": 1.0}, "train": {"w": np.ones(2), "b": 1.0}}
    grads = {"frozen": {"w": np.ones(2), "b": 1.0}, "train": {"w": np.ones(2), "b": 1.0}}
    for opt in (optim.sgd(0.1, momentum=0.5, weight_decay=0.1, mask={"frozen": False}),
                optim.adamw(0.1, mask={"frozen": False, "train": {"w": True, "b": False}})):
        new, state = run(opt, params, constant(grads), 3)
        assert new["frozen"]["w"] is params["frozen"]["w"] and new["frozen"]["b"] == 1.0
        assert np.all(new["train"]["w"] < 1.0)
    assert new["train"]["b"] == 1.0
    np.testing.assert_array_equal(state.m["frozen"]["w"], 0.0)
    with pytest.raises(ValueError, match="mask"):
        optim.sgd(0.1, mask={"nope": False}).update(params, grads, optim.sgd(0.1).init(params))
    with pytest.raises(ValueError, match="nesterov"):
        optim.sgd(0.1, nesterov=True)


def test_schedule_is_called_with_the_step_count():
    seen = []

    def lr(step):
        seen.append(step)
        return 0.1 / (1 + step)

    p, _ = run(optim.sgd(lr=lr), 0.0, constant(1.0), 4)
    assert seen == [0, 1, 2, 3]
    assert p == pytest.approx(-0.1 * (1 + 1 / 2 + 1 / 3 + 1 / 4))


def test_schedule_helpers():
    cos = optim.cosine_decay(1.0, 10, final=0.1)
    assert cos(0) == pytest.approx(1.0) and cos(5) == pytest.approx(0.55) and cos(10) == cos(50) == pytest.approx(0.1)
    assert optim.exponential_decay(2.0, 0.5, every=10)(20) == pytest.approx(0.5)
    ramp = optim.warmup(cos, 4)
    assert [ramp(s) for s in range(3)] == pytest.approx([0.25, 0.5 * cos(1), 0.75 * cos(2)])


def least_squares(params, x, y):
    return np.mean((x @ params["w"] + params["b"] - y) ** 2)


def test_training_with_srcgrad_gradients_reaches_least_squares_solution():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((40, 3))
    y = x @ np.array([1.0, -2.0, 0.5]) + 0.3 + 0.01 * rng.standard_normal(40)
    solution = np.linalg.lstsq(np.c_[x, np.ones(40)], y, rcond=None)[0]
    grad = srcgrad.grad(least_squares)
    for opt, steps in ((optim.sgd(0.1, momentum=0.9), 300), (optim.adam(optim.cosine_decay(0.1, 600)), 600)):
        params, _ = run(opt, {"w": np.zeros(3), "b": 0.0}, lambda p: grad(p, x, y), steps)
        np.testing.assert_allclose(np.r_[params["w"], params["b"]], solution, atol=1e-4)


def split_loss(frozen, trainable, x, y):
    return np.mean((x * frozen["a"] + trainable["b"] - y) ** 2)


def test_freezing_by_mask_equals_freezing_by_wrt():
    x, y = np.linspace(-1, 1, 9), np.linspace(0, 2, 9)
    both = {"a": 0.5, "b": 0.0}
    masked, _ = run(optim.adam(0.05, mask={"a": False}), both, lambda p: srcgrad.grad(least_squares_ab)(p, x, y), 25)
    trainable, _ = run(optim.adam(0.05), {"b": 0.0}, lambda p: srcgrad.grad(split_loss, wrt=1)({"a": 0.5}, p, x, y), 25)
    assert masked["a"] == 0.5
    assert masked["b"] == pytest.approx(trainable["b"], rel=1e-12) and trainable["b"] != 0.0


def least_squares_ab(p, x, y):
    return np.mean((x * p["a"] + p["b"] - y) ** 2)
