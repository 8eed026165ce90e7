"""The settings of a training run: every knob with what it means, the presets, and the checks.

`TrainConfig` holds every setting of a run of the GPT of notebook 09_gpt_on_gpu; `config_for`
fills one from a preset; `check_settings` refuses a setting that would only fail deep inside a
run, with a message that names it; `add_setting_flags` turns each setting into a command-line
flag whose --help says what it is and what each preset uses (helpers/train.py and
helpers/bench.py share it). Built in notebook 09_gpt_on_gpu, used through helpers.train.
"""
import dataclasses
import numbers
import re

import torch

from helpers.attention import check_heads
from helpers.hardware import COMPILE_OFF, COMPILE_ON, SettingsError
from helpers.model import GPTConfig


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
_CHOICES = {"tokens": ("char", "word"), "dtype": ("auto", "float32", "bfloat16", "float16"),
            "compile": ("auto", *COMPILE_ON, *COMPILE_OFF)}


def check_settings(config):
    """A clear SettingsError for a setting that would only fail later, deep inside a run."""
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
    if not any("d_model" in p or "n_heads" in p for p in problems):   # both whole numbers: the heads rule
        try:
            check_heads(config.d_model, config.n_heads)
        except ValueError as err:
            problems.append(str(err))
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
