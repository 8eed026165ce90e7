"""Tests of helpers/rnn.py: the tanh RNN equals torch.nn.RNN, the recurrent scale does what it says,
gradient norms equal a hand-built Jacobian, and the chain of dependent steps grows with T for an RNN only."""
import numpy as np
import pytest
import torch

from helpers import rnn as rnn_module
from helpers.attention import causal_mask, scaled_dot_product_attention
from helpers.rnn import TanhRNN, dependency_depth, set_recurrent_scale, state_gradient_norms


def _copy_into_torch_rnn(ours):
    reference = torch.nn.RNN(ours.input_to_hidden.in_features, ours.hidden_size, batch_first=True)
    with torch.no_grad():
        reference.weight_ih_l0.copy_(ours.input_to_hidden.weight)
        reference.bias_ih_l0.copy_(ours.input_to_hidden.bias)
        reference.weight_hh_l0.copy_(ours.hidden_to_hidden.weight)
        reference.bias_hh_l0.zero_()
    return reference


@pytest.mark.parametrize("batch, length, features, hidden", [(1, 1, 3, 4), (2, 7, 5, 3), (3, 12, 2, 8)])
def test_tanh_rnn_equals_torch_rnn(batch, length, features, hidden):
    torch.manual_seed(0)
    ours = TanhRNN(features, hidden).double()
    reference = _copy_into_torch_rnn(ours).double()
    x, h0 = torch.randn(batch, length, features, dtype=torch.float64), torch.randn(batch, hidden, dtype=torch.float64)
    states, last = ours(x, h0)
    ref_states, ref_last = reference(x, h0[None])
    assert states.shape == (batch, length, hidden)
    assert torch.allclose(states, ref_states) and torch.allclose(last, ref_last[0])


def test_tanh_rnn_explains_a_wrong_input_shape():
    with pytest.raises(ValueError, match=r"\(batch, length, features\), got shape \(5, 3\)"):
        TanhRNN(3, 4)(torch.zeros(5, 3))


@pytest.mark.parametrize("scale", [0.5, 1.0, 1.7])
def test_set_recurrent_scale_stretches_every_direction_by_scale(scale):
    rnn = set_recurrent_scale(TanhRNN(3, 6), scale)
    singular_values = torch.linalg.svdvals(rnn.hidden_to_hidden.weight.double())
    assert torch.allclose(singular_values, torch.full((6,), scale, dtype=torch.float64), atol=1e-5)


def test_state_gradient_norms_equal_the_full_jacobian():
    torch.manual_seed(1)
    rnn = TanhRNN(3, 5).double()
    x = torch.randn(1, 6, 3, dtype=torch.float64)
    jacobian = torch.autograd.functional.jacobian(lambda inp: rnn(inp)[1], x)   # (1, H, 1, T, C)
    expected = jacobian[0, :, 0].pow(2).sum(dim=(0, 2)).sqrt()                   # (T,)
    assert torch.allclose(state_gradient_norms(rnn, x), expected)


def test_gradient_norms_shrink_like_a_power_of_the_scale_near_zero():
    # With tiny inputs tanh is nearly the identity, so d h_T / d x_t ~ W_hh^(T-1-t) W_xh: a power law.
    torch.manual_seed(2)
    rnn = set_recurrent_scale(TanhRNN(4, 8).double(), 0.6)
    torch.nn.init.zeros_(rnn.input_to_hidden.bias)                    # keep the states near 0
    norms = state_gradient_norms(rnn, 1e-4 * torch.randn(1, 10, 4, dtype=torch.float64))
    ratios = (norms[:-1] / norms[1:]).numpy()
    assert np.allclose(ratios, 0.6, rtol=1e-3)


def test_attention_gradient_norms_reach_every_input_directly():
    torch.manual_seed(3)
    x = torch.randn(1, 8, 4)
    w_q, w_k, w_v = (torch.randn(4, 4) for _ in range(3))
    norms = rnn_module.attention_gradient_norms(x, w_q, w_k, w_v)
    assert norms.shape == (8,) and bool((norms > 0).all())


@pytest.mark.parametrize("length", [1, 5, 40])
def test_dependency_depth_grows_with_length_for_the_rnn_only(length):
    torch.manual_seed(4)
    rnn, w = TanhRNN(4, 4), torch.randn(4, 4)

    def depths(T):
        x = torch.randn(1, T, 4, requires_grad=True)
        attention_out, _ = scaled_dot_product_attention(x @ w, x @ w, x @ w, causal_mask(T, like=x))
        return dependency_depth(rnn(x)[1]), dependency_depth(attention_out)

    rnn_short, attention_short = depths(length)
    rnn_long, attention_long = depths(2 * length)
    assert rnn_long - rnn_short >= length                     # at least one more step per extra token
    assert attention_long == attention_short                  # the same short chain at any length
    assert dependency_depth(torch.zeros(3)) == 0              # no recorded operations, no chain


def test_rnn_names_a_wrong_state_an_empty_sequence_and_a_wrong_feature_size():
    rnn = TanhRNN(4, 6)
    with pytest.raises(ValueError, match=r"h0 must be \(batch, hidden\) = \(1, 6\), got \(6,\)"):
        rnn(torch.zeros(1, 3, 4), torch.zeros(6))
    with pytest.raises(ValueError, match="at least one token"):
        rnn(torch.zeros(1, 0, 4))
    with pytest.raises(ValueError, match="TanhRNN was built for 4 features"):
        rnn(torch.zeros(1, 3, 5))


# ---------------------------------------------------------------------- the recurrent-scale explorer (06)

def test_gradients_through_time_vanish_and_explode_with_the_scale():
    small = rnn_module.gradients_through_time(0.5, length=30)
    large = rnn_module.gradients_through_time(2.0, length=30)
    assert small["rnn"].shape == (30,) and small["attention"].shape == (30,)
    assert small["rnn"][0] < 1e-6 * small["rnn"][-1]           # the oldest input is all but forgotten
    assert large["rnn"][0] > 10 * large["rnn"][-1]             # the oldest input's gradient blew up
    spread = small["attention"].max() / small["attention"].min()
    assert spread < 100                                         # attention: one step from every input


# ---------------------------------------------------------------------- the long-range cue task (06)

def _task(n, distance, seed=0):
    return rnn_module.make_cue_task(n, distance, torch.Generator().manual_seed(seed))


def test_a_linear_rnn_is_the_same_loop_without_tanh():
    torch.manual_seed(0)
    linear = TanhRNN(3, 5, tanh=False)
    x = torch.randn(2, 6, 3)
    h = torch.zeros(2, 5)
    for t in range(6):
        h = linear.input_to_hidden(x[:, t]) + linear.hidden_to_hidden(h)
    assert torch.allclose(linear(x)[1], h, atol=1e-6)
    squashed = TanhRNN(3, 5)
    squashed.load_state_dict(linear.state_dict())
    assert not torch.allclose(squashed(x)[1], h, atol=1e-3)


@pytest.mark.parametrize("scale", [0.5, 0.8, 1.3])
def test_a_linear_rnn_gradient_k_steps_back_is_exactly_scale_to_the_k(scale):
    # W_hh = scale x orthogonal, so each step back multiplies every Jacobian's norm by exactly scale.
    torch.manual_seed(0)
    linear = set_recurrent_scale(TanhRNN(4, 16, tanh=False).double(), scale)
    norms = state_gradient_norms(linear, torch.randn(1, 12, 4, dtype=torch.float64))
    assert torch.allclose(norms / norms[-1], scale ** torch.arange(11, -1, -1, dtype=torch.float64), rtol=1e-9)


def test_gradient_by_distance_falls_for_the_rnn_not_for_attention():
    even = rnn_module.gradient_by_distance(0.1, sequences=4)
    sharp = rnn_module.gradient_by_distance(3.0, sequences=4)
    assert even["top_weight"] < 0.1 < 0.5 < sharp["top_weight"]              # sharper attention
    assert abs(even["attention"]) < 0.05 and even["rnn"] < -0.5               # even: flat against falling
    assert abs(sharp["attention"]) < 1.5 and sharp["rnn"] < -5                # sharp: no trend, a steep fall
    assert sharp["attention_spread"] > 1 > even["attention_spread"]           # but uneven across inputs


def test_cue_task_layout_cue_then_fillers_then_query():
    tokens, answers = _task(50, 7)
    n_cues, n_fillers = rnn_module.CUE_TASK["n_cues"], rnn_module.CUE_TASK["n_fillers"]
    assert tokens.shape == (50, 9) and answers.shape == (50,)
    assert torch.equal(tokens[:, 0], answers)                                  # the first token is the cue
    assert bool(((tokens[:, 1:-1] >= n_cues) & (tokens[:, 1:-1] < n_cues + n_fillers)).all())
    assert bool((tokens[:, -1] == n_cues + n_fillers).all())                  # the same query every time
    assert tokens.max() < rnn_module.cue_task_vocab_size()
    with pytest.raises(ValueError, match="at least 0"):
        _task(3, -1)


def test_cue_task_answer_depends_only_on_the_cue():
    tokens, answers = _task(4000, 5)
    swapped = tokens.clone()
    swapped[:, 0] = (swapped[:, 0] + 1) % rnn_module.CUE_TASK["n_cues"]      # another cue, same fillers
    # Every cue appears about equally often, and the fillers are the same for every answer.
    counts = torch.bincount(answers, minlength=4).float() / len(answers)
    assert torch.allclose(counts, torch.full((4,), 0.25), atol=0.03)
    assert torch.equal(tokens[:, 1:], swapped[:, 1:]) and not torch.equal(tokens[:, 0], swapped[:, 0])


def test_a_model_that_ignores_the_cue_is_at_chance():
    # The best a cue-blind rule can do: a lookup from the fillers to the commonest answer in training.
    train_tokens, train_answers = _task(4000, 2, seed=0)
    test_tokens, test_answers = _task(4000, 2, seed=1)
    table = {}
    for row, answer in zip(train_tokens[:, 1:].tolist(), train_answers.tolist()):
        table.setdefault(tuple(row), []).append(answer)
    guess = {row: max(set(seen), key=seen.count) for row, seen in table.items()}
    predictions = torch.tensor([guess.get(tuple(row), 0) for row in test_tokens[:, 1:].tolist()])
    assert abs((predictions == test_answers).float().mean().item() - 0.25) < 0.04
    # And a trained attention model, shown the cue blanked out (a filler in its place), is at chance too.
    model = rnn_module.make_classifier("attention", 2)
    rnn_module.train_classifier(model, 2, steps=100)
    blanked = test_tokens.clone()
    blanked[:, 0] = rnn_module.CUE_TASK["n_cues"]
    assert rnn_module.classifier_accuracy(model, test_tokens, test_answers) > 0.95
    assert abs(rnn_module.classifier_accuracy(model, blanked, test_answers) - 0.25) < 0.06


@pytest.mark.parametrize("kind", ["rnn", "lstm", "attention"])
def test_training_is_deterministic(kind):
    def run():
        model = rnn_module.make_classifier(kind, 4, seed=3)
        losses = rnn_module.train_classifier(model, 4, seed=3, steps=5)
        return losses, model(_task(8, 4)[0])

    (losses_a, logits_a), (losses_b, logits_b) = run(), run()
    assert losses_a == losses_b and torch.equal(logits_a, logits_b)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "attention"])
def test_a_small_model_overfits_a_few_sequences(kind):
    # 16 sequences at distance 3: every model must get all of them right, with loss near 0.
    tokens, answers = _task(16, 3, seed=5)
    model = rnn_module.make_classifier(kind, 3)
    losses = rnn_module.train_classifier(model, 3, steps=150, data=(tokens, answers))
    assert losses[-1] < 0.05 and rnn_module.classifier_accuracy(model, tokens, answers) == 1.0


def test_classifiers_give_one_row_of_logits_per_sequence_and_name_a_wrong_cell():
    tokens, _ = _task(5, 6)
    for kind in ("rnn", "lstm", "attention"):
        assert rnn_module.make_classifier(kind, 6, width=8)(tokens).shape == (5, 4)   # (B, n_cues)
    with pytest.raises(ValueError, match='"rnn" or "lstm"'):
        rnn_module.RecurrentClassifier(13, 4, cell="gru")


def test_accuracy_against_distance_short_gaps_are_easy_for_every_model():
    results = rnn_module.accuracy_against_distance([2], steps=150, n_test=300)
    assert set(results) == {"rnn", "lstm", "attention"}
    assert all(accuracies[0] > 0.95 for accuracies in results.values())
