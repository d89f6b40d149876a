"""Small tables of numbers as HTML, for pages whose first look should cost the server little.

``st.dataframe`` is a spreadsheet widget: for a handful of rows it makes the server convert a DataFrame to
Arrow on every run and makes every new visitor's browser fetch about 1.5 MB of the widget's scripts, which
cost a server more CPU than the rest of a simple page (``bench/profile_pages.py``). A table of a few rows
needs none of that: :func:`html_table` writes it as one HTML string for ``st.html``. Each number is shown
in its column's format and carries its full value in its tooltip (``title``), so nothing is lost to rounding:
hover a number for all its digits. A row of figures in boxes (:func:`figure_row`) replaces ``st.metric`` the
same way: one HTML string rather than an element whose scripts every new visitor's browser must fetch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from numbers import Real
from typing import NamedTuple

from ann.formats import signed
from ui.phone import FIGURES

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


class Figure(NamedTuple):
    """One figure of a :func:`figure_row`: a short label above a large value; ``help`` is the box's tooltip."""

    label: str
    value: str
    help: str = ""


# st.metric's look (border=True): a bordered box, the label small, the value large; the border a grey that
# reads on a light and a dark theme
BOX = (
    "border:1px solid rgba(128,128,128,.3);border-radius:0.5rem;padding:calc(1rem - 1px);min-width:0;"
    "display:flex;flex-direction:column;justify-content:space-between")  # values level when a label wraps
LABEL = "font-size:0.875rem;line-height:1.4;overflow-wrap:anywhere"
VALUE = "font-size:2.25rem;line-height:1.3;overflow-wrap:anywhere;font-variant-numeric:tabular-nums"
HELP_MARK = ("display:inline-block;width:1.05rem;height:1.05rem;margin-left:0.3rem;border:1px solid currentColor;"
             "border-radius:50%;font-size:0.75rem;line-height:0.95rem;text-align:center;opacity:0.6;cursor:help")


def figure_row(figures: Sequence[Figure]) -> str:
    """``figures`` side by side in bordered boxes, as HTML for ``st.html``: on one line on a laptop, two to a
    line on a phone (the rule is ``ui.phone``'s :data:`~ui.phone.FIGURES`). Labels, values and help are
    escaped: they may hold a dataset's class names, which are the visitor's own text."""
    boxes = []
    for figure in figures:
        mark = (f'<span style="{HELP_MARK}" aria-hidden="true">?</span>' if figure.help else "")
        tip = f' title="{escape(figure.help)}"' if figure.help else ""
        boxes.append(f'<div style="{BOX}"{tip}><div style="{LABEL}">{escape(figure.label)}{mark}</div>'
                     f'<div style="{VALUE}">{escape(figure.value)}</div></div>')
    return f'<div class="{FIGURES}">{"".join(boxes)}</div>'
