"""End-to-end journeys through the pages of issue #11 in a real headless Chromium: One step by hand, the
Hidden-layer map, the Robustness lab, and the Draw page's "How sure is it, and how easily fooled?".

The server, browser and page fixtures and the helpers are tests/test_e2e.py's (one server per module, a fresh
browser context, hence a fresh Streamlit session, per test; skipped without Chromium and playwright unless
CI=true). Each journey is also opened at a phone's size. Screenshots go to ``screenshots/e2e_*.png``.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from test_e2e import (  # noqa: F401 -- fixtures are used by name
    CHART,
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
    visible_charts,
    wait_idle,
)

PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True,
         "device_scale_factor": 2}


def open_page(page, name: str, path: str) -> None:
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=re.compile(rf"\b{re.escape(name)}$")).click()
    page.wait_for_url(re.compile(rf"/{path}$"))
    main_block(page).get_by_role("heading", name=name, exact=True).wait_for()
    wait_idle(page)


def test_one_step_by_hand(page):
    open_page(page, "One step by hand", "step")
    assert_no_errors(page)
    text = main_block(page).inner_text()
    assert "× 3.0000/(3.0000 + 1.0000)" in text  # the seed's 3:1 split, written out
    assert page.locator("svg[aria-label^='the small network']").is_visible()
    screenshot(page, "step_small")
    page.locator(".st-key-st_step10 button").click()
    page.get_by_text(re.compile(r"10 steps taken: the squared error went from 0\.4572 to 0\.[0-9]+")).wait_for()
    wait_idle(page)
    assert_no_errors(page)
    screenshot(page, "step_small_after_10")

    page.get_by_role("tab", name="One node of the real network").click()
    panel = page.get_by_role("tabpanel", name="One node of the real network")
    panel.get_by_text("Signal in: X = Σ W·O_prev").wait_for()
    wait_idle(page)
    assert "output node 7 (digit 7)" in panel.inner_text()  # test image 0 is a 7, read right
    assert visible_charts(panel) >= 1
    assert_no_errors(page)
    screenshot(page, "step_node")


def test_hidden_layer_map(page):
    open_page(page, "Hidden-layer map", "map")
    assert_no_errors(page)
    page.get_by_text("then Draw the map").wait_for()
    page.locator(".st-key-map_draw button").click()
    page.get_by_text(re.compile(r"Crosses with a black outline: the [0-9]+ images the network reads wrong")).wait_for()
    wait_idle(page)
    page.locator(f"{CHART} canvas, {CHART} svg").first.wait_for()
    assert visible_charts(main_block(page)) >= 1
    assert_no_errors(page)
    screenshot(page, "map_pca")

    # Hover over the map until the pointer meets a point: its tooltip shows the image itself; click it.
    chart = page.locator(CHART).first
    chart.scroll_into_view_if_needed()
    page.wait_for_timeout(1000)
    box = chart.bounding_box()
    tooltip = page.locator("#vg-tooltip-element")
    spot = None
    for fy in (0.3, 0.4, 0.5, 0.6, 0.7):
        for fx in (0.3, 0.4, 0.5, 0.6):
            page.mouse.move(box["x"] + fx * box["width"], box["y"] + fy * box["height"])
            page.wait_for_timeout(300)
            if tooltip.count() and tooltip.is_visible() and "test image #" in tooltip.inner_text():
                spot = (box["x"] + fx * box["width"], box["y"] + fy * box["height"])
                break
        if spot:
            break
    assert spot is not None, "no point of the map answered the pointer"
    assert tooltip.locator("img").count() == 1
    number = int(re.search(r"test image #\s*([0-9,]+)", tooltip.inner_text()).group(1).replace(",", ""))
    page.mouse.click(*spot)
    picked = page.get_by_test_id("stImage").filter(has_text=f"test image #{number:,}:")
    picked.wait_for()
    wait_idle(page)
    assert_no_errors(page)
    screenshot(page, "map_picked")


def test_robustness_lab(page):
    open_page(page, "Robustness lab", "robustness")
    assert_no_errors(page)
    page.locator(".st-key-rb_run button").click()
    page.get_by_text(re.compile(r"Adversarial \(FGSM\): from [0-9.]+% undamaged")).wait_for()
    wait_idle(page)
    sweeps = page.get_by_role("tabpanel", name="Accuracy under damage")
    sweeps.locator(f"{CHART} canvas, {CHART} svg").nth(4).wait_for()  # five charts, drawn after the script
    assert visible_charts(sweeps) == 5
    assert_no_errors(page)
    screenshot(page, "robustness_sweeps")

    page.get_by_role("tab", name="One image").click()
    one = page.get_by_role("tabpanel", name="One image")
    one.get_by_text("What its answer rests on").wait_for()
    wait_idle(page)
    one.get_by_test_id("stImage").nth(7).wait_for()  # the tab is built when opened: its pictures come after
    assert one.get_by_test_id("stImage").count() >= 8  # the original, nudge, copy, four damaged, the heat map
    assert "read as" in one.inner_text()
    assert_no_errors(page)
    screenshot(page, "robustness_one_image")


def test_draw_how_sure_and_how_easily_fooled(page):
    go_to(page, "Draw")
    assert draw_and_read(page, [(0.5, 0.15), (0.5, 0.85)], "draw_fooled") == "1"
    page.get_by_text("How sure is it, and how easily fooled?").click()
    expander = page.get_by_test_id("stExpander").filter(has_text="How sure is it")
    expander.get_by_text("An adversarial copy").wait_for()
    wait_idle(page)
    text = expander.inner_text()
    assert re.search(r"Its answer\s+1", text), text
    assert "Turned" in text and "keeps its answer" in text
    assert_no_errors(page)
    screenshot(page, "draw_fooled")


@pytest.mark.parametrize("name, path, button", [
    ("One step by hand", "step", None),
    ("Hidden-layer map", "map", ".st-key-map_draw button"),
    ("Robustness lab", "robustness", ".st-key-rb_run button"),
])
def test_the_new_pages_on_a_phone(browser, app_url, name, path, button):
    context = browser.new_context(**PHONE)
    context.set_default_timeout(WAIT_MS)
    try:
        tab = context.new_page()
        tab.goto(f"{app_url}/{path}")
        main_block(tab).get_by_role("heading", name=name, exact=True).wait_for()
        wait_idle(tab)
        if button:
            tab.locator(button).click()
            tab.locator(f"{CHART} canvas, {CHART} svg").first.wait_for()
            wait_idle(tab)
        assert_no_errors(tab)
        # no part of the page is wider than the phone: nothing to scroll sideways
        width = tab.evaluate("() => document.querySelector(\"[data-testid='stMain']\").scrollWidth")
        assert width <= 390 + 1, width
        SCREENSHOTS.mkdir(exist_ok=True)
        height = tab.evaluate("() => document.querySelector(\"[data-testid='stMain']\")?.scrollHeight ?? 0")
        tab.set_viewport_size({"width": 390, "height": min(int(height) + 40, 8000)})
        tab.wait_for_timeout(400)
        tab.screenshot(path=SCREENSHOTS / f"e2e_phone_{path}.png", full_page=True)
    finally:
        context.close()


def test_draw_how_sure_on_a_phone(browser, app_url):
    """The Draw page's robustness view at a phone's size, the digit drawn with a finger (touch events)."""
    context = browser.new_context(**PHONE)
    context.set_default_timeout(WAIT_MS)
    try:
        tab = context.new_page()
        tab.goto(f"{app_url}/draw")
        canvas = tab.locator(".st-key-draw_canvas canvas.upper-canvas")
        canvas.wait_for()
        wait_idle(tab)
        tab.wait_for_timeout(1000)  # the canvas mounts a moment after the page has drawn
        box = canvas.bounding_box()
        cdp = context.new_cdp_session(tab)
        x = box["x"] + box["width"] / 2
        points = [(x, box["y"] + box["height"] * f) for f in np.linspace(0.15, 0.85, 25)]
        cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": points[0][0],
                                                                                      "y": points[0][1]}]})
        for px, py in points[1:]:
            cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": px, "y": py}]})
        cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
        tab.get_by_text("How sure is it, and how easily fooled?").click()
        tab.get_by_text("An adversarial copy").wait_for()
        wait_idle(tab)
        assert_no_errors(tab)
        width = tab.evaluate("() => document.querySelector(\"[data-testid='stMain']\").scrollWidth")
        assert width <= 390 + 1, width
        tab.get_by_text("How sure is it, and how easily fooled?").scroll_into_view_if_needed()
        tab.screenshot(path=SCREENSHOTS / "e2e_phone_draw_fooled.png")
    finally:
        context.close()

