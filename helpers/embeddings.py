"""Word vectors from co-occurrence counts, and positional encodings. Built in notebook 02_embeddings.

The article says input embeddings come from how often words occur and which words occur near
each other. This module makes that concrete, in four vectorised steps over the plays:

1. `cooccurrence_counts`: how often word j appears within `window` words of word i (V, V);
2. `ppmi`: positive pointwise mutual information, "more often together than chance would say";
3. `truncated_svd`: a randomized SVD in NumPy (seeded) that squeezes each row to `dim` numbers;
4. `cosine_similarity` / `nearest_neighbours` (one word) / `nearest_ids` (all words) on the resulting word vectors.

Only the `DEFAULT_VOCAB_SIZE` most frequent words get a row and a column: 5,000 words cover about
95% of the spoken words of the training plays (notebook 02 prints the share), and a dense
5,000 x 5,000 matrix is 100 MB in float32, 200 MB in float64. The pipeline holds two or three such
matrices at a time, which stays well inside Binder's 2 GB. Rarer words get no vector.

Notebook 02 feeds the pipeline the words of `helpers.text.spoken_text` of the training plays
(speaker headings are not words anyone said; the validation plays stay unseen) and counts in
float64 (`dtype=np.float64`). The counts themselves are whole numbers, exact in float32 too; the
dtype matters because it flows on into `ppmi` and `truncated_svd`, where rounding happens, and
float64 makes nearly tied neighbours less likely to swap places from one machine to another.

`positional_encoding` gives the sinusoidal positions of "Attention Is All You Need", shape (T, d).

Measure it here: `python -m helpers.embeddings` (float32) or `python -m helpers.embeddings
--float64` (the dtype notebook 02 counts in) times counts + PPMI + SVD over the spoken words of all
38 plays (the validation plays too: a little more text than the notebook's training plays, so its
seconds are an upper bound for the notebook's) and prints the median seconds and the peak memory
of the process as one JSON line. Seconds depend on the machine and its load; this docstring quotes
none: the notebook prints its own.
"""
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from helpers.text import split_words

DEFAULT_VOCAB_SIZE = 5000
DEFAULT_WINDOW = 4
DEFAULT_DIM = 100


# ====================================================================== vocabulary and ids

def missing_word_error(word, index):
    """The KeyError for a word without a vector: lower case is suggested when that is the slip."""
    hint = (f" The vocabulary is lower case: try {word.lower()!r}." if isinstance(word, str)
            and word.lower() in index else " Only frequent words get one.")
    return KeyError(f"{word!r} has no vector: it is not among the {len(index)} words of the vocabulary.{hint}")


def _check_word_list(words):
    if isinstance(words, str):
        raise TypeError(f"expects a list of words, got a str of {len(words)} characters: split it first, "
                        "with helpers.text.split_words(text)")


def top_words(words, vocab_size=DEFAULT_VOCAB_SIZE):
    """(vocab, counts): the `vocab_size` most frequent words, most frequent first (ties alphabetical).

    A word's row is its place in `vocab`, from 0. This is not `helpers.text.WordTokenizer`'s
    numbering: the tokenizer puts '<unk>' at id 0, so on the same text and size its id of a word is
    this row + 1, and a word outside `vocab` gets -1 here (no row) where the tokenizer gives 0.
    """
    _check_word_list(words)
    ranked = sorted(Counter(words).items(), key=lambda item: (-item[1], item[0]))[:vocab_size]
    return [word for word, _ in ranked], np.array([count for _, count in ranked], dtype=np.int64)


def words_to_ids(words, vocab):
    """Each word's row in `vocab`, or -1 for a word outside it (no row at all). (N,) int64."""
    _check_word_list(words)
    index = {word: i for i, word in enumerate(vocab)}
    return np.fromiter((index.get(word, -1) for word in words), dtype=np.int64, count=len(words))


# ====================================================================== counts, PPMI, SVD

def cooccurrence_counts(ids, vocab_size, window=DEFAULT_WINDOW, dtype=np.float32):
    """counts[i, j] = how often word j occurs at most `window` positions before or after word i.

    ids: (N,) word ids in running order, -1 for words outside the vocabulary (they still take up
    a position, so the window never jumps over them). Symmetric, with an empty diagonal except
    where a word repeats within the window. No Python loop over word pairs: for each distance d
    the pairs (ids[:-d], ids[d:]) become flat indices i * V + j, counted at once by np.bincount;
    that table holds "j after i", and adding its transpose adds "j before i".
    The counts are whole numbers, exact in float32 up to 2**24; `dtype` is what later steps inherit.
    """
    ids = np.asarray(ids, dtype=np.int64)
    if ids.ndim != 1:
        raise ValueError(f"ids must be one sequence of word ids, shape (N,); got shape {ids.shape}")
    if window < 1:
        raise ValueError(f"the window must be at least 1 word, got {window}")
    if ids.size and ids.max() >= vocab_size:
        raise ValueError(f"an id {ids.max()} is outside the vocabulary of {vocab_size} words")
    flat_pairs = []
    for distance in range(1, window + 1):
        left, right = ids[:-distance], ids[distance:]  # (N - d,) each: words d apart
        both_known = (left >= 0) & (right >= 0)
        flat_pairs.append(left[both_known] * vocab_size + right[both_known])
    flat = np.concatenate(flat_pairs) if flat_pairs else np.zeros(0, dtype=np.int64)
    forward = np.bincount(flat, minlength=vocab_size * vocab_size).reshape(vocab_size, vocab_size)
    forward = forward.astype(dtype)  # (V, V): j comes after i
    return forward + forward.T  # before or after


def ppmi(counts, context_smoothing=1.0):
    """Positive pointwise mutual information of a (V, V) co-occurrence matrix.

    PMI(i, j) = log( P(i, j) / (P(i) P(j)) ): above 0 when i and j meet more often than if words
    were scattered at random. PPMI keeps the positive part (0 where they never met).
    context_smoothing = alpha < 1 (0.75 is common) computes the context probability P(j) from
    count(j) ** alpha instead of count(j). That flattens the context distribution: rare contexts get
    a larger share, frequent ones a smaller one, so every PMI in column j moves by the same amount,
    log(P(j) / P_alpha(j)): down for rare contexts, up for frequent ones such as "the". Notebook 02
    measures both effects on the plays (and that rare one-off partners stay near the top anyway).
    """
    counts = np.asarray(counts)
    if counts.ndim != 2 or counts.shape[0] != counts.shape[1]:
        raise ValueError(f"ppmi needs a square (V, V) matrix of counts, got shape {counts.shape}")
    total = counts.sum(dtype=np.float64)
    word_p = counts.sum(axis=1, dtype=np.float64) / total  # (V,)
    context_weights = counts.sum(axis=0, dtype=np.float64) ** context_smoothing
    context_p = context_weights / context_weights.sum()  # (V,)
    dtype = counts.dtype if counts.dtype in (np.float32, np.float64) else np.float64
    pmi = counts.astype(dtype)  # (V, V), a fresh copy; worked on in place to keep memory low
    with np.errstate(divide="ignore", invalid="ignore"):  # -inf - (-inf) for a word never seen
        np.log(pmi, out=pmi)  # log 0 = -inf where a pair never met
        pmi -= np.log(total * word_p).astype(dtype)[:, None]
        pmi -= np.log(context_p).astype(dtype)[None, :]
    pmi[~np.isfinite(pmi)] = 0.0  # pairs that never met, words that never occurred
    np.maximum(pmi, 0.0, out=pmi)
    return pmi


def _orthonormal_columns(matrix):
    """An orthonormal basis (M, k) for the columns of a tall (M, k) matrix.

    Cholesky QR, done twice for accuracy: the (k, k) Gram matrix is factorised as L L^T, and
    matrix @ inv(L)^T has orthonormal columns. Only k x k factorisations and matrix products, which
    stay fast on busy machines where LAPACK's tall-matrix QR does not. Falls back to np.linalg.qr
    when the columns are (nearly) dependent and the Gram matrix cannot be factorised.
    """
    basis = matrix.astype(np.float64)
    try:
        with np.errstate(all="ignore"):
            for _ in range(2):
                lower = np.linalg.cholesky(basis.T @ basis)  # (k, k)
                basis = basis @ np.linalg.inv(lower).T  # (M, k)
        identity = np.eye(basis.shape[1])
        if not np.allclose(basis.T @ basis, identity, atol=1e-6):  # too ill-conditioned: not orthonormal
            raise np.linalg.LinAlgError
    except np.linalg.LinAlgError:
        basis, _ = np.linalg.qr(matrix.astype(np.float64))
    return basis.astype(matrix.dtype)


def _small_svd(matrix):
    """SVD of a short, wide (k, N) matrix through the eigenvectors of its (k, k) Gram matrix."""
    wide = matrix.astype(np.float64)
    eigenvalues, eigenvectors = np.linalg.eigh(wide @ wide.T)  # ascending
    order = np.argsort(eigenvalues)[::-1]
    singular_values = np.sqrt(np.clip(eigenvalues[order], 0, None))  # (k,)
    u = eigenvectors[:, order]  # (k, k)
    safe = np.where(singular_values > singular_values.max(initial=0) * 1e-12, singular_values, np.inf)
    vt = (u.T @ wide) / safe[:, None]  # (k, N); rows for zero singular values stay 0
    return u, singular_values, vt


def truncated_svd(matrix, rank, oversample=10, power_iterations=3, seed=0):
    """The top `rank` singular triplets (U, S, Vt) of a matrix by randomized SVD, in NumPy.

    Idea: multiply the matrix by a few random vectors; the results span (almost) the directions the
    matrix stretches most. A few power iterations (multiply by M M^T, re-orthonormalise) sharpen
    that; then an exact SVD of the small projected matrix does the rest. Seeded, so the same
    matrix gives the same vectors. The strongest directions come out almost exactly; the weakest
    of the `rank` kept a little less so (more `oversample` or `power_iterations` helps).
    U (M, rank), S (rank,), Vt (rank, N).
    """
    matrix = np.asarray(matrix)
    rows, cols = matrix.shape
    if not 1 <= rank <= min(rows, cols):
        raise ValueError(f"rank must be between 1 and min{matrix.shape} = {min(rows, cols)}, got {rank}")
    rng = np.random.default_rng(seed)
    probes = rng.standard_normal((cols, min(rank + oversample, rows, cols))).astype(matrix.dtype)  # (N, k)
    basis = _orthonormal_columns(matrix @ probes)  # (M, k)
    for _ in range(power_iterations):
        basis = _orthonormal_columns(matrix @ (matrix.T @ basis))  # (M, k)
    u_small, singular_values, vt = _small_svd(basis.T @ matrix)  # (k, k), (k,), (k, N)
    u = basis.astype(np.float64) @ u_small  # (M, k)
    # Fix each vector's sign (its largest entry positive), so results do not flip between machines.
    signs = np.sign(u[np.abs(u).argmax(axis=0), np.arange(u.shape[1])])
    signs[signs == 0] = 1
    dtype = np.result_type(matrix.dtype, np.float32)
    return ((u * signs)[:, :rank].astype(dtype), singular_values[:rank].astype(dtype),
            (vt * signs[:, None])[:rank].astype(dtype))


def svd_word_vectors(ppmi_matrix, dim=DEFAULT_DIM, seed=0):
    """Dense word vectors (V, dim) from a PPMI matrix: U * sqrt(S), each row scaled to length 1.

    Row i of U belongs to word i (the rows of the PPMI matrix are words). sqrt(S) is the usual middle
    way between U alone (every kept direction weighs the same) and U * S (the first direction, on which
    every word lies on the same side, dominates and makes all words look alike; notebook 02
    measures the average cosine of all three). Rows of length 1 make a dot product equal the cosine.
    """
    u, singular_values, _ = truncated_svd(ppmi_matrix, dim, seed=seed)
    vectors = u * np.sqrt(singular_values)  # (V, dim)
    lengths = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(lengths == 0, 1, lengths)


# ====================================================================== similarity

def cosine_similarity(a, b):
    """Cosine of the angle between vectors: rows of a (n, d) against rows of b (m, d) -> (n, m).

    1-D inputs are treated as single rows; two 1-D vectors give a single number.
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape[-1] != b.shape[-1]:
        raise ValueError(f"vectors must have the same length to compare: a {a.shape}, b {b.shape}")
    a_rows, b_rows = np.atleast_2d(a), np.atleast_2d(b)
    a_unit = a_rows / np.maximum(np.linalg.norm(a_rows, axis=-1, keepdims=True), 1e-12)
    b_unit = b_rows / np.maximum(np.linalg.norm(b_rows, axis=-1, keepdims=True), 1e-12)
    similarity = a_unit @ b_unit.T  # (n, m)
    if a.ndim == 1 and b.ndim == 1:
        return float(similarity[0, 0])
    if a.ndim == 1:
        return similarity[0]
    if b.ndim == 1:
        return similarity[:, 0]
    return similarity


def nearest_neighbours(vectors, vocab, word, k=8):
    """The k words whose vectors have the highest cosine similarity with `word`'s: [(word, cos)].

    The word itself is left out. A word outside the vocabulary gets a KeyError that says so.
    """
    index = {w: i for i, w in enumerate(vocab)}
    if word not in index:
        raise missing_word_error(word, index)
    similarity = cosine_similarity(vectors[index[word]], vectors)  # (V,)
    similarity[index[word]] = -np.inf
    best = np.argsort(-similarity, kind="stable")[:k]
    return [(vocab[i], float(similarity[i])) for i in best]


def nearest_ids(vectors, k=1, block=500):
    """Every word's k nearest words by cosine, as sorted ids: (V, k). The word itself is left out.

    Computed `block` rows at a time, so the (V, V) table of cosines is never built whole. Notebook 02
    uses it to ask whether float32, or another SVD seed, changes the words' nearest neighbours.
    """
    vectors = np.asarray(vectors, dtype=np.float64)
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)   # (V, d)
    found = []
    for rows in np.array_split(np.arange(len(unit)), max(1, -(-len(unit) // block))):
        similarity = unit[rows] @ unit.T                                  # (block, V)
        similarity[np.arange(len(rows)), rows] = -np.inf                  # not the word itself
        found.append(np.sort(np.argpartition(-similarity, k - 1, axis=1)[:, :k], axis=1))
    return np.concatenate(found)                                          # (V, k)


# ====================================================================== the whole pipeline

@dataclass
class WordVectors:
    """Word vectors with their vocabulary: what notebook 02 builds from the plays."""
    vocab: list
    vectors: np.ndarray  # (V, dim), rows of length 1
    word_counts: np.ndarray  # (V,) how often each word occurs in the text
    token_to_id: dict = field(init=False, repr=False)

    def __post_init__(self):
        self.token_to_id = {word: i for i, word in enumerate(self.vocab)}

    def __contains__(self, word):
        return word in self.token_to_id

    def __getitem__(self, word):
        if word not in self.token_to_id:
            raise missing_word_error(word, self.token_to_id)
        return self.vectors[self.token_to_id[word]]

    def neighbours(self, word, k=8):
        return nearest_neighbours(self.vectors, self.vocab, word, k)

    def similarity(self, word_a, word_b):
        return cosine_similarity(self[word_a], self[word_b])


def word_vectors_from_text(text, vocab_size=DEFAULT_VOCAB_SIZE, window=DEFAULT_WINDOW, dim=DEFAULT_DIM,
                           context_smoothing=0.75, seed=0):
    """The whole pipeline on a text: words -> counts -> PPMI -> SVD. Returns a `WordVectors`.

    `text` is split as it is given. To follow notebook 02, pass
    `helpers.text.spoken_text(train_text)`: the training plays without their speaker headings.
    (Not done here, so that any plain text works, as in tests/test_embeddings.py.)
    """
    words = split_words(text)
    vocab, word_counts = top_words(words, vocab_size)
    ids = words_to_ids(words, vocab)  # (N,)
    counts = cooccurrence_counts(ids, len(vocab), window)  # (V, V)
    vectors = svd_word_vectors(ppmi(counts, context_smoothing), dim, seed)  # (V, dim)
    return WordVectors(vocab, vectors, word_counts)


# ====================================================================== positions

def positional_encoding(length, dim, base=10000.0):
    """Sinusoidal positional encodings, shape (length, dim), as in "Attention Is All You Need".

    PE[t, 2i] = sin(t / base^(2i/dim)) and PE[t, 2i+1] = cos(t / base^(2i/dim)): each pair of
    columns is a clock turning at its own speed, fast in the first columns, slow in the last, so
    every position gets its own pattern and nearby positions get similar ones.
    """
    if length < 0 or dim < 1:
        raise ValueError(f"need length >= 0 and dim >= 1, got length={length}, dim={dim}")
    positions = np.arange(length, dtype=np.float64)[:, None]  # (T, 1)
    pair_index = np.arange(0, dim, 2, dtype=np.float64)[None, :]  # (1, ceil(dim/2)): the 2i
    angles = positions / base ** (pair_index / dim)  # (T, ceil(dim/2))
    encoding = np.zeros((length, dim))
    encoding[:, 0::2] = np.sin(angles)
    encoding[:, 1::2] = np.cos(angles[:, : dim // 2])
    return encoding


# ====================================================================== benchmark

def benchmark(repeats=3, dtype=np.float32, vocab_size=DEFAULT_VOCAB_SIZE, window=DEFAULT_WINDOW,
              dim=DEFAULT_DIM):
    """Counts + PPMI + SVD over the spoken words of every play, `repeats` times: a dict of median
    seconds per step and the process's peak resident memory (Linux and macOS).

    The word stream is the notebook's recipe (speaker headings dropped with `spoken_text`) on all
    38 plays rather than the training plays alone: the course's target is stated for the whole
    corpus, and the larger text makes the result an upper bound for notebook 02.
    """
    import resource
    import statistics
    import sys
    import time

    from helpers.text import load_shakespeare, spoken_text

    words = split_words(spoken_text(load_shakespeare()))                   # all plays, headings dropped
    vocab, _ = top_words(words, vocab_size)
    ids = words_to_ids(words, vocab)                                       # (N,)
    steps = {"counts": [], "ppmi": [], "svd": [], "total": []}
    for _ in range(repeats):
        start = time.perf_counter()
        counts = cooccurrence_counts(ids, len(vocab), window, dtype=dtype)  # (V, V)
        counted = time.perf_counter()
        weights = ppmi(counts, 0.75)                                       # (V, V)
        del counts
        weighted = time.perf_counter()
        svd_word_vectors(weights, dim)                                     # (V, dim)
        del weights
        done = time.perf_counter()
        for name, seconds in (("counts", counted - start), ("ppmi", weighted - counted),
                              ("svd", done - weighted), ("total", done - start)):
            steps[name].append(seconds)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    peak_mb = peak / 2**20 if sys.platform == "darwin" else peak / 1024    # bytes on macOS, kB on Linux
    return {"words": len(ids), "vocab": len(vocab), "window": window, "dim": dim,
            "dtype": np.dtype(dtype).name, "repeats": repeats,
            **{f"median_{name}_s": round(statistics.median(v), 3) for name, v in steps.items()},
            "peak_memory_mb": round(peak_mb)}


# ====================================================================== what the explorers of notebook 02 show

def neighbour_table(word_vectors, word, k=8):
    """The text the neighbour explorer shows: `word`'s k nearest words by cosine, or why there are none.

    word_vectors: a WordVectors. The typed word is lower-cased and trimmed. Notebook 02's explorer.
    """
    word = word.strip().lower()
    if not word:
        return "Type a word."
    if word not in word_vectors:
        return (f"{word!r} has no vector: it is not among the {len(word_vectors.vocab)} most frequent "
                f"words of the plays (rare and unseen words get none).")
    count = int(word_vectors.word_counts[word_vectors.token_to_id[word]])
    lines = [f"nearest to {word!r} ({count} times in the plays):"]
    lines += [f"  {other:<14} {similarity:.2f}" for other, similarity in word_vectors.neighbours(word, k)]
    return "\n".join(lines)


def word_map_points(word_vectors, words):
    """(points (n, 2), kept words, missing words): chosen words' vectors flattened to 2-D.

    The 2-D map is a PCA of just these words: centre their vectors, keep the two directions in
    which they differ most. Words without a vector are left out and listed as missing.
    Each axis's sign is fixed (its largest coordinate positive) so the picture does not flip.
    Notebook 02's word map.
    """
    if isinstance(words, str):
        raise TypeError("word_map_points takes a list of words, got a str: split it first, e.g. text.split(',')")
    cleaned = [w.strip().lower() for w in words if w.strip()]
    kept = list(dict.fromkeys(w for w in cleaned if w in word_vectors))  # no repeats, order kept
    missing = [w for w in cleaned if w not in word_vectors]
    if len(kept) < 2:
        return np.zeros((len(kept), 2)), kept, missing
    matrix = np.stack([word_vectors[w] for w in kept])  # (n, dim)
    centred = matrix - matrix.mean(axis=0)
    _, _, directions = np.linalg.svd(centred, full_matrices=False)  # directions (n, dim)
    points = centred @ directions[:2].T  # (n, 2)
    if points.shape[1] < 2:  # two words give one direction only
        points = np.pad(points, ((0, 0), (0, 2 - points.shape[1])))
    signs = np.sign(points[np.abs(points).argmax(axis=0), np.arange(2)])
    return points * np.where(signs == 0, 1, signs), kept, missing


if __name__ == "__main__":
    import argparse
    import json

    parser = argparse.ArgumentParser(description="Time counts + PPMI + SVD over all the plays.")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--float64", action="store_true", help="count in float64, the dtype notebook 02 counts in")
    args = parser.parse_args()
    print(json.dumps(benchmark(args.repeats, np.float64 if args.float64 else np.float32)))
