"""The exercises of notebook 07: each reference passes, a typical mistake fails with a clear message."""
import torch

from helpers import exercises


def test_references_pass():
    for exercise_id in ("07.layer_norm", "07.split_heads", "07.mlp", "07.block_parameters"):
        assert exercises.check(exercise_id, exercises._get(exercise_id).reference)


def test_typical_mistakes_fail_helpfully(capsys):
    # Unbiased variance (divides by C - 1), the default of torch.var.
    assert not exercises.check("07.layer_norm", lambda x, w, b: (x - x.mean(-1, keepdim=True))
                               / torch.sqrt(x.var(-1, keepdim=True) + 1e-5) * w + b)
    # Reshaping straight to (B, H, T, Dh) mixes tokens and features.
    assert not exercises.check("07.split_heads", lambda x, h: x.reshape(x.shape[0], h, x.shape[1], -1))
    # ReLU instead of GELU.
    assert not exercises.check("07.mlp", lambda x, wu, bu, wd, bd: torch.relu(x @ wu.T + bu) @ wd.T + bd)
    # Forgot the biases and LayerNorms.
    assert not exercises.check("07.block_parameters", lambda d: 12 * d * d)
    out = capsys.readouterr().out
    assert out.count("[not yet]") == 4 and "expected" in out
