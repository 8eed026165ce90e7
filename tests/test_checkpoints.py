"""Tests of helpers/checkpoints.py: atomic files, checkpoints, run folders and the log (notebook 09)."""
import dataclasses
import json
from types import SimpleNamespace

import pytest
import torch

from helpers import checkpoints as C
from helpers.model import GPT, GPTConfig
from helpers.text import CharTokenizer


@dataclasses.dataclass
class RunSettings:
    """What a checkpoint keeps of a run's settings (a TrainConfig in real use)."""
    tokens: str = "char"


def tiny_checkpoint(path, d_model=8):
    """A real checkpoint of a tiny GPT, written by save_checkpoint; returns the model."""
    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=5, context=4, n_layers=1, n_heads=1, d_model=d_model))
    C.save_checkpoint(path, model, torch.optim.AdamW(model.parameters()), 3, 1.5, RunSettings(),
                      CharTokenizer.from_text("abcd\n"), torch.Generator().manual_seed(1))
    return model


# ---------------------------------------------------------------------- atomic_write

def test_atomic_write_writes_bytes_and_tensors_and_leaves_no_temporary_file(tmp_path):
    C.atomic_write(tmp_path / "deep" / "a.bin", b"hello")
    C.atomic_write(tmp_path / "t.pt", {"x": torch.arange(3)})
    assert (tmp_path / "deep" / "a.bin").read_bytes() == b"hello"
    assert torch.equal(torch.load(tmp_path / "t.pt", weights_only=True)["x"], torch.arange(3))
    assert not [p for p in tmp_path.rglob("*") if ".tmp" in p.name]


def test_a_write_that_fails_halfway_leaves_the_old_file_whole(tmp_path):
    target = tmp_path / "t.pt"
    C.atomic_write(target, b"the old file")
    with pytest.raises(Exception):
        C.atomic_write(target, {"cannot be saved": lambda: None})     # torch.save refuses a lambda
    assert target.read_bytes() == b"the old file"
    assert not [p for p in tmp_path.iterdir() if ".tmp" in p.name]


# ---------------------------------------------------------------------- checkpoints

def test_a_checkpoint_reads_back_and_restores_weights_step_and_streams(tmp_path):
    model = tiny_checkpoint(tmp_path / "checkpoint.pt")
    state = C.read_checkpoint(tmp_path)                                   # the folder works too
    assert state["step"] == 3 and state["vocab"] == list("\nabcd") and state["loss_scaler"] is None
    fresh = GPT(GPTConfig(vocab_size=5, context=4, n_layers=1, n_heads=1, d_model=8))
    generator = torch.Generator()
    scaler = torch.amp.GradScaler("cpu", enabled=False)
    step, seconds = C.restore_checkpoint(state, fresh, torch.optim.AdamW(fresh.parameters()), scaler,
                                         generator, "cpu")
    assert (step, seconds) == (3, 1.5)
    assert all(torch.equal(a, b) for a, b in zip(fresh.parameters(), model.parameters()))
    assert torch.equal(generator.get_state(), torch.Generator().manual_seed(1).get_state())


def test_a_checkpoint_of_another_model_is_refused(tmp_path):
    tiny_checkpoint(tmp_path / "checkpoint.pt", d_model=8)
    other = GPT(GPTConfig(vocab_size=5, context=4, n_layers=1, n_heads=1, d_model=4))
    with pytest.raises(C.CheckpointError, match="different model"):
        C.restore_checkpoint(C.read_checkpoint(tmp_path), other, None, None, torch.Generator(), "cpu")


def test_damaged_foreign_missing_and_pickled_files_give_clear_errors(tmp_path):
    tiny_checkpoint(tmp_path / "checkpoint.pt")
    good = (tmp_path / "checkpoint.pt").read_bytes()
    (tmp_path / "damaged.pt").write_bytes(good[: len(good) // 2])
    with pytest.raises(C.CheckpointError, match="damaged"):
        C.read_checkpoint(tmp_path / "damaged.pt")
    torch.save({"weights": torch.zeros(3)}, tmp_path / "foreign.pt")
    with pytest.raises(C.CheckpointError, match="not written by helpers.train"):
        C.read_checkpoint(tmp_path / "foreign.pt")
    with pytest.raises(C.CheckpointError, match="no checkpoint"):
        C.read_checkpoint(tmp_path / "missing.pt")
    torch.save(torch.nn.Linear(2, 2), tmp_path / "whole_model.pt")       # torch.save(model), not a state dict
    with pytest.raises(C.CheckpointError, match=r"Python objects that a safe load refuses.*torch.save\(model\)"):
        C.read_checkpoint(tmp_path / "whole_model.pt")
    (tmp_path / "noise.pt").write_bytes(b"\x1b[1m not a checkpoint at all \x1b[0m\nsecond line")
    with pytest.raises(C.CheckpointError, match="damaged or not a PyTorch file") as caught:
        C.read_checkpoint(tmp_path / "noise.pt")
    assert "\n" not in str(caught.value)                           # one line of the cause, not a page


# ---------------------------------------------------------------------- run folders and the log

def test_default_run_folders_never_collide(tmp_path, monkeypatch):
    monkeypatch.setattr(C.time, "strftime", lambda _format: "20260101-000000")   # one second for all
    first, second = C.fresh_run_dir(tmp_path, "smoke"), C.fresh_run_dir(tmp_path, "smoke")
    assert first.name == "smoke-20260101-000000" and second.name == "smoke-20260101-000000-2"
    assert first.is_dir() and second.is_dir()                      # each claimed by creating it


def test_a_folder_with_a_checkpoint_is_only_used_to_resume_it(tmp_path):
    tiny_checkpoint(tmp_path / "run" / "checkpoint.pt")
    settings = SimpleNamespace(run_dir=str(tmp_path / "run"), out_dir=str(tmp_path), preset="smoke")
    with pytest.raises(C.CheckpointError, match="already holds a run's checkpoint.*--resume"):
        C.choose_run_dir(settings, resume=None, claim=True)
    assert C.choose_run_dir(settings, resume=tmp_path / "run", claim=True) == tmp_path / "run"


def test_the_log_writes_json_lines_a_progress_line_and_calls_back(tmp_path, capsys):
    seen = []
    log = C.Logger(tmp_path, callback=seen.append)
    record = {"step": 10, "train_loss": 2.5, "val_loss": 2.61, "tokens_per_s": 12345.6, "lr": 1e-3,
              "train_seconds": 3.21}
    log(record)
    assert json.loads((tmp_path / "log.jsonl").read_text()) == record and seen == [record]
    assert capsys.readouterr().out.strip() == (
        "step     10 | loss 2.5000 | val 2.6100 | 12,346 tokens/s | lr 1.00e-03 | 3.2 s")
    C.Logger(tmp_path / "other", enabled=False)(record)            # a rank other than 0 writes nothing
    assert not (tmp_path / "other").exists()


def test_a_log_window_counts_its_own_seconds_on_top_of_the_earlier_ones():
    window = C.LogWindow(seconds_before=10.0)
    window.losses.append(torch.tensor(1.0))
    total = window.read_clock()
    assert total == 10.0 + window.elapsed and 0 <= window.elapsed < 5
