"""Property-based: random loops over arrays whose shapes broadcast and change from one trip
to the next, against finite differences and against the same derivative built without the
loop passes (shape stand-ins on the tape, in-place accumulation)."""


import numpy as np
import pytest
from generated import load_function
from hypothesis import given, settings
from hypothesis import strategies as st

import srcgrad
from srcgrad import pipeline
from srcgrad.transforms import reverse

UNARY = ["np.tanh({})", "np.sin({})", "-{}", "{} * 0.5", "np.sum({}, axis=-1, keepdims=True)", "np.sum({})",
         "{} @ m", "({}) ** 2"]
BINARY = ["{} + {}", "{} - {}", "{} * {}", "{} + {} * 0.3"]


@st.composite
def programs(draw):
    names = ["x", "y", "b"]
    lines = []
    for i in range(draw(st.integers(1, 5))):
        target = draw(st.sampled_from(names + [f"v{i}"]))
        if draw(st.booleans()):
            expression = draw(st.sampled_from(UNARY)).replace("{}", draw(st.sampled_from(names)))
        else:
            template = draw(st.sampled_from(BINARY))
            expression = template.format(*[draw(st.sampled_from(names)) for _ in range(template.count("{}"))])
        lines.append(f"{target} = {expression}")
        if target not in names:
            names.append(target)
    nested = draw(st.booleans())
    indent = "            " if nested else "        "
    header = "    for i in range(n):\n" + ("        for j in range(2):\n" if nested else "")
    body = "\n".join(indent + line for line in lines)
    result = " + ".join(f"np.sum({name} * {name})" for name in names)
    starts = "".join(f"    {name} = 0.0\n" for name in names[3:])  # a number before the first trip
    return f"import numpy as np\n\n\ndef f(x, y, b, m, n):\n{starts}{header}{body}\n    return {result}\n"



def _without_loop_passes(monkeypatch, f, args):
    with monkeypatch.context() as patch:
        patch.setattr(reverse, "shape_stand_ins", lambda forward, backward, *rest: (forward, backward))
        patch.setattr(pipeline, "accumulate_in_place", lambda *anything: False)
        return srcgrad.grad(f, wrt=(0, 1, 2))(*args)


@settings(max_examples=int(__import__('os').environ.get('N_EX', 40)), deadline=None)
@given(source=programs(), seed=st.integers(0, 2**16), n=st.integers(0, 3))
def test_random_array_loop_gradient(tmp_path_factory, source, seed, n):
    monkeypatch = pytest.MonkeyPatch()
    rng = np.random.default_rng(seed)
    args = (rng.standard_normal((2, 3)) * 0.5, rng.standard_normal(3) * 0.5, rng.standard_normal((1, 3)) * 0.5,
            rng.standard_normal((3, 3)) * 0.5, n)
    f = load_function(source, tmp_path_factory.mktemp("programs"), "random_array_loop")
    try:
        with np.errstate(all="raise"):
            value = f(*args)
    except (ValueError, FloatingPointError):
        return  # shapes that do not broadcast (or matmul), or overflow
    if not np.isfinite(value) or abs(value) > 1e6:
        return
    got = srcgrad.grad(f, wrt=(0, 1, 2))(*args)
    plain = _without_loop_passes(monkeypatch, load_function(source, tmp_path_factory.mktemp("plain"), "random_array_loop"), args)
    for g, p, a in zip(got, plain, args):
        assert np.shape(g) == np.shape(a)
        np.testing.assert_allclose(g, p, rtol=1e-12, atol=1e-12)
    srcgrad.check_grad(f, *args, wrt=(0, 1, 2), rtol=1e-4, atol=1e-5)
