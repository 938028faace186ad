"""Shift invariance (srcgrad/analysis/invariance.py): a max subtracted before a softmax, log-softmax or
logsumexp gets no adjoint when, and only when, the result provably does not depend on it.
Every gradient is checked against central finite differences."""


import numpy as np
from generated import assert_grad_matches_fd, load_function, source_after_call
from hypothesis import given, settings
from hypothesis import strategies as st

import srcgrad
from srcgrad.tools.testing import directional_fd

NOTE = "needs no adjoint"
RNG = np.random.default_rng(7)
Z = RNG.standard_normal((3, 4))
W = RNG.standard_normal((3, 4))


def _dropped(fn, *args, wrt=0):
    """Whether the generated gradient of `fn` leaves out the shift's adjoint; also checks
    that gradient against finite differences."""
    assert_grad_matches_fd(fn, *args, wrt=wrt)
    text = source_after_call(fn, *args, wrt=wrt)
    return NOTE in text and "tie_share" not in text


# ---- where the adjoint goes --------------------------------------------------------------
def log_softmax_loss(z, w):
    shifted = z - np.max(z, axis=1, keepdims=True)
    logp = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    return -np.mean(np.sum(logp * w, axis=1))


def softmax_loss(z, w):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    p = e / e.sum(axis=-1, keepdims=True)
    return np.sum(p * w)


def logsumexp_max_added_back(z, w):
    m = np.max(z, axis=1, keepdims=True)
    return np.sum(w[:, :1] * (m + np.log(np.sum(np.exp(z - m), axis=1, keepdims=True))))


def full_logsumexp(z):
    m = np.max(z)
    return m + np.log(np.sum(np.exp(z - m)))


def softmax_by_min_and_mean(z, w):
    e = np.exp(z - np.min(z, axis=0, keepdims=True))
    p = e / np.mean(e, axis=0, keepdims=True)
    return np.sum(p * w)


def test_log_softmax_loses_the_max_adjoint():
    assert _dropped(log_softmax_loss, Z, W)
    text = source_after_call(log_softmax_loss, Z, W)
    expected = (
        "    # `_t1` needs no adjoint: adding a constant to it along axis 1 would not change the result\n"
        "    _t1 = np.max(z, axis=1, keepdims=True)\n"
    )
    assert expected in text
    assert "_t1_bar" not in text


def test_softmax_with_methods_and_a_negative_axis():
    assert _dropped(softmax_loss, Z, W)


def test_logsumexp_with_the_max_added_back():
    # m is read twice, by `z - m` and by `m + ...`: together they do not depend on m
    assert _dropped(logsumexp_max_added_back, Z, W)
    assert "m_bar" not in source_after_call(logsumexp_max_added_back, Z, W)


def test_full_reduction_shift():
    assert _dropped(full_logsumexp, Z)


def test_any_reduction_constant_along_the_axis_will_do():
    assert _dropped(softmax_by_min_and_mean, Z, W)


def test_other_gradients_of_a_network_keep_theirs():
    def loss(a, b, w):
        logits = np.tanh(a) @ b
        shifted = logits - np.max(logits, axis=1, keepdims=True)
        logp = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
        return -np.mean(np.sum(logp * w, axis=1))

    assert _dropped(loss, RNG.standard_normal((3, 5)), RNG.standard_normal((5, 4)), W, wrt=(0, 1))


def test_value_and_grad_and_vjp_forms():
    value, (g,) = srcgrad.value_and_grad(log_softmax_loss, wrt=(0,))(Z, W)
    assert np.isclose(value, log_softmax_loss(Z, W))
    value, pullback = srcgrad.vjp(log_softmax_loss, Z, W)
    np.testing.assert_allclose(pullback(1.0), g, rtol=1e-12)


# ---- where it must stay -------------------------------------------------------------------
def sum_of_shifted(z):
    shifted = z - np.max(z, axis=1, keepdims=True)
    return np.sum(shifted)


def other_axis(z, w):
    shifted = z - np.max(z, axis=1, keepdims=True)
    return np.sum(w * (shifted - np.log(np.sum(np.exp(shifted), axis=0, keepdims=True))))


def max_along_the_other_axis(z, w):
    shifted = z - np.max(z, axis=0, keepdims=True)
    return np.sum(w * (shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))))


def reduced_without_keepdims(z, w):
    shifted = z - np.max(z, axis=1, keepdims=True)
    return np.sum(w[:, 0] * (np.max(shifted, axis=1) - np.log(np.sum(np.exp(shifted), axis=1))))


def shifted_read_in_a_loop(z, w):
    shifted = z - np.max(z, axis=1, keepdims=True)
    out = 0.0
    for _ in range(2):
        out = out + np.sum(w * (shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))))
    return out


def shifted_read_in_a_branch(z, w, flag):
    shifted = z - np.max(z, axis=1, keepdims=True)
    if flag:
        shifted = shifted * 2.0
    return np.sum(w * (shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))))


def shifted_rebound(z, w):
    shifted = z - np.max(z, axis=1, keepdims=True)
    for _ in range(1):
        shifted = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    return np.sum(w * shifted)


def shifted_then_squared(z, w):
    shifted = z - np.max(z, axis=1, keepdims=True)
    return np.sum(w * (shifted ** 2 - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))))


def scaled_plus_a_number(z, w):
    e = np.exp(z - np.max(z, axis=1, keepdims=True))
    return np.sum(w * (e / (np.sum(e, axis=1, keepdims=True) + 1.0)))


def max_of_another_array(z, v, w):
    # m is constant along v's axis 0, which is z's axis 1: a positive axis names different axes
    shifted = z - np.max(v, axis=0, keepdims=True)
    return np.sum(w * (shifted - np.log(np.sum(np.exp(shifted), axis=0, keepdims=True))))


def broadcast_into_more_axes(z, c):
    # `+ c` adds a leading axis, so axis 1 of the sum is not axis 1 of the max
    shifted = z - np.max(z, axis=1, keepdims=True) + c
    return np.sum(np.log(np.sum(np.exp(shifted), axis=1, keepdims=True)))


def test_sum_of_shifted_keeps_the_adjoint():
    assert not _dropped(sum_of_shifted, Z)


def test_mismatched_axes_keep_the_adjoint():
    assert not _dropped(other_axis, Z, W)
    assert not _dropped(max_along_the_other_axis, Z, W)


def test_reductions_without_keepdims_keep_the_adjoint():
    assert not _dropped(reduced_without_keepdims, Z, W)


def test_loops_branches_and_rebinding_keep_the_adjoint():
    assert not _dropped(shifted_read_in_a_loop, Z, W)
    assert not _dropped(shifted_read_in_a_branch, Z, W, True)
    assert not _dropped(shifted_rebound, Z, W)


def test_uncovered_operations_keep_the_adjoint():
    assert not _dropped(shifted_then_squared, Z, W)
    assert not _dropped(scaled_plus_a_number, Z, W)


def test_dimensions_that_may_not_line_up_keep_the_adjoint():
    v = RNG.standard_normal((5, 3))
    z = RNG.standard_normal((4, 5, 3))
    assert not _dropped(max_of_another_array, z, v, RNG.standard_normal((4, 5, 3)), wrt=(0, 1))
    c = RNG.standard_normal((2, 3, 4))
    assert not _dropped(broadcast_into_more_axes, Z, c, wrt=(0, 1))


def test_returned_shifted_value_keeps_the_adjoint():
    def shifted(z):
        return z - np.max(z, axis=1, keepdims=True)

    cotangent = RNG.standard_normal(Z.shape)
    _, pullback = srcgrad.vjp(shifted, Z)
    got = pullback(cotangent)
    for i in np.ndindex(Z.shape):
        unit = np.zeros(Z.shape)
        unit[i] = 1.0
        expected = directional_fd(lambda z: np.sum(cotangent * shifted(z)), [Z], [0], [unit])
        assert np.isclose(got[i], expected, rtol=1e-6, atol=1e-8)


# ---- random variants ---------------------------------------------------------------------
_FORMS = {
    "log_softmax": "s - np.log(np.sum(np.exp(s), axis={b}, keepdims={kd}))",
    "softmax": "np.exp(s) / np.sum(np.exp(s), axis={b}, keepdims={kd})",
    "logsumexp": "m + np.log(np.sum(np.exp(s), axis={b}, keepdims={kd}))",
    "shifted_max": "np.max(s, axis={b}, keepdims={kd}) + m",
    "mean_shift": "s - np.mean(s, axis={b}, keepdims={kd})",
    "plain": "s * s",
}


@st.composite
def variants(draw):
    reduction = draw(st.sampled_from(["max", "min", "mean", "sum"]))
    axis = draw(st.sampled_from(["0", "1", "-1", "None"]))
    keepdims = draw(st.booleans()) if axis == "None" else True
    form = draw(st.sampled_from(sorted(_FORMS)))
    b = draw(st.sampled_from(["0", "1", "-1", "None"]))
    kd = draw(st.booleans())
    value = _FORMS[form].format(b=b, kd=kd)
    return (
        "import numpy as np\n\n\ndef f(z, w):\n"
        f"    m = np.{reduction}(z, axis={axis}, keepdims={keepdims})\n"
        "    s = z - m\n"
        f"    return np.sum(w * ({value}))\n"
    )



@settings(max_examples=60, deadline=None)
@given(source=variants())
def test_random_shift_variants_match_finite_differences(tmp_path_factory, source):
    f = load_function(source, tmp_path_factory.mktemp("variants"), "shift_variant")
    z = np.random.default_rng(0).standard_normal((3, 4))
    try:
        f(z, W)
    except ValueError:  # shapes that do not broadcast
        return
    assert_grad_matches_fd(f, z, W, rtol=1e-5)


def test_second_derivative_through_a_dropped_shift():
    def logsumexp(z):
        m = np.max(z)
        return m + np.log(np.sum(np.exp(z - m)))

    z = RNG.standard_normal(5)
    p = np.exp(z - np.max(z))
    p /= p.sum()
    np.testing.assert_allclose(srcgrad.hessian(logsumexp)(z), np.diag(p) - np.outer(p, p), rtol=1e-10, atol=1e-12)


def test_a_max_that_no_derivative_goes_through_says_nothing():
    def unused(z):
        m = np.max(z, axis=1, keepdims=True)
        s = z - m  # noqa: F841
        return np.sum(z * z)

    def constant(z, w):
        s = w - np.max(w, axis=1, keepdims=True)
        return np.sum(z * np.log(np.sum(np.exp(s), axis=1, keepdims=True)) + s)

    assert NOTE not in source_after_call(unused, Z)
    assert NOTE not in source_after_call(constant, Z, W)
    assert_grad_matches_fd(constant, Z, W)
