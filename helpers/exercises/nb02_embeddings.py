"""Exercises of notebook 02_embeddings: one-hot vectors, fix a pair counter, co-occurrence counts, PPMI,
positions."""
import numpy as np

from helpers import embeddings
from helpers.exercises import Exercise, register


def _one_hot_with_unknown(ids, vocab_size):
    ids = np.asarray(ids)
    vectors = np.zeros((len(ids), vocab_size))      # (N, V)
    known = np.flatnonzero(ids >= 0)                # rows whose word has an id
    vectors[known, ids[known]] = 1.0
    return vectors


def _ids_with_unknown(rng):
    """Ids in [-1, vocab_size), at least one of them -1 (a word outside the vocabulary)."""
    vocab_size = int(rng.integers(6, 10))
    ids = rng.integers(-1, vocab_size, size=int(rng.integers(2, 9)))
    ids[rng.integers(len(ids))] = -1
    return ids, vocab_size


register(Exercise(
    id="02.one_hot",
    task=("write my_one_hot(ids, vocab_size): a (len(ids), vocab_size) array with a single 1 per row, "
          "and a row of zeros where the id is -1 (a word outside the vocabulary)"),
    reference=_one_hot_with_unknown,
    make_inputs=_ids_with_unknown,
    solution='''def my_one_hot(ids, vocab_size):
    ids = np.asarray(ids)
    vectors = np.zeros((len(ids), vocab_size))      # (N, V)
    known = np.flatnonzero(ids >= 0)                # leave the rows of -1 alone: all zeros
    vectors[known, ids[known]] = 1.0                # row n gets its 1 in column ids[n]
    return vectors''',
))


def _pair_counts(ids, vocab_size, window):
    return embeddings.cooccurrence_counts(np.asarray(ids), vocab_size, window=window, dtype=np.float64)


def _count_pairs_with(ids, vocab_size, window, first, last, skip_self):
    """A pair counter with its window from position + first to position + last (both included)."""
    counts = np.zeros((vocab_size, vocab_size))
    for position, word in enumerate(ids):
        for other in range(position + first, position + last + 1):
            if (skip_self and other == position) or not 0 <= other < len(ids):
                continue
            counts[word, ids[other]] += 1
    return counts


def _wrapping_around(ids, vocab_size, window):
    # The notebook's first bug alone: a negative place reads the end of the list.
    counts = _count_pairs_with(ids, vocab_size, window, -window, window, skip_self=True)
    for position, word in enumerate(ids):
        for other in range(position - window, 0):
            counts[word, ids[other]] += 1
    return counts


def _ids_and_window(rng):
    vocab_size = int(rng.integers(3, 7))
    return rng.integers(0, vocab_size, size=int(rng.integers(4, 12))), vocab_size, int(rng.integers(1, 4))


register(Exercise(
    id="02.fix_pair_counts",
    task=("fix count_pairs(ids, vocab_size, window): counts[i, j] = how often word j stands at most "
          "`window` places before or after word i (a word is not its own neighbour)"),
    reference=_pair_counts,
    make_inputs=_ids_and_window,
    mistakes=((lambda ids, v, w: _count_pairs_with(ids, v, w, -w, w, skip_self=False),
               "every word is counted as its own neighbour: skip other == position"),
              (lambda ids, v, w: _count_pairs_with(ids, v, w, -w, w - 1, skip_self=True),
               "the last place of the window is missing: range(a, b) stops before b"),
              (_wrapping_around,
               "near the start, a negative place such as ids[-1] quietly reads the end of the list: "
               "start the window at max(0, position - window)")),
    solution='''def count_pairs(ids, vocab_size, window):
    counts = np.zeros((vocab_size, vocab_size))
    for position, word in enumerate(ids):
        start, stop = max(0, position - window), min(len(ids), position + window + 1)   # bugs 1 and 2
        for other in range(start, stop):
            if other != position:                                                       # bug 3
                counts[word, ids[other]] += 1
    return counts''',
))


def _neighbour_counts(ids, vocab_size):
    return embeddings.cooccurrence_counts(ids, vocab_size, window=1, dtype=np.float64)


register(Exercise(
    id="02.neighbour_counts",
    task=("write neighbour_counts(ids, vocab_size): counts[i, j] = how often word j stands right "
          "before or right after word i (a window of 1; a word right after itself adds 2 to counts[a, a])"),
    reference=_neighbour_counts,
    make_inputs=lambda rng: (rng.integers(0, 5, size=int(rng.integers(2, 30))), 5),
    solution='''def neighbour_counts(ids, vocab_size):
    counts = np.zeros((vocab_size, vocab_size))
    np.add.at(counts, (ids[:-1], ids[1:]), 1)       # j right after i
    return counts + counts.T                        # ... or right before''',
))


def _counts_and_alpha(rng):
    size = int(rng.integers(3, 7))
    counts = rng.poisson(3.0, size=(size, size)).astype(float)
    alpha = round(float(rng.uniform(0.5, 0.95)), 2)  # always below 1, so forgetting it shows
    return counts + counts.T, alpha  # symmetric, like real co-occurrence counts


register(Exercise(
    id="02.ppmi",
    task=("write my_ppmi(counts, alpha): PPMI with context smoothing, P(j) from the column sums raised "
          "to the power alpha, as helpers.embeddings.ppmi(counts, context_smoothing=alpha)"),
    reference=lambda counts, alpha: embeddings.ppmi(counts.astype(np.float64), context_smoothing=alpha),
    make_inputs=_counts_and_alpha,
    solution='''def my_ppmi(counts, alpha):
    total = counts.sum()
    p_pair = counts / total                              # (V, V)
    p_word = counts.sum(axis=1) / total                  # (V,)
    context_weights = counts.sum(axis=0) ** alpha        # (V,) smoothed context counts
    p_context = context_weights / context_weights.sum()  # (V,) they sum to 1 again
    with np.errstate(divide="ignore", invalid="ignore"):
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
