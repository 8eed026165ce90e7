"""The exercises of notebook 05_backprop: a typical mistake fails helpfully (that every
reference and revealed solution passes is tested for all notebooks in test_exercises.py)."""
import numpy as np
import pytest

from helpers import exercises


@pytest.mark.parametrize("exercise_id, wrong, hint", [
    ("05.descent_step", lambda w, lr: w + lr * 2 * w, "differ"),                     # walked uphill
    ("05.linear_backward", lambda x, w, g: (g @ w.T, g.T @ x), "expected shape"),    # transposed dW
    ("05.softmax_backward", lambda p, g: p * g, "differ"),                           # forgot the sum
    ("05.cross_entropy_backward",                                                    # forgot the mean
     lambda z, t: np.exp(z) / np.exp(z).sum(-1, keepdims=True) - np.eye(z.shape[-1])[t], "differ"),
    ("05.attention_backward", lambda q, k, v, g, m: _forgot_the_scale_in_dk(q, k, v, g, m), "differ"),
])
def test_typical_mistake_fails_with_a_helpful_message(exercise_id, wrong, hint, capsys):
    assert not exercises.check(exercise_id, wrong)
    out = capsys.readouterr().out
    assert "[not yet]" in out and hint in out and "shape" in out


def _forgot_the_scale_in_dk(q, k, v, grad_output, mask):
    from helpers import backprop
    grad_q, grad_k, grad_v = backprop.attention_backward(q, k, v, grad_output, mask)
    return grad_q, grad_k * np.sqrt(q.shape[-1]), grad_v


def test_attention_backward_exercise_ignoring_the_mask_fails(capsys):
    from helpers import backprop
    unmasked = lambda q, k, v, g, mask: backprop.attention_backward(q, k, v, g, None)
    assert not exercises.check("05.attention_backward", unmasked)
    assert "[not yet]" in capsys.readouterr().out
