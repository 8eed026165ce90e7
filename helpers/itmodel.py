"""A small GPT that learns what "it" refers to by predicting the next word, and its baselines.

Built in notebook 08_what_is_it, from the GPT of notebook 09's model file (helpers/model.py,
whose blocks notebook 07 builds) and the sentences of helpers/itdata.py. Each training sequence is
a sentence, the question "; it =", and the referent noun:

    the person executed the swap because it was an effective hedge ; it = swap

The model is trained as any language model is: at every position it predicts the next word.
Nothing in the loss touches attention weights, and nothing tells the model where the nouns are.
Its answer is the word it predicts after "=". The baselines (`memoriser`, `clause_position_lookup`,
`first_noun`) are plain lookups that notebook 08 scores on the same held-out sets.

Shapes in comments: B sentences, T positions, V vocabulary, L layers, H heads.
"""
import contextlib
import time

import torch
import torch.nn.functional as F

from helpers import itdata, one_thread
from helpers.model import GPT, GPTConfig

# The recipe of notebook 08, kept in one place so that every seed is trained the same way.
RECIPE = dict(steps=250, batch_size=64, lr=1e-3, weight_decay=0.1, d_model=64, n_layers=2, n_heads=4)


def make_model(seed=0, d_model=64, n_layers=2, n_heads=4):
    """A fresh GPT sized for the "it" sentences (the longest sequence, 17 words, fits its context)."""
    torch.manual_seed(seed)
    config = GPTConfig(vocab_size=len(itdata.vocabulary()), context=20, n_layers=n_layers,
                       n_heads=n_heads, d_model=d_model)
    return GPT(config)


def next_word_loss(model, batch):
    """Cross-entropy of the next word: on the answer (the word after '='), plus on every other word.

    Both are next-word prediction; the answer gets its own term so that it is not one word in 17
    of the loss (the sentence's other words are mostly random choices that cannot be predicted)."""
    sequence = batch["sequence"]
    inputs, targets = sequence[:, :-1], sequence[:, 1:]                     # (B, T), (B, T)
    logits, _ = model(inputs)                                                # (B, T, V)
    rows = torch.arange(len(sequence))
    is_answer = torch.zeros_like(targets, dtype=torch.bool)
    is_answer[rows, batch["answer_at"]] = True                               # (B, T)
    is_other_word = (targets != 0) & ~is_answer                              # padding is never a target
    answer_loss = F.cross_entropy(logits[is_answer], targets[is_answer])
    words_loss = F.cross_entropy(logits[is_other_word], targets[is_other_word])
    return answer_loss + words_loss


def train_it_model(sentences, seed=0, blank_clause=False, log_every=100, verbose=True, **recipe):
    """Train a fresh model on `sentences` with AdamW on the CPU; returns (model, losses per step).

    Seeded: the same arguments give the same model. `recipe` overrides RECIPE's settings.
    blank_clause=True hides every clause word behind '<blank>' (the clause-blind baseline).
    """
    with one_thread():
        return _train(sentences, seed, blank_clause, log_every, verbose, **{**RECIPE, **recipe})


def _train(sentences, seed, blank_clause, log_every, verbose, steps, batch_size, lr, weight_decay,
           d_model, n_layers, n_heads):
    model = make_model(seed, d_model, n_layers, n_heads)
    data = itdata.encode(sentences, blank_clause=blank_clause)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    sampler = torch.Generator().manual_seed(seed)
    losses, start = [], time.perf_counter()
    for step in range(1, steps + 1):
        rows = torch.randint(len(sentences), (batch_size,), generator=sampler)
        loss = next_word_loss(model, {name: value[rows] for name, value in data.items()})
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
        if verbose and (step % log_every == 0 or step == 1):
            print(f"step {step:4d}  loss {loss.item():.4f}  ({time.perf_counter() - start:.1f} s)")
    model.eval()
    return model, losses


@torch.no_grad()
@one_thread()
def answer_probabilities(model, sentences, blank_clause=False):
    """The model's next-word probabilities after '=' for each sentence: (B, V)."""
    model.eval()
    batch = itdata.encode(sentences, blank_clause=blank_clause)
    logits, _ = model(batch["sequence"][:, :-1])                             # (B, T, V)
    rows = torch.arange(len(sentences))
    return F.softmax(logits[rows, batch["answer_at"]].float(), dim=-1)       # (B, V)


def answers(model, sentences, blank_clause=False):
    """The word each sentence's model answer is (the likeliest next word after '=')."""
    vocab = itdata.vocabulary()
    ids = answer_probabilities(model, sentences, blank_clause).argmax(dim=-1)
    return [vocab[i] for i in ids.tolist()]


def accuracy(model, sentences, blank_clause=False):
    """Share of sentences whose answer is the referent (a float in [0, 1])."""
    return share_right(answers(model, sentences, blank_clause), sentences)


def share_right(answer_words, sentences):
    """Share of answers (words) that are the sentences' referents: how every model is scored."""
    return sum(a == s.referent for a, s in zip(answer_words, sentences)) / len(sentences)


def flip_share(model, sentences):
    """Share of sentences whose answer is right AND becomes the other noun, also right, when the
    clause is swapped for one of the other kind (`itdata.counterfactual`)."""
    swapped = [itdata.counterfactual(s) for s in sentences]
    before, after = answers(model, sentences), answers(model, swapped)
    flipped = [b == s.referent and a == c.referent for b, a, s, c in zip(before, after, sentences, swapped)]
    return sum(flipped) / len(sentences)


# ------------------------------------------------------------------ baselines that need no model

def memoriser(train):
    """A lookup of every training sentence's (first noun, second noun, clause) -> answer. On a
    sentence it never saw, it falls back to the first noun: a guess, right about half the time."""
    table = {_words_key(s): s.referent for s in train}
    return lambda sentence: table.get(_words_key(sentence), sentence.words[1])


def _words_key(sentence):
    first, second = sentence.noun_positions
    return sentence.words[first], sentence.words[second], sentence.clause


def clause_position_lookup(train):
    """Remembers where the referent stood for each (clause, voice) of training: at the first noun
    or at the second. A clause in a voice it never saw gets the place it had in the other voice.
    It learns positions, not roles: right whenever a clause keeps the voice it was seen in."""
    first_in_voice = {(s.clause, s.voice): s.referent_position == 1 for s in train}
    first_in_any_voice = {s.clause: s.referent_position == 1 for s in train}

    def answer(sentence):
        first, second = sentence.noun_positions
        is_first = first_in_voice.get((sentence.clause, sentence.voice),
                                      first_in_any_voice.get(sentence.clause, True))
        return sentence.words[first if is_first else second]
    return answer


def pair_lookup(train):
    """Remembers, for every (noun, clause) pair of training, whether that noun was the referent.
    Answers the noun marked as the referent, else the one not marked as "not it", else the first.
    It knows nothing of sentences or word order, only how each noun relates to each clause."""
    was_referent = {}
    for sentence in train:
        for position in sentence.noun_positions:
            noun = sentence.words[position]
            was_referent[noun, sentence.clause] = position == sentence.referent_position

    def answer(sentence):
        nouns = [sentence.words[p] for p in sentence.noun_positions]
        marks = [was_referent.get((noun, sentence.clause)) for noun in nouns]
        if True in marks:
            return nouns[marks.index(True)]
        if False in marks:
            return nouns[1 - marks.index(False)]
        return nouns[0]
    return answer


def first_noun(sentence):
    """Always the first noun: right on active agent clauses and passive object clauses."""
    return sentence.words[sentence.noun_positions[0]]


# ------------------------------------------------------------------ what the attention does

@torch.no_grad()
@one_thread()
def attention_weights(model, sentences):
    """Every layer's attention weights for the sentences' inputs: (L, B, H, T, T).

    The GPT's forward pass, step by step (helpers.model.GPT.forward), keeping each block's weights."""
    model.eval()
    inputs = itdata.encode(sentences)["sequence"][:, :-1]                   # (B, T)
    positions = torch.arange(inputs.shape[1])
    x = model.token_embedding(inputs) + model.position_embedding(positions)  # (B, T, C)
    all_weights = []
    for block in model.blocks:
        x, weights = block(x, need_weights=True)                             # weights (B, H, T, T)
        all_weights.append(weights)
    return torch.stack(all_weights)                                          # (L, B, H, T, T)


def weights_from(model, sentences, where):
    """Each head's attention row from one position of each sentence: (L, H, B, T).
    where: "answer" (the '=' whose next word is the answer) or "it"."""
    return _rows_at(attention_weights(model, sentences), itdata.encode(sentences)[_QUERY[where]])


_QUERY = {"answer": "answer_at", "it": "it"}          # where -> the position's name in `encode`


def _rows_at(weights, query):
    """Every layer's and head's row of `weights` (L, B, H, T, T) at each sentence's query (B,)."""
    # Two index tensors split by a slice: torch puts their dimension (B) first.
    rows = weights[:, torch.arange(len(query)), :, query]                   # (B, L, H, T)
    return rows.permute(1, 2, 0, 3)                                          # (L, H, B, T)


def noun_shares(model, sentences):
    """For every head, how often its attention from '=' puts more than half of its weight on the
    referent, and how often on the other noun: two tensors (L, H) of shares in [0, 1].

    A head that always looks at one noun (say the object) scores about 1/2 on both: it does not
    choose. A head that fetches the referent scores high on the first and near 0 on the second."""
    rows = weights_from(model, sentences, "answer")                          # (L, H, B, T)
    batch = itdata.encode(sentences)
    every = torch.arange(len(sentences))
    on_referent = rows[:, :, every, batch["referent"]]                       # (L, H, B)
    on_other = rows[:, :, every, batch["other"]]                             # (L, H, B)
    return (on_referent > 0.5).float().mean(dim=-1), (on_other > 0.5).float().mean(dim=-1)


@contextlib.contextmanager
def heads_removed(model, heads):
    """Inside the `with`, the given heads ((layer, head) pairs) add nothing: their part of the
    attention output is set to zero before the output projection mixes the heads."""
    handles = []
    for layer, block in enumerate(model.blocks):
        silent = [h for l, h in heads if l == layer]
        if silent:
            handles.append(block.attn.proj.register_forward_pre_hook(_silence(silent, block.attn.d_head)))
    try:
        yield model
    finally:
        for handle in handles:
            handle.remove()


def _silence(heads, d_head):
    def hook(_module, inputs):
        heads_side_by_side = inputs[0].clone()                               # (B, T, H * Dh)
        for head in heads:
            heads_side_by_side[..., head * d_head:(head + 1) * d_head] = 0
        return (heads_side_by_side,)
    return hook


def accuracy_without_each_head(model, sentences):
    """Accuracy with one head removed at a time: a tensor (L, H)."""
    n_layers, n_heads = model.config.n_layers, model.config.n_heads
    result = torch.zeros(n_layers, n_heads)
    for layer in range(n_layers):
        for head in range(n_heads):
            with heads_removed(model, [(layer, head)]):
                result[layer, head] = accuracy(model, sentences)
    return result


def explain(model, sentence):
    """What the model makes of one sentence: a dict with its words (and the prompt), the answer,
    its probability, the referent, the other noun, and every head's attention from '=' and from "it"
    (nested lists [layer][head][word])."""
    probabilities = answer_probabilities(model, [sentence])[0]               # (V,)
    best = int(probabilities.argmax())
    weights, batch = attention_weights(model, [sentence]), itdata.encode([sentence])   # weights (L, 1, H, T, T)
    return {"words": itdata.words_with_prompt(sentence),
            "answer": itdata.vocabulary()[best],
            "probability": float(probabilities[best]),
            "referent": sentence.referent,
            "other": sentence.object if sentence.referent == sentence.agent else sentence.agent,
            "from_answer": _rows_at(weights, batch["answer_at"])[:, :, 0].tolist(),
            "from_it": _rows_at(weights, batch["it"])[:, :, 0].tolist()}


def head_evidence(model, sentences):
    """Two views of the heads on `sentences`, as a dict of plain numbers.

    The choosing head: the one whose attention from '=' lands on the referent more often than on
    the other noun, by the widest margin (`noun_shares`), with both shares. The needed head: the
    one whose removal (its output set to zero) costs the most accuracy. Each comes with the
    accuracy left without it."""
    on_referent, on_other = noun_shares(model, sentences)                    # (L, H) each
    without = accuracy_without_each_head(model, sentences)                   # (L, H)
    margin = on_referent - on_other
    choosing = divmod(int(margin.argmax()), margin.shape[1])
    needed = divmod(int(without.argmin()), without.shape[1])
    return {"choosing_head": choosing, "on_referent": float(on_referent[choosing]),
            "on_other": float(on_other[choosing]), "accuracy_without_choosing": float(without[choosing]),
            "needed_head": needed, "accuracy_without_needed": float(without[needed])}
