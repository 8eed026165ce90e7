"""Exercises of notebook 03_attention: scores, attention, the causal mask, splitting heads."""
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


def _split_heads(x, n_heads):
    B, T, C = x.shape
    return x.reshape(B, T, n_heads, C // n_heads).transpose(0, 2, 1, 3)


def _x_and_heads(rng):
    n_heads, d_head = int(rng.integers(2, 5)), int(rng.integers(1, 4))
    B, T = (int(t) for t in rng.integers(1, 4, size=2))
    return rng.normal(size=(B, T, n_heads * d_head)), n_heads


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
    id="03.split_heads",
    task="write split_heads(x, n_heads): (B, T, C) -> (B, n_heads, T, C // n_heads)",
    reference=_split_heads,
    make_inputs=_x_and_heads,
    solution='''def split_heads(x, n_heads):
    B, T, C = x.shape
    x = x.reshape(B, T, n_heads, C // n_heads)     # cut each word's features into heads
    return x.transpose(0, 2, 1, 3)                 # (B, n_heads, T, C // n_heads)''',
))
