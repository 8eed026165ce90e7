"""helpers.attention against PyTorch's reference: softmax, scaled dot-product attention, masks, heads."""
import math
import zlib

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from helpers.attention import (KVCache, MultiHeadAttention, causal_mask, detective_example, query_attention,
                               scaled_dot_product_attention, softmax, softmax_state)

TOL = {np.float32: dict(rtol=1e-4, atol=1e-5), np.float64: dict(rtol=1e-10, atol=1e-12)}

# (batch dims of q, of k and v, Tq, Tk, d_k, d_v): Tq != Tk, d_k != d_v, broadcast batch dims
SHAPES = [
    ((), (), 1, 1, 1, 1),
    ((), (), 4, 7, 3, 5),
    ((2,), (2,), 5, 5, 8, 8),
    ((3,), (3,), 1, 9, 4, 2),
    ((2, 3), (2, 3), 6, 4, 16, 6),
    ((2, 1), (1, 3), 3, 5, 4, 4),       # batch dims broadcast against each other
    ((2, 2, 2), (2, 2, 2), 2, 3, 5, 7),
]
MASKS = ["none", "full", "query-key", "keys-only"]


def _make(shape, mask_kind, dtype, rng):
    bq, bk, Tq, Tk, dk, dv = shape
    q = rng.normal(size=bq + (Tq, dk)).astype(dtype)
    k = rng.normal(size=bk + (Tk, dk)).astype(dtype)
    v = rng.normal(size=bk + (Tk, dv)).astype(dtype)
    batch = np.broadcast_shapes(bq, bk)
    mask_shape = {"none": None, "full": batch + (Tq, Tk), "query-key": (Tq, Tk), "keys-only": (1, Tk)}[mask_kind]
    mask = None
    if mask_shape is not None:
        mask = rng.random(mask_shape) < 0.6
        mask[..., rng.integers(Tk)] = True          # every query keeps at least one key
    return q, k, v, mask


def _torch_reference(q, k, v, mask):
    to_t = lambda a: None if a is None else torch.from_numpy(a)
    out = F.scaled_dot_product_attention(to_t(q), to_t(k), to_t(v), attn_mask=to_t(mask))
    return out.numpy()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("mask_kind", MASKS)
@pytest.mark.parametrize("shape", SHAPES)
def test_numpy_and_torch_equal_torch_sdpa(shape, mask_kind, dtype):
    rng = np.random.default_rng(zlib.crc32(repr((shape, mask_kind)).encode()))
    q, k, v, mask = _make(shape, mask_kind, dtype, rng)
    expected = _torch_reference(q, k, v, mask)
    out_np, weights_np = scaled_dot_product_attention(q, k, v, mask)
    assert isinstance(out_np, np.ndarray) and out_np.dtype == dtype
    np.testing.assert_allclose(out_np, expected, **TOL[dtype])
    tensors = [None if a is None else torch.from_numpy(a) for a in (q, k, v, mask)]
    out_t, weights_t = scaled_dot_product_attention(*tensors)
    assert isinstance(out_t, torch.Tensor) and out_t.dtype == tensors[0].dtype
    np.testing.assert_allclose(out_t.numpy(), expected, **TOL[dtype])
    np.testing.assert_allclose(weights_t.numpy(), weights_np, **TOL[dtype])
    np.testing.assert_allclose(weights_np.sum(-1), 1.0, **TOL[dtype])
    if mask is not None:                                  # a hidden key gets weight exactly 0
        assert np.all(weights_np[~np.broadcast_to(mask, weights_np.shape)] == 0)


def test_weights_shape_and_masked_zero():
    rng = np.random.default_rng(0)
    q, k, v = rng.normal(size=(2, 4, 3)), rng.normal(size=(2, 6, 3)), rng.normal(size=(2, 6, 5))
    mask = np.ones((4, 6), bool)
    mask[:, 2] = False
    out, weights = scaled_dot_product_attention(q, k, v, mask)
    assert out.shape == (2, 4, 5) and weights.shape == (2, 4, 6)
    assert np.all(weights[..., 2] == 0)


def test_gradients_flow_like_torch():
    torch.manual_seed(0)
    q, k, v = (torch.randn(2, 3, 4, 5, dtype=torch.float64, requires_grad=True) for _ in range(3))
    mask = causal_mask(4, like=q)
    ours, _ = scaled_dot_product_attention(q, k, v, mask)
    grads_ours = torch.autograd.grad(ours.square().sum(), (q, k, v))
    theirs = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    grads_theirs = torch.autograd.grad(theirs.square().sum(), (q, k, v))
    for a, b in zip(grads_ours, grads_theirs):
        torch.testing.assert_close(a, b)


# ---------------------------------------------------------------------------------- softmax

@pytest.mark.parametrize("as_torch", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_extreme_values_stay_finite(as_torch, dtype):
    x = np.array([[1e4, -1e4, 0.0, 1e4 - 1],
                  [-1e4, -1e4, -1e4, -1e4],
                  [3.0, -np.inf, -np.inf, 1.0],      # -inf is a masked entry: weight exactly 0
                  [800.0, 799.0, -800.0, 0.0]], dtype=dtype)
    out = softmax(torch.from_numpy(x)) if as_torch else softmax(x)
    out = out.numpy() if as_torch else out
    assert out.dtype == dtype
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(out.sum(-1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(out, torch.softmax(torch.from_numpy(x), -1).numpy(), rtol=1e-5, atol=1e-7)
    assert out[2, 1] == 0 and out[2, 2] == 0
    np.testing.assert_allclose(out[1], 0.25)


def test_softmax_axis_and_type():
    x = np.random.default_rng(1).normal(size=(3, 4, 5))
    for axis in (0, 1, -1):
        np.testing.assert_allclose(softmax(x, axis=axis), torch.softmax(torch.from_numpy(x), axis).numpy())
    assert isinstance(softmax(torch.zeros(3)), torch.Tensor)
    assert isinstance(softmax([1, 2, 3]), np.ndarray)      # lists and ints work: floats come back
    np.testing.assert_allclose(softmax(np.zeros(4)), 0.25)


def test_softmax_gradient_equals_torch():
    x = torch.randn(4, 6, dtype=torch.float64, requires_grad=True)
    upstream = torch.randn(4, 6, dtype=torch.float64)
    (ours,) = torch.autograd.grad((softmax(x) * upstream).sum(), x)
    (theirs,) = torch.autograd.grad((torch.softmax(x, -1) * upstream).sum(), x)
    torch.testing.assert_close(ours, theirs)


@pytest.mark.parametrize("as_torch", [False, True])
def test_softmax_of_all_minus_inf_and_plus_inf_raise(as_torch):
    make = torch.tensor if as_torch else np.array
    with pytest.raises(ValueError, match="-inf everywhere"):
        softmax(make([[0.0, 1.0], [-math.inf, -math.inf]]))
    with pytest.raises(ValueError, match=r"\+inf"):
        softmax(make([0.0, math.inf]))


# ------------------------------------------------------------------------------ causal mask

def test_causal_mask_numpy_and_torch():
    m = causal_mask(4)
    assert isinstance(m, np.ndarray) and m.dtype == bool
    assert np.array_equal(m, np.tril(np.ones((4, 4), bool)))
    assert m[2, 2] and m[3, 0] and not m[0, 1]
    t = causal_mask(4, like=torch.zeros(2, dtype=torch.float64))
    assert isinstance(t, torch.Tensor) and t.dtype == torch.bool and np.array_equal(t.numpy(), m)
    assert causal_mask(3, device="cpu").device.type == "cpu"


def test_causal_mask_equals_torch_is_causal():
    torch.manual_seed(1)
    q, k, v = torch.randn(3, 2, 6, 4), torch.randn(3, 2, 6, 4), torch.randn(3, 2, 6, 4)
    ours, weights = scaled_dot_product_attention(q, k, v, causal_mask(6, like=q))
    torch.testing.assert_close(ours, F.scaled_dot_product_attention(q, k, v, is_causal=True))
    assert torch.all(weights.triu(1) == 0)


# ------------------------------------------------------------------------- helpful errors

def test_error_q_k_last_dimension_names_shapes():
    with pytest.raises(ValueError, match=r"q and k must share the last dimension.*q \(2, 5, 8\), k \(2, 5, 6\)"):
        scaled_dot_product_attention(np.zeros((2, 5, 8)), np.zeros((2, 5, 6)), np.zeros((2, 5, 6)))


def test_error_k_v_length_names_shapes():
    with pytest.raises(ValueError, match=r"k and v must have the same length.*k \(4, 3\), v \(5, 3\)"):
        scaled_dot_product_attention(torch.zeros(2, 3), torch.zeros(4, 3), torch.zeros(5, 3))


def test_error_mask_not_broadcastable_names_shapes():
    with pytest.raises(ValueError, match=r"mask must broadcast.*mask \(3, 4\), scores \(2, 4\)"):
        scaled_dot_product_attention(np.zeros((2, 3)), np.zeros((4, 3)), np.zeros((4, 3)), np.ones((3, 4), bool))


def test_error_mask_must_be_boolean():
    with pytest.raises(TypeError, match="boolean"):
        scaled_dot_product_attention(np.zeros((2, 3)), np.zeros((2, 3)), np.zeros((2, 3)), np.ones((2, 2)))


def test_error_batch_dims_and_kinds():
    with pytest.raises(ValueError, match=r"batch.*q \(2, 3, 4\), k \(5, 3, 4\)"):
        scaled_dot_product_attention(np.zeros((2, 3, 4)), np.zeros((5, 3, 4)), np.zeros((5, 3, 4)))
    with pytest.raises(TypeError, match="not a mix"):
        scaled_dot_product_attention(np.zeros((2, 3)), torch.zeros(2, 3), torch.zeros(2, 3))
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        scaled_dot_product_attention(np.zeros(3), np.zeros((2, 3)), np.zeros((2, 3)))


@pytest.mark.parametrize("as_torch", [False, True])
def test_fully_masked_row_raises_and_names_the_query(as_torch):
    q, k, v = np.zeros((2, 3, 4)), np.zeros((2, 5, 4)), np.zeros((2, 5, 4))
    mask = np.ones((2, 3, 5), bool)
    mask[1, 2] = False                                   # batch 1, query 2 sees nothing
    if as_torch:
        q, k, v, mask = map(torch.from_numpy, (q, k, v, mask))
    with pytest.raises(ValueError, match=r"hides every key from query 2 in batch position \(1,\)"):
        scaled_dot_product_attention(q, k, v, mask)


# ------------------------------------------------------------------------ multi-head attention

@pytest.mark.parametrize("causal", [False, True])
@pytest.mark.parametrize("with_mask", [False, True])
def test_mha_fast_and_slow_paths_agree(causal, with_mask):
    torch.manual_seed(2)
    mha = MultiHeadAttention(d_model=24, n_heads=4).double().eval()
    x = torch.randn(3, 7, 24, dtype=torch.float64)
    mask = None
    if with_mask:                                        # padding-style mask: (B, 1, 1, T)
        mask = torch.ones(3, 1, 1, 7, dtype=torch.bool)
        mask[1, ..., 5:] = False
    fast, none = mha(x, causal=causal, mask=mask)
    slow, weights = mha(x, causal=causal, mask=mask, need_weights=True)
    assert none is None and weights.shape == (3, 4, 7, 7) and fast.shape == (3, 7, 24)
    torch.testing.assert_close(fast, slow)
    torch.testing.assert_close(weights.sum(-1), torch.ones(3, 4, 7, dtype=torch.float64))
    if causal:
        assert torch.all(weights.triu(1) == 0)


@pytest.mark.parametrize("causal", [False, True])
def test_mha_equals_torch_multihead_attention_with_copied_weights(causal):
    torch.manual_seed(3)
    ours = MultiHeadAttention(16, 2).eval()
    theirs = torch.nn.MultiheadAttention(16, 2, batch_first=True).eval()
    with torch.no_grad():
        theirs.in_proj_weight.copy_(ours.qkv.weight)
        theirs.in_proj_bias.copy_(ours.qkv.bias)
        theirs.out_proj.weight.copy_(ours.proj.weight)
        theirs.out_proj.bias.copy_(ours.proj.bias)
    x = torch.randn(2, 5, 16)
    hidden = ~causal_mask(5, like=x) if causal else None    # torch's nn.MHA: True = may NOT attend
    expected, expected_weights = theirs(x, x, x, attn_mask=hidden, average_attn_weights=False)
    got, weights = ours(x, causal=causal, need_weights=True)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(weights, expected_weights, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(ours(x, causal=causal)[0], expected, rtol=1e-5, atol=1e-6)


def test_mha_layout_and_errors():
    mha = MultiHeadAttention(12, 3, bias=False)
    assert mha.qkv.weight.shape == (36, 12) and mha.qkv.bias is None and mha.proj.weight.shape == (12, 12)
    with pytest.raises(ValueError, match=r"d_model \(10\) must be divisible by n_heads \(3\)"):
        MultiHeadAttention(10, 3)
    with pytest.raises(ValueError, match=r"d_model=12.*\(2, 5, 8\)"):
        mha(torch.zeros(2, 5, 8))
    mask = torch.ones(2, 1, 5, 5, dtype=torch.bool)
    mask[0, 0, 3] = False
    for need_weights in (False, True):
        with pytest.raises(ValueError, match="hides every key from query 3"):
            mha(torch.zeros(2, 5, 12), mask=mask, need_weights=need_weights)


def test_mha_dropout_only_in_training():
    torch.manual_seed(4)
    mha = MultiHeadAttention(8, 2, dropout=0.5)
    x = torch.randn(1, 6, 8)
    mha.eval()
    torch.testing.assert_close(mha(x)[0], mha(x)[0])
    mha.train()
    assert not torch.allclose(mha(x)[0], mha(x)[0])
    assert not torch.allclose(mha(x, need_weights=True)[0], mha(x, need_weights=True)[0])


@pytest.mark.parametrize("causal", [False, True])
def test_mha_with_a_kv_cache_equals_one_pass(causal):
    # Fed in pieces (three tokens, one, then two at once) through a cache, the output is the output
    # of one pass over all six; the cache holds every key and value seen.
    torch.manual_seed(5)
    mha = MultiHeadAttention(d_model=12, n_heads=3).double().eval()
    x = torch.randn(2, 6, 12, dtype=torch.float64)
    cache = KVCache()
    pieces = [mha(x[:, a:b], causal=causal, cache=cache) for a, b in [(0, 3), (3, 4), (4, 6)]]
    assert all(weights is None for _, weights in pieces) and len(cache) == 6
    if causal:        # a causal token sees only what came before it: the same as one pass
        torch.testing.assert_close(torch.cat([out for out, _ in pieces], dim=1), mha(x, causal=True)[0])
    else:             # without the causal rule each piece sees only the keys so far: its last query agrees
        torch.testing.assert_close(pieces[-1][0], mha(x)[0][:, 4:])
    torch.testing.assert_close(cache.keys, mha.qkv(x)[..., 12:24].view(2, 6, 3, 4).transpose(1, 2))


def test_mha_kv_cache_refuses_what_generation_does_not_use():
    mha = MultiHeadAttention(8, 2, dropout=0.1)
    x = torch.randn(1, 3, 8)
    with pytest.raises(ValueError, match="KV cache is for generation"):
        mha(x, causal=True, cache=KVCache())                   # training mode with dropout
    mha.eval()
    for options in (dict(need_weights=True), dict(mask=torch.ones(1, 1, 3, 3, dtype=torch.bool))):
        with pytest.raises(ValueError, match="KV cache is for generation"):
            mha(x, causal=True, cache=KVCache(), **options)


# ------------------------------------------------------------------- the detectives' example (03)

def test_detective_example_shapes_and_words():
    from helpers.text import SENTENCES, sentence_words

    example = detective_example()
    assert len(example["features"]) == 8
    words = {w for sentence in SENTENCES for w in sentence_words(sentence)}
    assert set(example["embedding"]) == words                  # every word of both sentences, no more
    assert all(v.shape == (8,) for v in example["embedding"].values())
    for name in ("W_q1", "W_k1", "W_q2", "W_k2"):
        assert example[name].shape == (8, 4)                   # d_k = 4
    assert example["W_v1"].shape == example["W_v2"].shape == (8, 8)   # d_v = 8
    example["W_q1"][:] = 99.0                                  # a fresh copy each call
    example["embedding"]["it"][:] = 99.0
    again = detective_example()
    assert again["W_q1"].max() == 3 and again["embedding"]["it"].max() == 1


def test_detective_example_holds_exactly_notebook_03s_numbers():
    # notebook 03 builds these inline and notebook 04 reuses them: every nonzero entry, pinned
    example = detective_example()
    features = example["features"]
    assert features == ["living", "finance", "thing", "pronoun", "learns", "works well", "action", "glue"]

    def nonzero(array):                                         # {(feature, column): value}, or {feature: value}
        return {(features[i], *rest) if rest else features[i]: float(array[(i, *rest)])
                for i, *rest in zip(*np.nonzero(array))}

    assert nonzero(example["W_q1"]) == {("pronoun", 0): 3}
    assert nonzero(example["W_k1"]) == {("learns", 0): 3, ("works well", 0): 3}
    assert nonzero(example["W_v1"]) == {("learns", 0): 1, ("works well", 1): 1}
    assert nonzero(example["W_q2"]) == {("living", 0): 3, ("finance", 1): 3}
    assert nonzero(example["W_k2"]) == {("living", 0): 3, ("finance", 1): 3, ("pronoun", 0): -3, ("pronoun", 1): -3}
    assert np.array_equal(example["W_v2"], np.eye(8))
    glue = {"the", "because", "was", "to", "so", "an"}
    assert all(nonzero(example["embedding"][word]) == {"glue": 1} for word in glue)
    assert {word: nonzero(vector) for word, vector in example["embedding"].items() if word not in glue} == {
        "person": {"living": 1, "thing": 1}, "swap": {"finance": 1, "thing": 1}, "it": {"pronoun": 1, "thing": 0.5},
        "executed": {"action": 1}, "trained": {"learns": 1, "action": 0.5}, "do": {"action": 0.5, "glue": 0.5},
        "effective": {"works well": 1}, "hedge": {"finance": 0.5, "thing": 0.5, "works well": 0.5}}
    features[0] = "changed"                                     # a fresh list each call, too
    assert detective_example()["features"][0] == "living"


def test_detective_example_makes_it_find_person_then_swap():
    from helpers.text import REFERENTS, SENTENCES, sentence_words

    example = detective_example()
    for sentence, referent in zip(SENTENCES, REFERENTS):
        words = sentence_words(sentence)
        x = np.stack([example["embedding"][w] for w in words])                     # (T, 8)
        found, _ = scaled_dot_product_attention(x @ example["W_q1"], x @ example["W_k1"], x @ example["W_v1"])
        x_context = x + found                                                       # detective 1's hint added
        _, weights = scaled_dot_product_attention(x_context @ example["W_q2"], x_context @ example["W_k2"],
                                                  x_context @ example["W_v2"])
        it = words.index("it")
        assert words[int(np.argmax(weights[it]))] == referent and weights[it].max() > 0.5


def test_causal_mask_and_head_count_name_their_slips():
    x = torch.zeros(2, 5, 8)
    with pytest.raises(TypeError, match=r"causal_mask\(x.shape\[-2\], like=x\)"):
        causal_mask(x)
    with pytest.raises(TypeError, match="the length T"):
        causal_mask(x.shape)
    with pytest.raises(ValueError, match="at least 1"):
        MultiHeadAttention(8, 0)
    assert causal_mask(np.int64(3)).shape == (3, 3) and causal_mask(torch.tensor(3)).shape == (3, 3)
    assert causal_mask(0).shape == (0, 0)
    with pytest.raises(ValueError, match="cannot be negative, got -2"):
        causal_mask(-2)


# ---------------------------------------------------------------------- what the explorers of notebooks 03 and 04 show

def _attention_toy(seed=0, T=5, D=6, d_k=3, d_v=4):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(T, D)), rng.normal(size=(D, d_k)), rng.normal(size=(D, d_k)),
            rng.normal(size=(D, d_v)))


def test_query_attention_matches_attention_on_all_queries():
    x, w_q, w_k, w_v = _attention_toy()
    output, weights = scaled_dot_product_attention(x @ w_q, x @ w_k, x @ w_v)
    for i in range(len(x)):
        result = query_attention(x, w_q, w_k, w_v, i)
        assert np.allclose(result["weights"], weights[i]) and np.allclose(result["output"], output[i])
        assert np.allclose(result["scaled"], result["scores"] / np.sqrt(3))
        assert np.isclose(result["weights"].sum(), 1.0)


def test_query_attention_with_a_causal_mask_hides_later_words():
    x, w_q, w_k, w_v = _attention_toy()
    result = query_attention(x, w_q, w_k, w_v, 2, mask=causal_mask(5))
    assert np.all(result["weights"][3:] == 0) and np.all(np.isneginf(result["scaled"][3:]))
    assert np.isclose(result["weights"][:3].sum(), 1.0)


def test_softmax_state_weights_and_jacobian():
    state = softmax_state(d_k=16, temperature=0.5, scaled=True, n_keys=7, seed=3)
    p = state["weights"]
    assert p.shape == (7,) and np.isclose(p.sum(), 1.0)
    assert np.allclose(state["jacobian"], np.diag(p) - np.outer(p, p))
    assert np.allclose(state["jacobian"].sum(axis=0), 0)        # shifting every score changes nothing
    assert np.isclose(state["max_weight"], p.max())
    assert np.isclose(state["entropy"], -(p * np.log(p)).sum())


def test_softmax_state_jacobian_equals_autograd():
    state = softmax_state(d_k=8, n_keys=5, seed=1)
    scores = torch.tensor(state["scores"], requires_grad=True)
    jacobian = torch.autograd.functional.jacobian(lambda s: torch.softmax(s, -1), scores)
    assert np.allclose(state["jacobian"], jacobian.numpy())


def test_softmax_state_gradient_q_equals_autograd_with_the_scaling_factor():
    for scaled, temperature in ((True, 1.0), (False, 1.0), (True, 0.5)):
        state = softmax_state(d_k=8, temperature=temperature, scaled=scaled, n_keys=5, seed=2)
        rng = np.random.default_rng(2)
        query, keys = (torch.tensor(a) for a in (rng.normal(size=8), rng.normal(size=(5, 8))))
        divide_by = (np.sqrt(8) if scaled else 1.0) * temperature
        jacobian = torch.autograd.functional.jacobian(lambda q: torch.softmax(keys @ q / divide_by, -1), query)
        assert np.allclose(state["gradient_q"], jacobian.numpy())
        assert np.isclose(state["gradient_size"], np.linalg.norm(jacobian.numpy()))


def test_softmax_state_gradient_agrees_with_notebook_04_measurement_3():
    # the trend of measurement 3 (the Jacobian's norm is on another scale than its median gradient):
    # unscaled: larger than scaled at small d_k (not yet saturated), vanishing at d_k = 1024
    small = [softmax_state(d_k=16, scaled=s)["gradient_size"] for s in (True, False)]
    assert small[1] > small[0]
    scaled = softmax_state(d_k=1024, scaled=True)
    unscaled = softmax_state(d_k=1024, scaled=False)
    assert unscaled["max_weight"] > 0.99 and unscaled["gradient_size"] < scaled["gradient_size"] / 100
    scaled_sizes = [softmax_state(d_k=d)["gradient_size"] for d in (4, 64, 1024)]
    assert max(scaled_sizes) < 2 * min(scaled_sizes)          # scaled: about one size for every d_k


def test_softmax_state_saturates_with_low_temperature():
    cold, hot = softmax_state(temperature=0.1), softmax_state(temperature=10.0)
    assert cold["entropy"] < hot["entropy"] and cold["max_weight"] > hot["max_weight"]
    assert hot["entropy"] <= np.log(10) + 1e-12
    with pytest.raises(ValueError, match="temperature must be positive"):
        softmax_state(temperature=0)


def test_query_attention_names_a_word_given_for_a_position_and_a_wrong_mask():
    x, w = np.eye(5), np.eye(5)
    with pytest.raises(ValueError, match=r"0 to 4, got 'it'.*words.index\(word\)"):
        query_attention(x, w, w, w, "it")
    with pytest.raises(ValueError, match=r"mask must be \(T, T\) = \(5, 5\)"):
        query_attention(x, w, w, w, 2, mask=np.ones((4, 4), dtype=bool))
