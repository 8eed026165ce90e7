"""Exercises of notebook 05_backprop: a step of descent, and three backward passes by hand."""
import numpy as np

from helpers import backprop
from helpers.exercises import Exercise, register


def _descent_step(w, learning_rate):
    return w - learning_rate * 2 * w                 # L(w) = w**2 has slope 2w: step against it


register(Exercise(
    id="05.descent_step",
    task="write descent_step(w, learning_rate): one step of gradient descent on L(w) = w**2",
    reference=_descent_step,
    make_inputs=lambda rng: (rng.normal(size=int(rng.integers(1, 5))) * 2, float(rng.uniform(0.01, 0.9))),
    solution='''def descent_step(w, learning_rate):
    slope = 2 * w                       # the slope of w**2
    return w - learning_rate * slope    # move against the slope''',
))


def _linear_inputs(rng):
    n, n_in, n_out = (int(s) for s in rng.integers(1, 6, size=3))
    return rng.normal(size=(n, n_in)), rng.normal(size=(n_in, n_out)), rng.normal(size=(n, n_out))


register(Exercise(
    id="05.linear_backward",
    task="write linear_backward(x, weight, grad_y) for y = x @ weight: return (grad_x, grad_weight)",
    reference=lambda x, weight, grad_y: tuple(backprop.linear_backward(x, weight, grad_y)[:2]),
    make_inputs=_linear_inputs,
    solution='''def linear_backward(x, weight, grad_y):
    grad_x = grad_y @ weight.T          # (N, n_out) @ (n_out, n_in) -> (N, n_in)
    grad_weight = x.T @ grad_y          # (n_in, N) @ (N, n_out) -> (n_in, n_out)
    return grad_x, grad_weight''',
))


def _softmax_inputs(rng):
    shape = (int(rng.integers(1, 5)), int(rng.integers(2, 7)))
    scores = rng.normal(size=shape) * 2
    probs = np.exp(scores - scores.max(-1, keepdims=True))
    return probs / probs.sum(-1, keepdims=True), rng.normal(size=shape)


register(Exercise(
    id="05.softmax_backward",
    task="write softmax_backward(probs, grad_probs): the gradient with respect to the scores (last axis)",
    reference=backprop.softmax_backward,
    make_inputs=_softmax_inputs,
    solution='''def softmax_backward(probs, grad_probs):
    # dp_i/ds_j = p_i (delta_ij - p_j), so dL/ds_j = p_j (dL/dp_j - sum_i dL/dp_i p_i)
    weighted_mean = (grad_probs * probs).sum(axis=-1, keepdims=True)   # (N, 1)
    return probs * (grad_probs - weighted_mean)''',
))


def _cross_entropy_inputs(rng):
    n, classes = int(rng.integers(1, 7)), int(rng.integers(2, 6))
    return rng.normal(size=(n, classes)) * 2, rng.integers(0, classes, size=n)


register(Exercise(
    id="05.cross_entropy_backward",
    task="write cross_entropy_backward(logits, targets): the gradient of the MEAN cross-entropy "
         "with respect to the logits (N, C)",
    reference=backprop.cross_entropy_backward,
    make_inputs=_cross_entropy_inputs,
    solution='''def cross_entropy_backward(logits, targets):
    probs = np.exp(logits - logits.max(axis=-1, keepdims=True))
    probs = probs / probs.sum(axis=-1, keepdims=True)      # softmax, (N, C)
    one_hot = np.eye(logits.shape[-1])[targets]            # (N, C)
    return (probs - one_hot) / len(targets)                # the mean divides by N''',
))


def _attention_inputs(rng):
    t_q, t_k, d, d_v = (int(s) for s in rng.integers(2, 6, size=4))
    q, k, v = rng.normal(size=(t_q, d)), rng.normal(size=(t_k, d)), rng.normal(size=(t_k, d_v))
    mask = rng.random((t_q, t_k)) < 0.7
    mask[np.arange(t_q), rng.integers(0, t_k, size=t_q)] = True      # every query sees at least one key
    return q, k, v, rng.normal(size=(t_q, d_v)), mask


register(Exercise(
    id="05.attention_backward",
    task="write attention_backward(q, k, v, grad_output, mask): (dq, dk, dv) of "
         "softmax(q @ k.T / sqrt(d), masked) @ v, where mask (T_q, T_k) is True where a query may look",
    reference=backprop.attention_backward,
    make_inputs=_attention_inputs,
    solution='''def attention_backward(q, k, v, grad_output, mask):
    scale = 1 / np.sqrt(q.shape[-1])
    scores = np.where(mask, q @ k.T * scale, -np.inf)                  # (T_q, T_k)
    weights = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights = weights / weights.sum(axis=-1, keepdims=True)            # masked places: 0
    grad_v = weights.T @ grad_output                                   # (T_k, d_v)
    grad_weights = grad_output @ v.T                                   # (T_q, T_k)
    weighted_mean = (grad_weights * weights).sum(axis=-1, keepdims=True)
    grad_scores = weights * (grad_weights - weighted_mean)             # softmax backward
    grad_q = grad_scores @ k * scale                                   # (T_q, d)
    grad_k = grad_scores.T @ q * scale                                 # (T_k, d)
    return grad_q, grad_k, grad_v''',
))
