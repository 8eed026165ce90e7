"""The exercises of notebook 07: each reference passes, a typical mistake fails with a clear message."""
import torch

from helpers import exercises


def test_references_pass():
    for exercise_id in ("07.layer_norm", "07.split_heads", "07.post_norm_block", "07.gpt_parameters"):
        assert exercises.check(exercise_id, exercises._get(exercise_id).reference)


def test_typical_mistakes_fail_helpfully(capsys):
    # Unbiased variance (divides by C - 1), the default of torch.var.
    assert not exercises.check("07.layer_norm", lambda x, w, b: (x - x.mean(-1, keepdim=True))
                               / torch.sqrt(x.var(-1, keepdim=True) + 1e-5) * w + b)
    # Reshaping straight to (B, H, T, Dh) mixes tokens and features.
    assert not exercises.check("07.split_heads", lambda x, h: x.reshape(x.shape[0], h, x.shape[1], -1))
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
