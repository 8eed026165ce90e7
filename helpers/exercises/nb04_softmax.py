"""Exercises of notebook 04_softmax_and_scaling: stable softmax, masked softmax, entropy, scaled weights."""
import numpy as np

from helpers.exercises import Exercise, register


def _shape(rng):
    return tuple(int(s) for s in rng.integers(1, 5, size=int(rng.integers(1, 3)))) + (int(rng.integers(2, 7)),)


def _large_scores(rng):
    return (rng.normal(scale=400.0, size=_shape(rng)),)        # up to about +-1000: exp overflows


def _stable_softmax(x):
    exps = np.exp(x - x.max(axis=-1, keepdims=True))
    return exps / exps.sum(axis=-1, keepdims=True)


def _masked_softmax(x, mask):
    return _stable_softmax(np.where(mask, x, -np.inf))


def _scores_and_mask(rng):
    scores = rng.normal(scale=3.0, size=_shape(rng))
    mask = rng.random(scores.shape) < 0.6
    mask[..., int(rng.integers(scores.shape[-1]))] = True      # every row keeps at least one key
    return scores, mask


def _weights_with_zeros(rng):
    scores = rng.normal(size=_shape(rng))
    scores[..., 0] = -np.inf                                    # one masked key per row: weight 0
    return (_stable_softmax(scores),)


def _entropy(p):
    safe = np.where(p > 0, p, 1.0)                              # log(1) = 0, so 0 * log 0 counts as 0
    return -np.sum(p * np.log(safe), axis=-1)


def _scaled_weights(scores, d_k, temperature):
    return _stable_softmax(scores / np.sqrt(d_k) / temperature)


def _raw_scores_dk_temperature(rng):
    d_k = int(rng.choice([1, 4, 64, 1024]))
    temperature = float(rng.choice([0.01, 0.5, 1.0, 3.0]))     # 0.01 with d_k = 1: exp overflows
    scores = rng.normal(scale=np.sqrt(d_k), size=_shape(rng))   # q.k of unit-variance entries: spread sqrt(d_k)
    return scores * 10.0, d_k, temperature


register(Exercise(
    id="04.stable_softmax",
    task="write my_softmax(x): a numerically stable softmax along the last axis",
    reference=_stable_softmax,
    make_inputs=_large_scores,
    solution='''def my_softmax(x):
    shifted = x - x.max(axis=-1, keepdims=True)   # the largest becomes 0: exp cannot overflow
    exps = np.exp(shifted)
    return exps / exps.sum(axis=-1, keepdims=True)''',
))

register(Exercise(
    id="04.masked_softmax",
    task="write masked_softmax(x, mask): softmax along the last axis, weight exactly 0 where mask is False",
    reference=_masked_softmax,
    make_inputs=_scores_and_mask,
    solution='''def masked_softmax(x, mask):
    masked = np.where(mask, x, -np.inf)              # hidden keys: exp(-inf) = 0
    shifted = masked - masked.max(axis=-1, keepdims=True)   # the max is a real score: no overflow
    exps = np.exp(shifted)
    return exps / exps.sum(axis=-1, keepdims=True)''',
))

register(Exercise(
    id="04.entropy",
    task="write my_entropy(p): -sum p log p along the last axis, with 0 log 0 counted as 0",
    reference=_entropy,
    make_inputs=_weights_with_zeros,
    solution='''def my_entropy(p):
    safe = np.where(p > 0, p, 1.0)                 # log(1) = 0, so zero weights add nothing
    return -np.sum(p * np.log(safe), axis=-1)''',
))

register(Exercise(
    id="04.scaled_weights",
    task="write scaled_weights(scores, d_k, temperature): divide by sqrt(d_k) and by the temperature, then a stable softmax",
    reference=_scaled_weights,
    make_inputs=_raw_scores_dk_temperature,
    solution='''def scaled_weights(scores, d_k, temperature):
    scaled = scores / np.sqrt(d_k) / temperature    # the sqrt(d_k) of section 4, the T of section 3
    shifted = scaled - scaled.max(axis=-1, keepdims=True)   # a low temperature makes scores large
    exps = np.exp(shifted)
    return exps / exps.sum(axis=-1, keepdims=True)''',
))
