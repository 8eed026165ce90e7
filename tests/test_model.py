"""Tests of helpers/model.py. Top: the block pieces of notebook 07, against PyTorch's references."""
import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel
from torch.utils.flop_counter import FlopCounterMode

from helpers.model import (MLP, Block, LayerNorm, block_parameter_count, count_parameters)


@pytest.mark.parametrize("shape", [(3, 5, 8), (2, 16), (1, 1, 4, 32)])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("from_scratch", [True, False])
def test_layer_norm_equals_torch(shape, dtype, from_scratch):
    torch.manual_seed(0)
    ours = LayerNorm(shape[-1], from_scratch=from_scratch).to(dtype)
    theirs = nn.LayerNorm(shape[-1]).to(dtype)
    with torch.no_grad():
        ours.weight.normal_(), ours.bias.normal_()
        theirs.weight.copy_(ours.weight), theirs.bias.copy_(ours.bias)
    x = 3 + 2 * torch.randn(shape, dtype=dtype)
    torch.testing.assert_close(ours(x), theirs(x))


@pytest.mark.parametrize("from_scratch", [True, False])
def test_layer_norm_gradients_equal_torch(from_scratch):
    torch.manual_seed(1)
    x = torch.randn(4, 6, dtype=torch.float64, requires_grad=True)
    x2 = x.detach().clone().requires_grad_()
    LayerNorm(6, from_scratch=from_scratch).double()(x).pow(3).sum().backward()
    nn.LayerNorm(6).double()(x2).pow(3).sum().backward()
    torch.testing.assert_close(x.grad, x2.grad)


@pytest.mark.parametrize("from_scratch", [True, False])
def test_layer_norm_error_names_the_shapes(from_scratch):
    with pytest.raises(ValueError, match=r"LayerNorm was built for 8 features per token.*\(2, 3, 5\)"):
        LayerNorm(8, from_scratch=from_scratch)(torch.zeros(2, 3, 5))


def test_layers_name_a_wrong_feature_size_and_a_float64_input():
    from helpers.attention import MultiHeadAttention
    with pytest.raises(ValueError, match=r"MLP was built for 8 features.*\(2, 3, 6\)"):
        MLP(8)(torch.zeros(2, 3, 6))
    for layer in (MLP(8), LayerNorm(8), MultiHeadAttention(8, 2)):
        with pytest.raises(TypeError, match=r"weights are torch.float32 but the input is torch.float64: convert the input.*x.float\(\)"):
            layer(torch.zeros(2, 3, 8, dtype=torch.float64))
    attention = MultiHeadAttention(8, 2)
    with pytest.raises(ValueError, match=r"mask must broadcast.*mask \(4, 4\)"):
        attention(torch.zeros(1, 5, 8), causal=True, mask=torch.ones(4, 4, dtype=torch.bool))
    with pytest.raises(TypeError, match="mask must be boolean"):
        attention(torch.zeros(1, 5, 8), causal=True, mask=torch.ones(5, 5))
    with pytest.raises(TypeError, match="torch bool tensor"):
        attention(torch.zeros(1, 5, 8), mask=np.ones((5, 5), dtype=bool))
    assert MLP(8).double()(torch.zeros(1, 2, 8, dtype=torch.float64)).dtype == torch.float64
    with pytest.raises(TypeError, match="torch.bfloat16"):
        MLP(8)(torch.zeros(1, 2, 8, dtype=torch.bfloat16))               # outside autocast: named
    with torch.autocast("cpu", dtype=torch.bfloat16):                    # inside: mixing is the point
        assert MLP(8)(torch.zeros(1, 2, 8, dtype=torch.bfloat16)).shape == (1, 2, 8)


def test_mlp_is_linear_gelu_linear():
    torch.manual_seed(0)
    mlp = MLP(8)
    x = torch.randn(2, 3, 8)
    expected = F.linear(F.gelu(F.linear(x, mlp.up.weight, mlp.up.bias)), mlp.down.weight, mlp.down.bias)
    torch.testing.assert_close(mlp(x), expected)
    assert mlp.up.weight.shape == (32, 8)


def _reference_block(block, d_model, n_heads):
    """The same block from PyTorch's own modules, weights copied in."""
    ln1, ln2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
    mha = nn.MultiheadAttention(d_model, n_heads, batch_first=True)
    with torch.no_grad():
        for ours, theirs in ((block.ln1, ln1), (block.ln2, ln2)):
            theirs.weight.copy_(ours.weight), theirs.bias.copy_(ours.bias)
        mha.in_proj_weight.copy_(block.attn.qkv.weight), mha.in_proj_bias.copy_(block.attn.qkv.bias)
        mha.out_proj.weight.copy_(block.attn.proj.weight), mha.out_proj.bias.copy_(block.attn.proj.bias)
    return ln1, mha, ln2


@pytest.mark.parametrize("causal", [True, False])
@pytest.mark.parametrize("d_model,n_heads,T", [(16, 4, 7), (12, 1, 3), (32, 8, 10)])
def test_block_equals_pytorch_modules(causal, d_model, n_heads, T):
    torch.manual_seed(2)
    block = Block(d_model, n_heads, causal=causal)
    with torch.no_grad():
        block.ln1.weight.normal_(), block.ln2.bias.normal_()
    ln1, mha, ln2 = _reference_block(block, d_model, n_heads)
    x = torch.randn(3, T, d_model)
    hide_future = torch.triu(torch.ones(T, T, dtype=torch.bool), 1) if causal else None  # torch: True = hidden
    h = ln1(x)
    x_ref = x + mha(h, h, h, attn_mask=hide_future, need_weights=False)[0]
    x_ref = x_ref + block.mlp(ln2(x_ref))
    out, weights = block(x, need_weights=True)
    torch.testing.assert_close(out, x_ref, rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(block(x), x_ref, rtol=1e-4, atol=1e-5)   # the fused path too
    assert weights.shape == (3, n_heads, T, T)
    torch.testing.assert_close(weights.sum(-1), torch.ones(3, n_heads, T))


def test_causal_block_does_not_look_ahead():
    torch.manual_seed(3)
    block = Block(16, 2, causal=True)
    x = torch.randn(1, 6, 16)
    changed = x.clone()
    changed[0, 4:] = torch.randn(2, 16)
    torch.testing.assert_close(block(x)[0, :4], block(changed)[0, :4])
    assert not torch.allclose(block(x)[0, 4:], block(changed)[0, 4:])


def test_block_mask_hides_padding():
    torch.manual_seed(4)
    block = Block(8, 1, causal=False)
    x = torch.randn(1, 5, 8)
    keep = torch.tensor([True, True, True, False, False])[None, None, None, :]   # (1, 1, 1, T)
    padded = torch.cat([x[:, :3], torch.randn(1, 2, 8)], dim=1)
    torch.testing.assert_close(block(x, mask=keep)[:, :3], block(padded, mask=keep)[:, :3])
    torch.testing.assert_close(block(x, mask=keep)[:, :3], block(x[:, :3]))


@pytest.mark.parametrize("d_model,n_heads", [(8, 1), (64, 4), (384, 6)])
def test_parameter_count_formula(d_model, n_heads):
    block = Block(d_model, n_heads)
    assert count_parameters(block) == block_parameter_count(d_model) == 12 * d_model ** 2 + 13 * d_model


def test_dropout_only_in_training():
    torch.manual_seed(5)
    block = Block(16, 2, dropout=0.5)
    x = torch.randn(2, 4, 16)
    block.eval()
    torch.testing.assert_close(block(x), block(x))
    block.train()
    assert not torch.allclose(block(x), block(x))


# ---- GPT tests (notebook 09) ----
from helpers.attention import KVCache  # noqa: E402  (the GPT section's imports)
from helpers.model import GPT, GPTConfig, generate, next_token_probabilities  # noqa: E402


def small_gpt(**sizes):
    torch.manual_seed(0)
    return GPT(GPTConfig(**{**dict(vocab_size=11, context=16, n_layers=2, n_heads=2, d_model=32), **sizes}))


def test_gpt_shapes_tied_weights_and_first_loss_near_uniform():
    model = small_gpt()
    idx = torch.randint(0, 11, (3, 16))
    logits, loss = model(idx, torch.randint(0, 11, (3, 16)))
    assert logits.shape == (3, 16, 11) and model(idx)[1] is None
    assert model.head.weight is model.token_embedding.weight
    assert abs(loss.item() - torch.log(torch.tensor(11.0)).item()) < 0.15   # a uniform guess at first


def test_gpt_is_causal_later_tokens_do_not_change_earlier_logits():
    model = small_gpt().eval()
    idx = torch.randint(0, 11, (2, 10))
    changed = idx.clone()
    changed[:, 6:] = (changed[:, 6:] + 1) % 11
    torch.testing.assert_close(model(idx)[0][:, :6], model(changed)[0][:, :6])


def test_gpt_errors_teach():
    model = small_gpt()
    with pytest.raises(ValueError, match="context=16"):
        model(torch.zeros(1, 17, dtype=torch.long))
    with pytest.raises(ValueError, match="batch, length"):
        model(torch.zeros(17, dtype=torch.long))
    with pytest.raises(ValueError, match="divisible"):
        GPTConfig(d_model=30, n_heads=4)
    with pytest.raises(TypeError, match=r"torch.long \(or torch.int32\), got torch.uint8"):
        model(torch.zeros(1, 4, dtype=torch.uint8))               # a slice of the stored text, not cast
    with pytest.raises(ValueError, match="0 to 10 .*found 11"):
        model(torch.tensor([[1, 2, 11]]))
    with pytest.raises(ValueError, match="found -1"):
        model(torch.tensor([[1, -1, 2]]))
    with pytest.raises(ValueError, match=r"targets must have idx's shape \(2, 5\).*got \(2, 4\)"):
        model(torch.zeros(2, 5, dtype=torch.long), torch.zeros(2, 4, dtype=torch.long))


def test_gpt_overfits_a_tiny_batch_to_near_zero_loss():
    model = small_gpt(dropout=0.0)
    x = torch.randint(0, 11, (4, 16), generator=torch.Generator().manual_seed(1))
    x[:, 0] = torch.arange(4)            # distinct first tokens: every prefix tells the rows apart
    y = torch.roll(x, -1, dims=1)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.0)
    for _ in range(150):
        _, loss = model(x, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert loss.item() < 0.05


def test_generate_respects_length_vocabulary_top_k_and_seed():
    model = small_gpt()
    start = torch.zeros(2, 3, dtype=torch.long)
    out = generate(model, start, 30, temperature=0.8, top_k=4, generator=torch.Generator().manual_seed(0))
    assert out.shape == (2, 33) and torch.equal(out[:, :3], start)       # longer than the context: cropped
    assert out.min() >= 0 and out.max() < 11
    again = generate(model, start, 30, temperature=0.8, top_k=4, generator=torch.Generator().manual_seed(0))
    assert torch.equal(out, again)
    greedy = generate(model, start, 1, top_k=1)                           # top_k=1: always the likeliest
    assert greedy[0, -1] == model(start)[0][0, -1].argmax()
    with pytest.raises(ValueError, match="temperature must be above 0"):
        generate(model, start, 1, temperature=0)
    for bad_top_k in (0, -1, 2.5):
        with pytest.raises(ValueError, match="top_k must be a whole number of at least 1, or None"):
            generate(model, start, 1, top_k=bad_top_k)
    assert generate(model, start, 1, top_k=50).shape == (2, 4)          # more than the vocabulary: all kept
    with pytest.raises(ValueError, match=r"idx\[None\]"):
        generate(model, torch.zeros(3, dtype=torch.long), 1)
    with pytest.raises(ValueError, match="at least one token"):
        generate(model, torch.zeros(1, 0, dtype=torch.long), 1)


def test_next_token_probabilities_temperature_and_top_k():
    logits = torch.tensor([2.0, 1.0, 0.0, -1.0])
    plain = next_token_probabilities(logits)
    assert plain.sum().item() == pytest.approx(1.0) and plain.argmax() == 0
    assert next_token_probabilities(logits, 0.5)[0] > plain[0] > next_token_probabilities(logits, 2.0)[0]
    kept = next_token_probabilities(logits, top_k=2)
    assert (kept[2:] == 0).all() and kept.sum().item() == pytest.approx(1.0)
    torch.testing.assert_close(kept[:2], torch.softmax(logits[:2], dim=-1))    # the two kept, renormalised
    torch.testing.assert_close(next_token_probabilities(logits, 0.7), torch.softmax(logits / 0.7, dim=-1))
    rows = torch.stack([logits, logits.flip(0)])                                # (2, V): row by row
    assert next_token_probabilities(rows, top_k=1).argmax(-1).tolist() == [0, 3]
    assert torch.equal(next_token_probabilities(logits, top_k=9), plain)       # more than V: all kept
    assert next_token_probabilities([2.0, 1.0]).sum().item() == pytest.approx(1.0)  # a list or NumPy row too
    for settings, message in [((0.0, None), "temperature must be above 0"), ((-1.0, None), "temperature"),
                              ((1.0, 0), "top_k must be"), ((1.0, -1), "top_k must be"), ((1.0, True), "top_k")]:
        with pytest.raises(ValueError, match=message):        # the same rules as generate
            next_token_probabilities(logits, *settings)


def cached_and_uncached(model, start, n, **sampling):
    return [generate(model, start, n, generator=torch.Generator().manual_seed(0), use_cache=use_cache, **sampling)
            for use_cache in (True, False)]


@pytest.mark.parametrize("prompt_length, new_tokens", [(1, 15), (3, 30), (16, 5), (25, 8)])
@pytest.mark.parametrize("sampling", [dict(top_k=1), dict(temperature=0.8, top_k=4), dict(temperature=1.5)])
def test_generation_with_a_kv_cache_equals_generation_without(prompt_length, new_tokens, sampling):
    # Greedy (top_k=1) and sampled with the same seed; prompts shorter than the context, exactly
    # as long, and longer (cropped to the last 16 tokens); runs that fill the cache and go past it.
    model = small_gpt().double()          # float64: a near-tie cannot round two ways
    start = torch.randint(0, 11, (3, prompt_length), generator=torch.Generator().manual_seed(prompt_length))
    cached, uncached = cached_and_uncached(model, start, new_tokens, **sampling)
    assert cached.shape == (3, prompt_length + new_tokens) and torch.equal(cached[:, :prompt_length], start)
    assert torch.equal(cached, uncached)


def test_generation_with_a_kv_cache_equals_without_in_float32_too():
    model = small_gpt()
    start = torch.randint(0, 11, (4, 2), generator=torch.Generator().manual_seed(0))
    cached, uncached = cached_and_uncached(model, start, 40, temperature=0.9)
    assert torch.equal(cached, uncached)


def test_cached_logits_equal_the_full_forward_pass():
    # Fed in pieces (a prompt, single tokens, then several at once), the cache gives the logits
    # that one pass over the whole sequence gives, at every position.
    model = small_gpt().eval()
    idx = torch.randint(0, 11, (2, 16), generator=torch.Generator().manual_seed(3))
    caches = [KVCache() for _ in model.blocks]
    pieces = [idx[:, :5]] + [idx[:, t:t + 1] for t in range(5, 12)] + [idx[:, 12:]]
    with torch.no_grad():
        by_pieces = torch.cat([model(piece, caches=caches)[0] for piece in pieces], dim=1)
        torch.testing.assert_close(by_pieces, model(idx)[0], rtol=1e-5, atol=1e-5)
    assert [len(cache) for cache in caches] == [16, 16]
    assert caches[0].keys.shape == (2, 2, 16, 16)                       # (B, H, T, d_model / H)
    with pytest.raises(ValueError, match="17 tokens.*context=16"):      # the position table ends at 16
        model(idx[:, :1], caches=caches)


def test_generate_with_and_without_cache_leaves_the_model_as_it_was():
    model = small_gpt(dropout=0.1)
    model.train()
    generate(model, torch.zeros(1, 2, dtype=torch.long), 5)
    assert model.training                                               # eval while generating, then back


def test_flops_per_token_agrees_with_torchs_flop_counter():
    # Count what one forward and backward really multiplies, with PyTorch's own counter. Its math
    # attention kernel is used so that the counter sees the attention's two matmuls (the fused CPU
    # kernel is invisible to it).
    model, (B, T) = small_gpt(), (4, 16)
    idx = torch.randint(0, 11, (B, T), generator=torch.Generator().manual_seed(0))
    with sdpa_kernel(SDPBackend.MATH), FlopCounterMode(display=False) as counter:
        _, loss = model(idx, idx)
        loss.backward()
    measured = counter.get_total_flops() / (B * T)
    # The convention counts 6 per weight of every kind; the counter sees only matmuls, so the
    # norms' and biases' weights (the 1-D ones) are the gap: 3% in this tiny model, under 1% in the presets.
    vector_weights = sum(p.numel() for p in model.parameters() if p.ndim == 1)
    assert model.flops_per_token(T) - measured == pytest.approx(6 * vector_weights, rel=0.01)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_gpt_bf16_on_gpu_is_close_to_float32():
    model = small_gpt().cuda().eval()
    idx = torch.randint(0, 11, (4, 16), device="cuda")
    exact = model(idx)[0]
    with torch.autocast("cuda", dtype=torch.bfloat16):
        fast = model(idx)[0]
    assert (fast.float() - exact).abs().max() < 0.05
