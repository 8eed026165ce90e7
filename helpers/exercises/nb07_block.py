"""Exercises of notebook 07_transformer_block."""
import torch

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
