"""The Colab route (tools/colab_cell.py): every notebook's first code cell starts with the same
install snippet, each notebook and the README's map link Colab, and the snippet does what it says.

Colab itself cannot run here, so the snippet runs in a fresh virtual environment with a stand-in
`google.colab` module (an empty package on PYTHONPATH, imported first, as Colab's kernel does)
and the course's local files instead of its GitHub URL. The install uses --no-deps and no package
index: nothing is downloaded (the fresh environment borrows pip and the build backend, setuptools,
from the one running the tests, by links), so the test checks that the course builds and that
`import helpers` then works, not that its dependencies resolve on Colab.
"""
import importlib.metadata
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))

_spec = importlib.util.spec_from_file_location("colab_cell", ROOT / "tools" / "colab_cell.py")
colab_cell = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(colab_cell)


def _notebook(path):
    return json.loads(path.read_text(encoding="utf-8"))


def _first_code(path):
    nb = _notebook(path)
    return "".join(nb["cells"][colab_cell.first_code_index(nb)]["source"])


def test_there_are_notebooks_to_check():
    assert len(NOTEBOOKS) >= 10


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_has_the_snippet_and_the_link_exactly(path):
    snippet, rest = colab_cell.split_snippet(_first_code(path))
    assert snippet == colab_cell.SNIPPET, (
        f"{path.name}: its first code cell's install snippet differs from tools/colab_cell.py's; "
        f"run `python tools/colab_cell.py {path.relative_to(ROOT)}`")
    assert re.search(r"^import helpers$", rest, re.M), "after the snippet the cell imports helpers"
    # The whole file is what the tool writes: the link line in place, nothing else touched.
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "colab_cell.py"), "--check", str(path)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_snippet_is_short_plain_python_naming_the_repository_once():
    compile(colab_cell.SNIPPET, "snippet", "exec")
    assert "\n\n" not in colab_cell.SNIPPET and len(colab_cell.SNIPPET.splitlines()) <= 8
    assert colab_cell.SNIPPET.count(colab_cell.INSTALL_URL) == 1


def test_readme_binder_badge_and_colab_links_name_the_same_repository():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    binder = re.findall(r"https://mybinder\.org/v2/gh/([^/\s]+/[^/\s]+)/", readme)
    assert binder and set(binder) == {colab_cell.REPO}, (
        f"the Binder badge names {binder}, tools/colab_cell.py's REPO is {colab_cell.REPO!r}: "
        f"change both (CONTRIBUTING.md, 'Where the course is published')")
    colab_links = set(re.findall(r"\((https://colab\.research\.google\.com/github/[^)\s]+)\)", readme))
    assert colab_links == {colab_cell.colab_url(p.name) for p in NOTEBOOKS}, (
        "the README's map should give each notebook one Colab link, "
        "tools/colab_cell.colab_url(name); these differ: "
        f"{sorted(colab_links ^ {colab_cell.colab_url(p.name) for p in NOTEBOOKS})}")


# ---------------------------------------------------------------- the snippet, run for real

DRIVER = """\
import importlib.util, sys
try:
    import google.colab          # Colab's kernel imports it before any cell runs
except ImportError:
    pass
exec(compile(sys.argv[1], "first code cell", "exec"))
spec = importlib.util.find_spec("helpers")
print("helpers:", spec.origin if spec else None)
if spec:
    import helpers               # what the notebook's cell does next
"""


def _borrow_build_tools(site_packages):
    """Link pip and setuptools of the running Python into a fresh environment's site-packages."""
    for name in ("pip", "setuptools"):
        dist = importlib.metadata.distribution(name)
        home = Path(dist.locate_file(""))
        entries = [name, f"{name}-{dist.version}.dist-info", "_distutils_hack", "pkg_resources"]
        for entry in entries:
            if (home / entry).exists() and not (site_packages / entry).exists():
                (site_packages / entry).symlink_to(home / entry)


@pytest.fixture(scope="module")
def fresh_env(tmp_path_factory):
    backend = tomllib.loads((ROOT / "pyproject.toml").read_text())["build-system"]["requires"]
    for requirement in map(Requirement, backend):
        try:
            version = importlib.metadata.version(requirement.name)
        except importlib.metadata.PackageNotFoundError:
            pytest.skip(f"{requirement.name} is not installed here; the offline build needs {requirement}")
        if not requirement.specifier.contains(version, prereleases=True):
            pytest.skip(f"the offline build needs {requirement}, this Python has {version}")
    tmp = tmp_path_factory.mktemp("colab")
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site_packages = Path(subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                        capture_output=True, text=True, check=True).stdout.strip())
    _borrow_build_tools(site_packages)
    source = tmp / "course"                       # a copy: the build writes build/ and egg-info there
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, source / name)
    shutil.copytree(ROOT / "helpers", source / "helpers", ignore=shutil.ignore_patterns("__pycache__"))
    standin = tmp / "standin" / "google" / "colab"
    standin.mkdir(parents=True)
    (standin / "__init__.py").write_text('"""Stands in for Colab\'s google.colab in tests/test_colab.py."""\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "PYTHON"))}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_NO_INDEX="1", PIP_NO_DEPS="1", PIP_DISABLE_PIP_VERSION_CHECK="1",
               PIP_NO_BUILD_ISOLATION="0")     # pip reads this one inverted: "0" means --no-build-isolation
    snippet = colab_cell.SNIPPET.replace(colab_cell.INSTALL_URL, str(source))
    assert snippet != colab_cell.SNIPPET

    def run_first_cell(in_colab):
        run_env = dict(env, PYTHONPATH=str(tmp / "standin")) if in_colab else env
        result = subprocess.run([python, "-c", DRIVER, snippet], cwd=tmp, env=run_env,
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stdout + result.stderr
        return result

    return run_first_cell, site_packages


def test_snippet_installs_the_course_only_in_colab(fresh_env):
    run_first_cell, site_packages = fresh_env
    # Not in Colab (a laptop, Binder, CI) and no course installed: nothing happens, nothing printed.
    outside = run_first_cell(in_colab=False)
    assert (outside.stdout, outside.stderr) == ("helpers: None\n", "")
    # In Colab without the course: one visible install, then `import helpers` works.
    first = run_first_cell(in_colab=True)
    assert first.stdout.startswith("Colab: installing the course")
    origin = first.stdout.splitlines()[-1].removeprefix("helpers: ")
    assert Path(origin).is_relative_to(site_packages), first.stdout + first.stderr
    # In Colab again (the cell run a second time): the course is there, so nothing happens.
    again = run_first_cell(in_colab=True)
    assert (again.stdout, again.stderr) == (f"helpers: {origin}\n", "")
