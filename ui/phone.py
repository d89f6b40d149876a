"""What keeps the pages usable on a phone (390 CSS px wide, touch): the app's shared layout rules, and
bringing an answer into view when it appears below the fold.

On a phone Streamlit stacks every row of columns, so what sits beside a control on a laptop (a confusion
matrix cell's images, a run's live view, a map) lands a screen or more below the control that made it.
:func:`bring_into_view` scrolls there once, right after the visitor's action, and only if the answer is not
already on screen (on a laptop it usually is, and nothing moves). :func:`style` holds the CSS every page
shares; a page's own rules stay with the page.
"""

from __future__ import annotations

import itertools

import streamlit as st

# Streamlit stacks columns below this width (CSS px): what counts as a phone here
NARROW = 640
# the smallest text the app draws, in CSS px, on a phone as on a laptop: charts, diagrams and tables included
SMALLEST_FONT = 11
FIGURES = "ann-figures"  # the class of a row of figures in boxes (ui.tables.figure_row): two to a line on a phone
OFFER_SUFFIX = "_model_offer"  # the key suffix of the offer of a run as the active model (ui.run_panels)

CSS = f"""<style>
/* code in captions: Streamlit draws it at 0.75em of a 14 px caption (10.5 px) */
[data-testid="stCaptionContainer"] code {{ font-size: max({SMALLEST_FONT}px, 0.8em); }}
/* a marker: the browser has these rules (tests wait for it) */
:root {{ --ann-style: 1; }}
/* the scrolling helper below draws nothing */
[class*="st-key-ann_into_view"] {{ display: none; }}
/* a table's toolbar (search, download, full screen) floats above its top edge: room for it there, so it
   never covers the control above the table (on a touch screen it shows without hovering) */
[data-testid="stElementContainer"]:has([data-testid="stDataFrame"]) {{ margin-top: 1.75rem; }}
/* a row of figures in boxes: all on one line on a laptop */
.{FIGURES} {{ display: grid; grid-auto-flow: column; grid-auto-columns: minmax(0, 1fr); gap: 1rem; }}
@media (max-width: {NARROW}px) {{
  /* the first screen is short: less blank space above the page's title (the header bar is 60 px), and the
     title a size smaller (a laptop's 44 px title takes two lines of a phone for "Hidden-layer map") */
  [data-testid="stMainBlockContainer"] {{ padding-top: 4.25rem; }}
  [data-testid="stMainBlockContainer"] h1 {{ font-size: 2rem; padding: 0.5rem 0 0.5rem; }}
  /* a row of figures two to a line, smaller: one under the other, four would fill the first screen */
  .{FIGURES} {{ grid-auto-flow: row; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: 0.75rem; }}
  .{FIGURES} > div {{ padding: 0.625rem 0.75rem !important; }}  /* !important: over the boxes' inline style */
  .{FIGURES} > div > div:last-child {{ font-size: 1.75rem !important; }}
  /* the offer of a run as the active model, above a page: compact, so the page's main action stays on the
     first screen (the sentence in a caption's size, small buttons below it) */
  [class*="{OFFER_SUFFIX}"][class*="st-key-"] {{ padding: 0.5rem 0.75rem; gap: 0.375rem 0.5rem; }}
  [class*="{OFFER_SUFFIX}"][class*="st-key-"] [data-testid="stMarkdownContainer"] p {{
    font-size: 0.875rem; line-height: 1.4; }}
  [class*="{OFFER_SUFFIX}"][class*="st-key-"] button {{
    min-height: 2rem; padding: 0.125rem 0.625rem; }}
  [class*="{OFFER_SUFFIX}"][class*="st-key-"] button p {{ font-size: 0.875rem; }}
}}
</style>"""


def style() -> None:
    """The shared CSS, once per script run (the frame calls it); it takes no space on the page."""
    st.html(CSS)


def wide_drawing(svg: str, width: float, smallest_font: float) -> str:
    """``svg`` (scaled to the page's width, as the app's diagrams are) in a box that never lets its smallest
    text shrink below :data:`SMALLEST_FONT`: below ``width * SMALLEST_FONT / smallest_font`` CSS px the
    drawing stops shrinking and scrolls sideways instead.

    Parameters
    ----------
    svg : str
        An ``<svg>`` element drawn in a ``viewBox`` ``width`` units wide, with ``width="100%"``.
    width : float
        The viewBox's width.
    smallest_font : float
        The smallest ``font-size`` in the drawing, in viewBox units.
    """
    least = width * SMALLEST_FONT / smallest_font
    # inline, not in style(): the box must hold from the first paint
    return (f'<div style="overflow-x:auto;overflow-y:hidden"><div style="min-width:{least:.0f}px">{svg}</div></div>')


_INTO_VIEW = "ann_into_view"

# Runs once per mount: the helper is only drawn in the script run that follows the visitor's action. It waits
# for the target to exist and to stop growing above the fold (pictures load a moment after the text), then
# scrolls Streamlit's own scrolling box (stMain) so the target's top sits below the header bar, unless the
# target's top is already in the upper part of the screen.
_JS = """
export default function (component) {
  const { data } = component;
  if (!data) return;
  const seen = (window.__annIntoView = window.__annIntoView || {});
  if (seen[data.target] === data.token) return;
  seen[data.target] = data.token;
  let tries = 0;
  const go = () => {
    const el = document.querySelector(data.target);
    if (!el || el.getBoundingClientRect().height === 0) {
      if (++tries < 50) setTimeout(go, 100);
      return;
    }
    const header = document.querySelector("[data-testid='stHeader']");
    const top = header ? header.getBoundingClientRect().bottom : 0;
    const box = el.getBoundingClientRect();
    if (box.top >= top && box.top <= top + (window.innerHeight - top) * data.upper) return;
    el.style.scrollMarginTop = `${top + 8}px`;
    el.scrollIntoView({ block: 'start', behavior: 'auto' });
  };
  setTimeout(go, 50);
}
"""

_counter = itertools.count(1)
_mounted: dict[str, object] = {}


def bring_into_view(key: str, upper: float = 0.5) -> None:
    """Scroll the element of ``key`` (``st.container(key=...)``, a widget's key) into view, once.

    Call it in the script run that follows the visitor's action, after the element is drawn (later on the
    page, or anywhere in the same run). Nothing moves if the element's top is already on the upper
    ``upper`` share of the screen; otherwise its top is scrolled to just below the header bar.
    """
    if _INTO_VIEW not in _mounted:  # registered once per server
        _mounted[_INTO_VIEW] = st.components.v2.component(_INTO_VIEW, js=_JS)
    target = f".st-key-{key}"
    _mounted[_INTO_VIEW](key=f"{_INTO_VIEW}_{key}", data={"target": target, "token": next(_counter),
                                                           "upper": float(upper)})

