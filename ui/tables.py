"""Small tables of numbers as HTML, for pages whose first look should cost the server little.

``st.dataframe`` is a spreadsheet widget: for a handful of rows it makes the server convert a DataFrame to
Arrow on every run and makes every new visitor's browser fetch about 1.5 MB of the widget's scripts, which
cost a server more CPU than the rest of a simple page (``bench/profile_pages.py``). A table of a few rows
needs none of that: :func:`html_table` writes it as one HTML string for ``st.html``. Each number is shown
in its column's format and carries its full value in its tooltip (``title``), so nothing is lost to rounding:
hover a number for all its digits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from numbers import Real

from ann.formats import signed

CELL = "padding:3px 10px;border-bottom:1px solid rgba(128,128,128,.2)"


def _cell(value: object, fmt: str | None) -> str:
    if isinstance(value, Real) and not isinstance(value, bool):
        shown = signed(value, fmt.removeprefix("%") if fmt else "g")  # a true minus sign, as everywhere
        return (f'<td style="{CELL};text-align:right;font-variant-numeric:tabular-nums" '
                f'title="{float(value)!r}">{escape(shown)}</td>')
    return f'<td style="{CELL}">{escape(str(value))}</td>'


def html_table(columns: Mapping[str, Sequence], formats: Mapping[str, str] | None = None) -> str:
    """A table, one entry of ``columns`` per column (all of the same length), as HTML.

    Parameters
    ----------
    columns : mapping of column name to its values, top to bottom
    formats : mapping of column name to a %-format for its numbers (``"%.6f"``, as a format spec after its
        ``%``); others show as ``%g``
    """
    formats = formats or {}
    names = list(columns)
    rows = len(next(iter(columns.values()))) if names else 0
    head = "".join(f'<th style="{CELL};text-align:left">{escape(name)}</th>' for name in names)
    body = "".join("<tr>" + "".join(_cell(columns[name][row], formats.get(name)) for name in names) + "</tr>"
                   for row in range(rows))
    return (f'<div style="overflow-x:auto"><table style="border-collapse:collapse;font-size:0.9rem">'
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>")
