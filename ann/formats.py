"""How figures are written for people, the same in the command line and on every page of the dashboard.

One home for each rule, so that a run's accuracy reads the same digits wherever it is shown, and a count agrees
with its noun ("1 epoch", "5 epochs"). Plain Python: a page that only describes a model imports nothing heavy.
"""

from __future__ import annotations

__all__ = ["ACCURACY_DECIMALS", "ACCURACY_FORMAT", "count", "format_accuracy"]

ACCURACY_DECIMALS = 2  # one image in 10,000 is 0.01%: two decimals show every image of MNIST's test set
ACCURACY_FORMAT = f".{ACCURACY_DECIMALS}%"  # the same rule as a d3 format, for charts' labels and tooltips


def format_accuracy(accuracy: float | None, missing: str = "-") -> str:
    """An accuracy (a fraction, 0..1) as a percentage with :data:`ACCURACY_DECIMALS` decimals: ``"92.99%"``;
    ``missing`` when there is none yet."""
    return missing if accuracy is None else f"{float(accuracy):.{ACCURACY_DECIMALS}%}"


def count(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` and its noun, singular for exactly one: ``"1 epoch"``, ``"2 epochs"``, ``"1,000 records"``.

    ``plural`` for a noun that does not take an "s" (``count(2, "class", "classes")``).
    """
    return f"{n:,} {noun if n == 1 else (plural or noun + 's')}"
