"""The exercises of notebook 07: each reference passes, a typical mistake fails with a clear message."""
import math

import pytest
import torch
import torch.nn.functional as F

from helpers import exercises
from helpers.exercises import _get, nb07_block


def test_references_pass():
    for exercise_id in ("07.layer_norm", "07.gelu_backward", "07.post_norm_block", "07.gpt_parameters"):
        assert exercises.check(exercise_id, exercises._get(exercise_id).reference)


def test_typical_mistakes_fail_helpfully(capsys):
    # Unbiased variance (divides by C - 1), the default of torch.var.
    assert not exercises.check("07.layer_norm", lambda x, w, b: (x - x.mean(-1, keepdim=True))
                               / torch.sqrt(x.var(-1, keepdim=True) + 1e-5) * w + b)
    # GELU's slope without the product rule's second term.
    assert not exercises.check("07.gelu_backward", lambda x, g: g * 0.5 * (1 + torch.erf(x / 2 ** 0.5)))
    # The pre-norm block (helpers.model.Block itself) is not the post-norm one.
    assert not exercises.check("07.post_norm_block", lambda block, x: block(x))
    # Counted the output head as well, forgetting the weight tying.
    assert not exercises.check("07.gpt_parameters", lambda v, t, c, n: 2 * v * c + t * c + n * (12 * c * c + 13 * c) + 2 * c)
    # Gave the tied output head a bias of its own (V numbers): the notebook says it has none.
    assert not exercises.check("07.gpt_parameters", lambda v, t, c, n: v * c + t * c + n * (12 * c * c + 13 * c) + 2 * c + v)
    out = capsys.readouterr().out
    assert out.count("[not yet]") == 5 and "expected" in out


def test_gpt_parameters_equals_the_gpt_of_notebook_09():
    from helpers.model import GPT, GPTConfig, count_parameters
    reference = exercises._get("07.gpt_parameters").reference
    for vocab, context, width, layers, heads in ((65, 32, 48, 2, 3), (500, 64, 64, 3, 4)):
        config = GPTConfig(vocab_size=vocab, context=context, d_model=width, n_layers=layers, n_heads=heads)
        assert reference(vocab, context, width, layers) == count_parameters(GPT(config))


@pytest.mark.parametrize("seed", range(5))
def test_gelu_backward_reference_equals_autograd(seed):
    x, g = _get("07.gelu_backward").make_inputs(__import__("numpy").random.default_rng(seed))
    x_t = x.double().requires_grad_(True)
    F.gelu(x_t).backward(g.double())
    assert torch.allclose(_get("07.gelu_backward").reference(x.double(), g.double()), x_t.grad, atol=1e-12)


@pytest.mark.parametrize("wrong, hint", [
    (lambda x, g: g * 0.5 * (1 + torch.erf(x / 2 ** 0.5)), "only Phi(x)"),
    (lambda x, g: g * x * torch.exp(-x ** 2 / 2) / math.sqrt(2 * math.pi), "only x * phi(x)"),
    (lambda x, g: nb07_block._gelu_backward(x, torch.ones_like(g)), "multiplies it by grad_y"),
    (nb07_block._gelu_backward_of_the_tanh_form, "tanh approximation"),
])
def test_gelu_backward_mistakes_get_their_hint(wrong, hint, capsys):
    assert not exercises.check("07.gelu_backward", wrong)
    out = capsys.readouterr().out
    assert "[not yet]" in out and "hint:" in out and hint in out
