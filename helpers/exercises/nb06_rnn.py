"""Exercises of notebook 06_why_transformers: an RNN step (the warm-up), gradients through time
derived for a scalar RNN, then predicted and measured for a matrix one, and the cost of attention."""
import numpy as np

from helpers.exercises import Exercise, describe, register


def _rnn_step(x_t, h, w_xh, w_hh, b):
    return np.tanh(x_t @ w_xh + h @ w_hh + b)                         # (B, H)


def _step_inputs(rng):
    batch, features, hidden = (int(s) for s in rng.integers(1, 5, size=3))
    return (rng.normal(size=(batch, features)), rng.normal(size=(batch, hidden)) * 0.5,
            rng.normal(size=(features, hidden)) * 0.5, rng.normal(size=(hidden, hidden)) * 0.5,
            rng.normal(size=hidden) * 0.1)


register(Exercise(
    id="06.rnn_step",
    task="write rnn_step(x_t, h, w_xh, w_hh, b): one step of a tanh RNN, the new state (B, H)",
    reference=_rnn_step,
    make_inputs=_step_inputs,
    solution='''def rnn_step(x_t, h, w_xh, w_hh, b):
    return np.tanh(x_t @ w_xh + h @ w_hh + b)   # (B, C) @ (C, H) + (B, H) @ (H, H) + (H,)''',
))


# Predict, then measure: a linear RNN (no tanh) with W_hh = 0.8 x an orthogonal matrix. Each step back
# multiplies the gradient's size by exactly 0.8, so 10 steps back it is 0.8 ** 10 of the newest's.
RATIO_SCALE, RATIO_STEPS = 0.8, 10


def _compare_ratio(expected, got):
    try:
        value = float(got)
    except (TypeError, ValueError):
        return f"expected a number (the ratio of two gradient norms), got {describe(got)}"
    if np.isclose(value, expected, rtol=0.01):
        return None
    near_misses = [
        (RATIO_SCALE ** (RATIO_STEPS + 1), "one factor too many: the oldest input is 10 steps back, "
                                           "so 10 multiplications by W_hh, not 11"),
        (RATIO_SCALE ** (RATIO_STEPS - 1), "one factor too few: 10 steps back means 10 multiplications by W_hh"),
        (RATIO_SCALE ** -RATIO_STEPS, "upside down: going back, the gradient shrinks (the scale is below 1)"),
        (RATIO_SCALE * RATIO_STEPS, "the factors multiply: 0.8 times 0.8 times ..., not 0.8 times 10"),
        (1 - (1 - RATIO_SCALE) * RATIO_STEPS, "the factors multiply, they do not add up"),
        (RATIO_SCALE, "that is one step back; the oldest input is 10 steps back"),
    ]
    for wrong, hint in near_misses:
        if np.isclose(value, wrong, rtol=0.01):
            return f"got {value:.4g}; hint: {hint}"
    return (f"got {value:.4g}: not what 10 steps back give. Each step back multiplies the gradient's "
            f"size by exactly 0.8 (an orthogonal matrix keeps lengths, the 0.8 shrinks them)")


register(Exercise(
    id="06.predict_gradient_ratio",
    task="predict: in an RNN without tanh whose W_hh is 0.8 x an orthogonal matrix, the gradient "
         "reaching the input 10 steps back, as a multiple of the one reaching the newest input",
    reference=RATIO_SCALE ** RATIO_STEPS,
    compare=_compare_ratio,
    solution='''prediction = 0.8 ** 10   # each step back multiplies by exactly 0.8: 10 steps, 10 factors
print(f"{prediction:.4f}")   # 0.1074: about a tenth. With tanh the measured ratio is smaller still
                             # here (each step also multiplies by tanh's slope, 1 - h**2 <= 1)''',
))


def _gradient_through_time(w, length):
    return w ** np.arange(length - 1, -1, -1, dtype=float)             # [w^(T-1), ..., w, 1]


register(Exercise(
    id="06.gradient_through_time",
    task="write gradient_through_time(w, length): for the scalar RNN h_t = w * h_(t-1) + x_t, "
         "the array of d h_(T-1) / d x_t for t = 0 .. T-1",
    reference=_gradient_through_time,
    make_inputs=lambda rng: (float(rng.uniform(0.3, 1.7)), int(rng.integers(1, 30))),
    solution='''def gradient_through_time(w, length):
    # x_t reaches h_(T-1) through T-1-t multiplications by w
    return np.array([w ** (length - 1 - t) for t in range(length)])''',
))


register(Exercise(
    id="06.attention_weight_count",
    task="write attention_weight_count(batch, heads, length): how many attention weights one "
         "attention layer computes",
    reference=lambda batch, heads, length: batch * heads * length * length,
    make_inputs=lambda rng: tuple(int(s) for s in rng.integers(1, 2000, size=3)),
    solution='''def attention_weight_count(batch, heads, length):
    return batch * heads * length * length   # a (length, length) matrix per sequence and head''',
))


def _compare_weight_example(expected, got):
    if not isinstance(got, (int, np.integer)):
        return f"expected a whole number of weights, got {type(got).__name__} {got!r}"
    if got == expected:
        return None
    if 2 * got == expected or 2 * got == expected + 8 * 12 * 2048:
        return (f"got {got:,}, half of {expected:,}: count the whole T x T matrix, masked entries "
                f"included (a causal mask still computes every score)")
    return f"got {got:,}, expected {expected:,} (batch * heads * length * length)"


register(Exercise(
    id="06.attention_weight_example",
    task="how many attention weights for 8 sequences of 2,048 tokens and 12 heads (the full T x T matrices)",
    reference=8 * 12 * 2048 * 2048,
    compare=_compare_weight_example,
    solution='''weights_for_8_sequences = 8 * 12 * 2048 * 2048   # batch x heads x T x T, as attention_weight_count gives
print(f"{weights_for_8_sequences:,}")             # 402,653,184: 400 million, in one layer''',
))
