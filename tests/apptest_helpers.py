"""What the AppTest modules share: opening a page as a browser would, and reading what it shows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

streamlit_testing = pytest.importorskip("streamlit.testing.v1")
AppTest = streamlit_testing.AppTest

APP = str(Path(__file__).resolve().parents[1] / "app.py")
TIMEOUT = 90  # a busy 2-core machine: generous, and it costs nothing when things are quick


def open_page(page: str | None = None, query: dict[str, str] | None = None) -> AppTest:
    """The app run once (Home), then ``page``, as a browser opening ``/?query`` would: switching before
    the first run would run the page file alone, without app.py's navigation and sidebar."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run()
    if page is not None:
        at.switch_page(f"pages/{page}.py").run()
    return at


def rerun_until(at: AppTest, condition, what: str, timeout: float = 120.0) -> AppTest:
    """Rerun the page (as its timers would: the live panels, an estimate being measured) until
    ``condition(at)`` holds."""
    import time

    deadline = time.monotonic() + timeout
    while not condition(at):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.3)
        at.run()
    return at


def no_exceptions(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def texts(elements) -> str:
    return "\n".join(str(e.value) for e in elements)


def figure_row(at: AppTest) -> list[tuple[str, str]]:
    """The (label, value) of each box of the page's row of figures (``ui.tables.figure_row``), unescaped;
    [] when the page shows none."""
    import html
    import re

    from ui.phone import FIGURES

    rows = [h.value for h in at.html if f'class="{FIGURES}"' in h.value]
    if not rows:
        return []
    (row,) = rows
    found = re.findall(r'<div style="[^"]*"(?: title="[^"]*")?><div style="[^"]*">(.*?)(?:<span [^>]*>\?</span>)?'
                       r'</div><div style="[^"]*">(.*?)</div></div>', row)
    return [(html.unescape(label), html.unescape(value)) for label, value in found]


def figures(html: str) -> list[tuple[str, np.ndarray]]:
    """The pictures of a grid made by ``ui.pictures`` (an ``st.html`` body): each caption with its picture's
    pixels, decoded from its PNG data URL ((h, w) grey or (h, w, 3) RGB uint8)."""
    import base64
    import io
    import re

    import numpy as np
    from PIL import Image

    found = re.findall(r'<img src="data:image/png;base64,([^"]+)"[^>]*>(?:<figcaption[^>]*>([^<]*)</figcaption>)?',
                       html)
    pictures = []
    for data, caption in found:
        image = Image.open(io.BytesIO(base64.b64decode(data)))
        image = image.convert("RGB") if image.mode == "P" else image
        pictures.append((unescape(caption), np.asarray(image)))
    return pictures


def unescape(text: str) -> str:
    import html

    return html.unescape(text)


def html_tables(at) -> list:
    """The tables a page shows with ``ui.tables.html_table``, as DataFrames: every number at its full value
    (from its tooltip, not its rounded text), every other cell as its text."""
    import re

    import pandas as pd

    frames = []
    for element in at.html:
        body = element.value
        if "<table" not in body or "<thead>" not in body:
            continue
        names = [unescape(name) for name in re.findall(r"<th(?:\s[^>]*)?>(.*?)</th>", body)]
        rows = []
        for row in re.findall(r"<tr>(.*?)</tr>", body.split("<tbody>")[1]):
            cells = []
            for attributes, text in re.findall(r"<td([^>]*)>(.*?)</td>", row):
                title = re.search(r'title="([^"]*)"', attributes)
                cells.append(float(title.group(1)) if title else unescape(text))
            rows.append(cells)
        frames.append(pd.DataFrame(rows, columns=names))
    return frames
