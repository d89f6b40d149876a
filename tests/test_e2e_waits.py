"""End-to-end: a first look at a page with an estimate does not wait for this server's calibration.

A server of its own (this module's: nothing measured yet), a fresh browser session per page. The page's first
script run says "measuring this server's speed…" where the estimate will be and ends without waiting for the
calibration, which runs in the background; the estimate appears by itself (the part polls), and then the page
goes quiet: the browser asks the server for nothing more (the poll has stopped).

The server, browser and helpers are tests/test_e2e.py's (one server per module; skipped without Chromium and
playwright unless CI=true).
"""

from __future__ import annotations

import re

import pytest
from test_e2e import (  # noqa: F401 -- fixtures are used by name
    VIEWPORT,
    WAIT_MS,
    app_url,
    assert_no_errors,
    browser,
    main_block,
    wait_idle,
)

from ui.waits import MEASURING

# Records whether the page ever said it was measuring, however briefly (a MutationObserver from the first paint).
SEEN_MEASURING = f"""
window.__annMeasuring = false;
new MutationObserver(() => {{
  if (!window.__annMeasuring && document.body && document.body.innerText.includes({MEASURING!r})) {{
    window.__annMeasuring = true;
  }}
}}).observe(document, {{subtree: true, childList: true, characterData: true}});
"""

PAGES = {
    # page: (path, the estimate's sentence once measured)
    "Train": ("train", r"x 5 epochs: about \d+\s+s from Start to the end, at this server's speed now"),
    "Robustness lab": ("robustness", r"Run the sweeps: about \d+\s+s for these with the active model"),
    "Experiments": ("experiments", r"4 rules x 5,000 records x 5 epochs: about \d+\s+s at this server's speed now"),
}


@pytest.mark.parametrize("name", list(PAGES))
def test_a_first_look_shows_the_page_at_once_and_the_estimate_when_measured(browser, app_url, name):
    path, sentence = PAGES[name]
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(WAIT_MS)
    context.add_init_script(SEEN_MEASURING)
    tab = context.new_page()
    sent: list[str] = []  # what the browser sends the server: a rerun request is one message
    tab.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent.append("frame")))
    try:
        tab.goto(f"{app_url}/{path}")
        main_block(tab).get_by_role("heading", name=name, exact=True).wait_for()
        main_block(tab).get_by_text(re.compile(sentence)).first.wait_for(timeout=60_000)
        wait_idle(tab)
        assert tab.evaluate("window.__annMeasuring"), "the first look did not say it was measuring"
        assert MEASURING not in main_block(tab).inner_text()
        assert_no_errors(tab)
        # quiet from here: the poll has ended (it would ask every half second)
        tab.wait_for_timeout(1000)
        before = len(sent)
        tab.wait_for_timeout(3000)
        assert len(sent) - before <= 1, f"{len(sent) - before} messages to the server in 3 s of an idle page"
    finally:
        context.close()
