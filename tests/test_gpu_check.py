"""tools/gpu_check.py, the prepared check for a lent GPU: its pieces, and its cheapest dry run.

The whole dry run (`python tools/gpu_check.py --dry-run`) takes minutes; these take seconds.
"""
import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parent.parent


def load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


gpu_check = load("gpu_check", ROOT / "tools" / "gpu_check.py")


def python_step(name, code, limit_s, read=None):
    return gpu_check.Step(name, [sys.executable, "-c", code], limit_s, read or gpu_check.read_json_line)


def run(step, tmp_path, seconds_left=60):
    memory = gpu_check.GpuMemoryWatch()
    try:
        return gpu_check.run_step(step, gpu_check.child_environment(tmp_path), tmp_path, seconds_left,
                                  memory, tmp_path / "log")
    finally:
        memory.stop()


# ---------------------------------------------------------------------- the whole check, cheapest path

def test_dry_run_writes_every_step_with_a_status(tmp_path):
    code = gpu_check.main(["--dry-run", "--only", "environment", "--out", str(tmp_path)])
    report = json.loads((tmp_path / "gpu-check.json").read_text())
    assert code == 0 and report["all_ok"] and report["mode"].startswith("dry-run")
    assert list(report["steps"]) == list(gpu_check.STEP_NAMES)
    assert report["steps"]["environment"]["status"] == "ok"
    assert {"torch", "cuda_available", "python"} <= set(report["steps"]["environment"]["results"])
    assert all(report["steps"][name]["status"] == "not_selected" for name in gpu_check.STEP_NAMES[1:])
    assert {"date", "git_commit", "nvidia_smi", "targets", "peak_gpu_memory_mib"} <= set(report)
    assert "environment" in (tmp_path / "gpu-check.log").read_text()


# (The reason must not name CUDA: conftest.py would mark the test `cuda`, and the check, on a GPU,
# would find it skipped there and fail.)
@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="a GPU is here: nothing to refuse")
def test_a_real_run_without_a_gpu_refuses_its_steps(tmp_path):
    assert gpu_check.main(["--only", "cuda_tests", "--out", str(tmp_path)]) == 1
    report = json.loads((tmp_path / "gpu-check.json").read_text())
    assert report["steps"]["environment"]["results"]["cuda_available"] is False
    refused = report["steps"]["cuda_tests"]
    assert refused["status"] == "skipped" and "--dry-run" in refused["reason"]


def test_an_unknown_step_is_refused(capsys):
    assert gpu_check.main(["--only", "bench"]) == 2
    assert "bench_compiled" in capsys.readouterr().err


def test_every_step_of_both_plans_is_known(tmp_path):
    for dry_run in (True, False):
        steps = gpu_check.plan(dry_run, tmp_path)
        assert [step.name for step in steps] == list(gpu_check.STEP_NAMES)
    gpu_plan = {step.name: step for step in gpu_check.plan(False, tmp_path)}
    assert "gpu" in gpu_plan["train"].argv and "bfloat16" in gpu_plan["bench_compiled"].argv
    assert sum(step.limit_s for step in gpu_plan.values()) <= 1000     # each bounded; --budget bounds all


# ---------------------------------------------------------------------- running a step

def test_a_step_past_its_limit_is_stopped_and_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr(gpu_check, "MIN_STEP_SECONDS", 0)
    record = run(python_step("slow", "import time; print('started', flush=True); time.sleep(60)", 1), tmp_path)
    assert record["status"] == "timeout" and record["seconds"] < 20
    assert "started" in record["output_tail"]


def test_a_failed_step_keeps_the_end_of_its_output(tmp_path):
    record = run(python_step("broken", "import sys; sys.exit('the reason it broke')", 30), tmp_path)
    assert record["status"] == "failed" and record["returncode"] == 1
    assert "the reason it broke" in record["output_tail"]


def test_a_step_with_too_little_budget_left_is_skipped(tmp_path):
    record = run(python_step("late", "print('{}')", 30), tmp_path, seconds_left=5)
    assert record["status"] == "skipped" and "budget" in record["reason"]


def test_the_results_of_a_step_are_read_from_its_last_json_line(tmp_path):
    record = run(python_step("fine", "print('progress'); print('{\"tokens_per_s\": 5}')", 30), tmp_path)
    assert record["status"] == "ok" and record["results"] == {"tokens_per_s": 5}
    assert record["command"].startswith("python -c")


# ---------------------------------------------------------------------- reading what steps leave

def test_bench_compiled_that_fell_back_to_eager_fails():
    output = gpu_check.Output(0, json.dumps({"compile": False, "mfu": 0.4}), "", timed_out=False)
    with pytest.raises(gpu_check.StepFailed, match="compile"):
        gpu_check.read_bench(expect_compiled=True)(output, None)
    assert gpu_check.read_bench(expect_compiled=False)(output, None)["mfu"] == 0.4


def test_junit_report_counts_each_outcome(tmp_path):
    (tmp_path / "cuda-tests.xml").write_text(
        '<testsuites><testsuite><testcase classname="tests.a" name="one" time="1.5"/>'
        '<testcase classname="tests.a" name="two" time="0"><skipped message="needs a CUDA GPU"/></testcase>'
        '</testsuite></testsuites>')
    results = gpu_check.junit_results(tmp_path / "cuda-tests.xml")
    assert (results["passed"], results["skipped"], results["failed"]) == (1, 1, 0)
    assert results["tests"]["tests.a::two"]["message"] == "needs a CUDA GPU"
    output = gpu_check.Output(0, "", "", timed_out=False)
    with pytest.raises(gpu_check.StepFailed, match="every CUDA test"):    # on a GPU, a skip is a failure
        gpu_check.read_test_report(expect_gpu=True)(output, tmp_path)


def test_notebook_summary_finds_the_preset_the_error_and_the_slow_cells(tmp_path):
    timing = {"execution": {"iopub.execute_input": "2026-12-06T10:00:00.000Z",
                            "shell.execute_reply": "2026-12-06T10:01:05.500Z"}}
    cells = [
        {"cell_type": "markdown", "source": "# 09", "metadata": {}},
        {"cell_type": "code", "execution_count": 1, "metadata": timing,
         "outputs": [{"output_type": "stream", "name": "stdout", "text": ["preset 'gpu': GPTConfig(...)\n"]}]},
        {"cell_type": "code", "execution_count": 2, "metadata": {},
         "outputs": [{"output_type": "error", "ename": "AssertionError", "evalue": "", "traceback": []}]},
        {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": []},
    ]
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps({"cells": cells}))
    summary = gpu_check.notebook_summary(path)
    assert summary["preset"] == "gpu" and (summary["code_cells"], summary["code_cells_run"]) == (3, 2)
    assert summary["errors"] == [{"cell": 2, "ename": "AssertionError", "evalue": ""}]
    assert summary["slowest_cells"] == [{"cell": 1, "seconds": 65.5}]


def test_targets_are_met_missed_or_not_measured():
    steps = {"bench_compiled": {"status": "ok", "results": {"mfu": 0.35, "device": "NVIDIA H100 80GB HBM3"}},
             "train": {"status": "ok", "results": {"final_val_loss": 1.62, "train_seconds": 60.02}},
             "cuda_tests": {"status": "failed", "results": {"failed": 1}}}
    found = gpu_check.targets(steps, dry_run=False)
    assert found["mfu_bf16_compiled_at_least_0.3"] is True
    assert found["val_loss_at_most_1.5_within_60_s"] is False
    assert found["every_cuda_test_passes"] is False and "H100" in found["note"]
    assert set(gpu_check.targets({}, dry_run=False).values()) >= {None}


# ---------------------------------------------------------------------- the cuda marker (conftest.py)

def test_conftest_marks_a_test_skipped_for_want_of_cuda():
    conftest = load("root_conftest", ROOT / "conftest.py")
    mark = lambda reason: SimpleNamespace(kwargs={"reason": reason})   # noqa: E731
    item = lambda *marks: SimpleNamespace(iter_markers=lambda name: list(marks))   # noqa: E731
    assert conftest.needs_cuda(item(mark("needs a CUDA GPU")))
    assert not conftest.needs_cuda(item(mark("needs /usr/bin/chromium"))) and not conftest.needs_cuda(item())


def test_pytest_m_cuda_selects_the_tests_that_need_cuda():
    import torch
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-rs", "-m", "cuda", "-p", "no:cacheprovider",
                           "tests/test_model.py"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and "deselected" in done.stdout, done.stdout[-2000:]
    if not torch.cuda.is_available():       # here each selected test is one skipped for want of CUDA
        skips = [line for line in done.stdout.splitlines() if line.startswith("SKIPPED")]
        assert skips and all("CUDA" in line for line in skips) and " passed" not in done.stdout


# ---------------------------------------------------------------------- the one device call, documented

def device_commands(text):
    return re.findall(r'run\(timeout_s=(\d+), carry=\["\.whl"\], command="([^"]+)"\)', text)


def test_the_device_command_fits_the_tool_and_is_the_same_in_contributing():
    in_script = device_commands(gpu_check.__doc__)
    assert len(in_script) == 1
    timeout_s, command = in_script[0]
    assert len(command) <= 2000 and int(timeout_s) <= 600
    budget = float(re.search(r"--budget (\d+)", command).group(1))
    assert budget + 60 <= int(timeout_s)        # the steps end, and the JSON is written, inside the call
    assert "tools/gpu_check.py" in command and ".whl/*.whl" in command
    assert in_script == device_commands((ROOT / "CONTRIBUTING.md").read_text())
