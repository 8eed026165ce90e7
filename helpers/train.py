"""Training the GPT of notebook 09_gpt_on_gpu, from a laptop's CPU to one or several GPUs.

    python -m helpers.train --preset smoke            # a few seconds: does everything work?
    python -m helpers.train --preset cpu              # 60 s on a CPU: validation loss near 1.9
    python -m helpers.train --preset gpu              # 60 s on an H100: bf16, torch.compile
    python -m helpers.train --preset cpu --lr 2e-3 --batch-size 32     # any setting, overridden
    python -m helpers.train --resume runs/cpu-20261123-101500          # carry on where it stopped
    torchrun --nproc_per_node 4 -m helpers.train --preset gpu          # several GPUs (DDP)

What happens, in order: the plays are encoded once into a small tensor of token ids (cached);
each step takes random windows of it as a batch; the model predicts every next token; AdamW
steps against the gradient with a warm-up then a cosine decay of the learning rate; now and then
the loss is measured on plays the model never trains on. Each run writes to its own folder
(`runs/` by default): `log.jsonl` (one JSON object per log line), `checkpoint.pt` (written
atomically) and `summary.json`. A new run never replaces an earlier run's checkpoint: given a
folder that holds one, it stops and says how to resume it instead.

`train(config)` is the same loop as a function; the notebook calls it with a callback that
draws the loss as it falls. Built in notebook 09_gpt_on_gpu.
"""
import argparse
import contextlib
import ctypes
import dataclasses
import hashlib
import json
import math
import numbers
import os
import pickle
import re
import sys
import time
import zipfile
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from helpers import match_threads_to_cpus
from helpers.model import GPT, GPTConfig

CHECKPOINT_KIND = "helpers.train checkpoint"
CHECKPOINT_VERSION = 1


# ====================================================================== settings

def _setting(default, meaning):
    """A TrainConfig field with what it means (the CLI's --help shows it)."""
    return dataclasses.field(default=default, metadata={"help": meaning})


@dataclasses.dataclass
class TrainConfig:
    """Every setting of a run. A preset fills them; the command line overrides any of them."""
    preset: str = "cpu"
    tokens: str = _setting("char", "char (one token per character) or word (the word tokenizer of notebook 02)")
    max_words: int = _setting(8000, "word tokens only: the vocabulary's size, besides <unk>")
    # the model
    n_layers: int = _setting(4, "Transformer blocks")
    n_heads: int = _setting(4, "attention heads per block (must divide d-model)")
    d_model: int = _setting(128, "width of every token's vector")
    context: int = _setting(64, "tokens the model sees at once")
    dropout: float = _setting(0.0, "share of activations zeroed while training, in [0, 1)")
    # the optimisation
    batch_size: int = _setting(12, "windows per step (a step trains on batch-size x context tokens)")
    lr: float = _setting(1e-3, "peak learning rate")
    min_lr_ratio: float = _setting(0.1, "the cosine decay ends at lr x this")
    warmup_steps: int = _setting(100, "steps of linear warm-up")
    weight_decay: float = _setting(0.1, "AdamW's, on matrices only")
    beta2: float = _setting(0.99, "AdamW's second-moment decay")
    grad_clip: float = _setting(1.0, "largest gradient norm (0: no clipping)")
    # how long: whichever comes first (time counts training steps only, not evaluation)
    max_steps: int = _setting(2000, "stop after this many steps in all")
    time_budget: float = _setting(None, "stop after this many seconds of training")
    stop_after: int = _setting(None, "stop (with a checkpoint) after this many steps of this call")
    target_loss: float = _setting(None, "stop once the validation loss is at or below this")
    # measuring and saving (evaluation should stay under ~10% of the time)
    eval_interval: int = _setting(200, "steps between validation measurements")
    eval_batches: int = _setting(10, "batches per validation measurement")
    final_eval_tokens: int = _setting(100_000, "held-out tokens of the final measurement")
    log_interval: int = _setting(50, "steps between progress lines")
    checkpoint_interval: int = _setting(1000, "steps between checkpoints")
    # where and how
    device: str = _setting("auto", "auto (cuda, then mps, then cpu), cpu, cuda, cuda:N or mps")
    dtype: str = _setting("auto", "auto (bfloat16 on an A100 or newer, float16 on a V100 or T4, else "
                                  "float32), float32, bfloat16 or float16")
    compile: str = _setting("auto", "torch.compile: auto (on CUDA GPUs from the V100 on; on a CPU it "
                                    "measured no faster), true or false")
    seed: int = _setting(0, "seed of weights and batches")
    out_dir: str = _setting("runs", "where each run gets its own folder")
    run_dir: str = _setting(None, "this run's folder (default: out-dir/PRESET-DATE-TIME)")
    quiet: bool = _setting(False, "no progress lines")

    def __post_init__(self):
        for field in dataclasses.fields(self):     # numpy numbers -> plain ones: checkpoints load them
            value = getattr(self, field.name)
            if isinstance(value, numbers.Integral) and not isinstance(value, bool):
                setattr(self, field.name, int(value))
            elif isinstance(value, numbers.Real) and not isinstance(value, bool):
                setattr(self, field.name, float(value))
        if isinstance(self.device, torch.device):
            self.device = str(self.device)
        check_settings(self)

    def model_config(self, vocab_size):
        return GPTConfig(vocab_size=vocab_size, context=self.context, n_layers=self.n_layers,
                         n_heads=self.n_heads, d_model=self.d_model, dropout=self.dropout)


PRESETS = {
    # Seconds, for tests and CI: proves the whole path works, learns a little.
    "smoke": dict(n_layers=2, n_heads=2, d_model=64, context=32, batch_size=16, lr=3e-3,
                  warmup_steps=10, max_steps=60, eval_interval=30, eval_batches=4,
                  final_eval_tokens=8192, log_interval=15, checkpoint_interval=10_000),
    # A laptop or Binder CPU, 60 s of training: 4 layers x 128 wide, context 64.
    # Tuned on the held-out plays, 1200 steps each (seed 0): lr 3e-3 with 50 warm-up steps ended at
    # 1.886, 5e-3 at 1.858, 1e-2 at 1.856, and 5e-3 with 100 warm-up steps at 1.846 (chosen).
    # Uncompiled: on 2 CPU cores eager and torch.compile steps measured within a few percent of
    # each other (either one ahead, by the moment), and eager has no compile wait before the clock.
    "cpu": dict(n_layers=4, n_heads=4, d_model=128, context=64, batch_size=12, lr=5e-3,
                warmup_steps=100, max_steps=100_000, time_budget=60.0, eval_interval=250,
                eval_batches=8, final_eval_tokens=100_000, log_interval=100),
    # An H100 (or any recent GPU), 60 s of training: about 10.7M parameters, bf16, compiled.
    "gpu": dict(n_layers=6, n_heads=6, d_model=384, context=256, batch_size=128, lr=2e-3,
                dropout=0.1, warmup_steps=200, max_steps=100_000, time_budget=60.0,
                eval_interval=500, eval_batches=20, final_eval_tokens=1_000_000,
                log_interval=250, checkpoint_interval=100_000),
}


_WHOLE_NUMBERS_FROM_1 = ("n_layers", "n_heads", "d_model", "context", "batch_size", "max_steps", "max_words",
                         "eval_interval", "eval_batches", "final_eval_tokens", "log_interval", "checkpoint_interval")
COMPILE_ON, COMPILE_OFF = (True, "true", "on", "1"), (False, "false", "off", "0")
_CHOICES = {"tokens": ("char", "word"), "dtype": ("auto", "float32", "bfloat16", "float16"),
            "compile": ("auto", *COMPILE_ON, *COMPILE_OFF)}


class SettingsError(ValueError):
    """A TrainConfig setting that cannot work (the CLI prints it without a traceback)."""


def check_settings(config):
    """A clear ValueError for a setting that would only fail later, deep inside a run."""
    problems = [f"{name} must be a whole number of at least 1, got {getattr(config, name)!r}"
                for name in _WHOLE_NUMBERS_FROM_1
                if type(getattr(config, name)) is not int or getattr(config, name) < 1]
    problems += [f"{name} must be one of {', '.join(map(repr, allowed))}, got {getattr(config, name)!r}"
                 for name, allowed in _CHOICES.items() if getattr(config, name) not in allowed]
    if not isinstance(config.lr, (int, float)) or not config.lr > 0:
        problems.append(f"lr must be a number above 0, got {config.lr!r}")
    if not (isinstance(config.dropout, (int, float)) and 0 <= config.dropout < 1):
        problems.append(f"dropout must be a number from 0 up to (not including) 1, got {config.dropout!r}")
    if not re.fullmatch(r"auto|cpu|mps|cuda(:[0-9]+)?", str(config.device)):
        problems.append(f"device must be auto, cpu, cuda, cuda:N or mps, got {config.device!r}")
    if type(config.n_heads) is int and config.n_heads > 0 and config.d_model % config.n_heads:
        problems.append(f"d_model ({config.d_model}) must be divisible by n_heads ({config.n_heads})")
    if problems:
        raise SettingsError("; ".join(problems))


def config_for(preset, **overrides):
    """The TrainConfig of a preset, with some settings changed: config_for("cpu", lr=3e-3)."""
    if preset not in PRESETS:
        raise SettingsError(f"unknown preset {preset!r}: choose one of {', '.join(PRESETS)}")
    fields = {f.name for f in dataclasses.fields(TrainConfig)}
    unknown = sorted(set(overrides) - fields)
    if unknown:
        raise SettingsError(f"unknown settings {unknown}; TrainConfig has: {', '.join(sorted(fields))}")
    return TrainConfig(preset=preset, **{**PRESETS[preset], **overrides})


# ====================================================================== data

@dataclasses.dataclass
class TokenData:
    """The corpus as token ids: `train` and `validation` are 1-D tensors (uint8 or int16/int32)."""
    train: torch.Tensor
    validation: torch.Tensor
    tokenizer: object

    @property
    def vocab_size(self):
        return len(self.tokenizer)


def _smallest_dtype(vocab_size):
    return torch.uint8 if vocab_size <= 256 else torch.int16 if vocab_size <= 32_767 else torch.int32


def _make_tokenizer(kind, vocab):
    from helpers.text import CharTokenizer, WordTokenizer
    return CharTokenizer(vocab) if kind == "char" else WordTokenizer(vocab)


def _encode(tokenizer, text):
    if hasattr(tokenizer, "encode_array"):
        return tokenizer.encode_array(text)                     # fast path for characters
    return np.array(tokenizer.encode(text), dtype=np.int64)


def _encode_corpus(kind, max_words):
    from helpers.text import CharTokenizer, WordTokenizer, train_validation_text
    train_text, validation_text = train_validation_text()
    if kind == "char":
        # The vocabulary covers both parts, so no held-out character is unknown.
        tokenizer = CharTokenizer.from_text(train_text + validation_text)
    else:
        tokenizer = WordTokenizer.from_text(train_text, max_words=max_words)
    dtype = _smallest_dtype(len(tokenizer))
    ids = [torch.from_numpy(_encode(tokenizer, text)).to(dtype) for text in (train_text, validation_text)]
    return {"tokens": kind, "vocab": list(tokenizer.vocab), "train": ids[0], "validation": ids[1]}


def _cache_path(kind, max_words):
    from helpers.text import cache_dir
    from helpers import text
    # The plays' own cache header changes whenever their conversion does: our file follows it.
    stamp = hashlib.sha256(f"{kind}-{max_words}-{text._CONVERTER_VERSION}-{text.VALIDATION_PLAYS}".encode())
    return cache_dir() / f"gpt-tokens-{kind}-{stamp.hexdigest()[:12]}.pt"


def load_data(tokens="char", max_words=8000):
    """The plays as token ids, held-out plays apart: encoded once, then read from the cache."""
    if tokens not in ("char", "word"):
        raise ValueError(f"tokens must be 'char' or 'word', got {tokens!r}")
    path = _cache_path(tokens, max_words)
    try:
        stored = torch.load(path, weights_only=True)
    except (OSError, RuntimeError, EOFError, ValueError):
        stored = _encode_corpus(tokens, max_words)
        with contextlib.suppress(OSError):
            _atomic_save(stored, path)
    return TokenData(stored["train"], stored["validation"], _make_tokenizer(tokens, stored["vocab"]))


def get_batch(tokens, batch_size, context, generator=None, device="cpu"):
    """Random windows of a 1-D token tensor -> (x, y), each (batch_size, context) int64 on `device`.

    y is x shifted by one: at every position the model must predict the token that comes next.
    One gather, no Python loop over tokens.
    """
    if not isinstance(tokens, torch.Tensor) or tokens.ndim != 1:
        shape = tuple(tokens.shape) if isinstance(tokens, torch.Tensor) else type(tokens).__name__
        raise ValueError(f"tokens must be a 1-D torch tensor of token ids (the whole text, one row), got {shape}")
    if len(tokens) <= context:
        raise ValueError(f"the text has {len(tokens)} tokens, too few for windows of context={context} (+1)")
    starts = torch.randint(len(tokens) - context, (batch_size, 1), generator=generator)  # (B, 1)
    if tokens.is_cuda:
        # The tokens already live on the GPU: send only the starts (pinned, so the copy does not
        # make the CPU wait for the GPU) and gather there.
        starts = starts.pin_memory().to(tokens.device, non_blocking=True)
    offsets = torch.arange(context + 1, device=tokens.device)                            # (T + 1,)
    windows = tokens[starts + offsets].to(device).long()                                 # (B, T + 1)
    return windows[:, :-1], windows[:, 1:]


def evaluation_windows(n_text_tokens, batch_size, context, n_tokens):
    """How many windows an evaluation of about n_tokens uses: whole batches only (a compiled model
    would compile again for a smaller last batch), at least one, at most what the text holds."""
    available = (n_text_tokens - 1) // context // batch_size * batch_size
    if available == 0:
        raise ValueError(f"the held-out text has {n_text_tokens} tokens, too few for one batch of "
                         f"{batch_size} windows of context={context}")
    return min(max(batch_size, n_tokens // context // batch_size * batch_size), available)


def evaluation_batches(tokens, batch_size, context, n_tokens):
    """Fixed, evenly spread windows of the held-out text, so two measurements are comparable.

    Yields (x, y) batches (on the CPU) covering about n_tokens target tokens.
    """
    n_windows = evaluation_windows(len(tokens), batch_size, context, n_tokens)
    starts = torch.linspace(0, len(tokens) - context - 1, n_windows).long()[:, None]  # (N, 1)
    windows = tokens[starts + torch.arange(context + 1)].long()                       # (N, T + 1)
    for i in range(0, n_windows, batch_size):
        chunk = windows[i:i + batch_size]
        yield chunk[:, :-1], chunk[:, 1:]


# ====================================================================== device, precision, model

def choose_device(requested="auto"):
    if requested != "auto":
        return requested
    from helpers import device
    return device()


def device_name(device):
    """'cpu', 'mps', or the GPU's name ('NVIDIA H100 80GB HBM3') for a CUDA device."""
    if device.startswith("cuda"):
        return torch.cuda.get_device_name(torch.device(device))
    return device


def synchronize(device):
    """Wait for the GPU to finish its queued work (timings need it); nothing to wait for on a CPU."""
    if device.startswith("cuda"):
        torch.cuda.synchronize(torch.device(device))
    elif device == "mps":
        torch.mps.synchronize()


def reuse_freed_memory():
    """Linux (glibc) only: keep memory that a training step frees, for the next step to reuse.

    Every step frees and then allocates again the same activations, up to a few MB each. By
    default glibc returns blocks that large to the kernel when they are freed, and the next step
    gets fresh zeroed pages, one page fault per 4 KB: measured for the cpu preset, 300 to 2,300
    faults a step; with these two settings about 5, and the step some percent faster. Peak memory
    does not change (the same blocks are reused). Returns True where it applied.
    """
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:        # not glibc (musl, for example): nothing to tune
        return False
    M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3              # mallopt's parameter numbers (malloc.h)
    return bool(libc.mallopt(M_MMAP_THRESHOLD, 32 << 20)) and bool(libc.mallopt(M_TRIM_THRESHOLD, 256 << 20))


def _distributed():
    """(rank, world_size, local_rank) from torchrun's environment, or (0, 1, 0) in one process."""
    if "RANK" not in os.environ or "WORLD_SIZE" not in os.environ:
        return 0, 1, 0
    return int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"]), int(os.environ.get("LOCAL_RANK", 0))


def resolve(config):
    """Turn the 'auto' settings into what this machine does: (device, dtype, compile)."""
    device = choose_device(config.device)
    rank, world, local_rank = _distributed()
    if world > 1 and device != "cpu":
        if device != "cuda":      # an explicit cuda:N would put every process on one GPU
            raise SettingsError(f"under torchrun each process takes the GPU of its LOCAL_RANK: give "
                                f"--device cuda (or auto), or cpu; got {device!r}")
        device = f"cuda:{local_rank}"
    generation = _cuda_capability(device)
    dtype = config.dtype if config.dtype != "auto" else _fast_dtype(generation)
    compiled = (config.compile == "auto" and generation >= (7, 0)) or config.compile in COMPILE_ON
    return device, dtype, compiled


def _cuda_capability(device):
    """The GPU's compute capability, (8, 0) for an A100; (0, 0) for a CPU or a Mac."""
    return torch.cuda.get_device_capability(torch.device(device)) if device.startswith("cuda") else (0, 0)


def _fast_dtype(capability):
    """bf16 has tensor cores from the A100 on (8.0). The V100 (7.0) and T4 (7.5) have them for
    float16 only, which needs a loss scaler (its range ends at 65,504). Older GPUs, CPUs and Macs
    train in float32. torch.compile (Triton) also needs 7.0 or newer."""
    return "bfloat16" if capability >= (8, 0) else "float16" if capability >= (7, 0) else "float32"


def autocast(device, dtype):
    """bf16 (or fp16) autocast where it was asked for; nothing in float32."""
    if dtype == "float32":
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.split(":")[0], dtype=getattr(torch, dtype))


def make_loss_scaler(device, dtype):
    """float16 only: multiply the loss before backward so that small gradients do not round to 0 in
    float16, divide them back before the update, and skip a step whose gradients overflowed. (bf16
    has float32's range and needs none: the scaler is then switched off and passes through.)"""
    return torch.amp.GradScaler(device.split(":")[0], enabled=dtype == "float16")


def make_optimizer(model, config, device):
    """AdamW; weight decay on matrices only (not on biases and norms); fused where available."""
    decay = [p for p in model.parameters() if p.requires_grad and p.ndim >= 2]
    no_decay = [p for p in model.parameters() if p.requires_grad and p.ndim < 2]
    groups = [{"params": decay, "weight_decay": config.weight_decay},
              {"params": no_decay, "weight_decay": 0.0}]
    # Fused: one kernel for the whole update instead of dozens (CUDA; CPU too since torch 2.4).
    fused = device.startswith("cuda") or (device == "cpu" and _torch_at_least(2, 4))
    return torch.optim.AdamW(groups, lr=config.lr, betas=(0.9, config.beta2), fused=fused or None)


def _torch_at_least(major, minor):
    version = tuple(int(part) for part in torch.__version__.split("+")[0].split(".")[:2])
    return version >= (major, minor)


def learning_rate(config, step, progress):
    """Linear warm-up over warmup_steps, then a cosine from lr down to lr * min_lr_ratio.

    progress (0..1) is how far the run is: by steps, or by time when a time budget is set.
    """
    if step < config.warmup_steps:
        return config.lr * (step + 1) / config.warmup_steps
    cosine = 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))       # 1 -> 0
    return config.lr * (config.min_lr_ratio + (1 - config.min_lr_ratio) * cosine)


# ====================================================================== checkpoints

class CheckpointError(RuntimeError):
    """A checkpoint that cannot be used: damaged, foreign, or made for a different model."""


def _atomic_save(obj, path):
    # obj: bytes, or anything torch.save writes. Written next to the target, then renamed over it:
    # a crash leaves the old file or the new one, never half of one.
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + f".tmp{os.getpid()}")
    try:
        with open(temporary, "wb") as file:
            if isinstance(obj, bytes):
                file.write(obj)
            else:
                torch.save(obj, file)
            file.flush()
            os.fsync(file.fileno())          # on disk before the rename, even if the machine stops
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def save_checkpoint(path, model, optimizer, step, train_seconds, config, tokenizer, generator, scaler=None):
    """Everything a run needs to continue exactly: weights, optimizer (and float16's loss scale),
    step, settings, RNG states."""
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
    _atomic_save(state, path)


def _cuda_rng_state(device):
    """The random state of the GPU the model is on (dropout draws from it); None off CUDA."""
    return torch.cuda.get_rng_state(device) if device.type == "cuda" else None


def read_checkpoint(path):
    """The checkpoint's dict, loaded safely (weights_only=True); CheckpointError if unusable."""
    path = Path(path)
    if path.is_dir():
        path = path / "checkpoint.pt"
    if not path.exists():
        raise CheckpointError(f"no checkpoint at {path}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # truncated zip, random bytes, pickled code weights_only refuses...
        if isinstance(err, pickle.UnpicklingError) and zipfile.is_zipfile(path):   # torch.save's format
            raise CheckpointError(f"{path} holds Python objects that a safe load refuses (a whole model saved "
                                  "with torch.save(model), for example): unpickling them could run code. "
                                  "helpers.train reads the checkpoints it writes itself.") from None
        first_line = str(err).splitlines()[0][:200] if str(err) else ""
        raise CheckpointError(f"{path} could not be read as a checkpoint: it is damaged or not a "
                              f"PyTorch file ({type(err).__name__}: {first_line})") from None
    if not isinstance(state, dict) or state.get("kind") != CHECKPOINT_KIND:
        keys = sorted(state)[:8] if isinstance(state, dict) else type(state).__name__
        raise CheckpointError(f"{path} was not written by helpers.train (expected a dict with "
                              f"kind={CHECKPOINT_KIND!r}; found {keys})")
    if state.get("version") != CHECKPOINT_VERSION:
        raise CheckpointError(f"{path} has checkpoint version {state.get('version')}, "
                              f"this code reads version {CHECKPOINT_VERSION}")
    return state


def load_model(path, device="cpu"):
    """(model, tokenizer, checkpoint dict) from a checkpoint, the model in eval mode."""
    state = read_checkpoint(path)
    model = GPT(GPTConfig(**state["model_config"]))
    try:
        model.load_state_dict(state["model"])
    except RuntimeError as err:
        raise CheckpointError(f"the weights in {path} do not fit its own model config: {err}") from None
    return model.to(device).eval(), _make_tokenizer(state["tokens"], state["vocab"]), state


# ====================================================================== the loop

@torch.no_grad()
def evaluate(model, batches, device, dtype):
    """Mean cross-entropy over the given (x, y) batches, in eval mode (no dropout)."""
    was_training = model.training
    model.eval()
    total, count = torch.zeros((), device=device), 0
    for x, y in batches:
        x, y = x.to(device), y.to(device)
        with autocast(device, dtype):
            logits, _ = model(x)
        total += F.cross_entropy(logits.float().flatten(0, 1), y.flatten(), reduction="sum")
        count += y.numel()
    model.train(was_training)
    return total.item() / count


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
            print(_progress_line(record), flush=True)
        if self.callback is not None:
            self.callback(record)


def _progress_line(record):
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


class Trainer:
    """One training run: builds everything from a TrainConfig, then `run()` trains.

    Attributes a notebook may use: model (the plain GPT), data, device, run_dir, history.
    """

    def __init__(self, config, callback=None, resume=None):
        self.config = config
        self.rank, self.world, _ = _distributed()
        self.device, self.dtype, self.compiled = resolve(config)      # (may refuse the device: before any folder)
        self.run_dir = choose_run_dir(config, resume, claim=self.rank == 0)
        if self.device == "cpu":
            reuse_freed_memory()
            match_threads_to_cpus(quiet=config.quiet)      # a container limited to fewer CPUs than it sees
        self._init_distributed()
        torch.manual_seed(config.seed)
        self.data = load_data(config.tokens, config.max_words)
        # On a GPU the whole training text (a few MB) lives there; batches are gathered in place.
        self.train_tokens = self.data.train.to(self.device) if self.device.startswith("cuda") else self.data.train
        if self.device.startswith("cuda"):
            torch.backends.cuda.matmul.allow_tf32 = True     # float32 matmuls on tensor cores
            torch.backends.cudnn.allow_tf32 = True
        self.model = GPT(config.model_config(self.data.vocab_size)).to(self.device)
        if self.rank > 0:     # its own dropout masks (DDP gives every process rank 0's weights anyway)
            torch.manual_seed(config.seed + self.rank)
        self.optimizer = make_optimizer(self.model, config, self.device)
        self.loss_scaler = make_loss_scaler(self.device, self.dtype)
        self.generator = torch.Generator().manual_seed(config.seed + 1000 * self.rank)
        self.step, self.train_seconds, self.history = 0, 0.0, []
        if resume is not None:
            self._restore(read_checkpoint(resume))
        if self.rank == 0:
            self.run_dir.mkdir(parents=True, exist_ok=True)
        self.log = Logger(self.run_dir, config.quiet, callback, enabled=self.rank == 0)
        self.parallel_model = self._parallel(self.model)
        # Static shapes: a second run in the same process (the word model) gets its own kernels.
        self.train_model = torch.compile(self.parallel_model, dynamic=False) if self.compiled else self.parallel_model
        self.eval_model = torch.compile(self.model, dynamic=False) if self.compiled else self.model

    def _init_distributed(self):
        if self.world > 1 and not torch.distributed.is_initialized():
            backend = "nccl" if self.device.startswith("cuda") else "gloo"
            if backend == "nccl":
                torch.cuda.set_device(self.device)
            torch.distributed.init_process_group(backend)

    def _parallel(self, model):
        """DistributedDataParallel under torchrun (it averages the gradients of all processes)."""
        if self.world == 1:
            return model
        from torch.nn.parallel import DistributedDataParallel
        ids = [torch.device(self.device).index] if self.device.startswith("cuda") else None
        return DistributedDataParallel(model, device_ids=ids)

    def _restore(self, state):
        mine = dataclasses.asdict(self.model.config)
        if state["model_config"] != mine:
            raise CheckpointError(f"the checkpoint holds a different model: {state['model_config']}, "
                                  f"but these settings build {mine}")
        self.model.load_state_dict(state["model"])
        if state["optimizer"] is not None:
            self.optimizer.load_state_dict(state["optimizer"])
        if state.get("loss_scaler") and self.loss_scaler.is_enabled():
            self.loss_scaler.load_state_dict(state["loss_scaler"])
        self.step, self.train_seconds = state["step"], state["train_seconds"]
        torch.set_rng_state(state["rng"]["torch"])
        if self.rank == 0:
            self.generator.set_state(state["rng"]["batches"])
            if state["rng"]["cuda"] is not None and self.device.startswith("cuda"):
                torch.cuda.set_rng_state(state["rng"]["cuda"], torch.device(self.device))
        else:   # only rank 0's streams are saved: the others start streams they have not drawn from
            fresh = self.config.seed + 1000 * self.rank + 1_000_003 * self.step
            self.generator.manual_seed(fresh)
            torch.manual_seed(fresh)

    # ------------------------------------------------------------------ steps

    def train_step(self, lr):
        config = self.config
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        x, y = get_batch(self.train_tokens, config.batch_size, config.context, self.generator, self.device)
        with autocast(self.device, self.dtype):
            _, loss = self.train_model(x, y)
        self.loss_scaler.scale(loss).backward()        # (the loss itself unless float16)
        if config.grad_clip:
            self.loss_scaler.unscale_(self.optimizer)   # clip the true gradients, not scaled ones
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), config.grad_clip)
        self.loss_scaler.step(self.optimizer)
        self.loss_scaler.update()
        self.optimizer.zero_grad(set_to_none=True)
        return loss.detach()

    def _validation_loss(self, n_tokens=None):
        config = self.config
        n_tokens = n_tokens or config.eval_batches * config.batch_size * config.context
        batches = evaluation_batches(self.data.validation, config.batch_size, config.context, n_tokens)
        return evaluate(self.eval_model, batches, self.device, self.dtype)

    def _progress(self):
        config = self.config
        by_steps = self.step / config.max_steps
        by_time = self.train_seconds / config.time_budget if config.time_budget else 0.0
        return max(by_steps, by_time)

    def _synchronize(self):
        synchronize(self.device)

    def _agreed_seconds(self, seconds):
        # Every rank must stop at the same step and use the same learning rate: take the slowest clock.
        if self.world == 1:
            return seconds
        value = torch.tensor([seconds], dtype=torch.float64, device=self.device)
        torch.distributed.all_reduce(value, op=torch.distributed.ReduceOp.MAX)
        return value.item()

    def warm_up(self):
        """Compile (if on) before the clock starts: one forward and backward, then no trace of it."""
        if not self.compiled:
            return
        try:
            self._compile_now()
        except torch.OutOfMemoryError:
            raise                 # not compile's fault: run() explains it
        except Exception as err:  # no C++ compiler, an old GPU...: train uncompiled rather than stop
            print(f"torch.compile failed ({type(err).__name__}); training without it", file=sys.stderr)
            self.compiled = False
            self.train_model, self.eval_model = self.parallel_model, self.model
            self.optimizer.zero_grad(set_to_none=True)

    def _compile_now(self):
        x, y = get_batch(self.train_tokens, self.config.batch_size, self.config.context,
                         torch.Generator().manual_seed(0), self.device)
        gpus = [torch.device(self.device).index or 0] if self.device.startswith("cuda") else []
        with torch.random.fork_rng(devices=gpus):      # dropout here must not move the run's random stream
            with autocast(self.device, self.dtype):
                _, loss = self.train_model(x, y)
            loss.backward()
        self.optimizer.zero_grad(set_to_none=True)
        self._validation_loss(self.config.batch_size * self.config.context)
        self._synchronize()

    def _finished(self, steps_this_call, stop_for_target):
        config = self.config
        return (self.step >= config.max_steps
                or (config.time_budget is not None and self.train_seconds >= config.time_budget)
                or (config.stop_after is not None and steps_this_call >= config.stop_after)
                or stop_for_target)

    def run(self):
        """Train until max_steps, the time budget, stop_after or target_loss; returns a summary dict."""
        try:
            return self._run()
        except torch.OutOfMemoryError:    # (the settings that set the size, and what to change)
            config = self.config
            raise SettingsError(
                f"{device_name(self.device)} ran out of memory training {config.n_layers} layers x "
                f"{config.d_model} wide on batch_size {config.batch_size} x context {config.context} "
                f"({config.batch_size * config.context:,} tokens a step): try --batch-size "
                f"{max(1, config.batch_size // 2)}, a shorter --context or a smaller model") from None

    def _run(self):
        config = self.config
        self.warm_up()
        wall_start = time.perf_counter()
        self._new_window()
        steps_this_call, stop_for_target = 0, False
        while not self._finished(steps_this_call, stop_for_target):
            lr = learning_rate(config, self.step, self._progress())
            self._window["losses"].append(self.train_step(lr))
            self.step, steps_this_call = self.step + 1, steps_this_call + 1
            self._window["steps"] += 1
            at_log, at_eval = self.step % config.log_interval == 0, self.step % config.eval_interval == 0
            # Read the clock (and wait for the GPU) only every few steps: the GPU stays busy.
            if at_log or at_eval or self._window["steps"] % 10 == 0 or self.step >= config.max_steps:
                self._read_clock()
            if at_log or at_eval:
                stop_for_target = self._log_point(lr, at_eval)
            if self.rank == 0 and self.step % config.checkpoint_interval == 0:
                self.save()
        if self._window["steps"]:
            self._read_clock()
        return self._finish(wall_start, steps_this_call)

    def _new_window(self):
        # A window: the steps since the last log line (their losses, and the clock when it began).
        self._window = {"start": time.perf_counter(), "seconds": self.train_seconds, "steps": 0,
                        "losses": [], "now": time.perf_counter()}

    def _read_clock(self):
        self._synchronize()
        self._window["now"] = time.perf_counter()
        elapsed = self._window["now"] - self._window["start"]
        self.train_seconds = self._agreed_seconds(self._window["seconds"] + elapsed)

    def _log_point(self, lr, at_eval):
        """Write a log record (and measure the held-out loss at eval steps); True to stop at target."""
        window, config = self._window, self.config
        tokens = config.batch_size * config.context * self.world * window["steps"]
        record = {"step": self.step, "lr": lr, "train_seconds": round(self.train_seconds, 3),
                  "train_loss": torch.stack(window["losses"]).mean().item(),
                  "tokens_per_s": tokens / max(window["now"] - window["start"], 1e-9)}
        stop = False
        if at_eval and self.rank == 0:
            record["val_loss"] = self._validation_loss()
            stop = config.target_loss is not None and record["val_loss"] <= config.target_loss
        stop = self._agree(stop)
        self.history.append(record)
        self.log(record)
        self._new_window()          # evaluation and logging stay out of the training time
        return stop

    def _agree(self, flag):
        if self.world == 1:
            return flag
        value = torch.tensor([float(flag)], device=self.device)
        torch.distributed.broadcast(value, src=0)
        return bool(value.item())

    def save(self):
        save_checkpoint(self.run_dir / "checkpoint.pt", self.model, self.optimizer, self.step,
                        self.train_seconds, self.config, self.data.tokenizer, self.generator, self.loss_scaler)

    def _finish(self, wall_start, steps_this_call):
        config = self.config
        self._synchronize()
        summary = {"preset": config.preset, "device": device_name(self.device), "world_size": self.world,
                   "dtype": self.dtype, "compile": self.compiled, "steps": self.step,
                   "steps_this_call": steps_this_call, "train_seconds": round(self.train_seconds, 2),
                   "wall_seconds": round(time.perf_counter() - wall_start, 2),
                   "parameters": sum(p.numel() for p in self.model.parameters()),
                   "tokens_seen": self.step * config.batch_size * config.context * self.world}
        rates = [r["tokens_per_s"] for r in self.history[1:] or self.history]
        summary["tokens_per_s_median"] = round(float(np.median(rates)), 1) if rates else None
        if self.world > 1:
            summary["rank_weight_sums"] = self._rank_weight_sums()
        if self.rank == 0:
            summary["final_val_loss"] = round(self._validation_loss(config.final_eval_tokens), 4)
            summary["final_val_tokens"] = config.context * evaluation_windows(   # what was measured
                len(self.data.validation), config.batch_size, config.context, config.final_eval_tokens)
            summary["run_dir"] = str(self.run_dir)
            self.save()
            _atomic_save((json.dumps(summary, indent=1) + "\n").encode(), self.run_dir / "summary.json")
            if not config.quiet:
                print(json.dumps(summary), flush=True)
        return summary

    def _rank_weight_sums(self):
        # Every rank's sum of each weight tensor, gathered: equal rows mean DDP kept them in step.
        sums = torch.stack([p.detach().double().sum() for p in self.model.parameters()])
        gathered = [torch.zeros_like(sums) for _ in range(self.world)]
        torch.distributed.all_gather(gathered, sums)
        return [g.tolist() for g in gathered]




def train(config, callback=None, resume=None):
    """Train a GPT with these settings; returns (trainer, summary). callback(record) per log line."""
    try:
        trainer = Trainer(config, callback=callback, resume=resume)
        summary = trainer.run()
    finally:    # also when the Trainer could not be built after joining the group (a bad checkpoint)
        if _distributed()[1] > 1 and torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()
    return trainer, summary


# ====================================================================== the command line

def add_setting_flags(parser, names=None):
    """One --flag per TrainConfig setting (or those named), each saying what it is and what the presets use."""
    for field in dataclasses.fields(TrainConfig):
        if field.name == "preset" or (names is not None and field.name not in names):
            continue
        used = {preset: values.get(field.name, field.default) for preset, values in PRESETS.items()}
        if len(set(used.values())) == 1:
            in_presets = f"every preset: {'none' if field.default is None else field.default}"
        else:
            in_presets = ", ".join(f"{preset} {'none' if value is None else value}" for preset, value in used.items())
        help_text = field.metadata["help"] + ("" if field.name in ("run_dir", "quiet") else f" ({in_presets})")
        flag = "--" + field.name.replace("_", "-")
        if field.type is bool:
            parser.add_argument(flag, action="store_true", default=None, help=help_text)
        else:
            parser.add_argument(flag, type=field.type, default=None, metavar=field.name.upper(), help=help_text)


def build_parser():
    parser = argparse.ArgumentParser(prog="python -m helpers.train", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", choices=sorted(PRESETS), default=None,
                        help="starting settings (default: gpu on CUDA, cpu elsewhere)")
    parser.add_argument("--resume", metavar="RUN_DIR_OR_CHECKPOINT",
                        help="continue a run from its checkpoint, with its own settings")
    add_setting_flags(parser)
    return parser


def config_from_args(args):
    """The run's TrainConfig: the preset (or the resumed run's settings), then explicit flags."""
    overrides = {k: v for k, v in vars(args).items() if v is not None and k not in ("preset", "resume")}
    if args.resume:
        saved = read_checkpoint(args.resume)["train_config"]
        saved.setdefault("run_dir", None)
        run_dir = args.resume if Path(args.resume).is_dir() else str(Path(args.resume).parent)
        return TrainConfig(**{**saved, "run_dir": run_dir, "stop_after": None, "quiet": False, **overrides})
    preset = args.preset or ("gpu" if choose_device("auto") == "cuda" else "cpu")
    return config_for(preset, **overrides)


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        config = config_from_args(args)           # a bad setting: the message, no traceback
        _, summary = train(config, resume=args.resume)
    except (CheckpointError, SettingsError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
