"""Tests of helpers/embeddings.py against slow, obvious Python references (notebook 02)."""
import math

import numpy as np
import pytest

from helpers import embeddings
from helpers.text import split_words

TINY_CORPUS = "the king and the queen . the king is old . a queen is young and a king is old ."


def naive_cooccurrence(ids, vocab_size, window):
    """Two plain loops: for every position, every neighbour within the window."""
    counts = np.zeros((vocab_size, vocab_size))
    for position, word in enumerate(ids):
        for other in range(max(0, position - window), min(len(ids), position + window + 1)):
            if other != position and word >= 0 and ids[other] >= 0:
                counts[word, ids[other]] += 1
    return counts


def naive_ppmi(counts, context_smoothing=1.0):
    total = counts.sum()
    context_weights = counts.sum(axis=0) ** context_smoothing
    result = np.zeros_like(counts, dtype=float)
    for i in range(counts.shape[0]):
        for j in range(counts.shape[1]):
            if counts[i, j] > 0:
                p_ij = counts[i, j] / total
                p_i = counts[i].sum() / total
                p_j = context_weights[j] / context_weights.sum()
                result[i, j] = max(0.0, math.log(p_ij / (p_i * p_j)))
    return result


def tiny_ids(vocab_size=None):
    words = split_words(TINY_CORPUS)
    vocab, _ = embeddings.top_words(words, vocab_size or 100)
    return embeddings.words_to_ids(words, vocab), vocab


def test_top_words_ranks_by_count_then_alphabetically():
    vocab, counts = embeddings.top_words(["b", "a", "c", "a", "b", "d"], 3)
    assert vocab == ["a", "b", "c"] and counts.tolist() == [2, 2, 1]
    assert embeddings.words_to_ids(["c", "zzz", "a"], vocab).tolist() == [2, -1, 0]


@pytest.mark.parametrize("window", [1, 2, 3, 5])
@pytest.mark.parametrize("vocab_size", [4, 100])  # 4: some words are outside the vocabulary (-1)
def test_cooccurrence_equals_naive_reference(window, vocab_size):
    ids, vocab = tiny_ids(vocab_size)
    fast = embeddings.cooccurrence_counts(ids, len(vocab), window)
    assert fast.shape == (len(vocab), len(vocab))
    assert np.array_equal(fast, naive_cooccurrence(ids, len(vocab), window))
    assert np.array_equal(fast, fast.T)


def test_cooccurrence_on_random_ids_and_known_small_case():
    rng = np.random.default_rng(0)
    ids = rng.integers(-1, 7, size=300)
    assert np.array_equal(embeddings.cooccurrence_counts(ids, 7, 3), naive_cooccurrence(ids, 7, 3))
    # "a b a" with window 1: a-b twice each way.
    counts = embeddings.cooccurrence_counts(np.array([0, 1, 0]), 2, 1)
    assert counts.tolist() == [[0, 2], [2, 0]]


def test_cooccurrence_errors_teach():
    with pytest.raises(ValueError, match="outside the vocabulary"):
        embeddings.cooccurrence_counts(np.array([0, 5]), 3)
    with pytest.raises(ValueError, match="shape"):
        embeddings.cooccurrence_counts(np.zeros((2, 2), dtype=int), 3)


@pytest.mark.parametrize("context_smoothing", [1.0, 0.75])
def test_ppmi_equals_naive_reference(context_smoothing):
    ids, vocab = tiny_ids()
    counts = embeddings.cooccurrence_counts(ids, len(vocab), 2, dtype=np.float64)
    fast = embeddings.ppmi(counts, context_smoothing)
    assert np.allclose(fast, naive_ppmi(counts, context_smoothing))
    assert (fast >= 0).all() and (fast[counts == 0] == 0).all()


def test_ppmi_float32_close_to_float64_and_handles_empty_rows():
    rng = np.random.default_rng(1)
    counts = rng.poisson(2.0, size=(6, 6)).astype(np.float64)
    counts[3] = 0  # a word that never met anything
    counts[:, 3] = 0
    ppmi32 = embeddings.ppmi(counts.astype(np.float32))
    assert ppmi32.dtype == np.float32 and np.isfinite(ppmi32).all()
    assert np.allclose(ppmi32, naive_ppmi(counts), atol=1e-5)


def test_truncated_svd_matches_exact_svd_and_is_seeded():
    rng = np.random.default_rng(2)
    low_rank = rng.normal(size=(60, 5)) @ rng.normal(size=(5, 40)) * np.array([10, 5, 3, 2, 1.0])[None, :5].sum()
    matrix = low_rank + 1e-3 * rng.normal(size=(60, 40))
    u, s, vt = embeddings.truncated_svd(matrix, 5, seed=0)
    exact = np.linalg.svd(matrix, compute_uv=False)[:5]
    assert u.shape == (60, 5) and s.shape == (5,) and vt.shape == (5, 40)
    assert np.allclose(s, exact, rtol=1e-6)
    assert np.allclose(u.T @ u, np.eye(5), atol=1e-8)
    assert np.allclose(u * s @ vt, matrix, atol=1e-2)
    again = embeddings.truncated_svd(matrix, 5, seed=0)
    assert all(np.array_equal(a, b) for a, b in zip((u, s, vt), again))
    with pytest.raises(ValueError, match="rank"):
        embeddings.truncated_svd(matrix, 41)


def test_cosine_similarity_shapes_and_values():
    a = np.array([[1.0, 0.0], [1.0, 1.0]])
    b = np.array([[2.0, 0.0], [0.0, 3.0], [-1.0, 0.0]])
    expected = np.array([[1, 0, -1], [1 / np.sqrt(2), 1 / np.sqrt(2), -1 / np.sqrt(2)]])
    assert np.allclose(embeddings.cosine_similarity(a, b), expected)
    assert np.allclose(embeddings.cosine_similarity(a[1], b), expected[1])
    assert embeddings.cosine_similarity(a[0], b[0]) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="same length"):
        embeddings.cosine_similarity(np.ones(3), np.ones(2))


def test_nearest_neighbours_on_a_toy_case():
    vocab = ["king", "queen", "apple", "pear", "monarch"]
    vectors = np.array([[1.0, 0.1], [0.9, 0.2], [0.0, 1.0], [0.1, 0.9], [1.0, 0.0]])
    neighbours = embeddings.nearest_neighbours(vectors, vocab, "king", k=2)
    assert [word for word, _ in neighbours] == ["monarch", "queen"]
    assert neighbours[0][1] > neighbours[1][1]
    assert embeddings.nearest_neighbours(vectors, vocab, "apple", k=1)[0][0] == "pear"
    with pytest.raises(KeyError, match="not among"):
        embeddings.nearest_neighbours(vectors, vocab, "swap")


def test_word_vectors_pipeline_groups_words_that_share_contexts():
    # Two families of words that appear in the same frames: the vectors must find the family.
    rng = np.random.default_rng(3)
    sentences = []
    for _ in range(400):
        sentences.append(f"the {rng.choice(['king', 'queen', 'duke'])} rules the land .")
        sentences.append(f"i eat a {rng.choice(['apple', 'pear', 'plum'])} with bread .")
    vectors = embeddings.word_vectors_from_text(" ".join(sentences), vocab_size=50, window=2, dim=4)
    assert {w for w, _ in vectors.neighbours("king", 2)} == {"queen", "duke"}
    assert {w for w, _ in vectors.neighbours("plum", 2)} == {"apple", "pear"}
    assert vectors.similarity("king", "queen") > vectors.similarity("king", "pear")
    assert "king" in vectors and "swap" not in vectors
    assert np.allclose(np.linalg.norm(vectors.vectors, axis=1), 1)


@pytest.mark.parametrize("length, dim", [(50, 16), (7, 5), (1, 1), (0, 4)])
def test_positional_encoding_matches_its_formula(length, dim):
    encoding = embeddings.positional_encoding(length, dim)
    assert encoding.shape == (length, dim)
    for t in range(length):
        for column in range(dim):
            i = column // 2
            angle = t / 10000 ** (2 * i / dim)
            expected = math.sin(angle) if column % 2 == 0 else math.cos(angle)
            assert encoding[t, column] == pytest.approx(expected, abs=1e-12)


def test_positional_encoding_distinguishes_positions():
    encoding = embeddings.positional_encoding(64, 32)
    distances = np.linalg.norm(encoding[:, None] - encoding[None], axis=-1)  # (T, T)
    assert (distances + np.eye(64) > 1e-3).all(), "two positions got the same encoding"
    assert np.allclose(encoding[0, 0::2], 0) and np.allclose(encoding[0, 1::2], 1)


def test_truncated_svd_of_a_matrix_with_fewer_directions_than_asked():
    # Rank 2 only: the fast orthonormalisation cannot work and must fall back, still exact.
    rng = np.random.default_rng(4)
    matrix = rng.normal(size=(30, 2)) @ rng.normal(size=(2, 25))
    u, s, vt = embeddings.truncated_svd(matrix, 6, seed=0)
    exact = np.linalg.svd(matrix, compute_uv=False)[:6]
    assert np.isfinite(u).all() and np.isfinite(vt).all()
    assert np.allclose(s, exact, atol=1e-8)
    assert np.allclose((u[:, :2] * s[:2]) @ vt[:2], matrix)
    assert np.allclose(embeddings.truncated_svd(np.zeros((5, 4)), 2)[1], 0)


def test_truncated_svd_float32_keeps_float32():
    matrix = np.random.default_rng(5).random((50, 40)).astype(np.float32)
    u, s, vt = embeddings.truncated_svd(matrix, 3)
    assert u.dtype == s.dtype == vt.dtype == np.float32
    assert np.allclose(s, np.linalg.svd(matrix.astype(np.float64), compute_uv=False)[:3], rtol=2e-3)


def test_benchmark_reports_the_whole_corpus_pipeline():
    # What `python -m helpers.embeddings` prints: seconds are not judged here (a busy machine is
    # slow), only that every step ran over all the plays and the numbers add up.
    result = embeddings.benchmark(repeats=1)
    assert result["words"] > 800_000 and result["vocab"] == embeddings.DEFAULT_VOCAB_SIZE
    parts = result["median_counts_s"] + result["median_ppmi_s"] + result["median_svd_s"]
    assert 0 < parts <= result["median_total_s"] + 0.01
    assert result["peak_memory_mb"] > 100


def test_top_words_rows_are_the_tokenizer_ids_minus_one():
    # Two numberings of the same ranking: the tokenizer reserves id 0 for '<unk>', top_words has no
    # unknown row (-1). Notebook 02 tells learners so; this keeps the docstrings true.
    from helpers.text import WordTokenizer
    vocab, _ = embeddings.top_words(split_words(TINY_CORPUS), 5)
    tokenizer = WordTokenizer.from_text(TINY_CORPUS, max_words=5)
    assert tokenizer.vocab[1:] == vocab
    assert all(tokenizer.token_to_id[word] == row + 1 for row, word in enumerate(vocab))
    assert embeddings.words_to_ids(["zzz"], vocab).tolist() == [-1] and tokenizer.encode("zzz") == [0]


def test_context_smoothing_shifts_each_column_by_one_amount():
    # PMI with smoothing alpha = PMI without + log(P(j) / P_alpha(j)), the same shift down a column:
    # up for frequent contexts, down for rare ones (what notebook 02 shows on the king row).
    rng = np.random.default_rng(6)
    counts = rng.poisson(20.0, size=(8, 8)).astype(np.float64) * np.arange(1, 9)[None, :]
    counts = counts + counts.T
    plain, smoothed = embeddings.ppmi(counts), embeddings.ppmi(counts, 0.75)
    context = counts.sum(axis=0)
    shift = np.log(context / context.sum()) - np.log(context ** 0.75 / (context ** 0.75).sum())  # (V,)
    both_positive = (plain > 0) & (smoothed > 0)
    assert np.allclose((smoothed - plain)[both_positive], np.broadcast_to(shift, counts.shape)[both_positive])
    assert shift[context.argmax()] > 0 > shift[context.argmin()]


def test_word_lists_and_missing_words_get_errors_that_help():
    with pytest.raises(TypeError, match="split it first"):
        embeddings.top_words("the king and the queen")                  # a str: not its characters
    with pytest.raises(TypeError, match="split it first"):
        embeddings.words_to_ids("the king", ["the", "king"])
    vectors = np.eye(3)
    with pytest.raises(KeyError, match="lower case: try 'king'"):
        embeddings.nearest_neighbours(vectors, ["the", "king", "queen"], "King")
    with pytest.raises(KeyError, match="Only frequent words get one"):
        embeddings.nearest_neighbours(vectors, ["the", "king", "queen"], "swap")


# ---------------------------------------------------------------------- what the explorers of notebook 02 show

def test_neighbour_table_lists_neighbours_or_says_why_not(toy_word_vectors):
    toy = toy_word_vectors
    table = embeddings.neighbour_table(toy, "  King ", k=2)
    lines = table.splitlines()
    assert lines[0] == "nearest to 'king' (50 times in the plays):"
    assert [line.split()[0] for line in lines[1:]] == ["duke", "queen"]
    assert "'swap' has no vector" in embeddings.neighbour_table(toy, "swap")
    assert embeddings.neighbour_table(toy, " ") == "Type a word."


def test_word_map_points_keeps_distances_of_the_chosen_words(toy_word_vectors):
    toy = toy_word_vectors
    points, kept, missing = embeddings.word_map_points(toy, ["king", "queen", "swap", "apple", "pear", "king"])
    assert kept == ["king", "queen", "apple", "pear"] and missing == ["swap"]
    assert points.shape == (4, 2)
    distance = lambda a, b: np.linalg.norm(points[kept.index(a)] - points[kept.index(b)])
    assert distance("king", "queen") < distance("king", "apple")
    assert np.allclose(points.mean(axis=0), 0)
    two, kept_two, _ = embeddings.word_map_points(toy, ["king", "pear"])
    assert two.shape == (2, 2) and kept_two == ["king", "pear"]
    assert embeddings.word_map_points(toy, ["swap"])[0].shape == (0, 2)


def test_nearest_ids_agrees_with_nearest_neighbours_for_every_word_and_block_size():
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(23, 5))
    vocab = [f"w{i}" for i in range(23)]
    for block in (1, 4, 500):
        found = embeddings.nearest_ids(vectors, k=3, block=block)
        assert found.shape == (23, 3)
        for i, word in enumerate(vocab):
            expected = sorted(vocab.index(w) for w, _ in embeddings.nearest_neighbours(vectors, vocab, word, 3))
            assert found[i].tolist() == expected and i not in found[i]


def test_nearest_ids_k1_is_the_single_nearest_word_and_ignores_length():
    vectors = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [-5.0, 0.1]])
    assert embeddings.nearest_ids(vectors).ravel().tolist() == [1, 0, 1, 2]
    assert np.array_equal(embeddings.nearest_ids(vectors * 7.0), embeddings.nearest_ids(vectors))
