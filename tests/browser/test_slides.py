"""A lecture deck opens and works with no network: reveal.js starts, the slides are there, maths and
widgets render, and nothing is fetched from off this machine.

Opens a deck that `make slides` built (build/slides/, with reveal.js and the other scripts in
build/slides/vendor/) over file:// in headless Chromium that can resolve no host name, steps to the
next slide, and saves a screenshot of the title slide and of the last slide to build/browser/.

Another deck: change DECK below, or for one run set COURSE_BROWSER_DECK=build/slides/NN_name.slides.html.
"""
import os

from browser_support import ARTIFACTS, ROOT, require, save_screenshot

DECK = "build/slides/03_attention.slides.html"   # built by `make slides` (make test-browser builds it)

READY_SECONDS = 30

DECK_STATE = """() => {
  const reveal = document.querySelector('.reveal');
  return {
    ready: !!reveal && reveal.classList.contains('ready'),
    slides: document.querySelectorAll('.reveal .slides > section').length,
    present: document.querySelectorAll('.reveal .slides section.present').length,
    math_sources: document.querySelectorAll('script[type^="math/tex"]').length,
    math_shown: document.querySelectorAll('.reveal .MathJax_CHTML, .reveal .mjx-chtml').length,
    raw_dollars: (document.querySelector('.reveal .slides')?.innerText.match(/\\$[^$\\n]+\\$/g) || []).length,
    widget_views: document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]').length,
    widgets_shown: document.querySelectorAll('.reveal .jupyter-widgets').length,
    widget_errors: document.querySelectorAll('.reveal .jupyter-widgets-error-widget').length,
  };
}"""


def test_deck_renders_offline(offline_page, time_limit):
    deck = ROOT / os.environ.get("COURSE_BROWSER_DECK", DECK)
    require(deck.exists(), f"{deck.relative_to(ROOT)} is missing: build the decks with `make slides`")
    page = offline_page
    stem = deck.name.split(".")[0]
    try:
        page.goto(deck.as_uri())
        page.wait_for_function("document.querySelector('.reveal.ready') !== null", timeout=READY_SECONDS * 1000)
        page.wait_for_timeout(1500)              # MathJax typesets after reveal starts
        state = page.evaluate(DECK_STATE)
        save_screenshot(page, ARTIFACTS / f"{stem}-slides-title.png")
        assert state["slides"] > 1, f"the deck has {state['slides']} slide(s): {state}"
        assert state["present"] >= 1, f"reveal.js shows no slide: {state}"
        assert state["raw_dollars"] == 0, f"maths left as $...$ source, MathJax did not typeset: {state}"
        if state["widget_views"]:
            page.wait_for_function("document.querySelectorAll('.reveal .jupyter-widgets').length > 0",
                                   timeout=READY_SECONDS * 1000)
            assert page.evaluate(DECK_STATE)["widget_errors"] == 0, "a widget failed to render in the deck"

        page.keyboard.press("End")               # the last slide: the exercises
        page.wait_for_timeout(1000)
        last = page.evaluate("() => document.querySelector('.reveal .slides > section.present')?.innerText || ''")
        save_screenshot(page, ARTIFACTS / f"{stem}-slides-last.png")
        assert last.strip(), "the last slide is empty"
    finally:
        save_screenshot(page, ARTIFACTS / f"{stem}-slides-end.png")
    assert not page.off_machine_requests, f"the deck asked the network for: {page.off_machine_requests}"
    assert not page.console_errors, f"the deck logged errors: {page.console_errors}"
