"""Exercises of notebook 03_attention: each reference solution passes; typical mistakes get a helpful message."""
import numpy as np

from helpers.exercises import check

IDS = ["03.scores", "03.attention", "03.causal_mask", "03.merge_heads"]


def _run(capsys, exercise_id, answer):
    ok = check(exercise_id, answer)
    return ok, capsys.readouterr().out


def test_scores_without_scaling_fail_with_values(capsys):
    ok, out = _run(capsys, "03.scores", lambda q, k: q @ np.swapaxes(k, -1, -2))
    assert not ok and "values differ" in out and "expected" in out


def test_scores_with_plain_transpose_name_the_shapes(capsys):
    ok, out = _run(capsys, "03.scores", lambda q, k: q @ k.T / np.sqrt(q.shape[-1]))
    assert not ok and "shape" in out


def test_attention_returning_only_the_output_fails(capsys):
    def output_only(q, k, v):
        scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
        weights = np.exp(scores) / np.exp(scores).sum(-1, keepdims=True)
        return weights @ v
    ok, out = _run(capsys, "03.attention", output_only)
    assert not ok and "tuple of length 2" in out


def test_attention_with_softmax_over_the_wrong_axis_fails(capsys):
    def wrong_axis(q, k, v):
        scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
        weights = np.exp(scores) / np.exp(scores).sum(-2, keepdims=True)
        return weights @ v, weights
    ok, out = _run(capsys, "03.attention", wrong_axis)
    assert not ok and "differ" in out


def test_causal_mask_upper_triangle_and_non_boolean_fail(capsys):
    ok, out = _run(capsys, "03.causal_mask", lambda T: np.triu(np.ones((T, T), dtype=bool)))
    assert not ok and "values differ" in out
    ok, out = _run(capsys, "03.causal_mask", lambda T: np.tril(np.ones((T, T))))
    assert not ok and "boolean" in out


def test_merge_heads_by_plain_reshape_fails(capsys):
    def plain_reshape(x):
        B, H, T, d = x.shape
        return x.reshape(B, T, H * d)   # right shape, features of different words mixed up
    ok, out = _run(capsys, "03.merge_heads", plain_reshape)
    assert not ok and "values differ" in out


def test_merge_heads_undoes_the_split_of_multi_head_attention(capsys):
    from helpers.exercises import _get

    x = np.random.default_rng(0).normal(size=(2, 5, 12))                   # (B, T, C)
    split = x.reshape(2, 5, 3, 4).transpose(0, 2, 1, 3)                   # (B, H, T, d)
    assert np.array_equal(_get("03.merge_heads").reference(split), x)


def test_the_notebook_has_these_exercises():
    from helpers.exercises import available
    assert [i for i in available() if i.startswith("03.")] == sorted(IDS)
