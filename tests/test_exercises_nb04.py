"""Exercises of notebook 04_softmax_and_scaling: reference solutions pass; typical mistakes get a helpful message."""
import numpy as np

from helpers.exercises import _get, check

IDS = ["04.stable_softmax", "04.masked_softmax", "04.entropy", "04.scaled_weights"]


def _run(capsys, exercise_id, answer):
    ok = check(exercise_id, answer)
    return ok, capsys.readouterr().out


def test_naive_softmax_overflows_and_is_caught(capsys):
    def naive(x):
        return np.exp(x) / np.exp(x).sum(axis=-1, keepdims=True)
    with np.errstate(over="ignore", invalid="ignore"):
        ok, out = _run(capsys, "04.stable_softmax", naive)
    assert not ok and "values differ" in out and "nan" in out


def test_softmax_over_the_wrong_axis_fails(capsys):
    def first_axis(x):
        exps = np.exp(x - x.max(axis=0, keepdims=True))
        return exps / exps.sum(axis=0, keepdims=True)
    ok, out = _run(capsys, "04.stable_softmax", first_axis)
    assert not ok and "differ" in out


def test_masked_softmax_with_zeroed_scores_fails(capsys):
    def zero_instead_of_minus_infinity(x, mask):
        z = np.where(mask, x, 0.0)                      # a score of 0 still gets weight
        exps = np.exp(z - z.max(axis=-1, keepdims=True))
        return exps / exps.sum(axis=-1, keepdims=True)
    ok, out = _run(capsys, "04.masked_softmax", zero_instead_of_minus_infinity)
    assert not ok and "values differ" in out


def test_masked_softmax_reference_gives_zero_weight_and_rows_summing_to_one():
    exercise = _get("04.masked_softmax")
    scores, mask = exercise.make_inputs(np.random.default_rng(0))
    weights = exercise.reference(scores, mask)
    assert np.all(weights[~mask] == 0) and np.allclose(weights.sum(axis=-1), 1)


def test_entropy_with_plain_log_gives_nan_and_fails(capsys):
    with np.errstate(divide="ignore", invalid="ignore"):
        ok, out = _run(capsys, "04.entropy", lambda p: -np.sum(p * np.log(p), axis=-1))
    assert not ok and "nan" in out


def test_scaled_weights_dividing_by_d_k_fails(capsys):
    ok, out = _run(capsys, "04.scaled_weights",
                   lambda scores, d_k, temperature: _get("04.stable_softmax").reference(scores / d_k / temperature))
    assert not ok and "values differ" in out


def test_scaled_weights_unstable_overflows_and_is_caught(capsys):
    def unstable(scores, d_k, temperature):
        exps = np.exp(scores / np.sqrt(d_k) / temperature)
        return exps / exps.sum(axis=-1, keepdims=True)
    with np.errstate(over="ignore", invalid="ignore"):
        ok, out = _run(capsys, "04.scaled_weights", unstable)
    assert not ok and "nan" in out.lower()


def test_scaled_weights_reference_equals_torch():
    import torch

    rng = np.random.default_rng(0)
    scores = rng.normal(size=(3, 5)) * 20
    expected = torch.softmax(torch.tensor(scores) / 8.0 / 0.5, dim=-1).numpy()
    assert np.allclose(_get("04.scaled_weights").reference(scores, 64, 0.5), expected)


def test_the_notebook_has_these_exercises():
    from helpers.exercises import available
    assert [i for i in available() if i.startswith("04.")] == sorted(IDS)
