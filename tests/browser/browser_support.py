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
]
TEST_SECONDS = 180                              # each browser test, from server start to stop


def require(condition, what):
    """Skip on a learner's machine when `what` is missing; fail when COURSE_REQUIRE_BROWSER=1."""
    if condition:
        return
    if os.environ.get("COURSE_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{what}, and COURSE_REQUIRE_BROWSER=1 says the browser test must run here")
    pytest.skip(f"{what}: the browser test needs it (CI installs it; see .ci/run)")
