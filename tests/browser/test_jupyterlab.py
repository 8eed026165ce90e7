"""The course as a learner meets it: JupyterLab in a real browser, a notebook run, a widget used.

Starts JupyterLab from this environment on a free loopback port (with a token, on a copy of the
notebook in a temporary folder, with its own settings), opens the notebook in headless Chromium with
every request off this machine blocked, runs all cells, and checks that no cell shows an error and no
widget shows "Error displaying widget". Then it changes the first control of the first widget (a text
box, a menu or a slider) and checks that the widget's output changed. A screenshot lands in
build/browser/. The server is always stopped, and the whole test is bounded by conftest.TEST_SECONDS.

Another notebook: change NOTEBOOK below, or for one run set COURSE_BROWSER_NOTEBOOK=path/to.ipynb.
"""
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from browser_support import ARTIFACTS, ROOT, require, save_screenshot

NOTEBOOK = "notebooks/03_attention.ipynb"     # a notebook with a widget: the attention explorer

SERVER_START_SECONDS = 60
KERNEL_START_SECONDS = 60
RUN_ALL_SECONDS = 120
WIDGET_UPDATE_SECONDS = 20


def notebook_under_test():
    return (ROOT / os.environ.get("COURSE_BROWSER_NOTEBOOK", NOTEBOOK)).resolve()


def free_loopback_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def write_isolated_settings(home):
    """Settings of our own, so a learner's JupyterLab settings and workspaces play no part."""
    dirs = {name: home / name for name in ("config", "data", "runtime", "settings", "workspaces")}
    for folder in dirs.values():
        folder.mkdir(parents=True)
    tracker = dirs["settings"] / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings"
    tracker.parent.mkdir(parents=True)
    tracker.write_text(json.dumps({
        "windowingMode": "none",                # every cell stays in the page, where we can see it
        "autoStartDefaultKernel": True,         # no "Select Kernel" dialog
    }))
    (dirs["config"] / "labconfig").mkdir()
    (dirs["config"] / "labconfig" / "page_config.json").write_text(json.dumps(
        {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}}))
    return {
        "JUPYTER_CONFIG_DIR": str(dirs["config"]), "JUPYTER_DATA_DIR": str(dirs["data"]),
        "JUPYTER_RUNTIME_DIR": str(dirs["runtime"]), "JUPYTERLAB_SETTINGS_DIR": str(dirs["settings"]),
        "JUPYTERLAB_WORKSPACES_DIR": str(dirs["workspaces"]),
    }


def wait_for_idle_kernel(base, token, seconds):
    """The notebook's kernel has started and waits for work (asked through the server's API)."""
    deadline = time.monotonic() + seconds
    states = []
    while time.monotonic() < deadline:
        with urllib.request.urlopen(f"{base}/api/sessions?token={token}", timeout=5) as reply:
            states = [session["kernel"]["execution_state"] for session in json.load(reply)]
        if states and all(state == "idle" for state in states):
            return
        time.sleep(0.3)
    raise TimeoutError(f"the notebook's kernel was not ready within {seconds} s (states: {states})")


def wait_until_serving(url, process, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"JupyterLab exited early with code {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as reply:
                if reply.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"JupyterLab did not answer at {url} within {seconds} s")


def stop_server(process, base, token):
    """Shut the kernels down through the API, then the server; kill it if it will not stop."""
    try:
        with urllib.request.urlopen(f"{base}/api/kernels?token={token}", timeout=5) as reply:
            for kernel in json.load(reply):
                request = urllib.request.Request(
                    f"{base}/api/kernels/{kernel['id']}?token={token}", method="DELETE")
                urllib.request.urlopen(request, timeout=10).close()
    except OSError:
        pass
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@pytest.fixture
def jupyterlab(tmp_path, time_limit):
    """A JupyterLab server on a copy of the notebook; yields (base_url, token, notebook_name)."""
    source = notebook_under_test()
    require(source.exists() or "COURSE_BROWSER_NOTEBOOK" in os.environ,
            f"{source.relative_to(ROOT)} does not exist yet")
    assert source.exists(), f"no notebook at {source}"
    workdir = tmp_path / "lab"
    workdir.mkdir()
    shutil.copy(source, workdir / source.name)
    env = dict(os.environ, **write_isolated_settings(tmp_path / "jupyter"))
    # The kernelspec says "python": find this environment's, as `make` does by putting it first on PATH.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    port, token = free_loopback_port(), secrets.token_hex(16)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = open(ARTIFACTS / "jupyterlab.log", "w")
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
               "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
               f"--ServerApp.root_dir={workdir}", "--LabApp.news_url=",
               "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
               "--LabApp.extension_manager=readonly"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")      # CI containers run as root; Jupyter refuses without it
    process = subprocess.Popen(command, cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(f"{base}/api/status?token={token}", process, SERVER_START_SECONDS)
        yield base, token, source.name
    finally:
        stop_server(process, base, token)
        log.close()


# ---------------------------------------------------------------- what the page shows

CELL_STATES = """() => {
  const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')].map(p => p.textContent.trim());
  return {prompts, busy: prompts.filter(p => p.includes('*')).length,
          unrun: prompts.filter(p => !/\\[\\d+\\]/.test(p)).length};
}"""

# What the widget SHOWS: the text of its output areas and the images it draws, never its own
# controls (a menu whose options change would otherwise count as a changed output).
WIDGET_OUTPUT_STATE = """(widget) => {
  const outputs = [...widget.querySelectorAll('.widget-output, .jupyter-widget-output')].map(o => o.innerText);
  const images = [...widget.querySelectorAll('img')].map(i => i.src.slice(-200));
  return outputs.concat(images).join('\\n');
}"""


def wait_for_all_cells_run(page, seconds):
    deadline = time.monotonic() + seconds
    state = page.evaluate(CELL_STATES)
    while time.monotonic() < deadline:
        state = page.evaluate(CELL_STATES)
        if state["prompts"] and state["busy"] == 0 and state["unrun"] == 0:
            return state
        if state["busy"] == 0 and problems_on_page(page):   # run-all stops at a cell that errs
            return state
        page.wait_for_timeout(250)
    raise TimeoutError(f"cells still running or not run after {seconds} s: prompts {state['prompts']}")


def problems_on_page(page):
    """Error outputs (tracebacks and stderr render the same way in JupyterLab) and broken widgets."""
    problems = [f"error output: {text[:300]}" for text in page.locator(
        '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]').all_inner_texts()]
    body = page.locator("body").inner_text()
    if "Error displaying widget" in body:     # the widget manager could not find or build the view
        start = body.index("Error displaying widget")
        problems.append(f"a widget failed to display: {body[start:start + 200]!r}")
    broken_views = page.locator(".jupyter-widgets-error-widget").count()
    if broken_views:                          # ipywidgets 8's "Click to show javascript error."
        problems.append(f"{broken_views} widget view(s) failed in JavaScript (the page shows "
                        "'Click to show javascript error.')")
    return problems


def change_first_control(widget):
    """Change the widget's first control the way a learner would; returns what was done."""
    menu = widget.locator("select").first
    if menu.count():
        options = menu.locator("option").all_text_contents()
        current = menu.input_value()
        values = menu.evaluate("m => [...m.options].map(o => o.value)")
        choice = next(v for v in values if v != current)
        menu.select_option(choice)
        return f"menu {options}: picked option {values.index(choice)}"
    slider = widget.locator(".noUi-handle, input[type=range]").first
    if slider.count():
        slider.focus()
        for _ in range(3):
            slider.press("ArrowRight")
        return "slider: three steps to the right"
    box = widget.locator("input[type=text], textarea").first
    if box.count():
        old = box.input_value()
        box.fill(old + "0")
        box.press("Enter")
        return f"text box: {old!r} -> {old + '0'!r}"
    raise AssertionError("the widget has no menu, slider or text box to change")


def test_notebook_runs_and_widget_responds(jupyterlab, offline_page):
    base, token, name = jupyterlab
    page = offline_page
    page.set_default_timeout(30_000)
    shot = ARTIFACTS / f"{Path(name).stem}-jupyterlab.png"
    try:
        page.goto(f"{base}/lab/tree/{name}?token={token}")
        page.locator(".jp-NotebookPanel .jp-Cell").first.wait_for()
        wait_for_idle_kernel(base, token, KERNEL_START_SECONDS)

        page.locator(".lm-MenuBar-item", has_text="Run").first.click()
        page.get_by_role("menuitem", name="Run All Cells", exact=True).click()
        state = wait_for_all_cells_run(page, RUN_ALL_SECONDS)
        assert state["prompts"], "the notebook shows no code cells"

        page.wait_for_timeout(1000)              # let widget views finish rendering
        problems = problems_on_page(page)
        assert not problems, "after running all cells:\n" + "\n".join(problems)
        widgets = page.locator(".jp-OutputArea-output:has(.jupyter-widgets)")
        assert widgets.count() > 0, f"{name} displays no widget; the browser test needs one"

        widget = widgets.first
        widget.scroll_into_view_if_needed()
        before = widget.evaluate(WIDGET_OUTPUT_STATE)
        action = change_first_control(widget)
        deadline = time.monotonic() + WIDGET_UPDATE_SECONDS
        after = before
        while after == before and time.monotonic() < deadline:
            page.wait_for_timeout(250)
            after = widget.evaluate(WIDGET_OUTPUT_STATE)
        wait_for_idle_kernel(base, token, WIDGET_UPDATE_SECONDS)  # the redraw has finished
        page.wait_for_timeout(500)
        problems = problems_on_page(page)
        assert not problems, f"after {action}:\n" + "\n".join(problems)
        assert before.strip(), "the widget shows no output or image to compare"
        assert after != before, f"after {action}, the widget's output did not change:\n{before}"
        widget.scroll_into_view_if_needed()
    finally:
        save_screenshot(page, shot)
    assert not page.off_machine_requests, f"JupyterLab asked the network for: {page.off_machine_requests}"
