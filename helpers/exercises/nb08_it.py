"""Exercises of notebook 08_what_is_it."""
import torch

from helpers.exercises import Exercise, register
from helpers import itdata


def _pick(rng, options):
    return options[int(rng.integers(len(options)))]


def _referent(agent, obj, clause):
    return agent if clause in itdata.AGENT_CLAUSES else obj


register(Exercise(
    id="08.referent",
    task='return the noun "it" refers to, given the agent, the object and the clause',
    reference=_referent,
    make_inputs=lambda rng: (_pick(rng, itdata.AGENTS), _pick(rng, itdata.OBJECTS), _pick(rng, itdata.CLAUSES)),
    trials=12,
    solution=("def referent(agent, obj, clause):\n"
              "    return agent if clause in helpers.itdata.AGENT_CLAUSES else obj"),
))


def _random_sentence(rng):
    return itdata.ItSentence(_pick(rng, itdata.AGENTS), _pick(rng, itdata.VERBS), _pick(rng, itdata.OBJECTS),
                             _pick(rng, itdata.CLAUSES), _pick(rng, itdata.VOICES))


def _sentences_inputs(rng):
    # Few clauses, so that some (clause, voice) of the candidates are in training and some not.
    clauses = [itdata.CLAUSES[i] for i in rng.choice(len(itdata.CLAUSES), size=3, replace=False)]
    def draw(n):
        return [itdata.ItSentence(_pick(rng, itdata.AGENTS), _pick(rng, itdata.VERBS),
                                  _pick(rng, itdata.OBJECTS), _pick(rng, clauses), _pick(rng, itdata.VOICES))
                for _ in range(n)]
    return draw(int(rng.integers(3, 7))), draw(int(rng.integers(4, 9)))


def _new_voice(train, candidates):
    seen = {(s.clause, s.voice) for s in train}
    return [s for s in candidates if (s.clause, s.voice) not in seen]


register(Exercise(
    id="08.new_voice",
    task="keep the candidate sentences whose clause training never showed in their voice",
    reference=_new_voice,
    make_inputs=_sentences_inputs,
    trials=8,
    solution=("def new_voice(train, candidates):\n"
              "    seen = {(s.clause, s.voice) for s in train}\n"
              "    return [s for s in candidates if (s.clause, s.voice) not in seen]"),
))


def _rows_inputs(rng):
    L, H, T = int(rng.integers(1, 4)), int(rng.integers(1, 5)), int(rng.integers(5, 12))
    before = torch.softmax(torch.from_numpy(rng.normal(size=(L, H, T)) * 2).float(), dim=-1)
    after = torch.softmax(torch.from_numpy(rng.normal(size=(L, H, T)) * 2).float(), dim=-1)
    return before, after


def _most_changed_head(before, after):
    change = (after - before).abs().sum(dim=-1)                  # (L, H)
    layer, head = divmod(int(change.argmax()), change.shape[1])
    return layer, head


register(Exercise(
    id="08.most_changed_head",
    task="return (layer, head) of the head whose attention row changed most (summed absolute change)",
    reference=_most_changed_head,
    make_inputs=_rows_inputs,
    trials=8,
    solution=("def most_changed_head(before, after):   # (L, H, T) each\n"
              "    change = (after - before).abs().sum(dim=-1)   # (L, H)\n"
              "    layer, head = divmod(int(change.argmax()), change.shape[1])\n"
              "    return layer, head"),
))


def _logits_inputs(rng):
    B, T, V = int(rng.integers(2, 6)), int(rng.integers(4, 10)), int(rng.integers(5, 12))
    logits = torch.from_numpy(rng.normal(size=(B, T, V))).float()
    answer_at = torch.from_numpy(rng.integers(0, T, size=B))
    return logits, answer_at


def _answer_ids(logits, answer_at):
    return logits[torch.arange(len(answer_at)), answer_at].argmax(dim=-1)


register(Exercise(
    id="08.answer_ids",
    task="the id of the likeliest next word at each sentence's '=' position",
    reference=_answer_ids,
    make_inputs=_logits_inputs,
    solution=("def answer_ids(logits, answer_at):   # logits (B, T, V), answer_at (B,)\n"
              "    at_equals = logits[torch.arange(len(answer_at)), answer_at]   # (B, V)\n"
              "    return at_equals.argmax(dim=-1)                                # (B,)"),
))
