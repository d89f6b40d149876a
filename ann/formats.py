"""How figures are written for people, the same on every page and in the command line."""

from __future__ import annotations

import math


def format_accuracy(value: float | None) -> str:
    """A fraction right as a percentage with two decimals ("99.36%"), or "-" when there is none yet.

    Two decimals: one image of MNIST's 10,000 test images is 0.01%, so every accuracy on a test set of that
    size is shown exactly, and two models' figures are compared digit for digit.
    """
    if value is None or not math.isfinite(value):
        return "-"
    return f"{value:.2%}"
