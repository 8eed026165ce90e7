"""Shared pieces of the browser tests: Chromium via Playwright, a time limit, and where artifacts go.

The browser tests drive Debian's Chromium (/usr/bin/chromium) headless with Playwright for Python;
they never download Playwright's own browser. Run them with `make test-browser` (which also builds
the slide decks they open). A plain `pytest tests` skips them with a note, so `make test-unit` stays fast.

On a learner's machine without Chromium or Playwright they skip with a clear message. With
COURSE_REQUIRE_BROWSER=1 (set by .ci/run) a missing piece is a failure, never a skip.
"""
import signal
from pathlib import Path

import pytest

from browser_support import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, LOCAL_URL_STARTS, TEST_SECONDS, require

HERE = Path(__file__).resolve().parent


def _asked_for_browser_tests(config):
    """True when the command line names tests/browser (or a file in it), as `make test-browser` does."""
    for arg in config.args:
        path = Path(str(arg).split("::")[0]).resolve()
        if path == HERE or HERE in path.parents:
            return True
    return False


def pytest_collection_modifyitems(config, items):
    if _asked_for_browser_tests(config):
        return
    later = pytest.mark.skip(reason="browser tests run with `make test-browser` (pytest tests/browser)")
    for item in items:
        if HERE in Path(str(item.fspath)).resolve().parents:
            item.add_marker(later)


@pytest.fixture
def time_limit():
    """Stops a test that runs past TEST_SECONDS with an exception, so fixture teardown still runs."""
    if not hasattr(signal, "SIGALRM"):          # Windows: rely on Playwright's own timeouts
        yield TEST_SECONDS
        return

    def _too_slow(signum, frame):
        raise TimeoutError(f"browser test ran past its {TEST_SECONDS} s limit")

    previous = signal.signal(signal.SIGALRM, _too_slow)
    signal.alarm(TEST_SECONDS)
    try:
        yield TEST_SECONDS
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture(scope="session")
def chromium():
    """A headless Chromium browser (Playwright), closed at the end of the session."""
    require(Path(CHROMIUM).exists(), f"Chromium is not installed at {CHROMIUM}")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require(False, "the Python package playwright is not installed in this environment")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def offline_page(chromium):
    """A fresh page. Chromium resolves no host name but localhost (see CHROMIUM_ARGS), so nothing
    loads from the network; page.off_machine_requests lists every request that tried to."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, service_workers="block")
    page = context.new_page()
    page.off_machine_requests = []
    page.console_errors = []

    def _note_request(request):
        if not request.url.startswith(LOCAL_URL_STARTS):
            page.off_machine_requests.append(request.url)

    page.on("request", _note_request)
    page.on("console", lambda msg: msg.type == "error" and page.console_errors.append(msg.text))
    page.on("pageerror", lambda err: page.console_errors.append(f"page error: {err}"))
    try:
        yield page
    finally:
        context.close()
