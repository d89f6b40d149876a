"""End-to-end tests of the training service in a real headless Chromium: runs that outlive the page.

The server, browser and page fixtures and the helpers are tests/test_e2e.py's (one server for this module,
its runs in a temporary run store; a fresh browser context, hence a fresh Streamlit session and a fresh
workspace cookie, per test). The journeys of issue #8: start a run, go to Draw and draw, come back: the run
finished all its epochs; reload: the runs are listed; pause and resume; two browsers never see each other's
runs; a share link opens read-only in a third.
"""

from __future__ import annotations

import re

from test_e2e import (  # noqa: F401 -- fixtures are used by name
    VIEWPORT,
    WAIT_MS,
    app_url,
    assert_no_errors,
    browser,
    draw_and_read,
    go_to,
    main_block,
    page,
    screenshot,
    set_slider,
    wait_idle,
)

LIVE = ".st-key-tr_live"


def start_run(page, records: str | None = None, epochs: str | None = None) -> None:
    go_to(page, "Train")
    if records is not None:
        set_slider(page, "tr_limit", records)
    if epochs is not None:
        set_slider(page, "tr_epochs", epochs)
    page.wait_for_timeout(500)  # the sliders' values reach the server before Start
    wait_idle(page)
    page.locator(".st-key-tr_start button").click()
    page.locator(LIVE).wait_for()


def click_until(page, button, done_js: str, attempts: int = 3, timeout: int = 20_000) -> None:
    """Click ``button`` until ``done_js`` holds. The live views redraw themselves every second or two, and a
    click that lands while its button is being redrawn can be lost on a busy machine: it is made again."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for attempt in range(1, attempts + 1):
        button.click()
        try:
            page.wait_for_function(done_js, timeout=timeout)
            return
        except PlaywrightTimeout:
            if attempt == attempts:
                raise


def live_text(page) -> str:
    return page.locator(LIVE).inner_text()


def start_long_run_and_pause(page, progress: str) -> None:
    """Start a run of 60,000 records x 10 epochs, wait until the live view matches ``progress`` (a JS regex),
    then press Pause until the view says so."""
    start_run(page, records="60,000", epochs="10")
    page.wait_for_function(f"/{progress}/.test(document.querySelector('{LIVE}')?.innerText)", timeout=WAIT_MS)
    click_until(page, main_block(page).get_by_role("button", name="Pause").first,
                f"document.querySelector('{LIVE}')?.innerText.includes('Paused in epoch')")


def new_tab(browser):
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(WAIT_MS)
    return context, context.new_page()


def test_a_run_trains_on_while_the_visitor_draws_and_survives_a_reload(page, app_url):
    # The full 60,000 records x 6 epochs of the seed's network (about 3 s an epoch on a quiet machine). A
    # quick machine trains 10,000 records x 5 epochs in 3 s, before the test has left the page: so the run is
    # paused first, and the status bar on Draw (still there, whatever the machine's speed) resumes it.
    start_run(page, records="60,000", epochs="6")
    page.wait_for_function(f"document.querySelector('{LIVE}')?.innerText.includes('Epoch')", timeout=WAIT_MS)
    click_until(page, main_block(page).get_by_role("button", name="Pause").first,
                f"document.querySelector('{LIVE}')?.innerText.includes('Paused in epoch')")
    # a setting changed for the next run survives the page change next to the live fragments (streamlit#10805)
    page.locator(".st-key-tr_settings summary").click()  # the settings beyond records and epochs are folded
    lr = page.locator(".st-key-tr_lr input")
    lr.fill("0.2")
    lr.press("Enter")
    wait_idle(page)
    go_to(page, "Draw")
    status = page.locator(".st-key-run_status")  # the live status at the top of every page
    status.wait_for()
    assert "Run 1" in status.inner_text() and "paused in epoch" in status.inner_text()
    click_until(page, status.get_by_role("button", name="Resume").first,
                "!document.querySelector('.st-key-run_status')?.innerText.includes('paused')")
    sidebar = page.get_by_test_id("stSidebar")
    digit = draw_and_read(page, [(0.5, 0.15), (0.5, 0.85)], "runs_draw_while_training")
    assert re.fullmatch(r"[0-9]", digit)
    screenshot(page, "runs_draw_while_training")

    go_to(page, "Train")
    assert page.locator(".st-key-tr_lr input").input_value() == "0.2000"
    page.get_by_text(re.compile(r"Finished: 6 of 6 epochs")).wait_for(timeout=240_000)
    wait_idle(page)
    # reading worse than the shipped default, it is offered; taken, it is the active model, after a reload too
    click_until(page, main_block(page).get_by_role("button", name="Use Run 1").first,
                "document.querySelector('[data-testid=\"stSidebar\"]')?.innerText.includes('Run 1')")
    assert_no_errors(page)

    page.reload()
    page.get_by_role("heading", name="Train", exact=True).wait_for()
    wait_idle(page)
    assert "Run 1" in sidebar.inner_text()
    go_to(page, "Runs")
    table = page.get_by_test_id("stDataFrame").first
    table.wait_for()
    assert "Run 1" in main_block(page).inner_text() and "No runs yet" not in main_block(page).inner_text()
    assert page.get_by_text(re.compile(r"finished: 6 of 6 epochs")).first.is_visible()
    assert_no_errors(page)
    screenshot(page, "runs_after_reload")


def test_pause_holds_the_run_and_resume_lets_it_go_on(page):
    # the full 60,000 records x 10 epochs: about 3 s an epoch on a quiet machine, so the run is still going
    # when Pause, Resume and Stop have been pressed in turn (it is stopped, so the test does not wait for it)
    start_long_run_and_pause(page, progress=r"Epoch [0-9]+ of 10: [1-9]")
    held = re.search(r"([\d,]+) of ([\d,]+) samples", live_text(page))
    page.wait_for_timeout(2500)  # the live view redraws every second: nothing moves while paused
    again = re.search(r"([\d,]+) of ([\d,]+) samples", live_text(page))
    if held and again:
        assert held.group(1) == again.group(1), (held.group(0), again.group(0))
    assert "Paused in epoch" in live_text(page)
    screenshot(page, "runs_paused")

    click_until(page, main_block(page).get_by_role("button", name="Resume").first,
                f"!document.querySelector('{LIVE}')?.innerText.includes('Paused')")
    click_until(page, main_block(page).get_by_role("button", name="Stop").first,
                f"document.querySelector('{LIVE}')?.innerText.includes('Stopped after')")
    assert "the epoch in progress is not" in live_text(page)
    wait_idle(page)
    assert_no_errors(page)


def test_two_browsers_never_see_each_others_runs_and_a_share_link_is_read_only(page, browser, app_url):
    start_run(page, records="2,000", epochs="2")
    page.get_by_text(re.compile(r"Finished: 2 of 2 epochs")).wait_for(timeout=120_000)
    go_to(page, "Runs")
    owner_text = main_block(page).inner_text()
    assert "Run 1" in owner_text

    other_context, other = new_tab(browser)
    third_context, third = new_tab(browser)
    try:
        other.goto(f"{app_url}/runs")
        other.get_by_text("No runs yet").wait_for()
        wait_idle(other)
        assert "784-200-10" not in main_block(other).inner_text()  # nothing of the first visitor's

        click_until(page, main_block(page).get_by_role("button", name="Share a read-only link"),
                    "[...document.querySelectorAll(\"[data-testid='stCode']\")].some(c => c.innerText.includes('share='))")
        code = main_block(page).get_by_test_id("stCode").filter(has_text="share=").first
        link = code.inner_text().strip()
        assert link.startswith(f"{app_url}/runs?share=")
        screenshot(page, "runs_shared")

        third.goto(link)
        third.get_by_text("A shared run").wait_for()
        wait_idle(third)
        body = main_block(third)
        assert "Read-only" in body.inner_text()
        for name in ("Pause", "Stop", "Continue", "Delete", "Share a read-only link"):
            assert body.get_by_role("button", name=name).count() == 0, name
        body.get_by_role("button", name="Use this model").click()
        third.get_by_text("The shared model is now your active model").wait_for()
        assert "Shared run 1" in third.get_by_test_id("stSidebar").inner_text()
        screenshot(third, "runs_share_viewer")

        # the viewer's own Runs page is still empty: using a shared model copies it, it does not adopt runs
        third.goto(f"{app_url}/runs")
        third.get_by_text("No runs yet").wait_for()
        # a guessed link says "not found" and nothing else
        third.goto(f"{app_url}/runs?share={'x' * 24}")
        third.get_by_text("This share link was not found").wait_for()
        assert_no_errors(page)
    finally:
        other_context.close()
        third_context.close()


def test_a_second_start_shows_the_first_run_in_the_status_bar(page):
    # Start and the run in view are one fragment (a Start reruns only that part); the status bar at the top
    # belongs to the whole page, so a Start while another run of yours trains must redraw the page: the first
    # run moves to the status bar, the new one is in view.
    start_long_run_and_pause(page, progress=r"Epoch [0-9]+ of 10")
    first = page.locator(f"{LIVE} h4").inner_text().strip()
    assert page.locator(".st-key-run_status").count() == 0  # the run in view is not repeated at the top
    page.locator(".st-key-tr_start button").click()
    page.wait_for_function(f"!document.querySelector('{LIVE} h4')?.innerText.includes({first!r})",
                           timeout=WAIT_MS)
    second = page.locator(f"{LIVE} h4").inner_text().strip()
    status = page.locator(".st-key-run_status")
    status.wait_for()
    assert first in status.inner_text() and second not in status.inner_text()
    screenshot(page, "runs_second_start")
    # stop both: the one in view, then the status bar's
    click_until(page, page.locator(LIVE).get_by_role("button", name="Stop"),
                f"document.querySelector('{LIVE}')?.innerText.includes('Stopped')")
    click_until(page, status.get_by_role("button", name="Stop"),
                f"!document.querySelector('.st-key-run_status')?.innerText.includes({first!r})")
    wait_idle(page)
    assert_no_errors(page)


def test_a_reload_right_after_start_keeps_the_run(page):
    # Start reruns only its fragment; the workspace's cookie (written once the workspace holds a run) must
    # still reach the browser at once, or a reload right away would open a new, empty workspace.
    start_run(page, records="60,000", epochs="10")
    name = page.locator(f"{LIVE} h4").inner_text().strip()
    page.wait_for_function("document.cookie.includes('ann_workspace')", timeout=WAIT_MS)
    page.reload()
    page.locator(LIVE).wait_for()
    assert name in page.locator(f"{LIVE} h4").inner_text()
    click_until(page, page.locator(LIVE).get_by_role("button", name="Stop"),
                f"document.querySelector('{LIVE}')?.innerText.includes('Stopped')")
    wait_idle(page)
    assert_no_errors(page)
