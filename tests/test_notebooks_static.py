"""The committed notebooks read well where widgets do not run (GitHub, nbviewer, slides).

Every notebook that displays a widget also carries, in an earlier cell, a static picture (an
image/png output) of that widget's default state; a widget whose output is text (01's shape
playground, 00's word finder) may instead print its default state in the code cell just before it.
Every figure carries alternative text for screen readers and the exported slides. Covers whatever
notebooks/NN_*.ipynb exist.
"""
import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def code_cells(path):
    return [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]


def output_types(cell):
    return {mime for output in cell.get("outputs", []) for mime in output.get("data", {})}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_each_widget_has_a_static_picture_before_it(path):
    cells = code_cells(path)
    widget_cells = [i for i, cell in enumerate(cells) if WIDGET_VIEW in output_types(cell)]
    for i in widget_cells:
        earlier = [j for j in range(i) if "image/png" in output_types(cells[j])]
        if i > 0 and any(o["output_type"] == "stream" for o in cells[i - 1].get("outputs", [])):
            earlier.append(i - 1)  # a text widget's default state, printed
        assert earlier, (
            f"{path.name}: the widget in code cell {i + 1} has no static figure before it. Draw the "
            f"widget's default state with matplotlib in an earlier cell (CONTRIBUTING.md, Widgets)")
        # the picture belongs to this widget, not to one shown before an earlier widget
        previous_widget = max([w for w in widget_cells if w < i], default=-1)
        assert max(earlier) > previous_widget, (
            f"{path.name}: code cell {i + 1} shows a second widget with no static figure of its own "
            f"between it and the widget in code cell {previous_widget + 1}")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_each_figure_has_alternative_text(path):
    # nbconvert (and so `make slides`) uses a code cell's metadata "alt" for the images it outputs
    for i, cell in enumerate(code_cells(path)):
        if "image/png" in output_types(cell):
            alt = cell["metadata"].get("alt", "").strip()
            assert len(alt) > 20, (
                f"{path.name}: code cell {i + 1} draws a figure without alternative text. Add to the "
                f"cell's metadata \"alt\": a sentence on what the figure shows (CONTRIBUTING.md, Figures)")


def test_there_are_notebooks_to_check():
    assert NOTEBOOKS, "no notebooks/NN_*.ipynb found"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_no_notebook_takes_a_value_from_setup(path):
    # helpers.setup() returns nothing: `device = helpers.setup()` made notebook 09 pick its cpu preset
    # on every GPU. The device comes from helpers.device().
    for cell in code_cells(path):
        source = "".join(cell["source"])
        assert not re.search(r"=\s*helpers\.setup\(", source), (
            f"{path.name}: helpers.setup() returns None; use helpers.device() for the device")
