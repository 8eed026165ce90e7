"""Tests of helpers/train.py: data, schedule, checkpoints, resume, DDP, the smoke preset (notebook 09)."""
import dataclasses
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from helpers import train as T

REPO = Path(__file__).resolve().parents[1]


def tiny_config(tmp_path, **overrides):
    settings = dict(max_steps=16, warmup_steps=4, log_interval=1, eval_interval=10_000,
                    final_eval_tokens=1024, out_dir=str(tmp_path), quiet=True, device="cpu")
    return T.config_for("smoke", **{**settings, **overrides})


# ---------------------------------------------------------------------- data and schedule

def test_data_is_small_integers_with_held_out_plays():
    data = T.load_data("char")
    assert data.train.dtype == torch.uint8 and data.validation.dtype == torch.uint8
    assert data.train.ndim == 1 and len(data.train) > 8 * len(data.validation) > 0
    assert int(data.train.max()) < data.vocab_size <= 100
    snippet = data.tokenizer.decode(data.validation[:300].tolist())
    assert data.tokenizer.encode(snippet) == data.validation[:300].tolist()


def test_batches_are_windows_shifted_by_one():
    tokens = torch.arange(100, dtype=torch.int16)
    x, y = T.get_batch(tokens, batch_size=5, context=8, generator=torch.Generator().manual_seed(0))
    assert x.shape == y.shape == (5, 8) and x.dtype == torch.int64
    assert torch.equal(y[:, :-1], x[:, 1:]) and torch.equal(y[:, -1], x[:, -1] + 1)
    with pytest.raises(ValueError, match="too few"):
        T.get_batch(tokens[:8], 2, 8)


def test_evaluation_batches_are_fixed_and_whole():
    tokens = torch.arange(1000)
    first = list(T.evaluation_batches(tokens, 4, 10, 200))
    second = list(T.evaluation_batches(tokens, 4, 10, 200))
    assert all(torch.equal(a[0], b[0]) for a, b in zip(first, second))
    assert all(x.shape == (4, 10) for x, _ in first) and sum(len(x) for x, _ in first) == 20


def test_evaluation_asking_for_more_than_the_text_gets_whole_batches_of_what_there_is():
    tokens = torch.arange(1000)                 # 99 windows of 10 (+1): 24 whole batches of 4
    batches = list(T.evaluation_batches(tokens, 4, 10, 10**6))
    assert all(x.shape == (4, 10) for x, _ in batches) and len(batches) == 24
    assert T.evaluation_windows(1000, 4, 10, 10**6) == 96
    with pytest.raises(ValueError, match="too few for one batch"):
        T.evaluation_windows(30, 4, 10, 100)


def test_learning_rate_warms_up_then_decays_to_the_floor():
    config = T.config_for("cpu", lr=1e-3, warmup_steps=10, min_lr_ratio=0.1)
    assert T.learning_rate(config, 0, 0.0) == pytest.approx(1e-4)
    assert T.learning_rate(config, 9, 0.0) == pytest.approx(1e-3)
    assert T.learning_rate(config, 50, 0.5) == pytest.approx(0.55e-3)
    assert T.learning_rate(config, 99, 1.0) == pytest.approx(1e-4)


def test_unknown_preset_or_setting_is_named():
    with pytest.raises(ValueError, match="choose one of"):
        T.config_for("tpu")
    with pytest.raises(ValueError, match="unknown settings"):
        T.config_for("cpu", learning_rate=1)


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


def test_damaged_foreign_and_mismatched_checkpoints_give_clear_errors(tmp_path, capsys):
    T.train(tiny_config(tmp_path, run_dir=str(tmp_path / "run"), max_steps=2))
    good = (tmp_path / "run" / "checkpoint.pt").read_bytes()
    damaged = tmp_path / "damaged.pt"
    damaged.write_bytes(good[: len(good) // 2])
    with pytest.raises(T.CheckpointError, match="damaged"):
        T.read_checkpoint(damaged)
    foreign = tmp_path / "foreign.pt"
    torch.save({"weights": torch.zeros(3)}, foreign)
    with pytest.raises(T.CheckpointError, match="not written by helpers.train"):
        T.read_checkpoint(foreign)
    with pytest.raises(T.CheckpointError, match="no checkpoint"):
        T.read_checkpoint(tmp_path / "missing.pt")
    with pytest.raises(T.CheckpointError, match="different model"):
        T.train(tiny_config(tmp_path, run_dir=str(tmp_path / "run"), d_model=32), resume=tmp_path / "run")
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


def test_default_run_folders_never_collide(tmp_path, monkeypatch):
    monkeypatch.setattr(T.time, "strftime", lambda _format: "20260101-000000")   # one second for all
    first, second = T.fresh_run_dir(tmp_path, "smoke"), T.fresh_run_dir(tmp_path, "smoke")
    assert first.name == "smoke-20260101-000000" and second.name == "smoke-20260101-000000-2"
    assert first.is_dir() and second.is_dir()                      # each claimed by creating it


def test_settings_that_would_fail_deep_in_a_run_are_refused_at_once():
    for overrides, message in [(dict(device="gpu"), "device must be auto, cpu"),
                               (dict(dtype="bf16"), "dtype must be one of"),
                               (dict(lr="3e-3"), "lr must be a number above 0"),
                               (dict(batch_size=0), "batch_size must be a whole number of at least 1"),
                               (dict(dropout=1.0), "dropout must be"),
                               (dict(compile="yes"), "compile must be one of")]:
        with pytest.raises(ValueError, match=message):
            T.config_for("smoke", **overrides)
    assert T.config_for("smoke", device="cuda:1", dtype="bfloat16", compile="true").device == "cuda:1"
    for overrides, message in [(dict(device="cuda:x"), "device must be"), (dict(batch_size=True), "batch_size"),
                               (dict(d_model=30, n_heads=4), "divisible")]:
        with pytest.raises(ValueError, match=message):
            T.config_for("smoke", **overrides)
    assert T.main(["--preset", "smoke", "--device", "gpu"]) == 2       # the message, not a traceback


def test_numpy_numbers_in_settings_become_plain_ones_a_checkpoint_can_hold(tmp_path):
    import numpy as np
    config = tiny_config(tmp_path, run_dir=str(tmp_path / "run"), max_steps=2, lr=np.logspace(-3, -2, 3)[1],
                         batch_size=np.int64(4))
    assert type(config.lr) is float and type(config.batch_size) is int
    T.train(config)
    assert T.load_model(tmp_path / "run")[2]["train_config"]["batch_size"] == 4   # loads with weights_only


def test_a_pickled_model_and_a_two_dimensional_text_are_explained(tmp_path):
    pickled = tmp_path / "whole_model.pt"
    torch.save(torch.nn.Linear(2, 2), pickled)                   # torch.save(model), not a state dict
    with pytest.raises(T.CheckpointError, match=r"Python objects that a safe load refuses.*torch.save\(model\)") as caught:
        T.read_checkpoint(pickled)
    assert "whole model" in str(caught.value) and "\x1b" not in str(caught.value)   # no terminal colour codes
    noise = tmp_path / "noise.pt"
    noise.write_bytes(b"\x1b[1m not a checkpoint at all \x1b[0m\nsecond line")
    with pytest.raises(T.CheckpointError, match="damaged or not a PyTorch file") as caught:
        T.read_checkpoint(noise)
    assert "\n" not in str(caught.value)                           # one line of the cause, not a page
    with pytest.raises(ValueError, match=r"1-D torch tensor.*got \(1, 100\)"):
        T.get_batch(torch.arange(100)[None], 2, 8)
    with pytest.raises(ValueError, match="got list"):
        T.get_batch(list(range(100)), 2, 8)


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


@pytest.mark.parametrize("capability, dtype, compiled", [
    ((9, 0), "bfloat16", True),      # H100
    ((8, 6), "bfloat16", True),      # RTX 30 series, A10
    ((7, 5), "float16", True),       # T4, RTX 20 series: tensor cores for float16 only
    ((7, 0), "float16", True),       # V100
    ((6, 1), "float32", False),      # GTX 10 series: no tensor cores, too old for Triton
])
def test_auto_precision_and_compile_follow_the_gpu_generation(monkeypatch, capability, dtype, compiled):
    monkeypatch.setattr(T, "choose_device", lambda requested: "cuda")
    monkeypatch.setattr(T, "_cuda_capability", lambda device: capability)
    assert T.resolve(T.config_for("gpu")) == ("cuda", dtype, compiled)


def test_under_torchrun_each_process_takes_the_gpu_of_its_local_rank(monkeypatch):
    monkeypatch.setenv("RANK", "1"), monkeypatch.setenv("WORLD_SIZE", "2"), monkeypatch.setenv("LOCAL_RANK", "1")
    monkeypatch.setattr(T, "_cuda_capability", lambda device: (9, 0))
    monkeypatch.setattr(T, "choose_device", lambda requested: requested if requested != "auto" else "cuda")
    assert T.resolve(T.config_for("gpu"))[0] == "cuda:1"
    assert T.resolve(T.config_for("gpu", device="cpu"))[0] == "cpu"
    for device in ("cuda:0", "mps"):     # every process on one GPU; gloo cannot add up MPS tensors
        with pytest.raises(T.SettingsError, match="LOCAL_RANK"):
            T.resolve(T.config_for("gpu", device=device))


def test_compiling_before_the_clock_does_not_move_the_random_stream(tmp_path, monkeypatch):
    # The warm-up runs a forward and backward with dropout; a resumed run must not draw different
    # masks because of it. (torch.compile itself replaced by the identity: this checks the RNG.)
    monkeypatch.setattr(torch, "compile", lambda model, **kwargs: model)
    trainer = T.Trainer(tiny_config(tmp_path, compile="true", dropout=0.2))
    before = torch.get_rng_state()
    trainer.warm_up()
    assert trainer.compiled and torch.equal(torch.get_rng_state(), before)


def test_timings_on_a_mac_wait_for_its_gpu(monkeypatch):
    calls = []
    monkeypatch.setattr(torch.mps, "synchronize", lambda: calls.append("mps"))
    T.synchronize("mps"), T.synchronize("cpu")
    assert calls == ["mps"]


def test_auto_on_a_cpu_is_float32_uncompiled():
    assert T.resolve(T.config_for("cpu", device="cpu")) == ("cpu", "float32", False)


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
    assert trainer.dtype == T._fast_dtype(capability) and trainer.compiled == (capability >= (7, 0))
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

def test_next_token_probabilities_temperature_and_top_k():
    from helpers.widgets import next_token_probabilities
    logits = [2.0, 1.0, 0.0, -1.0]
    plain = next_token_probabilities(logits)
    assert plain.sum() == pytest.approx(1.0) and plain.argmax() == 0
    assert next_token_probabilities(logits, 0.5)[0] > plain[0] > next_token_probabilities(logits, 2.0)[0]
    kept = next_token_probabilities(logits, top_k=2)
    assert (kept[2:] == 0).all() and kept.sum() == pytest.approx(1.0)
    expected = torch.softmax(torch.tensor(logits) / 0.7, dim=-1).numpy()
    assert next_token_probabilities(logits, 0.7) == pytest.approx(expected, rel=1e-5)
    for settings, message in [((0.0, None), "temperature must be above 0"), ((-1.0, None), "temperature"),
                              ((1.0, 0), "top_k must be"), ((1.0, -1), "top_k must be")]:
        with pytest.raises(ValueError, match=message):        # the same rules as generate
            next_token_probabilities(logits, *settings)
    with pytest.raises(ValueError, match="one row"):
        next_token_probabilities([logits, logits])


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
