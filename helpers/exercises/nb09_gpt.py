"""Exercises of notebook 09_gpt_on_gpu: batches of next-token windows, temperature, top-k, MFU."""
import torch

from helpers.exercises import Exercise, register


def _make_windows(tokens, starts, context):
    offsets = torch.arange(context + 1)                     # (T + 1,)
    windows = tokens[starts[:, None] + offsets]             # (B, T + 1)
    return windows[:, :-1], windows[:, 1:]


def _window_inputs(rng):
    tokens = torch.from_numpy(rng.integers(0, 50, size=int(rng.integers(30, 60))))
    context = int(rng.integers(2, 9))
    starts = torch.from_numpy(rng.integers(0, len(tokens) - context, size=int(rng.integers(1, 5))))
    return tokens, starts, context


register(Exercise(
    id="09.make_windows",
    task="write make_windows(tokens, starts, context): inputs x and next-token targets y, each (B, context)",
    reference=_make_windows,
    make_inputs=_window_inputs,
    solution='''def make_windows(tokens, starts, context):
    offsets = torch.arange(context + 1)                 # 0, 1, ..., context
    windows = tokens[starts[:, None] + offsets]         # (B, context + 1), one gather
    return windows[:, :-1], windows[:, 1:]              # y is x moved one token on''',
))


def _temperature_probs(logits, temperature):
    return torch.softmax(logits / temperature, dim=-1)


def _logit_inputs(rng):
    logits = torch.from_numpy(rng.normal(size=(int(rng.integers(1, 4)), int(rng.integers(3, 12)))) * 3).float()
    return logits, float(rng.choice([0.3, 0.7, 1.0, 1.5, 2.5]))


register(Exercise(
    id="09.temperature",
    task="write temperature_probs(logits, temperature): next-token probabilities at a temperature",
    reference=_temperature_probs,
    make_inputs=_logit_inputs,
    solution='''def temperature_probs(logits, temperature):
    return torch.softmax(logits / temperature, dim=-1)   # divide first, then normalise''',
))


def _top_k_filter(logits, k):
    kth_best = torch.topk(logits, k, dim=-1).values[:, -1:]          # (B, 1)
    return logits.masked_fill(logits < kth_best, float("-inf"))


def _top_k_inputs(rng):
    logits, _ = _logit_inputs(rng)
    return logits, int(rng.integers(1, logits.shape[-1] + 1))


register(Exercise(
    id="09.top_k",
    task="write top_k_filter(logits, k): keep each row's k largest logits, set the rest to -inf",
    reference=_top_k_filter,
    make_inputs=_top_k_inputs,
    solution='''def top_k_filter(logits, k):
    kth_best = torch.topk(logits, k, dim=-1).values[:, -1:]    # each row's k-th largest, (B, 1)
    return logits.masked_fill(logits < kth_best, float("-inf"))''',
))


def _mfu(tokens_per_s, flops_per_token, peak_tflops):
    return tokens_per_s * flops_per_token / (peak_tflops * 1e12)


register(Exercise(
    id="09.mfu",
    task="write mfu(tokens_per_s, flops_per_token, peak_tflops): the share of the peak the model used",
    reference=_mfu,
    make_inputs=lambda rng: (float(rng.uniform(1e4, 5e6)), float(rng.uniform(1e6, 1e8)),
                             float(rng.choice([312.0, 989.4, 756.0]))),
    solution='''def mfu(tokens_per_s, flops_per_token, peak_tflops):
    achieved = tokens_per_s * flops_per_token           # FLOP/s the model needed
    return achieved / (peak_tflops * 1e12)              # TFLOP/s -> FLOP/s''',
))
