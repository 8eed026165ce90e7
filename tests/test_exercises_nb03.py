"""Exercises of notebook 03_attention: each reference solution passes; typical mistakes get a helpful message."""
import numpy as np

from helpers.exercises import check

IDS = ["03.scores", "03.fix_attention", "03.flip_it", "03.equal_keys", "03.merge_heads", "03.third_sentence"]


def _run(capsys, exercise_id, answer):
    ok = check(exercise_id, answer)
    return ok, capsys.readouterr().out


def test_scores_without_scaling_fail_with_values(capsys):
    ok, out = _run(capsys, "03.scores", lambda q, k: q @ np.swapaxes(k, -1, -2))
    assert not ok and "values differ" in out and "expected" in out and "hint: divide by sqrt(d_k)" in out


def test_scores_with_the_key_transposed_the_wrong_way_get_a_hint(capsys):
    ok, out = _run(capsys, "03.scores", lambda q, k: k @ np.swapaxes(q, -1, -2) / np.sqrt(q.shape[-1]))
    assert not ok and "hint: the key is transposed the wrong way round" in out


def test_scores_with_plain_transpose_name_the_shapes(capsys):
    ok, out = _run(capsys, "03.scores", lambda q, k: q @ k.T / np.sqrt(q.shape[-1]))
    assert not ok and "shape" in out


def test_attention_returning_only_the_output_fails(capsys):
    def output_only(q, k, v):
        scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
        weights = np.exp(scores) / np.exp(scores).sum(-1, keepdims=True)
        return weights @ v
    ok, out = _run(capsys, "03.fix_attention", output_only)
    assert not ok and "tuple of length 2" in out


def test_attention_with_softmax_over_the_wrong_axis_fails(capsys):
    def wrong_axis(q, k, v):
        scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
        weights = np.exp(scores) / np.exp(scores).sum(-2, keepdims=True)
        return weights @ v, weights
    ok, out = _run(capsys, "03.fix_attention", wrong_axis)
    assert not ok and "differ" in out and "softmax along the last axis" in out


def test_the_notebooks_buggy_attention_left_as_it_is_fails(capsys):
    def buggy(q, k, v):
        scores = q @ k.T / np.sqrt(q.shape[-1])
        weights = np.exp(scores) / np.exp(scores).sum(axis=0)
        return weights @ v, weights
    ok, out = _run(capsys, "03.fix_attention", buggy)
    assert not ok and ("raised ValueError" in out or "differ" in out) and "input 1:" in out


def test_equal_keys_mistakes_get_their_hints(capsys):
    ok, out = _run(capsys, "03.equal_keys", lambda T: np.full((T, T), 1 / T))
    assert not ok and "row i spreads over i + 1 keys" in out
    ok, out = _run(capsys, "03.equal_keys", lambda T: np.triu(np.ones((T, T))) / np.arange(T, 0, -1)[:, None])
    assert not ok and "see the future" in out


def test_equal_keys_reference_is_what_attention_measures():
    from helpers.attention import causal_mask, scaled_dot_product_attention
    from helpers.exercises import _get

    rng = np.random.default_rng(0)
    q, key = rng.normal(size=(7, 4)), rng.normal(size=(1, 4))
    _, weights = scaled_dot_product_attention(q, np.repeat(key, 7, axis=0), rng.normal(size=(7, 3)), causal_mask(7))
    assert np.allclose(weights, _get("03.equal_keys").reference(7))


def test_flip_it_reference_flips_both_sentences_and_mistakes_are_explained(capsys):
    from helpers.attention import detective_example
    from helpers.exercises import _get
    from helpers.exercises.nb03_attention import _where_it_looks

    assert [w for w, _ in _where_it_looks(detective_example()["W_k2"])] == ["person", "swap"]
    assert [w for w, _ in _where_it_looks(_get("03.flip_it").reference)] == ["swap", "person"]
    ok, out = _run(capsys, "03.flip_it", detective_example()["W_k2"])
    assert not ok and "unchanged" in out
    ok, out = _run(capsys, "03.flip_it", np.zeros((8, 4)))
    assert not ok and "with your W_k2, 'it' looks at sentence 1:" in out
    ok, out = _run(capsys, "03.flip_it", np.zeros((4, 8)))
    assert not ok and "(8, 4)" in out


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


def test_third_sentence_a_living_hungry_fails_with_the_hint_about_keys(capsys):
    living = np.zeros(8)
    living[0] = 1.0
    assert not check("03.third_sentence", living)
    out = capsys.readouterr().out
    assert "looks at" in out and "W_k1" in out


def test_third_sentence_a_hungry_like_effective_makes_it_pick_the_swap(capsys):
    works_well = np.zeros(8)
    works_well[5] = 1.0                                  # like "effective": the finance hint
    assert not check("03.third_sentence", works_well)
    assert "looks at 'swap'" in capsys.readouterr().out


def test_third_sentence_wrong_shape_is_explained(capsys):
    assert not check("03.third_sentence", np.zeros(4))
    assert "(8,)" in capsys.readouterr().out
