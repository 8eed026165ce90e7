"""Repository checks: what a maintainer could break without any unit test noticing."""
import json
import pathlib
import re
import tomllib

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = pathlib.Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
HELPER_MODULES = sorted(p for p in (ROOT / "helpers").glob("*.py") if p.name != "__init__.py")


def _pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _requirement_name(spec):
    return re.split(r"[<>=!~\[; ]", spec, maxsplit=1)[0].lower().replace("_", "-")


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 2, "notebooks/ should hold the numbered notebooks"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_committed_after_a_clean_run_all(path):
    nb = json.loads(path.read_text())
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    code = [c for c in nb["cells"] if c["cell_type"] == "code" and "".join(c["source"]).strip()]
    counts = [c["execution_count"] for c in code]
    assert counts == list(range(1, len(code) + 1)), (
        f"{path.name}: execution counts {counts[:10]}...: run `make execute NOTEBOOKS={path.relative_to(ROOT)}`")
    errors = [o for c in code for o in c["outputs"] if o["output_type"] == "error"]
    assert not errors, f"{path.name} was committed with an error output: {errors[0].get('ename')}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_has_title_slides_and_exercises(path):
    nb = json.loads(path.read_text())
    markdown = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown"]
    assert markdown and markdown[0].startswith(f"# {path.name[:2]} · "), "open with '# NN · Title'"
    assert all("slideshow" in c["metadata"] for c in nb["cells"]), "every cell needs slide metadata"
    if not path.name.startswith("00"):
        assert any(re.search(r"^## Exercises", m, re.M) for m in markdown), "end with '## Exercises'"
    assert path.stat().st_size < 3_000_000, "keep notebooks under 3 MB (smaller figures)"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_starts_with_setup_and_leaks_no_machine_path(path):
    nb = json.loads(path.read_text())
    first_code = next("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
    assert "helpers.setup(seed=" in first_code, "the first code cell calls helpers.setup(seed=...)"
    text = json.dumps([c.get("outputs", []) for c in nb["cells"]])
    leak = re.search(r"(/root/|/home/\w|/work/|/tmp/(?!ipykernel))", text)
    assert not leak, f"{path.name}: an output shows a machine path near {text[leak.start():leak.start() + 40]!r}"


@pytest.mark.parametrize("path", HELPER_MODULES, ids=lambda p: p.name)
def test_helper_module_names_its_notebook_and_has_tests(path):
    source = path.read_text()
    docstring = re.match(r'\s*"""(.*?)"""', source, re.S)
    assert docstring and re.search(r"\b0\d_\w+|notebook", docstring.group(1)), (
        f"helpers/{path.name}: the module docstring should name the notebook that builds it")
    assert (ROOT / "tests" / f"test_{path.stem}.py").exists(), f"tests/test_{path.stem}.py is missing"


def test_readme_map_links_every_notebook_and_leads_with_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    for path in NOTEBOOKS:
        assert f"(notebooks/{path.name})" in readme, f"README's map should link {path.name}"
    commands = readme.split("```")[1]
    assert "make lab" in commands and "make test" in commands


def test_constraints_pin_every_dependency():
    pinned = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            pinned[name.lower().replace("_", "-")] = version
    deps = _pyproject()["project"]["dependencies"]
    extras = _pyproject()["project"].get("optional-dependencies", {})
    for spec in deps + [d for group in extras.values() for d in group]:
        requirement = Requirement(spec)
        name = _requirement_name(spec)
        assert name in pinned, f"constraints.txt does not pin {spec}"
        assert requirement.specifier.contains(pinned[name], prereleases=True), (
            f"constraints.txt pins {name}=={pinned[name]}, outside pyproject.toml's {spec}")


def test_make_install_uses_the_constraints():
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"pip install .*-c constraints\.txt", makefile)


# Pinned in constraints-min.txt above pyproject.toml's floor, and why (constraints-min.txt says so too).
TESTED_ABOVE_THE_FLOOR = {"torch": "the course's machines install only the 2.13.0 CPU wheel"}


def _floors():
    """{name: floor} of every `>=` range in pyproject.toml, extras included."""
    project = _pyproject()["project"]
    specs = project["dependencies"] + [d for group in project.get("optional-dependencies", {}).values() for d in group]
    floors = {}
    for spec in specs:
        lower = [s.version for s in Requirement(spec).specifier if s.operator == ">="]
        assert len(lower) == 1, f"pyproject.toml: give {spec} exactly one lower bound (>=), tested by make test-min"
        floors[_requirement_name(spec)] = lower[0]
    return floors


def _minimum_pins():
    pins = {}
    for line in (ROOT / "constraints-min.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, sep, version = line.strip().partition("==")
            assert sep, f"constraints-min.txt: pin with ==, got {line!r}"
            pins[_requirement_name(name)] = version
    return pins


def test_constraints_min_pins_exactly_the_floors_of_pyproject():
    floors, pins = _floors(), _minimum_pins()
    assert set(pins) == set(floors), (
        f"constraints-min.txt and pyproject.toml name different packages: only in constraints-min.txt "
        f"{sorted(set(pins) - set(floors))}, only in pyproject.toml {sorted(set(floors) - set(pins))}")
    for name, floor in floors.items():
        if name in TESTED_ABOVE_THE_FLOOR:
            assert Version(pins[name]) >= Version(floor), f"constraints-min.txt pins {name} below pyproject's >={floor}"
            continue
        assert Version(pins[name]) == Version(floor), (
            f"pyproject.toml says {name}>={floor} but constraints-min.txt tests {name}=={pins[name]}: "
            f"move both together, and run `make test-min`")


def test_make_test_min_installs_the_minimum_versions_fresh():
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile.split("\ntest-min:", 1)[1].split("\n\n", 1)[0]
    assert "rm -rf $(VENV_MIN)" in recipe, "make test-min should build its environment afresh"
    assert re.search(r"pip install .*-c constraints-min\.txt", recipe)
    assert "pytest" in recipe and "nbconvert --to notebook --execute --output-dir" in recipe
    assert ".venv-min/" in (ROOT / ".gitignore").read_text().splitlines()
    ci = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert "make test-min" in ci, "CI (.ci/run) should run make test-min after make test"


def test_welcome_notebook_checks_the_floors_of_pyproject():
    """00_welcome asserts `Version(info["torch"]) >= Version("2.4")`: the same floor as pyproject.toml."""
    nb = json.loads((ROOT / "notebooks" / "00_welcome.ipynb").read_text())
    code = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
    checked = re.findall(r'Version\(info\["([\w-]+)"\]\)\s*>=\s*Version\("([\d.]+)"\)', code)
    floors = _floors()
    for name, version in checked:
        assert Version(version) == Version(floors[_requirement_name(name)]), (
            f"00_welcome checks {name} >= {version}; pyproject.toml says >={floors[_requirement_name(name)]}")
