"""Insert speaker notes into a notebook, changing nothing else in it.

    python tools/add_notes.py NOTES.json notebooks/NN_name.ipynb
    python tools/add_notes.py --replace NOTES.json notebooks/NN_name.ipynb   # drop its old notes first

NOTES.json is a list of {"after_cell_id": ID, "source": TEXT}. Each entry becomes a markdown cell
right after the cell with that id: slide type "notes" (reveal.js's speaker view, key S, shows it
with its slide; JupyterLab shows it as an ordinary markdown cell) and the tag "optional" (so
nbstats counts it outside the core path), with a fresh id "notes-<ID>". Every other cell, output
and execution count stays byte for byte, so no re-execution is needed; the file is written the
way nbformat writes it (indent 1, UTF-8 unescaped, keys sorted, a trailing newline).

Running it twice changes nothing: a note whose text already follows its cell is skipped. With
--replace, the notebook's existing notes cells (slide type "notes" and the marker below) are
removed first, so an edited NOTES.json can be applied again. An unknown cell id is an error that
names the notebook's ids, nothing is written then. tests/test_speaker_notes.py checks the notes
this writes (CONTRIBUTING.md, Slides).
"""
import argparse
import json
import re
import sys
from pathlib import Path

MARKER = "**For the lecturer.**"      # every notes cell starts with it


def is_note(cell):
    return (cell["cell_type"] == "markdown"
            and cell.get("metadata", {}).get("slideshow", {}).get("slide_type") == "notes"
            and "".join(cell["source"]).startswith(MARKER))


def notes_cell(cell_id, source):
    return {"cell_type": "markdown", "id": cell_id,
            "metadata": {"slideshow": {"slide_type": "notes"}, "tags": ["optional"]},
            "source": source.strip("\n").splitlines(keepends=True)}


def fresh_id(after_id, taken):
    base = re.sub(r"[^A-Za-z0-9_-]", "-", f"notes-{after_id}")[:60]
    cell_id, n = base, 2
    while cell_id in taken:
        cell_id, n = f"{base}-{n}", n + 1
    return cell_id


def add_notes(nb, notes, replace=False):
    """Return the number of notes inserted into nb (a notebook dict, changed in place)."""
    if replace:
        nb["cells"] = [cell for cell in nb["cells"] if not is_note(cell)]
    ids = [cell.get("id") for cell in nb["cells"]]
    unknown = [note["after_cell_id"] for note in notes if note["after_cell_id"] not in ids]
    if unknown:
        raise KeyError(f"no cell with id {unknown}; the notebook's ids are {ids}")
    bad = [note["source"][:40] for note in notes if not note["source"].startswith(MARKER)]
    if bad:
        raise ValueError(f"every note starts with {MARKER!r}; these do not: {bad}")
    inserted = 0
    for note in notes:
        at = next(i for i, cell in enumerate(nb["cells"]) if cell.get("id") == note["after_cell_id"])
        following = []                                  # the notes already right after that cell
        for cell in nb["cells"][at + 1:]:
            if not is_note(cell):
                break
            following.append("".join(cell["source"]))
        if note["source"].strip("\n") in following:
            continue
        taken = {cell.get("id") for cell in nb["cells"]}
        nb["cells"].insert(at + 1 + len(following), notes_cell(fresh_id(note["after_cell_id"], taken), note["source"]))
        inserted += 1
    return inserted


def write_notebook(nb, path):
    Path(path).write_text(json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notes", help="JSON list of {after_cell_id, source}")
    parser.add_argument("notebook")
    parser.add_argument("--replace", action="store_true", help="remove the notebook's notes cells first")
    args = parser.parse_args(argv)
    notes = json.loads(Path(args.notes).read_text(encoding="utf-8"))
    nb = json.loads(Path(args.notebook).read_text(encoding="utf-8"))
    try:
        inserted = add_notes(nb, notes, replace=args.replace)
    except (KeyError, ValueError) as err:
        print(f"{args.notebook}: {err.args[0]}", file=sys.stderr)
        return 1
    write_notebook(nb, args.notebook)
    print(f"{args.notebook}: {inserted} notes inserted, {sum(map(is_note, nb['cells']))} in all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
