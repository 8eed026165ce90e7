"""Tests of helpers/check_python.py: the Python check make runs before it creates .venv."""
from pathlib import Path

from helpers import check_python


def test_make_checks_the_python_before_it_creates_the_environment():
    assert check_python.problem() is None                                   # this Python is fine
    assert "3.10 or newer; this one is 3.9" in check_python.problem(version=(3, 9))
    assert "Rosetta" in check_python.problem(version=(3, 12), system="darwin", machine="x86_64")
    assert check_python.problem(version=(3, 12), system="darwin", machine="arm64") is None
    assert check_python.problem(version=(3, 12), system="linux", machine="x86_64") is None
    makefile = (Path(__file__).resolve().parents[1] / "Makefile").read_text()
    assert "$(PYTHON) helpers/check_python.py && $(PYTHON) -m venv $(VENV)" in makefile
