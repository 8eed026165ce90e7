"""Exercises of notebook 04_softmax_and_scaling: reference solutions pass; typical mistakes get a helpful message."""
import numpy as np

from helpers.exercises import _get, check

IDS = ["04.stable_softmax", "04.fix_masked_softmax", "04.temperature_for", "04.scaled_weights", "04.softmax_jacobian"]


def _run(capsys, exercise_id, answer):
    ok = check(exercise_id, answer)
    return ok, capsys.readouterr().out


def test_naive_softmax_overflows_and_is_caught(capsys):
    def naive(x):
        return np.exp(x) / np.exp(x).sum(axis=-1, keepdims=True)
    with np.errstate(over="ignore", invalid="ignore"):
        ok, out = _run(capsys, "04.stable_softmax", naive)
    assert not ok and "values differ" in out and "nan" in out
    assert "subtract the row's maximum first" in out


def test_softmax_over_the_wrong_axis_fails(capsys):
    def first_axis(x):
        exps = np.exp(x - x.max(axis=0, keepdims=True))
        return exps / exps.sum(axis=0, keepdims=True)
    ok, out = _run(capsys, "04.stable_softmax", first_axis)
    assert not ok and "differ" in out


def _stable(x):
    exps = np.exp(x - x.max(axis=-1, keepdims=True))
    return exps / exps.sum(axis=-1, keepdims=True)


def test_the_buggy_masked_softmax_left_as_it_is_fails_with_its_hint(capsys):
    ok, out = _run(capsys, "04.fix_masked_softmax", lambda x, mask: np.where(mask, _stable(x), 0.0))
    assert not ok and "values differ" in out and "no longer sum to 1" in out and "input 2:" in out


def test_masked_softmax_with_zeroed_scores_gets_the_minus_infinity_hint(capsys):
    ok, out = _run(capsys, "04.fix_masked_softmax", lambda x, mask: _stable(np.where(mask, x, 0.0)))
    assert not ok and "values differ" in out and "-np.inf" in out


def test_masked_softmax_reference_gives_zero_weight_and_rows_summing_to_one():
    exercise = _get("04.fix_masked_softmax")
    scores, mask = exercise.make_inputs(np.random.default_rng(0))
    weights = exercise.reference(scores, mask)
    assert np.all(weights[~mask] == 0) and np.allclose(weights.sum(axis=-1), 1)


def test_temperature_for_gives_the_asked_top_weight():
    exercise = _get("04.temperature_for")
    for seed in range(20):
        scores, top = exercise.make_inputs(np.random.default_rng(seed))
        T = exercise.reference(scores, top)
        assert np.isclose(_stable(scores / T).max(), top, atol=1e-6)


def test_temperature_for_mistakes_fail_clearly(capsys):
    exercise = _get("04.temperature_for")
    ok, out = _run(capsys, "04.temperature_for", lambda scores, top: 1 / exercise.reference(scores, top))
    assert not ok and "expected T = " in out and "1 / T" in out
    ok, out = _run(capsys, "04.temperature_for", lambda scores, top: 1.0)
    assert not ok and "expected T = " in out and "got 1" in out
    ok, out = _run(capsys, "04.temperature_for", lambda scores, top: None)
    assert not ok and "a temperature (a float)" in out


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


def test_softmax_jacobian_by_autograd_is_the_formula_and_its_columns_sum_to_zero():
    scores = np.array([2.0, 1.0, 0.1, -1.0])
    weights = _stable(scores)
    jacobian = _get("04.softmax_jacobian").reference(scores)
    assert np.allclose(jacobian, np.diag(weights) - np.outer(weights, weights))
    assert np.allclose(jacobian.sum(axis=0), 0)


def test_softmax_jacobian_diagonal_only_gets_the_off_diagonal_hint(capsys):
    ok, out = _run(capsys, "04.softmax_jacobian", lambda s: np.diag(_stable(s) * (1 - _stable(s))))
    assert not ok and "only the diagonal" in out


def test_softmax_jacobian_with_flipped_signs_gets_its_hint(capsys):
    ok, out = _run(capsys, "04.softmax_jacobian", lambda s: np.outer(_stable(s), _stable(s)) - np.diag(_stable(s)))
    assert not ok and "signs are flipped" in out


def test_softmax_jacobian_transposed_product_is_caught(capsys):
    # A Jacobian built from one weight only (p_i p_i off the diagonal) is wrong and must fail.
    def wrong(s):
        p = _stable(s)
        return np.diag(p) - np.outer(p, np.ones_like(p)) * p[:, None]
    ok, out = _run(capsys, "04.softmax_jacobian", wrong)
    assert not ok
