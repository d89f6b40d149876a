"""Pictures and charts of a network's insides, for the Inside page.

- Weights as images: a diverging colour map, blue for negative, white for zero, red for positive, one
  scale for every image shown together so that their colours compare.
- Hidden activations as a strip of cells, contributions to an output as bars, weights as histograms.

Images are NumPy arrays for ``st.image`` (hundreds of 28x28 pictures would be too many marks for a chart);
the rest are small altair charts.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence

import numpy as np

from ann.formats import ACCURACY_FORMAT
from ui import pictures
from ui.charts import _mix  # the confusion matrix's colour blend, for its change
from ui.lazy import lazy_module
from ui.phone import SMALLEST_FONT

alt = lazy_module("altair")  # deferred (0.25 s): most first looks draw no chart
pd = lazy_module("pandas")  # deferred (0.5 s), as altair

INK = "#1f2937"
NEGATIVE = np.array([33, 102, 172], np.float64)  # blue
POSITIVE = np.array([178, 24, 43], np.float64)  # red
WHITE = np.array([255, 255, 255], np.float64)
NEGATIVE_HEX, POSITIVE_HEX = "#2166ac", "#b2182b"
TRAINED_COLOR = "#7c3aed"
INITIAL_COLOR = "#f59e0b"


# --------------------------------------------------------------------------- weights as images


def symmetric_limit(values: np.ndarray, quantile: float = 0.995) -> float:
    """A colour-scale limit for signed values: the 99.5th percentile of their size, so that one extreme
    weight does not wash every other picture out. Never zero."""
    size = np.abs(np.asarray(values, np.float64)).ravel()
    if size.size == 0:
        return 1.0
    limit = float(np.quantile(size, quantile))
    return limit if limit > 0 else (float(size.max()) or 1.0)


def diverging_images(images: np.ndarray, limit: float, scale: int = 3) -> np.ndarray:
    """Signed values as RGB pictures: blue below zero, white at zero, red above, saturated at ``limit``.

    Parameters
    ----------
    images : ndarray (n, h, w) of float
    limit : float > 0, the value drawn at full colour (larger ones are clipped)
    scale : int, whole screen pixels per value (the pictures stay crisp)

    Returns
    -------
    ndarray (n, h*scale, w*scale, 3) uint8
    """
    t = np.clip(np.asarray(images, np.float64) / limit, -1.0, 1.0)[..., None]
    rgb = np.where(t < 0, WHITE + (-t) * (NEGATIVE - WHITE), WHITE + t * (POSITIVE - WHITE))
    rgb = np.repeat(np.repeat(rgb, scale, axis=1), scale, axis=2)
    return np.round(rgb).astype(np.uint8)


PALETTE_LEVELS = 63  # shades from blue to red: at 28x28 as smooth as 255, and a palette PNG half the bytes


def diverging_palette(levels: int = PALETTE_LEVELS) -> np.ndarray:
    """The diverging colours as a palette: ``levels`` RGB entries from full blue through white to full red,
    (levels, 3) uint8. Entry k is the colour of ``(2k / (levels - 1) - 1) * limit``."""
    return diverging_images(np.linspace(-1.0, 1.0, levels)[None, None, :], 1.0, scale=1)[0, 0]


def diverging_indices(images: np.ndarray, limit: float, levels: int = PALETTE_LEVELS) -> np.ndarray:
    """Signed values as indices into :func:`diverging_palette` (same shape, uint8): a picture stored with
    a palette takes a third of the bytes of its RGB colours, and compresses far better."""
    t = np.clip(np.asarray(images, np.float64) / limit, -1.0, 1.0)
    return np.round((t + 1.0) / 2.0 * (levels - 1)).astype(np.uint8)


def colour_key(width: int = 280, height: int = 14) -> np.ndarray:
    """The diverging scale as a picture, full blue at the left end, white in the middle, full red at the right:
    (height, width, 3) uint8, to show with its limits written beside it."""
    ramp = np.linspace(-1.0, 1.0, width)[None, None, :].repeat(height, axis=1)
    return diverging_images(ramp, 1.0, scale=1)[0]


@functools.cache
def colour_key_url() -> str:
    """:func:`colour_key` as a PNG data URL: the same for every page and visitor, made once per server."""
    return pictures.data_url(colour_key())


# --------------------------------------------------------------------------- one image through the network


def activation_strip(activations: np.ndarray, columns: int = 25, highlight: Sequence[int] = (),
                     layer_name: str = "hidden", size: int = 18) -> alt.Chart:
    """A layer's activations as a grid of cells, node 0 at the top left; darker is more active.

    ``highlight`` outlines these nodes (the ones the contribution view picks out).
    """
    activations = np.asarray(activations, np.float64).ravel()
    n = len(activations)
    columns = min(columns, n)
    nodes = np.arange(n)
    frame = pd.DataFrame({"node": nodes, "row": nodes // columns, "column": nodes % columns,
                          "activation": activations, "marked": np.isin(nodes, list(highlight))})
    top = max(float(activations.max(initial=0.0)), 1.0) if activations.min(initial=0.0) >= 0 else None
    scale = (alt.Scale(domain=[0, top], range=["#f8fafc", TRAINED_COLOR]) if top is not None
             else alt.Scale(domain=[-1, 0, 1], range=[NEGATIVE_HEX, "#f8fafc", POSITIVE_HEX]))
    rows = math.ceil(n / columns)
    return alt.Chart(frame).mark_rect().encode(
        x=alt.X("column:O", axis=None), y=alt.Y("row:O", axis=None),
        color=alt.Color("activation:Q", scale=scale, legend=alt.Legend(title="activation", orient="right",
                                                                        gradientLength=max(rows * size, 60))),
        stroke=alt.condition(alt.datum.marked, alt.value(INK), alt.value("#e2e8f0")),
        strokeWidth=alt.condition(alt.datum.marked, alt.value(2), alt.value(0.5)),
        tooltip=[alt.Tooltip("node:Q", title=f"{layer_name} node"), alt.Tooltip("activation:Q", format=".3f")],
    ).properties(width=columns * size, height=rows * size)


def contribution_bars(contributions: np.ndarray, nodes: Sequence[int], activations: np.ndarray,
                      weights: np.ndarray, height_per_bar: int = 28) -> alt.Chart:
    """Chosen hidden nodes' contributions ``w * h`` to one output's net input, as bars; red pushes up.

    Parameters
    ----------
    contributions, activations, weights : ndarray (n_hidden,)
        ``weights[j] * activations[j] == contributions[j]`` for the output in question.
    nodes : the hidden nodes to show, top to bottom
    """
    nodes = list(nodes)
    frame = pd.DataFrame({
        "node": [f"node {j}" for j in nodes], "contribution": [float(contributions[j]) for j in nodes],
        "activation": [float(activations[j]) for j in nodes], "weight": [float(weights[j]) for j in nodes]})
    return alt.Chart(frame).mark_bar().encode(
        x=alt.X("contribution:Q", title="contribution w·h to the output's net input"),
        y=alt.Y("node:N", sort=None, title=None),
        color=alt.condition(alt.datum.contribution > 0, alt.value(POSITIVE_HEX), alt.value(NEGATIVE_HEX)),
        tooltip=[alt.Tooltip("node:N"), alt.Tooltip("weight:Q", title="weight w", format=".3f"),
                 alt.Tooltip("activation:Q", title="activation h", format=".3f"),
                 alt.Tooltip("contribution:Q", title="w·h", format=".3f")],
    ).properties(height=max(len(nodes) * height_per_bar, 60) + 50)  # + the axis, inside the height


# --------------------------------------------------------------------------- weights as numbers


def weight_histogram(weights: np.ndarray, initial_std: float | None = None, bins: int = 60,
                     height: int = 220, title: str | None = None) -> alt.Chart:
    """How a layer's weights are spread: bars of counts, and the line the untrained weights would follow.

    ``initial_std`` draws the normal curve the network's starting weights were drawn from (N(0, n^-0.5)
    in the seed), scaled to the same counts, so the chart shows what training changed.
    """
    values = np.asarray(weights, np.float64).ravel()
    limit = max(float(np.quantile(np.abs(values), 0.999)), 3 * (initial_std or 0.0), 1e-6)
    counts, edges = np.histogram(np.clip(values, -limit, limit), bins=bins, range=(-limit, limit))
    frame = pd.DataFrame({"start": edges[:-1], "end": edges[1:], "count": counts})
    bars = alt.Chart(frame).mark_rect(color=TRAINED_COLOR, opacity=0.85).encode(
        x=alt.X("start:Q", title="weight", scale=alt.Scale(domain=[-limit, limit], nice=False)), x2="end:Q",
        y=alt.Y("count:Q", title="weights"),
        tooltip=[alt.Tooltip("start:Q", title="from", format=".3f"), alt.Tooltip("end:Q", title="to", format=".3f"),
                 alt.Tooltip("count:Q", format=",")])
    layers = [bars]
    if initial_std:
        x = np.linspace(-limit, limit, 121)
        width = edges[1] - edges[0]
        density = values.size * width * np.exp(-0.5 * (x / initial_std) ** 2) / (initial_std * math.sqrt(2 * math.pi))
        curve = pd.DataFrame({"start": x, "count": density})
        layers.append(alt.Chart(curve).mark_line(color=INITIAL_COLOR, strokeWidth=2, strokeDash=[5, 3]).encode(
            x="start:Q", y="count:Q"))
    chart = alt.layer(*layers).properties(height=height)
    return chart.properties(title=title) if title else chart


# --------------------------------------------------------------------------- a run, epoch by epoch

BETTER_HEX, WORSE_HEX = "#15803d", "#c2410c"  # the confusion matrix's own green for hits, orange for mistakes
PREVIOUS_COLOR = "#64748b"


def visible_range(histograms: Sequence[np.ndarray], edges: np.ndarray, share: float = 0.999) -> tuple[float, float]:
    """The span of ``edges`` that holds the central ``share`` of the weights at every epoch.

    The bins of a layer are shared by all the epochs, so they reach out to the single most extreme weight of
    any epoch; drawn whole, the bulk of the weights would sit in a few bars in the middle. The chart shows
    this span instead and says how many weights lie beyond it.

    Parameters
    ----------
    histograms : sequence of ndarray (bins,) int, one layer's counts at each epoch
    edges : ndarray (bins + 1,) float, their shared bin edges
    share : float in (0, 1], the share of each epoch's weights to keep in view

    Returns
    -------
    (low, high) : float, two of the edges
    """
    tail = (1.0 - share) / 2
    lows, highs = [], []
    for counts in histograms:
        cumulative = np.cumsum(counts) / max(int(np.sum(counts)), 1)
        lows.append(int(np.searchsorted(cumulative, tail, side="right")))  # the bin where the low tail ends
        highs.append(int(np.searchsorted(cumulative, 1.0 - tail, side="left")) + 1)
    low, high = min(lows), min(max(highs), len(edges) - 1)
    return float(edges[low]), float(edges[max(high, low + 1)])


def epoch_histogram(edges: np.ndarray, counts: np.ndarray, previous: np.ndarray | None, span: tuple[float, float],
                    height: int = 200, title: str | None = None) -> alt.Chart:
    """One layer's weights at an epoch as bars, with the epoch before as a grey outline.

    Parameters
    ----------
    edges : ndarray (bins + 1,) float, shared by every epoch of the run
    counts, previous : ndarray (bins,) int, this epoch's counts and the epoch before's (or None)
    span : (low, high), the part of the edges to draw (:func:`visible_range`)
    """
    edges = np.asarray(edges, np.float64)
    inside = (edges[:-1] >= span[0] - 1e-12) & (edges[1:] <= span[1] + 1e-12)
    frame = pd.DataFrame({"start": edges[:-1][inside], "end": edges[1:][inside],
                          "count": np.asarray(counts)[inside]})
    x = alt.X("start:Q", title="weight", scale=alt.Scale(domain=list(span), nice=False), axis=alt.Axis(tickCount=5))
    bars = alt.Chart(frame).mark_rect(color=TRAINED_COLOR, opacity=0.85).encode(
        x=x, x2="end:Q", y=alt.Y("count:Q", title="weights"),
        tooltip=[alt.Tooltip("start:Q", title="from", format=".3f"), alt.Tooltip("end:Q", title="to", format=".3f"),
                 alt.Tooltip("count:Q", format=",")])
    layers = [bars]
    if previous is not None:
        before = pd.DataFrame({"start": edges[:-1][inside], "count": np.asarray(previous)[inside]})
        layers.append(alt.Chart(before).mark_line(interpolate="step-after", color=PREVIOUS_COLOR, strokeWidth=1.5)
                      .encode(x="start:Q", y="count:Q"))
    chart = alt.layer(*layers).properties(height=height)
    return chart.properties(title=title) if title else chart


def confusion_change_chart(change: np.ndarray, size: int = 300) -> alt.Chart:
    """What one epoch changed in the confusion matrix, cell by cell: green where it got better (more right
    on the diagonal, fewer of a mistake off it), orange where it got worse, the signed count written in.

    Parameters
    ----------
    change : ndarray (n, n) int, this epoch's confusion matrix minus the one before's (rows true digits)
    """
    change = np.asarray(change, np.int64)
    true, predicted = np.indices(change.shape)
    hit = (true == predicted).ravel()
    values = change.ravel()
    better = np.where(hit, values, -values)  # a mistake made less often is a gain too
    biggest = max(int(np.abs(values).max(initial=0)), 1)
    strength = np.sqrt(np.abs(better) / biggest)  # square root: a change of a few images still shows
    fill = [_mix("#ffffff", BETTER_HEX if b > 0 else WORSE_HEX, 0.15 + 0.85 * s) if b else "#f8fafc"
            for b, s in zip(better, strength)]
    about = [("right" if h else f"read as {p}") for h, p in zip(hit, predicted.ravel())]
    frame = pd.DataFrame({"true": true.ravel(), "predicted": predicted.ravel(), "change": values, "fill": fill,
                          "label": [f"{v:+d}" if v else "" for v in values], "dark": strength > 0.6,
                          "about": [f"{t}s {a}: {v:+d}" for t, a, v in zip(true.ravel(), about, values)]})
    base = alt.Chart(frame).encode(x=alt.X("predicted:O", title="predicted digit",
                                           axis=alt.Axis(orient="top", labelAngle=0)),
                                   y=alt.Y("true:O", title="true digit"),
                                   tooltip=[alt.Tooltip("about:N", title="change")])
    cells = base.mark_rect(stroke="white", strokeWidth=1).encode(color=alt.Color("fill:N", scale=None))
    text = base.mark_text(fontSize=SMALLEST_FONT).encode(
        text="label:N", color=alt.condition(alt.datum.dark, alt.value("white"), alt.value(INK)))
    return (cells + text).properties(width=size, height=size)


def epoch_accuracy_chart(epochs: Sequence[int], accuracies: Sequence[float], selected: int,
                         height: int = 150) -> alt.Chart:
    """Test accuracy after each epoch (0: before training), the epoch on the slider marked."""
    frame = pd.DataFrame({"epoch": list(epochs), "accuracy": list(accuracies)})
    frame["shown"] = frame["epoch"] == selected
    base = alt.Chart(frame).encode(
        x=alt.X("epoch:Q", title="epoch", axis=alt.Axis(tickMinStep=1, format="d")),
        y=alt.Y("accuracy:Q", title="test accuracy", axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
        tooltip=[alt.Tooltip("epoch:Q"), alt.Tooltip("accuracy:Q", title="test accuracy", format=ACCURACY_FORMAT)])
    line = base.mark_line(color=TRAINED_COLOR, point=alt.OverlayMarkDef(color=TRAINED_COLOR, size=30))
    marked = base.transform_filter(alt.datum.shown).mark_point(size=160, color=INITIAL_COLOR, filled=True)
    return (line + marked).properties(height=height)
