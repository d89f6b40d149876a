"""Beside a run's curves, as ConvNetJS shows them: the fixed test digits with the network's answers now,
and what a few first-layer nodes look for, both as they were at the run's latest live point.

One HTML string each (see :mod:`ui.pictures`): small PNGs inline, drawn again with the curves.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

import numpy as np

from ann.live_points import LiveView
from ui import pictures
from ui.inside_charts import diverging_indices, diverging_palette, symmetric_limit

DIGIT_WIDTH = 36  # screen pixels a fixed digit
FIGURE_WIDTH = 44  # ... with its caption: ten in a row fit 450 px, seven a phone's width
NODE_WIDTH = 48  # screen pixels a node's weight picture: six in a row fit a phone's width
RIGHT, WRONG = "#15803d", "#b91c1c"
ANSWER_STYLE = "font-size:0.8rem;line-height:1.25;text-align:center;margin-top:2px;font-weight:600"


def answers_html(view: LiveView, class_names: Sequence[str]) -> str:
    """The fixed digits, each with the network's answer (green if right, red if not) and its share under it."""
    figures = []
    for pixels, label, answer, share in zip(view.digits, view.labels, view.answers, view.shares):
        right = answer == label
        name = class_names[answer] if 0 <= answer < len(class_names) else str(answer)
        truth = class_names[label] if 0 <= label < len(class_names) else str(label)
        about = escape(f"a {truth}: answered {name} ({share:.0%} of the outputs)")
        figures.append(
            f'<figure style="margin:0;width:{FIGURE_WIDTH}px" title="{about}">'
            f'<img src="{pictures.digit_url(pixels)}" width="{DIGIT_WIDTH}" alt="{about}" '
            f'style="{pictures.PIXELATED};width:{DIGIT_WIDTH}px">'
            f'<figcaption style="{ANSWER_STYLE};color:{RIGHT if right else WRONG}">'
            f'{"✓" if right else "✗"} {escape(name)}</figcaption>'
            f'<figcaption style="{pictures.CAPTION_STYLE}">{share:.0%}</figcaption></figure>')
    return f'<div style="display:flex;flex-wrap:wrap;gap:6px 2px;align-items:flex-start">{"".join(figures)}</div>'


def weights_html(view: LiveView) -> str:
    """The first-layer nodes' incoming weights as pictures (blue negative, red positive, one scale for all)."""
    weights = np.asarray(view.weights, np.float32)
    side = math.isqrt(weights.shape[1]) if weights.size else 0
    if not weights.size or side * side != weights.shape[1]:
        return ""
    limit = symmetric_limit(weights)
    palette = diverging_palette()
    images = "".join(
        f'<img src="{pictures.data_url(diverging_indices(row.reshape(side, side), limit), palette)}" '
        f'width="{NODE_WIDTH}" alt="node {i + 1}" title="node {i + 1}" style="{pictures.PIXELATED};margin:0;'
        f'width:{NODE_WIDTH}px">' for i, row in enumerate(weights))
    return f'<div style="display:flex;flex-wrap:wrap;gap:4px">{images}</div>'
