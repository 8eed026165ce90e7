"""The exercises of notebook 02_embeddings: a typical mistake fails helpfully (that every
reference and revealed solution passes is tested for all notebooks in test_exercises.py)."""
import numpy as np
import pytest

from helpers import embeddings, exercises

from helpers.exercises import _get, check

IDS = ["02.one_hot", "02.fix_pair_counts", "02.neighbour_counts", "02.ppmi", "02.positional_encoding"]


def test_the_notebook_has_these_exercises():
    assert [i for i in exercises.available() if i.startswith("02.")] == sorted(IDS)


def _one_hot_ignoring_unknown(ids, vocab_size):
    # The notebook's one_hot as it stands: id -1 silently lights the last column (NumPy counts
    # negative indices from the end) instead of leaving the row empty.
    vectors = np.zeros((len(ids), vocab_size))
    vectors[np.arange(len(ids)), ids] = 1.0
    return vectors


def _neighbour_counts_a_repeat_once(ids, vocab_size):
    counts = embeddings.cooccurrence_counts(ids, vocab_size, window=1, dtype=np.float64)
    counts[np.diag_indices(vocab_size)] /= 2  # a word right after itself counted from one side only
    return counts


def _ppmi_without_smoothing(counts, alpha):
    return embeddings.ppmi(counts)  # alpha ignored: P(j) from the plain column sums


def _ppmi_forgot_the_positive_part(counts, alpha):
    total = counts.sum()
    weights = counts.sum(0) ** alpha
    with np.errstate(divide="ignore"):
        pmi = np.log(counts / total / (counts.sum(1)[:, None] / total * (weights / weights.sum())[None]))
    return np.where(counts > 0, pmi, 0.0)


def _ppmi_smoothing_without_renormalising(counts, alpha):
    total = counts.sum()
    p_context = counts.sum(0) ** alpha / total  # no longer sums to 1
    with np.errstate(divide="ignore"):
        pmi = np.log(counts / total / (counts.sum(1)[:, None] / total * p_context[None]))
    return np.where(counts > 0, np.maximum(pmi, 0.0), 0.0)


def _encoding_sin_cos_in_halves(length, dim):
    angles = np.arange(length)[:, None] / 10000 ** (np.arange(0, dim, 2)[None] / dim)
    return np.concatenate([np.sin(angles), np.cos(angles)], axis=1)


@pytest.mark.parametrize("exercise_id, wrong, hint", [
    ("02.one_hot", lambda ids, v: np.eye(v)[ids].T, "expected shape"),               # rows and columns swapped
    ("02.one_hot", _one_hot_ignoring_unknown, "differ"),                            # -1 lights the last column
    ("02.neighbour_counts",                                                          # only one direction
     lambda ids, v: np.histogram2d(ids[:-1], ids[1:], bins=v, range=[[0, v], [0, v]])[0], "differ"),
    ("02.neighbour_counts", _neighbour_counts_a_repeat_once, "differ"),               # [a, a] adds 1, not 2
    ("02.ppmi", _ppmi_without_smoothing, "differ"),
    ("02.ppmi", _ppmi_forgot_the_positive_part, "differ"),
    ("02.ppmi", _ppmi_smoothing_without_renormalising, "differ"),
    ("02.positional_encoding", _encoding_sin_cos_in_halves, "differ"),
])
def test_typical_mistake_fails_with_a_helpful_message(exercise_id, wrong, hint, capsys):
    assert not exercises.check(exercise_id, wrong)
    out = capsys.readouterr().out
    assert "[not yet]" in out and hint in out and "on inputs" in out


def test_one_hot_inputs_always_hold_an_unknown_word():
    # Otherwise the mistake above could slip through on some seeds.
    exercise = exercises._get("02.one_hot")
    for trial in range(exercise.trials):
        ids, vocab_size = exercise.make_inputs(np.random.default_rng(1000 + trial))
        assert (ids == -1).any() and ids.max() < vocab_size


def _buggy_count_pairs(ids, vocab_size, window):
    # The colleague's counter of notebook 02's exercise 2, as the notebook shows it.
    counts = np.zeros((vocab_size, vocab_size))
    for position, word in enumerate(ids):
        for other in range(position - window, min(len(ids), position + window)):
            counts[word, ids[other]] += 1
    return counts


def test_fix_pair_counts_reference_matches_plain_loops():
    rng = np.random.default_rng(0)
    for _ in range(20):
        ids, vocab_size, window = _get("02.fix_pair_counts").make_inputs(rng)
        by_loops = np.zeros((vocab_size, vocab_size))
        for a in range(len(ids)):
            for b in range(len(ids)):
                if a != b and abs(a - b) <= window:
                    by_loops[ids[a], ids[b]] += 1
        assert np.array_equal(_get("02.fix_pair_counts").reference(ids, vocab_size, window), by_loops)


def test_the_buggy_pair_counter_left_as_it_is_fails(capsys):
    ok = check("02.fix_pair_counts", _buggy_count_pairs)
    out = capsys.readouterr().out
    assert not ok and "differ" in out


def test_each_single_bug_gets_its_own_hint(capsys):
    exercise = _get("02.fix_pair_counts")
    hints = {"own neighbour": exercise.mistakes[0][0], "stops before b": exercise.mistakes[1][0],
             "max(0, position - window)": exercise.mistakes[2][0]}
    for hint, wrong in hints.items():
        assert not check("02.fix_pair_counts", wrong)
        assert hint in capsys.readouterr().out, hint


def test_the_wrap_around_bug_alone_differs_from_the_reference():
    exercise = _get("02.fix_pair_counts")
    ids = np.array([0, 1, 2, 3])
    assert not np.array_equal(exercise.mistakes[2][0](ids, 4, 1), exercise.reference(ids, 4, 1))
