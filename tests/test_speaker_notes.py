"""Speaker notes: every deck carries notes for the lecturer on the slides that carry its argument.

A notes cell is a markdown cell whose slideshow slide_type is "notes". reveal.js's speaker view
(key S in a deck built by `make slides`) shows it with its slide; JupyterLab shows it as an
ordinary markdown cell, so each starts with MARKER, stays short, and is tagged "optional" (so
nbstats counts it outside the core path). Every top-level section (a "## " heading) has at least
one; every widget's slide has one that says what to move and what the room should see ("**Live:**").
tools/add_notes.py inserts notes without touching anything else; LECTURES.md is the lecture plan
they serve. tests/browser/test_slides.py finds the notes in a built deck and its speaker view.
"""
import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
sys.path.insert(0, str(ROOT / "tools"))
import add_notes  # noqa: E402  (tools/ is not a package)

MARKER = add_notes.MARKER                 # "**For the lecturer.**"
MAX_WORDS = 100                           # a note is read at a glance, mid-lecture
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"

def cells_of(path):
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def slide_type(cell):
    return cell.get("metadata", {}).get("slideshow", {}).get("slide_type", "-")


def is_notes(cell):
    return slide_type(cell) == "notes"


def source(cell):
    return "".join(cell["source"])


def sections(cells):
    """{heading: [cells]} for each top-level section: from a "## " heading to the next one."""
    found, current = {}, None
    for cell in cells:
        if cell["cell_type"] == "markdown" and not is_notes(cell):
            heading = re.search(r"^## (.+)$", source(cell), re.M)
            if heading:
                current = heading.group(1).strip()
                found[current] = []
        if current is not None:
            found[current].append(cell)
    return found


def subslides(cells):
    """The cells grouped as reveal.js shows them: a new group at every slide or subslide."""
    groups = [[]]
    for cell in cells:
        if slide_type(cell) in ("slide", "subslide") and groups[-1]:
            groups.append([])
        groups[-1].append(cell)
    return groups


def has_widget(cell):
    return any(WIDGET_VIEW in output.get("data", {}) for output in cell.get("outputs", []))


def missing_sections(path):
    return [heading for heading, group in sections(cells_of(path)).items() if not any(map(is_notes, group))]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_section_has_speaker_notes(path):
    missing = missing_sections(path)
    assert sections(cells_of(path)), f"{path.name} has no '## ' sections"
    assert not missing, (
        f"{path.name}: no speaker notes in the section(s) {missing}. Add a markdown cell with slide type "
        f"'notes', starting {MARKER!r} and tagged 'optional': tools/add_notes.py does it")
    notes = [source(cell) for cell in cells_of(path) if is_notes(cell)]
    assert any("**Ask:**" in note for note in notes), (
        f"{path.name}: no note asks the room a question ('**Ask:** ...') before an answer is shown")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_widget_slide_has_a_live_note(path):
    for group in subslides(cells_of(path)):
        if any(map(has_widget, group)):
            first = source(group[0]).strip().splitlines()[0][:60]
            assert any(is_notes(cell) and "**Live:**" in source(cell) for cell in group), (
                f"{path.name}: the slide starting {first!r} shows a widget but has no '**Live:**' note "
                "saying what to move and what the room should see")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notes_are_short_marked_optional_and_shown_with_their_whole_slide(path):
    in_fragment, seen_visible, ids = False, False, set()
    for cell in cells_of(path):
        kind = slide_type(cell)
        if kind in ("slide", "subslide"):
            in_fragment = False
        elif kind == "fragment":
            in_fragment = True
        if kind not in ("notes", "skip"):
            seen_visible = True
        if not is_notes(cell):
            continue
        text = source(cell)
        where = f"{path.name}, notes cell {cell.get('id')!r}"
        assert cell["cell_type"] == "markdown", f"{where}: notes are markdown cells"
        assert text.startswith(MARKER), f"{where}: start it with {MARKER!r}, so a reader in JupyterLab knows"
        assert "optional" in cell["metadata"].get("tags", []), (
            f"{where}: tag it 'optional', so that nbstats counts it outside the core path")
        assert len(text.split()) <= MAX_WORDS, f"{where}: {len(text.split())} words; keep a note under {MAX_WORDS}"
        assert not re.search(r"^#", text, re.M), (
            f"{where}: no headings in a note (nbstats would read it as a section of the notebook)")
        assert seen_visible, f"{where}: a note before the first slide belongs to no slide"
        # reveal.js's speaker view shows a note inside a fragment only while that fragment is the
        # current one; a note before the slide's first fragment is shown for the whole slide.
        assert not in_fragment, (
            f"{where}: it sits after a fragment of its slide, so the speaker view shows it only on that "
            "fragment; move it before the slide's first fragment cell")
        assert cell.get("id") not in ids, f"{where}: the id is used twice"
        ids.add(cell.get("id"))


def test_add_notes_puts_back_exactly_what_it_was_given(tmp_path):
    # Take a notebook's notes out, give them to tools/add_notes.py, and get the same bytes back:
    # it changes nothing else and writes the file as nbformat does. A second run adds nothing.
    path = NOTEBOOKS[0]
    original = path.read_text(encoding="utf-8")
    nb = json.loads(original)
    notes, note_ids, previous = [], [], None
    for cell in nb["cells"]:
        if is_notes(cell):
            notes.append({"after_cell_id": previous, "source": source(cell)})
            note_ids.append(cell["id"])
        else:
            previous = cell["id"]
    assert notes, f"{path.name} has no notes to take out"
    nb["cells"] = [cell for cell in nb["cells"] if not is_notes(cell)]
    assert add_notes.add_notes(nb, notes) == len(notes)
    inserted = [cell for cell in nb["cells"] if is_notes(cell)]
    assert all(cell["id"].startswith("notes-") for cell in inserted)
    for cell, cell_id in zip(inserted, note_ids):    # ids are fresh; the rest must be the same bytes
        cell["id"] = cell_id
    copy = tmp_path / path.name
    add_notes.write_notebook(nb, copy)
    assert copy.read_text(encoding="utf-8") == original, "add_notes changed more than it was asked to"
    assert add_notes.add_notes(nb, notes) == 0, "a second run inserted the notes again"
    with pytest.raises(KeyError, match="no cell with id"):
        add_notes.add_notes(nb, [{"after_cell_id": "no-such-cell", "source": MARKER + " x"}])
