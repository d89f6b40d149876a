"""The Evaluate page's confusion matrix: a table of coloured cells drawn in the browser; a click picks a cell.

Why not a Vega-Lite chart: a chart costs every visitor's first look
at the page some thirty more of Streamlit's JavaScript files (Vega, its Arrow reader, d3's pieces), each
fetched from this server, about a third of what the whole page costs it. This view is a Components-v2
component with its few lines of JavaScript inline (no iframe, no file of its own): the browser builds the
table from plain lists (:func:`cells`) and sends back the cell a visitor clicks, as the chart did.
Each cell shows its number (count or rate), its colour says how big it is (hits green by their rate,
mistakes orange by their count against the worst mistake, as :func:`ui.charts.confusion_chart`), and
hovering one gives its sentence ("12 of the 1,010 images of 3 (1.19%)").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import streamlit as st

from ui.charts import INK, confusion_fills

NAME = "ann_confusion_matrix"

CSS = """
.cm { font-family: inherit; color: inherit; overflow-x: auto; }
.cm table { border-collapse: collapse; table-layout: fixed; }
.cm th { font-weight: normal; font-size: 0.8rem; padding: 0 4px; text-align: center; white-space: nowrap;
         overflow: hidden; text-overflow: ellipsis; }
.cm th.row { text-align: right; max-width: 7rem; }
.cm .axis { font-size: 0.85rem; opacity: 0.8; text-align: center; padding: 2px; }
.cm .axis.side { writing-mode: vertical-rl; transform: rotate(180deg); }
.cm td { width: var(--cell); height: var(--cell); padding: 0; text-align: center; border: 1px solid white;
         font-size: var(--font); font-variant-numeric: tabular-nums; cursor: pointer; }
.cm td:hover { filter: brightness(0.92); }
.cm td.picked { outline: 3px solid #1d4ed8; outline-offset: -3px; }
"""

# Built with the DOM (textContent, never innerHTML): class names come from visitors' own data.
JS = """
export default function (component) {
  const { parentElement, setTriggerValue } = component;
  const data = Array.isArray(component.data) ? component.data[0] : null;  // see show(): one item in a list
  const root = parentElement.querySelector('.cm');
  if (!root || !data) return;
  const n = data.names.length;
  root.style.setProperty('--cell', `calc(min(${data.size}px, 82vw) / ${n})`);
  root.style.setProperty('--font', n <= 12 ? '0.72rem' : '0.55rem');
  const el = (tag, cls, text) => {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  };
  const table = el('table');
  const top = el('tr');
  top.append(el('th'), el('th'));
  const across = el('th', 'axis', `predicted ${data.noun}`);
  across.colSpan = n;
  top.append(across);
  const heads = el('tr');
  heads.append(el('th'), el('th'));
  data.names.forEach((name) => { const th = el('th', '', name); th.title = name; heads.append(th); });
  table.append(top, heads);
  for (let t = 0; t < n; t++) {
    const row = el('tr');
    if (t === 0) {
      const side = el('th', 'axis side', `true ${data.noun}`);
      side.rowSpan = n;
      row.append(side);
    }
    const name = el('th', 'row', data.names[t]);
    name.title = data.names[t];
    row.append(name);
    for (let p = 0; p < n; p++) {
      const i = t * n + p;
      const td = el('td', t === data.picked[0] && p === data.picked[1] ? 'picked' : '', data.labels[i]);
      td.style.background = data.fills[i];
      td.style.color = data.inks[i];
      td.title = `true ${data.noun} ${data.names[t]}, predicted ${data.names[p]}: ${data.about[i]}`;
      td.dataset.t = t;
      td.dataset.p = p;
      td.addEventListener('click', () => setTriggerValue('cell', { true: t, predicted: p }));
      row.append(td);
    }
    table.append(row);
  }
  root.replaceChildren(table);
}
"""


def cells(confusion: np.ndarray, show: str = "counts", class_names: Sequence[str] | None = None,
          noun: str = "digit", size: int = 430) -> dict[str, Any]:
    """What the browser draws: the matrix's cells as flat lists (row-major, true class by predicted).

    Parameters
    ----------
    confusion : ndarray of int, shape (n, n)
        Rows the true class, columns the network's answer.
    show : {"counts", "rates"}
        The number in each cell: the count, or the share of the true class's images in percent.
    class_names : sequence of str, optional
        Labels of the axes and tooltips (default: the indices, MNIST's digits).
    noun : str
        What a class is called ("digit").
    size : int
        The matrix's width at most, in CSS pixels (a phone's screen narrows it).

    Returns
    -------
    dict
        JSON-able: ``names`` (n str), ``labels``, ``fills``, ``inks`` and ``about`` (n * n str each),
        ``noun``, ``size``.
    """
    if show not in ("counts", "rates"):
        raise ValueError(f"show={show!r}: use 'counts' or 'rates'")
    confusion = np.asarray(confusion, np.int64)
    n = confusion.shape[0]
    names = [str(c) for c in class_names] if class_names is not None else [str(d) for d in range(n)]
    totals = confusion.sum(axis=1, keepdims=True)
    rates = np.divide(confusion, totals, out=np.zeros(confusion.shape), where=totals > 0)
    fills, bright = confusion_fills(confusion)
    if show == "counts":
        labels = [f"{c}" for c in confusion.ravel()]
    else:
        labels = [f"{r * 100:.1f}" if r else "0" for r in rates.ravel()]
    about = [f"{confusion[t, p]:,} of the {int(totals[t, 0]):,} images of {names[t]} ({rates[t, p]:.2%})"
             for t in range(n) for p in range(n)]
    inks = ["white" if b > 0.55 else INK for b in bright.ravel()]
    return {"names": names, "labels": labels, "fills": list(fills.ravel()), "inks": inks, "about": about,
            "noun": noun, "size": int(size)}


_mounted: dict[str, Callable[..., Any]] = {}


def show(view: dict[str, Any], picked: tuple[int, int], key: str, on_pick: Callable[[], None]) -> None:
    """Draw the matrix of :func:`cells` with the cell ``picked`` (true, predicted) outlined; a click on a cell
    calls ``on_pick`` before the rerun, with the cell in ``st.session_state[key]["cell"]``
    (``{"true": t, "predicted": p}``)."""
    if NAME not in _mounted:  # registered once per server; the runtime re-registers it where it is missing
        _mounted[NAME] = st.components.v2.component(NAME, html="<div class='cm'></div>", css=CSS, js=JS)
    # the view goes as the one item of a list: Streamlit looks for data frames among a dictionary's values,
    # which imports pandas and pyarrow (0.3 s of a fresh server's CPU) on the first matrix
    _mounted[NAME](key=key, data=[{**view, "picked": [int(picked[0]), int(picked[1])]}], on_cell_change=on_pick,
                   width="stretch")


def clicked_cell(key: str) -> tuple[int, int] | None:
    """The cell the visitor's click sent (true, predicted), in a callback of :func:`show`; None if none."""
    value = st.session_state.get(key)
    cell = value.get("cell") if value is not None and hasattr(value, "get") else None
    if not cell:
        return None
    return int(cell["true"]), int(cell["predicted"])
