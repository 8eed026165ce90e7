"""helpers.setup, helpers.device and the lazy submodules (helpers/__init__.py)."""
import random
from pathlib import Path

import numpy as np
import pytest
import torch

import helpers


def test_setup_seeds_python_numpy_and_torch_the_same_way_twice():
    helpers.setup(seed=3, quiet=True)
    first = (random.random(), np.random.rand(), torch.rand(1).item())
    helpers.setup(seed=3, quiet=True)
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == first
    helpers.setup(seed=4, quiet=True)
    assert random.random() != first[0]


def test_setup_reports_versions_and_device(capsys):
    assert helpers.setup(seed=0) is None  # nothing machine-specific is echoed in a notebook
    line = capsys.readouterr().out
    device = helpers.device()
    assert f"device: {device}" in line and f"torch {torch.__version__.split('+')[0]}" in line
    # The sanitize file rewrites this line for nbval; it must keep matching it.
    assert line.startswith("seed 0 | ")


def test_device_is_one_of_the_three():
    assert helpers.device() in ("cuda", "mps", "cpu")
    if not torch.cuda.is_available():
        assert helpers.device() != "cuda"


def test_submodules_load_lazily_and_unknown_names_fail_clearly():
    assert helpers.exercises.check is not None
    with pytest.raises(AttributeError, match="no attribute 'nonsense'"):
        helpers.nonsense


def test_every_module_in_the_package_folder_is_reachable_as_an_attribute():
    # Read the folder independently of the loader: a file the loader missed fails here.
    folder = Path(helpers.__file__).parent
    names = {path.stem for path in folder.glob("*.py") if path.stem != "__init__"}
    names |= {path.parent.name for path in folder.glob("*/__init__.py")}
    assert {"itmodel", "train", "widgets", "exercises"} <= names
    for name in sorted(names):
        module = getattr(helpers, name)
        assert module.__name__ == f"helpers.{name}"


def test_print_options_round_floats():
    helpers.setup(seed=0, quiet=True)
    assert "0.3333" in str(np.array([1 / 3])) and "0.33333" not in str(np.array([1 / 3]))



def _fake_machine(tmp_path, files):
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return tmp_path


@pytest.mark.parametrize("files, quota", [
    ({"proc/self/cgroup": "0::/\n", "sys/fs/cgroup/cpu.max": "100000 100000\n"}, 1.0),        # Binder: 1 CPU
    ({"proc/self/cgroup": "0::/\n", "sys/fs/cgroup/cpu.max": "150000 100000\n"}, 1.5),
    ({"proc/self/cgroup": "0::/\n", "sys/fs/cgroup/cpu.max": "max 100000\n"}, None),          # no quota
    ({"proc/self/cgroup": "0::/user.slice/job\n",                                               # no namespace:
      "sys/fs/cgroup/user.slice/job/cpu.max": "200000 100000\n"}, 2.0),                        # its own folder
    ({"proc/self/cgroup": "4:cpu:/\n", "sys/fs/cgroup/cpu/cpu.cfs_quota_us": "50000\n",       # cgroups v1
      "sys/fs/cgroup/cpu/cpu.cfs_period_us": "100000\n"}, 0.5),
    ({"proc/self/cgroup": "4:cpu:/\n", "sys/fs/cgroup/cpu/cpu.cfs_quota_us": "-1\n",
      "sys/fs/cgroup/cpu/cpu.cfs_period_us": "100000\n"}, None),
    ({}, None),                                                                                 # not Linux
])
def test_cpu_quota_reads_the_containers_limit(tmp_path, files, quota):
    assert helpers.cpu_quota(_fake_machine(tmp_path, files)) == quota


@pytest.fixture
def restore_threads():
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def test_threads_come_down_to_the_quota_never_up(monkeypatch, restore_threads, capsys):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    torch.set_num_threads(4)
    monkeypatch.setattr(helpers, "cpu_quota", lambda: 1.5)
    assert helpers.match_threads_to_cpus() == 2 == torch.get_num_threads()     # 1.5 CPUs: 2 threads
    assert "torch threads: 4 -> 2" in capsys.readouterr().out
    monkeypatch.setattr(helpers, "cpu_quota", lambda: 8.0)
    assert helpers.match_threads_to_cpus() == 2                                 # never raised
    monkeypatch.setattr(helpers, "cpu_quota", lambda: None)
    assert helpers.match_threads_to_cpus() == 2


def test_a_thread_count_the_learner_set_is_left_alone(monkeypatch, restore_threads):
    torch.set_num_threads(3)
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    monkeypatch.setattr(helpers, "cpu_quota", lambda: 1.0)
    assert helpers.match_threads_to_cpus() == 3


def test_setup_says_so_on_its_one_line_when_it_lowers_the_threads(monkeypatch, restore_threads, capsys):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    torch.set_num_threads(4)
    monkeypatch.setattr(helpers, "cpu_quota", lambda: 1.0)
    helpers.setup(seed=0)
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and out.rstrip().endswith(", 1 torch thread(s) for this container's CPU quota (not 4)")
    assert torch.get_num_threads() == 1


def test_one_thread_runs_on_one_thread_and_puts_the_count_back():
    before = torch.get_num_threads()
    with helpers.one_thread():
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before

    @helpers.one_thread()
    def fails():
        assert torch.get_num_threads() == 1
        raise RuntimeError("inside")
    with pytest.raises(RuntimeError, match="inside"):
        fails()
    assert torch.get_num_threads() == before            # also after an error
