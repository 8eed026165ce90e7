"""Exercises of notebook 04_softmax_and_scaling: reference solutions pass; typical mistakes get a helpful message."""
import numpy as np
import pytest

from helpers.exercises import _get, check

IDS = ["04.stable_softmax", "04.masked_softmax", "04.entropy", "04.softmax_backward"]


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


def test_softmax_backward_without_the_sum_fails(capsys):
    ok, out = _run(capsys, "04.softmax_backward", lambda p, grad_p: p * grad_p)
    assert not ok and "values differ" in out


def test_softmax_backward_reference_equals_autograd():
    import torch

    rng = np.random.default_rng(0)
    scores = torch.tensor(rng.normal(size=(3, 5)), requires_grad=True)
    grad_p = torch.tensor(rng.normal(size=(3, 5)))
    p = torch.softmax(scores, dim=-1)
    (expected,) = torch.autograd.grad((p * grad_p).sum(), scores)
    backward = _get("04.softmax_backward").reference
    assert np.allclose(backward(p.detach().numpy(), grad_p.numpy()), expected.numpy())


def test_the_notebook_has_these_exercises():
    from helpers.exercises import available
    assert [i for i in available() if i.startswith("04.")] == sorted(IDS)
