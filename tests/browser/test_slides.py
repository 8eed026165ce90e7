"""A lecture deck opens and works with no network: reveal.js starts, the slides are there, maths and
widgets render, and nothing is fetched from off this machine.

Opens a deck that `make slides` built (build/slides/, with reveal.js and the other scripts in
build/slides/vendor/) over file:// in headless Chromium that can resolve no host name, steps to the
next slide, and saves a screenshot of the title slide and of the last slide to build/browser/.
Then every deck, slide by slide with all fragments shown: each must fit reveal's canvas.

Another deck: change DECK below, or for one run set COURSE_BROWSER_DECK=build/slides/NN_name.slides.html.
"""
import os

import pytest

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


# ---------------------------------------------------------------- every slide fits the screen

SLIDE_HEIGHTS = """async () => {
  const reveal = window.Reveal || require('vendor/reveal.js/dist/reveal.js');
  reveal.configure({transition: 'none', backgroundTransition: 'none'});
  const typeset = () => new Promise(done => (window.MathJax && MathJax.Hub) ? MathJax.Hub.Queue(done) : done());
  const heights = [];
  for (const slide of reveal.getSlides()) {
    const where = reveal.getIndices(slide);
    reveal.slide(where.h, where.v);
    slide.querySelectorAll('.fragment').forEach(part => part.classList.add('visible'));   // all of it
    await typeset();
    await new Promise(done => setTimeout(done, 50));
    const heading = (slide.querySelector('h1, h2, h3, h4') || slide).innerText.trim().split('\\n')[0];
    heights.push({h: where.h, v: where.v || 0, height: slide.scrollHeight, heading: heading.slice(0, 60)});
  }
  return {limit: reveal.getConfig().height, heights};
}"""

DECKS = sorted((ROOT / "build" / "slides").glob("[0-9][0-9]_*.slides.html")) or [ROOT / DECK]


@pytest.mark.parametrize("deck", DECKS, ids=lambda path: path.name.split(".")[0])
def test_every_slide_fits_the_canvas(deck, offline_page, time_limit):
    # A lecturer cannot scroll a projected slide: each one, with all its fragments shown, must fit
    # reveal's canvas (the Makefile's reveal_width x reveal_height; reveal scales that to the screen).
    require(deck.exists(), f"{deck.relative_to(ROOT)} is missing: build the decks with `make slides`")
    offline_page.goto(deck.as_uri())
    offline_page.wait_for_function("document.querySelector('.reveal.ready') !== null", timeout=READY_SECONDS * 1000)
    measured = offline_page.evaluate(SLIDE_HEIGHTS)
    too_tall = [f"slide {s['h']}/{s['v']} ({s['heading']!r}): {s['height']} px" for s in measured["heights"]
                if s["height"] > measured["limit"] + 2]
    assert measured["heights"] and not too_tall, (
        f"{deck.name}: taller than the {measured['limit']} px canvas, so cut off when projected: {too_tall}. "
        "Start a new subslide at a cell boundary (the cell's slideshow metadata), or shorten the cell.")
