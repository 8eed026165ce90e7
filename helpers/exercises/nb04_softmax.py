"""Exercises of notebook 04_softmax_and_scaling: stable softmax, temperature, entropy, softmax backward."""
import numpy as np

from helpers.exercises import Exercise, register


def _shape(rng):
    return tuple(int(s) for s in rng.integers(1, 5, size=int(rng.integers(1, 3)))) + (int(rng.integers(2, 7)),)


def _large_scores(rng):
    return (rng.normal(scale=400.0, size=_shape(rng)),)        # up to about +-1000: exp overflows


def _stable_softmax(x):
    exps = np.exp(x - x.max(axis=-1, keepdims=True))
    return exps / exps.sum(axis=-1, keepdims=True)


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
    id="04.temperature",
    task="write softmax_with_temperature(x, temperature): softmax(x / temperature) along the last axis",
    reference=lambda x, temperature: _stable_softmax(x / temperature),
    make_inputs=lambda rng: (rng.normal(scale=3.0, size=_shape(rng)), float(rng.choice([0.1, 0.5, 1.0, 2.0, 10.0]))),
    solution='''def softmax_with_temperature(x, temperature):
    scaled = x / temperature                       # T < 1 sharpens, T > 1 flattens
    exps = np.exp(scaled - scaled.max(axis=-1, keepdims=True))
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
