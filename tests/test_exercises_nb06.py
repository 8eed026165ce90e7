"""The exercises of notebook 06_why_transformers: each reference passes, a typical mistake fails helpfully."""
import numpy as np
import pytest

from helpers import exercises
from helpers.exercises import _get

IDS = ["06.rnn_step", "06.rnn_states", "06.gradient_through_time", "06.attention_weight_count"]


@pytest.mark.parametrize("exercise_id", IDS)
def test_reference_solution_passes(exercise_id, capsys):
    assert exercises.check(exercise_id, _get(exercise_id).reference)
    assert "[ok]" in capsys.readouterr().out


@pytest.mark.parametrize("exercise_id", IDS)
def test_solution_text_runs_and_passes(exercise_id):
    namespace = {"np": np}
    exec(_get(exercise_id).solution, namespace)
    function = next(v for k, v in namespace.items() if callable(v) and k != "np")
    assert exercises.check(exercise_id, function)


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
