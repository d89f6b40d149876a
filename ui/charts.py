"""The dashboard's altair charts. Each function takes plain numbers and returns a chart; pages draw it.

Charts are small (a few hundred marks at most) so that redrawing one costs milliseconds, which is what
lets the Train page redraw its curves every epoch without slowing training down. Text is never set below
``SMALLEST_FONT`` CSS px: it stays readable on a phone. Vega-Lite draws text at fixed CSS px whatever the
chart's width, so the sizes :func:`readable` writes into a chart (Streamlit's chart theme's own: labels 12 px,
axis titles 14, the title 16) hold at 390 px as at 1400.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ann.formats import ACCURACY_FORMAT
from ui.digits import to_pixels
from ui.lazy import lazy_module
from ui.phone import SMALLEST_FONT

alt = lazy_module("altair")  # deferred (0.25 s): most first looks draw no chart
pd = lazy_module("pandas")  # deferred (0.5 s), as altair

INK = "#1f2937"
LABEL_PX = max(12, SMALLEST_FONT)  # axis and legend labels, legend titles
AXIS_TITLE_PX = max(14, SMALLEST_FONT)
TITLE_PX = max(16, SMALLEST_FONT)  # a chart's own title
TRAIN_COLOR = "#2563eb"
OUTPUT_COLOR = "#059669"


def readable(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    """``chart`` with its text sizes written into it (:data:`LABEL_PX`, :data:`AXIS_TITLE_PX`,
    :data:`TITLE_PX`, none under ``SMALLEST_FONT``) rather than left to whichever theme draws it: the one rule
    for the charts a phone shows (a configured chart cannot be layered again: call it last)."""
    return (chart.configure_axis(labelFontSize=LABEL_PX, titleFontSize=AXIS_TITLE_PX)
            .configure_legend(labelFontSize=LABEL_PX, titleFontSize=LABEL_PX)
            .configure_title(fontSize=TITLE_PX))


# --------------------------------------------------------------------------- dataset


def pixel_heatmap(image: np.ndarray, size: int = 392) -> alt.Chart:
    """The 28x28 pixel values as a grid of cells, ink dark; hovering a cell shows its value."""
    pixels = to_pixels(image)
    rows, cols = np.indices(pixels.shape)
    frame = pd.DataFrame({"row": rows.ravel(), "column": cols.ravel(), "value": pixels.ravel()})
    hover = alt.selection_point(name="pixel", on="pointerover", clear="pointerout", fields=["row", "column"],
                                empty=False)
    return alt.Chart(frame).mark_rect().encode(
        x=alt.X("column:O", title="column", axis=alt.Axis(labelFontSize=SMALLEST_FONT, labelAngle=0)),
        y=alt.Y("row:O", title="row", axis=alt.Axis(labelFontSize=SMALLEST_FONT)),
        color=alt.Color("value:Q", scale=alt.Scale(range=["#ffffff", "#000000"], domain=[0, 255]), legend=None),
        stroke=alt.condition(hover, alt.value("#dc2626"), alt.value("#e5e7eb")),
        strokeWidth=alt.condition(hover, alt.value(2), alt.value(0.5)),
        tooltip=[alt.Tooltip("row:O"), alt.Tooltip("column:O"), alt.Tooltip("value:Q", title="pixel value")],
    ).add_params(hover).properties(width=size, height=size)


def class_axis(class_names: Sequence[str] | None, title: str, **axis: Any) -> alt.Axis:
    """An axis over class indices 0..n-1 that shows the class names (the data keeps the indices, so a click
    selects a number the page can use)."""
    if class_names is None:
        return alt.Axis(title=title, **axis)
    many = len(class_names) > 12 or max(len(n) for n in class_names) > 3
    return alt.Axis(title=title, labelExpr=f"{json.dumps(list(class_names))}[datum.value]",
                    labelAngle=-45 if many else 0, labelLimit=90, **{k: v for k, v in axis.items()
                                                                        if k != "labelAngle"})


def digit_counts(train_counts: Sequence[int], test_counts: Sequence[int],
                 class_names: Sequence[str] | None = None, noun: str = "digit") -> alt.Chart:
    """Images per class (digit) in the training and test sets, as grouped bars."""
    names = list(class_names) if class_names is not None else [str(d) for d in range(len(train_counts))]
    frame = pd.DataFrame(
        [{"digit": d, "name": names[d], "set": "training", "images": int(c)} for d, c in enumerate(train_counts)]
        + [{"digit": d, "name": names[d], "set": "test", "images": int(c)} for d, c in enumerate(test_counts)])
    return alt.Chart(frame).mark_bar().encode(
        x=alt.X("digit:O", axis=class_axis(class_names, noun, labelAngle=0)),
        xOffset=alt.XOffset("set:N", sort=["training", "test"]),
        y=alt.Y("images:Q", title="images"),
        color=alt.Color("set:N", sort=["training", "test"], scale=alt.Scale(range=[TRAIN_COLOR, "#f59e0b"]),
                        legend=alt.Legend(title=None, orient="top")),
        tooltip=[alt.Tooltip("set:N"), alt.Tooltip("name:N", title=noun), alt.Tooltip("images:Q", format=",")],
    ).properties(height=260)


# --------------------------------------------------------------------------- training curves


MAX_SHOWN_POINTS = 300  # live points drawn per run and curve; a long run's are averaged in groups to this
CURVE_SETS = ["train", "test slice", "test"]
CURVE_DASHES = [[1, 0], [2, 2], [6, 3]]  # solid, dotted, dashed


def history_frame(histories: dict[str, list[dict]], points: dict[str, list[dict]] | None = None,
                  per_epoch: dict[str, int] | None = None) -> pd.DataFrame:
    """Long-form rows (run, x, metric, set, value) for the training curves, ``x`` in epochs trained.

    The test set's values come from each epoch's metrics (x = the epoch). The training values and the test
    slice's come from a run's live points where it has them (``points``, as
    ``ann.service.store.RunStore.points`` gives them, with ``per_epoch`` the run's samples an epoch: x =
    samples / per_epoch), thinned to at most :data:`MAX_SHOWN_POINTS` by averaging consecutive points; an
    epoch without points (a run recorded before runs had them) draws its training value from its metrics.
    """
    points = points or {}
    per_epoch = per_epoch or {}
    rows = []
    for run, history in histories.items():
        run_points = points.get(run) or []
        size = per_epoch.get(run) or 0
        if not size:
            run_points = []
        with_points = {int(p["epoch"]) for p in run_points}
        for epoch in history:
            number = int(epoch["epoch"])
            for metric, key, split in (("accuracy", "test_accuracy", "test"), ("loss", "test_loss", "test"),
                                       ("accuracy", "train_accuracy", "train"), ("loss", "train_loss", "train")):
                value = epoch.get(key)
                if value is not None and (split == "test" or number not in with_points):
                    rows.append({"run": run, "x": float(number), "metric": metric, "set": split,
                                 "value": float(value)})
        group = max(-(-len(run_points) // MAX_SHOWN_POINTS), 1)
        for start in range(0, len(run_points), group):
            part = run_points[start:start + group]
            x = part[-1]["samples"] / size
            for metric, key, split in (("accuracy", "train_accuracy", "train"), ("loss", "train_loss", "train"),
                                       ("accuracy", "slice_accuracy", "test slice")):
                values = [p[key] for p in part if p.get(key) is not None]
                if values:
                    rows.append({"run": run, "x": x, "metric": metric, "set": split,
                                 "value": float(sum(values) / len(values))})
    frame = pd.DataFrame(rows, columns=["run", "x", "metric", "set", "value"])
    return frame.sort_values(["run", "set", "x"], kind="stable").reset_index(drop=True)


def history_charts(histories: dict[str, list[dict]], epochs: int | None = None,
                   height: int = 260, events: dict[str, list[dict]] | None = None,
                   points: dict[str, list[dict]] | None = None,
                   per_epoch: dict[str, int] | None = None) -> tuple[alt.Chart, alt.Chart]:
    """Accuracy and loss as runs train: one colour per run; training solid, the test slice dotted, the
    test set dashed with a dot at each epoch's end.

    ``points`` and ``per_epoch`` (per run): its live points and samples an epoch (see :func:`history_frame`).
    ``epochs`` fixes the x axis (a live run's axis then does not jump as it grows). Text sizes: :func:`readable`.
    ``events`` (per run, as
    ``ann.service.store.RunStore.events`` gives them) marks where the learning rate was changed while
    training: a vertical rule at that point of the run (epoch 2.5 is halfway through the third epoch), labelled.
    """
    frame = history_frame(histories, points, per_epoch)
    top = max(epochs or 1, math.ceil(frame["x"].max()) if len(frame) else 1)
    x = alt.X("x:Q", title="epochs trained", scale=alt.Scale(domain=[0, top], nice=False),
              axis=alt.Axis(tickMinStep=1, format="d"))
    color = alt.Color("run:N", title="run", sort=list(histories),
                      legend=alt.Legend(orient="bottom") if len(histories) > 1 else None,
                      scale=alt.Scale(scheme="tableau10"))
    dash = alt.StrokeDash("set:N", title=None, scale=alt.Scale(domain=CURVE_SETS, range=CURVE_DASHES),
                          # transparent fill: with point=True the symbols are otherwise drawn invisible
                          legend=alt.Legend(orient="bottom", symbolType="stroke", symbolStrokeWidth=2,
                                            symbolStrokeColor="#475569", symbolFillColor="transparent"))
    live = bool(points) and any(points.values())
    charts = []
    for metric, title, fmt in (("accuracy", "accuracy", ACCURACY_FORMAT), ("loss", "loss", ".4f")):
        data = frame[frame["metric"] == metric]
        y = alt.Y("value:Q", title=title, scale=alt.Scale(zero=False),
                  axis=alt.Axis(format=".1%" if metric == "accuracy" else "~g"))
        tooltip = [alt.Tooltip("run:N"), alt.Tooltip("x:Q", title="epochs trained", format=".2f"),
                   alt.Tooltip("set:N"), alt.Tooltip("value:Q", title=title, format=fmt)]
        base = alt.Chart(data).encode(x=x, y=y, color=color, strokeDash=dash, tooltip=tooltip)
        running = base.transform_filter(alt.datum.set != "test").mark_line(strokeWidth=2)
        tested = base.transform_filter(alt.datum.set == "test").mark_line(point=True, strokeWidth=2)
        chart = alt.layer(running, tested).properties(
            height=height, title=f"{title.capitalize()} {'while training' if live else 'per epoch'}")
        marks = _event_marks(events or {}, histories)
        if marks is not None:
            chart = alt.layer(chart, marks)
        charts.append(readable(chart))
    return charts[0], charts[1]


def _event_marks(events: dict[str, list[dict]], histories: dict[str, list[dict]]) -> alt.Chart | None:
    """Vertical rules where a run's learning rate changed, with the new rate written beside them.

    A change at ``at`` epochs is drawn at x = at: epoch k's point is the end of epoch k, so a change 40%
    into the third epoch (at 2.4) sits between the points of epochs 2 and 3.
    """
    rows = [{"run": run, "x": float(event["at"]),
             "label": f"lr → {event['value']:g}", "at": float(event["at"])}
            for run, run_events in events.items() if run in histories
            for event in run_events if event.get("kind") == "learning_rate" and event.get("value") is not None]
    if not rows:
        return None
    frame = pd.DataFrame(rows)
    tooltip = [alt.Tooltip("run:N"), alt.Tooltip("label:N", title="learning rate changed"),
               alt.Tooltip("at:Q", title="after epochs", format=".2f")]
    rule = alt.Chart(frame).mark_rule(color="#7c3aed", strokeDash=[2, 3], strokeWidth=1.5).encode(
        x="x:Q", tooltip=tooltip)
    text = alt.Chart(frame).mark_text(align="left", dx=4, dy=-6, color="#7c3aed", fontSize=SMALLEST_FONT).encode(
        x="x:Q", y=alt.value(8), text="label:N", tooltip=tooltip)
    return rule + text


# --------------------------------------------------------------------------- predictions


def output_bars(outputs: np.ndarray, height: int = 240, title: str | None = None,
                class_names: Sequence[str] | None = None, noun: str = "digit") -> alt.Chart:
    """The output activations as bars (one per class; ten digits for MNIST), the winner highlighted."""
    outputs = np.asarray(outputs, np.float64).ravel()
    winner = int(np.argmax(outputs))
    names = list(class_names) if class_names is not None else [str(d) for d in range(len(outputs))]
    frame = pd.DataFrame({"digit": np.arange(len(outputs)), "name": names, "activation": outputs,
                          "winner": np.arange(len(outputs)) == winner})
    base = alt.Chart(frame).encode(x=alt.X("digit:O", axis=class_axis(class_names, f"output node ({noun})",
                                                                         labelAngle=0)))
    bars = base.mark_bar().encode(
        y=alt.Y("activation:Q", title="activation", scale=alt.Scale(domain=[0, 1])),
        color=alt.condition(alt.datum.winner, alt.value(OUTPUT_COLOR), alt.value("#cbd5e1")),
        tooltip=[alt.Tooltip("name:N", title=noun), alt.Tooltip("activation:Q", format=".4f")])
    text = base.mark_text(dy=-7, fontSize=11, color=INK).encode(
        y="activation:Q", text=alt.Text("activation:Q", format=".2f"))
    chart = (bars + text).properties(height=height)
    return chart.properties(title=title) if title else chart


def before_after_bars(before: np.ndarray, after: np.ndarray, height: int = 220,
                      class_names: Sequence[str] | None = None, noun: str = "digit") -> alt.Chart:
    """Output activations before and after teaching, side by side for each class (digit)."""
    rows = [{"digit": d, "when": when, "activation": float(v)}
            for when, values in (("before", before), ("after", after)) for d, v in enumerate(np.ravel(values))]
    return alt.Chart(pd.DataFrame(rows)).mark_bar().encode(
        x=alt.X("digit:O", axis=class_axis(class_names, noun, labelAngle=0)),
        xOffset=alt.XOffset("when:N", sort=["before", "after"]),
        y=alt.Y("activation:Q", scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("when:N", sort=["before", "after"], scale=alt.Scale(range=["#94a3b8", OUTPUT_COLOR]),
                        legend=alt.Legend(title=None, orient="top")),
        tooltip=["when:N", "digit:O", alt.Tooltip("activation:Q", format=".4f")],
    ).properties(height=height)


# --------------------------------------------------------------------------- evaluation


def _mix(light: str, dark: str, amount: float) -> str:
    """The colour ``amount`` (0..1) of the way from ``light`` to ``dark`` (hex colours)."""
    a = np.array([int(light[i:i + 2], 16) for i in (1, 3, 5)], np.float64)
    b = np.array([int(dark[i:i + 2], 16) for i in (1, 3, 5)], np.float64)
    r, g, bl = np.round(a + (b - a) * float(np.clip(amount, 0.0, 1.0))).astype(int)
    return f"#{r:02x}{g:02x}{bl:02x}"


def confusion_fills(confusion: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each cell's colour and brightness (0..1) in the confusion matrix's pictures.

    Hits are shaded by their rate, mistakes by their count against the worst mistake (square root, so a
    handful of errors still shows): one colour scale could not show both, as hits outnumber mistakes 50:1.

    Parameters
    ----------
    confusion : ndarray of int, shape (n, n)

    Returns
    -------
    fills : ndarray of str, shape (n, n)
        Hex colours: green hits, orange mistakes, grey for none.
    bright : ndarray of float64, shape (n, n)
    """
    confusion = np.asarray(confusion, np.int64)
    n = confusion.shape[0]
    hit = np.eye(n, dtype=bool)
    totals = confusion.sum(axis=1, keepdims=True)
    rates = np.divide(confusion, totals, out=np.zeros(confusion.shape), where=totals > 0)
    worst = max(int(confusion[~hit].max(initial=0)), 1)
    bright = np.where(hit, rates, np.sqrt(confusion / worst))
    fills = np.array([[_mix("#f0fdf4", "#15803d", bright[t, p]) if t == p
                       else (_mix("#fff7ed", "#c2410c", bright[t, p]) if confusion[t, p] else "#f8fafc")
                       for p in range(n)] for t in range(n)], dtype=object)
    return fills, bright


def confusion_chart(confusion: np.ndarray, show: str = "counts", selected: tuple[int, int] | None = None,
                    size: int = 430, class_names: Sequence[str] | None = None, noun: str = "digit") -> alt.Chart:
    """The confusion matrix: rows true class (digit), columns prediction; hits green, mistakes orange.

    ``show`` is "counts" or "rates" (share of the true class's images). A click selects a cell (selection
    parameter ``cell`` with fields ``true`` and ``predicted``, the class indices); ``selected`` is outlined
    (the layer named ``outline`` holds that one cell as its own data). ``class_names`` label the axes and
    tooltips (default: the indices, MNIST's digits).
    """
    confusion = np.asarray(confusion, np.int64)
    n = confusion.shape[0]
    names = list(class_names) if class_names is not None else [str(d) for d in range(n)]
    true, predicted = np.indices(confusion.shape)
    totals = confusion.sum(axis=1, keepdims=True)
    rates = np.divide(confusion, totals, out=np.zeros(confusion.shape), where=totals > 0)
    frame = pd.DataFrame({
        "true": true.ravel(), "predicted": predicted.ravel(), "count": confusion.ravel(),
        "rate": rates.ravel(), "hit": (true == predicted).ravel(),
    })
    frame["label"] = frame["count"].astype(str) if show == "counts" else (frame["rate"] * 100).map(
        lambda r: f"{r:.1f}" if r else "0")
    frame["about"] = [f"{c:,} of the {int(totals[t, 0]):,} images of {names[t]} ({r:.2%})"
                      for t, c, r in zip(frame["true"], frame["count"], frame["rate"])]
    frame["true_name"] = [names[t] for t in frame["true"]]
    frame["predicted_name"] = [names[p] for p in frame["predicted"]]
    fills, bright = confusion_fills(confusion)
    frame["bright"], frame["fill"] = bright.ravel(), fills.ravel()
    cell = alt.selection_point(name="cell", fields=["true", "predicted"], on="click", empty=False)
    x = alt.X("predicted:O", axis=class_axis(class_names, f"predicted {noun}", orient="top", labelAngle=0))
    y = alt.Y("true:O", axis=class_axis(class_names, f"true {noun}"))
    tooltip = [alt.Tooltip("true_name:N", title=f"true {noun}"), alt.Tooltip("predicted_name:N", title="predicted"),
               alt.Tooltip("about:N", title="images")]
    base = alt.Chart(frame).encode(x=x, y=y)
    cells = base.mark_rect(stroke="white", strokeWidth=1).encode(
        color=alt.Color("fill:N", scale=None), tooltip=tooltip).add_params(cell)
    outline = alt.Chart(alt.Data(values=_outlined(selected))).mark_rect(
        fill=None, stroke="#1d4ed8", strokeWidth=3).encode(x=x, y=y).properties(name="outline")
    text = base.mark_text(fontSize=SMALLEST_FONT).encode(
        text="label:N",
        color=alt.condition("datum.bright > 0.55", alt.value("white"), alt.value(INK)),
        tooltip=tooltip)
    return (cells + outline + text).properties(width=size, height=size)


def _outlined(selected: tuple[int, int] | None) -> list[dict[str, int]]:
    return [] if selected is None else [{"true": int(selected[0]), "predicted": int(selected[1])}]
