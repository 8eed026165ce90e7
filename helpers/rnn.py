"""A minimal recurrent network (tanh RNN) in PyTorch, and what it costs to train.

Built in notebook 06_why_transformers, where it stands for the models that came before
Transformers. The whole network is one line repeated over time:

    h_t = tanh(x_t @ W_xh + h_{t-1} @ W_hh + b)

Each state needs the one before it, so T tokens take T steps one after another (a Python loop
here, and a loop on any hardware), while attention handles all T positions in one batched product.
The gradient from the last state back to an early input passes through every step in between,
multiplied by W_hh each time: it shrinks (vanishes) or grows (explodes) like a power of W_hh's scale.

The last part trains models on one long-range task, a cue then k filler tokens then a query whose
answer is the cue: a tanh RNN, an LSTM and one attention layer, side by side (accuracy_against_distance).
"""
import torch
from torch import nn

from helpers import one_thread
from helpers.attention import check_layer_input

__all__ = ["TanhRNN", "set_recurrent_scale", "state_gradient_norms", "attention_gradient_norms",
           "dependency_depth", "gradients_through_time", "gradient_by_distance", "make_cue_task", "cue_task_vocab_size",
           "RecurrentClassifier", "AttentionClassifier", "make_classifier", "train_classifier",
           "classifier_accuracy", "accuracy_against_distance"]


class TanhRNN(nn.Module):
    """h_t = tanh(x_t @ W_xh + h_{t-1} @ W_hh + b), one step at a time.

    forward(x (B, T, C), h0 (B, H) or None) -> (states (B, T, H), last state (B, H)).
    tanh=False leaves the squashing out (h_t = x_t @ W_xh + h_{t-1} @ W_hh + b): a linear RNN, whose
    gradients through time are exactly powers of W_hh (notebook 06's predict-then-measure exercise).
    """

    def __init__(self, input_size, hidden_size, tanh=True):
        super().__init__()
        self.hidden_size = hidden_size
        self.tanh = tanh
        self.input_to_hidden = nn.Linear(input_size, hidden_size)            # W_xh and b
        self.hidden_to_hidden = nn.Linear(hidden_size, hidden_size, bias=False)  # W_hh

    def step(self, x_t, h):
        """One step: the new state from this input (B, C) and the previous state (B, H)."""
        summed = self.input_to_hidden(x_t) + self.hidden_to_hidden(h)       # (B, H)
        return torch.tanh(summed) if self.tanh else summed

    def forward(self, x, h0=None):
        if x.ndim != 3:
            raise ValueError(f"x must be (batch, length, features), got shape {tuple(x.shape)}")
        B, T, C = x.shape
        check_layer_input(x, self.input_to_hidden.weight, "TanhRNN")
        if T == 0:
            raise ValueError("x has no steps (length 0): give the RNN at least one token")
        if h0 is not None and tuple(h0.shape) != (B, self.hidden_size):
            raise ValueError(f"h0 must be (batch, hidden) = ({B}, {self.hidden_size}), got {tuple(h0.shape)}")
        h = x.new_zeros(B, self.hidden_size) if h0 is None else h0           # (B, H)
        states = []
        for t in range(T):                  # the sequential chain: step t needs step t - 1
            h = self.step(x[:, t], h)
            states.append(h)
        return torch.stack(states, dim=1), h                                 # (B, T, H), (B, H)


@torch.no_grad()
def set_recurrent_scale(rnn, scale, seed=0):
    """Make W_hh a random orthogonal matrix times `scale`: every direction is stretched by exactly `scale`.

    Below 1 the state (and the gradient) shrinks at each step, above 1 it grows, at 1 it keeps its size.
    """
    generator = torch.Generator().manual_seed(seed)
    H = rnn.hidden_size
    random_matrix = torch.randn(H, H, generator=generator, dtype=torch.float64)
    orthogonal, _ = torch.linalg.qr(random_matrix)                           # (H, H), Q^T Q = I
    rnn.hidden_to_hidden.weight.copy_(scale * orthogonal)
    return rnn


def state_gradient_norms(rnn, x):
    """||d h_T / d x_t|| for every step t: how much the last state still feels each input.

    x (1, T, C). Returns a tensor (T,) of Frobenius norms of the Jacobians (H x C each).
    """
    x = x.detach().clone().requires_grad_(True)
    _, last = rnn(x)                                                        # (1, H)
    rows = []
    for unit in range(last.shape[-1]):   # one backward pass per unit of the last state: H x (T, C)
        (grad,) = torch.autograd.grad(last[0, unit], x, retain_graph=True)
        rows.append(grad[0])                                                # (T, C)
    jacobian = torch.stack(rows)                                            # (H, T, C)
    return jacobian.pow(2).sum(dim=(0, 2)).sqrt()                            # (T,)


def attention_gradient_norms(x, w_q, w_k, w_v):
    """||d out_T / d x_t|| for one causal attention head: the last output looks at every input directly.

    x (1, T, C); w_q, w_k (C, d); w_v (C, d_v). Returns a tensor (T,).
    """
    from helpers.attention import causal_mask, scaled_dot_product_attention

    x = x.detach().clone().requires_grad_(True)
    T = x.shape[1]
    out, _ = scaled_dot_product_attention(x @ w_q, x @ w_k, x @ w_v, causal_mask(T, like=x))
    rows = []
    for unit in range(out.shape[-1]):
        (grad,) = torch.autograd.grad(out[0, -1, unit], x, retain_graph=True)
        rows.append(grad[0])                                                # (T, C)
    return torch.stack(rows).pow(2).sum(dim=(0, 2)).sqrt()                   # (T,)


def dependency_depth(output):
    """The longest chain of operations autograd recorded from `output` back to any input.

    Each operation on the chain had to wait for the one before it, so this counts the steps that
    no hardware can run side by side. An RNN's chain grows with the length T; attention's does not.
    """
    depth_of = {}                                   # grad_fn node -> longest chain below it
    stack = [(output.grad_fn, False)]
    while stack:                                    # depth-first, without recursion (chains are long)
        node, children_done = stack.pop()
        if node is None or (node in depth_of and not children_done):
            continue
        children = [child for child, _ in node.next_functions if child is not None]
        if children_done:
            depth_of[node] = 1 + max((depth_of[c] for c in children), default=0)
        else:
            stack.append((node, True))
            stack.extend((c, False) for c in children if c not in depth_of)
    return depth_of.get(output.grad_fn, 0)


# ---------------------------------------------------------------------- the recurrent-scale explorer (06)

def gradients_through_time(scale, length=40, hidden=32, features=8, seed=0):
    """How much the last state feels each input, for an RNN whose W_hh is stretched by `scale`,
    next to one causal attention head on the same inputs.

    Returns {"rnn": (length,) array, "attention": (length,) array}, entry t being
    ||d last / d x_t||; the last entry is the newest input. What notebook 06's slider draws.
    """
    generator = torch.Generator().manual_seed(seed)
    inputs = 0.1 * torch.randn(1, length, features, generator=generator)    # (1, T, C), small
    torch.manual_seed(seed)
    rnn = set_recurrent_scale(TanhRNN(features, hidden), scale, seed=seed)
    w_q, w_k, w_v = (torch.randn(features, hidden, generator=generator) / features ** 0.5 for _ in range(3))
    return {"rnn": state_gradient_norms(rnn, inputs).numpy(),
            "attention": attention_gradient_norms(inputs, w_q, w_k, w_v).detach().numpy()}


def gradient_by_distance(input_scale, sequences=20, length=40, features=8, hidden=32, seed=0):
    """Does the gradient fall with distance for attention when its weights are sharp? (notebook 06)

    Inputs are input_scale * randn: small ones give near-even attention, large ones sharp attention
    (and a saturated tanh). For `sequences` random sequences, the gradient norm reaching each input
    from the last output, for one causal attention head and for a tanh RNN with W_hh at scale 1.
    Returns a dict:
      "rnn", "attention": median log10 gradient norm of the 10 oldest inputs minus that of the 10
          newest (the newest itself left out: for attention it is also the query). 0: no trend with
          distance; -3: the oldest get a thousandth of what the newest get.
      "top_weight": the last query's largest attention weight, averaged (1 / length when even, 1 when sharp).
      "attention_spread": the standard deviation of attention's log10 gradient norms over all the
          inputs but the newest: how uneven the gradient is, whatever the distance.
    """
    from helpers.attention import causal_mask, scaled_dot_product_attention

    generator = torch.Generator().manual_seed(seed)
    w_q, w_k, w_v = (torch.randn(features, hidden, generator=generator) / features ** 0.5 for _ in range(3))
    torch.manual_seed(seed)
    rnn = set_recurrent_scale(TanhRNN(features, hidden), 1.0, seed=seed)
    logs = {"rnn": [], "attention": []}
    top_weights = []
    for _ in range(sequences):
        x = input_scale * torch.randn(1, length, features, generator=generator)          # (1, T, C)
        logs["attention"].append(attention_gradient_norms(x, w_q, w_k, w_v).detach())
        logs["rnn"].append(state_gradient_norms(rnn, x))
        _, weights = scaled_dot_product_attention(x @ w_q, x @ w_k, x @ w_v, causal_mask(length, like=x))
        top_weights.append(weights[0, -1].max().item())
    log_norms = {kind: torch.stack(norms).clamp_min(1e-30).log10() for kind, norms in logs.items()}   # (S, T)
    result = {kind: (per_input[:, :10].median() - per_input[:, -11:-1].median()).item()   # oldest 10 vs newest 10
              for kind, per_input in log_norms.items()}
    result["top_weight"] = sum(top_weights) / len(top_weights)
    result["attention_spread"] = log_norms["attention"][:, :-1].std().item()
    return result


# ---------------------------------------------------------------------- a long-range task, trained (06)
#
# A cue token, then `distance` filler tokens, then a query token; the answer is which cue came first.
# The fillers are random and carry no information, so a model that cannot see (or remember) the cue
# scores 1 / n_cues at best. Token ids: 0 .. n_cues - 1 are the cues, then the fillers, then the query.

CUE_TASK = dict(n_cues=4, n_fillers=8)
TRAINING = dict(width=32, steps=300, batch_size=64, lr=0.01)        # the same for every model


def cue_task_vocab_size(n_cues=4, n_fillers=8):
    """Cues, fillers and the query token: how many token ids the cue task uses."""
    return n_cues + n_fillers + 1


def make_cue_task(n, distance, generator, n_cues=4, n_fillers=8):
    """n sequences `cue, distance fillers, query` and their answers (the cue's index).

    Returns tokens (n, distance + 2) and answers (n,), both int64. `generator`: a torch.Generator.
    """
    if distance < 0:
        raise ValueError(f"distance is the number of fillers between cue and query: at least 0, got {distance}")
    answers = torch.randint(n_cues, (n,), generator=generator)                       # (n,)
    fillers = n_cues + torch.randint(n_fillers, (n, distance), generator=generator)  # (n, k)
    query = torch.full((n, 1), n_cues + n_fillers)                                   # (n, 1)
    return torch.cat([answers[:, None], fillers, query], dim=1), answers             # (n, k + 2), (n,)


class RecurrentClassifier(nn.Module):
    """Embed the tokens, read them with torch's tanh RNN ("rnn", the same recurrence as `TanhRNN`)
    or LSTM ("lstm"), and classify from the last state. forward(tokens (B, T)) -> logits (B, classes)."""

    def __init__(self, vocab_size, n_classes, width=32, cell="rnn"):
        super().__init__()
        if cell not in ("rnn", "lstm"):
            raise ValueError(f'cell must be "rnn" or "lstm", got {cell!r}')
        self.embed = nn.Embedding(vocab_size, width)
        recurrent = nn.RNN if cell == "rnn" else nn.LSTM
        self.recurrent = recurrent(width, width, batch_first=True)
        self.head = nn.Linear(width, n_classes)

    def forward(self, tokens):                                   # (B, T)
        states, _ = self.recurrent(self.embed(tokens))           # (B, T, W): T steps, one after another
        return self.head(states[:, -1])                          # (B, classes), from the last state


class AttentionClassifier(nn.Module):
    """Token plus position embeddings, one attention layer (`MultiHeadAttention`, notebook 03),
    and a classifier on the last position's output. forward(tokens (B, T)) -> logits (B, classes)."""

    def __init__(self, vocab_size, n_classes, max_length, width=32, n_heads=1):
        super().__init__()
        from helpers.attention import MultiHeadAttention

        self.embed = nn.Embedding(vocab_size, width)
        self.position = nn.Embedding(max_length, width)          # so it can tell where the cue is
        self.attention = MultiHeadAttention(width, n_heads)
        self.head = nn.Linear(width, n_classes)

    def forward(self, tokens):                                   # (B, T)
        T = tokens.shape[1]
        x = self.embed(tokens) + self.position(torch.arange(T, device=tokens.device))   # (B, T, W)
        out, _ = self.attention(x)                               # (B, T, W): every position at once
        return self.head(out[:, -1])                             # (B, classes), from the query's output


def make_classifier(kind, distance, seed=0, width=32, n_cues=4, n_fillers=8):
    """A fresh seeded model of kind "rnn", "lstm" or "attention" for the cue task at this distance."""
    torch.manual_seed(seed)
    vocab_size = cue_task_vocab_size(n_cues, n_fillers)
    if kind == "attention":
        return AttentionClassifier(vocab_size, n_cues, max_length=distance + 2, width=width)
    return RecurrentClassifier(vocab_size, n_cues, width=width, cell=kind)


def train_classifier(model, distance, seed=0, steps=300, batch_size=64, lr=0.01, data=None):
    """Train `model` on fresh batches of the cue task with Adam; returns the losses, one per step.

    Seeded, on one CPU thread: the same arguments give the same model. data: a fixed (tokens, answers)
    to draw the batches from instead of fresh sequences (to check that a small model can overfit).
    """
    with one_thread():
        generator = torch.Generator().manual_seed(seed)
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        losses = []
        for _ in range(steps):
            if data is None:
                tokens, answers = make_cue_task(batch_size, distance, generator, **CUE_TASK)   # (B, T), (B,)
            else:
                rows = torch.randint(len(data[1]), (batch_size,), generator=generator)
                tokens, answers = data[0][rows], data[1][rows]
            loss = nn.functional.cross_entropy(model(tokens), answers)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        return losses


@torch.no_grad()
def classifier_accuracy(model, tokens, answers):
    """Share of sequences whose likeliest class is the answer: tokens (n, T), answers (n,)."""
    model.eval()
    right = (model(tokens).argmax(dim=-1) == answers).float().mean().item()
    model.train()
    return right


def accuracy_against_distance(distances, kinds=("rnn", "lstm", "attention"), seed=0, n_test=1000, **training):
    """Train each kind of model at each distance (same width, optimizer, steps and seed) and score it
    on held-out sequences drawn with another seed. Returns {kind: [accuracy at each distance]}.
    What notebook 06 plots; `training` overrides TRAINING's settings."""
    settings = {**TRAINING, **training}
    width = settings.pop("width")
    results = {kind: [] for kind in kinds}
    for distance in distances:
        test_tokens, test_answers = make_cue_task(n_test, distance, torch.Generator().manual_seed(10_000 + seed),
                                                  **CUE_TASK)
        for kind in kinds:
            model = make_classifier(kind, distance, seed=seed, width=width)
            train_classifier(model, distance, seed=seed, **settings)
            results[kind].append(classifier_accuracy(model, test_tokens, test_answers))
    return results
