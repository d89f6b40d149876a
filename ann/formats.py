"""How figures are written for people, the same in the command line and on every page of the dashboard.

One home for each rule, so that a run's accuracy reads the same digits wherever it is shown, and a count agrees
with its noun ("1 epoch", "5 epochs"). Plain Python: a page that only describes a model imports nothing heavy.
"""

from __future__ import annotations

__all__ = ["ACCURACY_DECIMALS", "ACCURACY_FORMAT", "MINUS", "count", "format_accuracy", "signed"]

ACCURACY_DECIMALS = 2  # one image in 10,000 is 0.01%: two decimals show every image of MNIST's test set
ACCURACY_FORMAT = f".{ACCURACY_DECIMALS}%"  # the same rule as a d3 format, for charts' labels and tooltips
MINUS = "\u2212"  # a true minus sign, as the charts' labels write it (d3-format): "−0.32", not "-0.32"


def format_accuracy(accuracy: float | None, missing: str = "-") -> str:
    """An accuracy (a fraction, 0..1) as a percentage with :data:`ACCURACY_DECIMALS` decimals: ``"92.99%"``;
    ``missing`` when there is none yet."""
    return missing if accuracy is None else f"{float(accuracy):.{ACCURACY_DECIMALS}%}"


def count(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` and its noun, singular for exactly one: ``"1 epoch"``, ``"2 epochs"``, ``"1,000 records"``.

    ``plural`` for a noun that does not take an "s" (``count(2, "class", "classes")``).
    """
    return f"{n:,} {noun if n == 1 else (plural or noun + 's')}"


def signed(value: float, spec: str = "g", unit: str = "", plus: bool = False) -> str:
    """A number that may be negative, as every page writes it: with a true minus sign (:data:`MINUS`):
    ``"−0.32"``, ``"−45°"``; ``spec`` its format (``"g"``, ``".2f"``), ``unit`` after it, and with ``plus`` a
    sign on positive values too (``"+3"``)."""
    return f"{value:{'+' if plus else ''}{spec}}{unit}".replace("-", MINUS)
