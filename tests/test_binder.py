"""Binder and conda stay in step with pyproject.toml.

Binder builds from environment.yml (conda-forge, plus its pip: section) and then runs postBuild,
which installs the helpers package with --no-deps; pyproject.toml is what pip users install. So the
two lists must name the same packages (conda's `pytorch` is pip's `torch`), and postBuild must not
let pip pull in a second copy of anything. The README's Binder badge must open the welcome notebook.
"""
import re
import tomllib
from pathlib import Path

import yaml                       # PyYAML comes with JupyterLab (jupyter-events needs it)

ROOT = Path(__file__).resolve().parents[1]
CONDA_NAME_OF = {"torch": "pytorch"}          # pip name -> conda-forge name, where they differ
NOT_PACKAGES = {"python", "pip"}              # environment.yml entries that are not course deps


def requirement_name(requirement):
    """'numpy>=1.26' -> 'numpy'; 'pytorch=*=cpu*' -> 'pytorch' (pip and conda spellings alike)."""
    return re.split(r"[<>=!~\[ ;]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def pyproject_dependencies():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return {CONDA_NAME_OF.get(name, name) for name in map(requirement_name, project["dependencies"])}


def environment_dependencies():
    """(conda names, pip names) of environment.yml."""
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda, pip = set(), set()
    for entry in environment["dependencies"]:
        if isinstance(entry, dict):
            pip |= {requirement_name(r) for r in entry.get("pip", [])}
        else:
            conda.add(requirement_name(entry))
    return conda - NOT_PACKAGES, pip


def test_environment_names_the_same_packages_as_pyproject():
    conda, pip = environment_dependencies()
    wanted = pyproject_dependencies()
    in_environment = conda | pip
    assert not conda & pip, f"listed both for conda and for pip: {sorted(conda & pip)}"
    assert wanted == in_environment, (
        f"pyproject.toml and environment.yml disagree.\n"
        f"  only in pyproject.toml (add to environment.yml): {sorted(wanted - in_environment)}\n"
        f"  only in environment.yml (add to pyproject.toml): {sorted(in_environment - wanted)}\n"
        f"  (conda's name for pip's torch is pytorch)")


def test_environment_takes_cpu_pytorch_from_conda_forge():
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert environment["channels"][0] == "conda-forge", "Binder should take packages from conda-forge"
    pytorch = [e for e in environment["dependencies"] if isinstance(e, str) and requirement_name(e) == "pytorch"]
    assert pytorch and "cpu" in pytorch[0], f"want the CPU build (pytorch=*=cpu*), got {pytorch}"
    python = [e for e in environment["dependencies"] if isinstance(e, str) and requirement_name(e) == "python"]
    assert python, "environment.yml should pin a Python version"


def test_postbuild_installs_the_package_without_dependencies():
    postbuild = ROOT / "postBuild"
    assert postbuild.exists(), "postBuild is missing: Binder would not install the helpers package"
    assert postbuild.stat().st_mode & 0o111, "postBuild must be executable (chmod +x postBuild)"
    commands = [line for line in postbuild.read_text().splitlines()
                if line.strip() and not line.lstrip().startswith("#")]
    installs = [line for line in commands if "pip install" in line]
    assert installs, "postBuild does not pip install the helpers package"
    for line in installs:
        assert "--no-deps" in line, f"postBuild must install with --no-deps (conda already did): {line!r}"
        assert re.search(r"-e\s+\.(\s|$)", line), f"postBuild should install this folder editable (-e .): {line!r}"


def test_readme_binder_badge_opens_the_welcome_notebook():
    readme = (ROOT / "README.md").read_text()
    links = re.findall(r"https://mybinder\.org/v2/[^\s)\"']+", readme)
    assert links, "README.md has no mybinder.org link: add the Binder badge (see CONTRIBUTING.md)"
    assert any("labpath=notebooks%2F00_welcome.ipynb" in link for link in links), (
        f"the README's Binder link should open the welcome notebook with "
        f"labpath=notebooks%2F00_welcome.ipynb; found {links}")
    assert (ROOT / "notebooks" / "00_welcome.ipynb").exists(), "the badge points at a missing notebook"


def _lower_bound(requirement):
    """'numpy>=1.26' -> '1.26'; 'pytorch>=2.4=cpu*' -> '2.4'; None without a `>=`."""
    found = re.search(r">=\s*([0-9][0-9.]*[0-9])", requirement)
    return found.group(1) if found else None


def test_environment_has_the_same_floors_as_pyproject():
    """conda and Binder users get the ranges of environment.yml: the floors that make test-min tests."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {CONDA_NAME_OF.get(requirement_name(r), requirement_name(r)): _lower_bound(r)
              for r in project["dependencies"]}
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    entries = [e for e in environment["dependencies"] if isinstance(e, str)]
    entries += [r for e in environment["dependencies"] if isinstance(e, dict) for r in e.get("pip", [])]
    found = {requirement_name(e): _lower_bound(e) for e in entries if requirement_name(e) not in NOT_PACKAGES}
    differ = {name: (found.get(name), floor) for name, floor in wanted.items() if found.get(name) != floor}
    assert not differ, ("environment.yml's lower bounds differ from pyproject.toml's "
                        "(name: (environment.yml, pyproject.toml)): " + repr(differ))
