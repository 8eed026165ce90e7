"""Tests of helpers/backprop.py: every hand-written backward equals torch autograd (float64),
and the numerical gradient check catches a planted mistake."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from helpers import backprop

SHAPES = [(), (3,), (2, 3)]          # leading batch dimensions


def _rng(seed):
    return np.random.default_rng(seed)


def _t(a):
    return torch.tensor(a, dtype=torch.float64, requires_grad=True)


def _random_mask(rng, shape):
    mask = rng.random(shape) < 0.6
    mask[..., 0] = True                                  # every query keeps at least one key
    return mask


# ------------------------------------------------------------------------------------ linear

@pytest.mark.parametrize("batch", SHAPES)
def test_linear_backward_equals_autograd(batch):
    rng = _rng(1)
    x, w, b = rng.normal(size=batch + (5, 4)), rng.normal(size=(4, 3)), rng.normal(size=3)
    grad_y = rng.normal(size=batch + (5, 3))
    xt, wt, bt = _t(x), _t(w), _t(b)
    y = xt @ wt + bt
    y.backward(torch.tensor(grad_y))
    assert np.allclose(backprop.linear_forward(x, w, b), y.detach().numpy())
    dx, dw, db = backprop.linear_backward(x, w, grad_y)
    for ours, theirs in ((dx, xt), (dw, wt), (db, bt)):
        assert ours.shape == theirs.shape
        assert np.allclose(ours, theirs.grad.numpy(), atol=1e-12)


def test_linear_forward_explains_a_shape_mismatch():
    with pytest.raises(ValueError, match=r"x \(2, 5\), weight \(4, 3\)"):
        backprop.linear_forward(np.ones((2, 5)), np.ones((4, 3)))


# ------------------------------------------------------------------------------------ softmax

@pytest.mark.parametrize("axis", [-1, 0, 1])
def test_softmax_backward_equals_autograd(axis):
    rng = _rng(2)
    scores, grad_probs = rng.normal(size=(3, 4, 5)), rng.normal(size=(3, 4, 5))
    st = _t(scores)
    torch.softmax(st, dim=axis).backward(torch.tensor(grad_probs))
    probs = torch.softmax(torch.tensor(scores), dim=axis).numpy()
    ours = backprop.softmax_backward(probs, grad_probs, axis=axis)
    assert np.allclose(ours, st.grad.numpy(), atol=1e-12)


# ------------------------------------------------------------------------------------ cross-entropy

@pytest.mark.parametrize("batch", [(7,), (2, 5)])
def test_cross_entropy_forward_and_backward_equal_torch(batch):
    rng = _rng(3)
    logits, targets = rng.normal(size=batch + (6,)) * 3, rng.integers(0, 6, size=batch)
    lt = _t(logits)
    loss = F.cross_entropy(lt.reshape(-1, 6), torch.tensor(targets).reshape(-1))
    loss.backward()
    assert np.isclose(backprop.cross_entropy_forward(logits, targets), loss.item())
    assert np.allclose(backprop.cross_entropy_backward(logits, targets), lt.grad.numpy(), atol=1e-12)


def test_cross_entropy_is_stable_for_huge_logits_and_explains_shapes():
    logits, targets = np.array([[1000.0, 0.0], [0.0, 1000.0]]), np.array([0, 0])
    assert np.isclose(backprop.cross_entropy_forward(logits, targets), 500.0)
    assert np.all(np.isfinite(backprop.cross_entropy_backward(logits, targets)))
    with pytest.raises(ValueError, match=r"logits \(2, 2\), targets \(3,\)"):
        backprop.cross_entropy_forward(logits, np.array([0, 1, 0]))


# ------------------------------------------------------------------------------------ attention

def _torch_attention_grads(q, k, v, grad_output, mask):
    qt, kt, vt = _t(q), _t(k), _t(v)
    out = F.scaled_dot_product_attention(qt, kt, vt, attn_mask=None if mask is None else torch.tensor(mask))
    out.backward(torch.tensor(grad_output))
    return out.detach().numpy(), qt.grad.numpy(), kt.grad.numpy(), vt.grad.numpy()


@pytest.mark.parametrize("batch", SHAPES)
@pytest.mark.parametrize("mask_kind", [None, "causal", "random"])
@pytest.mark.parametrize("seed", [0, 1])
def test_attention_backward_equals_autograd(batch, mask_kind, seed):
    rng = _rng(10 + seed)
    t_q, t_k, d, d_v = int(rng.integers(1, 6)), int(rng.integers(1, 6)), int(rng.integers(1, 5)), int(rng.integers(1, 5))
    if mask_kind == "causal":
        t_k = t_q                                           # a causal mask is square
    q, k, v = rng.normal(size=batch + (t_q, d)), rng.normal(size=batch + (t_k, d)), rng.normal(size=batch + (t_k, d_v))
    grad_output = rng.normal(size=batch + (t_q, d_v))
    mask = {None: None, "causal": np.tril(np.ones((t_q, t_k), dtype=bool)),
            "random": _random_mask(rng, batch + (t_q, t_k))}[mask_kind]
    out, dq_ref, dk_ref, dv_ref = _torch_attention_grads(q, k, v, grad_output, mask)
    assert np.allclose(backprop.attention_forward(q, k, v, mask)[0], out, atol=1e-12)
    dq, dk, dv = backprop.attention_backward(q, k, v, grad_output, mask)
    for ours, theirs in ((dq, dq_ref), (dk, dk_ref), (dv, dv_ref)):
        assert ours.shape == theirs.shape
        assert np.allclose(ours, theirs, atol=1e-10)


def test_attention_backward_sums_gradients_of_broadcast_keys_and_values():
    rng = _rng(4)
    q = rng.normal(size=(2, 3, 4, 5))
    k, v = rng.normal(size=(1, 3, 6, 5)), rng.normal(size=(6, 2))      # shared by batch entries
    grad_output = rng.normal(size=(2, 3, 4, 2))
    qt, kt, vt = _t(q), _t(k), _t(v)
    F.scaled_dot_product_attention(qt, kt, vt.expand(2, 3, 6, 2)).backward(torch.tensor(grad_output))
    dq, dk, dv = backprop.attention_backward(q, k, v, grad_output)
    assert dk.shape == k.shape and dv.shape == v.shape
    assert np.allclose(dq, qt.grad.numpy()) and np.allclose(dk, kt.grad.numpy()) and np.allclose(dv, vt.grad.numpy())


def test_masked_keys_get_no_gradient():
    rng = _rng(5)
    q, k, v = rng.normal(size=(4, 3)), rng.normal(size=(4, 3)), rng.normal(size=(4, 2))
    mask = np.tril(np.ones((4, 4), dtype=bool))
    grad_output = np.zeros((4, 2))
    grad_output[0, 0] = 1.0
    _, dk, dv = backprop.attention_backward(q, k, v, grad_output, mask)
    # only query 0 sends gradient, and it sees key 0 only: keys 1..3 get exactly nothing
    assert np.all(dk[1:] == 0) and np.all(dv[1:] == 0)


@pytest.mark.parametrize("masked", [False, True])
def test_attention_head_backward_equals_autograd(masked):
    rng = _rng(6)
    x = rng.normal(size=(2, 5, 6))
    w_q, w_k, w_v = rng.normal(size=(6, 4)), rng.normal(size=(6, 4)), rng.normal(size=(6, 3))
    grad_output = rng.normal(size=(2, 5, 3))
    mask = np.tril(np.ones((5, 5), dtype=bool)) if masked else None
    xt, qt, kt, vt = _t(x), _t(w_q), _t(w_k), _t(w_v)
    out = F.scaled_dot_product_attention(xt @ qt, xt @ kt, xt @ vt,
                                         attn_mask=None if mask is None else torch.tensor(mask))
    out.backward(torch.tensor(grad_output))
    assert np.allclose(backprop.attention_head_forward(x, w_q, w_k, w_v, mask)[0], out.detach().numpy())
    grads = backprop.attention_head_backward(x, w_q, w_k, w_v, grad_output, mask)
    for ours, theirs in zip(grads, (xt, qt, kt, vt)):
        assert np.allclose(ours, theirs.grad.numpy(), atol=1e-10)


# ------------------------------------------------------------------------------------ gradient check

def _attention_loss(grad_output, mask):
    """The scalar sum(output * G): its gradient with respect to q, k, v is attention_backward(G)."""
    return lambda q, k, v: float((backprop.attention_forward(q, k, v, mask)[0] * grad_output).sum())


def test_numerical_gradient_of_a_known_function():
    x = np.array([1.0, -2.0, 3.0])
    assert np.allclose(backprop.numerical_gradient(lambda a: (a ** 2).sum(), x), 2 * x, atol=1e-8)
    assert np.array_equal(x, [1.0, -2.0, 3.0])              # the input is left as it was


@pytest.mark.parametrize("masked", [False, True])
def test_gradient_check_passes_the_right_backward(masked):
    rng = _rng(7)
    q, k, v = rng.normal(size=(2, 4, 3)), rng.normal(size=(2, 4, 3)), rng.normal(size=(2, 4, 2))
    grad_output = rng.normal(size=(2, 4, 2))
    mask = np.tril(np.ones((4, 4), dtype=bool)) if masked else None
    result = backprop.gradient_check(_attention_loss(grad_output, mask), [q, k, v],
                                     backprop.attention_backward(q, k, v, grad_output, mask))
    assert result.worst_relative_error < 1e-6, str(result)


def _backward_with_planted_mistakes(q, k, v, grad_output, mask=None):
    """A tempting wrong backward: forgets the 1/sqrt(d) in dk and transposes nothing in dv."""
    _, weights = backprop.attention_forward(q, k, v, mask)
    dq, _, _ = backprop.attention_backward(q, k, v, grad_output, mask)
    d_scores = backprop.softmax_backward(weights, grad_output @ np.swapaxes(v, -1, -2))
    dk = np.swapaxes(d_scores, -1, -2) @ q                 # mistake 1: no 1/sqrt(d)
    dv = weights @ grad_output                              # mistake 2: weights instead of weights^T
    return dq, dk, dv


def test_gradient_check_finds_planted_mistakes():
    rng = _rng(8)
    q, k, v = rng.normal(size=(4, 3)), rng.normal(size=(4, 3)), rng.normal(size=(4, 3))
    grad_output = rng.normal(size=(4, 3))
    loss = _attention_loss(grad_output, None)
    result = backprop.gradient_check(loss, [q, k, v], _backward_with_planted_mistakes(q, k, v, grad_output))
    assert result.worst_relative_error > 0.1
    assert result.input_index in (1, 2)                    # the mistakes are in dk and dv
    assert "worst relative error" in str(result)
    # A sign slip in the linear layer is caught too.
    x, w = rng.normal(size=(3, 4)), rng.normal(size=(4, 2))
    _, dw, _ = backprop.linear_backward(x, w, np.ones((3, 2)))
    wrong = backprop.gradient_check(lambda w_: backprop.linear_forward(x, w_).sum(), [w], [-dw])
    assert wrong.worst_relative_error > 0.5


def test_gradient_check_explains_a_wrong_gradient_shape():
    with pytest.raises(ValueError, match=r"input \(3,\), gradient \(2,\)"):
        backprop.gradient_check(lambda a: a.sum(), [np.ones(3)], [np.ones(2)])


def test_wrong_inputs_get_errors_that_name_the_shapes_and_the_rule():
    x, weight = np.ones((4, 3)), np.ones((3, 5))
    with pytest.raises(ValueError, match=r"grad_y must have y's shape.*grad_y \(4, 4\)"):
        backprop.linear_backward(x, weight, np.ones((4, 4)))
    with pytest.raises(ValueError, match=r"x's last dimension must equal weight's first.*weight \(4, 5\)"):
        backprop.linear_backward(x, np.ones((4, 5)), np.ones((4, 5)))     # not silently (4, 4) and (3, 5)
    with pytest.raises(ValueError, match=r"grad_probs must have probs' shape.*\(3, 1\)"):
        backprop.softmax_backward(np.full((3, 4), 0.25), np.ones((3, 1)))  # was silently all zeros
    logits = np.zeros((3, 5))
    for targets, message in [(np.array([0, -1, 2]), "0 to 4 .*found -1"), (np.array([0, 5, 2]), "found 5"),
                             (np.array([0.0, 1.0, 2.0]), "integer class ids")]:
        with pytest.raises(ValueError, match=message):
            backprop.cross_entropy_forward(logits, targets)
    q = np.ones((5, 4))
    with pytest.raises(ValueError, match=r"grad_output must have the output's shape.*\(5, 6\), got \(5, 4\)"):
        backprop.attention_backward(q, q, np.ones((5, 6)), np.ones((5, 4)))
    with pytest.raises(ValueError, match="one number .*shape \\(2,\\).*sum"):
        backprop.numerical_gradient(lambda a: a * 2, np.ones(2))          # forgot the .sum()
    with pytest.raises(ValueError, match=r"lists, one entry per argument.*\[x\]"):
        backprop.gradient_check(lambda a: a.sum(), np.ones(2), np.ones(2))


# ---------------------------------------------------------------------- descent on L(w) = w**2 (the stepper)

@pytest.mark.parametrize("learning_rate, word", [
    (0.1, "converging"), (0.5, "one step"), (0.8, "oscillating, but converging"),
    (1.0, "oscillating forever"), (1.2, "diverging"), (0.0, "not moving"),
])
def test_descent_regime_matches_the_path(learning_rate, word):
    assert word in backprop.descent_regime(learning_rate)
    path = backprop.descent_path(learning_rate, start=1.5, steps=40)
    assert path.shape == (41,) and path[0] == 1.5
    sizes = np.abs(path)
    if "diverging" in word:
        assert np.all(np.diff(sizes) > 0)
    elif "forever" in word:
        assert np.allclose(sizes, 1.5)
    elif learning_rate > 0:
        assert sizes[-1] < 1e-2 * sizes[0]
    signs = np.sign(path[:3])
    assert (signs[1] < 0) == ("oscillating" in word or "diverging" in word)


def test_descent_path_follows_the_slope_2w():
    path = backprop.descent_path(0.1, start=2.0, steps=1)
    assert np.allclose(path, [2.0, 2.0 - 0.1 * 4.0])
