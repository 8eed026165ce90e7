"""Exercises of notebook 08_what_is_it."""
import torch

from helpers.exercises import Exercise, compare_values, register
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


def _passive(agent, verb, obj, clause):
    return f"the {obj} was {verb} by the {agent} because it {clause}"


register(Exercise(
    id="08.passive",
    task="write the sentence in the passive voice (lower case, no full stop)",
    reference=_passive,
    make_inputs=lambda rng: (_pick(rng, itdata.AGENTS), _pick(rng, itdata.VERBS), _pick(rng, itdata.OBJECTS),
                             _pick(rng, itdata.CLAUSES)),
    solution=('def passive(agent, verb, obj, clause):\n'
              '    return f"the {obj} was {verb} by the {agent} because it {clause}"'),
))


def _rows_inputs(rng):
    B, T = int(rng.integers(2, 6)), int(rng.integers(5, 12))
    weights = torch.softmax(torch.from_numpy(rng.normal(size=(B, T))).float(), dim=-1)
    referent = torch.from_numpy(rng.integers(0, T, size=B))
    return weights, referent


def _pointing_loss(weights, referent):
    return -torch.log(weights[torch.arange(len(referent)), referent]).mean()


def _compare_loss(expected, got):
    """compare_values, with a hint for a loss handed back as a Python number (from .item())."""
    if isinstance(got, (int, float)):
        hint = "the right value" if abs(got - expected.item()) <= 1e-4 * (1 + abs(expected.item())) else "a number"
        return (f"expected a tensor of shape () (the loss {expected.item():.4f}), got {hint} as a Python "
                f"{type(got).__name__}: return the tensor, without .item(), so that training can backpropagate")
    return compare_values(expected, got)


register(Exercise(
    id="08.pointing_loss",
    task='the mean of minus the log of the attention weight from "it" on the right noun, as a tensor',
    reference=_pointing_loss,
    make_inputs=_rows_inputs,
    compare=_compare_loss,
    solution=("def pointing_loss(weights, referent):   # weights (B, T), referent (B,)\n"
              "    on_referent = weights[torch.arange(len(referent)), referent]   # (B,)\n"
              "    return -torch.log(on_referent).mean()"),
))


def _answer_inputs(rng):
    B, H, T = int(rng.integers(2, 5)), int(rng.integers(1, 4)), int(rng.integers(5, 10))
    weights = torch.softmax(torch.from_numpy(rng.normal(size=(B, H, T, T)) * 3).float(), dim=-1)
    it = torch.from_numpy(rng.integers(0, T, size=B))
    return weights, it


def _answer(weights, it):
    return weights.mean(dim=1)[torch.arange(len(it)), it].argmax(dim=-1)


register(Exercise(
    id="08.answer",
    task='the position each sentence\'s "it" attends to most (weights averaged over heads)',
    reference=_answer,
    make_inputs=_answer_inputs,
    solution=("def answer(weights, it):   # weights (B, H, T, T), it (B,)\n"
              "    rows = weights.mean(dim=1)[torch.arange(len(it)), it]   # (B, T)\n"
              "    return rows.argmax(dim=-1)"),
))
