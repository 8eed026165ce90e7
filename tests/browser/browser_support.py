"""Constants and the skip-or-fail rule shared by the browser tests and their fixtures (conftest.py)."""
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "build" / "browser"          # screenshots and logs, kept after the run
CHROMIUM = os.environ.get("COURSE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run",
    # No network for the page: every host name but localhost fails to resolve. (Cheaper than
    # Playwright's request routing, which makes JupyterLab's hundreds of files crawl.)
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
]
LOCAL_URL_STARTS = ("file://", "data:", "blob:", "about:", "http://127.0.0.1", "ws://127.0.0.1",
                    "http://localhost", "ws://localhost")
TEST_SECONDS = int(os.environ.get("COURSE_BROWSER_SECONDS", 180))   # each browser test, start to stop


def require(condition, what):
    """Skip on a learner's machine when `what` is missing; fail when COURSE_REQUIRE_BROWSER=1."""
    if condition:
        return
    if os.environ.get("COURSE_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{what}, and COURSE_REQUIRE_BROWSER=1 says the browser test must run here")
    pytest.skip(f"{what}: the browser test needs it (CI installs it; see .ci/run)")


def save_screenshot(page, path):
    """Save what the page shows; never let a failed screenshot hide the test's own failure."""
    try:
        page.screenshot(path=str(path))
    except Exception as err:                    # the page may have crashed or never loaded
        print(f"no screenshot saved to {path}: {err}")
