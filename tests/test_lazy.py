"""ui.lazy: heavy libraries are imported on first use, and a component's plain settings never import pandas."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = textwrap.dedent("""
    import sys
    from streamlit.components.v2.bidi_component import serialization
    from ui.lazy import lazy_module, spare_pandas_for_plain_dicts

    assert spare_pandas_for_plain_dicts() and spare_pandas_for_plain_dicts()  # installed once, then kept
    settings = {"strokeWidth": 24, "label": "x", "initialDrawing": {"objects": [], "background": "#fff"},
                "none": None}  # a list is left to Streamlit: one of NumPy arrays is data frame-like
    blobs = {}
    assert serialization._extract_dataframes_from_dict(settings, blobs) == settings and not blobs
    assert "pandas" not in sys.modules and "pyarrow" not in sys.modules
    pd = lazy_module("pandas")
    assert "pandas" not in sys.modules  # named, not imported
    frame = pd.DataFrame({"a": [1, 2]})  # the first use imports it
    assert "pandas" in sys.modules
    for value in (frame, {"a": pd.Series([1, 2])}):  # what Streamlit sends as Arrow is still sent so
        blobs = {}
        out = serialization._extract_dataframes_from_dict({"v": value}, blobs)
        assert isinstance(out["v"], dict) and set(out["v"]) == {serialization.ARROW_REF_KEY} and len(blobs) == 1, out
    print("ok")
""")


def test_plain_settings_import_no_pandas_and_data_frames_still_go_as_arrow():
    """In a process of its own: pytest's may have imported pandas already."""
    done = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("ok")
