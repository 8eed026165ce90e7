"""Exercises of notebook 02_embeddings: one-hot vectors, co-occurrence counts, PPMI, positions."""
import numpy as np

from helpers import embeddings
from helpers.exercises import Exercise, register


def _one_hot(ids, vocab_size):
    return np.eye(vocab_size)[ids]


register(Exercise(
    id="02.one_hot",
    task="write my_one_hot(ids, vocab_size): a (len(ids), vocab_size) array with a single 1 per row",
    reference=_one_hot,
    make_inputs=lambda rng: (rng.integers(0, 6, size=int(rng.integers(1, 8))), int(rng.integers(6, 10))),
    solution='''def my_one_hot(ids, vocab_size):
    vectors = np.zeros((len(ids), vocab_size))      # (N, V)
    vectors[np.arange(len(ids)), ids] = 1.0         # row n gets its 1 in column ids[n]
    return vectors''',
))


def _neighbour_counts(ids, vocab_size):
    return embeddings.cooccurrence_counts(ids, vocab_size, window=1, dtype=np.float64)


register(Exercise(
    id="02.neighbour_counts",
    task=("write neighbour_counts(ids, vocab_size): counts[i, j] = how often word j stands right "
          "before or right after word i (a window of 1)"),
    reference=_neighbour_counts,
    make_inputs=lambda rng: (rng.integers(0, 5, size=int(rng.integers(2, 30))), 5),
    solution='''def neighbour_counts(ids, vocab_size):
    counts = np.zeros((vocab_size, vocab_size))
    np.add.at(counts, (ids[:-1], ids[1:]), 1)       # j right after i
    return counts + counts.T                        # ... or right before''',
))


def _count_matrix(rng):
    size = int(rng.integers(3, 7))
    counts = rng.poisson(3.0, size=(size, size)).astype(float)
    return (counts + counts.T,)  # symmetric, like real co-occurrence counts


register(Exercise(
    id="02.ppmi",
    task="write my_ppmi(counts): max(0, log(P(i,j) / (P(i) P(j)))), and 0 where a pair never met",
    reference=lambda counts: embeddings.ppmi(counts.astype(np.float64)),
    make_inputs=_count_matrix,
    solution='''def my_ppmi(counts):
    total = counts.sum()
    p_pair = counts / total                              # (V, V)
    p_word = counts.sum(axis=1) / total                  # (V,)
    p_context = counts.sum(axis=0) / total               # (V,)
    with np.errstate(divide="ignore"):
        pmi = np.log(p_pair / (p_word[:, None] * p_context[None, :]))
    return np.where(counts > 0, np.maximum(pmi, 0.0), 0.0)''',
))


register(Exercise(
    id="02.positional_encoding",
    task=("write positional_encoding(length, dim): PE[t, 2i] = sin(t / 10000**(2i/dim)), "
          "PE[t, 2i+1] = cos(t / 10000**(2i/dim)), shape (length, dim), dim even"),
    reference=embeddings.positional_encoding,
    make_inputs=lambda rng: (int(rng.integers(1, 20)), 2 * int(rng.integers(1, 9))),
    solution='''def positional_encoding(length, dim):
    positions = np.arange(length)[:, None]                   # (T, 1)
    two_i = np.arange(0, dim, 2)[None, :]                    # (1, dim/2)
    angles = positions / 10000 ** (two_i / dim)              # (T, dim/2)
    encoding = np.zeros((length, dim))
    encoding[:, 0::2] = np.sin(angles)                       # even columns
    encoding[:, 1::2] = np.cos(angles)                       # odd columns
    return encoding''',
))
