"""A small Transformer encoder that works out what "it" refers to, and its training.

Built in notebook 08_what_is_it, from the blocks of notebook 07 (helpers/model.py) and the
sentences of helpers/itdata.py. Two encoder layers (no causal mask: "it" must see the clause that
follows it), one head each, 64 wide. The model's answer is where the LAST layer's attention from
"it" points; training lowers minus the log of that attention weight on the right noun. Nothing
else is trained for: which words the first layer reads is up to the model.

For the pitfall of notebook 08, `ItEncoder(..., head="classifier")` answers a two-way question
instead ("is it the first or the second noun?") from the last layer's output at "it".
"""
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

from helpers import itdata
from helpers.model import Block


class ItEncoder(nn.Module):
    """Token and position embeddings, then `n_layers` encoder blocks (non-causal).

    forward(tokens (B, T), length (B,)) -> (x (B, T, C), [attention weights (B, H, T, T) per layer]).
    Padding (right of `length`) is hidden from every query, so it cannot leak the sentence length.
    """

    def __init__(self, vocab_size, d_model=64, n_layers=2, n_heads=1, max_len=16, head="pointer"):
        super().__init__()
        if head not in ("pointer", "classifier"):
            raise ValueError(f"head must be 'pointer' or 'classifier', got {head!r}")
        self.head = head
        self.token_embedding = nn.Embedding(vocab_size, d_model)
        self.position_embedding = nn.Embedding(max_len, d_model)
        self.blocks = nn.ModuleList(Block(d_model, n_heads, causal=False) for _ in range(n_layers))
        self.classifier = nn.Linear(d_model, 2) if head == "classifier" else None

    def forward(self, tokens, length):
        B, T = tokens.shape
        if T > self.position_embedding.num_embeddings:
            raise ValueError(f"sentences of {T} tokens are longer than max_len="
                             f"{self.position_embedding.num_embeddings}")
        positions = torch.arange(T, device=tokens.device)                         # (T,)
        x = self.token_embedding(tokens) + self.position_embedding(positions)      # (B, T, C)
        key_is_word = positions[None, :] < length[:, None].to(tokens.device)      # (B, T)
        mask = key_is_word[:, None, None, :]                                       # (B, 1, 1, T)
        all_weights = []
        for block in self.blocks:
            x, weights = block(x, mask=mask, need_weights=True)                   # weights (B, H, T, T)
            all_weights.append(weights)
        return x, all_weights


def attention_from_it(weights, it):
    """One layer's weights (B, H, T, T) -> the row of "it" averaged over heads (B, T)."""
    rows = weights.mean(dim=1)                                     # (B, T, T)
    return rows[torch.arange(len(it)), it]                         # (B, T)


def loss_and_answer(model, batch):
    """The training loss and the model's answers for a batch from `itdata.encode`.

    pointer: loss = -log(last layer's attention weight from "it" on the right noun); answer = the
    position that attention weights most. classifier: cross-entropy on first/second noun; answer
    = the noun position it picks.
    """
    x, all_weights = model(batch["tokens"], batch["length"])
    it = batch["it"]
    if model.head == "pointer":
        from_it = attention_from_it(all_weights[-1], it)                            # (B, T)
        on_referent = from_it[torch.arange(len(it)), batch["referent"]]             # (B,)
        return -torch.log(on_referent + 1e-9).mean(), from_it.argmax(dim=-1)
    logits = model.classifier(x[torch.arange(len(it)), it])                          # (B, 2)
    loss = F.cross_entropy(logits, batch["second_noun"].long())
    picks_second = logits.argmax(dim=-1).bool()                                      # (B,)
    return loss, torch.where(picks_second, batch["second_position"], torch.ones_like(it))


def _take(batch, rows):
    return {name: value[rows] for name, value in batch.items()}


def train_it_model(sentences, steps=150, batch_size=128, lr=3e-3, d_model=64, seed=0,
                   head="pointer", blank_nouns=False, log_every=50, verbose=True):
    """Train an ItEncoder on `sentences` with AdamW on the CPU; returns (model, losses per step).

    Seeded: the same arguments give the same model. Prints a short log every `log_every` steps.
    blank_nouns=True trains on sentences whose nouns are all '<blank>' (a pitfall of notebook 08).
    Runs on one CPU thread: the matrices are tiny, so more threads only wait for each other
    (badly so on a busy machine); the thread count is put back afterwards.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _train(sentences, steps, batch_size, lr, d_model, seed, head, blank_nouns, log_every, verbose)
    finally:
        torch.set_num_threads(threads)


def _train(sentences, steps, batch_size, lr, d_model, seed, head, blank_nouns, log_every, verbose):
    torch.manual_seed(seed)
    vocab = itdata.vocabulary()
    model = ItEncoder(len(vocab), d_model=d_model, head=head)
    data = itdata.encode(sentences, vocab, blank_nouns=blank_nouns)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    sampler = torch.Generator().manual_seed(seed)
    losses, start = [], time.perf_counter()
    for step in range(1, steps + 1):
        rows = torch.randint(len(sentences), (batch_size,), generator=sampler)
        loss, _ = loss_and_answer(model, _take(data, rows))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if verbose and (step % log_every == 0 or step == 1):
            print(f"step {step:4d}  loss {loss.item():.4f}  ({time.perf_counter() - start:.1f} s)")
    model.eval()
    return model, losses


@torch.no_grad()
def accuracy(model, sentences, blank_nouns=False):
    """Share of sentences whose answer is the right noun (a float in [0, 1])."""
    model.eval()
    batch = itdata.encode(sentences, blank_nouns=blank_nouns)
    _, answers = loss_and_answer(model, batch)
    return (answers == batch["referent"]).float().mean().item()


@torch.no_grad()
def explain(model, sentence):
    """What the model makes of one sentence: a dict with its words, the answer (a word), and
    the attention from "it" in each layer (lists of floats, one per word)."""
    model.eval()
    batch = itdata.encode([sentence])
    _, all_weights = model(batch["tokens"], batch["length"])
    rows = [attention_from_it(w, batch["it"])[0].tolist() for w in all_weights]
    _, answer = loss_and_answer(model, batch)
    words = sentence.words
    return {"words": words, "answer": words[int(answer[0])], "referent": sentence.referent,
            "attention_from_it": rows}
