"""Exercises of notebook 07_transformer_block: LayerNorm (the warm-up), GELU's backward by hand,
the post-norm block of 2017, a whole GPT's parameter count."""
import math

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


def _normal_cdf(x):
    return 0.5 * (1 + torch.erf(x / 2 ** 0.5))                           # Phi(x)


def _normal_density(x):
    return torch.exp(-x ** 2 / 2) / (2 * math.pi) ** 0.5                 # phi(x), Phi's slope


def _gelu_backward(x, grad_y):
    """y = gelu(x) = x * Phi(x) (F.gelu's exact form): dL/dx from dL/dy."""
    return grad_y * (_normal_cdf(x) + x * _normal_density(x))          # the product rule


def _gelu_inputs(rng):
    shape = (int(rng.integers(1, 4)), int(rng.integers(1, 7)))
    x = rng.normal(size=shape) * 2
    x.flat[0] = 0.0                                                      # at 0 the slope is exactly 1/2
    return torch.from_numpy(x).float(), torch.from_numpy(rng.normal(size=shape)).float()


def _gelu_backward_of_the_tanh_form(x, grad_y):
    """The slope of the tanh approximation of GELU (F.gelu(x, approximate="tanh")): close, not equal."""
    x = x.detach().clone().requires_grad_(True)
    F.gelu(x, approximate="tanh").backward(grad_y)
    return x.grad


register(Exercise(
    id="07.gelu_backward",
    task="write gelu_backward(x, grad_y): dL/dx for y = F.gelu(x) = x * Phi(x), given dL/dy",
    reference=_gelu_backward,
    make_inputs=_gelu_inputs,
    mistakes=(
        (lambda x, g: g * _normal_cdf(x), "only Phi(x): x * Phi(x) is a product, and Phi depends on x "
                                         "too, so the product rule adds x * phi(x)"),
        (lambda x, g: g * x * _normal_density(x), "only x * phi(x): the product rule also keeps Phi(x), "
                                                  "the slope of the first factor x times the second"),
        (lambda x, g: _normal_cdf(x) + x * _normal_density(x), "that is GELU's slope alone: the chain rule "
                                                               "multiplies it by grad_y"),
        (_gelu_backward_of_the_tanh_form, "this is the slope of GELU's tanh approximation; F.gelu's default "
                                          "is the exact x * Phi(x), with Phi from erf"),
    ),
    solution=("def gelu_backward(x, grad_y):\n"
              "    normal_cdf = 0.5 * (1 + torch.erf(x / 2 ** 0.5))                  # Phi(x)\n"
              "    normal_density = torch.exp(-x ** 2 / 2) / (2 * torch.pi) ** 0.5   # phi(x), the slope of Phi\n"
              "    return grad_y * (normal_cdf + x * normal_density)                 # product rule, then chain rule"),
))


def _post_norm_block(block, x):
    attended, _ = block.attn(x, causal=block.causal)
    x = block.ln1(x + attended)
    return block.ln2(x + block.mlp(x))


def _post_norm_inputs(rng):
    from helpers.model import Block

    n_heads = int(rng.integers(1, 4))
    C = n_heads * int(rng.integers(2, 5))
    torch.manual_seed(int(rng.integers(1_000_000)))
    block = Block(C, n_heads, causal=bool(rng.integers(2))).eval()
    with torch.no_grad():                 # LayerNorms that are not the identity, so order matters
        for norm in (block.ln1, block.ln2):
            norm.weight.normal_(1, 0.3), norm.bias.normal_(0, 0.3)
    return block, torch.from_numpy(rng.normal(size=(2, int(rng.integers(2, 6)), C))).float()


register(Exercise(
    id="07.post_norm_block",
    task=("the original (2017) post-norm block from a Block's parts: x = ln1(x + attention(x)), "
          "then ln2(x + mlp(x)), with the block's own causal setting"),
    reference=_post_norm_block,
    make_inputs=_post_norm_inputs,
    solution=("def post_norm_block(block, x):\n"
              "    attended, _ = block.attn(x, causal=block.causal)   # no norm before the part\n"
              "    x = block.ln1(x + attended)                         # the norm comes after the sum\n"
              "    return block.ln2(x + block.mlp(x))                  # (B, T, C)"),
))


def _gpt_parameters(vocab_size, context, d_model, n_layers):
    return (vocab_size * d_model + context * d_model + n_layers * (12 * d_model * d_model + 13 * d_model)
            + 2 * d_model)


def _gpt_parameter_inputs(rng):
    return (int(rng.integers(2, 70_000)), int(rng.integers(8, 2048)), 8 * int(rng.integers(1, 128)),
            int(rng.integers(1, 48)))


register(Exercise(
    id="07.gpt_parameters",
    task=("the parameters of a whole GPT: token and position embeddings, n_layers blocks, a final "
          "LayerNorm, and an output head that shares the token embedding's weight and has no bias"),
    reference=_gpt_parameters,
    make_inputs=_gpt_parameter_inputs,
    solution=("def gpt_parameters(vocab_size, context, d_model, n_layers):\n"
              "    embeddings = vocab_size * d_model + context * d_model      # tokens and positions\n"
              "    blocks = n_layers * (12 * d_model ** 2 + 13 * d_model)\n"
              "    final_norm = 2 * d_model\n"
              "    return embeddings + blocks + final_norm   # the head reuses the token embedding, no bias: 0 more"),
))
