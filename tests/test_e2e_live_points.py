"""A run's curves from its first second, in a real headless Chromium (tests/test_e2e.py's server and helpers).

The seed's network on all 60,000 records for one epoch (several seconds in a worker): while that one epoch
is still in progress, the Train page already draws its curves from the live points, says how the test slice
reads, and shows the network's answers to the ten fixed digits and a few nodes' weights.
"""

from __future__ import annotations

from test_e2e import (  # noqa: F401 -- fixtures are used by name
    WAIT_MS,
    app_url,
    assert_no_errors,
    browser,
    go_to,
    page,
    screenshot,
    set_slider,
    visible_charts,
    wait_idle,
)

LIVE = ".st-key-tr_live"


def test_the_curves_answers_and_weights_show_within_the_first_epoch(page):
    go_to(page, "Train")
    set_slider(page, "tr_limit", "60,000")
    set_slider(page, "tr_epochs", "1")
    page.wait_for_timeout(500)  # the sliders' values reach the server before Start
    wait_idle(page)
    page.locator(".st-key-tr_start button").click()
    page.locator(LIVE).wait_for()
    # still in its only epoch, and already: a chart drawn, the slice's accuracy, the ten answers, six nodes
    page.wait_for_function(
        f"""() => {{ const live = document.querySelector('{LIVE}');
                    if (!live || !/epoch 1 of 1, \\d+%/i.test(live.innerText)) return false;
                    return live.innerText.includes('Accuracy on the test slice now')
                        && live.querySelectorAll("img[alt*='answered']").length === 10
                        && live.querySelectorAll("img[alt^='node ']").length === 6
                        && live.querySelector("[data-testid='stVegaLiteChart'] canvas, "
                                              + "[data-testid='stVegaLiteChart'] svg"); }}""", timeout=WAIT_MS)
    live = page.locator(LIVE)
    assert visible_charts(live) == 2 and "Accuracy while training" in live.inner_text()
    screenshot(page, "train_live_points")
    # when it ends, the answers stay: the network as it ended
    page.wait_for_function(f"""() => {{ const text = document.querySelector('{LIVE}')?.innerText || '';
                                       return text.includes('Finished: 1 of 1 epochs')
                                           && text.includes('answers now'); }}""", timeout=120_000)
    wait_idle(page)
    assert_no_errors(page)
