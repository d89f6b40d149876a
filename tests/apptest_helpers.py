"""What the AppTest modules share: opening a page as a browser would, and reading what it shows."""

from __future__ import annotations

from pathlib import Path

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


def no_exceptions(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def texts(elements) -> str:
    return "\n".join(str(e.value) for e in elements)
