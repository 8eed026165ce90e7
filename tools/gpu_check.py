#!/usr/bin/env python3
"""The GPU check: everything the course claims about a CUDA GPU, measured in one short run.

On a machine with an NVIDIA GPU it records the machine (date, GPU, driver, torch and CUDA), then
runs, each step with its own time limit so that one failure cannot eat the whole budget:

  cuda_tests       pytest -m cuda: the unit tests that are skipped without a CUDA GPU
  bench_compiled   python -m helpers.bench, gpu preset, bf16, torch.compile: tokens/s and MFU
  bench_eager      the same without torch.compile
  train            python -m helpers.train --preset gpu: validation loss after 60 s of training
  notebook         notebook 09 executed into a copy (never in place), which picks the gpu preset
                   by itself on CUDA (`helpers.device()`)

and the peak GPU memory of each step (nvidia-smi, read every half second). It writes
gpu-check.json, gpu-check.log (every step's output) and the executed notebook into the results
folder: $OUT when that is set, else build/gpu-check/. The JSON is rewritten after every step, so
a run cut short still leaves what it measured.

    python tools/gpu_check.py                  # on a CUDA machine (make gpu-check)
    python tools/gpu_check.py --dry-run        # here, on a CPU: the same steps, smoke-sized
    python tools/gpu_check.py --only train     # one step again (names as above, comma-separated)

A dry run proves the script, not the GPU: the benchmarks and training use the smoke preset on
the CPU, the CUDA tests report as skipped, and the notebook takes its CPU path (a few minutes).

On the course's lent GPU machine (no network, its own torch; the rest travels as wheels that
tools/fetch_device_wheels.sh puts in .whl/ first), it is one call of the device tool:

    run(timeout_s=570, carry=[".whl"], command="python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl && export PYTHONPATH=/tmp/site || exit; PYTHONUNBUFFERED=1 python3 tools/gpu_check.py --budget 480")

The steps end by themselves within --budget seconds (480: under the call's 570 s limit), the
results come back from $OUT, and CONTRIBUTING.md ("Running the GPU check") says what to do
with them.
"""
import argparse
import dataclasses
import datetime
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ElementTree
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "09_gpt_on_gpu.ipynb"
EXECUTED_NAME = "09_gpt_on_gpu.executed.ipynb"
STEP_NAMES = ("environment", "cuda_tests", "bench_compiled", "bench_eager", "train", "notebook")
# The course's targets for the gpu preset (COURSE.md), stated for an H100.
TARGET_MFU, TARGET_VAL_LOSS, TARGET_TRAIN_SECONDS = 0.30, 1.50, 60
LOG_CHARS_PER_STREAM = 200_000     # a step's stdout or stderr in gpu-check.log, at most
TAIL_CHARS = 3_000                  # of a failed step's output, kept in the JSON
# Seconds for all the steps together: on a GPU it must end inside one call of the device tool. A
# dry run's notebook takes its CPU path: a few minutes on a quiet 2-core machine, but 31 of its 45
# code cells in 900 s on one running two other copies of notebook 09 (2026-12-06).
GPU_BUDGET_S, DRY_RUN_BUDGET_S = 480.0, 2000.0
MIN_STEP_SECONDS = 20               # a step given less than this is skipped: it could only time out


@dataclasses.dataclass
class Step:
    """One thing the check runs: a command, its time limit, and how to read what it left."""
    name: str
    argv: list
    limit_s: float
    read: object          # read(output, scratch) -> dict of results; raises StepFailed when not ok


class StepFailed(Exception):
    """The step ran but its results say it failed (a test failed, no JSON line, a cell raised)."""

    def __init__(self, message, results=None):
        super().__init__(message)
        self.results = results or {}


@dataclasses.dataclass
class Output:
    returncode: int
    stdout: str
    stderr: str
    timed_out: bool


# ====================================================================== the steps

def python_module(module, *args):
    return [sys.executable, "-m", module, *args]


def plan(dry_run, scratch):
    """The steps, in the order they run: the cheap and the measured first, the notebook last (it
    takes longest, and a cut-short notebook still leaves its executed cells)."""
    if dry_run:     # the smoke preset on the CPU: minutes, and every code path of the real run
        size = ["--preset", "smoke", "--device", "cpu", "--dtype", "float32"]
        bench = [*size, "--no-target", "--steps", "5", "--warmup", "1"]
        train = [*size, "--run-dir", str(scratch / "train")]
        limits = dict(environment=60, cuda_tests=240, bench_compiled=300, bench_eager=120, train=120,
                      notebook=1500)
    else:           # bf16 named outright: the targets are stated in it
        size = ["--preset", "gpu", "--dtype", "bfloat16"]
        bench = [*size, "--no-target"]
        train = [*size, "--run-dir", str(scratch / "train")]
        limits = dict(environment=60, cuda_tests=150, bench_compiled=150, bench_eager=75, train=180,
                      notebook=360)
    this_script = [sys.executable, str(Path(__file__).resolve())]
    return [
        Step("environment", [*this_script, "--probe"], limits["environment"], read_json_line),
        Step("cuda_tests", python_module("pytest", "-q", "-m", "cuda", "-p", "no:cacheprovider",
                                         f"--junitxml={scratch / 'cuda-tests.xml'}", "tests"),
             limits["cuda_tests"], read_test_report(expect_gpu=not dry_run)),
        Step("bench_compiled", python_module("helpers.bench", *bench, "--compile", "true"),
             limits["bench_compiled"], read_bench(expect_compiled=True)),
        Step("bench_eager", python_module("helpers.bench", *bench, "--compile", "false"),
             limits["bench_eager"], read_bench(expect_compiled=False)),
        Step("train", python_module("helpers.train", *train), limits["train"], read_train_run),
        Step("notebook", [*this_script, "--execute-notebook", str(NOTEBOOK), str(scratch / EXECUTED_NAME)],
             limits["notebook"], read_notebook(scratch / EXECUTED_NAME)),
    ]


def probe_environment():
    """(--probe, in a child process) What torch sees, as one JSON line. A child, so that the
    checker never touches the GPU itself and the memory it reads belongs to the steps alone."""
    import platform

    import torch

    sys.path.insert(0, str(ROOT))     # as the steps see it (PYTHONPATH), whether installed or not
    import helpers
    info = {"python": platform.python_version(), "torch": torch.__version__, "cuda": torch.version.cuda,
            "cudnn": torch.backends.cudnn.version(), "cuda_available": torch.cuda.is_available(),
            "helpers_device": helpers.device(), "cpu_threads": torch.get_num_threads()}
    if torch.cuda.is_available():
        props = torch.cuda.get_device_properties(0)
        info.update(gpu=props.name, gpu_count=torch.cuda.device_count(),
                    capability=list(torch.cuda.get_device_capability(0)),
                    gpu_memory_gib=round(props.total_memory / 2**30, 1),
                    multiprocessors=props.multi_processor_count, bf16_supported=torch.cuda.is_bf16_supported())
    print(json.dumps(info))
    return 0


def last_json_line(text):
    """The last line of text that is a JSON object (the helpers print their result that way)."""
    for line in reversed(text.splitlines()):
        if line.startswith("{"):
            try:
                return json.loads(line)
            except json.JSONDecodeError:
                continue
    raise StepFailed("no JSON line in the output")


def read_json_line(output, scratch):
    return last_json_line(output.stdout)


def read_bench(expect_compiled):
    keys = ("device", "dtype", "compile", "parameters", "batch_size", "context", "median_step_ms",
            "tokens_per_s", "achieved_tflops", "peak_tflops", "peak_source", "mfu",
            "matmul_tflops_measured", "share_of_measured_matmul")

    def read(output, scratch):
        result = last_json_line(output.stdout)
        results = {key: result.get(key) for key in keys}
        # helpers.bench falls back to eager when compiling fails: that must not pass for compiled
        if result.get("compile") != expect_compiled:
            raise StepFailed(f"asked for compile={expect_compiled}, measured compile={result.get('compile')}",
                             results)
        return results
    return read


def read_train_run(output, scratch):
    """The run's summary.json, and from its log the training time when the validation loss first
    reached the target."""
    run_dir = scratch / "train"
    summary = json.loads((run_dir / "summary.json").read_text())
    records = [json.loads(line) for line in (run_dir / "log.jsonl").read_text().splitlines() if line.strip()]
    validation = [(r["train_seconds"], r["val_loss"]) for r in records if "val_loss" in r]
    reached = [seconds for seconds, loss in validation if loss <= TARGET_VAL_LOSS]
    keep = ("device", "dtype", "compile", "steps", "train_seconds", "wall_seconds", "parameters",
            "tokens_seen", "tokens_per_s_median", "final_val_loss", "final_val_tokens")
    return {**{key: summary.get(key) for key in keep},
            "val_loss_by_train_seconds": [[round(s, 1), round(loss, 4)] for s, loss in validation],
            f"first_train_seconds_at_or_below_{TARGET_VAL_LOSS}": reached[0] if reached else None}


def read_test_report(expect_gpu):
    def read(output, scratch):
        results = junit_results(scratch / "cuda-tests.xml")
        if not results["tests"]:
            raise StepFailed("no test carries the cuda marker (the hook in conftest.py adds it)", results)
        if results["failed"] or results["errors"] or output.returncode not in (0, 5):
            raise StepFailed(f"pytest exited {output.returncode}", results)
        if expect_gpu and (results["skipped"] or not results["passed"]):
            raise StepFailed("on a GPU every CUDA test must run and pass", results)
        if not expect_gpu and results["passed"]:     # without CUDA each must have been skipped
            raise StepFailed("CUDA tests passed without a GPU: is the cuda marker on the right tests?", results)
        return results
    return read


def junit_results(path):
    """Counts and each test's outcome (with a skip's or failure's message) from pytest's junit XML."""
    root = ElementTree.parse(path).getroot()
    tests = {}
    for case in root.iter("testcase"):
        name = f"{case.get('classname')}::{case.get('name')}"
        outcome, message = "passed", None
        for kind in ("failure", "error", "skipped"):
            found = case.find(kind)
            if found is not None:
                outcome, message = kind, (found.get("message") or "")[:300]
                break
        tests[name] = {"outcome": outcome, "seconds": round(float(case.get("time", 0)), 2),
                       **({"message": message} if message else {})}
    outcomes = [t["outcome"] for t in tests.values()]
    return {"passed": outcomes.count("passed"), "failed": outcomes.count("failure"),
            "errors": outcomes.count("error"), "skipped": outcomes.count("skipped"), "tests": tests}


def read_notebook(executed):
    def read(output, scratch):
        results = notebook_summary(executed)
        if results["errors"]:
            raise StepFailed(f"{len(results['errors'])} cell(s) failed", results)
        if output.returncode != 0 or results["code_cells_run"] < results["code_cells"]:
            raise StepFailed(f"the runner exited {output.returncode} after {results['code_cells_run']} "
                             f"of {results['code_cells']} code cells", results)
        return results
    return read


def notebook_summary(path):
    """What an executed (or partly executed) notebook shows: how many code cells ran, the preset
    it chose, its errors (the runner carries on past one: a rare GPU run should show them all),
    and the slowest cells (nbclient's timing metadata)."""
    if not path.exists():
        raise StepFailed("the runner wrote no executed notebook")
    cells = json.loads(path.read_text())["cells"]
    code = [(i, c) for i, c in enumerate(cells) if c["cell_type"] == "code"]
    ran = [(i, c) for i, c in code if c.get("execution_count") is not None]
    errors, preset, seconds = [], None, {}
    for index, cell in ran:
        for out in cell.get("outputs", []):
            if out["output_type"] == "error":
                errors.append({"cell": index, "ename": out["ename"], "evalue": out["evalue"][:500]})
            found = re.search(r"preset '(\w+)'", out.get("text", "") if isinstance(out.get("text"), str)
                              else "".join(out.get("text", [])))
            preset = preset or (found and found.group(1))
        seconds[index] = cell_seconds(cell)
    slowest = sorted(((s, i) for i, s in seconds.items() if s is not None), reverse=True)[:5]
    return {"code_cells": len(code), "code_cells_run": len(ran), "preset": preset, "errors": errors[:10],
            "cell_seconds_total": round(sum(s for s in seconds.values() if s), 1),
            "slowest_cells": [{"cell": i, "seconds": s} for s, i in slowest]}


def cell_seconds(cell):
    timing = cell.get("metadata", {}).get("execution", {})
    start, end = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
    if not (start and end):
        return None
    parse = lambda stamp: datetime.datetime.fromisoformat(stamp.replace("Z", "+00:00"))   # noqa: E731
    return round((parse(end) - parse(start)).total_seconds(), 2)


# ====================================================================== running a step

class GpuMemoryWatch:
    """The most GPU memory in use (MiB, by nvidia-smi, all processes) since the last reset(), read
    every `interval` seconds in a thread. Without nvidia-smi it reads None and costs nothing."""

    def __init__(self, interval=0.5):
        self.available = shutil.which("nvidia-smi") is not None
        self.interval, self.peak_mib = interval, None
        self._stop = threading.Event()
        if self.available:
            threading.Thread(target=self._poll, daemon=True).start()

    def _poll(self):
        while not self._stop.wait(self.interval):
            used = nvidia_smi("memory.used")
            if used:
                total = sum(int(float(line)) for line in used.splitlines() if line.strip())
                self.peak_mib = max(self.peak_mib or 0, total)

    def reset(self):
        peak, self.peak_mib = self.peak_mib, None
        return peak

    def stop(self):
        self._stop.set()


def nvidia_smi(fields):
    """nvidia-smi's answer for the given --query-gpu fields (one line per GPU), or None."""
    try:
        done = subprocess.run(["nvidia-smi", f"--query-gpu={fields}", "--format=csv,noheader,nounits"],
                              capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def child_environment(scratch):
    """The steps' environment: the repository importable from anywhere (the notebook's kernel runs
    in notebooks/), unbuffered output, and Jupyter's and IPython's files kept in the scratch folder."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.update(PYTHONUNBUFFERED="1", JUPYTER_PLATFORM_DIRS="1",
               JUPYTER_RUNTIME_DIR=str(scratch / "jupyter-runtime"), IPYTHONDIR=str(scratch / "ipython"))
    return env


def run_with_limit(argv, limit_s, env):
    """Run argv from the repository root; past limit_s, stop it and everything it started."""
    process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, errors="replace", start_new_session=True)
    try:
        stdout, stderr = process.communicate(timeout=limit_s)
        return Output(process.returncode, stdout, stderr, timed_out=False)
    except BaseException as err:
        if not isinstance(err, subprocess.TimeoutExpired):   # the checker itself is stopping: no orphans
            os.killpg(process.pid, signal.SIGKILL)
            raise
        # SIGTERM first: the notebook runner then saves its copy and shuts its kernel down.
        stdout = stderr = ""
        for sig, grace in ((signal.SIGTERM, 15), (signal.SIGKILL, 10)):
            try:
                os.killpg(process.pid, sig)
                stdout, stderr = process.communicate(timeout=grace)
                break
            except subprocess.TimeoutExpired:
                continue
            except ProcessLookupError:
                stdout, stderr = process.communicate()
                break
        return Output(process.returncode, stdout or "", stderr or "", timed_out=True)


def run_step(step, env, scratch, seconds_left, memory, log):
    """Run one step within its limit (or what is left of the budget) and say how it went."""
    limit = min(step.limit_s, seconds_left)
    record = {"command": shlex.join(display_argv(step.argv)), "limit_s": round(limit)}
    if limit < MIN_STEP_SECONDS:
        return {**record, "status": "skipped", "reason": f"only {seconds_left:.0f} s of the budget left"}
    memory.reset()
    started = time.monotonic()
    output = run_with_limit(step.argv, limit, env)
    record.update(seconds=round(time.monotonic() - started, 1), returncode=output.returncode,
                  peak_gpu_memory_mib=memory.reset())
    write_log(log, step.name, record["command"], output)
    try:
        record["results"] = step.read(output, scratch)
        record["status"] = "timeout" if output.timed_out else "ok"
    except StepFailed as failure:
        record.update(status="timeout" if output.timed_out else "failed", reason=str(failure),
                      results=failure.results)
    except Exception as err:       # missing file, bad JSON: the output tail says why
        record.update(status="timeout" if output.timed_out else "failed", reason=f"{type(err).__name__}: {err}")
    if output.timed_out:
        record["reason"] = "; ".join(filter(None, [f"stopped at its time limit ({limit:.0f} s)", record.get("reason")]))
    if record["status"] != "ok":
        record["output_tail"] = (output.stdout[-TAIL_CHARS // 3:] + "\n--- stderr ---\n" + output.stderr[-TAIL_CHARS:])
    return record


def display_argv(argv):
    """The command as one would type it in the repository root (python, relative paths)."""
    shown = ["python" if arg == sys.executable else arg for arg in argv]
    return [arg.replace(str(ROOT) + os.sep, "") for arg in shown]


def write_log(log, name, command, output):
    with open(log, "a", encoding="utf-8") as file:
        file.write(f"\n===== {name}: {command}\n===== exit {output.returncode}"
                   f"{' (stopped at its time limit)' if output.timed_out else ''}\n")
        for stream_name, text in (("stdout", output.stdout), ("stderr", output.stderr)):
            cut = len(text) - LOG_CHARS_PER_STREAM
            if cut > 0:
                text = f"[... the first {cut} characters left out ...]\n" + text[cut:]
            file.write(f"----- {stream_name}\n{text}\n")


# ====================================================================== the report

def machine_record(dry_run):
    """What the JSON opens with: when, where, and what was checked out."""
    record = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
              "mode": "dry-run (CPU, smoke preset)" if dry_run else "gpu",
              "command": shlex.join(display_argv([sys.executable, *sys.argv])),
              "nvidia_smi": None, "git_commit": None}
    smi = nvidia_smi("name,driver_version,memory.total")
    if smi:
        record["nvidia_smi"] = [dict(zip(("name", "driver", "memory_total_mib"), map(str.strip, line.split(","))))
                                for line in smi.splitlines()]
    try:
        record["git_commit"] = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True,
                                              text=True, timeout=10).stdout.strip() or None
    except OSError:
        pass                        # no git there: the copy of the working tree is all we have
    return record


def targets(steps, dry_run):
    """The course's GPU targets, each met (True), missed (False) or not measured (None)."""
    compiled = steps.get("bench_compiled", {}).get("results", {})
    train = steps.get("train", {}).get("results", {})
    tests = steps.get("cuda_tests", {})
    mfu, loss = compiled.get("mfu"), train.get("final_val_loss")
    within_time = (train.get("train_seconds") or 1e9) <= TARGET_TRAIN_SECONDS + 1
    return {
        "note": "a dry run measures no GPU: these say only that the numbers were read" if dry_run else
                f"stated for an H100; measured on {compiled.get('device')}",
        f"mfu_bf16_compiled_at_least_{TARGET_MFU}": None if mfu is None else mfu >= TARGET_MFU,
        f"val_loss_at_most_{TARGET_VAL_LOSS}_within_{TARGET_TRAIN_SECONDS}_s": None if loss is None else
        (loss <= TARGET_VAL_LOSS and within_time),
        "every_cuda_test_passes": None if "results" not in tests else tests.get("status") == "ok",
    }


def write_report(path, report):
    """Write the JSON through a temporary file, so a run stopped mid-write leaves the last whole one."""
    temporary = path.with_suffix(".json.tmp")
    temporary.write_text(json.dumps(report, indent=1) + "\n")
    temporary.replace(path)


def results_folder(given):
    folder = Path(given or os.environ.get("OUT") or ROOT / "build" / "gpu-check")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def check(args):
    """Run the selected steps within the budget; returns the report (also written as it goes)."""
    out = results_folder(args.out)
    scratch = Path(tempfile.mkdtemp(prefix="gpu-check-"))     # big files (checkpoints) stay out of $OUT
    report_path, log = out / "gpu-check.json", out / "gpu-check.log"
    log.write_text("")
    selected = set(args.only.split(",")) if args.only else set(STEP_NAMES)
    budget = args.budget or (DRY_RUN_BUDGET_S if args.dry_run else GPU_BUDGET_S)
    deadline = time.monotonic() + budget
    env, memory = child_environment(scratch), GpuMemoryWatch()
    report = {**machine_record(args.dry_run), "budget_s": budget, "steps": {}}
    # Stopped from outside (the device tool's time limit sends SIGTERM): still write the report.
    previous_handler = signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        for step in plan(args.dry_run, scratch):
            if step.name not in selected and step.name != "environment":    # the machine, always
                report["steps"][step.name] = {"status": "not_selected"}
                continue
            report["steps"][step.name] = {"status": "interrupted"}     # until it has a result
            report["steps"][step.name] = refuse_without_cuda(report, args.dry_run) or run_step(
                step, env, scratch, deadline - time.monotonic(), memory, log)
            if step.name == "notebook":
                copy_executed_notebook(scratch / EXECUTED_NAME, out)
            say(step.name, report["steps"][step.name])
            finish_report(report, args.dry_run)
            write_report(report_path, report)
    finally:
        signal.signal(signal.SIGTERM, previous_handler)
        memory.stop()
        finish_report(report, args.dry_run)
        write_report(report_path, report)
        shutil.rmtree(scratch, ignore_errors=True)
    return report


def refuse_without_cuda(report, dry_run):
    """A real run needs CUDA: once the environment step says there is none, the others say so."""
    environment = report["steps"].get("environment", {}).get("results")
    if dry_run or environment is None or environment.get("cuda_available"):
        return None
    return {"status": "skipped", "reason": "torch sees no CUDA GPU here: use --dry-run on a CPU"}


def copy_executed_notebook(executed, out):
    if executed.exists():
        shutil.copyfile(executed, out / EXECUTED_NAME)


def finish_report(report, dry_run):
    steps = report["steps"]
    report["targets"] = targets(steps, dry_run)
    peaks = [s.get("peak_gpu_memory_mib") for s in steps.values() if s.get("peak_gpu_memory_mib")]
    report["peak_gpu_memory_mib"] = max(peaks, default=None)
    report["seconds"] = round(sum(s.get("seconds", 0) for s in steps.values()), 1)
    report["all_ok"] = all(s["status"] in ("ok", "not_selected") for s in steps.values())


def say(name, record):
    """One line per step on the console (the device tool returns only the output's tail)."""
    extra = record.get("reason") or ""
    print(f"[gpu-check] {name:15} {record['status']:8} {record.get('seconds', 0):7.1f} s  {extra}", flush=True)


# ====================================================================== the notebook runner

class TimeLimit(Exception):
    """The checker's time limit for the notebook step has passed (it sent SIGTERM)."""


def stopped_by_the_checker(signum, frame):
    raise TimeLimit("the step's time limit passed")


def stop_kernel(client):
    """Make sure the kernel is gone: it runs in a session of its own, out of reach of the
    checker's kill, and an interrupted nbclient may not have shut it down."""
    process = getattr(getattr(getattr(client, "km", None), "provisioner", None), "process", None)
    if process is not None and process.poll() is None:
        process.kill()


def execute_notebook(source, target, cell_timeout):
    """Execute a notebook into `target` with nbclient, saving after every cell, so that a run
    stopped at its time limit still leaves every cell it finished. Prints a JSON summary line."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(source, as_version=4)
    # The committed CPU outputs go first: a copy cut short then shows this run's outputs alone.
    notebook.metadata.pop("widgets", None)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
            cell.metadata.pop("execution", None)
    target = Path(target)

    def save(**_):
        temporary = target.with_suffix(".tmp")
        nbformat.write(notebook, temporary)
        temporary.replace(target)

    signal.signal(signal.SIGTERM, stopped_by_the_checker)
    # allow_errors: past a failing cell the rest still runs, so one GPU run shows every failure
    client = NotebookClient(notebook, timeout=cell_timeout, kernel_name="python3", record_timing=True,
                            allow_errors=True, resources={"metadata": {"path": str(Path(source).parent)}})
    client.on_cell_executed = save
    returncode = 0
    try:
        client.execute()
    except Exception as err:       # the time limit, a cell past its timeout, a dead kernel
        print(f"stopped: {type(err).__name__}: {str(err)[-2000:]}", file=sys.stderr)
        returncode = 1
    finally:
        save()
        stop_kernel(client)
    print(json.dumps(notebook_summary(target)))
    return returncode


# ====================================================================== the command line

def build_parser():
    parser = argparse.ArgumentParser(prog="python tools/gpu_check.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--dry-run", action="store_true",
                        help="no GPU needed: the same steps, smoke-sized, on the CPU")
    parser.add_argument("--budget", type=float, default=None,
                        help="seconds for all steps together; each also has its own limit "
                             f"(default {GPU_BUDGET_S:.0f}, a dry run {DRY_RUN_BUDGET_S:.0f})")
    parser.add_argument("--only", default=None,
                        help=f"comma-separated steps to run, of: {', '.join(STEP_NAMES)}")
    parser.add_argument("--out", default=None, help="results folder (default: $OUT, else build/gpu-check)")
    parser.add_argument("--probe", action="store_true", help="(used by the environment step) print what torch sees")
    parser.add_argument("--execute-notebook", nargs=2, metavar=("SOURCE", "TARGET"),
                        help="(used by the notebook step) execute SOURCE into TARGET and stop")
    parser.add_argument("--cell-timeout", type=int, default=600, help="with --execute-notebook: seconds per cell")
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    if args.probe:
        return probe_environment()
    if args.execute_notebook:
        return execute_notebook(*args.execute_notebook, args.cell_timeout)
    unknown = set(args.only.split(",")) - set(STEP_NAMES) if args.only else set()
    if unknown:
        print(f"error: unknown steps {sorted(unknown)}; the steps are {', '.join(STEP_NAMES)}", file=sys.stderr)
        return 2
    report = check(args)
    print(f"[gpu-check] {'all steps ok' if report['all_ok'] else 'NOT all steps ok'}; "
          f"results in {results_folder(args.out)}", flush=True)
    return 0 if report["all_ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
