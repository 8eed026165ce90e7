"""A lecture deck opens and works with no network: reveal.js starts, the slides are there, maths and
widgets render, and nothing is fetched from off this machine.

Opens a deck that `make slides` built (build/slides/, with reveal.js and the other scripts in
build/slides/vendor/) over file:// in headless Chromium that can resolve no host name, steps to the
next slide, and saves a screenshot of the title slide and of the last slide to build/browser/.
Then every deck, slide by slide with all fragments shown: each must fit reveal's canvas. Last, the
speaker notes: every notes cell of a notebook is in its deck, hidden on the slide, and pressing S
opens reveal.js's speaker view showing the current slide's note (screenshot:
build/browser/03_attention-speaker-view.png).

Another deck: change DECK below, or for one run set COURSE_BROWSER_DECK=build/slides/NN_name.slides.html.
"""
import json
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


# ---------------------------------------------------------------- the speaker notes reach the speaker view

NOTES_DECK = "build/slides/03_attention.slides.html"   # another: COURSE_BROWSER_NOTES_DECK=build/slides/NN_name.slides.html
NOTES_MARKER = "For the lecturer."                     # how every notes cell starts (tests/test_speaker_notes.py)

DECK_NOTES = """() => Array.from(document.querySelectorAll('.reveal .slides aside.notes')).map(aside => ({
  text: aside.innerText.trim(),
  hidden: getComputedStyle(aside).display === 'none',
}))"""

GO_TO_FIRST_NOTE = """() => {
  const reveal = window.Reveal || require('vendor/reveal.js/dist/reveal.js');
  const slide = document.querySelector('.reveal .slides aside.notes').closest('section');
  const where = reveal.getIndices(slide);
  reveal.slide(where.h, where.v);
  return where;
}"""

SPEAKER_NOTES = "() => (document.querySelector('.speaker-controls-notes .value') || {}).innerText || ''"


def _notebook_notes(deck):
    """The notes cells of the deck's notebook, as the lecturer wrote them."""
    notebook = ROOT / "notebooks" / (deck.name.split(".")[0] + ".ipynb")
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    return ["".join(c["source"]) for c in cells if c["metadata"].get("slideshow", {}).get("slide_type") == "notes"]


def test_speaker_view_shows_the_notes(offline_page, time_limit):
    # Every notes cell of the notebook is in the built deck, hidden on the slide itself; pressing S
    # opens reveal.js's speaker view, which shows the current slide's note next to the slides.
    deck = ROOT / os.environ.get("COURSE_BROWSER_NOTES_DECK", NOTES_DECK)
    require(deck.exists(), f"{deck.relative_to(ROOT)} is missing: build the decks with `make slides`")
    written = _notebook_notes(deck)
    assert written, f"{deck.name}: its notebook has no notes cells (slide type 'notes') to show"
    page = offline_page
    stem = deck.name.split(".")[0]
    page.goto(deck.as_uri())
    page.wait_for_function("document.querySelector('.reveal.ready') !== null", timeout=READY_SECONDS * 1000)
    in_deck = page.evaluate(DECK_NOTES)
    assert len(in_deck) == len(written), f"{deck.name}: {len(in_deck)} notes in the deck, {len(written)} in the notebook"
    assert all(note["text"].startswith(NOTES_MARKER) for note in in_deck), [n["text"][:40] for n in in_deck]
    assert all(note["hidden"] for note in in_deck), "a speaker note shows on the slide itself"

    page.evaluate(GO_TO_FIRST_NOTE)
    with page.context.expect_page(timeout=READY_SECONDS * 1000) as opened:
        page.keyboard.press("s")                 # the lecturer's key for the speaker view
    speaker = opened.value
    try:
        speaker.wait_for_function(f"() => ({SPEAKER_NOTES})().includes({NOTES_MARKER!r})", timeout=READY_SECONDS * 1000)
        speaker.wait_for_timeout(1500)           # the current and upcoming slides load in their frames
        shown = speaker.evaluate(SPEAKER_NOTES).strip()
    finally:
        save_screenshot(speaker, ARTIFACTS / f"{stem}-speaker-view.png")
    assert shown.split("\n")[0] == in_deck[0]["text"].split("\n")[0], (
        f"the speaker view shows {shown[:80]!r}, not the first slide's note {in_deck[0]['text'][:80]!r}")
    assert not page.off_machine_requests, f"the deck asked the network for: {page.off_machine_requests}"
