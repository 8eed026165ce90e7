"""Exercises of notebook 04_softmax_and_scaling: stable softmax (warm-up), fix a masked softmax, the
temperature that gives a chosen top weight, scaled weights; optional: the softmax Jacobian."""
import numpy as np
import torch

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


def _softmax_then_hide(x, mask):
    return np.where(mask, _stable_softmax(x), 0.0)              # the notebook's buggy version


def _zero_for_hidden(x, mask):
    return _stable_softmax(np.where(mask, x, 0.0))              # a score of 0 still gets weight


def _naive(x):
    return np.exp(x) / np.exp(x).sum(axis=-1, keepdims=True)


def _top_weight(scores, temperature):
    return _stable_softmax(scores / temperature).max()


def _temperature_for(scores, top):
    low, high = -10.0, 10.0                                      # log T: the top weight falls as T grows
    for _ in range(100):
        middle = (low + high) / 2
        low, high = (middle, high) if _top_weight(scores, np.exp(middle)) > top else (low, middle)
    return float(np.exp((low + high) / 2))


def _scores_and_top(rng):
    n = int(rng.integers(3, 7))
    scores = np.sort(rng.normal(scale=2.0, size=n))
    scores[-1] = scores[-2] + rng.uniform(0.3, 2.0)             # one clear winner
    rng.shuffle(scores)
    return scores, float(rng.uniform(1 / n + 0.1, 0.95))


def _compare_temperature(expected, got):
    from helpers.exercises import describe

    try:
        got = float(got)
    except (TypeError, ValueError):
        return f"expected a temperature (a float), got {describe(got)}"
    if not np.isclose(got, expected, rtol=1e-3):
        return f"expected T = {expected:.4g}, got {got:.4g}"
    return None


def _scaled_weights(scores, d_k, temperature):
    return _stable_softmax(scores / np.sqrt(d_k) / temperature)


def _raw_scores_dk_temperature(rng):
    d_k = int(rng.choice([1, 4, 64, 1024]))
    temperature = float(rng.choice([0.01, 0.5, 1.0, 3.0]))     # 0.01 with d_k = 1: exp overflows
    scores = rng.normal(scale=np.sqrt(d_k), size=_shape(rng))   # q.k of unit-variance entries: spread sqrt(d_k)
    return scores * 10.0, d_k, temperature


def _jacobian_by_autograd(scores):
    # The answer is checked against PyTorch's autograd, not against a formula.
    row = torch.tensor(scores, dtype=torch.float64)
    return torch.autograd.functional.jacobian(lambda s: torch.softmax(s, dim=-1), row).numpy()   # (n, n)


def _one_row(rng):
    return (rng.normal(scale=2.0, size=int(rng.integers(2, 7))),)


def _diagonal_only(scores):
    weights = _stable_softmax(scores)
    return np.diag(weights * (1 - weights))


def _signs_flipped(scores):
    weights = _stable_softmax(scores)
    return np.outer(weights, weights) - np.diag(weights)


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
    id="04.fix_masked_softmax",
    task="fix masked_softmax(x, mask): weight exactly 0 where mask is False, each row summing to 1",
    reference=_masked_softmax,
    make_inputs=_scores_and_mask,
    mistakes=((_softmax_then_hide, "the visible weights no longer sum to 1: hide the keys before the "
                                   "softmax (their scores become -inf), not after it"),
              (_zero_for_hidden, "a hidden score of 0 still gets a weight, since exp(0) = 1: use -np.inf"),
              (lambda x, mask: _naive(np.where(mask, x, -np.inf)),
               "subtract the row's maximum first (notebook 04, numerical stability)")),
    solution='''def masked_softmax(x, mask):
    masked = np.where(mask, x, -np.inf)                    # hide first: exp(-inf) = 0
    shifted = masked - masked.max(axis=-1, keepdims=True)  # the max is a visible score: no overflow
    exps = np.exp(shifted)
    return exps / exps.sum(axis=-1, keepdims=True)         # the visible weights sum to 1''',
))

register(Exercise(
    id="04.temperature_for",
    task="write temperature_for(scores, top): the temperature T at which softmax(scores / T) has largest weight top",
    reference=_temperature_for,
    make_inputs=_scores_and_top,
    compare=_compare_temperature,
    mistakes=((lambda scores, top: 1 / _temperature_for(scores, top),
               "that is 1 / T: a temperature divides the scores, so a small T sharpens the weights"),),
    solution='''def temperature_for(scores, top):
    low, high = -10.0, 10.0                  # log T; the largest weight falls as T grows (section 3)
    for _ in range(100):                     # bisection: halve the interval each time
        middle = (low + high) / 2
        shifted = scores / np.exp(middle)
        weights = np.exp(shifted - shifted.max())
        if weights.max() / weights.sum() > top:
            low = middle                     # still too sure: a hotter T
        else:
            high = middle
    return float(np.exp((low + high) / 2))''',
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

register(Exercise(
    id="04.softmax_jacobian",
    task="write softmax_jacobian(scores): for a 1-D array of n scores, the (n, n) matrix J[i, j] = d weight_i / d score_j",
    reference=_jacobian_by_autograd,
    make_inputs=_one_row,
    mistakes=((_diagonal_only, "that is only the diagonal: raising score j also lowers every other weight, "
                               "so J[i, j] = -p_i p_j where i != j"),
              (_signs_flipped, "the signs are flipped: raising score i raises weight i, so J[i, i] > 0")),
    solution='''def softmax_jacobian(scores):
    exps = np.exp(scores - scores.max())
    p = exps / exps.sum()                        # (n,) the weights
    return np.diag(p) - np.outer(p, p)           # J[i, j] = p_i (1 if i == j else 0) - p_i p_j
# Each column of J sums to 0: however a score moves, the weights still sum to 1.''',
))
