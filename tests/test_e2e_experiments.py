"""End-to-end tests of the Experiments and Inside pages and of shared Train links, in a real headless Chromium.

The server, browser and page fixtures and the helpers are tests/test_e2e.py's (one server per module, a
fresh browser context, hence a fresh Streamlit session, per test; skipped without Chromium and playwright
unless CI=true). The journeys: Experiments shows the shipped charts in both tabs, and a live run can be
started and stopped with its finished part kept; Inside draws its pictures and charts; a link with query
parameters opens the Train page with those settings. Screenshots go to ``screenshots/e2e_*.png``.
"""

from __future__ import annotations

import re

from test_e2e import (  # noqa: F401 -- fixtures are used by name
    CHART,
    VIEWPORT,
    WAIT_MS,
    app_url,
    assert_no_errors,
    browser,
    main_block,
    page,
    screenshot,
    visible_charts,
    wait_idle,
)

RULES_DRAWING = "svg[aria-label^='Test accuracy per epoch']"  # the shipped error rules (a drawing, not a chart)


def open_from_sidebar(page, name: str, path: str) -> None:
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=re.compile(rf"\b{name}$")).click()
    page.wait_for_url(re.compile(rf"/{path}$"))
    main_block(page).locator("h1").filter(has_text=re.compile(rf"^{name}|^Inside the network$")).wait_for()
    page.locator(f"{CHART}, {RULES_DRAWING}").first.wait_for()
    wait_idle(page)


def test_experiments_shows_the_seeds_chart_and_the_sweeps(page):
    open_from_sidebar(page, "Experiments", "experiments")
    assert_no_errors(page)
    rules = page.get_by_role("tabpanel", name="Error rules")
    drawing = rules.locator(RULES_DRAWING)
    assert drawing.count() == 1 and drawing.bounding_box()["width"] > 400
    assert drawing.locator("polyline").count() == 3  # zoomed in: the rule that did not learn is named instead
    assert "epoch 5: test accuracy" in drawing.locator("circle title").last.inner_html()
    assert "They agree with the seed" in rules.inner_text()
    screenshot(page, "experiments_error_rules")

    page.get_by_role("tab", name="Sweeps").click()
    sweeps = page.get_by_role("tabpanel", name="Sweeps")
    sweeps.get_by_text("Epochs, and where overfitting begins").wait_for()
    wait_idle(page)
    sweeps.locator(f"{CHART} canvas, {CHART} svg").nth(2).wait_for()  # the tab is built when opened: drawn after
    assert visible_charts(sweeps) >= 3  # learning rate, hidden nodes, epochs
    text = sweeps.inner_text()
    assert "the best rate is" in text and "test accuracy peaks at epoch" in text
    assert_no_errors(page)
    screenshot(page, "experiments_sweeps")


def test_a_sweep_made_on_the_command_line_opens_on_the_page(page, tmp_path, mnist_dir):
    """python -m ann sweep writes a results file; uploaded on the Sweeps tab it shows its chart and runs."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    out = tmp_path / "sweep.json"
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "-m", "ann", "sweep", "--data", str(mnist_dir), "--param", "lr=0.1,0.3",
                           "--seeds", "2", "--limit", "300", "--epochs", "1", "--rotate", "0", "--out", str(out)],
                          capture_output=True, text=True, cwd=root, env={**os.environ, "PYTHONPATH": str(root)},
                          timeout=300)
    assert done.returncode == 0, done.stderr
    open_from_sidebar(page, "Experiments", "experiments")
    page.get_by_role("tab", name="Sweeps").click()
    sweeps = page.get_by_role("tabpanel", name="Sweeps")
    sweeps.locator("input[type='file']").set_input_files(str(out))
    sweeps.get_by_text("sweep.json: 4 runs over learning rate, 2 seeds, 300 training records").wait_for()
    wait_idle(page)
    text = sweeps.inner_text()
    assert "Best: learning rate" in text and "of 2 settings tried" in text
    sweeps.get_by_test_id("stDataFrame").first.wait_for()  # the table of runs draws after the text on a busy machine
    assert sweeps.get_by_test_id("stDataFrame").count() == 1
    assert visible_charts(sweeps) >= 4  # the shipped three and this sweep's
    assert_no_errors(page)
    screenshot(page, "experiments_sweep_file")


def test_a_live_error_rule_run_can_be_stopped_and_keeps_its_finished_rules(page):
    open_from_sidebar(page, "Experiments", "experiments")
    page.locator(".st-key-ex_r_start button").first.click()
    progress = page.get_by_test_id("stProgress")
    progress.wait_for()
    # Stop once a rule is done (its line is on the chart) while others train (side by side, one per core).
    progress.filter(has_text=re.compile(r"[123]/4 rules done")).wait_for()
    # (while the script runs, the page can hold the Stop button of the last run too, disabled and fading)
    page.locator(".st-key-ex_r_stop button:enabled").first.click()
    rules = page.get_by_role("tabpanel", name="Error rules")
    rules.get_by_text(re.compile(r"Stopped after \d+\s+s")).wait_for()
    wait_idle(page)
    assert "Your run: 5,000 training records" in rules.inner_text()
    assert visible_charts(rules) >= 1 and rules.locator(RULES_DRAWING).count() == 1  # this run's, and the shipped
    assert page.locator(".st-key-ex_r_start button").first.is_enabled()
    assert_no_errors(page)
    screenshot(page, "experiments_live_stopped")


def test_inside_shows_weight_pictures_and_charts(page):
    page.get_by_test_id("stSidebarNav").get_by_role("link", name=re.compile(r"\bInside$")).click()
    page.wait_for_url(re.compile(r"/inside$"))
    main = main_block(page)
    main.get_by_text("3. The network run backwards").wait_for()
    wait_idle(page)
    assert_no_errors(page)
    pictures = main.get_by_test_id("stHtml").locator("img")
    # the weight grid, the ten backquery pictures: waited for, as the charts below are (CI, 2 busy cores, found
    # none at the moment the heading was there and the script idle; they came with the page's next delta)
    pictures.nth(64 + 10 - 1).wait_for()
    assert pictures.count() >= 64 + 10
    assert pictures.first.bounding_box()["width"] >= 60
    assert page.evaluate("(img) => img.complete && img.naturalWidth === 28", pictures.first.element_handle())
    assert visible_charts(main) == 0  # views 2 and 4 are drawn when opened
    assert "read as" in main.inner_text()
    screenshot(page, "inside")
    for view in ("2. One image through the network", "4. How the weights are spread"):
        main.get_by_text(view).click()
        wait_idle(page)
    # outputs, contributions, activations, one histogram per layer: on a busy machine the last are still
    # being drawn when the page is idle, so wait for the fifth to be drawn before counting
    main.locator(f"{CHART} canvas, {CHART} svg").nth(4).wait_for()
    wait_idle(page)
    assert visible_charts(main) >= 5
    # + the colour key, the image; the pushing nodes' pictures only for a network with one hidden layer (the
    # default model has two: the page says why there are none)
    assert main.get_by_test_id("stHtml").locator("img").count() >= 64 + 10 + 1 + 1
    assert "With several hidden layers" in main.inner_text() or main.get_by_text("Pushing up").count()
    assert_no_errors(page)
    screenshot(page, "inside_opened")


def test_a_shared_link_opens_the_train_page_with_its_settings(browser, app_url):
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(WAIT_MS)
    tab = context.new_page()
    try:
        tab.goto(f"{app_url}/train?preset=fast&lr=0.5&hidden=100,50&epochs=3&batch-size=3")
        tab.locator(".st-key-tr_start button").wait_for()
        wait_idle(tab)
        assert tab.locator(".st-key-tr_lr input").input_value() == "0.5000"
        assert tab.locator(".st-key-tr_layers input").input_value() == "2"
        assert tab.locator(".st-key-tr_hidden_1 input").input_value() == "50"
        assert tab.locator(".st-key-tr_epochs [data-testid='stSliderThumbValue']").inner_text() == "3"
        assert tab.locator(".st-key-tr_preset button[aria-checked='true']").inner_text().strip() == "Fast"
        assert "batch-size=3" in tab.get_by_test_id("stAlertContentWarning").inner_text()  # named, not a crash
        # The address keeps the good settings and drops the bad one; the page offers it as a link to copy.
        assert "batch-size" not in tab.url and "lr=0.5" in tab.url and "preset=fast" in tab.url
        tab.get_by_text("Copy link to this setup").click()
        code = tab.get_by_test_id("stCode").last
        code.wait_for()
        assert code.inner_text().strip().startswith(f"{app_url}/train?preset=fast&")
        screenshot(tab, "train_from_link")
    finally:
        context.close()
