"""The exercises of notebook 05_backprop: a typical mistake fails with the hint meant for it, and the
references equal autograd (that every reference and revealed solution passes is tested for all
notebooks in test_exercises.py)."""
import re

import numpy as np
import pytest
import torch

from helpers import exercises
from helpers.exercises import _get, nb05_backprop


@pytest.mark.parametrize("exercise_id, wrong, hint", [
    ("05.descent_step", lambda w, lr: w + lr * 2 * w, "differ"),                     # walked uphill
    ("05.two_layer_backward", nb05_backprop.buggy_two_layer_backward, "as handed out"),
    ("05.two_layer_backward",                                                        # dropped tanh's slope
     lambda x, w1, w2, g: (g @ w2.T @ w1.T, x.T @ (g @ w2.T), np.tanh(x @ w1).T @ g), "slope is missing"),
    ("05.two_layer_backward",                                                        # tanh twice
     lambda x, w1, w2, g: nb05_backprop._two_layer_backward(
         x, w1, w2, g, slope_of_tanh=lambda pre, h: 1 - np.tanh(h) ** 2), "not tanh of h"),
    ("05.layer_norm_backward", lambda x, g: g / np.sqrt(x.var(-1, keepdims=True) + 1e-5), "only the direct path"),
    ("05.layer_norm_backward", nb05_backprop._without_the_variance_path, "through the variance"),
    ("05.layer_norm_backward", nb05_backprop._without_the_mean_path, "through the mean is missing"),
])
def test_typical_mistake_fails_with_its_hint(exercise_id, wrong, hint, capsys):
    assert not exercises.check(exercise_id, wrong)
    out = capsys.readouterr().out
    assert "[not yet]" in out and hint in out and "input 1:" in out          # the inputs, to reproduce it
    assert ("hint:" in out) == (hint != "differ")                             # a known mistake gets its hint


def test_an_unrelated_wrong_answer_gets_no_hint(capsys):
    assert not exercises.check("05.layer_norm_backward", lambda x, g: 2 * g)
    out = capsys.readouterr().out
    assert "[not yet]" in out and "hint:" not in out


def test_two_layer_reference_equals_autograd_and_the_bug_does_not():
    rng = np.random.default_rng(0)
    x, w1, w2, g = _get("05.two_layer_backward").make_inputs(rng)
    tensors = [torch.tensor(a, requires_grad=True) for a in (x, w1, w2)]
    (torch.tanh(tensors[0] @ tensors[1]) @ tensors[2]).backward(torch.tensor(g))
    reference = _get("05.two_layer_backward").reference(x, w1, w2, g)
    assert all(np.allclose(ours, t.grad.numpy()) for ours, t in zip(reference, tensors))
    buggy = nb05_backprop.buggy_two_layer_backward(x, w1, w2, g)
    assert np.allclose(buggy[2], reference[2])                            # grad_w2 is right...
    assert not np.allclose(buggy[1], reference[1]) and not np.allclose(buggy[0], reference[0])   # ...the rest not


@pytest.mark.parametrize("seed", range(5))
def test_layer_norm_backward_reference_equals_autograd(seed):
    x, g = _get("05.layer_norm_backward").make_inputs(np.random.default_rng(seed))
    x_t = torch.tensor(x, requires_grad=True)
    torch.nn.functional.layer_norm(x_t, x.shape[-1:], eps=1e-5).backward(torch.tensor(g))
    ours = _get("05.layer_norm_backward").reference(x, g)
    assert np.allclose(ours, x_t.grad.numpy(), atol=1e-10)
    assert np.allclose(ours.sum(axis=-1), 0)                              # a row's gradient sums to 0


def test_the_committed_message_shows_rounded_values(capsys):
    # The notebook is committed with the check of the handed-out function: its numbers must not
    # carry the last digits of float64 arithmetic, which differ between CPUs.
    assert not exercises.check("05.two_layer_backward", nb05_backprop.buggy_two_layer_backward)
    out = capsys.readouterr().out
    assert "values differ" in out and not re.search(r"\d\.\d{6,}", out)


def test_safe_learning_rate_reference_descends_below_it_and_diverges_above(capsys):
    hessian, = _get("05.safe_learning_rate").make_inputs(np.random.default_rng(3))
    bound = _get("05.safe_learning_rate").reference(hessian)
    for factor, converges in ((0.9, True), (1.1, False)):
        w = np.ones(len(hessian))
        for _ in range(300):
            w = w - factor * bound * hessian @ w          # gradient descent on 0.5 w.H.w
        assert (np.linalg.norm(w) < 1e-3) == converges


@pytest.mark.parametrize("wrong, hint", [
    (lambda h: 1 / np.linalg.eigvalsh(h).max(), "that is 1 / lambda_max"),
    (lambda h: 2 / np.linalg.eigvalsh(h).min(), "the sharpest direction"),
    (lambda h: 2 / np.trace(h), "the trace adds up"),
])
def test_safe_learning_rate_typical_mistakes_get_their_hint(capsys, wrong, hint):
    assert not exercises.check("05.safe_learning_rate", wrong)
    assert hint in capsys.readouterr().out


def test_safe_learning_rate_inputs_are_symmetric_positive_definite_with_a_clear_top():
    rng = np.random.default_rng(0)
    for _ in range(20):
        hessian, = _get("05.safe_learning_rate").make_inputs(rng)
        eigenvalues = np.linalg.eigvalsh(hessian)
        assert np.allclose(hessian, hessian.T) and eigenvalues.min() > 0 and eigenvalues[-1] > 2 * eigenvalues[-2]
