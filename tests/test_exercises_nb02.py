"""The exercises of notebook 02_embeddings: a typical mistake fails helpfully (that every
reference and revealed solution passes is tested for all notebooks in test_exercises.py)."""
import numpy as np
import pytest

from helpers import exercises

IDS = ["02.one_hot", "02.neighbour_counts", "02.ppmi", "02.positional_encoding"]


def test_the_notebook_has_these_exercises():
    assert [i for i in exercises.available() if i.startswith("02.")] == sorted(IDS)


def _ppmi_forgot_the_positive_part(counts):
    total = counts.sum()
    with np.errstate(divide="ignore"):
        pmi = np.log(counts / total / (counts.sum(1)[:, None] / total * counts.sum(0)[None] / total))
    return np.where(counts > 0, pmi, 0.0)


def _encoding_sin_cos_in_halves(length, dim):
    angles = np.arange(length)[:, None] / 10000 ** (np.arange(0, dim, 2)[None] / dim)
    return np.concatenate([np.sin(angles), np.cos(angles)], axis=1)


@pytest.mark.parametrize("exercise_id, wrong, hint", [
    ("02.one_hot", lambda ids, v: np.eye(v)[ids].T, "expected shape"),                # rows and columns swapped
    ("02.neighbour_counts",                                                          # only one direction
     lambda ids, v: np.histogram2d(ids[:-1], ids[1:], bins=v, range=[[0, v], [0, v]])[0], "differ"),
    ("02.ppmi", _ppmi_forgot_the_positive_part, "differ"),
    ("02.positional_encoding", _encoding_sin_cos_in_halves, "differ"),
])
def test_typical_mistake_fails_with_a_helpful_message(exercise_id, wrong, hint, capsys):
    assert not exercises.check(exercise_id, wrong)
    out = capsys.readouterr().out
    assert "[not yet]" in out and hint in out and "on inputs" in out
