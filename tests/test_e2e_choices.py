"""End-to-end: what a learner picked survives a reload, another page and a second tab, in a real Chromium.

The server, browser and page fixtures and the helpers are tests/test_e2e.py's (one server for this module, its
runs in a temporary run store; a fresh browser context, hence a fresh session and workspace cookie, per test).
"""

from __future__ import annotations

import re

from test_e2e import (  # noqa: F401 -- fixtures are used by name
    WAIT_MS,
    app_url,
    assert_no_errors,
    browser,
    go_to,
    main_block,
    page,
    screenshot,
    wait_idle,
)

SEED = "Seed classic (the blog's network)"


def pick(page, widget: str, option: str) -> None:
    """Open a picker (a button naming the current choice) and pick ``option`` from its list."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    button = page.locator(f".st-key-{widget}_button button:visible").first
    choice = page.locator(f".st-key-{widget}").get_by_text(re.compile(rf"^{re.escape(option)}"))
    for _ in range(3):  # a click during a rerun may be lost: open the list again
        button.click()
        try:
            choice.first.wait_for(timeout=10_000)
            break
        except PlaywrightTimeout:
            wait_idle(page)
    choice.first.click()
    wait_idle(page)


def model_button(page):
    """The model picker's button, naming the seed's network (Home draws the picker twice, one for each width)."""
    return page.locator(".st-key-model_picker_button button:visible", has_text=f"Model: {SEED}").first


def sidebar(page) -> str:
    return page.get_by_test_id("stSidebar").inner_text()


def assert_kept(page) -> None:
    """The sidebar names both picks: the dataset picker's button and the active model's line."""
    page.locator(".st-key-dataset_picker_sidebar_button button:visible", has_text="Dataset: Fashion-MNIST").first.wait_for()
    assert SEED in sidebar(page), sidebar(page)
    assert "Handwriting (reads real handwriting best)" not in sidebar(page)


def test_a_reload_keeps_a_picked_model_and_dataset_on_every_page(page, browser, app_url):
    # Home: the default model, MNIST; the learner picks the seed's network and Fashion-MNIST
    assert "Dataset: MNIST" in sidebar(page) and "Handwriting (reads real handwriting best)" in sidebar(page)
    pick(page, "model_picker", SEED)
    model_button(page).wait_for()
    pick(page, "dataset_picker_sidebar", "Fashion-MNIST")
    assert_kept(page)
    # the workspace's cookie is written once something is picked: a reload finds the same workspace
    page.wait_for_function("document.cookie.includes('ann_workspace=')", timeout=WAIT_MS)

    page.reload()
    page.get_by_role("heading", name="ANN Explorer", exact=True).wait_for()
    wait_idle(page)
    assert_kept(page)
    model_button(page).wait_for()
    assert_no_errors(page)
    screenshot(page, "choices_home_after_reload")

    go_to(page, "Draw")  # another page, and a reload there
    assert_kept(page)
    assert f"Active model: {SEED}" in main_block(page).inner_text()
    page.reload()
    page.get_by_role("heading", name="Draw", exact=True).wait_for()
    wait_idle(page)
    assert_kept(page)
    assert f"Active model: {SEED}" in main_block(page).inner_text()
    assert_no_errors(page)
    screenshot(page, "choices_draw_after_reload")

    second = page.context.new_page()  # a second tab of the same browser opens on the same choice
    second.goto(f"{app_url}/train")
    second.get_by_role("heading", name="Train", exact=True).wait_for()
    wait_idle(second)
    assert_kept(second)
    assert "Trains on **Fashion-MNIST**" not in main_block(second).inner_text()  # the markdown is drawn
    assert "Fashion-MNIST" in main_block(second).inner_text()

    other = browser.new_context(viewport={"width": 1400, "height": 1000})  # another browser: its own defaults
    try:
        stranger = other.new_page()
        stranger.set_default_timeout(WAIT_MS)
        stranger.goto(app_url)
        stranger.get_by_role("heading", name="ANN Explorer", exact=True).wait_for()
        wait_idle(stranger)
        assert "Dataset: MNIST" in sidebar(stranger)
        assert "Handwriting (reads real handwriting best)" in sidebar(stranger)
    finally:
        other.close()
