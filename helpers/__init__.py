"""The course's helper package: what the notebooks build, importable.

Each module belongs to one stage of the course and names the notebook that builds it.
Submodules load on first use (``helpers.attention`` works after a plain ``import helpers``),
so importing the package stays quick.

Built in notebook 00_welcome: ``setup`` and ``device``.
"""
import importlib
import os
import platform
import random
import sys

__all__ = ["setup", "device", "describe_environment"]

_SUBMODULES = {
    "attention", "backprop", "bench", "embeddings", "exercises", "itdata", "model",
    "plots", "rnn", "text", "train", "widgets",
}


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
    """Seed Python, NumPy and torch; set print options and figure defaults; report versions.

    Call it once at the top of every notebook: ``helpers.setup(seed=0)``. It returns nothing, so
    the cell shows the same output on every machine but for the reported line; use `device()` for
    the device.
    """
    _seed_everything(seed)
    _set_print_and_figure_defaults()
    info = describe_environment()
    if not quiet:
        parts = [f"{name} {version}" for name, version in info.items() if name not in ("device", "gpu")]
        where = info["device"] + (f" ({info['gpu']})" if "gpu" in info else "")
        print(f"seed {seed} | " + ", ".join(parts) + f" | device: {where}")


if sys.version_info < (3, 10):  # pragma: no cover - a friendly word instead of a syntax error later
    raise ImportError("The course needs Python 3.10 or newer; this is " + platform.python_version())
