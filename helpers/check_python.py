"""Can this Python hold the course? Run by `make` before it creates .venv (standard library only),
so that notebook 00_welcome's environment check never meets a Python that cannot install torch.

    python3 helpers/check_python.py     # exit 0, or a message that says what to do, and exit 1
"""
import platform
import sys


def problem(version=sys.version_info[:2], system=sys.platform, machine=platform.machine()):
    """None if this Python can install the course's torch, else what to do instead."""
    if version < (3, 10):
        return (f"The course needs Python 3.10 or newer; this one is {version[0]}.{version[1]}. "
                "Install a newer one and name it: make lab PYTHON=python3.12")
    if system == "darwin" and machine == "x86_64":
        return ("This Python runs as x86_64 on a Mac (an Intel Mac, or Rosetta on Apple Silicon): PyTorch's "
                "pip wheels for it stop at torch 2.2 and the course needs 2.4. On Apple Silicon use a native "
                "arm64 Python (make lab PYTHON=/opt/homebrew/bin/python3); on an Intel Mac try the README's "
                "conda route, or Binder.")
    return None


if __name__ == "__main__":
    message = problem()
    if message:
        sys.exit(message)
