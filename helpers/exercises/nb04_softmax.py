"""Exercises of notebook 04_softmax_and_scaling: stable softmax, masked softmax, entropy, softmax backward."""
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


def _p_and_grad(rng):
    shape = _shape(rng)
    return _stable_softmax(rng.normal(size=shape)), rng.normal(size=shape)


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
    id="04.softmax_backward",
    task="write softmax_backward(p, grad_p): the gradient with respect to the scores",
    reference=lambda p, grad_p: p * (grad_p - (grad_p * p).sum(axis=-1, keepdims=True)),
    make_inputs=_p_and_grad,
    solution='''def softmax_backward(p, grad_p):
    # the Jacobian diag(p) - p p^T, applied to grad_p without building it
    return p * (grad_p - (grad_p * p).sum(axis=-1, keepdims=True))''',
))
