"""The Experiments page's altair charts, drawn from ``ann.experiments`` results (plain dicts, read by ``ann.experiments.results``).

Each function takes one result dict (from a shipped results file or a live run: both have the same shape)
and returns a chart. The error-rule chart keeps the seed's colours, so a reader can hold it next to the
seed's own figure: blue W^T.E, red W^T.E/N, yellow equal split, green split by weight share.
"""

from __future__ import annotations

import math
from html import escape
from typing import Any

from ann.formats import ACCURACY_FORMAT, format_accuracy
from ui.lazy import lazy_module
from ui.phone import wide_drawing

alt = lazy_module("altair")  # deferred (0.25 s): most first looks draw no chart
pd = lazy_module("pandas")  # deferred (0.5 s), as altair

INK = "#1f2937"
TRAIN_COLOR = "#2563eb"
TEST_COLOR = "#f59e0b"
SEED_MARK = "#64748b"
TICK_FONT = 16  # the error-rule drawing's smallest text, in its own units (it scales to the page)

# The seed's colours and order (its figure's legend order: blue, red, yellow, green).
RULES = ("transpose", "transpose_normalized", "equal", "proportional")
RULE_COLORS = {"transpose": "#2563eb", "transpose_normalized": "#dc2626", "equal": "#eab308",
               "proportional": "#16a34a"}
RULE_LABELS = {
    "transpose": "Wᵀ·E: by weight (blue, the seed's choice)",
    "transpose_normalized": "Wᵀ·E / N: by weight, divided by N (red)",
    "equal": "split equally among the N links (yellow)",
    "proportional": "split by each weight's share (green)",
}
RULE_SHORT = {"transpose": "Wᵀ·E", "transpose_normalized": "Wᵀ·E / N", "equal": "equal split",
              "proportional": "split by weight share"}
PARAMETER_TITLES = {"learning_rate": "learning rate", "hidden_nodes": "hidden nodes", "epochs": "epochs"}
SEED_CHOICE = {"learning_rate": 0.1, "hidden_nodes": 200, "epochs": 5}  # what the seed settled on


def _accuracy_axis(values: list[float], title: str = "test accuracy") -> alt.Y:
    """A y axis for accuracies that zooms in on the spread but never past 0..1."""
    low = min(values) if values else 0.0
    high = max(values) if values else 1.0
    pad = max((high - low) * 0.08, 0.002)
    return alt.Y("accuracy:Q", title=title, axis=alt.Axis(format=".1%"),
                 scale=alt.Scale(domain=[max(0.0, low - pad), min(1.0, high + pad)], nice=False))


def _epoch_axis(epochs: int) -> alt.X:
    return alt.X("epoch:Q", title="epoch", scale=alt.Scale(domain=[1, max(epochs, 2)], nice=False),
                 axis=alt.Axis(tickMinStep=1, format="d"))


# --------------------------------------------------------------------------- error rules


def error_rules_frame(results: dict[str, Any]) -> pd.DataFrame:
    """Long-form rows (rule, label, epoch, accuracy) of an ``error_rules`` result."""
    rows = [{"rule": s["rule"], "label": RULE_LABELS.get(s["rule"], s["rule"]), "epoch": int(e),
             "accuracy": float(a)}
            for s in results.get("series", []) for e, a in zip(s["epochs"], s["test_accuracy"])]
    return pd.DataFrame(rows, columns=["rule", "label", "epoch", "accuracy"])


def error_rules_chart(results: dict[str, Any], epochs: int | None = None, height: int = 340,
                      zoom: bool = False) -> alt.Chart:
    """Test accuracy per epoch, one line per error rule, in the seed's colours.

    ``zoom`` narrows the y axis to the rules that learned (above 50%), so their differences show; a rule
    left out of the view is named in the page's text instead.
    """
    frame = error_rules_frame(results)
    top = max(epochs or 1, int(frame["epoch"].max()) if len(frame) else 1)
    order = [r for r in RULES if r in set(frame["rule"])] + sorted(set(frame["rule"]) - set(RULES))
    labels = [RULE_LABELS.get(r, r) for r in order]
    colors = [RULE_COLORS.get(r, "#6b7280") for r in order]
    learned = frame.groupby("rule")["accuracy"].transform("max") >= 0.5 if len(frame) else frame["accuracy"] > 0
    shown = frame[learned] if zoom and learned.any() else frame
    y = _accuracy_axis(list(shown["accuracy"])) if zoom else alt.Y(
        "accuracy:Q", title="test accuracy", axis=alt.Axis(format=".0%"), scale=alt.Scale(domain=[0, 1]))
    return alt.Chart(shown).mark_line(point=alt.OverlayMarkDef(size=60, filled=True), strokeWidth=2.5).encode(
        x=_epoch_axis(top), y=y,
        color=alt.Color("label:N", title="How the error is sent back", sort=labels,
                        scale=alt.Scale(domain=labels, range=colors),
                        legend=alt.Legend(orient="right", labelLimit=330, symbolStrokeWidth=3)),
        tooltip=[alt.Tooltip("label:N", title="rule"), alt.Tooltip("epoch:Q"),
                 alt.Tooltip("accuracy:Q", title="test accuracy", format=ACCURACY_FORMAT)],
    ).properties(height=height)


def error_rules_svg(results: dict[str, Any], zoom: bool = False, width: int = 520, height: int = 320) -> str:
    """:func:`error_rules_chart` drawn as one SVG, with its legend in HTML below (for ``st.markdown`` with
    ``unsafe_allow_html``): the same lines, points, colours and axes; hovering a point names its rule, epoch
    and accuracy (the SVG's ``<title>``). The page shows the shipped result this way: a Vega-Lite chart on a
    visitor's first look costs the server some thirty more of Streamlit's JavaScript files.

    Parameters
    ----------
    results : dict
        An ``error_rules`` result (``series``: rule, epochs, test_accuracy).
    zoom : bool
        Narrow the y axis to the rules that learned (above 50%), as :func:`error_rules_chart`.
    width, height : int
        The drawing's size in its own units; it scales to the page's width.
    """

    frame = error_rules_frame(results)
    top = max(int(frame["epoch"].max()) if len(frame) else 1, 2)
    order = [r for r in RULES if r in set(frame["rule"])] + sorted(set(frame["rule"]) - set(RULES))
    learned = frame.groupby("rule")["accuracy"].transform("max") >= 0.5 if len(frame) else frame["accuracy"] > 0
    shown = frame[learned] if zoom and learned.any() else frame
    if zoom and len(shown):
        low, high = float(shown["accuracy"].min()), float(shown["accuracy"].max())
        pad = max((high - low) * 0.08, 0.002)
        y_low, y_high, y_format = max(0.0, low - pad), min(1.0, high + pad), "{:.1%}"
    else:
        y_low, y_high, y_format = 0.0, 1.0, "{:.0%}"
    left, right, above, below = 72, 16, 12, 48
    plot_w, plot_h = width - left - right, height - above - below

    def x_of(epoch: float) -> float:
        return left + (epoch - 1) / (top - 1) * plot_w

    def y_of(accuracy: float) -> float:
        return above + (1 - (accuracy - y_low) / max(y_high - y_low, 1e-9)) * plot_h

    parts = [f'<svg viewBox="0 0 {width} {height}" width="100%" style="max-width:{width}px;display:block" '
             f'font-family="sans-serif" role="img" aria-label="Test accuracy per epoch, one line per error rule">']
    for k in range(6):  # y grid and labels
        value = y_low + (y_high - y_low) * k / 5
        y = y_of(value)
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#e5e7eb"/>'
                     f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="{TICK_FONT}" fill="{INK}">'
                     f'{y_format.format(value)}</text>')
    step = max(1, round(top / 10))
    for epoch in range(1, top + 1, step):  # x ticks
        x = x_of(epoch)
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{above + plot_h}" y2="{above + plot_h + 4}" stroke="{INK}"/>'
                     f'<text x="{x:.1f}" y="{above + plot_h + 19}" text-anchor="middle" font-size="{TICK_FONT}" '
                     f'fill="{INK}">{epoch}</text>')
    parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{above + plot_h}" y2="{above + plot_h}" stroke="{INK}"/>'
                 f'<text x="{left + plot_w / 2:.1f}" y="{height - 6}" text-anchor="middle" font-size="{TICK_FONT + 1}" '
                 f'font-weight="bold" fill="{INK}">epoch</text>'
                 f'<text transform="translate(14 {above + plot_h / 2:.1f}) rotate(-90)" text-anchor="middle" '
                 f'font-size="{TICK_FONT + 1}" font-weight="bold" fill="{INK}">test accuracy</text>')
    legend = []
    for rule in order:
        rows = shown[shown["rule"] == rule].sort_values("epoch")
        colour = RULE_COLORS.get(rule, "#6b7280")
        label = RULE_LABELS.get(rule, rule)
        legend.append(f'<span style="display:inline-flex;align-items:center;gap:6px;margin-right:18px">'
                      f'<span style="width:18px;height:3px;background:{colour};display:inline-block"></span>'
                      f'{escape(label)}</span>')
        if not len(rows):
            continue
        points = " ".join(f"{x_of(e):.1f},{y_of(a):.1f}" for e, a in zip(rows["epoch"], rows["accuracy"]))
        parts.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2.5"/>')
        for e, a in zip(rows["epoch"], rows["accuracy"]):
            parts.append(f'<circle cx="{x_of(e):.1f}" cy="{y_of(a):.1f}" r="4.5" fill="{colour}">'
                         f'<title>{escape(RULE_SHORT.get(rule, rule))}, epoch {int(e)}: test accuracy '
                         f'{format_accuracy(a)}</title>'
                         '</circle>')
    parts.append("</svg>")
    return ("<div>" + wide_drawing("".join(parts), width, TICK_FONT) + '<div style="font-size:0.85rem;margin-top:4px">'
            + "<b>How the error is sent back</b>: " + "".join(legend) + "</div></div>")


# --------------------------------------------------------------------------- sweeps


def sweep_frame(result: dict[str, Any]) -> pd.DataFrame:
    """(value, accuracy, seed) rows of a learning-rate or hidden-nodes sweep's final test accuracies."""
    choice = SEED_CHOICE.get(result.get("parameter", ""))
    rows = [{"value": float(v), "accuracy": float(a), "seed": choice is not None and float(v) == choice}
            for v, a in zip(result.get("values", []), result.get("final_test_accuracy", []))]
    return pd.DataFrame(rows, columns=["value", "accuracy", "seed"])


def sweep_chart(result: dict[str, Any], height: int = 300) -> alt.Chart:
    """Final test accuracy against the swept value: a line with points, log x, the seed's choice marked."""
    parameter = result["parameter"]
    title = PARAMETER_TITLES.get(parameter, parameter)
    frame = sweep_frame(result)
    epochs = result.get("config", {}).get("epochs")
    y_title = f"test accuracy after {epochs} epochs" if epochs else "test accuracy"
    values = list(frame["value"]) or [1.0]
    x = alt.X("value:Q", title=f"{title} (log scale)",
              scale=alt.Scale(type="log", domain=[min(values) / 1.3, max(values) * 1.3], nice=False),
              axis=alt.Axis(values=values, format="~g", labelOverlap=False))
    base = alt.Chart(frame).encode(x=x, y=_accuracy_axis(list(frame["accuracy"]), y_title))
    line = base.mark_line(color=TRAIN_COLOR, strokeWidth=2.5)
    points = base.mark_point(filled=True, size=70).encode(
        color=alt.condition(alt.datum.seed, alt.value("#dc2626"), alt.value(TRAIN_COLOR)),
        size=alt.condition(alt.datum.seed, alt.value(160), alt.value(70)),
        tooltip=[alt.Tooltip("value:Q", title=title, format="~g"),
                 alt.Tooltip("accuracy:Q", title="test accuracy", format=ACCURACY_FORMAT)])
    labels = base.mark_text(dy=-12, fontSize=11, color=INK).encode(text=alt.Text("accuracy:Q", format=ACCURACY_FORMAT))
    layers = [line, points, labels]
    choice = SEED_CHOICE.get(parameter)
    if choice is not None and min(values) <= choice <= max(values):
        rule = alt.Chart(pd.DataFrame({"value": [float(choice)], "text": [f"seed: {choice:g}"]}))
        layers.append(rule.mark_rule(color=SEED_MARK, strokeDash=[4, 4]).encode(x="value:Q"))
        # the label on the side of the rule with more room, so that it is never cut off at the chart's edge
        low, high = math.log(min(values) / 1.3), math.log(max(values) * 1.3)
        right_half = (math.log(choice) - low) / (high - low) > 0.5
        layers.append(rule.mark_text(align="right" if right_half else "left", dx=-4 if right_half else 4, dy=-6,
                                     color=SEED_MARK, fontSize=11).encode(
            x="value:Q", y=alt.value(height), text="text:N"))
    return alt.layer(*layers).properties(height=height)


def epochs_frame(result: dict[str, Any]) -> pd.DataFrame:
    """(epoch, set, accuracy) rows of an epochs sweep: the test set and, if scored, the training records."""
    rows = []
    for series in result.get("series", [])[:1]:  # an epochs sweep is one run
        for key, name in (("train_accuracy", "training records"), ("test_accuracy", "test set")):
            for e, a in zip(series["epochs"], series.get(key, [])):
                rows.append({"epoch": int(e), "set": name, "accuracy": float(a)})
    return pd.DataFrame(rows, columns=["epoch", "set", "accuracy"])


def peak_epoch(result: dict[str, Any]) -> tuple[int, float] | None:
    """The epoch with the highest test accuracy (the first, on a tie) and that accuracy."""
    series = result.get("series") or []
    if not series or not series[0]["test_accuracy"]:
        return None
    curve = series[0]["test_accuracy"]
    best = max(range(len(curve)), key=lambda i: (curve[i], -i))
    return int(series[0]["epochs"][best]), float(curve[best])


def epochs_chart(result: dict[str, Any], epochs: int | None = None, height: int = 300) -> alt.Chart:
    """Train and test accuracy per epoch of one long run, the test accuracy's peak marked with a ring."""
    frame = epochs_frame(result)
    top = max(epochs or 1, int(frame["epoch"].max()) if len(frame) else 1)
    sets = ["training records", "test set"]
    lines = alt.Chart(frame).mark_line(point=alt.OverlayMarkDef(size=40, filled=True), strokeWidth=2.5).encode(
        x=_epoch_axis(top), y=_accuracy_axis(list(frame["accuracy"]), "accuracy"),
        color=alt.Color("set:N", title=None, sort=sets, scale=alt.Scale(domain=sets, range=[TRAIN_COLOR,
                                                                                            TEST_COLOR]),
                        legend=alt.Legend(orient="bottom")),
        tooltip=[alt.Tooltip("set:N"), alt.Tooltip("epoch:Q"), alt.Tooltip("accuracy:Q", format=ACCURACY_FORMAT)])
    layers = [lines]
    peak = peak_epoch(result)
    if peak is not None:
        marker = alt.Chart(pd.DataFrame({"epoch": [peak[0]], "accuracy": [peak[1]],
                                         "text": [f"test peak: epoch {peak[0]}, {format_accuracy(peak[1])}"]}))
        layers.append(marker.mark_point(shape="circle", size=420, stroke="#dc2626", strokeWidth=2.5,
                                        filled=False).encode(x="epoch:Q", y="accuracy:Q"))
        # The label sits under the ring, kept inside the plot when the peak is near either end.
        align = "right" if peak[0] > 0.75 * top else ("left" if peak[0] < 0.25 * top else "center")
        layers.append(marker.mark_text(dy=22, align=align, color="#dc2626", fontSize=11, fontWeight="bold")
                      .encode(x="epoch:Q", y="accuracy:Q", text="text:N"))
        layers.append(marker.mark_rule(color="#dc2626", strokeDash=[3, 3], opacity=0.6).encode(x="epoch:Q"))
    return alt.layer(*layers).properties(height=height)


# --------------------------------------------------------------------------- grids (python -m ann sweep)


def _grid_label(value: Any) -> str:
    if isinstance(value, list):
        return "x".join(str(v) for v in value)
    return f"{value:g}" if isinstance(value, float) else str(value)


def grid_frame(result: dict[str, Any]) -> pd.DataFrame:
    """One row per finished run of a ``grid`` result: its settings (as labels), seed and final accuracy."""
    names = [p["name"] for p in result.get("parameters", [])]
    rows = []
    for run in result.get("runs", []):
        if run.get("final_test_accuracy") is None or run.get("status") != "finished":
            continue
        row = {"seed": run["seed"], "accuracy": float(run["final_test_accuracy"]),
               "seconds": float(sum(run.get("seconds", [])))}
        for name in names:
            value = run["values"][name]
            row[name] = _grid_label(value)
            row[f"{name}_number"] = float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) \
                else None
        rows.append(row)
    columns = ["seed", "accuracy", "seconds"] + [c for n in names for c in (n, f"{n}_number")]
    return pd.DataFrame(rows, columns=columns)


def grid_chart(result: dict[str, Any], height: int = 320) -> alt.Chart:
    """Final test accuracy against the grid's first setting: the mean over seeds as a line (one per value
    of the other settings) and every seed's run as a point."""
    names = [p["name"] for p in result.get("parameters", [])]
    frame = grid_frame(result)
    first = names[0] if names else "run"
    if not names:
        frame[first] = "all"
        frame[f"{first}_number"] = None
    others = names[1:]
    frame["series"] = frame[others].astype(str).agg(", ".join, axis=1) if others and len(frame) else "all runs"
    series_title = ", ".join(PARAMETER_TITLES.get(n, n.replace("_", " ")) for n in others) or " "
    numeric = len(frame) > 0 and frame[f"{first}_number"].notna().all()
    title = PARAMETER_TITLES.get(first, first.replace("_", " "))
    if numeric:
        values = sorted(set(frame[f"{first}_number"]))
        log = min(values) > 0 and max(values) / min(values) >= 10
        pad = (max(values) - min(values)) * 0.08 or abs(values[0]) * 0.1 or 1.0
        domain = [min(values) / 1.3, max(values) * 1.3] if log else [min(values) - pad, max(values) + pad]
        x = alt.X(f"{first}_number:Q", title=f"{title} (log scale)" if log else title,
                  scale=alt.Scale(type="log" if log else "linear", nice=False, domain=domain),
                  axis=alt.Axis(values=values, format="~g", labelOverlap=False))
    else:
        order = [_grid_label(v) for v in next((p["values"] for p in result.get("parameters", [])), [])]
        x = alt.X(f"{first}:N", title=title, sort=order)
    means = frame.groupby(["series", first, f"{first}_number"], dropna=False, as_index=False)["accuracy"].mean()
    epochs = result.get("config", {}).get("epochs")
    y = _accuracy_axis(list(frame["accuracy"]), f"test accuracy after {epochs} epochs" if epochs else
                       "test accuracy")
    color = alt.Color("series:N", title=series_title, legend=alt.Legend(orient="bottom") if others else None)
    line = alt.Chart(means).mark_line(strokeWidth=2.5).encode(x=x, y=y, color=color)
    points = alt.Chart(frame).mark_point(filled=True, size=60, opacity=0.8).encode(
        x=x, y=y, color=color,
        tooltip=[alt.Tooltip(f"{n}:N", title=PARAMETER_TITLES.get(n, n)) for n in names]
        + [alt.Tooltip("seed:Q"), alt.Tooltip("accuracy:Q", title="test accuracy", format=ACCURACY_FORMAT),
           alt.Tooltip("seconds:Q", title="training seconds", format=".1f")])
    return alt.layer(line, points).properties(height=height)


def grid_table(result: dict[str, Any]) -> pd.DataFrame:
    """Every run of a ``grid`` result, failed and stopped ones included, for a table."""
    names = [p["name"] for p in result.get("parameters", [])]
    rows = []
    for run in result.get("runs", []):
        final = run.get("final_test_accuracy")
        rows.append({**{PARAMETER_TITLES.get(n, n.replace("_", " ")): _grid_label(run["values"][n]) for n in names},
                     "seed": run["seed"], "status": run["status"],
                     "test accuracy": None if final is None else round(100 * final, 2),
                     "epochs": len(run.get("epochs", [])), "seconds": round(sum(run.get("seconds", [])), 1),
                     "error": run.get("error") or ""})
    return pd.DataFrame(rows)
