"""The dashboard on a phone (390x844, touch) in a real headless Chromium: each page's main action and its
answer on the first screen, or scrolled into view when the answer appears; no text under 11 CSS px in any
chart, diagram or table.

The journeys: Train's Start on the first screen and the run's live view in view within 10 s of a tap on it,
then the run on Runs (the table's key columns on screen, its toolbar clear of the filter); a tapped cell of
Evaluate's confusion matrix brings its images into view; a digit drawn with a finger on Draw is answered in
view; and every page, after the action that draws its charts, measured text by text: the DOM's text (shadow
roots included) and the charts' and diagrams' SVG text, at the size the screen shows it (an SVG scaled to
the page's width shrinks its text with it).

The server, browser and helpers are tests/test_e2e.py's (one server per module, a fresh browser context,
hence a fresh Streamlit session and workspace, per test; skipped without Chromium and playwright unless
CI=true). Screenshots go to ``screenshots/e2e_phone_*.png``.
"""

from __future__ import annotations

import re
import time

import pytest
from test_e2e import (  # noqa: F401 -- fixtures are used by name
    SCREENSHOTS,
    WAIT_MS,
    app_url,
    assert_no_errors,
    browser,
    main_block,
    wait_idle,
)
from test_e2e_handwriting import ANSWER, PHONE, touch_stroke

from ui.phone import SMALLEST_FONT

WIDTH, HEIGHT = PHONE["viewport"]["width"], PHONE["viewport"]["height"]
LIVE = ".st-key-tr_live"
CANVAS = ".st-key-draw_canvas canvas.upper-canvas"

# Every visible text node's font size as the screen shows it: CSS font-size, times the scale of the SVG it
# is drawn in (a viewBox drawing scaled to a phone's width shrinks its text). Shadow roots (components)
# included. Returns the smallest ones, with where they are.
TEXT_SIZES = r"""() => {
  const found = [];
  const seen = new Set();
  const visit = (root) => {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    let node;
    while ((node = walker.nextNode())) {
      const el = node.parentElement;
      if (!el || seen.has(el) || !node.textContent.trim()) continue;
      seen.add(el);
      const box = el.getBoundingClientRect();
      const style = getComputedStyle(el);
      if (!box.width || !box.height || style.visibility === 'hidden') continue;
      let size = parseFloat(style.fontSize);
      if (el.closest('svg') && el.getScreenCTM) {
        const m = el.getScreenCTM();
        size *= Math.sqrt(Math.abs(m.a * m.d - m.b * m.c));
      }
      const key = el.closest('[class*="st-key-"]');
      found.push({size: Math.round(size * 100) / 100, text: node.textContent.trim().slice(0, 30),
                  where: (key ? key.className.match(/st-key-[\w-]+/)[0] : '')
                         + ' ' + (el.closest('[data-testid]')?.dataset.testid || el.tagName)});
    }
    root.querySelectorAll('*').forEach((e) => { if (e.shadowRoot) visit(e.shadowRoot); });
  };
  visit(document.body);
  found.sort((a, b) => a.size - b.size);
  const charts = document.querySelectorAll("[data-testid='stVegaLiteChart']");
  return {smallest: found.slice(0, 8), count: found.length,
          svgCharts: [...charts].filter((c) => c.querySelector('svg text')).length,
          canvasCharts: [...charts].filter((c) => c.querySelector('canvas') && !c.querySelector('svg')).length};
}"""

# what sticks out of the page to the right (for a failure's message)
WIDE = r"""() => [...document.querySelectorAll("[data-testid='stMain'] *")].filter((e) => {
  const box = e.getBoundingClientRect();
  return box.width && box.right > window.innerWidth + 1;
}).slice(0, 6).map((e) => `${e.tagName}.${String(e.className.baseVal ?? e.className).slice(0, 40)} ${e.dataset.testid || ''}`
                          + ` ${Math.round(e.getBoundingClientRect().right)}`)"""
SCROLL_TOP = "() => document.querySelector(\"[data-testid='stMain']\").scrollTop"


@pytest.fixture
def phone(browser, app_url):
    """A phone's browser context (a fresh Streamlit session and workspace) and a tab in it."""
    context = browser.new_context(**PHONE)
    context.set_default_timeout(WAIT_MS)
    tab = context.new_page()
    yield context, tab
    context.close()


def open_page(tab, app_url: str, path: str) -> None:
    tab.goto(f"{app_url}/{path}")
    main_block(tab).locator("h1").first.wait_for()
    wait_idle(tab)
    # the app's shared CSS (ui.phone.style) is in effect: it arrives as an element of the page like any other
    tab.wait_for_function("() => getComputedStyle(document.documentElement).getPropertyValue('--ann-style')")


def on_screen(box: dict | None, least: float | None = None) -> bool:
    """Whether the box's top is on the screen and its first ``least`` px (all of it by default) too."""
    if box is None:
        return False
    shown = box["height"] if least is None else min(least, box["height"])
    return 0 <= box["y"] and box["y"] + shown <= HEIGHT


def assert_readable(tab, name: str, charts: int = 0) -> None:
    """No text under SMALLEST_FONT CSS px on the page as it is now; at least ``charts`` Vega charts measured."""
    sizes = tab.evaluate(TEXT_SIZES)
    assert sizes["canvasCharts"] == 0, f"{name}: a chart drawn on a canvas, its text cannot be measured"
    assert sizes["svgCharts"] >= charts, f"{name}: {sizes['svgCharts']} charts drawn, expected {charts}"
    assert sizes["count"] > 20, sizes
    smallest = sizes["smallest"][0]
    assert smallest["size"] >= SMALLEST_FONT, f"{name}: text under {SMALLEST_FONT} px: {sizes['smallest']}"


def shoot(tab, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    tab.screenshot(path=SCREENSHOTS / f"e2e_phone_{name}.png")


# --------------------------------------------------------------------------- Train, then Runs


def test_train_start_on_the_first_screen_and_the_run_in_view_then_on_runs(phone, app_url):
    context, tab = phone
    # a short run (2,000 records x3 rotations, 2 epochs: a few seconds), its settings given by a link
    open_page(tab, app_url, "train?limit=2000&epochs=2")
    start = tab.locator(".st-key-tr_start button")
    assert tab.evaluate(SCROLL_TOP) == 0
    assert on_screen(start.bounding_box()), start.bounding_box()  # before: 2,946 px down, 3.5 screens
    for key in ("tr_preset", "tr_limit", "tr_epochs"):  # what a first run needs, above Start
        assert on_screen(tab.locator(f".st-key-{key}").bounding_box()), key
    assert "2,000 records x3 (rotations) x 2 epochs" in main_block(tab).inner_text()
    assert_readable(tab, "Train")
    shoot(tab, "train_first_screen")

    start.tap()
    pressed = time.monotonic()
    # the run's live view comes into view by itself (the page scrolls to it), within 10 s of the tap
    tab.wait_for_function(
        f"""() => {{ const live = document.querySelector('{LIVE}');
                    if (!live || !live.innerText.includes('Run 1')) return false;
                    const box = live.getBoundingClientRect();
                    return box.top >= 0 && box.top + Math.min(200, box.height) <= {HEIGHT}; }}""",
        timeout=10_000)
    assert time.monotonic() - pressed < 10.0
    shoot(tab, "train_live_in_view")

    tab.get_by_text(re.compile(r"Finished: 2 of 2 epochs")).first.wait_for(timeout=120_000)
    wait_idle(tab)
    tab.locator(f"{LIVE} [data-testid='stVegaLiteChart'] svg").first.wait_for()
    assert_no_errors(tab)
    assert_readable(tab, "Train with its run", charts=2)

    # Runs: the columns a reader compares first come first (the grid draws them on a canvas; its accessible
    # copy gives their order), and the table's toolbar has its own room, clear of the filter above
    open_page(tab, app_url, "runs")
    table = tab.get_by_test_id("stDataFrame")
    table.locator("[role='columnheader']").first.wait_for(state="attached")
    headers = [cell.inner_text().strip() for cell in table.locator("[role='columnheader']").all()]
    assert headers[:3] == ["run", "test accuracy", "status"], headers
    box = table.bounding_box()
    table.tap(position={"x": box["width"] / 2, "y": box["height"] - 8})  # a touch shows the toolbar
    toolbar = table.get_by_test_id("stElementToolbar")
    toolbar.wait_for()
    bar = toolbar.bounding_box()
    field = tab.locator(".st-key-rn_filter input").bounding_box()
    assert bar["y"] >= field["y"] + field["height"], (bar, field)  # below the filter, not over it
    assert on_screen(bar) and on_screen(field)
    tab.locator("[data-testid='stVegaLiteChart'] svg").first.wait_for()
    wait_idle(tab)
    assert_no_errors(tab)
    assert_readable(tab, "Runs", charts=2)
    shoot(tab, "runs")

    # Inside, the run epoch by epoch: its confusion matrices and accuracy charts, measured too
    open_page(tab, app_url, "inside")
    main_block(tab).get_by_role("tab", name=re.compile("epoch by epoch")).tap()
    wait_idle(tab)
    tab.locator(".st-key-in_epochs_go button:visible").first.tap()
    tab.wait_for_function("""() => [...document.querySelectorAll("[data-testid='stVegaLiteChart']")]
                                   .filter((c) => c.querySelector('svg text')).length >= 3""")
    wait_idle(tab)
    assert_no_errors(tab)
    assert_readable(tab, "Inside, epoch by epoch", charts=3)


# --------------------------------------------------------------------------- a run's offer above a page

MAIN_ACTIONS = {"robustness": ".st-key-rb_run button", "map": ".st-key-map_draw button",
                "draw": ".st-key-draw_canvas canvas.upper-canvas"}


def test_with_a_run_offered_above_the_page_its_main_action_stays_on_the_first_screen(phone, app_url):
    """A short run reads worse than the shipped model: it is offered in the banner above every page; the
    pages whose main action sat lowest keep it on the first screen under the banner."""
    context, tab = phone
    open_page(tab, app_url, "train?limit=500&epochs=1")
    tab.locator(".st-key-tr_start button").tap()
    tab.get_by_text(re.compile(r"Use Run 1\?")).first.wait_for(timeout=120_000)
    for path, action in MAIN_ACTIONS.items():
        open_page(tab, app_url, path)
        offer = tab.locator(".st-key-sb_model_offer")
        offer.wait_for()
        assert "Use Run 1?" in offer.inner_text()
        target = tab.locator(action).first
        target.wait_for()
        assert tab.evaluate(SCROLL_TOP) == 0
        assert on_screen(offer.bounding_box()) and on_screen(target.bounding_box()), (path, target.bounding_box())
        assert_no_errors(tab)
        assert_readable(tab, f"{path} with the offer")
        shoot(tab, f"offer_{path}")


# --------------------------------------------------------------------------- Evaluate


def test_evaluate_a_tapped_cell_brings_its_images_into_view(phone, app_url):
    context, tab = phone
    open_page(tab, app_url, "evaluate")
    cell = tab.locator(".st-key-ev_confusion td[data-t='4'][data-p='9']")
    cell.wait_for()
    cell.scroll_into_view_if_needed()  # the visitor scrolls down to the matrix
    before = tab.evaluate(SCROLL_TOP)
    cell.tap()
    tab.locator(".st-key-ev_confusion td.picked[data-t='4'][data-p='9']").wait_for()
    main_block(tab).get_by_text(re.compile(r"test images of 4 read as 9")).wait_for()
    # the cell's first picture (its caption, the alt text, is "#<test image>: <confidence>") on screen, whole,
    # without the visitor scrolling
    tab.wait_for_function(
        """() => { const img = document.querySelector("[data-testid='stHtml'] img[alt^='#']");
                   if (!img || !img.complete || !img.getBoundingClientRect().height) return false;
                   const box = img.getBoundingClientRect();
                   return box.top >= 0 && box.bottom <= window.innerHeight; }""", timeout=10_000)
    assert tab.evaluate(SCROLL_TOP) > before  # the page moved to them: they were below the fold
    wait_idle(tab)
    assert_no_errors(tab)
    shoot(tab, "evaluate_cell_in_view")
    assert_readable(tab, "Evaluate")


# --------------------------------------------------------------------------- Draw


def test_draw_a_finger_drawing_is_answered_in_view(phone, app_url):
    context, tab = phone
    open_page(tab, app_url, "draw")
    canvas = tab.locator(CANVAS)
    canvas.wait_for()
    answer = tab.locator(ANSWER)
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for attempt in range(3):  # a stroke made while the canvas still mounts is lost: draw it again
        tab.wait_for_timeout(1000)
        touch_stroke(context, tab, canvas, [(0.5, 0.15), (0.5, 0.85)])
        try:
            answer.get_by_text("Reads").wait_for(timeout=WAIT_MS // 3)
            break
        except PlaywrightTimeout:
            if attempt == 2:
                raise
    wait_idle(tab)
    tab.locator("[data-testid='stVegaLiteChart'] svg").first.wait_for()  # the ten outputs, further down
    assert_no_errors(tab)
    assert re.search(r"Reads 1\b", answer.inner_text()), answer.inner_text()
    # the answer stays where the finger was: both on the first screen, nothing scrolled
    assert tab.evaluate(SCROLL_TOP) == 0
    assert on_screen(answer.bounding_box()) and on_screen(canvas.bounding_box())
    shoot(tab, "draw_answer")
    assert_readable(tab, "Draw", charts=1)


# --------------------------------------------------------------------------- every other page


def draw_the_map(tab) -> None:
    # 500 points: a chart of more data Streamlit draws on a canvas, where its text cannot be measured
    tab.locator(".st-key-map_images_pca input[type='range']").press("Home")
    wait_idle(tab)
    tab.locator(".st-key-map_draw button").tap()


def run_the_sweeps(tab) -> None:
    tab.locator(".st-key-rb_images input[type='range']").press("Home")  # the fewest test images: quick
    wait_idle(tab)
    tab.locator(".st-key-rb_run button").tap()


def open_tab(name: str):
    def action(tab) -> None:
        main_block(tab).get_by_role("tab", name=name).tap()
    return action


def open_the_curves(tab) -> None:
    tab.locator(".st-key-ev_curves summary").tap()


PAGES = {
    # name: (path, what a visitor does first, Vega charts that must then be measured)
    "home": ("", None, 0),
    "dataset": ("dataset", open_tab("Counts and mean images"), 1),
    "evaluate": ("evaluate", open_the_curves, 2),
    "inside": ("inside", None, 0),
    "step": ("step", None, 0),
    "experiments": ("experiments", None, 0),
    "experiments_sweeps": ("experiments", open_tab("Sweeps"), 1),
    "map": ("map", draw_the_map, 1),
    "robustness": ("robustness", run_the_sweeps, 1),
}


@pytest.mark.parametrize("name", list(PAGES))
def test_no_text_under_11_px_at_phone_width(phone, app_url, name):
    context, tab = phone
    path, action, charts = PAGES[name]
    open_page(tab, app_url, path)
    if action:
        action(tab)
    if charts:  # every chart drawn, its text in place
        tab.wait_for_function(f"""() => [...document.querySelectorAll("[data-testid='stVegaLiteChart']")]
                                       .filter((c) => c.querySelector('svg text')).length >= {charts}""")
        wait_idle(tab)
    assert_no_errors(tab)
    width = tab.evaluate("() => document.querySelector(\"[data-testid='stMain']\").scrollWidth")
    assert width <= WIDTH + 1, (width, tab.evaluate(WIDE))  # wide drawings scroll in their own box, not the page
    assert_readable(tab, name, charts)
    shoot(tab, f"fonts_{name}")
