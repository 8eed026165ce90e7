"""What a training run keeps on disk: files written atomically, the run's folder, its log and its
checkpoints (notebook 09_gpt_on_gpu).

Each run writes to its own folder: `log.jsonl` (one JSON object per log line), `checkpoint.pt` and
`summary.json`. Every file here, and the course's cached corpus (helpers/text.py), goes through
one writer, `atomic_write`: a crash leaves the old file or the new one, never half of one. A new
run never replaces an earlier run's checkpoint; given a folder that holds one, it stops and says
how to resume it instead. This module sits at the bottom of the package: it imports no other
helper.
"""
import dataclasses
import json
import os
import pickle
import time
import zipfile
from pathlib import Path

import torch

CHECKPOINT_KIND = "helpers.train checkpoint"
CHECKPOINT_VERSION = 1


class CheckpointError(RuntimeError):
    """A checkpoint that cannot be used: damaged, foreign, or made for a different model."""


def atomic_write(path, content):
    """Write content (bytes, or anything torch.save writes) to path, all or nothing.

    It goes to a temporary file next to the target, reaches the disk, then is renamed over the
    target: a rename within one folder is atomic, so a reader sees the old file or the new one.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + f".tmp{os.getpid()}")
    try:
        with open(temporary, "wb") as file:
            if isinstance(content, bytes):
                file.write(content)
            else:
                torch.save(content, file)
            file.flush()
            os.fsync(file.fileno())          # on disk before the rename, even if the machine stops
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


# ====================================================================== checkpoints

def save_checkpoint(path, model, optimizer, step, train_seconds, config, tokenizer, generator, scaler=None):
    """Everything a run needs to continue exactly: weights, optimizer (and float16's loss scale),
    step, settings (config: a TrainConfig), vocabulary, random states."""
    state = {
        "kind": CHECKPOINT_KIND, "version": CHECKPOINT_VERSION,
        "model": model.state_dict(), "optimizer": optimizer.state_dict() if optimizer else None,
        "loss_scaler": scaler.state_dict() if scaler is not None and scaler.is_enabled() else None,
        "step": step, "train_seconds": train_seconds,
        "model_config": dataclasses.asdict(model.config), "train_config": dataclasses.asdict(config),
        "vocab": list(tokenizer.vocab), "tokens": config.tokens,
        "rng": {"torch": torch.get_rng_state(), "batches": generator.get_state(),
                "cuda": _cuda_rng_state(next(model.parameters()).device)},
    }
    atomic_write(path, state)


def _cuda_rng_state(device):
    """The random state of the GPU the model is on (dropout draws from it); None off CUDA."""
    return torch.cuda.get_rng_state(device) if device.type == "cuda" else None


def read_checkpoint(path):
    """The checkpoint's dict (path: the file or its run folder), loaded safely (weights_only=True);
    a CheckpointError that says why when it cannot be used."""
    path = Path(path)
    if path.is_dir():
        path = path / "checkpoint.pt"
    if not path.exists():
        raise CheckpointError(f"no checkpoint at {path}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # truncated zip, random bytes, pickled code weights_only refuses...
        raise _unreadable(path, err) from None
    if not isinstance(state, dict) or state.get("kind") != CHECKPOINT_KIND:
        keys = sorted(state)[:8] if isinstance(state, dict) else type(state).__name__
        raise CheckpointError(f"{path} was not written by helpers.train (expected a dict with "
                              f"kind={CHECKPOINT_KIND!r}; found {keys})")
    if state.get("version") != CHECKPOINT_VERSION:
        raise CheckpointError(f"{path} has checkpoint version {state.get('version')}, "
                              f"this code reads version {CHECKPOINT_VERSION}")
    return state


def _unreadable(path, err):
    """The CheckpointError for a file torch.load could not read: pickled code, or damage."""
    if isinstance(err, pickle.UnpicklingError) and zipfile.is_zipfile(path):   # torch.save's format
        return CheckpointError(f"{path} holds Python objects that a safe load refuses (a whole model saved "
                               "with torch.save(model), for example): unpickling them could run code. "
                               "helpers.train reads the checkpoints it writes itself.")
    first_line = str(err).splitlines()[0][:200] if str(err) else ""     # one line, not a page
    return CheckpointError(f"{path} could not be read as a checkpoint: it is damaged or not a "
                           f"PyTorch file ({type(err).__name__}: {first_line})")


# ====================================================================== the run's folder and log

def fresh_run_dir(out_dir, preset, claim=True):
    """out_dir/<preset>-<date>-<time>, with -2, -3... added if a run started in the same second.
    claim=True creates it (mkdir fails if another process made it first: then the next name)."""
    base = Path(out_dir) / f"{preset}-{time.strftime('%Y%m%d-%H%M%S')}"
    for number in range(1, 1000):
        candidate = base if number == 1 else base.with_name(f"{base.name}-{number}")
        if not claim:
            return candidate
        try:
            candidate.mkdir(parents=True, exist_ok=False)
            return candidate
        except FileExistsError:
            continue
    raise RuntimeError(f"could not find a free run folder next to {base}")


def choose_run_dir(config, resume, claim):
    """The run's folder, and a CheckpointError before anything happens if training there would
    replace a checkpoint the learner saved (resuming writes only into the folder it resumes)."""
    if not config.run_dir:
        return fresh_run_dir(config.out_dir, config.preset, claim)   # only rank 0 claims (and writes)
    run_dir = Path(config.run_dir)
    resumed = resume is not None and Path(resume).resolve() in (run_dir.resolve(), (run_dir / "checkpoint.pt").resolve())
    if (run_dir / "checkpoint.pt").exists() and not resumed:
        raise CheckpointError(f"{run_dir} already holds a run's checkpoint, and this run would replace it. "
                              f"To continue that run: --resume {run_dir} (in Python: train(config, "
                              f"resume={str(run_dir)!r})); for a new run choose another run_dir, or leave "
                              "run_dir unset for a fresh folder.")
    return run_dir


@dataclasses.dataclass
class LogWindow:
    """The steps since the last log line: their losses, and the training clock since they began.

    A window opens after a log line (and its evaluation) and closes at the next one, so the
    training time counts training steps only.
    """
    seconds_before: float                    # training seconds when the window opened
    opened: float = dataclasses.field(default_factory=time.perf_counter)
    losses: list = dataclasses.field(default_factory=list)    # one loss tensor per step
    elapsed: float = 0.0                     # seconds from the opening to the last clock reading

    def read_clock(self):
        """Training seconds up to now (wait for the GPU first, or the clock runs ahead of it)."""
        self.elapsed = time.perf_counter() - self.opened
        return self.seconds_before + self.elapsed


class Logger:
    """Progress lines on the screen, one JSON object per line in run_dir/log.jsonl, a callback."""

    def __init__(self, run_dir, quiet=False, callback=None, enabled=True):
        self.path = Path(run_dir) / "log.jsonl" if enabled else None
        self.quiet, self.callback, self.enabled = quiet, callback, enabled

    def __call__(self, record):
        if not self.enabled:
            return
        with open(self.path, "a", encoding="utf-8") as file:
            file.write(json.dumps(record) + "\n")
        if not self.quiet:
            print(progress_line(record), flush=True)
        if self.callback is not None:
            self.callback(record)


def progress_line(record):
    """One log record as a line a person reads: 'step  100 | loss 2.5000 | ... | 3.2 s'."""
    parts = [f"step {record['step']:>6}"]
    if "train_loss" in record:
        parts.append(f"loss {record['train_loss']:.4f}")
    if "val_loss" in record:
        parts.append(f"val {record['val_loss']:.4f}")
    if "tokens_per_s" in record:
        parts.append(f"{record['tokens_per_s']:,.0f} tokens/s")
    if "lr" in record:
        parts.append(f"lr {record['lr']:.2e}")
    parts.append(f"{record['train_seconds']:.1f} s")
    return " | ".join(parts)


def restore_checkpoint(state, model, optimizer, scaler, generator, device, rank=0, seed=0):
    """Put a checkpoint's state (from read_checkpoint) back into a freshly built run: weights,
    optimizer, float16's loss scale and random streams. Returns (step, train_seconds).

    Only rank 0's random streams are saved; under torchrun every other process starts streams it
    has not drawn from before, from its seed, its rank and the step.
    """
    mine = dataclasses.asdict(model.config)
    if state["model_config"] != mine:
        raise CheckpointError(f"the checkpoint holds a different model: {state['model_config']}, "
                              f"but these settings build {mine}")
    model.load_state_dict(state["model"])
    if state["optimizer"] is not None:
        optimizer.load_state_dict(state["optimizer"])
    if state.get("loss_scaler") and scaler.is_enabled():
        scaler.load_state_dict(state["loss_scaler"])
    torch.set_rng_state(state["rng"]["torch"])
    if rank == 0:
        generator.set_state(state["rng"]["batches"])
        if state["rng"]["cuda"] is not None and device.startswith("cuda"):
            torch.cuda.set_rng_state(state["rng"]["cuda"], torch.device(device))
    else:
        fresh = seed + 1000 * rank + 1_000_003 * state["step"]
        generator.manual_seed(fresh)
        torch.manual_seed(fresh)
    return state["step"], state["train_seconds"]
