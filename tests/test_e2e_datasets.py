"""End-to-end: your own data in a real headless Chromium (issue #12's journey).

Upload a small folder of images (one subfolder per class, as it is on disk, through the browser's folder
upload), train on it, and see its confusion matrix with its class names; then the pages at a phone's size.
The fixtures and helpers are tests/test_e2e.py's; screenshots go to ``screenshots/e2e_datasets_*.png``.
"""

from __future__ import annotations

import re

import pytest
from dataset_files import write_shape_folder
from test_e2e import (  # noqa: F401 -- fixtures are used by name
    SCREENSHOTS,
    WAIT_MS,
    app_url,
    assert_no_errors,
    browser,
    go_to,
    main_block,
    page,
    screenshot,
    set_slider,
    wait_idle,
)
from test_e2e_lab import PHONE

CLASSES = ("circle", "cross", "square")


@pytest.fixture(scope="module")
def shapes_folder(tmp_path_factory):
    """Three class folders of 20 drawn shapes each (PNG and JPEG, several sizes and colours)."""
    return write_shape_folder(tmp_path_factory.mktemp("own") / "shapes", classes=CLASSES, per_class=20)


def confusion_tooltip(page, row: int, column: int) -> str:
    """The tooltip of cell (row, column) of the confusion matrix (a table: each cell's title)."""
    cell = page.locator(f".st-key-ev_confusion td[data-t='{row}'][data-p='{column}']")
    cell.wait_for()
    return cell.get_attribute("title") or ""


def test_upload_a_folder_train_on_it_and_see_its_confusion_matrix_by_class_name(page, shapes_folder):
    go_to(page, "Dataset")
    main = main_block(page)
    main.get_by_role("tab", name="Your own data").click()
    page.locator(".st-key-own_form").get_by_text("A folder", exact=True).click()
    wait_idle(page)
    page.locator(".st-key-own_folder input[type='file']").set_input_files(shapes_folder)
    page.locator(".st-key-own_folder").get_by_text("square", exact=False).first.wait_for()  # its files listed
    wait_idle(page)
    read = page.locator(".st-key-own_read button")
    page.wait_for_function("() => !document.querySelector('.st-key-own_read button').disabled", timeout=WAIT_MS)
    read.click()
    done = main.get_by_test_id("stAlertContentSuccess").filter(has_text="is now the active dataset")
    done.wait_for()
    wait_idle(page)
    text = done.inner_text()
    assert "shapes" in text and "3 classes (circle, cross, square)" in text, text
    assert "48 training and 12 test images" in text, text
    sidebar = page.get_by_test_id("stSidebar")
    picked = page.locator(".st-key-dataset_picker_sidebar_button button:visible").first.inner_text()  # the picker names it
    assert "Dataset: shapes (yours, 3 classes)" in picked, picked
    assert_no_errors(page)
    screenshot(page, "datasets_uploaded")

    main.get_by_role("tab", name="Browse").click()
    page.locator("[data-testid='stHtml'] img").first.wait_for()  # the thumbnails: one grid of PNGs
    assert re.search(r"#\d+: (circle|cross|square)", main.inner_text())
    screenshot(page, "datasets_browse")

    go_to(page, "Train")
    assert "Trains on shapes (3 classes: circle, cross, square" in main.inner_text()
    set_slider(page, "tr_epochs", "5")
    page.wait_for_timeout(500)
    wait_idle(page)
    assert "784-200-3 network, 48 records" in main.inner_text()
    page.locator(".st-key-tr_start button").click()
    finished = main.get_by_test_id("stAlertContentSuccess").filter(
        has_text=re.compile(r"Run 1 finished: [0-9.]+% on the test set")).first
    finished.wait_for(timeout=180_000)
    wait_idle(page)
    assert_no_errors(page)
    screenshot(page, "datasets_trained")

    go_to(page, "Evaluate")
    assert "Run 1" in sidebar.inner_text() and "shapes" in sidebar.inner_text()
    text = main.inner_text()
    assert "Right, of 12" in text and "Confusion matrix" in text and "True class" in text
    assert re.search(r"test images of (circle|cross|square) (read right|read as (circle|cross|square))", text)
    tip = confusion_tooltip(page, 1, 1)
    assert "cross" in tip, f"the confusion matrix's tooltip names the classes: {tip!r}"
    assert_no_errors(page)
    screenshot(page, "datasets_evaluate")

    go_to(page, "Home")
    assert "shapes, your own data, is ready" in main.inner_text()
    screenshot(page, "datasets_home")


def test_a_named_set_picked_on_a_phone_offers_its_download(browser, app_url):
    """The picker on a phone: Fashion-MNIST picked on Home; it is not here (no route to its mirrors), so
    Home and the Dataset page offer the download and say where its files go."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    context = browser.new_context(**PHONE)
    context.set_default_timeout(WAIT_MS)
    tab = context.new_page()
    try:
        tab.goto(app_url)
        tab.get_by_role("heading", name="ANN Explorer", exact=True).wait_for()
        wait_idle(tab)
        picker = tab.locator(".st-key-dataset_picker_home_button button:visible").first  # opens the list
        picker.scroll_into_view_if_needed()
        option = tab.locator(".st-key-dataset_picker_home").get_by_text("Fashion-MNIST", exact=True)
        for _ in range(3):  # a tap during a rerun may be lost: open the list again
            picker.click()
            try:
                option.wait_for(timeout=10_000)
                break
            except PlaywrightTimeout:
                wait_idle(tab)
        option.click()
        wait_idle(tab)
        main = main_block(tab)
        main.get_by_text("Fashion-MNIST is not downloaded yet").wait_for()
        tab.screenshot(path=SCREENSHOTS / "e2e_datasets_phone_home.png", full_page=True)
        main.get_by_role("link", name="Browse it, or upload your own data").click()  # the same session
        main.get_by_text("needs the Fashion-MNIST dataset").wait_for()
        wait_idle(tab)
        tab.screenshot(path=SCREENSHOTS / "e2e_datasets_phone_dataset.png", full_page=True)
        assert tab.get_by_test_id("stException").count() == 0
    finally:
        context.close()
