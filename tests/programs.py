"""A corpus of whole programs differentiated in tests/test_corpus.py.

Each entry of CORPUS is (function, args, wrt); the gradient is checked against central
finite differences and the inner-product test by `srcgrad.check_grad`.
"""

import math

import numpy as np

import srcgrad

SCALE = 1.5


def poly(x):
    return 3 * x**2 + 2 * x + 1


def two_args(x, y):
    z = x * y
    return np.sin(z) + y


def overwrite(x):
    y = x * 2.0
    y = y * y
    y = np.exp(-y) + y
    return y


def augmented(x, y):
    s = x
    s += y * x
    s *= s
    s -= 1.0 / y
    s /= y
    s **= 2
    return s


def unpacking(x, y):
    a, b = x * y, x - y
    c = d = a * b
    (e, f), g = (c, d), c
    a, b = b, a
    return a * e + b * f - g


def constants(x):
    return x * 2 + 3.5 * x - int(2) * x + complex(1, 0).real * x + np.float64(2.0) * x + True * x


def math_functions(x, y):
    a = math.sin(x) * math.cos(y) + math.tan(x / 3)
    b = math.exp(x / 4) + math.log(y) + math.log(y, 3) + math.sqrt(y) + math.log1p(x * x)
    c = math.atan2(y, x) + math.hypot(x, y) + math.tanh(x) + math.pow(y, x) + math.erf(x)
    d = math.floor(x) * x + abs(x - 2 * y) + max(x, y) + min(x * y, 1.0)
    return a * b + c + d


def python_builtins(x, y):
    values = [x, y, x * y]
    return sum(values) + abs(-x) + max(x, 3 * y) + min(y, x / 2) + float(x) + pow(y, 2)


def numpy_elementwise(x):
    y = np.tanh(x) * np.exp(-x**2) + np.sqrt(np.abs(x) + 1.0) + np.log1p(x**2)
    z = np.maximum(x, 0.1) + np.minimum(x, 0.2) + np.clip(x, -0.5, 0.5) + np.where(x > 0, x**2, -x)
    return np.sum(y * z + np.arctan2(x, 2.0) + np.logaddexp(x, 0.5) + np.square(x) + np.sinc(x))


def reductions(x):
    a = np.sum(x, axis=0) + np.mean(x, axis=1, keepdims=True).sum()
    b = np.prod(x[0] + 2.0) + np.max(x) + np.min(x, axis=1).sum() + np.var(x) + np.std(x, axis=0).sum()
    return np.sum(a) + b + np.linalg.norm(x) + x.sum() + x.mean(axis=0).sum() + x.max()


def linear_algebra(a, b):
    c = a @ b + np.dot(a, b) + np.outer(a[:, 0], b[0])
    d = np.einsum("ij,jk->ik", a, b) + np.tensordot(a, b, axes=1)
    m = c.T @ c + np.eye(2)
    return np.trace(np.linalg.inv(m)) + np.linalg.det(m) + np.linalg.slogdet(m)[1] + np.sum(np.linalg.solve(m, d[0]))


def shapes(x):
    y = x.reshape(3, 2).T
    z = np.concatenate([y, y * 2], axis=0)
    w = np.stack([z, z]).transpose(1, 0, 2)
    v = np.expand_dims(w, 0).squeeze(0).swapaxes(0, 1)
    u = np.flip(np.roll(v.ravel(), 2)) + np.tile(x.flatten(), 4)
    return np.sum(u * np.arange(u.size)) + np.hstack([x.ravel(), x.ravel()]).sum() + np.vstack([x, x]).sum()


def indexing(x):
    a = x[0] + x[-1] + x[1:3].sum() + x[::2].sum() + x[..., 0].sum() + x[None, 1].sum()
    b = x[np.array([0, 2, 2])].sum() + x[x > 0.0].sum() + x[(0, 1)]
    return np.sum(a) + b


def fresh_array(x):
    y = x.copy()
    y[0] = x[1] * x[2]
    y[1:] = y[1:] * 2.0
    z = np.zeros(3)
    z[2] = y[0] ** 2
    return np.sum(y * y) + z.sum()


def broadcasting(x, b):
    return np.sum((x + b) * b + x / (1.0 + b**2))


def logsumexp(x):
    m = np.max(x)
    return m + np.log(np.sum(np.exp(x - m)))


def softmax_cross_entropy(logits):
    shifted = logits - np.max(logits, axis=1, keepdims=True)
    logp = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    return -np.mean(logp[np.arange(logp.shape[0]), np.array([0, 2, 1])])


def _helper(a, b=2.0):
    return a * b + np.sin(a)


def calls_helper(x):
    return _helper(x) + _helper(x, b=x) + _helper(b=3.0, a=x)


def closure_maker(w):
    def model(x):
        return np.tanh(w * x)

    return model


closure = closure_maker(0.7)


def uses_closure_and_global(x):
    return closure(x) * SCALE


def with_lambda(x):
    square = lambda t: t * t  # noqa: E731
    return square(x) + square(square(x))


def containers(x, y):
    d = {"a": x, "b": y * 2}
    t = (x, d["b"])
    lst = [t[0], t[1], d["a"]]
    return lst[0] * lst[1] + lst[2] + d["b"]


def pytree_loss(params, x):
    h = np.tanh(x @ params["w"] + params["b"])
    return np.sum(h**2) + params["scale"] * np.sum(params["layers"][0])


def stopped(x):
    y = srcgrad.stop_gradient(x * 2)
    with srcgrad.no_grad():
        z = x * 3
    return x * y + z * x


def non_differentiable_ops(x):
    n = len(x)
    shape = x.shape
    if isinstance(x, np.ndarray) and n > 1 and shape[0] == n:
        k = n // 2
    else:
        k = 0
    return np.sum(x[:k] ** 2) + x.ndim


class Model:
    def __init__(self):
        self.w = 1.5

    def loss(self, x):
        return self.w * x**2 + self.helper(x)

    def helper(self, x):
        return np.sin(x) * self.w


model = Model()

def array_methods(x, y):
    a = x.astype(float).dot(y) + x.T.sum() + np.zeros_like(x).sum() + x.flatten()[0] + x[0, 0].item()
    b = x.reshape(-1).mean() + x.copy().max() + x.clip(0.0, 0.5).sum() + x.std() + x.var(axis=0).sum()
    print("printing a differentiated value just runs:", a)
    return np.sum(a + b) + x.transpose().cumsum().sum() + x.swapaxes(0, 1).prod() + x.squeeze().ravel().min()


vec3 = np.array([0.3, -0.7, 1.2])
mat23 = np.array([[0.5, -1.2, 0.3], [0.8, 0.1, -0.4]])
mat32 = mat23.T.copy() + 0.1

CORPUS = [
    (poly, (2.0,), 0),
    (two_args, (1.0, 2.0), (0, 1)),
    (overwrite, (0.4,), 0),
    (augmented, (0.7, 1.3), (0, 1)),
    (unpacking, (0.7, 1.3), (0, 1)),
    (constants, (0.7,), 0),
    (math_functions, (0.6, 1.4), (0, 1)),
    (math_functions, (2.6, 0.4), (0, 1)),
    (python_builtins, (0.6, 1.4), (0, 1)),
    (python_builtins, (2.6, 0.4), (0, 1)),
    (numpy_elementwise, (np.array([-0.6, 0.15, 0.3, 1.1]),), 0),
    (reductions, (np.array([[0.5, -1.2, 0.3], [0.8, 0.1, -0.4]]),), 0),
    (linear_algebra, (mat23, mat32), (0, 1)),
    (shapes, (mat23,), 0),
    (indexing, (np.array([[0.5, -1.2, 0.3], [0.8, 0.1, -0.4], [1.5, -0.3, 0.2]]),), 0),
    (fresh_array, (vec3,), 0),
    (broadcasting, (mat23, vec3), (0, 1)),
    (logsumexp, (np.array([1000.0, 999.0, 998.5]),), 0),
    (softmax_cross_entropy, (np.array([[1.0, 2.0, 0.5], [0.1, -1.0, 3.0], [2.0, 2.0, 2.0]]),), 0),
    (calls_helper, (0.8,), 0),
    (uses_closure_and_global, (0.8,), 0),
    (with_lambda, (0.8,), 0),
    (containers, (0.8, -1.1), (0, 1)),
    (pytree_loss, ({"w": mat32, "b": vec3[:2], "scale": 0.5, "layers": [vec3, 2.0]}, mat23), 0),
    (non_differentiable_ops, (vec3,), 0),
    (model.loss, (0.8,), 0),
    (array_methods, (np.array([[0.3, 0.7], [0.2, 0.9]]), np.array([0.5, -1.0])), (0, 1)),
]
