"""Exercises of notebook 03_attention: scores, attention, the causal mask, merging heads."""
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
    solution='''def attention_scores(q, k):
    d_k = q.shape[-1]
    return q @ np.swapaxes(k, -1, -2) / np.sqrt(d_k)   # (..., Tq, d_k) @ (..., d_k, Tk)''',
))

register(Exercise(
    id="03.attention",
    task="write attention(q, k, v) -> (output, weights), softmax(q k^T / sqrt(d_k)) @ v",
    reference=_attention,
    make_inputs=_q_k_v,
    solution='''def attention(q, k, v):
    scores = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])        # (..., Tq, Tk)
    scores = scores - scores.max(axis=-1, keepdims=True)              # stability (notebook 04)
    weights = np.exp(scores) / np.exp(scores).sum(axis=-1, keepdims=True)
    return weights @ v, weights                                       # (..., Tq, d_v), (..., Tq, Tk)''',
))

register(Exercise(
    id="03.causal_mask",
    task="write my_causal_mask(T): a (T, T) boolean array, True on and below the diagonal",
    reference=lambda T: np.tril(np.ones((T, T), dtype=bool)),
    make_inputs=lambda rng: (int(rng.integers(1, 9)),),
    compare=_compare_mask,
    solution='''def my_causal_mask(T):
    return np.tril(np.ones((T, T), dtype=bool))   # or: np.arange(T)[:, None] >= np.arange(T)''',
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
