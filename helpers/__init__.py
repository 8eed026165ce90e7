"""The course's helper package: what the notebooks build, importable.

Each module belongs to one stage of the course and names the notebook that builds it.
Submodules load on first use (``helpers.attention`` works after a plain ``import helpers``),
so importing the package stays quick.

Built in notebook 00_welcome: ``setup`` and ``device``.
"""
import contextlib
import importlib
import math
import os
import pkgutil
import platform
import random
import sys
from pathlib import Path

__all__ = ["setup", "device", "describe_environment", "cpu_quota", "match_threads_to_cpus", "one_thread"]

# Every module and sub-package in this folder, read from the folder itself: a new module is
# reachable as `helpers.<name>` the moment its file exists, with no list to keep up to date.
_SUBMODULES = frozenset(module.name for module in pkgutil.iter_modules(__path__))


def __getattr__(name):
    # Lazy submodules: `helpers.attention` imports helpers/attention.py the first time it is used.
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module 'helpers' has no attribute {name!r}")


def device():
    """The best device here, as a string: 'cuda', then 'mps' (Apple), then 'cpu'."""
    import torch

    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return "cpu"


def cpu_quota(root="/"):
    """How many CPUs this process may use by its container's quota (Binder, Kubernetes, Docker
    --cpus), as a float, or None when there is none. Reads Linux cgroups (v2, then v1)."""
    root = Path(root)
    quota = _cgroup_v2_quota(root)
    return quota if quota is not None else _cgroup_v1_quota(root)


def _cgroup_v2_quota(root):
    try:
        lines = (root / "proc/self/cgroup").read_text().splitlines()
    except OSError:                                     # not Linux
        return None
    folders = [root / "sys/fs/cgroup"]
    own = [line.split("::", 1)[1] for line in lines if line.startswith("0::")]
    if own:           # the process's own cgroup first (without a cgroup namespace, a sub-folder)
        folders.insert(0, root / "sys/fs/cgroup" / own[0].lstrip("/"))
    for folder in folders:
        try:
            quota, period = (folder / "cpu.max").read_text().split()     # "max 100000" or "100000 100000"
        except (OSError, ValueError):
            continue
        return None if quota == "max" else int(quota) / int(period)
    return None


def _cgroup_v1_quota(root):
    try:
        quota = int((root / "sys/fs/cgroup/cpu/cpu.cfs_quota_us").read_text())     # -1: no quota
        period = int((root / "sys/fs/cgroup/cpu/cpu.cfs_period_us").read_text())
    except (OSError, ValueError):
        return None
    return None if quota <= 0 else quota / period


def match_threads_to_cpus(quiet=False):
    """Use no more torch threads than the CPUs the container's quota allows, and return the number.

    PyTorch starts one thread per CPU it can see, but a container limited to 1 CPU (Binder) still
    sees every CPU of its host: 16 threads then take turns on one CPU and a training step of
    notebook 09 runs about 2x slower (measured with 16 threads on 2 CPUs). An OMP_NUM_THREADS
    you set yourself is left alone.
    """
    import torch

    quota = cpu_quota()
    if quota is None or "OMP_NUM_THREADS" in os.environ:
        return torch.get_num_threads()
    allowed = max(1, math.ceil(quota))
    if allowed < torch.get_num_threads():
        if not quiet:
            print(f"torch threads: {torch.get_num_threads()} -> {allowed} (this container may use {quota:g} CPU)")
        torch.set_num_threads(allowed)
    return torch.get_num_threads()


@contextlib.contextmanager
def one_thread():
    """Run torch on one CPU thread inside the `with` (or a function it decorates), then put the
    thread count back. For the tiny models of notebooks 06 to 08: their matrices are so small that
    more threads mostly wait for each other (4x slower, measured on a busy 2-core machine)."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def describe_environment():
    """Versions and the device, as a dict of short strings (what `setup` reports)."""
    import matplotlib
    import numpy
    import torch

    info = {
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "torch": torch.__version__.split("+")[0],
        "matplotlib": matplotlib.__version__,
        "device": device(),
    }
    if info["device"] == "cuda":
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


def _seed_everything(seed):
    import numpy
    import torch

    random.seed(seed)
    numpy.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA device
    os.environ["PYTHONHASHSEED"] = str(seed)


def _set_print_and_figure_defaults():
    import matplotlib
    import numpy
    import torch

    # Four decimals: floats differ in the last digits between CPUs, rounded prints do not.
    numpy.set_printoptions(precision=4, suppress=True, linewidth=100)
    torch.set_printoptions(precision=4, sci_mode=False, linewidth=100)
    matplotlib.rcParams.update({
        "figure.figsize": (6.4, 3.6), "figure.dpi": 80, "savefig.dpi": 80,
        "axes.grid": True, "grid.alpha": 0.3, "axes.spines.top": False,
        "axes.spines.right": False, "font.size": 11, "image.cmap": "viridis",
    })


def setup(seed=0, quiet=False):
    """Seed Python, NumPy and torch; set print options and figure defaults; use as many threads
    as the machine's CPU quota allows (`match_threads_to_cpus`); report versions.

    Call it once at the top of every notebook: ``helpers.setup(seed=0)``. It returns nothing, so
    the cell shows the same output on every machine but for the reported line; use `device()` for
    the device.
    """
    import torch

    _seed_everything(seed)
    _set_print_and_figure_defaults()
    threads_before = torch.get_num_threads()
    threads = match_threads_to_cpus(quiet=True)
    info = describe_environment()
    if not quiet:
        parts = [f"{name} {version}" for name, version in info.items() if name not in ("device", "gpu")]
        where = info["device"] + (f" ({info['gpu']})" if "gpu" in info else "")
        if threads < threads_before:      # on the same line: nbval's sanitizer reads it as one
            where += f", {threads} torch thread(s) for this container's CPU quota (not {threads_before})"
        print(f"seed {seed} | " + ", ".join(parts) + f" | device: {where}")


if sys.version_info < (3, 10):  # pragma: no cover - a friendly word instead of a syntax error later
    raise ImportError("The course needs Python 3.10 or newer; this is " + platform.python_version())
