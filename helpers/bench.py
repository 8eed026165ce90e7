"""How fast does the GPT train here? `python -m helpers.bench` prints one JSON line.

    python -m helpers.bench                          # the device's preset (gpu on CUDA, else cpu)
    python -m helpers.bench --preset cpu --batch-size 12
    python -m helpers.bench --peak-tflops 165        # a GPU not in the table: give its peak
    python -m helpers.bench --no-target              # step time only, skip the training run
    python -m helpers.bench --compare-compile        # eager and compiled steps, in turns, one process

It measures the median time of a training step (after warm-up and compilation), the tokens per
second that gives, the model FLOP utilisation (MFU: the FLOPs the model needs per token, times
tokens per second, over the device's peak), and the seconds of training it takes to reach a
target validation loss (1.89 for the cpu preset, 1.50 for gpu) within a time limit. It also times
one large matmul just before and after the steps and reports the model's share of that rate: a
CPU has no peak to quote, and on a shared machine, whose speed moves by the minute, that share is
what compares two runs. Built in notebook 09_gpt_on_gpu.
"""
import argparse
import dataclasses
import json
import statistics
import sys
import tempfile
import time

import torch

from helpers.hardware import SettingsError, device_name, resolve, synchronize
from helpers.settings import PRESETS, add_setting_flags, config_for
from helpers.train import Trainer, learning_rate

# Dense peak TFLOP/s (no sparsity) from the makers' data sheets, by dtype. "H100" alone means the
# SXM card; the PCIe and NVL cards are slower. Matched against torch.cuda.get_device_name, first
# match wins, so a longer name comes before any name it contains (GH200 before H200).
_BF16 = [("H100 PCIe", 756.0), ("H100 NVL", 835.5), ("H100", 989.4), ("GH200", 989.4), ("H200 NVL", 835.5),
         ("H200", 989.4), ("A100", 312.0)]
PEAK_TFLOPS = {
    "bfloat16": _BF16,
    "float16": _BF16,                       # the same tensor-core rate as bf16 on these chips
    "float32": [("H100 PCIe", 378.0), ("H100 NVL", 417.5), ("H100", 494.7), ("GH200", 494.7),
                ("H200 NVL", 417.5), ("H200", 494.7), ("A100", 156.0)],   # TF32 tensor cores, switched on
}
TARGET_LOSS = {"cpu": 1.89, "gpu": 1.50, "smoke": 3.0}
# The settings a benchmark may change (the rest are the preset's).
SETTINGS = ("n_layers", "n_heads", "d_model", "context", "batch_size", "lr", "dtype", "compile", "device",
            "eval_interval", "tokens")


def peak_tflops(gpu_name, dtype):
    """(peak TFLOP/s, where it came from) for a GPU name, or (None, reason) when unknown."""
    if "MIG" in gpu_name:       # a slice of a GPU: some fraction of the chip's peak
        return None, f"{gpu_name!r} is a MIG slice of a GPU: pass its share of the peak with --peak-tflops"
    for fragment, peak in PEAK_TFLOPS.get(dtype, []):
        if fragment in gpu_name:
            return peak, f"data sheet, {fragment} dense {dtype}"
    return None, f"no known peak for {gpu_name!r} in {dtype}: pass --peak-tflops"


def matmul_tflops(device, dtype, size=None, repeats=10):
    """TFLOP/s of one large square matmul on `device` in `dtype`, measured now (median of repeats).

    A CPU has no data-sheet peak to quote: its rate depends on the clock and on what else runs on
    the machine, and on a shared machine it moves by 2x within an hour. The benchmark measures this
    rate next to the model's, so that two runs can be compared: the model's share of it says how
    well the code uses the machine, whatever the moment.
    """
    size = size or (4096 if device.startswith(("cuda", "mps")) else 1024)
    a = torch.randn(size, size, device=device).to(getattr(torch, dtype))
    b = torch.randn(size, size, device=device).to(getattr(torch, dtype))
    one = min(_seconds(device, lambda: a @ b) for _ in range(3))           # (warms up too)
    per_timing = max(1, min(50, int(0.02 / one)))    # ~20 ms a timing: an H100's product is ~0.2 ms
    times = [_seconds(device, lambda: [a @ b for _ in range(per_timing)]) / per_timing
             for _ in range(repeats)]
    return 2 * size ** 3 / statistics.median(times) / 1e12


def _seconds(device, work):
    """Wall seconds of work(), with the device's queue drained before and after."""
    synchronize(device)
    start = time.perf_counter()
    work()
    synchronize(device)
    return time.perf_counter() - start


def time_steps(trainer, steps, warmup):
    """Median seconds of one training step, measured one step at a time (synchronised)."""
    lr = learning_rate(trainer.config, trainer.config.warmup_steps, 0.0)
    times = []
    for i in range(warmup + steps):
        synchronize(trainer.device)
        start = time.perf_counter()
        trainer.train_step(lr)
        synchronize(trainer.device)
        if i >= warmup:
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def time_to_target(config, target, max_seconds):
    """Train a fresh model until the validation loss reaches `target` or max_seconds pass.

    Returns (seconds of training when first at or below target, or None; last validation loss;
    the run's summary).
    """
    config = dataclasses.replace(config, time_budget=max_seconds, target_loss=target, quiet=True,
                                 max_steps=10**9)
    trainer = Trainer(config)
    summary = trainer.run()
    reached = [r["train_seconds"] for r in trainer.history if r.get("val_loss", 1e9) <= target]
    return (reached[0] if reached else None), summary["final_val_loss"], summary


def measure_steps(config, steps=30, warmup=5):
    """Time training steps of a fresh model: (median seconds per step, the machine's matmul
    TFLOP/s measured just before and after them, parameters, FLOPs per token)."""
    trainer = Trainer(dataclasses.replace(config, quiet=True))   # (switches TF32 on, on CUDA)
    trainer.warm_up()
    matmul_before = matmul_tflops(trainer.device, trainer.dtype)
    step_seconds = time_steps(trainer, steps, warmup)
    matmul_rate = (matmul_before + matmul_tflops(trainer.device, trainer.dtype)) / 2
    parameters = sum(p.numel() for p in trainer.model.parameters())
    return step_seconds, matmul_rate, parameters, trainer.model.flops_per_token(config.context)


def device_peak(device, dtype, peak=None):
    """(the device's name, its peak TFLOP/s or None, where the peak came from)."""
    name = device_name(device)
    if peak is not None:
        return name, peak, "given with --peak-tflops"
    if device.startswith("cuda"):
        return (name, *peak_tflops(name, dtype))
    return name, None, "no peak for a CPU: pass --peak-tflops for an MFU"


def benchmark(config, steps=30, warmup=5, peak=None, target=None, max_seconds=60.0):
    """Everything the command prints, as a dict: the timed steps, then (given a target) a fresh
    run with the same settings until it reaches the target or max_seconds pass."""
    device, dtype, compiled = resolve(config)
    step_seconds, matmul_rate, parameters, flops_per_token = measure_steps(config, steps, warmup)
    name, peak, source = device_peak(device, dtype, peak)
    tokens_per_step = config.batch_size * config.context
    achieved = flops_per_token * tokens_per_step / step_seconds / 1e12             # TFLOP/s
    result = {
        "device": name, "preset": config.preset, "dtype": dtype, "compile": compiled,
        "parameters": parameters, "n_layers": config.n_layers, "d_model": config.d_model,
        "n_heads": config.n_heads, "context": config.context, "batch_size": config.batch_size,
        "median_step_ms": round(step_seconds * 1e3, 3),
        "tokens_per_s": round(tokens_per_step / step_seconds, 1),
        "flops_per_token": flops_per_token, "achieved_tflops": round(achieved, 3),
        "peak_tflops": peak, "peak_source": source, "mfu": round(achieved / peak, 4) if peak else None,
        "matmul_tflops_measured": round(matmul_rate, 3),
        "share_of_measured_matmul": round(achieved / matmul_rate, 4),
        "threads": torch.get_num_threads(),
    }
    if target is not None:
        seconds, final_loss, summary = time_to_target(config, target, max_seconds)
        result.update({"target_val_loss": target, "time_limit_s": max_seconds,
                       "time_to_target_s": seconds, "final_val_loss": final_loss,
                       "train_tokens_per_s_median": summary["tokens_per_s_median"]})
    return result


def compare_compile(config, rounds=9, steps=25, warmup=5):
    """Eager against torch.compile on the same settings, in one process, taking turns: a block of
    steps of one, then of the other, `rounds` times. On a machine whose speed moves with its load,
    two separate runs compare two moments; turns in one run compare the two models.

    Returns a dict: each one's median step (ms) and tokens/s, compiled's speed-up (>1: faster) and
    the seconds its compilation took.
    """
    trainers = {mode: Trainer(dataclasses.replace(config, compile=mode, quiet=True)) for mode in ("false", "true")}
    compile_seconds = time.perf_counter()
    trainers["true"].warm_up()                   # compiling happens here, before any clock
    compile_seconds = time.perf_counter() - compile_seconds
    for trainer in trainers.values():
        time_steps(trainer, 1, warmup)           # untimed steps first (the one timed is dropped)
    blocks = {mode: [] for mode in trainers}     # each block's median step, in seconds
    for _ in range(rounds):
        for mode, trainer in trainers.items():
            blocks[mode].append(time_steps(trainer, steps, 0))
    eager, compiled = (statistics.median(blocks[mode]) for mode in ("false", "true"))
    tokens = config.batch_size * config.context
    return {"eager_step_ms": round(eager * 1e3, 3), "compiled_step_ms": round(compiled * 1e3, 3),
            "eager_tokens_per_s": round(tokens / eager, 1), "compiled_tokens_per_s": round(tokens / compiled, 1),
            "compiled_speedup": round(eager / compiled, 3), "compiled": trainers["true"].compiled,
            "compile_seconds": round(compile_seconds, 1),     # longer the first time (an empty cache)
            "rounds": rounds, "steps_per_block": steps}


def build_parser():
    parser = argparse.ArgumentParser(prog="python -m helpers.bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", choices=sorted(PRESETS), default=None,
                        help="settings to measure (default: gpu on CUDA, cpu elsewhere)")
    add_setting_flags(parser, SETTINGS)
    parser.add_argument("--steps", type=int, default=30, help="timed steps, the median taken (default 30)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed steps first (default 5)")
    parser.add_argument("--peak-tflops", type=float, default=None, help="the device's peak, for MFU")
    parser.add_argument("--target-loss", type=float, default=None,
                        help="validation loss to reach (default: 1.89 cpu, 1.50 gpu)")
    parser.add_argument("--max-seconds", type=float, default=60.0, help="time limit of that run, seconds (default 60)")
    parser.add_argument("--no-target", action="store_true", help="measure step time only")
    parser.add_argument("--compare-compile", action="store_true",
                        help="time eager and compiled steps in turns in one process (no training run)")
    parser.add_argument("--rounds", type=int, default=9, help="turns of --compare-compile (default 9)")
    return parser


def run(args):
    """What the command prints, as a dict. Runs write to a temporary folder, removed afterwards."""
    from helpers import device
    if args.steps < 1 or args.warmup < 0 or args.rounds < 1:
        raise SettingsError(f"steps and rounds must be at least 1 and warmup at least 0, "
                            f"got --steps {args.steps}, --warmup {args.warmup}, --rounds {args.rounds}")
    preset = args.preset or ("gpu" if device() == "cuda" else "cpu")
    overrides = {name: getattr(args, name) for name in SETTINGS if getattr(args, name) is not None}
    with tempfile.TemporaryDirectory(prefix="gpt-bench-") as out_dir:
        config = config_for(preset, out_dir=out_dir, **overrides)
        if args.compare_compile:
            return {"device": device_name(resolve(config)[0]), "preset": preset,
                    "batch_size": config.batch_size, "context": config.context,
                    **compare_compile(config, args.rounds, args.steps, args.warmup)}
        target = None if args.no_target else (args.target_loss or TARGET_LOSS.get(preset))
        return benchmark(config, args.steps, args.warmup, args.peak_tflops, target, args.max_seconds)


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        result = run(args)
    except SettingsError as err:            # a bad setting: the message, no traceback
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
