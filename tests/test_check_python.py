"""Tests of helpers/check_python.py: the Python check make runs before it creates .venv."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import check_python

ROOT = Path(__file__).resolve().parents[1]


def test_the_check_names_what_to_do_for_an_old_python_or_an_intel_mac_one():
    assert check_python.problem() is None                                   # this Python is fine
    assert "3.10 or newer; this one is 3.9" in check_python.problem(version=(3, 9))
    assert "Rosetta" in check_python.problem(version=(3, 12), system="darwin", machine="x86_64")
    assert check_python.problem(version=(3, 12), system="darwin", machine="arm64") is None
    assert check_python.problem(version=(3, 12), system="linux", machine="x86_64") is None


def _fake_python(folder, version):
    """A `python` for make that runs the real check as if it were `version`, and only notes
    (in a file) that it was asked to create the environment."""
    script = folder / "python"
    script.write_text(
        "#!/bin/sh\n"
        f'if [ "$1" = "-m" ]; then touch "{folder}/venv-created"; exit 0; fi\n'
        f'exec "{sys.executable}" -c "import runpy, sys; sys.version_info = {tuple(version) + (0, "final", 0)!r}; '
        "runpy.run_path(sys.argv[1], run_name='__main__')\" \"$@\"\n")
    script.chmod(0o755)
    return script


@pytest.mark.skipif(shutil.which("make") is None or sys.platform == "win32", reason="needs make and sh")
@pytest.mark.parametrize("version, refused", [((3, 9), True), ((3, 12), False)])
def test_make_checks_the_python_before_it_creates_the_environment(tmp_path, version, refused):
    python = _fake_python(tmp_path, version)
    done = subprocess.run(["make", "--no-print-directory", "install", f"PYTHON={python}", f"VENV={tmp_path}/venv"],
                          cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0       # (the fake never makes a real environment for pip to use)
    assert ("3.10 or newer; this one is 3.9" in done.stderr) == refused
    assert (tmp_path / "venv-created").exists() == (not refused)
