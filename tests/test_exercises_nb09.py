"""The exercises of notebook 09_gpt_on_gpu: a typical mistake fails helpfully (that every
reference and revealed solution passes is tested for all notebooks in test_exercises.py)."""
import pytest
import torch

from helpers import exercises


def _windows_not_shifted(tokens, starts, context):
    windows = tokens[starts[:, None] + torch.arange(context)]
    return windows, windows                                   # forgot to move y one token on


@pytest.mark.parametrize("exercise_id, wrong, hint", [
    ("09.make_windows", _windows_not_shifted, "differ"),
    ("09.temperature", lambda logits, t: torch.softmax(logits * t, dim=-1), "differ"),      # multiplied
    ("09.top_k", lambda logits, k: torch.topk(logits, k, dim=-1).values, "expected shape"),  # values only
    ("09.mfu", lambda tps, fpt, peak: tps * fpt / peak, "expected"),                        # TFLOP vs FLOP
])
def test_typical_mistake_fails_with_a_helpful_message(exercise_id, wrong, hint, capsys):
    assert not exercises.check(exercise_id, wrong)
    out = capsys.readouterr().out
    assert "[not yet]" in out and hint in out


def test_live_loss_plot_ends_with_the_final_measurement():
    import matplotlib
    matplotlib.use("Agg")
    from helpers.plots import LiveLossPlot
    live = LiveLossPlot(baseline=4.3, title="test")
    live({"step": 0, "train_loss": 4.3, "val_loss": 4.3})
    live({"step": 50, "train_loss": 3.0})
    history = live.close(final_step=60, final_val_loss=2.9)
    assert [r["step"] for r in history] == [0, 50, 60] and history[-1]["val_loss"] == 2.9
