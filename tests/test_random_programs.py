"""Property-based: random straight-line and looping programs against finite differences."""


from generated import load_function
from hypothesis import given, settings
from hypothesis import strategies as st

import srcgrad

UNARY = ["math.sin({})", "math.cos({})", "math.tanh({})", "math.exp(0.3 * {})", "math.sqrt(1.0 + {} * {})", "abs({})", "-{}", "np.sin({})"]
BINARY = ["{} + {}", "{} - {}", "{} * {}", "{} / (1.5 + math.cos({}))", "max({}, {})", "({}) ** 2 + {}"]


@st.composite
def programs(draw):
    names = ["x", "y"]
    lines = []
    for i in range(draw(st.integers(1, 6))):
        target = draw(st.sampled_from(names + [f"v{i}"]))
        if draw(st.booleans()):
            expression = draw(st.sampled_from(UNARY)).replace("{}", draw(st.sampled_from(names)))
        else:
            template = draw(st.sampled_from(BINARY))
            operands = [draw(st.sampled_from(names)) for _ in range(template.count("{}"))]
            expression = template.format(*operands)
        lines.append(f"{target} = {expression}")
        if target not in names:
            names.append(target)
    loop = draw(st.booleans())
    body = "\n".join("        " + line if loop else "    " + line for line in lines)
    header = "    for _ in range(n):\n" if loop else ""
    result = " + ".join(names)
    return f"import math\nimport numpy as np\n\n\ndef f(x, y, n):\n{header}{body}\n    return {result}\n"



@settings(max_examples=40, deadline=None)
@given(source=programs(), x=st.floats(-1.5, 1.5), y=st.floats(-1.5, 1.5))
def test_random_program_gradient(tmp_path_factory, source, x, y):
    f = load_function(source, tmp_path_factory.mktemp("programs"), "random_program")
    for point in [(x, y, 2)]:
        try:
            f(*point)
        except (ValueError, OverflowError, ZeroDivisionError):
            return
        # stay away from kinks (abs, max) where finite differences are meaningless
        if _near_kink(f, point):
            return
        srcgrad.check_grad(f, *point, wrt=(0, 1), rtol=1e-4, atol=1e-5)


def _near_kink(f, point, step=1e-4):
    x, y, n = point
    centre = f(x, y, n)
    second = [abs(f(x + step, y, n) - 2 * centre + f(x - step, y, n)), abs(f(x, y + step, n) - 2 * centre + f(x, y - step, n))]
    return max(second) > 1e-3 * step
