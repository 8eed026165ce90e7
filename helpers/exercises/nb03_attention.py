"""Exercises of notebook 03_attention: scores (warm-up), fix a buggy attention, flip what "it" picks,
predict causal weights over equal keys, merging heads; optional: make a third sentence work."""
import numpy as np

from helpers.exercises import Exercise, register


def _batch_dims(rng):
    return tuple(int(s) for s in rng.integers(1, 4, size=int(rng.integers(0, 3))))


def _q_k(rng):
    batch, d_k = _batch_dims(rng), int(rng.integers(1, 9))
    Tq, Tk = (int(t) for t in rng.integers(1, 7, size=2))
    return rng.normal(size=batch + (Tq, d_k)), rng.normal(size=batch + (Tk, d_k))


def _q_k_v(rng):
    q, k = _q_k(rng)
    return q, k, rng.normal(size=k.shape[:-1] + (int(rng.integers(1, 6)),))


def _scores(q, k):
    return q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])


def _attention(q, k, v):
    from helpers.attention import scaled_dot_product_attention

    return scaled_dot_product_attention(q, k, v)


def _scores_unscaled(q, k):
    return q @ np.swapaxes(k, -1, -2)


def _scores_key_first(q, k):
    return k @ np.swapaxes(q, -1, -2) / np.sqrt(q.shape[-1])


def _softmax(x, axis=-1):
    exps = np.exp(x - x.max(axis=axis, keepdims=True))
    return exps / exps.sum(axis=axis, keepdims=True)


def _attention_normalised_per_key(q, k, v):
    weights = _softmax(_scores(q, k), axis=-2)                 # each column sums to 1: the notebook's bug
    return weights @ v, weights


def _equal_keys_causal_weights(T):
    return np.tril(np.ones((T, T))) / np.arange(1, T + 1)[:, None]   # row i: 1 / (i + 1) on keys 0..i


def _where_it_looks_in(sentence, embedding=None, W_k2=None):
    """Notebook 03's two detectives on one sentence: (word "it" looks at most, its weight).

    embedding and W_k2 replace the notebook's word vectors and detective 2's keys when given."""
    from helpers.attention import detective_example, scaled_dot_product_attention
    from helpers.text import sentence_words

    example = detective_example()
    embedding = example["embedding"] if embedding is None else embedding
    W_k2 = example["W_k2"] if W_k2 is None else W_k2
    words = sentence_words(sentence)
    x = np.stack([embedding[w] for w in words])                                     # (T, 8)
    hint, _ = scaled_dot_product_attention(x @ example["W_q1"], x @ example["W_k1"], x @ example["W_v1"])
    x = x + hint                                                                    # detective 1 adds its hint
    _, weights = scaled_dot_product_attention(x @ example["W_q2"], x @ W_k2, x @ example["W_v2"])
    row = weights[words.index("it")]
    return words[int(np.argmax(row))], float(row.max())


def _where_it_looks(W_k2):
    """Per course sentence, with detective 2's keys replaced: (word "it" looks at, weight)."""
    from helpers.text import SENTENCES

    return [_where_it_looks_in(sentence, W_k2=W_k2) for sentence in SENTENCES]


def _flipped_W_k2():
    from helpers.attention import detective_example

    return detective_example()["W_k2"][:, [1, 0, 2, 3]]          # living and finance trade key columns


def _compare_flip(expected, got):
    from helpers.attention import detective_example
    from helpers.exercises import describe

    if not (hasattr(got, "shape") and tuple(got.shape) == (8, 4)):
        return f"expected an (8, 4) NumPy array like W_k2, got {describe(got)}"
    if np.array_equal(np.asarray(got, dtype=float), detective_example()["W_k2"]):
        return "that is the notebook's W_k2 unchanged: 'it' still picks the right noun, not the other one"
    found = _where_it_looks(np.asarray(got, dtype=float))
    for (word, weight), want in zip(found, ("swap", "person")):
        if word != want or weight <= 0.5:
            said = ", ".join(f"sentence {i + 1}: '{w}' ({p:.2f})" for i, (w, p) in enumerate(found))
            return (f"with your W_k2, 'it' looks at {said}; it should look at 'swap' in sentence 1 and at "
                    f"'person' in sentence 2, each with a weight above 0.5")
    return None


THIRD_SENTENCE = "The person executed the swap because it was hungry."


def _hungry_like_trained():
    vector = np.zeros(8)
    vector[4] = 1.0                                            # "learns": what a person can be, and a swap cannot
    return vector


def _compare_third_sentence(expected, got):
    from helpers.attention import detective_example
    from helpers.exercises import describe

    if not (hasattr(got, "shape") and tuple(got.shape) == (8,)):
        return f"expected an (8,) NumPy array of features like EMBEDDING's, got {describe(got)}"
    embedding = {**detective_example()["embedding"], "hungry": np.asarray(got, dtype=float)}
    word, weight = _where_it_looks_in(THIRD_SENTENCE, embedding=embedding)
    if word == "person" and weight > 0.5:
        return None
    message = f"with your vector for 'hungry', 'it' looks at '{word}' ({weight:.2f}); it should look at 'person' above 0.5"
    if got[0] > 0 and got[4] <= 0:
        message += (". Giving 'hungry' the living feature is not enough: detective 1 finds a clue word by its key, "
                    "so look at which features W_k1 responds to, and what W_v1 hands over for them")
    return message


def _merge_heads(x):
    B, H, T, d = x.shape
    return x.transpose(0, 2, 1, 3).reshape(B, T, H * d)


def _head_outputs(rng):
    B, H, T, d = (int(s) for s in rng.integers(1, 5, size=4))
    H, T = H + 1, T + 1                      # at least 2 heads and 2 words: a plain reshape shows
    return (rng.normal(size=(B, H, T, d)),)


def _compare_mask(expected, got):
    from helpers.exercises import compare_values, describe

    if not (hasattr(got, "dtype") and got.dtype == bool):
        return f"expected a boolean NumPy array (True = may attend), got {describe(got)}"
    return compare_values(expected, got)


register(Exercise(
    id="03.scores",
    task="write attention_scores(q, k): q @ k^T / sqrt(d_k), shape (..., Tq, Tk)",
    reference=_scores,
    make_inputs=_q_k,
    mistakes=((_scores_unscaled, "divide by sqrt(d_k), the length of each query"),
              (_scores_key_first, "the key is transposed the wrong way round: rows are queries, so q @ k^T, "
                                  "not k @ q^T")),
    solution='''def attention_scores(q, k):
    d_k = q.shape[-1]
    return q @ np.swapaxes(k, -1, -2) / np.sqrt(d_k)   # (..., Tq, d_k) @ (..., d_k, Tk)''',
))

register(Exercise(
    id="03.fix_attention",
    task="fix attention(q, k, v) -> (output, weights): softmax(q k^T / sqrt(d_k)) @ v, any leading batch dimensions",
    reference=_attention,
    make_inputs=_q_k_v,
    mistakes=((_attention_normalised_per_key, "each row (one query) must sum to 1: softmax along the last axis"),),
    solution='''def attention(q, k, v):
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])   # bug 1: k.T also flips the batch axes
    scores = scores - scores.max(axis=-1, keepdims=True)         # stability (notebook 04)
    exps = np.exp(scores)
    weights = exps / exps.sum(axis=-1, keepdims=True)            # bug 2: each query's row sums to 1
    return weights @ v, weights                                  # (..., Tq, d_v), (..., Tq, Tk)''',
))

register(Exercise(
    id="03.flip_it",
    task="give a W_k2 (8, 4) with which \"it\" picks the other noun: 'swap' in sentence 1, 'person' in sentence 2",
    reference=_flipped_W_k2(),
    compare=_compare_flip,
    solution='''W_k2_flipped = helpers.attention.detective_example()["W_k2"].copy()
W_k2_flipped[:, [0, 1]] = W_k2_flipped[:, [1, 0]]   # the living clue now answers the finance question''',
))

register(Exercise(
    id="03.equal_keys",
    task="write predicted_weights(T): the causal attention weights (T, T) when every key is the same vector",
    reference=_equal_keys_causal_weights,
    make_inputs=lambda rng: (int(rng.integers(1, 10)),),
    mistakes=((lambda T: np.full((T, T), 1 / T), "the causal mask hides the keys after each query: "
                                                  "row i spreads over i + 1 keys only"),
              (lambda T: np.triu(np.ones((T, T))) / np.arange(T, 0, -1)[:, None],
               "that mask lets each query see the future: True on and below the diagonal")),
    solution='''def predicted_weights(T):
    visible = np.tril(np.ones((T, T)))            # query i sees keys 0..i
    return visible / visible.sum(axis=-1, keepdims=True)   # equal scores: equal shares, 1 / (i + 1)''',
))

register(Exercise(
    id="03.merge_heads",
    task="write merge_heads(x): (B, H, T, d) -> (B, T, H * d), each word's heads side by side",
    reference=_merge_heads,
    make_inputs=_head_outputs,
    solution='''def merge_heads(x):
    B, H, T, d = x.shape
    x = x.transpose(0, 2, 1, 3)        # (B, T, H, d): words first, then their heads
    return x.reshape(B, T, H * d)      # head h fills features h*d : (h+1)*d''',
))

register(Exercise(
    id="03.third_sentence",
    task=("give an (8,) feature vector for 'hungry' with which 'it' looks at 'person' in "
          "'The person executed the swap because it was hungry.'"),
    reference=_hungry_like_trained(),
    compare=_compare_third_sentence,
    solution='''hungry = np.array([0, 0, 0, 0, 1, 0, 0, 0.])   # learns = 1, as for "trained" (FEATURES' order)
# Detective 1's key responds to "learns" (and "works well"), and its value turns "learns" into the
# hint "living", which detective 2 matches with "person". A vector with living = 1 would not do:
# detective 1 never looks at a clue word's living feature.''',
))
