"""A wait on a page: a progress bar with the time left, from ``ann.estimates``.

:class:`WaitBar` is every page's bar for work that runs in the script (t-SNE, the robustness sweeps, the
maps epoch by epoch, Experiments' live runs): the fraction done, a message, and the time left from a
calibrated estimate at first and from the work's own rate as it goes (``ann.estimates.TimeLeft``).

:func:`measured` draws what a page says before such work starts ("about 8 s"), from a calibration that runs
in the background (``ann.estimates.MEASUREMENTS``): a visitor's first look is not held up by it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import streamlit as st

from ann.estimates import TimeLeft, duration_text
from ui.downloads import UI_UPDATE_SECONDS


def left_text(left: float | None) -> str:
    """", about 8 s left" (empty while there is nothing to go by yet)."""
    return "" if left is None else f", about {duration_text(left)} left"


class WaitBar:
    """A progress bar with the time left, drawn only for a wait a visitor would notice.

    The bar appears at once when the calibrated estimate says the work takes :data:`SHOW_AFTER` seconds or
    more, and otherwise at the first update after that long: work that ends sooner (a small network's
    scoring, most of it on a quiet server) draws nothing, so a page's first look does not send a bar, nor
    the code of one to the browser, and a cached result has no bar to replay.

    Parameters
    ----------
    title : str, what is being waited for ("Mapping 2,000 test images with t-SNE")
    estimate : float or None, calibrated seconds for the whole work (None: the work's own rate only)
    container : where the bar goes (default: the current place on the page)
    """

    def __init__(self, title: str, estimate: float | None = None, container=None) -> None:
        self.title = title
        self.time_left = TimeLeft(estimate)
        # the bar's place, held from now on: what the caller draws next goes below it, drawn or not
        self.slot = (container if container is not None else st).empty()
        self.shown = False
        self.last_draw = 0.0
        if estimate is not None and estimate >= SHOW_AFTER:
            self._draw(0.0, "starting")
            self.last_draw = 0.0  # the first update is drawn whenever it comes

    def _draw(self, fraction: float, message: str) -> None:
        said = f": {message}" if message else ""
        self.slot.progress(fraction, text=f"{self.title}{said}{left_text(self.time_left.seconds_left())}")
        self.shown = True
        self.last_draw = time.perf_counter()

    def update(self, fraction: float, message: str = "") -> None:
        """The work has done ``fraction`` (0..1); redrawn at most every ``UI_UPDATE_SECONDS`` (a redraw
        is also where a Stop or a page change interrupts the script), first drawn once the work has taken
        :data:`SHOW_AFTER` seconds (or at once, when its estimate said so)."""
        self.time_left.update(fraction)
        if not self.shown and self.time_left.elapsed() < SHOW_AFTER:
            return
        if time.perf_counter() - self.last_draw < UI_UPDATE_SECONDS and fraction < 1.0:
            return
        self._draw(min(max(fraction, 0.0), 1.0), message)

    def done(self) -> float:
        """Remove the bar (if it was drawn); returns the seconds the work took."""
        self.slot.empty()
        return self.time_left.elapsed()


SHOW_AFTER = 0.5  # seconds: a wait shorter than this draws no bar

MEASURING = "measuring this server's speed…"  # said where an estimate will be, while it is measured
POLL_SECONDS = 0.5  # how often a page looks whether the measurement is done (a small fragment run each time)

_inline = threading.local()  # set while measured() runs its fragment within the page's own script run


def measured(estimate: Callable[[], float | None], draw: Callable[[float | None], None]) -> None:
    """Draw what depends on a calibrated estimate: ``draw(seconds)`` once ``estimate()`` (which must not wait:
    it returns None while the calibration runs in the background) has it, ``draw(None)`` until then.

    While it is measured, the part redraws itself every :data:`POLL_SECONDS` (a fragment); when the figure
    has come, the whole page runs once more, which draws it and ends the polling. So a visitor who comes
    once the server has measured this setup gets the figure in the page's one script run, and one who came
    before pays a few small fragment runs and one more page run, not the calibration's wait."""
    seconds = estimate()
    if seconds is not None:
        draw(seconds)
        return
    _inline.now = True
    try:
        _poll(estimate, draw)
    finally:
        _inline.now = False


@st.fragment(run_every=POLL_SECONDS)
def _poll(estimate: Callable[[], float | None], draw: Callable[[float | None], None]) -> None:
    seconds = estimate()
    if seconds is not None and not getattr(_inline, "now", False):
        st.rerun(scope="app")  # the page without this fragment: its timer ends
    draw(seconds)
