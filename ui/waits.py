"""A wait on a page: a progress bar with the time left, from ``ann.estimates``.

:class:`WaitBar` is every page's bar for work that runs in the script (t-SNE, the robustness sweeps, the
maps epoch by epoch, Experiments' live runs): the fraction done, a message, and the time left from a
calibrated estimate at first and from the work's own rate as it goes (``ann.estimates.TimeLeft``).
"""

from __future__ import annotations

import time

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
