"""Exercises of notebook 06_why_transformers: an RNN step and loop, gradients through time, the cost of attention."""
import numpy as np

from helpers.exercises import Exercise, register


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


def _rnn_states(x, w_xh, w_hh, b):
    h = np.zeros(w_hh.shape[0])
    states = []
    for x_t in x:                                                     # one step per position, in order
        h = _rnn_step(x_t, h, w_xh, w_hh, b)
        states.append(h)
    return np.stack(states)                                           # (T, H)


def _states_inputs(rng):
    length, features, hidden = (int(s) for s in rng.integers(1, 6, size=3))
    return (rng.normal(size=(length, features)), rng.normal(size=(features, hidden)) * 0.5,
            rng.normal(size=(hidden, hidden)) * 0.5, rng.normal(size=hidden) * 0.1)


register(Exercise(
    id="06.rnn_states",
    task="write rnn_states(x, w_xh, w_hh, b): run a tanh RNN over x (T, C) from a zero state; "
         "return every state, (T, H)",
    reference=_rnn_states,
    make_inputs=_states_inputs,
    solution='''def rnn_states(x, w_xh, w_hh, b):
    h = np.zeros(w_hh.shape[0])             # the state before the first word
    states = []
    for x_t in x:                           # T steps, each waiting for the one before
        h = np.tanh(x_t @ w_xh + h @ w_hh + b)
        states.append(h)
    return np.stack(states)                 # (T, H)''',
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
