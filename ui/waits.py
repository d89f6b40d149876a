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
    """A progress bar with the time left.

    Parameters
    ----------
    title : str, what is being waited for ("Mapping 2,000 test images with t-SNE")
    estimate : float or None, calibrated seconds for the whole work (None: the work's own rate only)
    container : where the bar goes (default: the current place on the page)
    """

    def __init__(self, title: str, estimate: float | None = None, container=None) -> None:
        self.title = title
        self.time_left = TimeLeft(estimate)
        where = container if container is not None else st
        self.bar = where.progress(0.0, text=f"{title}: starting{left_text(self.time_left.seconds_left())}")
        self.last_draw = 0.0

    def update(self, fraction: float, message: str = "") -> None:
        """The work has done ``fraction`` (0..1); redrawn at most every ``UI_UPDATE_SECONDS`` (a redraw
        is also where a Stop or a page change interrupts the script)."""
        self.time_left.update(fraction)
        now = time.perf_counter()
        if now - self.last_draw < UI_UPDATE_SECONDS and fraction < 1.0:
            return
        self.last_draw = now
        said = f": {message}" if message else ""
        self.bar.progress(min(max(fraction, 0.0), 1.0),
                          text=f"{self.title}{said}{left_text(self.time_left.seconds_left())}")

    def done(self) -> float:
        """Remove the bar; returns the seconds the work took."""
        self.bar.empty()
        return self.time_left.elapsed()


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
