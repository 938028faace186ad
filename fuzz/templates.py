"""Expression templates and the module header of generated programs: `{s}`, `{v}`, `{m}` are sub-expressions
of kind float, shape (3,) and (2, 3); `{c}` a constant; `{k2}`, `{k3}` an index below 2 or 3."""

S, V, M = "s", "v", "m"

HEADER = """import math

import numpy as np

K = 2
W = np.array([0.3, -0.5, 0.8])
A = np.array([[0.2, -0.4, 0.6], [0.5, 0.1, -0.3]])
"""

TEMPLATES: dict[str, list[str]] = {
    S: ["{S} + {S}", "{S} - {S}", "{S} * {S}", "{c} * {S}", "{S} / (2.0 + math.cos({S}))", "{S} ** 2",
        "math.sin({S})", "math.cos({S})", "math.tanh({S})", "math.exp(math.tanh({S}))",
        "math.log(1.0 + {S} ** 2)", "math.sqrt(1.0 + {S} ** 2)", "math.hypot({S}, {S})",
        "math.atan2({S}, 2.0 + math.tanh({S}))", "abs({S})", "max({S}, {S})", "np.tanh({S})",
        "np.sum({V})", "np.mean({M})", "{V}[{k3}]", "{M}[{k2}, {k3}]", "{V} @ {V}", "np.max({V})",
        "np.sum({M} * {M})", "({S} if {S} > 0.2 else {S})", "np.sum(np.tanh({V}) * W)"],
    V: ["np.sin({V})", "np.tanh({V})", "np.cos({V})", "np.exp(np.tanh({V}))", "np.log(1.0 + {V} ** 2)",
        "np.sqrt(1.0 + {V} ** 2)", "{V} + {V}", "{V} * {S}", "{S} * {V}", "{V} - {V}", "{V} * {V}",
        "np.where({V} > 0.2, {V}, 0.5 * {V})", "np.maximum({V}, 0.1)", "np.clip({V}, -0.8, 0.8)",
        "np.sum({M}, axis=0)", "np.mean({M}, axis=0)", "{M}[{k2}]", "{M}[1, :]", "{V}[::-1]",
        "{M}.T @ np.tanh({M}[:, 1])", "W * {S}", "np.concatenate([{V}[1:], {V}[:1]])"],
    M: ["np.tanh({M})", "{M} * {V}", "{M} + {S}", "{M} * {M}", "np.where({M} > 0.0, {M}, 0.3 * {M})",
        "np.clip({M}, -0.7, 0.7)", "np.maximum({M}, -0.2)", "A * {S}", "np.stack([{V}, {V}])",
        "{M} @ np.tanh(np.outer({V}, {V}))", "np.outer(np.array([1.0, -0.5]), {V})"],
}
SELF_UPDATES = ["{x} = {c} * {x}", "{x} = {x} - {k} * np.tanh({x})", "{x} = np.tanh({x} + {E})",
                 "{x} = 0.5 * {x} + 0.3 * {E}", "{x} = {x} - {k} * np.sin({x}) * {E}"]
