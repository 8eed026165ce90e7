"""Tests of helpers/train.py: schedule, the loop, resume, DDP, the CLI, the smoke preset (notebook 09)."""
import dataclasses
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from helpers import text, train as T
from helpers.hardware import fast_dtype

REPO = Path(__file__).resolve().parents[1]


def tiny_config(tmp_path, **overrides):
    settings = dict(max_steps=16, warmup_steps=4, log_interval=1, eval_interval=10_000,
                    final_eval_tokens=1024, out_dir=str(tmp_path), quiet=True, device="cpu")
    return T.config_for("smoke", **{**settings, **overrides})


# ---------------------------------------------------------------------- data and schedule

def test_the_names_notebook_09_imports_are_still_here_after_the_split():
    # The loop's pieces moved to their own modules (text, hardware, checkpoints); notebook 09 and
    # older code import them from helpers.train, so they stay importable from here, the same objects.
    for name in ("get_batch", "learning_rate", "make_optimizer", "load_data", "config_for", "TrainConfig",
                 "train", "Trainer", "load_model", "evaluate", "choose_device", "CheckpointError",
                 "SettingsError", "device_name", "resolve", "synchronize", "add_setting_flags", "PRESETS"):
        assert hasattr(T, name), name
    assert T.get_batch is text.get_batch and T.load_data is text.load_token_ids


def test_data_is_small_integers_with_held_out_plays():
    data = T.load_data("char")
    assert data.train.dtype == torch.uint8 and data.validation.dtype == torch.uint8
    assert data.train.ndim == 1 and len(data.train) > 8 * len(data.validation) > 0
    assert int(data.train.max()) < data.vocab_size <= 100
    snippet = data.tokenizer.decode(data.validation[:300].tolist())
    assert data.tokenizer.encode(snippet) == data.validation[:300].tolist()


def test_learning_rate_warms_up_then_decays_to_the_floor():
    config = T.config_for("cpu", lr=1e-3, warmup_steps=10, min_lr_ratio=0.1)
    assert T.learning_rate(config, 0, 0.0) == pytest.approx(1e-4)
    assert T.learning_rate(config, 9, 0.0) == pytest.approx(1e-3)
    assert T.learning_rate(config, 50, 0.5) == pytest.approx(0.55e-3)
    assert T.learning_rate(config, 99, 1.0) == pytest.approx(1e-4)


# ---------------------------------------------------------------------- training and resuming

def test_resumed_run_continues_the_same_loss_curve(tmp_path):
    T.train(tiny_config(tmp_path, run_dir=str(tmp_path / "whole")))
    read = lambda d: [json.loads(line)["train_loss"] for line in (tmp_path / d / "log.jsonl").read_text().splitlines()]
    first, _ = T.train(tiny_config(tmp_path, run_dir=str(tmp_path / "split"), stop_after=8))
    assert first.step == 8
    second, summary = T.train(tiny_config(tmp_path, run_dir=str(tmp_path / "split")), resume=tmp_path / "split")
    assert summary["steps"] == 16 and summary["steps_this_call"] == 8
    whole_losses, split_losses = read("whole"), read("split")
    assert len(whole_losses) == len(split_losses) == 16
    assert split_losses == pytest.approx(whole_losses, rel=1e-6)
    assert whole_losses[-1] < whole_losses[0] - 0.3          # it learned something


def test_checkpoint_reloads_to_the_same_outputs(tmp_path):
    trainer, _ = T.train(tiny_config(tmp_path, run_dir=str(tmp_path / "run"), max_steps=3))
    model, tokenizer, state = T.load_model(tmp_path / "run")
    x = torch.randint(0, len(tokenizer), (2, 16))
    trainer.model.eval()
    assert torch.equal(model(x)[0], trainer.model(x)[0])
    assert state["step"] == 3 and state["train_config"]["preset"] == "smoke"
    assert not list((tmp_path / "run").glob("*.tmp*"))       # the temporary file was renamed away


def test_a_mismatched_or_damaged_checkpoint_stops_the_run_with_a_message(tmp_path, capsys):
    # (the kinds of unusable file and their messages: tests/test_checkpoints.py)
    T.train(tiny_config(tmp_path, run_dir=str(tmp_path / "run"), max_steps=2))
    with pytest.raises(T.CheckpointError, match="different model"):
        T.train(tiny_config(tmp_path, run_dir=str(tmp_path / "run"), d_model=32), resume=tmp_path / "run")
    good = (tmp_path / "run" / "checkpoint.pt").read_bytes()
    damaged = tmp_path / "damaged.pt"
    damaged.write_bytes(good[: len(good) // 2])
    assert T.main(["--resume", str(damaged)]) == 2                 # the CLI says so and stops
    assert "damaged" in capsys.readouterr().err


def test_a_new_run_never_replaces_an_earlier_runs_checkpoint(tmp_path):
    T.train(tiny_config(tmp_path, run_dir=str(tmp_path / "run"), max_steps=3))
    saved = (tmp_path / "run" / "checkpoint.pt").read_bytes()
    with pytest.raises(T.CheckpointError, match="already holds a run's checkpoint.*--resume"):
        T.Trainer(tiny_config(tmp_path, run_dir=str(tmp_path / "run")))
    assert (tmp_path / "run" / "checkpoint.pt").read_bytes() == saved            # untouched
    assert T.main(["--preset", "smoke", "--device", "cpu", "--run-dir", str(tmp_path / "run"), "--quiet"]) == 2
    T.train(tiny_config(tmp_path, run_dir=str(tmp_path / "other"), max_steps=2))
    other = (tmp_path / "other" / "checkpoint.pt").read_bytes()
    with pytest.raises(T.CheckpointError, match="already holds"):   # resuming one run into another's folder
        T.Trainer(tiny_config(tmp_path, run_dir=str(tmp_path / "other")), resume=tmp_path / "run")
    assert (tmp_path / "other" / "checkpoint.pt").read_bytes() == other
    rng_before = torch.get_rng_state()
    with pytest.raises(T.CheckpointError):
        T.Trainer(tiny_config(tmp_path, run_dir=str(tmp_path / "run"), seed=123))
    assert torch.equal(torch.get_rng_state(), rng_before)           # refused before seeding anything


def test_a_bad_setting_on_the_command_line_is_a_message_not_a_traceback():
    assert T.main(["--preset", "smoke", "--device", "gpu"]) == 2


def test_numpy_numbers_in_settings_become_plain_ones_a_checkpoint_can_hold(tmp_path):
    import numpy as np
    config = tiny_config(tmp_path, run_dir=str(tmp_path / "run"), max_steps=2, lr=np.logspace(-3, -2, 3)[1],
                         batch_size=np.int64(4))
    assert type(config.lr) is float and type(config.batch_size) is int
    T.train(config)
    assert T.load_model(tmp_path / "run")[2]["train_config"]["batch_size"] == 4   # loads with weights_only


# ---------------------------------------------------------------------- command line, DDP, GPU

def _run(args, tmp_path, timeout=120):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    return subprocess.run([sys.executable, *args], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=timeout)


def test_smoke_preset_runs_from_the_command_line(tmp_path):
    done = _run(["-m", "helpers.train", "--preset", "smoke", "--out-dir", str(tmp_path), "--device", "cpu"],
                tmp_path)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["steps"] == T.PRESETS["smoke"]["max_steps"]
    assert summary["final_val_loss"] < math.log(70) - 1.0           # well under a uniform guess
    assert summary["final_val_tokens"] == T.PRESETS["smoke"]["final_eval_tokens"]   # 16 whole batches of 16 x 32
    run_dir = Path(summary["run_dir"])
    assert {"log.jsonl", "checkpoint.pt", "summary.json"} <= {p.name for p in run_dir.iterdir()}


def test_two_process_ddp_on_cpu_keeps_ranks_equal(tmp_path):
    done = _run(["-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                 "-m", "helpers.train", "--preset", "smoke", "--device", "cpu", "--max-steps", "8", "--log-interval", "4",
                 "--final-eval-tokens", "1024", "--run-dir", str(tmp_path / "ddp"), "--quiet"], tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads((tmp_path / "ddp" / "summary.json").read_text())
    assert summary["world_size"] == 2 and summary["steps"] == 8
    rank0, rank1 = summary["rank_weight_sums"]
    assert rank0 == rank1                                            # the same weights, to the bit
    losses = [json.loads(line)["train_loss"] for line in (tmp_path / "ddp" / "log.jsonl").read_text().splitlines()]
    assert summary["final_val_loss"] < math.log(70) - 0.3 and len(losses) == 2


def test_bf16_autocast_path_learns_on_a_cpu_too(tmp_path):
    # The GPU preset trains under bf16 autocast; CI has no GPU, so the trainer's bf16 branch runs here
    # under CPU autocast (its list of bf16 ops differs from CUDA's, and nothing is compiled):
    # weights stay float32, the loss falls as in float32.
    config = T.config_for("smoke", device="cpu", dtype="bfloat16", max_steps=30, log_interval=10,
                          final_eval_tokens=2048, out_dir=str(tmp_path), quiet=True)
    trainer, summary = T.train(config)
    assert trainer.dtype == "bfloat16" and summary["dtype"] == "bfloat16"
    assert all(p.dtype == torch.float32 for p in trainer.model.parameters())
    assert summary["final_val_loss"] < math.log(trainer.data.vocab_size) - 0.8


def test_compiling_before_the_clock_does_not_move_the_random_stream(tmp_path, monkeypatch):
    # The warm-up runs a forward and backward with dropout; a resumed run must not draw different
    # masks because of it. (torch.compile itself replaced by the identity: this checks the RNG.)
    monkeypatch.setattr(torch, "compile", lambda model, **kwargs: model)
    trainer = T.Trainer(tiny_config(tmp_path, compile="true", dropout=0.2))
    before = torch.get_rng_state()
    trainer.warm_up()
    assert trainer.compiled and torch.equal(torch.get_rng_state(), before)


def test_float16_trains_with_a_loss_scaler_that_a_resumed_run_keeps(tmp_path):
    # float16 (a V100 or T4 GPU) needs the loss scaled; CPU autocast runs the same trainer branch.
    config = tiny_config(tmp_path, dtype="float16", run_dir=str(tmp_path / "run"))
    first, _ = T.train(dataclasses.replace(config, stop_after=8))
    assert first.loss_scaler.is_enabled() and first.loss_scaler.get_scale() > 1
    first.loss_scaler.update(1024.0)                # a scale a fresh scaler would not have (65536)...
    first.save()
    second, summary = T.train(config, resume=tmp_path / "run")
    assert second.loss_scaler.get_scale() == 1024.0   # ...read back (it grows only after 2,000 clean steps)
    losses = [json.loads(line)["train_loss"] for line in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert summary["steps"] == 16 and summary["dtype"] == "float16"
    assert all(p.dtype == torch.float32 for p in second.model.parameters())   # weights stay float32
    assert losses[-1] < losses[0] - 0.3


def test_float32_and_bf16_have_no_loss_scale_in_the_checkpoint(tmp_path):
    trainer, _ = T.train(tiny_config(tmp_path, run_dir=str(tmp_path / "run"), max_steps=2))
    assert not trainer.loss_scaler.is_enabled()
    assert T.read_checkpoint(tmp_path / "run")["loss_scaler"] is None


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_gpu_bf16_compiled_training_learns(tmp_path):
    config = T.config_for("smoke", out_dir=str(tmp_path), quiet=True, max_steps=60, log_interval=10,
                          compile="auto", dtype="auto")
    trainer, summary = T.train(config)
    capability = torch.cuda.get_device_capability()
    assert trainer.dtype == fast_dtype(capability) and trainer.compiled == (capability >= (7, 0))
    assert summary["final_val_loss"] < math.log(70) - 1.0


def test_gpu_preset_builds_its_model_and_trains_on_a_cpu_too(tmp_path):
    # No GPU in CI: this runs the gpu preset's model (6 x 384, context 256, dropout) through the
    # same trainer on a CPU, with a tiny batch, so a mistake in the preset shows up here too.
    config = T.config_for("gpu", device="cpu", batch_size=2, max_steps=3, time_budget=None, warmup_steps=1,
                          log_interval=1, eval_interval=10_000, final_eval_tokens=2 * 2 * 256,
                          out_dir=str(tmp_path), quiet=True)
    trainer, summary = T.train(config)
    assert 10.0e6 < summary["parameters"] < 11.0e6                   # "about 10M parameters"
    assert trainer.model.config.context == 256 and len(trainer.model.blocks) == 6
    assert summary["steps"] == 3 and summary["final_val_tokens"] == 2 * 2 * 256
    assert math.isfinite(summary["final_val_loss"]) and summary["dtype"] == "float32"


# ---------------------------------------------------------------------- notebook 09's widget and plots

def test_sampling_view_is_seeded_and_plots_draw(tmp_path):
    import matplotlib
    matplotlib.use("Agg")
    from helpers.model import GPT, GPTConfig
    from helpers.plots import loss_curves, next_token_bars
    from helpers.text import CharTokenizer
    from helpers.widgets import sampling_view, show_token
    tokenizer = CharTokenizer.from_text("abc \n")
    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=len(tokenizer), context=8, n_layers=1, n_heads=1, d_model=8))
    labels, probs, text = sampling_view(model, tokenizer, "ab", temperature=0.8, top_k=3, n_new=20, n_bars=4)
    assert len(labels) == 4 and probs[0] >= probs[-1] and len(text) == 20 and set(text) <= set("abc \n")
    assert sampling_view(model, tokenizer, "ab", 0.8, 3, n_new=20, n_bars=4)[2] == text
    with pytest.raises(ValueError, match="gives no tokens"):
        sampling_view(model, tokenizer, "")
    assert show_token(" \n") == "␣⏎"
    next_token_bars(labels, probs, title="test")
    loss_curves([{"step": 1, "train_loss": 3.0}, {"step": 2, "train_loss": 2.5, "val_loss": 2.6}])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc settings exist on Linux only")
def test_cpu_training_steps_reuse_memory_instead_of_faulting_in_fresh_pages(tmp_path):
    # Without reuse_freed_memory, each cpu-preset step takes hundreds to thousands of page
    # faults (its activations go back to the kernel and come again zeroed); with it, a handful.
    import resource
    trainer = T.Trainer(T.config_for("cpu", out_dir=str(tmp_path), quiet=True, batch_size=4))
    lr = T.learning_rate(trainer.config, 100, 0.0)
    for _ in range(5):                                    # the heap grows to its working size
        trainer.train_step(lr)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(10):
        trainer.train_step(lr)
    faults_per_step = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 10
    assert faults_per_step < 60, f"{faults_per_step:.0f} page faults a step"


def test_help_names_every_setting_with_what_it_is_and_the_presets_values():
    text = " ".join(T.build_parser().format_help().split())
    for field in dataclasses.fields(T.TrainConfig):
        if field.name != "preset":
            assert f"--{field.name.replace('_', '-')}" in text and field.metadata["help"] in text
    assert "--batch-size BATCH_SIZE windows per step" in text and "(smoke 16, cpu 12, gpu 128)" in text
    assert "(every preset: 0.99)" in text          # beta2: no preset changes it


def test_running_out_of_memory_names_the_settings_to_change(tmp_path, monkeypatch, capsys):
    def too_big(self, lr):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")
    monkeypatch.setattr(T.Trainer, "train_step", too_big)
    with pytest.raises(T.SettingsError, match=r"ran out of memory .* batch_size 16 x context 32 .* --batch-size 8"):
        T.train(tiny_config(tmp_path))
    assert T.main(["--preset", "smoke", "--device", "cpu", "--out-dir", str(tmp_path), "--quiet"]) == 2
    assert "try --batch-size 8" in capsys.readouterr().err       # the CLI: the message, no traceback
