"""Pytest hooks for the notebook run: how long each notebook took and the most memory its kernel
held, in one table; the run fails when a kernel needed more than Binder can give.

Binder gives 2 GB for the Jupyter server and the kernel together; the server takes about 0.1 GB,
so a notebook's kernel must stay under KERNEL_MEMORY_LIMIT_MB. The peak is the kernel's own
high-water mark (VmHWM in /proc, Linux only), read after each cell, so nothing between two
readings is missed.

One more hook marks the tests that need a CUDA GPU as `cuda`, for `pytest -m cuda`.
"""
import collections
import os

import pytest

KERNEL_MEMORY_LIMIT_MB = int(os.environ.get("COURSE_KERNEL_MEMORY_MB", 1700))   # settable, to try a tighter bar

_notebook_seconds = collections.defaultdict(float)
_notebook_peak_mb = collections.defaultdict(float)


def _children_peak_mb():
    """The largest high-water mark of resident memory among this process's children (the
    kernel that nbval started), in MB; None where /proc does not exist."""
    if not os.path.isdir("/proc"):
        return None
    peaks = []
    for pid in os.listdir("/proc"):
        try:
            with open(f"/proc/{pid}/stat") as stat:
                parent = int(stat.read().rsplit(")", 1)[1].split()[1])
            if parent != os.getpid():
                continue
            with open(f"/proc/{pid}/status") as status:
                for line in status:
                    if line.startswith("VmHWM:"):
                        peaks.append(int(line.split()[1]) / 1024)    # kB -> MB
        except (OSError, ValueError, IndexError):
            continue   # not a process, or it ended while we looked
    return max(peaks, default=0.0)


def pytest_runtest_logreport(report):
    path = report.nodeid.split("::")[0]
    if path.endswith(".ipynb"):
        _notebook_seconds[path] += report.duration
        if report.when != "call":
            return   # read while the notebook's own kernel runs, not while one starts or stops
        peak = _children_peak_mb()
        if peak is not None:
            _notebook_peak_mb[path] = max(_notebook_peak_mb[path], peak)


def _over_limit():
    return {path: mb for path, mb in _notebook_peak_mb.items() if mb > KERNEL_MEMORY_LIMIT_MB}


def pytest_terminal_summary(terminalreporter):
    if not _notebook_seconds:
        return
    measured = bool(_notebook_peak_mb)
    terminalreporter.section("per notebook: seconds (the bar: under 60 s on 2 cores) and the "
                             f"kernel's peak memory (the bar: {KERNEL_MEMORY_LIMIT_MB} MB, for Binder)")
    for path, seconds in sorted(_notebook_seconds.items()):
        memory = f"{_notebook_peak_mb[path]:6.0f} MB" if measured else "  (memory not measured here)"
        terminalreporter.write_line(f"{seconds:7.1f} s  {memory}  {path}")
    terminalreporter.write_line(f"{sum(_notebook_seconds.values()):7.1f} s  in all")
    for path, mb in _over_limit().items():
        terminalreporter.write_line(f"FAILED: {path} needed {mb:.0f} MB, more than the "
                                    f"{KERNEL_MEMORY_LIMIT_MB} MB a Binder kernel can have", red=True)


def pytest_sessionfinish(session, exitstatus):
    if _over_limit() and exitstatus == 0:
        session.exitstatus = 1


# ---------------------------------------------------------------------- the CUDA tests

def needs_cuda(item):
    """True for a test skipped without CUDA: a skipif whose reason names CUDA."""
    return any("cuda" in str(mark.kwargs.get("reason", "")).lower() for mark in item.iter_markers("skipif"))


@pytest.hookimpl(tryfirst=True)          # before `-m` deselects by marker
def pytest_collection_modifyitems(items):
    """Mark every test that needs a CUDA GPU with `cuda`, so that `pytest -m cuda` (the GPU check,
    tools/gpu_check.py) runs exactly those, without a list to keep up to date."""
    for item in items:
        if needs_cuda(item):
            item.add_marker(pytest.mark.cuda)
