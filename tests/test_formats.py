"""ann.formats: one way to write an accuracy and a count, for the CLI and every page."""

from __future__ import annotations

import pytest

from ann.formats import ACCURACY_FORMAT, count, format_accuracy, signed


@pytest.mark.parametrize("value,text", [(0.9299, "92.99%"), (0.9298, "92.98%"), (1.0, "100.00%"), (0.0, "0.00%"),
                                        (0.1, "10.00%"), (None, "-")])
def test_an_accuracy_is_written_with_two_decimals_everywhere(value, text):
    assert format_accuracy(value) == text
    assert ACCURACY_FORMAT == ".2%"  # charts' tooltips and labels say the same digits (d3 format)


def test_a_missing_accuracy_can_say_why():
    assert format_accuracy(None, missing="no whole epoch") == "no whole epoch"


@pytest.mark.parametrize("n,noun,text", [(1, "epoch", "1 epoch"), (2, "epoch", "2 epochs"), (0, "run", "0 runs"),
                                         (6000, "record", "6,000 records"), (1, "class", "1 class"),
                                         (3, "class", "3 classes")])
def test_a_count_agrees_with_its_noun(n, noun, text):
    assert count(n, noun, "classes" if noun == "class" else None) == text


@pytest.mark.parametrize("args,text", [((-0.3215, ".2f"), "−0.32"), ((0.3215, ".2f"), "0.32"),
                                       ((0.3215, ".2f", "", True), "+0.32"), ((-45.0, "g", "°"), "−45°"),
                                       ((3, "g", "", True), "+3"), ((-1.5e-5, ".3e"), "−1.500e−05"),
                                       ((0.0, ".4f"), "0.0000")])
def test_a_negative_number_is_written_with_a_true_minus_sign(args, text):
    assert signed(*args) == text
