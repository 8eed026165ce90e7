"""Training the GPT of notebook 09_gpt_on_gpu, from a laptop's CPU to one or several GPUs.

    python -m helpers.train --preset smoke            # a few seconds: does everything work?
    python -m helpers.train --preset cpu              # 60 s on a CPU: validation loss near 1.9
    python -m helpers.train --preset gpu              # 60 s on an H100: bf16, torch.compile
    python -m helpers.train --preset cpu --lr 2e-3 --batch-size 32     # any setting, overridden
    python -m helpers.train --resume runs/cpu-20261123-101500          # carry on where it stopped
    torchrun --nproc_per_node 4 -m helpers.train --preset gpu          # several GPUs (DDP)

What happens, in order: the plays are encoded once into a small tensor of token ids (cached,
helpers/text.py); each step takes random windows of it as a batch; the model predicts every next
token; AdamW steps against the gradient with a warm-up then a cosine decay of the learning rate;
now and then the loss is measured on plays the model never trains on. Each run writes to its own
folder (`runs/` by default): `log.jsonl`, `checkpoint.pt` and `summary.json` (helpers/checkpoints.py).
The device, the precision, torch.compile and several GPUs are settled in helpers/hardware.py.

This file holds the loop and the command line; the settings and presets are in helpers/settings.py. `train(config)` is the loop as a
function; the notebook calls it with a callback that draws the loss as it falls, and writes one
step out in the open (`Trainer.train_step`). Built in notebook 09_gpt_on_gpu.
"""
import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from helpers import match_threads_to_cpus
from helpers.checkpoints import (CheckpointError, Logger, LogWindow, atomic_write, choose_run_dir,  # noqa: F401
                                 fresh_run_dir, read_checkpoint, restore_checkpoint, save_checkpoint)
from helpers.hardware import (SettingsError, allow_tf32, autocast,  # noqa: F401
                              choose_device, compile_before_the_clock, data_parallel, device_name,
                              distributed, flag_of_first_process, join_process_group,
                              largest_over_processes, leave_process_group, make_loss_scaler, maybe_compile,
                              out_of_memory_error, resolve, reuse_freed_memory, synchronize,
                              weight_sums_of_every_process)
from helpers.model import GPT, GPTConfig
from helpers.settings import PRESETS, TrainConfig, add_setting_flags, check_settings, config_for  # noqa: F401
from helpers.text import (TokenData, evaluation_batches, evaluation_windows, get_batch,  # noqa: F401
                          load_token_ids, make_tokenizer)

# Notebook 09 and older code import get_batch, device_name, CheckpointError, config_for and the like
# from helpers.train: the imports above keep them here (hence the noqa), and load_data keeps its name.
load_data = load_token_ids          # the plays as token ids, encoded once and cached


# ====================================================================== schedule, optimizer, measuring

def learning_rate(config, step, progress):
    """Linear warm-up over warmup_steps, then a cosine from lr down to lr * min_lr_ratio.

    progress (0..1) is how far the run is: by steps, or by time when a time budget is set.
    """
    if step < config.warmup_steps:
        return config.lr * (step + 1) / config.warmup_steps
    cosine = 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))       # 1 -> 0
    return config.lr * (config.min_lr_ratio + (1 - config.min_lr_ratio) * cosine)


def make_optimizer(model, config, device):
    """AdamW; weight decay on matrices only (not on biases and norms); fused where available."""
    decay = [p for p in model.parameters() if p.requires_grad and p.ndim >= 2]
    no_decay = [p for p in model.parameters() if p.requires_grad and p.ndim < 2]
    groups = [{"params": decay, "weight_decay": config.weight_decay},
              {"params": no_decay, "weight_decay": 0.0}]
    # Fused: one kernel for the whole update instead of dozens (CUDA, and CPUs from torch 2.4 on).
    fused = device.startswith("cuda") or device == "cpu"
    return torch.optim.AdamW(groups, lr=config.lr, betas=(0.9, config.beta2), fused=fused or None)


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


def load_model(path, device="cpu"):
    """(model, tokenizer, checkpoint dict) from a checkpoint, the model in eval mode."""
    state = read_checkpoint(path)
    model = GPT(GPTConfig(**state["model_config"]))
    try:
        model.load_state_dict(state["model"])
    except RuntimeError as err:
        raise CheckpointError(f"the weights in {path} do not fit its own model config: {err}") from None
    return model.to(device).eval(), make_tokenizer(state["tokens"], state["vocab"]), state


# ====================================================================== the loop

class Trainer:
    """One training run: builds everything from a TrainConfig, then `run()` trains.

    Attributes a notebook may use: model (the plain GPT), data, device, run_dir, history.
    """

    def __init__(self, config, callback=None, resume=None):
        self.config = config
        self.rank, self.world, _ = distributed()
        self.device, self.dtype, self.compiled = resolve(config)      # (may refuse the device: before any folder)
        self.run_dir = choose_run_dir(config, resume, claim=self.rank == 0)
        if self.device == "cpu":
            reuse_freed_memory()
            match_threads_to_cpus(quiet=config.quiet)      # a container limited to fewer CPUs than it sees
        join_process_group(self.device, self.world)
        torch.manual_seed(config.seed)
        self.data = load_data(config.tokens, config.max_words)
        # On a GPU the whole training text (a few MB) lives there; batches are gathered in place.
        self.train_tokens = self.data.train.to(self.device) if self.device.startswith("cuda") else self.data.train
        allow_tf32(self.device)
        self._build_model_and_optimizer()
        self.step, self.train_seconds, self.history = 0, 0.0, []
        if resume is not None:
            self.step, self.train_seconds = restore_checkpoint(
                read_checkpoint(resume), self.model, self.optimizer, self.loss_scaler, self.generator,
                self.device, rank=self.rank, seed=config.seed)
        if self.rank == 0:
            self.run_dir.mkdir(parents=True, exist_ok=True)
        self.log = Logger(self.run_dir, config.quiet, callback, enabled=self.rank == 0)
        self.parallel_model = data_parallel(self.model, self.device, self.world)
        self.train_model = maybe_compile(self.parallel_model, self.compiled)    # what train_step calls
        self.eval_model = maybe_compile(self.model, self.compiled)              # no DDP to measure

    def _build_model_and_optimizer(self):
        # The order of these draws is the run's random stream: the same seed, the same run.
        config = self.config
        self.model = GPT(config.model_config(self.data.vocab_size)).to(self.device)
        if self.rank > 0:     # its own dropout masks (DDP gives every process rank 0's weights anyway)
            torch.manual_seed(config.seed + self.rank)
        self.optimizer = make_optimizer(self.model, config, self.device)
        self.loss_scaler = make_loss_scaler(self.device, self.dtype)
        self.generator = torch.Generator().manual_seed(config.seed + 1000 * self.rank)   # the batches

    # ------------------------------------------------------------------ one step

    def train_step(self, lr):
        """One step of training, notebook 09's loop written out: a batch, the loss, its gradients,
        clipped, and an AdamW step at learning rate lr. Returns the loss (a tensor: no GPU wait)."""
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
        self.loss_scaler.step(self.optimizer)          # (optimizer.step() unless float16)
        self.loss_scaler.update()
        self.optimizer.zero_grad(set_to_none=True)
        return loss.detach()

    def _validation_loss(self, n_tokens=None):
        config = self.config
        n_tokens = n_tokens or config.eval_batches * config.batch_size * config.context
        batches = evaluation_batches(self.data.validation, config.batch_size, config.context, n_tokens)
        return evaluate(self.eval_model, batches, self.device, self.dtype)

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
        compile_before_the_clock(self.train_model, x, y, self.device, self.dtype)
        self.optimizer.zero_grad(set_to_none=True)
        self._validation_loss(self.config.batch_size * self.config.context)
        synchronize(self.device)

    # ------------------------------------------------------------------ the run

    def run(self):
        """Train until max_steps, the time budget, stop_after or target_loss; returns a summary dict."""
        try:
            return self._run()
        except torch.OutOfMemoryError:
            raise out_of_memory_error(self.device, self.config) from None

    def _run(self):
        config = self.config
        self.warm_up()
        wall_start = time.perf_counter()
        window = LogWindow(self.train_seconds)
        steps_this_call, stop_for_target = 0, False
        while not self._finished(steps_this_call, stop_for_target):
            lr = learning_rate(config, self.step, self._progress())
            window.losses.append(self.train_step(lr))
            self.step, steps_this_call = self.step + 1, steps_this_call + 1
            at_log, at_eval = self.step % config.log_interval == 0, self.step % config.eval_interval == 0
            # Read the clock (and wait for the GPU) only every few steps: the GPU stays busy.
            if at_log or at_eval or len(window.losses) % 10 == 0 or self.step >= config.max_steps:
                self._read_clock(window)
            if at_log or at_eval:
                stop_for_target = self._log_point(lr, window, at_eval)
                window = LogWindow(self.train_seconds)     # evaluation and logging stay off the clock
            if self.rank == 0 and self.step % config.checkpoint_interval == 0:
                self.save()
        if window.losses:
            self._read_clock(window)
        return self._finish(wall_start, steps_this_call)

    def _progress(self):
        by_steps = self.step / self.config.max_steps
        by_time = self.train_seconds / self.config.time_budget if self.config.time_budget else 0.0
        return max(by_steps, by_time)

    def _finished(self, steps_this_call, stop_for_target):
        config = self.config
        return (self.step >= config.max_steps
                or (config.time_budget is not None and self.train_seconds >= config.time_budget)
                or (config.stop_after is not None and steps_this_call >= config.stop_after)
                or stop_for_target)

    def _read_clock(self, window):
        # Every process must stop at the same step and use the same learning rate: the slowest clock.
        synchronize(self.device)
        self.train_seconds = largest_over_processes(window.read_clock(), self.device, self.world)

    def _log_point(self, lr, window, at_eval):
        """Write a log record (and measure the held-out loss at eval steps); True to stop at target."""
        config = self.config
        tokens = config.batch_size * config.context * self.world * len(window.losses)
        record = {"step": self.step, "lr": lr, "train_seconds": round(self.train_seconds, 3),
                  "train_loss": torch.stack(window.losses).mean().item(),
                  "tokens_per_s": tokens / max(window.elapsed, 1e-9)}
        stop = False
        if at_eval and self.rank == 0:
            record["val_loss"] = self._validation_loss()
            stop = config.target_loss is not None and record["val_loss"] <= config.target_loss
        stop = flag_of_first_process(stop, self.device, self.world)
        self.history.append(record)
        self.log(record)
        return stop

    def save(self):
        save_checkpoint(self.run_dir / "checkpoint.pt", self.model, self.optimizer, self.step,
                        self.train_seconds, self.config, self.data.tokenizer, self.generator, self.loss_scaler)

    def _finish(self, wall_start, steps_this_call):
        config = self.config
        synchronize(self.device)
        summary = {"preset": config.preset, "device": device_name(self.device), "world_size": self.world,
                   "dtype": self.dtype, "compile": self.compiled, "steps": self.step,
                   "steps_this_call": steps_this_call, "train_seconds": round(self.train_seconds, 2),
                   "wall_seconds": round(time.perf_counter() - wall_start, 2),
                   "parameters": sum(p.numel() for p in self.model.parameters()),
                   "tokens_seen": self.step * config.batch_size * config.context * self.world}
        rates = [r["tokens_per_s"] for r in self.history[1:] or self.history]
        summary["tokens_per_s_median"] = round(float(np.median(rates)), 1) if rates else None
        if self.world > 1:
            summary["rank_weight_sums"] = weight_sums_of_every_process(self.model, self.world)
        if self.rank == 0:
            summary["final_val_loss"] = round(self._validation_loss(config.final_eval_tokens), 4)
            summary["final_val_tokens"] = config.context * evaluation_windows(   # what was measured
                len(self.data.validation), config.batch_size, config.context, config.final_eval_tokens)
            summary["run_dir"] = str(self.run_dir)
            self.save()
            atomic_write(self.run_dir / "summary.json", (json.dumps(summary, indent=1) + "\n").encode())
            if not config.quiet:
                print(json.dumps(summary), flush=True)
        return summary


def train(config, callback=None, resume=None):
    """Train a GPT with these settings; returns (trainer, summary). callback(record) per log line."""
    try:
        trainer = Trainer(config, callback=callback, resume=resume)
        summary = trainer.run()
    finally:    # also when the Trainer could not be built after joining the group (a bad checkpoint)
        leave_process_group()
    return trainer, summary


# ====================================================================== the command line

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
        train(config, resume=args.resume)
    except (CheckpointError, SettingsError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
