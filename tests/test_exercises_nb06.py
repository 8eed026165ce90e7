"""The exercises of notebook 06_why_transformers: a typical mistake fails helpfully (that every
reference and revealed solution passes is tested for all notebooks in test_exercises.py)."""
import numpy as np
import pytest

from helpers import exercises
from helpers.exercises import _get


def _states_without_recurrence(x, w_xh, w_hh, b):
    return np.tanh(x @ w_xh + b)                 # forgot to feed the state back in


@pytest.mark.parametrize("exercise_id, wrong, hint", [
    ("06.rnn_step", lambda x, h, w_xh, w_hh, b: x @ w_xh + h @ w_hh + b, "differ"),  # no tanh
    ("06.rnn_states", _states_without_recurrence, "differ"),
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
