"""Exercises of notebook 07_transformer_block."""
import torch
import torch.nn.functional as F

from helpers.exercises import Exercise, register


def _layer_norm(x, weight, bias):
    mean = x.mean(dim=-1, keepdim=True)
    variance = x.var(dim=-1, keepdim=True, unbiased=False)
    return (x - mean) / torch.sqrt(variance + 1e-5) * weight + bias


def _layer_norm_inputs(rng):
    C = int(rng.integers(3, 9))
    shape = (int(rng.integers(1, 4)), int(rng.integers(1, 5)), C)
    as_tensor = lambda a: torch.from_numpy(a).float()
    return (as_tensor(rng.normal(2, 3, size=shape)), as_tensor(rng.normal(size=C)), as_tensor(rng.normal(size=C)))


register(Exercise(
    id="07.layer_norm",
    task="layer normalisation over the last dimension (eps 1e-5), then scale by weight and shift by bias",
    reference=_layer_norm,
    make_inputs=_layer_norm_inputs,
    solution=("def layer_norm(x, weight, bias):\n"
              "    mean = x.mean(dim=-1, keepdim=True)\n"
              "    variance = x.var(dim=-1, keepdim=True, unbiased=False)   # divide by C, not C - 1\n"
              "    return (x - mean) / torch.sqrt(variance + 1e-5) * weight + bias"),
))


def _split_heads(x, n_heads):
    B, T, C = x.shape
    return x.view(B, T, n_heads, C // n_heads).transpose(1, 2)


def _split_inputs(rng):
    n_heads = int(rng.integers(1, 5))
    shape = (int(rng.integers(1, 4)), int(rng.integers(2, 6)), n_heads * int(rng.integers(1, 5)))
    return torch.from_numpy(rng.normal(size=shape)).float(), n_heads


register(Exercise(
    id="07.split_heads",
    task="reshape (B, T, C) into (B, H, T, C // H), head h holding features h*C//H to (h+1)*C//H",
    reference=_split_heads,
    make_inputs=_split_inputs,
    solution=("def split_heads(x, n_heads):\n"
              "    B, T, C = x.shape\n"
              "    return x.view(B, T, n_heads, C // n_heads).transpose(1, 2)   # (B, H, T, Dh)"),
))


def _mlp(x, w_up, b_up, w_down, b_down):
    return F.linear(F.gelu(F.linear(x, w_up, b_up)), w_down, b_down)


def _mlp_inputs(rng):
    C = int(rng.integers(2, 6))
    t = lambda *shape: torch.from_numpy(rng.normal(size=shape)).float()
    return t(2, 3, C), t(4 * C, C), t(4 * C), t(C, 4 * C), t(C)


register(Exercise(
    id="07.mlp",
    task="the block's MLP: x @ w_up.T + b_up, GELU, then @ w_down.T + b_down",
    reference=_mlp,
    make_inputs=_mlp_inputs,
    solution=("def mlp(x, w_up, b_up, w_down, b_down):\n"
              "    hidden = torch.nn.functional.gelu(x @ w_up.T + b_up)   # (B, T, 4C)\n"
              "    return hidden @ w_down.T + b_down                       # (B, T, C)"),
))


def _block_parameters(d_model):
    return 12 * d_model * d_model + 13 * d_model


register(Exercise(
    id="07.block_parameters",
    task="the number of parameters of one Block of width d_model, as a formula",
    reference=_block_parameters,
    make_inputs=lambda rng: (int(rng.integers(1, 1000)),),
    solution=("def block_parameters(d_model):\n"
              "    layer_norms = 2 * 2 * d_model\n"
              "    attention = 4 * d_model * d_model + 4 * d_model   # q, k, v and the output projection\n"
              "    mlp = 8 * d_model * d_model + 5 * d_model          # C -> 4C -> C\n"
              "    return layer_norms + attention + mlp               # 12 C^2 + 13 C"),
))
