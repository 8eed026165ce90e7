"""tools/seed_check.py: it shifts every seed literal by the same amount and leaves other numbers alone
(running the shifted notebooks is the tool's job, minutes long, not the unit tests')."""
import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("seed_check", ROOT / "tools" / "seed_check.py")
seed_check = importlib.util.module_from_spec(spec)
spec.loader.exec_module(seed_check)


def test_every_kind_of_seed_is_shifted_and_distinct_seeds_stay_distinct():
    source = ("helpers.setup(seed=0)\ntorch.manual_seed(1)\nrng = np.random.default_rng(7)\n"
              "u = truncated_svd(m, rank=100, seed=1)\ng = torch.Generator().manual_seed(10_000 + seed)")
    shifted = seed_check.shift_seeds(source, 2)
    assert shifted == ("helpers.setup(seed=2)\ntorch.manual_seed(3)\nrng = np.random.default_rng(9)\n"
                       "u = truncated_svd(m, rank=100, seed=3)\ng = torch.Generator().manual_seed(10002 + seed)")


def test_other_numbers_and_seed_variables_are_left_alone():
    source = "x = torch.randn(4, 12)\nmodel = make(kind, seed=seed)\nsteps = 300"
    assert seed_check.shift_seeds(source, 5) == source


def test_the_first_code_cell_and_markdown_are_not_touched(tmp_path):
    notebook = {"cells": [
        {"cell_type": "markdown", "source": "seed=0 in prose"},
        {"cell_type": "code", "source": "helpers.setup(seed=0)  # the Colab cell"},
        {"cell_type": "code", "source": ["torch.manual_seed(0)\n", "x = 1"]}],
        "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps(notebook))
    cells = seed_check.shifted_notebook(path, 1)["cells"]
    assert cells[0]["source"] == "seed=0 in prose" and cells[1]["source"] == "helpers.setup(seed=0)  # the Colab cell"
    assert cells[2]["source"] == "torch.manual_seed(1)\nx = 1"


def test_by_default_it_checks_notebooks_00_to_07():
    names = [Path(p).name[:2] for p in seed_check.DEFAULT_NOTEBOOKS]
    assert names == ["00", "01", "02", "03", "04", "05", "06", "07"]
