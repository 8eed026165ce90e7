"""Backpropagation by hand, in NumPy: each forward piece with its backward, and a gradient check.

Built in notebook 05_backprop. Every backward here takes the upstream gradient (how the loss
changes with this piece's output) and returns how the loss changes with each input: the chain
rule, one piece at a time. Each one equals torch autograd (tests/test_backprop.py).

Conventions:
- a linear layer is ``y = x @ weight + bias`` with weight of shape (n_in, n_out), the way the
  course writes ``Q = X @ W_q``;
- attention masks are boolean, True means "may attend" (torch's convention), and broadcast to
  the scores' shape (..., T_q, T_k);
- any leading batch dimensions are allowed wherever the shapes say ``...``.
"""
from typing import NamedTuple

import numpy as np

__all__ = [
    "linear_forward", "linear_backward",
    "softmax_backward",
    "cross_entropy_forward", "cross_entropy_backward",
    "attention_forward", "attention_backward",
    "attention_head_forward", "attention_head_backward",
    "numerical_gradient", "gradient_check", "GradientCheck",
]


def _sum_to_shape(grad, shape):
    """Sum a gradient over the axes that broadcasting added or stretched, back to `shape`."""
    while grad.ndim > len(shape):
        grad = grad.sum(axis=0)
    for axis, size in enumerate(shape):
        if size == 1 and grad.shape[axis] != 1:
            grad = grad.sum(axis=axis, keepdims=True)
    return grad


# ---------------------------------------------------------------------------------- linear layer

def linear_forward(x, weight, bias=None):
    """y = x @ weight + bias.  x (..., n_in), weight (n_in, n_out), bias (n_out,) -> (..., n_out)."""
    x, weight = np.asarray(x), np.asarray(weight)
    if x.shape[-1] != weight.shape[0]:
        raise ValueError(f"x's last dimension must equal weight's first: x {x.shape}, weight {weight.shape}")
    y = x @ weight
    return y if bias is None else y + bias


def linear_backward(x, weight, grad_y):
    """Gradients of a linear layer: (grad_x, grad_weight, grad_bias).

    y = x @ W + b, so dL/dx = dL/dy @ W^T, dL/dW = x^T @ dL/dy (summed over every row of the batch)
    and dL/db = dL/dy summed over the batch.
    """
    x, weight, grad_y = np.asarray(x), np.asarray(weight), np.asarray(grad_y)
    if x.shape[-1] != weight.shape[0] or grad_y.shape != x.shape[:-1] + weight.shape[1:]:
        raise ValueError(f"x's last dimension must equal weight's first, and grad_y must have y's shape "
                         f"x.shape[:-1] + (n_out,): x {x.shape}, weight {weight.shape}, grad_y {grad_y.shape}")
    grad_x = grad_y @ weight.T                                        # (..., n_in)
    rows_x = x.reshape(-1, x.shape[-1])                               # (N, n_in)
    rows_grad = grad_y.reshape(-1, grad_y.shape[-1])                  # (N, n_out)
    grad_weight = rows_x.T @ rows_grad                                # (n_in, n_out)
    grad_bias = rows_grad.sum(axis=0)                                 # (n_out,)
    return grad_x, grad_weight, grad_bias


# ---------------------------------------------------------------------------------- softmax

def softmax_backward(probs, grad_probs, axis=-1):
    """Gradient through softmax, given its output `probs` and the upstream gradient.

    p = softmax(s) has Jacobian dp_i/ds_j = p_i (delta_ij - p_j), so
    dL/ds_j = p_j (dL/dp_j - sum_i dL/dp_i p_i). No Jacobian matrix is ever built.
    """
    probs, grad_probs = np.asarray(probs), np.asarray(grad_probs)
    if probs.shape != grad_probs.shape:
        raise ValueError(f"grad_probs must have probs' shape (one gradient per probability): "
                         f"probs {probs.shape}, grad_probs {grad_probs.shape}")
    weighted_mean = (grad_probs * probs).sum(axis=axis, keepdims=True)
    return probs * (grad_probs - weighted_mean)


# ---------------------------------------------------------------------------------- cross-entropy

def _log_softmax(logits):
    shifted = logits - logits.max(axis=-1, keepdims=True)            # stable: the largest is 0
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _check_targets(logits, targets):
    if logits.shape[:-1] != targets.shape:
        raise ValueError(f"targets must have logits' shape without the class axis: "
                         f"logits {logits.shape}, targets {targets.shape}")
    if not np.issubdtype(targets.dtype, np.integer):
        raise ValueError(f"targets must be integer class ids, got dtype {targets.dtype}")
    n_classes = logits.shape[-1]
    if targets.size and (targets.min() < 0 or targets.max() >= n_classes):
        bad = targets.min() if targets.min() < 0 else targets.max()
        raise ValueError(f"targets must be class ids 0 to {n_classes - 1} (logits have {n_classes} classes), "
                         f"found {bad}")


def cross_entropy_forward(logits, targets):
    """Mean cross-entropy.  logits (..., C), targets (...) integer classes -> a float.

    Equals torch.nn.functional.cross_entropy on the flattened rows.
    """
    logits, targets = np.asarray(logits), np.asarray(targets)
    _check_targets(logits, targets)
    log_probs = _log_softmax(logits)                                  # (..., C)
    picked = np.take_along_axis(log_probs, targets[..., None], axis=-1)[..., 0]
    return float(-picked.mean())


def cross_entropy_backward(logits, targets):
    """Gradient of the mean cross-entropy with respect to the logits: (softmax - one_hot) / N."""
    logits, targets = np.asarray(logits), np.asarray(targets)
    _check_targets(logits, targets)
    probs = np.exp(_log_softmax(logits))                              # (..., C)
    one_hot = np.eye(logits.shape[-1])[targets]                       # (..., C)
    return (probs - one_hot) / targets.size


# ---------------------------------------------------------------------------------- attention

def attention_forward(q, k, v, mask=None):
    """Scaled dot-product attention, keeping what the backward pass needs.

    q (..., T_q, d), k (..., T_k, d), v (..., T_k, d_v); mask broadcastable to (..., T_q, T_k),
    True = may attend. Returns (output (..., T_q, d_v), weights (..., T_q, T_k)).
    The forward pass itself is helpers.attention's (built in notebook 03).
    """
    from helpers.attention import scaled_dot_product_attention

    q, k, v = np.asarray(q), np.asarray(k), np.asarray(v)   # shapes are checked there, with clear errors
    return scaled_dot_product_attention(q, k, v, mask=mask)


def attention_backward(q, k, v, grad_output, mask=None):
    """Gradients of scaled dot-product attention: (dq, dk, dv), equal to torch autograd.

    Forward: scores = q k^T / sqrt(d); weights = softmax(scores, masked); output = weights v.
    Backward, read from the bottom up:
      dv = weights^T @ d_output                    (output = weights @ v)
      d_weights = d_output @ v^T
      d_scores = softmax_backward(weights, d_weights)   (masked places have weight 0, so 0 here)
      dq = d_scores @ k / sqrt(d),  dk = d_scores^T @ q / sqrt(d)
    The forward pass is recomputed here, so the function needs only the inputs.
    """
    q, k, v, grad_output = (np.asarray(a) for a in (q, k, v, grad_output))
    output, weights = attention_forward(q, k, v, mask)               # (..., T_q, T_k)
    if grad_output.shape != output.shape:
        raise ValueError(f"grad_output must have the output's shape (..., T_q, d_v) = {output.shape}, "
                         f"got {grad_output.shape}")
    scale = 1.0 / np.sqrt(q.shape[-1])
    grad_v = np.swapaxes(weights, -1, -2) @ grad_output               # (..., T_k, d_v)
    grad_weights = grad_output @ np.swapaxes(v, -1, -2)               # (..., T_q, T_k)
    grad_scores = softmax_backward(weights, grad_weights)             # (..., T_q, T_k)
    grad_q = grad_scores @ k * scale                                  # (..., T_q, d)
    grad_k = np.swapaxes(grad_scores, -1, -2) @ q * scale             # (..., T_k, d)
    # If q, k or v were broadcast over batch dimensions, their gradients are summed back.
    return _sum_to_shape(grad_q, q.shape), _sum_to_shape(grad_k, k.shape), _sum_to_shape(grad_v, v.shape)


def attention_head_forward(x, w_q, w_k, w_v, mask=None):
    """One attention head on token vectors x (..., T, C): project to q, k, v, then attend.

    w_q, w_k (C, d), w_v (C, d_v). Returns (output (..., T, d_v), weights (..., T, T)).
    """
    q, k, v = linear_forward(x, w_q), linear_forward(x, w_k), linear_forward(x, w_v)
    return attention_forward(q, k, v, mask)


def attention_head_backward(x, w_q, w_k, w_v, grad_output, mask=None):
    """Gradients of a whole head: (dx, dw_q, dw_k, dw_v). Attention's backward, then three linears'."""
    q, k, v = linear_forward(x, w_q), linear_forward(x, w_k), linear_forward(x, w_v)
    grad_q, grad_k, grad_v = attention_backward(q, k, v, grad_output, mask)
    grad_x = np.zeros_like(np.asarray(x, dtype=float))
    grads_w = []
    for weight, grad_projection in ((w_q, grad_q), (w_k, grad_k), (w_v, grad_v)):
        dx_part, dw, _ = linear_backward(x, weight, grad_projection)
        grad_x = grad_x + dx_part                                     # x feeds all three: add the paths
        grads_w.append(dw)
    return (grad_x, *grads_w)


# ---------------------------------------------------------------------------------- gradient check

def numerical_gradient(f, x, eps=1e-6):
    """Central differences: d f / d x[i] ~ (f(x + eps e_i) - f(x - eps e_i)) / (2 eps), for every i.

    f takes an array shaped like x and returns a number. x is not changed. Use float64.
    """
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        original = x[index]
        x[index] = original + eps
        above = _one_number(f(x))
        x[index] = original - eps
        below = _one_number(f(x))
        x[index] = original
        grad[index] = (above - below) / (2 * eps)
    return grad


def _one_number(loss):
    if np.ndim(loss) != 0:
        raise ValueError(f"f must return one number (the loss), but it returned shape {np.shape(loss)}: "
                         "reduce it first, e.g. with .sum()")
    return float(loss)


class GradientCheck(NamedTuple):
    """What `gradient_check` found: the worst relative error, and where it was."""
    worst_relative_error: float
    input_index: int          # which input (position in the list) holds the worst entry
    position: tuple           # the entry's index inside that input

    def __str__(self):
        return (f"worst relative error {self.worst_relative_error:.1e} "
                f"(input {self.input_index}, entry {self.position})")


def relative_error(analytic, numeric):
    """Entry-wise |a - n| / (max(|a|, |n|) + floor); the floor keeps exact zeros from dividing by ~0."""
    analytic, numeric = np.asarray(analytic, dtype=float), np.asarray(numeric, dtype=float)
    floor = 1e-6 * max(1.0, float(np.abs(analytic).max(initial=0)), float(np.abs(numeric).max(initial=0)))
    return np.abs(analytic - numeric) / (np.maximum(np.abs(analytic), np.abs(numeric)) + floor)


def gradient_check(f, inputs, analytic_grads, eps=1e-6):
    """Compare hand-written gradients with central differences; return the worst relative error.

    f(*inputs) returns a number (the loss); analytic_grads[i] is the claimed d f / d inputs[i].
    In float64 a right backward scores around 1e-8 or less; a wrong one scores near 1.
    """
    if not isinstance(inputs, (list, tuple)) or not isinstance(analytic_grads, (list, tuple)):
        raise ValueError("inputs and analytic_grads are lists, one entry per argument of f: "
                         "for one input write [x] and [grad_x]")
    inputs = [np.asarray(a, dtype=np.float64) for a in inputs]
    if len(inputs) != len(analytic_grads):
        raise ValueError(f"one gradient per input: {len(inputs)} inputs, {len(analytic_grads)} gradients")
    worst = GradientCheck(0.0, 0, ())
    for i, (value, analytic) in enumerate(zip(inputs, analytic_grads)):
        if np.shape(analytic) != value.shape:
            raise ValueError(f"gradient {i} must have its input's shape: input {value.shape}, "
                             f"gradient {np.shape(analytic)}")

        def f_of_one(changed, i=i):
            return f(*inputs[:i], changed, *inputs[i + 1:])

        errors = relative_error(analytic, numerical_gradient(f_of_one, value, eps))
        if errors.size and errors.max() > worst.worst_relative_error:
            position = tuple(int(j) for j in np.unravel_index(errors.argmax(), errors.shape))
            worst = GradientCheck(float(errors.max()), i, position)
    return worst


# ====================================================================== descent on L(w) = w**2 (the learning-rate stepper)

def descent_path(learning_rate, start=1.5, steps=10):
    """Gradient descent on L(w) = w**2 (slope 2w): the weights w_0, w_1, ..., w_steps.

    Each step moves against the slope: w <- w - learning_rate * 2w = (1 - 2 * learning_rate) * w.
    What notebook 05's learning-rate stepper draws.
    """
    path = [float(start)]
    for _ in range(steps):
        slope = 2 * path[-1]
        path.append(path[-1] - learning_rate * slope)
    return np.array(path)


def descent_regime(learning_rate):
    """What descent on L(w) = w**2 does at this learning rate, in words.

    Each step multiplies w by (1 - 2 * learning_rate): its size decides everything.
    """
    factor = 1 - 2 * learning_rate
    if learning_rate <= 0:
        return "not moving downhill (the learning rate must be positive)"
    if abs(factor) > 1:
        return "diverging: each step overshoots further than the last"
    if factor == -1:
        return "oscillating forever: bouncing between w and -w"
    if factor < 0:
        return "oscillating, but converging: it overshoots the bottom by less each time"
    if factor == 0:
        return "converging in one step: it lands exactly on the bottom"
    return "converging: every step goes straight downhill"
