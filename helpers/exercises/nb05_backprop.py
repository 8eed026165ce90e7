"""Exercises of notebook 05_backprop: a step of descent (the warm-up), a bug to find in a backward
pass, the backward pass of a piece the notebook did not derive (LayerNorm), checked against autograd,
and (optional) the safe learning rate from a Hessian by power iteration."""
import re

import numpy as np

from helpers.exercises import Exercise, compare_values, register


def _compare_rounded(expected, got):
    """compare_values, with the values in its message cut to 4 significant digits: the notebook is
    committed with the message for the handed-out (buggy) function, and the last digits of float64
    arithmetic differ between CPUs."""
    problem = compare_values(expected, got)
    if problem is None:
        return None
    return re.sub(r"-?\d+\.\d{5,}(e[-+]?\d+)?", lambda m: f"{float(m.group()):.4g}", problem)


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


# ------------------------------------------------------------------ find the bug: a two-layer network

def _two_layer_backward(x, w1, w2, grad_y, slope_of_tanh=lambda pre, h: 1 - h ** 2):
    """y = tanh(x @ w1) @ w2: (grad_x, grad_w1, grad_w2) from grad_y (N, n_out)."""
    pre = x @ w1                                     # (N, H)
    h = np.tanh(pre)                                 # (N, H)
    grad_w2 = h.T @ grad_y                           # (H, n_out)
    grad_h = grad_y @ w2.T                           # (N, H)
    grad_pre = grad_h * slope_of_tanh(pre, h)        # (N, H)
    grad_w1 = x.T @ grad_pre                         # (n_in, H)
    grad_x = grad_pre @ w1.T                         # (N, n_in)
    return grad_x, grad_w1, grad_w2


def buggy_two_layer_backward(x, w1, w2, grad_y):
    """The version notebook 05 hands out: tanh's slope taken at the wrong variable."""
    return _two_layer_backward(x, w1, w2, grad_y, slope_of_tanh=lambda pre, h: 1 - pre ** 2)


def _two_layer_inputs(rng):
    n, n_in, hidden, n_out = (int(s) for s in rng.integers(1, 4, size=4))      # small: a message shows them whole
    return (rng.normal(size=(n, n_in)), rng.normal(size=(n_in, hidden)), rng.normal(size=(hidden, n_out)),
            rng.normal(size=(n, n_out)))


register(Exercise(
    id="05.two_layer_backward",
    task="fix two_layer_backward(x, w1, w2, grad_y) for y = tanh(x @ w1) @ w2: return (grad_x, grad_w1, grad_w2)",
    reference=_two_layer_backward,
    make_inputs=_two_layer_inputs,
    compare=_compare_rounded,
    mistakes=(
        (buggy_two_layer_backward,
         "these are the values of the function as handed out: the bug is still there. The gradient check "
         "said grad_w2 is right and grad_x, grad_w1 are wrong: look at the lines between them"),
        (lambda x, w1, w2, g: _two_layer_backward(x, w1, w2, g, slope_of_tanh=lambda pre, h: 1.0),
         "tanh's slope is missing: the chain rule multiplies by dh/dpre = 1 - tanh(pre)**2 on the way back"),
        (lambda x, w1, w2, g: _two_layer_backward(x, w1, w2, g, slope_of_tanh=lambda pre, h: 1 - np.tanh(h) ** 2),
         "tanh's slope is 1 - tanh(pre)**2, and tanh(pre) is h already: 1 - h**2 (not tanh of h)"),
    ),
    solution='''def two_layer_backward(x, w1, w2, grad_y):
    # forward: h = tanh(x @ w1), y = h @ w2
    pre = x @ w1                              # (N, H)
    h = np.tanh(pre)                          # (N, H)
    grad_w2 = h.T @ grad_y                    # (H, n_out)
    grad_h = grad_y @ w2.T                    # (N, H)
    grad_pre = grad_h * (1 - h ** 2)          # the fix: tanh's slope is 1 - tanh(pre)**2 = 1 - h**2
    grad_w1 = x.T @ grad_pre                  # (n_in, H)
    grad_x = grad_pre @ w1.T                  # (N, n_in)
    return grad_x, grad_w1, grad_w2''',
))


# ------------------------------------------------------------------ LayerNorm's backward, by hand

EPS = 1e-5


def _normalised(x):
    centred = x - x.mean(axis=-1, keepdims=True)                          # (N, C)
    std = np.sqrt((centred ** 2).mean(axis=-1, keepdims=True) + EPS)      # (N, 1)
    return centred / std, std


def _layer_norm_backward(x, grad_y):
    """y = (x - mean) / sqrt(var + eps) along the last axis: dL/dx from dL/dy = grad_y."""
    y, std = _normalised(x)
    # Three paths from x_i to the loss: directly, through the mean, through the variance.
    return (grad_y - grad_y.mean(axis=-1, keepdims=True) - y * (grad_y * y).mean(axis=-1, keepdims=True)) / std


def _layer_norm_inputs(rng):
    shape = (int(rng.integers(1, 5)), int(rng.integers(2, 7)))
    return rng.normal(2, 3, size=shape), rng.normal(size=shape)


def _only_the_direct_path(x, grad_y):
    return grad_y / _normalised(x)[1]


def _without_the_variance_path(x, grad_y):
    return (grad_y - grad_y.mean(axis=-1, keepdims=True)) / _normalised(x)[1]


def _without_the_mean_path(x, grad_y):
    y, std = _normalised(x)
    return (grad_y - y * (grad_y * y).mean(axis=-1, keepdims=True)) / std


register(Exercise(
    id="05.layer_norm_backward",
    task="write layer_norm_backward(x, grad_y) for y = (x - mean) / sqrt(var + 1e-5) along the last axis: dL/dx",
    reference=_layer_norm_backward,
    make_inputs=_layer_norm_inputs,
    compare=_compare_rounded,
    mistakes=(
        (_only_the_direct_path, "only the direct path: the mean and the variance depend on every x_i too, "
                                "so each x_i also reaches the loss through them (like softmax's shared sum)"),
        (_without_the_variance_path, "the path through the mean is there; the path through the variance "
                                     "(the std you divide by) is missing"),
        (_without_the_mean_path, "the path through the variance is there; the path through the mean is missing "
                                 "(a hint: the gradient of a row sums to 0, as softmax's did)"),
    ),
    solution='''def layer_norm_backward(x, grad_y):
    mean = x.mean(axis=-1, keepdims=True)                              # (N, 1)
    std = np.sqrt(((x - mean) ** 2).mean(axis=-1, keepdims=True) + 1e-5)   # (N, 1)
    y = (x - mean) / std                                               # (N, C)
    # x_i reaches the loss three ways: directly (grad_y / std), through the mean (every y_j
    # moves by -1/(C std)), and through the variance (y_j moves by -y_j y_i / (C std)).
    through_mean = grad_y.mean(axis=-1, keepdims=True)                 # (N, 1)
    through_variance = y * (grad_y * y).mean(axis=-1, keepdims=True)   # (N, C)
    return (grad_y - through_mean - through_variance) / std''',
))


# ------------------------------------------------------------------ the safe learning rate, from the Hessian

def _hessian_with_a_clear_top(rng):
    """A symmetric positive-definite (n, n) matrix whose largest eigenvalue stands out (power
    iteration then converges in a few dozen steps)."""
    n = int(rng.integers(2, 6))
    rotation, _ = np.linalg.qr(rng.normal(size=(n, n)))            # random orthonormal eigenvectors
    eigenvalues = rng.uniform(0.1, 1.0, size=n)
    eigenvalues[0] = rng.uniform(2.0, 10.0)                         # the sharpest direction
    return (rotation * eigenvalues) @ rotation.T,


def _safe_learning_rate(hessian):
    return 2 / np.linalg.eigvalsh(hessian).max()                   # lr < 2 / lambda_max (section "How large a step is safe?")


register(Exercise(
    id="05.safe_learning_rate",
    task=("write safe_learning_rate(hessian): 2 / lambda_max for a symmetric positive-definite matrix, "
          "lambda_max found by power iteration (no np.linalg.eig)"),
    reference=_safe_learning_rate,
    make_inputs=_hessian_with_a_clear_top,
    mistakes=((lambda h: 1 / np.linalg.eigvalsh(h).max(),
               "that is 1 / lambda_max: the w**2 rule is lr * curvature < 2, so 2 / lambda_max"),
              (lambda h: 2 / np.linalg.eigvalsh(h).min(),
               "that uses the smallest eigenvalue: the sharpest direction (the largest) decides"),
              (lambda h: 2 / np.trace(h),
               "the trace adds up every direction's curvature: the bound needs the largest one alone")),
    solution='''def safe_learning_rate(hessian):
    v = np.ones(len(hessian)) / np.sqrt(len(hessian))    # any start with a part along the top direction
    for _ in range(200):
        hv = hessian @ v
        v = hv / np.linalg.norm(hv)                      # the sharpest direction grows fastest
    return 2 / (v @ hessian @ v)                         # v . H v = lambda_max when v has length 1''',
))
