"""The Colab route: one install snippet at the top of every notebook's first code cell, and an
"Open in Colab" link in the markdown cell just before it.

    python tools/colab_cell.py notebooks/09_gpt_on_gpu.ipynb     # add or update them in notebooks
    python tools/colab_cell.py --check notebooks/*.ipynb         # exit 1 if any notebook differs

The snippet runs only in Google Colab (whose kernel has imported `google.colab` before any cell
runs) and only while `helpers` is missing: then it pip-installs the course from its GitHub
repository, once, and the cell goes on to `import helpers` as everywhere else. On a laptop, on
Binder and in CI it does nothing and prints nothing, so the notebooks' outputs stay as committed.

REPO is the one place the published repository is named here (the README's Binder badge names it
too; tests/test_colab.py checks that the two agree and that every notebook holds this very text).
Only the `source` of the two cells changes; ids, outputs and metadata are kept, and the file is
written the way nbformat writes it (indent 1, UTF-8, trailing newline), so the diff stays small.
Standard library only.
"""
import argparse
import json
import sys
from pathlib import Path

REPO = "transformers-step-by-step/transformers-step-by-step"     # GitHub OWNER/NAME
BRANCH = "main"                                                   # the branch Colab links open
INSTALL_URL = f"git+https://github.com/{REPO}"

SNIPPET = f"""\
# In Google Colab, install the course first (once; anywhere else this does nothing).
import importlib.util, sys
if "google.colab" in sys.modules and importlib.util.find_spec("helpers") is None:
    import subprocess
    print("Colab: installing the course from GitHub (about a minute)...")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q",
                    "{INSTALL_URL}"], check=True)
    importlib.invalidate_caches()"""

LINK_MARK = "https://colab.research.google.com/github/"


def colab_url(notebook_name):
    """Where Colab opens a notebook of the published repository."""
    return f"{LINK_MARK}{REPO}/blob/{BRANCH}/notebooks/{notebook_name}"


def link_line(notebook_name):
    return f"[Open in Colab]({colab_url(notebook_name)}): no install needed, the next cell installs the course there."


def first_code_index(nb):
    return next(i for i, cell in enumerate(nb["cells"]) if cell["cell_type"] == "code")


def split_snippet(code):
    """(the snippet at the top of a first code cell, or '' if none; the rest of the cell).
    A snippet is the cell's first block of lines (up to a blank line) that mentions google.colab."""
    block, _, rest = code.partition("\n\n")
    return (block, rest) if "google.colab" in block else ("", code)


def with_snippet(code):
    return SNIPPET + "\n\n" + split_snippet(code)[1]


def with_link(markdown, notebook_name):
    lines = [line for line in markdown.split("\n") if LINK_MARK not in line]
    text = "\n".join(lines).rstrip("\n")
    return text + "\n\n" + link_line(notebook_name)


def _lines(text):
    return text.splitlines(keepends=True)          # nbformat's list-of-lines `source`


def update(nb, notebook_name):
    """The notebook (a dict, changed in place and returned) with the snippet and the link."""
    code_index = first_code_index(nb)
    code = nb["cells"][code_index]
    code["source"] = _lines(with_snippet("".join(code["source"])))
    before = nb["cells"][code_index - 1] if code_index else None
    if before is None or before["cell_type"] != "markdown":
        raise SystemExit(f"{notebook_name}: the first code cell should follow a markdown cell")
    before["source"] = _lines(with_link("".join(before["source"]), notebook_name))
    return nb


def dumps(nb):
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a notebook differs")
    args = parser.parse_args(argv)
    differ = []
    for path in args.notebooks:
        text = path.read_text(encoding="utf-8")
        new = dumps(update(json.loads(text), path.name))
        if new == text:
            continue
        differ.append(path)
        if not args.check:
            path.write_text(new, encoding="utf-8")
    verb = "differ from tools/colab_cell.py" if args.check else "updated"
    for path in differ:
        print(f"{verb}: {path}")
    return 1 if args.check and differ else 0


if __name__ == "__main__":
    sys.exit(main())
