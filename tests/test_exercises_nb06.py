"""The exercises of notebook 06_why_transformers: a typical mistake fails helpfully (that every
reference and revealed solution passes is tested for all notebooks in test_exercises.py)."""
import numpy as np
import pytest

from helpers import exercises
from helpers.exercises import _get


@pytest.mark.parametrize("exercise_id, wrong, hint", [
    ("06.rnn_step", lambda x, h, w_xh, w_hh, b: x @ w_xh + h @ w_hh + b, "differ"),  # no tanh
    ("06.gradient_through_time", lambda w, n: w ** np.arange(n, dtype=float), "differ"),  # reversed
    ("06.attention_weight_count", lambda b, h, t: b * h * t, "expected"),                  # linear, not T^2
])
def test_typical_mistake_fails_with_a_helpful_message(exercise_id, wrong, hint, capsys):
    assert not exercises.check(exercise_id, wrong)
    out = capsys.readouterr().out
    assert "[not yet]" in out and hint in out


def test_attention_weight_example_value(capsys):
    assert exercises.check("06.attention_weight_example", 8 * 12 * 2048 * 2048)
    assert "[ok]" in capsys.readouterr().out
    assert not exercises.check("06.attention_weight_example", ...)
    assert "not answered yet" in capsys.readouterr().out
    assert not exercises.check("06.attention_weight_example", 8 * 12 * 2048 * 2049 // 2)   # the causal half only
    assert "masked entries" in capsys.readouterr().out
    assert not exercises.check("06.attention_weight_example", 8 * 12 * 2048)             # linear, not T^2
    assert "expected 402,653,184" in capsys.readouterr().out


def test_attention_weight_example_solution_text_runs(capsys):
    namespace = {"attention_weight_count": _get("06.attention_weight_count").reference}
    exec(_get("06.attention_weight_example").solution, namespace)
    assert exercises.check("06.attention_weight_example", namespace["weights_for_8_sequences"])


@pytest.mark.parametrize("guess, hint", [
    (0.8 ** 11, "one factor too many"), (0.8 ** 9, "one factor too few"), (0.8 ** -10, "upside down"),
    (8.0, "not 0.8 times 10"), (-1.0, "do not add up"), (0.8, "one step back"),
    (0.5, "exactly 0.8"),                                                     # a guess far off: the rule, no answer
    ("small", "expected a number"),
])
def test_predicted_ratio_wrong_guesses_get_their_hint(guess, hint, capsys):
    assert not exercises.check("06.predict_gradient_ratio", guess)
    out = capsys.readouterr().out
    assert "[not yet]" in out and hint in out
    assert "0.1074" not in out and "0.107" not in out                         # the answer is not given away


def test_predicted_ratio_is_what_autograd_measures(capsys):
    import torch
    from helpers import rnn
    torch.manual_seed(0)
    linear = rnn.set_recurrent_scale(rnn.TanhRNN(8, 16, tanh=False).double(), 0.8)
    norms = rnn.state_gradient_norms(linear, torch.randn(1, 11, 8, dtype=torch.float64))
    assert exercises.check("06.predict_gradient_ratio", (norms[0] / norms[-1]).item())
    assert exercises.check("06.predict_gradient_ratio", 0.1075)               # a rounded prediction passes
    assert not exercises.check("06.predict_gradient_ratio", ...)
    assert "not answered yet" in capsys.readouterr().out
