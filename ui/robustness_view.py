"""Robustness, drawn: the accuracy curves of the Robustness lab, heat maps over digits, and the Draw page's
"how sure is it, and how easily fooled" for the current drawing.

The numbers all come from ``ann.lab.robustness``; this module only turns them into altair charts and pictures.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from ann.data.split import MNIST
from ann.formats import ACCURACY_FORMAT, format_accuracy, signed
from ann.lab.robustness import PERTURBATIONS, sensitivity
from ann.network import Network
from ann.train import as_inputs
from ui import digits, inside_charts
from ui.lazy import lazy_module

alt = lazy_module("altair")  # deferred (0.25 s): most first looks draw no chart
pd = lazy_module("pandas")  # deferred (0.5 s), as altair

ACCURACY_COLOR = "#2563eb"
CHANGED_COLOR = "#f59e0b"
SWEEP_SEED = 0  # the noise and the squares' positions: the same for every model, so curves compare


@st.cache_resource(max_entries=4, show_spinner=False)
def sample(folder: str, n: int, dtype: str, _mnist: MNIST) -> tuple[np.ndarray, np.ndarray]:
    """``n`` test images of ``_mnist`` (read from ``folder``) drawn at random (always the same ones for a given
    n), scaled: shared by every sweep and every visitor, read-only. Here rather than in the page, whose file runs
    on every script run (a cached function defined there is made anew each run, its source read to name its
    cache); call it with keyword arguments (a positional one costs an inspect.signature)."""
    order = np.random.default_rng(SWEEP_SEED).permutation(len(_mnist.test.labels))[:n]
    order.sort()
    images, labels = as_inputs(_mnist.test.images[order], dtype), _mnist.test.labels[order]
    images.setflags(write=False)
    return images, labels


def fit_width(chart: alt.Chart) -> alt.Chart:
    """The chart stretched to its column's width with its own height kept for the plot.

    Streamlit 1.67 fits a stretched chart with a title or a legend into its height as a whole, squeezing the
    plot to a sliver; autosizing only along x leaves the height to the chart.
    """
    return chart.properties(autosize=alt.AutoSizeParams(type="fit-x", contains="padding"))


def accuracy_chart(points: list[dict], kind: str, height: int = 230) -> alt.Chart:
    """Test accuracy (and the share of answers changed) against the damage level of one sweep."""
    perturbation = PERTURBATIONS[kind]
    rows = [{"level": p["level"], "measure": name, "value": p[field]} for p in points
            for name, field in (("accuracy", "accuracy"), ("answers changed", "changed"))]
    frame = pd.DataFrame(rows)
    return fit_width(alt.Chart(frame).mark_line(point=True).encode(
        x=alt.X("level:Q", title=perturbation.level_name),
        y=alt.Y("value:Q", title=None, axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("measure:N", scale=alt.Scale(domain=["accuracy", "answers changed"],
                                                     range=[ACCURACY_COLOR, CHANGED_COLOR]),
                        legend=alt.Legend(title=None, orient="bottom")),
        tooltip=[alt.Tooltip("level:Q", title=perturbation.level_name), alt.Tooltip("measure:N"),
                 alt.Tooltip("value:Q", format=ACCURACY_FORMAT)],
    ).properties(height=height, title=perturbation.title))


def summary(points: list[dict], kind: str) -> str:
    """One sentence on a sweep: where the accuracy falls below half of what it was undamaged."""
    perturbation = PERTURBATIONS[kind]
    clean = next((p["accuracy"] for p in points if p["level"] == 0), points[0]["accuracy"])
    ordered = sorted(points, key=lambda p: abs(p["level"]))
    fallen = [p for p in ordered if p["accuracy"] < clean / 2]
    if not fallen:
        worst = min(points, key=lambda p: p["accuracy"])
        return (f"{perturbation.title}: from {format_accuracy(clean)} undamaged, never below half of it here (lowest "
                f"{format_accuracy(worst['accuracy'])} at {worst['level']:g}).")
    first = fallen[0]
    return (f"{perturbation.title}: from {format_accuracy(clean)} undamaged to under half of it "
            f"({format_accuracy(first['accuracy'])}) at {first['level']:g}.")


def kept_ranges(levels: np.ndarray, kept: np.ndarray, unit: str = "") -> str:
    """Which of the evenly spaced ``levels`` (in order) are in ``kept``, as runs: "−20° to 35°", or
    "−45° to −30° and 10° to 45°"; one level alone is written once."""
    inside = np.isin(levels, kept)
    runs, start = [], None
    for i, flag in enumerate(inside):
        if flag and start is None:
            start = i
        if start is not None and (not flag or i == len(inside) - 1):
            end = i if flag else i - 1
            runs.append(signed(levels[start], unit=unit) if start == end
                        else f"{signed(levels[start], unit=unit)} to {signed(levels[end], unit=unit)}")
            start = None
    return " and ".join(runs) if len(runs) < 3 else ", ".join(runs[:-1]) + " and " + runs[-1]


def turned_sentence(angles: np.ndarray, kept: np.ndarray) -> str:
    """How many of the angles tried keep the answer, and which, without saying the whole range twice."""
    step = float(angles[1] - angles[0]) if len(angles) > 1 else 0.0
    tried = f"{signed(angles[0], unit='°')} to {signed(angles[-1], unit='°')}" + (f" (every {step:g}°)" if step else "")
    if len(kept) == len(angles):
        return f"**Turned**, it keeps its answer at all {len(angles)} angles from {tried}"
    if not len(kept):
        return f"**Turned**, it keeps its answer at none of the {len(angles)} angles from {tried}"
    return (f"**Turned**, it keeps its answer at {len(kept)} of the {len(angles)} angles from {tried}: "
            f"{kept_ranges(angles, kept, '°')}")


def heat_overlay(image: np.ndarray, heat: np.ndarray, scale: int = 5) -> np.ndarray:
    """A diverging heat map (red: hiding this pixel lowers the answer's output; blue: raises it) laid over
    the digit drawn faintly in grey: (28*scale, 28*scale, 3) uint8."""
    limit = inside_charts.symmetric_limit(heat, quantile=1.0)
    colour = inside_charts.diverging_images(np.asarray(heat)[None, :, :], limit, scale=1)[0].astype(np.float64)
    ink = digits.to_pixels(image).astype(np.float64)[:, :, None] / 255.0
    mixed = colour * (1.0 - 0.55 * ink)  # the digit darkens the colours under it, so both show
    mixed = np.repeat(np.repeat(mixed, scale, axis=0), scale, axis=1)
    return np.round(mixed).astype(np.uint8)


def difference_picture(before: np.ndarray, after: np.ndarray, scale: int = 5) -> np.ndarray:
    """What an attack added (red) and took away (blue), at full colour for the largest change."""
    change = (np.asarray(after, np.float64) - np.asarray(before, np.float64)).reshape(1, 28, 28)
    return inside_charts.diverging_images(change, max(float(np.abs(change).max()), 1e-6), scale=scale)[0]


def drawing_sensitivity(network: Network, drawing: dict | None) -> None:
    """The Draw page's "how sure is it, and how easily fooled" for the current drawing, in an expander.

    ``drawing`` is the Draw page's ``st.session_state["draw_input"]`` (``{"x": (1, 784) scaled inputs, ...}``)
    or None when nothing is drawn, in which case nothing is shown. Costs a few milliseconds (one input
    gradient and some sixty forward passes of one image).
    """
    if drawing is None:
        return
    x = np.asarray(drawing["x"], dtype=network.dtype).reshape(1, -1)
    with st.expander("How sure is it, and how easily fooled?", icon=":material/shield:"):
        report = sensitivity(network, x)
        predicted = report["predicted"]
        c1, c2, c3 = st.columns(3)
        c1.metric("Its answer", str(predicted), help="The most active output node.")
        c2.metric("Output of that node", f"{report['confidence']:.3f}")
        c3.metric(f"Lead over the runner-up ({report['runner_up']})", f"{report['margin']:.3f}",
                  help="How far the winning output stands above the second: a small lead is an unsure answer.")
        st.markdown("**An adversarial copy.** Every pixel nudged by the same small amount in the direction that "
                    "most lowers the network's belief in its answer (the fast gradient sign method, from the "
                    "network's exact input gradient):")
        pictures = st.columns(3)
        pictures[0].image(digits.digit_image(x[0], scale=4), caption=f"your drawing: {predicted} "
                          f"({report['confidence']:.2f})", width=112)
        if report["fooled"] is None:
            pictures[1].info("Even a nudge of 0.5 (half of the way from paper to ink) does not change its answer.")
        else:
            pictures[1].image(difference_picture(x[0], report["fooled"], scale=4), width=112,
                              caption=f"the nudge: ±{report['fooling_epsilon']:.2f} a pixel")
            pictures[2].image(digits.digit_image(report["fooled"], scale=4), width=112,
                              caption=f"read as {report['fooled_prediction']} ({report['fooled_confidence']:.2f})")
            st.caption(f"A nudge of {report['fooling_epsilon']:.2f} per pixel (on a scale where paper is 0.01 "
                       f"and full ink 1.0) is the smallest of 0.01, 0.02, ... 0.5 that makes it read "
                       f"{report['fooled_prediction']} instead of {predicted}.")
        kept_angles = report["rotation_angles"][report["rotation_predictions"] == predicted]
        kept_steps = report["stroke_steps"][report["stroke_predictions"] == predicted]
        steps = report["stroke_steps"]
        st.markdown(
            turned_sentence(report["rotation_angles"], kept_angles)
            + f". **Thinner or thicker** ({signed(steps[0], plus=True)} to {signed(steps[-1], plus=True)} steps of "
            f"a pixel), it keeps it at {len(kept_steps)} of {len(steps)}"
            + (f": steps {', '.join(signed(s, plus=True) for s in kept_steps)}." if len(kept_steps) else "."))
        heat_col, text_col = st.columns([1, 3], vertical_alignment="center")
        heat_col.image(heat_overlay(x[0], report["occlusion"], scale=4), width=112,
                       caption="what its answer rests on")
        text_col.caption(f"A 4x4 square of paper slid over the drawing: red where covering the pixels lowers output "
                         f"{predicted} most, blue where it raises it. The red parts are the strokes the answer "
                         "depends on.")
