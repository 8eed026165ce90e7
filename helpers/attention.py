"""Attention: softmax, scaled dot-product attention, the causal mask and multi-head attention.

Built in notebook 03_attention (scaled dot-product attention, the causal mask, several heads,
the detectives' toy example) and
notebook 04_softmax_and_scaling (softmax, its stability trick, why scores are divided by sqrt(d_k)).
Later notebooks import these instead of copying them.

`softmax`, `scaled_dot_product_attention` and `causal_mask` work the same on NumPy arrays and on
torch tensors and give back the kind they were given. Masks follow torch's convention:
True means "this query may attend to this key".

A query row whose keys are ALL masked has nothing to attend to: its softmax would be 0/0. Here
that raises a ValueError that says which row (torch's own fused function quietly returns zeros
there instead, and a hand-written softmax returns NaN). A causal mask never does this, because
each query always sees itself.
"""
import math

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["softmax", "scaled_dot_product_attention", "causal_mask", "MultiHeadAttention", "KVCache",
           "detective_example"]


def _is_torch(x):
    return isinstance(x, torch.Tensor)


def _shape(x):
    return tuple(x.shape)


def check_layer_input(x, weight, name):
    """A clear error for the two usual slips before a layer: the wrong feature size, or float64
    (what torch.tensor(numpy_array) gives) meeting float32 weights."""
    if x.shape[-1] != weight.shape[-1]:
        raise ValueError(f"{name} was built for {weight.shape[-1]} features per token, but the input has "
                         f"shape {_shape(x)}: its last dimension must be {weight.shape[-1]}")
    mixed = x.dtype != weight.dtype and not torch.compiler.is_compiling() \
        and not torch.is_autocast_enabled(x.device.type)     # autocast mixes bf16 and float32 on purpose
    if not x.is_floating_point() or mixed:
        raise TypeError(f"{name}'s weights are {weight.dtype} but the input is {x.dtype}: convert the input, "
                        f"x.to({weight.dtype}) (x.float() for float32; torch.tensor of a NumPy array gives "
                        "float64), or the module (module.double() for float64)")


# ---------------------------------------------------------------------------------- softmax (04)

def softmax(x, axis=-1):
    """exp(x) normalised to sum to 1 along `axis`; NumPy array in -> NumPy out, tensor in -> tensor out.

    Numerically stable: the largest value of each slice is subtracted first (softmax does not
    change when every input moves by the same amount, and exp of a number <= 0 cannot overflow).
    Entries of -inf get weight exactly 0 (that is how masking works). A slice that is -inf
    everywhere has no answer (0/0) and raises a ValueError; so does +inf, which has none either.
    Built in notebook 04_softmax_and_scaling.
    """
    if _is_torch(x):
        if not torch.is_floating_point(x):
            x = x.float()
        xmax = x.detach().amax(dim=axis, keepdim=True)   # a constant shift: no gradient needed
        lib_exp = torch.exp
    else:
        x = np.asarray(x)
        if not np.issubdtype(x.dtype, np.floating):
            x = x.astype(float)
        xmax = x.max(axis=axis, keepdims=True)
        lib_exp = np.exp
    if bool((xmax == -math.inf).any()):
        raise ValueError("softmax of a slice that is -inf everywhere (every entry masked) is 0/0: "
                         "keep at least one finite entry in each slice")
    if bool((xmax == math.inf).any()):
        raise ValueError("softmax got +inf: scores must be finite (or -inf for masked entries)")
    shifted = x - xmax                                # every entry <= 0, the largest is exactly 0
    exps = lib_exp(shifted)                           # in (0, 1], never overflows; exp(-inf) = 0
    total = exps.sum(axis, keepdim=True) if _is_torch(x) else exps.sum(axis, keepdims=True)
    return exps / total                               # each slice sums to 1


# ------------------------------------------------------------------- checks with helpful errors

def _check_inputs(q, k, v, mask):
    kinds = {_is_torch(t) for t in (q, k, v)}
    if len(kinds) > 1:
        raise TypeError("q, k and v must be all NumPy arrays or all torch tensors, not a mix")
    for name, t in (("q", q), ("k", k), ("v", v)):
        if t.ndim < 2:
            raise ValueError(f"{name} needs at least 2 dimensions (..., length, features), "
                             f"got shape {_shape(t)}")
    if q.shape[-1] != k.shape[-1]:
        raise ValueError("q and k must share the last dimension (each query is compared with each "
                         f"key by a dot product): q {_shape(q)}, k {_shape(k)}")
    if k.shape[-2] != v.shape[-2]:
        raise ValueError("k and v must have the same length (one value per key): "
                         f"k {_shape(k)}, v {_shape(v)}")
    try:
        batch = np.broadcast_shapes(_shape(q)[:-2], _shape(k)[:-2], _shape(v)[:-2])
    except ValueError:
        raise ValueError("the leading (batch) dimensions of q, k and v must broadcast: "
                         f"q {_shape(q)}, k {_shape(k)}, v {_shape(v)}") from None
    scores_shape = tuple(batch) + (q.shape[-2], k.shape[-2])
    if mask is not None:
        _check_mask(mask, scores_shape)
    return scores_shape


def _check_mask_shape(mask, scores_shape):
    """Boolean, and broadcastable to the scores: cheap (no look at the values)."""
    if mask.dtype not in (torch.bool, np.bool_):
        raise TypeError(f"mask must be boolean (True = may attend), got dtype {mask.dtype}")
    try:
        fits = np.broadcast_shapes(_shape(mask), scores_shape) == scores_shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError("mask must broadcast to the scores' shape (..., Tq, Tk): "
                         f"mask {_shape(mask)}, scores {scores_shape}")


def _check_mask(mask, scores_shape):
    _check_mask_shape(mask, scores_shape)
    can_attend = mask.any(-1)                          # (..., Tq or 1): does each query see some key?
    if not bool(can_attend.all()):
        can_attend = can_attend.cpu().numpy() if _is_torch(can_attend) else np.asarray(can_attend)
        where = tuple(int(i) for i in np.argwhere(~can_attend)[0])
        batch = f" in batch position {where[:-1]}" if len(where) > 1 else ""
        raise ValueError(f"the mask {_shape(mask)} hides every key from query {where[-1]}{batch}: "
                         "its weights would be 0/0. Give every query at least one key it may "
                         "attend to (a causal mask always keeps the diagonal)")


# --------------------------------------------------------------- scaled dot-product attention (03)

def scaled_dot_product_attention(q, k, v, mask=None):
    """softmax(q @ k^T / sqrt(d_k)) @ v, returning (output, weights).

    q (..., Tq, d_k), k (..., Tk, d_k), v (..., Tk, d_v); leading dimensions broadcast.
    mask: boolean, broadcastable to (..., Tq, Tk), True where a query may attend to a key.
    Returns output (..., Tq, d_v) and weights (..., Tq, Tk), each row of weights summing to 1.
    NumPy in -> NumPy out, torch in -> torch out. Equal to torch.nn.functional.
    scaled_dot_product_attention (except that a query with every key masked raises a ValueError).
    Built in notebook 03_attention.
    """
    _check_inputs(q, k, v, mask)
    k_transposed = k.transpose(-2, -1) if _is_torch(k) else np.swapaxes(k, -2, -1)   # (..., d_k, Tk)
    scores = (q @ k_transposed) / math.sqrt(q.shape[-1])                               # (..., Tq, Tk)
    if mask is not None:                                   # hidden keys get -inf, so weight 0
        scores = (scores.masked_fill(~mask, -math.inf) if _is_torch(scores)
                  else np.where(mask, scores, -np.inf).astype(scores.dtype))
    weights = softmax(scores, axis=-1)                                                 # (..., Tq, Tk)
    return weights @ v, weights                                                        # (..., Tq, d_v)


# --------------------------------------------------------------------------------- causal mask

def causal_mask(T, like=None, device=None):
    """(T, T) boolean mask, True on and below the diagonal: query i may see keys 0..i only.

    Gives a NumPy array, or a torch tensor when `like` is a tensor (on its device) or a `device`
    is named, e.g. causal_mask(5, like=scores) or causal_mask(5, device="cpu"). Built in notebook 03.
    """
    if _is_torch(T) and T.ndim == 0 and not T.is_floating_point():
        T = int(T)                                     # a length held in a 0-d tensor
    if isinstance(T, bool) or not isinstance(T, (int, np.integer, torch.SymInt)):
        raise TypeError(f"causal_mask takes the length T (a whole number), got {type(T).__name__}: "
                        "for a tensor x of shape (..., T, C) write causal_mask(x.shape[-2], like=x)")
    if T < 0:
        raise ValueError(f"the length T cannot be negative, got {T}")
    if like is not None and _is_torch(like):
        device = like.device
    if device is not None:
        return torch.ones(T, T, dtype=torch.bool, device=device).tril()
    return np.tril(np.ones((T, T), dtype=bool))


# ---------------------------------------------------------------------- multi-head attention (03)

def check_heads(d_model, n_heads):
    """The rule of several heads, kept here once (attention, GPTConfig and TrainConfig call it):
    each head gets d_model // n_heads features, so n_heads must be at least 1 and divide d_model."""
    if n_heads < 1 or d_model % n_heads != 0:
        raise ValueError(f"d_model ({d_model}) must be divisible by n_heads ({n_heads}), at least 1 head: "
                         "each head gets d_model // n_heads features")


class MultiHeadAttention(nn.Module):
    """Several attention heads side by side ("several detectives"), then one output projection.

    One combined projection `qkv` makes queries, keys and values for every head at once: its
    output stacks q, k, v in that order (the layout of torch.nn.MultiheadAttention.in_proj_weight,
    so weights can be copied across). `proj` mixes what the heads found.
    forward(x (B, T, C), causal=False, mask=None, need_weights=False) -> (output (B, T, C),
    weights (B, H, T, T) or None). mask: boolean, True = may attend, broadcastable to (B, H, T, T).
    Without weights it calls PyTorch's fused attention; with them, the course's own
    `scaled_dot_product_attention` (the returned weights are before dropout).
    cache: a `KVCache` (generation, notebook 09). The new tokens' keys and values are added to it,
    and the queries attend to every key it holds; a causal query sees the earlier tokens and itself.
    Built in notebook 03_attention; used by the Transformer block of notebook 07.
    """

    def __init__(self, d_model, n_heads, dropout=0.0, bias=True):
        super().__init__()
        check_heads(d_model, n_heads)
        self.d_model, self.n_heads, self.d_head = d_model, n_heads, d_model // n_heads
        self.dropout = dropout
        self.qkv = nn.Linear(d_model, 3 * d_model, bias=bias)   # q, k, v for all heads at once
        self.proj = nn.Linear(d_model, d_model, bias=bias)      # mixes the heads' findings

    def _split_heads(self, t, B, T):
        return t.view(B, T, self.n_heads, self.d_head).transpose(1, 2)   # (B, T, C) -> (B, H, T, Dh)

    def forward(self, x, causal=False, mask=None, need_weights=False, cache=None):
        if x.ndim != 3 or x.shape[-1] != self.d_model:
            raise ValueError(f"x must be (batch, length, d_model={self.d_model}), got {_shape(x)}")
        check_layer_input(x, self.qkv.weight, "MultiHeadAttention")
        B, T, C = x.shape
        if mask is not None:
            if not _is_torch(mask):
                raise TypeError(f"mask must be a torch bool tensor here, got {type(mask).__name__}: "
                                "use torch.as_tensor(mask)")
            _check_mask_shape(mask, (B, self.n_heads, T, T))         # before it meets the causal rule
        q, k, v = self.qkv(x).split(C, dim=-1)                          # 3 x (B, T, C)
        q, k, v = (self._split_heads(t, B, T) for t in (q, k, v))        # 3 x (B, H, T, Dh)
        if cache is not None:
            return self._attend_with_cache(q, k, v, cache, causal, mask, need_weights)
        if causal and mask is not None:
            mask = mask & causal_mask(T, like=x)                         # both rules at once
        dropout_p = self.dropout if self.training else 0.0
        if need_weights:
            if causal and mask is None:
                mask = causal_mask(T, like=x)
            _, weights = scaled_dot_product_attention(q, k, v, mask)     # (B, H, T, T)
            out = F.dropout(weights, dropout_p) @ v                       # (B, H, T, Dh)
        else:
            if mask is not None:
                _check_mask(mask, (B, self.n_heads, T, T))
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=dropout_p,
                                                 is_causal=causal and mask is None)
            weights = None
        out = out.transpose(1, 2).reshape(B, T, C)                      # heads side by side again
        return self.proj(out), weights

    def _attend_with_cache(self, q, k, v, cache, causal, mask, need_weights):
        # Generation: the keys and values of the earlier tokens come from the cache, not recomputed.
        if mask is not None or need_weights or (self.training and self.dropout):
            raise ValueError("a KV cache is for generation: no mask, no need_weights, no dropout (model.eval())")
        B, _, T, _ = q.shape
        past = len(cache)
        k, v = cache.append(k, v)                                       # 2 x (B, H, past + T, Dh)
        if causal and past and T > 1:   # new token i sees the cached tokens and the new ones up to itself
            mask = causal_mask(past + T, like=q)[past:]                 # (T, past + T)
        out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask,   # (B, H, T, Dh)
                                             is_causal=causal and not past)
        return self.proj(out.transpose(1, 2).reshape(B, T, self.d_model)), None


class KVCache:
    """The keys and values one attention layer has computed so far, kept for the tokens to come.

    When a model writes text one token at a time, the earlier tokens' keys and values do not
    change (a causal token never looks ahead), so each new token computes only its own and reads
    the rest from here: 2 x T x d_model numbers per layer (notebook 06 counts them). Notebook 09.
    """

    def __init__(self):
        self.keys = self.values = None                                  # (B, H, T, Dh) each

    def __len__(self):
        return 0 if self.keys is None else self.keys.shape[2]

    def append(self, k, v):                                             # (B, H, T_new, Dh) each
        if self.keys is None:
            self.keys, self.values = k, v
        else:
            self.keys = torch.cat([self.keys, k], dim=2)
            self.values = torch.cat([self.values, v], dim=2)
        return self.keys, self.values


# ------------------------------------------------------------- the detectives' toy example (03)

_DETECTIVE_FEATURES = ("living", "finance", "thing", "pronoun", "learns", "works well", "action", "glue")


def _feature_vector(**named):
    """An (8,) vector of zeros but the named features (a space in a name is written as _)."""
    vector = np.zeros(len(_DETECTIVE_FEATURES))
    for name, value in named.items():
        vector[_DETECTIVE_FEATURES.index(name.replace("_", " "))] = value
    return vector


def _feature_matrix(columns, *entries):
    """An (8, columns) matrix of zeros but its (feature, column, value) entries."""
    W = np.zeros((len(_DETECTIVE_FEATURES), columns))
    for feature, column, value in entries:
        W[_DETECTIVE_FEATURES.index(feature), column] = value
    return W


def _detective_words():
    """{word: (8,) vector} for every word of the two sentences: a few named features each."""
    glue = {word: _feature_vector(glue=1) for word in ("the", "because", "was", "to", "so", "an")}
    return dict(glue, person=_feature_vector(living=1, thing=1), swap=_feature_vector(finance=1, thing=1),
                it=_feature_vector(pronoun=1, thing=0.5), executed=_feature_vector(action=1),
                trained=_feature_vector(learns=1, action=0.5), do=_feature_vector(action=0.5, glue=0.5),
                effective=_feature_vector(works_well=1),
                hedge=_feature_vector(finance=0.5, thing=0.5, works_well=0.5))


def _detective_1():
    """Detective 1, "what is said about me?": d_k = 4, d_v = 8."""
    return {
        "W_q1": _feature_matrix(4, ("pronoun", 0, 3)),                        # a pronoun asks...
        "W_k1": _feature_matrix(4, ("learns", 0, 3), ("works well", 0, 3)),   # ...describing words answer
        # and hand over a hint, in the features' own columns: learns -> living, works well -> finance
        "W_v1": _feature_matrix(8, ("learns", 0, 1), ("works well", 1, 1)),
    }


def _detective_2():
    """Detective 2, "which thing am I?": d_k = 4, d_v = 8."""
    return {
        "W_q2": _feature_matrix(4, ("living", 0, 3), ("finance", 1, 3)),      # living? finance?
        "W_k2": _feature_matrix(4, ("living", 0, 3), ("finance", 1, 3),       # the answers; a pronoun's
                                ("pronoun", 0, -3), ("pronoun", 1, -3)),      # key says "not me"
        "W_v2": np.eye(len(_DETECTIVE_FEATURES)),                             # the word's own features
    }


def detective_example():
    """The hand-made word vectors and the two hand-set heads ("detectives") of notebook 03_attention.

    Built inline in notebook 03 (sections 1 and 6), which checks that it equals this; notebook 04
    imports it instead of copying numbers. Returns a fresh dict of NumPy float arrays:
      features    the 8 feature names, in order (a list)
      embedding   {word: (8,) vector} for every word of the two sentences
      W_q1, W_k1  (8, 4)  detective 1, "what is said about me?": a pronoun asks, words that
      W_v1        (8, 8)  describe a subject answer; learns -> living, works well -> finance
      W_q2, W_k2  (8, 4)  detective 2, "which thing am I?": living? finance? (a pronoun: not me)
      W_v2        (8, 8)  the identity: the evidence is the word's own features
    The values of both heads are 8 long (d_v = 8) while queries and keys are 4 long (d_k = 4).
    """
    return {"features": list(_DETECTIVE_FEATURES), "embedding": _detective_words(),
            **_detective_1(), **_detective_2()}


# ---------------------------------------------------------------------- what the explorers of notebooks 03 and 04 show

def query_attention(x, w_q, w_k, w_v, query_index, mask=None):
    """Everything one query word does in one attention head, as a dict of NumPy arrays.

    x (T, D) word vectors; w_q, w_k (D, d_k); w_v (D, d_v); mask (T, T) boolean or None.
    Keys: query (d_k,), scores (T,) = q . k_j, scaled (T,) = scores / sqrt(d_k) (-inf where
    masked), weights (T,) summing to 1, output (d_v,) = weights @ V. Used in notebook 03.
    """
    x = np.asarray(x, dtype=float)
    if isinstance(query_index, bool) or not isinstance(query_index, (int, np.integer)) \
            or not -len(x) <= query_index < len(x):
        raise ValueError(f"query_index must be a word's position, 0 to {len(x) - 1}, got {query_index!r}: "
                         "for a word, use words.index(word)")
    if mask is not None and np.shape(mask) != (len(x), len(x)):
        raise ValueError(f"mask must be (T, T) = ({len(x)}, {len(x)}) for these {len(x)} words, got {np.shape(mask)}")
    q, k, v = x @ w_q, x @ w_k, x @ w_v                                  # (T, d_k), (T, d_k), (T, d_v)
    query = q[query_index]                                               # (d_k,)
    row_mask = None if mask is None else np.asarray(mask)[query_index]   # (T,)
    output, weights = scaled_dot_product_attention(query[None], k, v,
                                                   None if row_mask is None else row_mask[None])
    scores = k @ query                                                   # (T,)
    scaled = scores / np.sqrt(k.shape[-1])
    if row_mask is not None:
        scaled = np.where(row_mask, scaled, -np.inf)
    return {"query": query, "scores": scores, "scaled": scaled, "weights": weights[0], "output": output[0]}


def softmax_state(d_k=64, temperature=1.0, scaled=True, n_keys=10, seed=0):
    """One query against n_keys random keys: the scores, their softmax and its gradient (Jacobian).

    q and the keys have d_k independent standard-normal entries, so each score q . k has variance
    d_k. Scores are divided by sqrt(d_k) when `scaled`, then by `temperature`, then softmaxed.
    Returns a dict: scores (n_keys,) as fed to softmax, weights (n_keys,), jacobian
    (n_keys, n_keys) = d weights / d scores = diag(p) - p p^T (softmax's own), gradient_q
    (n_keys, d_k) = d weights / d q = jacobian @ keys / (sqrt(d_k) if scaled else 1) / temperature
    (the whole Jacobian of the weights with respect to the query), gradient_size (its Frobenius
    norm), max_weight and entropy (in nats). Used in notebook 04. gradient_size is not the number of
    notebook 04's measurement 3 (there: the gradient of one random loss, median over 400 queries
    with 16 keys): the two follow the same trend with d_k and the scaling, on different scales.
    """
    if temperature <= 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    rng = np.random.default_rng(seed)
    query, keys = rng.normal(size=d_k), rng.normal(size=(n_keys, d_k))   # (d_k,), (n_keys, d_k)
    divide_by = (np.sqrt(d_k) if scaled else 1.0) * temperature
    scores = keys @ query / divide_by                                      # (n_keys,)
    weights = softmax(scores)
    jacobian = np.diag(weights) - np.outer(weights, weights)               # (n_keys, n_keys)
    gradient_q = jacobian @ keys / divide_by                               # (n_keys, d_k): chain rule
    entropy = -np.sum(weights * np.log(np.clip(weights, 1e-300, None)))
    return {"scores": scores, "weights": weights, "jacobian": jacobian, "gradient_q": gradient_q,
            "gradient_size": float(np.linalg.norm(gradient_q)), "max_weight": float(weights.max()),
            "entropy": float(entropy)}
