"""Where and how the GPT of notebook 09_gpt_on_gpu trains: the device, the precision,
torch.compile, and several GPUs under torchrun.

Everything here turns a machine's facts (which device, which GPU generation, how many processes)
into what the training loop in helpers/train.py needs, so that the loop itself reads the same on
a laptop and on a rack of GPUs. Built in notebook 09_gpt_on_gpu.
"""
import contextlib
import ctypes
import os
import sys

import torch

from helpers import device as best_device

COMPILE_ON, COMPILE_OFF = (True, "true", "on", "1"), (False, "false", "off", "0")


class SettingsError(ValueError):
    """A training setting that cannot work, here or anywhere (the CLIs print it without a traceback)."""


# ====================================================================== the device

def choose_device(requested="auto"):
    """'auto' becomes the best device here (cuda, then mps, then cpu); anything else stays as asked."""
    return best_device() if requested == "auto" else requested


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


def allow_tf32(device):
    """On a CUDA GPU, let float32 matmuls use the tensor cores (TF32: float32's range, 10-bit mantissa)."""
    if device.startswith("cuda"):
        torch.backends.cuda.matmul.allow_tf32 = True
        torch.backends.cudnn.allow_tf32 = True


# ====================================================================== precision and compile

def cuda_capability(device):
    """The GPU's compute capability, (8, 0) for an A100; (0, 0) for a CPU or a Mac."""
    return torch.cuda.get_device_capability(torch.device(device)) if device.startswith("cuda") else (0, 0)


def fast_dtype(capability):
    """bf16 has tensor cores from the A100 on (8.0). The V100 (7.0) and T4 (7.5) have them for
    float16 only, which needs a loss scaler (its range ends at 65,504). Older GPUs, CPUs and Macs
    train in float32. torch.compile (Triton) also needs 7.0 or newer."""
    return "bfloat16" if capability >= (8, 0) else "float16" if capability >= (7, 0) else "float32"


def resolve(config, capability=None):
    """Turn the 'auto' settings into what this machine does: (device, dtype, compile).

    config: anything with .device, .dtype and .compile (a TrainConfig). capability: the GPU's
    compute capability, read from the GPU when not given (a test passes one in to play an H100).
    """
    device = choose_device(config.device)
    _, world, local_rank = distributed()
    if world > 1 and device != "cpu":
        if device != "cuda":      # an explicit cuda:N would put every process on one GPU
            raise SettingsError(f"under torchrun each process takes the GPU of its LOCAL_RANK: give "
                                f"--device cuda (or auto), or cpu; got {device!r}")
        device = f"cuda:{local_rank}"
    if capability is None:
        capability = cuda_capability(device)
    dtype = config.dtype if config.dtype != "auto" else fast_dtype(capability)
    compiled = (config.compile == "auto" and capability >= (7, 0)) or config.compile in COMPILE_ON
    return device, dtype, compiled


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


def compile_before_the_clock(model, x, y, device, dtype):
    """Run one forward and backward of a compiled model so that torch.compile does its work now,
    before training is timed. Its dropout draws come from a forked random state: the run's own
    random stream is where it was (a resumed run then draws the same masks as an unbroken one).
    The caller zeroes the gradients this leaves."""
    gpus = [torch.device(device).index or 0] if device.startswith("cuda") else []
    with torch.random.fork_rng(devices=gpus):
        with autocast(device, dtype):
            _, loss = model(x, y)
        loss.backward()


def out_of_memory_error(device, config):
    """The SettingsError for a run that did not fit the device's memory: the settings that set the
    size (config: a TrainConfig), and what to change."""
    return SettingsError(
        f"{device_name(device)} ran out of memory training {config.n_layers} layers x "
        f"{config.d_model} wide on batch_size {config.batch_size} x context {config.context} "
        f"({config.batch_size * config.context:,} tokens a step): try --batch-size "
        f"{max(1, config.batch_size // 2)}, a shorter --context or a smaller model")


def maybe_compile(model, compiled):
    """torch.compile with static shapes (a second run in one process gets its own kernels), or the model."""
    return torch.compile(model, dynamic=False) if compiled else model


# ====================================================================== several GPUs (torchrun)

def distributed():
    """(rank, world_size, local_rank) from torchrun's environment, or (0, 1, 0) in one process."""
    if "RANK" not in os.environ or "WORLD_SIZE" not in os.environ:
        return 0, 1, 0
    return int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"]), int(os.environ.get("LOCAL_RANK", 0))


def join_process_group(device, world):
    """Under torchrun, join the other processes: NCCL between GPUs, gloo between CPUs."""
    if world > 1 and not torch.distributed.is_initialized():
        backend = "nccl" if device.startswith("cuda") else "gloo"
        if backend == "nccl":
            torch.cuda.set_device(device)
        torch.distributed.init_process_group(backend)


def leave_process_group():
    """The end of a torchrun process's run (nothing to do in one process)."""
    if distributed()[1] > 1 and torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()


def data_parallel(model, device, world):
    """DistributedDataParallel under torchrun (it averages the gradients of all processes)."""
    if world == 1:
        return model
    ids = [torch.device(device).index] if device.startswith("cuda") else None
    return torch.nn.parallel.DistributedDataParallel(model, device_ids=ids)


def largest_over_processes(value, device, world):
    """The largest of every process's value (one float): all processes then agree on it."""
    if world == 1:
        return value
    tensor = torch.tensor([value], dtype=torch.float64, device=device)
    torch.distributed.all_reduce(tensor, op=torch.distributed.ReduceOp.MAX)
    return tensor.item()


def flag_of_first_process(flag, device, world):
    """Rank 0's flag, sent to every process (so that all stop at the same step)."""
    if world == 1:
        return flag
    tensor = torch.tensor([float(flag)], device=device)
    torch.distributed.broadcast(tensor, src=0)
    return bool(tensor.item())


def weight_sums_of_every_process(model, world):
    """Every process's sum of each weight tensor, gathered: equal rows mean DDP kept them in step."""
    sums = torch.stack([p.detach().double().sum() for p in model.parameters()])   # (n_tensors,)
    gathered = [torch.zeros_like(sums) for _ in range(world)]
    torch.distributed.all_gather(gathered, sums)
    return [g.tolist() for g in gathered]

