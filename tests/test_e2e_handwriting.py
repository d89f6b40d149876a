"""End-to-end journeys of issue #9 in a real headless Chromium: a digit drawn with a finger on a phone, its
answer in view beside the canvas without scrolling; the model picker and the preprocessing step by step on
the Draw page at a desktop's size.

The server, browser and page fixtures and the helpers are tests/test_e2e.py's (one server per module, a fresh
browser context, hence a fresh Streamlit session, per test; skipped without Chromium and playwright unless
CI=true). Screenshots go to ``screenshots/e2e_*.png``.
"""

from __future__ import annotations

import re

import numpy as np
from test_e2e import (  # noqa: F401 -- fixtures are used by name
    SCREENSHOTS,
    WAIT_MS,
    app_url,
    assert_no_errors,
    browser,
    draw_and_read,
    go_to,
    main_block,
    page,
    screenshot,
    wait_idle,
)

PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True,
         "device_scale_factor": 2}
ANSWER = ".st-key-answer_top"


def touch_stroke(context, tab, canvas, fractions: list[tuple[float, float]]) -> None:
    """One finger stroke through ``fractions`` (0..1 of the canvas's width and height), as touch events."""
    box = canvas.bounding_box()
    points = []
    for (x0, y0), (x1, y1) in zip(fractions[:-1], fractions[1:]):
        for t in np.linspace(0, 1, 12):
            points.append((box["x"] + box["width"] * (x0 + t * (x1 - x0)),
                           box["y"] + box["height"] * (y0 + t * (y1 - y0))))
    cdp = context.new_cdp_session(tab)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": points[0][0],
                                                                                  "y": points[0][1]}]})
    for x, y in points[1:]:
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def test_on_a_phone_the_answer_is_in_view_beside_the_canvas(browser, app_url):
    """390x844 with touch: a 7 drawn with a finger is answered above the canvas, both on the first screen,
    with no scrolling."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    context = browser.new_context(**PHONE)
    context.set_default_timeout(WAIT_MS)
    try:
        tab = context.new_page()
        tab.goto(f"{app_url}/draw")
        canvas = tab.locator(".st-key-draw_canvas canvas.upper-canvas")
        canvas.wait_for()
        wait_idle(tab)
        answer = tab.locator(ANSWER)
        assert "the answer appears here" in answer.inner_text()
        for attempt in range(3):  # a stroke made while the canvas still mounts is lost: draw it again
            tab.wait_for_timeout(1000)
            touch_stroke(context, tab, canvas, [(0.2, 0.2), (0.8, 0.2), (0.45, 0.85)])
            try:
                answer.get_by_text("Reads").wait_for(timeout=WAIT_MS // 3)
                break
            except PlaywrightTimeout:
                if attempt == 2:
                    raise
        wait_idle(tab)
        assert_no_errors(tab)
        text = answer.inner_text()
        assert re.search(r"Reads 7\s+·\s+confidence [01]\.\d\d", text), text
        # Both in the first screenful: nothing was scrolled, the answer above the canvas, the canvas whole.
        assert tab.evaluate("() => document.querySelector(\"[data-testid='stMain']\").scrollTop") == 0
        answer_box, canvas_box = answer.bounding_box(), canvas.bounding_box()
        assert 0 <= answer_box["y"] and answer_box["y"] + answer_box["height"] <= canvas_box["y"]
        assert canvas_box["y"] + canvas_box["height"] <= 844
        assert tab.evaluate("() => document.querySelector(\"[data-testid='stMain']\").scrollWidth") <= 391
        SCREENSHOTS.mkdir(exist_ok=True)
        tab.screenshot(path=SCREENSHOTS / "e2e_phone_draw_answer.png")
    finally:
        context.close()


def test_draw_picks_a_model_and_shows_what_the_network_sees_step_by_step(page):
    go_to(page, "Draw")
    caption = main_block(page).get_by_test_id("stCaptionContainer").filter(has_text="Active model").first
    assert "784-800-800-10" in caption.inner_text()  # the default: the handwriting model
    assert page.locator(ANSWER).is_hidden()  # a wide screen has the answer in its own column instead
    page.locator(".st-key-model_picker_button button:visible").first.click()  # the button naming the model opens the list
    page.locator(".st-key-model_picker").get_by_text(re.compile("Seed classic")).click()
    caption.filter(has_text="784-200-10").wait_for()
    wait_idle(page)
    assert draw_and_read(page, [(0.5, 0.15), (0.5, 0.85)], "draw_picked_seed") == "1"
    page.get_by_text("What the network sees, step by step").click()
    expander = page.get_by_test_id("stExpander").filter(has_text="step by step")
    pictures = expander.locator("img")
    pictures.nth(5).wait_for()
    assert pictures.count() == 6  # grey, ink, specks, crop, stroke width, what the network sees
    text = expander.inner_text()
    assert "5. Stroke width" in text and "6. What the network sees" in text
    assert_no_errors(page)
    screenshot(page, "draw_steps")
    go_to(page, "Evaluate")  # the pick holds on the other pages
    assert "784-200-10" in main_block(page).get_by_test_id("stCaptionContainer").filter(
        has_text="Active model").first.inner_text()
