"""The Transformer model, in one readable file.

The top of the file holds the pieces of a Transformer block, built in notebook
07_transformer_block: `LayerNorm` (from scratch, equal to `torch.nn.LayerNorm`), the `MLP`,
and the pre-norm `Block` that joins multi-head attention (helpers/attention.py, notebook 03)
and the MLP with residual connections. Notebook 08_what_is_it stacks two blocks into a small
encoder. Below the GPT marker, notebook 09_gpt_on_gpu builds the whole GPT from these blocks.

Shapes in comments: B batch, T tokens, C channels (d_model), H heads.
"""
import math
import numbers
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from helpers.attention import KVCache, MultiHeadAttention, check_heads, check_layer_input


class LayerNorm(nn.Module):
    """Layer normalisation from scratch: each token's vector gets mean 0 and variance 1, then a
    learned scale (`weight`) and shift (`bias`). Equal to `torch.nn.LayerNorm(d_model)`.
    """

    def __init__(self, d_model, eps=1e-5, from_scratch=False):
        super().__init__()
        self.eps = eps
        self.from_scratch = from_scratch  # True: run the step-by-step arithmetic of notebook 07
        self.weight = nn.Parameter(torch.ones(d_model))
        self.bias = nn.Parameter(torch.zeros(d_model))

    def forward(self, x):                                        # (..., C)
        check_layer_input(x, self.weight, "LayerNorm")
        if self.from_scratch:
            return self.forward_from_scratch(x)
        # The same arithmetic in one fused kernel (tests assert it equals forward_from_scratch):
        # the eager GPT step on a CPU is about a fifth faster this way.
        return F.layer_norm(x, self.weight.shape, self.weight, self.bias, self.eps)

    def forward_from_scratch(self, x):                           # (..., C)
        mean = x.mean(dim=-1, keepdim=True)                      # (..., 1)
        variance = x.var(dim=-1, keepdim=True, unbiased=False)   # (..., 1), divided by C like torch
        normalised = (x - mean) / torch.sqrt(variance + self.eps)
        return normalised * self.weight + self.bias              # (..., C)


class MLP(nn.Module):
    """The feed-forward part of a block: widen 4x, GELU, narrow back, dropout. Works on each token
    on its own (attention is where tokens talk to each other; the MLP is where each one thinks).
    """

    def __init__(self, d_model, dropout=0.0):
        super().__init__()
        self.up = nn.Linear(d_model, 4 * d_model)
        self.down = nn.Linear(4 * d_model, d_model)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):                                        # (B, T, C)
        check_layer_input(x, self.up.weight, "MLP")
        hidden = F.gelu(self.up(x))                              # (B, T, 4C)
        return self.dropout(self.down(hidden))                   # (B, T, C)


class Block(nn.Module):
    """One pre-norm Transformer block: x + attention(ln1(x)), then x + mlp(ln2(x)).

    causal=True (the GPT block) lets each token attend only to itself and earlier tokens;
    causal=False (the encoder of notebook 08) lets every token see the whole sentence.
    forward(x, mask=None, need_weights=False) returns x, or (x, attention weights (B, H, T, T))
    when need_weights=True. `mask` (boolean, True = may attend) is added to the causal rule, for
    example to hide padding. `cache`: the attention's `KVCache` when generating (notebook 09).
    """

    def __init__(self, d_model, n_heads, dropout=0.0, causal=True):
        super().__init__()
        self.causal = causal
        self.ln1 = LayerNorm(d_model)
        self.attn = MultiHeadAttention(d_model, n_heads, dropout=dropout)
        self.ln2 = LayerNorm(d_model)
        self.mlp = MLP(d_model, dropout=dropout)

    def forward(self, x, mask=None, need_weights=False, cache=None):   # x: (B, T, C)
        attended, weights = self.attn(self.ln1(x), causal=self.causal, mask=mask,
                                      need_weights=need_weights, cache=cache)
        x = x + attended                                         # residual: (B, T, C)
        x = x + self.mlp(self.ln2(x))                            # residual: (B, T, C)
        return (x, weights) if need_weights else x


def layer_norm_parameter_count(d_model):
    """A scale and a shift per channel."""
    return 2 * d_model


def attention_parameter_count(d_model):
    """Q, K and V projections (3 C x C weights + 3C biases) and the output projection (C x C + C)."""
    return 3 * d_model * d_model + 3 * d_model + d_model * d_model + d_model


def mlp_parameter_count(d_model):
    """C -> 4C (weights and biases), then 4C -> C."""
    return d_model * 4 * d_model + 4 * d_model + 4 * d_model * d_model + d_model


def block_parameter_count(d_model):
    """Parameters of one `Block`, by formula: 12 C^2 + 13 C (the head count does not matter)."""
    return (2 * layer_norm_parameter_count(d_model) + attention_parameter_count(d_model)
            + mlp_parameter_count(d_model))


def count_parameters(module):
    """How many numbers a module learns (what the formulas above must equal)."""
    return sum(p.numel() for p in module.parameters())


# ====================================================================== GPT (notebook 09)

# The GPT of notebook 09_gpt_on_gpu: token and position embeddings, a stack of causal `Block`s,
# a final LayerNorm and a head that scores every token of the vocabulary as the next one.


@dataclass
class GPTConfig:
    """The sizes of a GPT. A plain dataclass, so it travels in checkpoints as a dict
    (`dataclasses.asdict(config)`, then `GPTConfig(**that_dict)`)."""
    vocab_size: int = 74       # how many different tokens (the plays hold 74 characters)
    context: int = 256         # the longest sequence the model reads (its position table's size)
    n_layers: int = 6
    n_heads: int = 6
    d_model: int = 384
    dropout: float = 0.0

    def __post_init__(self):
        check_heads(self.d_model, self.n_heads)


class GPT(nn.Module):
    """A decoder-only Transformer that predicts the next token at every position.

    forward(idx (B, T) of token ids, targets (B, T) or None) -> (logits (B, T, V), loss or None).
    forward(idx, caches=one KVCache per block) is the generation path: idx holds only the tokens
    after those already in the caches, and their positions follow on from them.
    The output head shares its weight with the token embedding ("weight tying"): the same vector
    that stands for a token going in scores it coming out, and the model has V x C fewer numbers.
    Built in notebook 09_gpt_on_gpu.
    """

    def __init__(self, config):
        super().__init__()
        self.config = config
        self.token_embedding = nn.Embedding(config.vocab_size, config.d_model)
        self.position_embedding = nn.Embedding(config.context, config.d_model)
        self.dropout = nn.Dropout(config.dropout)
        self.blocks = nn.ModuleList(Block(config.d_model, config.n_heads, config.dropout, causal=True)
                                    for _ in range(config.n_layers))
        self.final_norm = LayerNorm(config.d_model)
        self.head = nn.Linear(config.d_model, config.vocab_size, bias=False)
        self.head.weight = self.token_embedding.weight           # weight tying
        self.apply(self._init_weights)
        self._scale_residual_projections()

    @staticmethod
    def _init_weights(module):
        # Small normal weights (std 0.02) and zero biases: every logit starts near 0, so the first
        # loss is close to ln(vocab_size), the loss of a uniform guess.
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)

    def _scale_residual_projections(self):
        # Each block adds two outputs to the residual stream; shrinking the layers that write
        # into it by 1/sqrt(2 * n_layers) keeps the stream's size steady however deep the stack.
        std = 0.02 / math.sqrt(2 * self.config.n_layers)
        for block in self.blocks:
            nn.init.normal_(block.attn.proj.weight, mean=0.0, std=std)
            nn.init.normal_(block.mlp.down.weight, mean=0.0, std=std)

    def forward(self, idx, targets=None, caches=None):
        if idx.ndim != 2:
            raise ValueError(f"idx must be (batch, length) token ids, got shape {tuple(idx.shape)}")
        check_token_ids(idx, self.config.vocab_size)
        if targets is not None and targets.shape != idx.shape:
            raise ValueError(f"targets must have idx's shape {tuple(idx.shape)} (the next token at every "
                             f"position: y is x shifted by one, both of length T), got {tuple(targets.shape)}")
        B, T = idx.shape
        past = len(caches[0]) if caches else 0                             # tokens already cached
        if past + T > self.config.context:
            raise ValueError(f"the sequence has {past + T} tokens, but the model reads at most "
                             f"context={self.config.context}: crop it to the last {self.config.context}")
        positions = torch.arange(past, past + T, device=idx.device)         # (T,)
        x = self.token_embedding(idx) + self.position_embedding(positions)  # (B, T, C)
        x = self.dropout(x)
        for block, cache in zip(self.blocks, caches or [None] * len(self.blocks)):
            x = block(x, cache=cache)                                       # (B, T, C)
        logits = self.head(self.final_norm(x))                              # (B, T, V)
        if targets is None:
            return logits, None
        loss = F.cross_entropy(logits.reshape(B * T, -1).float(), targets.reshape(B * T))
        return logits, loss

    def flops_per_token(self, T=None):
        """Floating-point operations to train on one token (forward and backward, about 3x the
        forward): 6 per parameter, plus attention's scores and weighted sums (12 L C T).

        The position table is left out (a lookup, no multiply); the token embedding stays in,
        because the tied head multiplies by it. Norms and biases are counted too: a simple,
        common convention (under 1% of the parameters in the presets)."""
        T = self.config.context if T is None else T
        weights = count_parameters(self) - self.position_embedding.weight.numel()
        attention = 12 * self.config.n_layers * self.config.d_model * T
        return 6 * weights + attention


def check_token_ids(idx, vocab_size):
    """A clear error for ids the embedding cannot look up: the wrong dtype, or outside 0..vocab_size-1.
    The range is checked on CPU tensors only, and not while torch.compile traces: on a GPU (or MPS)
    it would make every step wait for the device."""
    if idx.dtype not in (torch.int64, torch.int32):
        raise TypeError(f"token ids must be torch.long (or torch.int32), got {idx.dtype}: use idx.long()")
    if not torch.compiler.is_compiling() and idx.device.type == "cpu" and idx.numel():
        low, high = int(idx.min()), int(idx.max())
        if low < 0 or high >= vocab_size:
            raise ValueError(f"token ids must be 0 to {vocab_size - 1} (vocab_size={vocab_size}), found "
                             f"{low if low < 0 else high}: were they made by another tokenizer?")


def check_sampling(temperature, top_k):
    """The rules for sampling settings, shared by generate and the notebook's probability bars."""
    if not temperature > 0:
        raise ValueError(f"temperature must be above 0 (1 keeps the model's probabilities), got {temperature}")
    if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, numbers.Integral) or top_k < 1):
        raise ValueError(f"top_k must be a whole number of at least 1, or None to keep every token; got {top_k!r}")


def next_token_probabilities(logits, temperature=1.0, top_k=None):
    """Logits (..., V) -> the probabilities generate samples from (..., V), each row summing to 1.

    Divided by the temperature (below 1 sharpens, above 1 flattens: notebook 04), then every
    token outside the top_k likeliest set to -inf, so softmax gives it 0. Notebook 09's bars use it.
    """
    check_sampling(temperature, top_k)
    logits = torch.as_tensor(logits).float() / temperature                 # (..., V)
    if top_k is not None and top_k < logits.shape[-1]:
        kth_best = torch.topk(logits, top_k).values[..., -1:]              # (..., 1)
        logits = logits.masked_fill(logits < kth_best, float("-inf"))
    return F.softmax(logits, dim=-1)                                       # (..., V)


@torch.no_grad()
def generate(model, idx, max_new_tokens, temperature=1.0, top_k=None, generator=None, use_cache=True):
    """Continue each sequence in idx (B, T) by max_new_tokens sampled tokens -> (B, T + max_new_tokens).

    temperature < 1 sharpens the next-token distribution, > 1 flattens it; top_k keeps only the
    k likeliest tokens. `generator` (a torch.Generator) makes the samples repeatable.
    use_cache: keep every layer's keys and values (a KVCache), so each new token runs through the
    model alone instead of the whole text again; the tokens come out the same. The model reads at
    most `context` tokens, and its positions are absolute: once the text is longer, each step
    reads the last `context` tokens afresh, as without a cache. Built in notebook 09_gpt_on_gpu.
    """
    check_sampling(temperature, top_k)
    if idx.ndim != 2 or idx.shape[1] == 0:
        raise ValueError(f"idx must be (batch, length) with at least one token to continue, got shape "
                         f"{tuple(idx.shape)}" + (": for one sequence use idx[None]" if idx.ndim == 1 else ""))
    was_training = model.training
    model.eval()
    context, caches = model.config.context, None
    for _ in range(max_new_tokens):
        if caches and len(caches[0]) < context:             # the cache has room: feed the newest token
            logits, _ = model(idx[:, -1:], caches=caches)   # (B, 1, V)
        else:                                               # the start, or a full window: read it whole
            caches = [KVCache() for _ in model.blocks] if use_cache else None
            logits, _ = model(idx[:, -context:], caches=caches)   # (B, T, V): only the last position matters
        probs = next_token_probabilities(logits[:, -1, :], temperature, top_k)   # (B, V)
        next_token = torch.multinomial(probs, 1, generator=generator)            # (B, 1)
        idx = torch.cat([idx, next_token], dim=1)                                # (B, T + 1)
    model.train(was_training)
    return idx
