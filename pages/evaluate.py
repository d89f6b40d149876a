"""Evaluate: the active model's scorecard on the active dataset's test images.

Accuracy, the confusion matrix (click a cell, or pick it below, to see its images), precision and recall
per class (digit, for MNIST), all in the dataset's class names, and the mistakes the network was surest of.
The scorecard, the matrix's cells and the pictures are computed once per model version and dataset
(``ui.model_cache``, the dataset's key among the arguments: a shipped model scored on MNIST and on an own
set are two entries): for the shipped model once per server, shared by every visitor; for a session's own
model once, in its session. Moving around the page costs no new forward pass, and a visitor's first look
costs the server little more than sending the page.
"""

from html import escape

import numpy as np
import streamlit as st

from ann.formats import format_accuracy
from ann.metrics import Evaluation, evaluate, most_confident_mistakes
from ui import charts, confusion_view, datasets, digits, phone, pictures, shell, state, tables, waits
from ui.model_cache import per_model

shell.page_start()

CELL_IMAGES = 40
MISTAKES = 16

st.title("Evaluate")
model = state.show_model_caption(pick=True, short=True)  # compact: the matrix nearer the top on a phone
if model is None:
    st.stop()
if not datasets.fits(model):
    st.stop()  # show_model_caption said why: its outputs are not this dataset's classes
data = datasets.require("The Evaluate page")
tag = data.tag
names = tag.class_names
noun = datasets.noun(tag)
n_classes = tag.n_classes
labels = data.test.labels


def name(index: int) -> str:
    return datasets.class_label(tag, index)


# Every function below is computed through per_model: its first argument after the network, ``dataset``, is
# the active dataset's key (a named set's name, an own set's content digest), so the cache keeps one entry per
# model version and dataset; the arrays come from the page's dataset.
def scorecard(network, dataset: str) -> Evaluation:
    """The network on the dataset's test images: a forward pass, with a bar and the time left (a fraction of a
    second for the seed's network on MNIST, seconds for a large one on a busy server). The bar lives in here:
    a cached result replays it, then empties it at once."""
    bar = waits.WaitBar(f"Scoring the {len(labels):,} test images of {tag.title}")
    try:
        return evaluate(network, data.test.images, labels,
                        progress=lambda done, total: bar.update(done / total, f"{done:,} of {total:,}"))
    finally:
        bar.done()


def matrix_cells(network, result: Evaluation, dataset: str, show: str) -> dict:
    """The confusion matrix's cells as the browser draws them (numbers, colours, tooltips)."""
    return confusion_view.cells(result.confusion, show=show, class_names=None if tag.digits else names, noun=noun)


def cell_grid(network, result: Evaluation, dataset: str, true_class: int, predicted_class: int) -> tuple[int, str]:
    """How many test images of ``true_class`` were read as ``predicted_class``, and the first of them as
    pictures (mistakes: surest first; hits: least sure first, the ones that nearly went wrong)."""
    cell = np.flatnonzero((labels == true_class) & (result.predictions == predicted_class))
    order = np.argsort(result.confidences[cell], kind="stable")
    cell = cell[order[::-1] if true_class != predicted_class else order]
    shown = cell[:CELL_IMAGES]
    return len(cell), pictures.digit_grid(data.test.images[shown],
                                          [f"{digits.image_number(i)}: {result.confidences[i]:.2f}" for i in shown],
                                          width=84)


def score_table(network, result: Evaluation, dataset: str) -> str:
    """Precision and recall per class as an HTML table, each share with a bar."""

    def bar(share: float) -> str:
        return (f'<td style="min-width:6.5rem;width:9rem"><div style="display:flex;align-items:center;gap:6px">'
                f'<div style="flex:1;height:8px;background:rgba(128,128,128,.2);border-radius:4px">'
                f'<div style="width:{share:.1%};height:8px;background:#2563eb;border-radius:4px"></div></div>'
                f'<span style="font-variant-numeric:tabular-nums">{share:.1%}</span></div></td>')

    head = "".join(f"<th style='text-align:left;padding:2px 10px'>{h}</th>" for h in
                   (noun, "precision", "recall", "test images", f"predicted as this {noun}"))
    rows = "".join(
        f"<tr><td style='padding:2px 10px'>{escape(names[d])}</td>{bar(result.precision[d])}"
        f"{bar(result.recall[d])}"
        f"<td style='padding:2px 10px;text-align:right'>{result.confusion[d].sum():,}</td>"
        f"<td style='padding:2px 10px;text-align:right'>{result.confusion[:, d].sum():,}</td></tr>"
        for d in range(len(result.precision)))
    return (f"<div style='overflow-x:auto'><table style='border-collapse:collapse;font-size:0.9rem'>"
            f"<thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div>")


def mistakes_grid(network, result: Evaluation, dataset: str) -> str:
    """The mistakes the network was surest of, as pictures ("" when it made none)."""
    worst = most_confident_mistakes(result, labels, k=MISTAKES)
    if not len(worst):
        return ""
    return pictures.digit_grid(data.test.images[worst], [f"{names[labels[i]]} read as {names[result.predictions[i]]} "
                                                         f"({result.confidences[i]:.2f})" for i in worst], width=84)


def select_clicked_cell() -> None:
    """A click on the matrix picks that cell in the two rows of digits beside it."""
    cell = confusion_view.clicked_cell("ev_confusion")
    if cell is not None and max(cell) < n_classes:
        st.session_state["ev_true"], st.session_state["ev_predicted"] = cell
        st.session_state["ev_cell_tapped"] = True


result = per_model(model, scorecard, tag.key)
correct = int(np.trace(result.confusion))
worst = int(np.argmin(result.recall))
# in boxes of HTML rather than st.metric: the same look, without the metric's scripts to fetch on a first look
st.html(pictures.as_is(tables.figure_row([
    tables.Figure("Test accuracy", format_accuracy(result.accuracy)),
    tables.Figure(f"Right, of {len(labels):,}", f"{correct:,}"),
    tables.Figure("Mistakes", f"{len(labels) - correct:,}"),
    tables.Figure(f"Hardest {noun} (recall {format_accuracy(result.recall[worst])})", names[worst],
                  help=f"The {noun} the network finds least often: the lowest recall."),
])))

picks = (st.session_state.get("ev_true"), st.session_state.get("ev_predicted"))
if any(pick is None or pick >= n_classes for pick in picks):  # none yet, or from a set with more classes
    mistakes = result.confusion * (1 - np.eye(n_classes, dtype=np.int64))
    picks = np.unravel_index(int(np.argmax(mistakes)), mistakes.shape)  # the most frequent confusion
# Given through the API on every run: the pickers are buttons for digits and drop-down lists for other sets,
# and a widget of the other kind under the same key would start empty when the visitor switches sets.
st.session_state["ev_true"], st.session_state["ev_predicted"] = int(picks[0]), int(picks[1])

st.subheader("Confusion matrix")
matrix_col, cell_col = st.columns([5, 4], gap="large")
with matrix_col:
    show = st.segmented_control("Show", ["counts", "rates"], default="counts", required=True, key="ev_show",
                                help=f"Rates are shares of the true {noun}'s images, in percent.")
    selected = (st.session_state["ev_true"], st.session_state["ev_predicted"])
    confusion_view.show(per_model(model, matrix_cells, tag.key, show, using=(result,)), selected,
                        key="ev_confusion", on_pick=select_clicked_cell)
    st.caption(f"Rows: the true {noun}; columns: the network's answer. The diagonal (green) is right; "
               "orange cells are mistakes, darker for more. Hover a cell for its numbers; click it to see "
               "its images.")
with cell_col:
    if tag.digits:
        # two rows of digits rather than drop-down lists: one click each, and lighter for a first look
        true_digit = st.segmented_control("True digit", list(range(10)), required=True, key="ev_true",
                                         wrap=True)
        predicted_digit = st.segmented_control("Predicted digit", list(range(10)), required=True,
                                               key="ev_predicted", wrap=True)
    else:  # class names: drop-down lists
        pick_true, pick_predicted = st.columns(2)
        true_digit = pick_true.selectbox(f"True {noun}", list(range(n_classes)), key="ev_true", format_func=name)
        predicted_digit = pick_predicted.selectbox(f"Predicted {noun}", list(range(n_classes)),
                                                   key="ev_predicted", format_func=name)
    count, grid = per_model(model, cell_grid, tag.key, int(true_digit), int(predicted_digit), using=(result,))
    kind = "read right" if true_digit == predicted_digit else f"read as {names[predicted_digit]}"
    cell_images = st.container(key="ev_cell_images")
    cell_images.markdown(f"**{count:,}** test images of **{names[true_digit]}** {kind}"
                         + (f" (the first {CELL_IMAGES} shown)" if count > CELL_IMAGES else ""))
    if count:
        cell_images.html(pictures.as_is(grid))
        st.caption("Under each image: its number in the test set and the activation of the winning output "
                   "node." + (" Least sure first." if true_digit == predicted_digit else " Surest first."))
    else:
        st.caption(f"None: the network never made this answer for this {noun}.")
    if st.session_state.pop("ev_cell_tapped", False):
        phone.bring_into_view("ev_cell_images")  # on a phone they are a screen below the tapped cell

st.subheader(f"Precision and recall per {noun}")
st.html(per_model(model, score_table, tag.key, using=(result,)))
st.caption(f"Precision: of the images the network called this {noun}, the share that were. Recall: of the "
           f"images of this {noun}, the share the network found.")

st.subheader("The most confident mistakes")
worst_mistakes = per_model(model, mistakes_grid, tag.key, using=(result,))
if worst_mistakes:
    st.html(pictures.as_is(worst_mistakes))
    st.caption(f"True {noun}, the network's answer and its winning activation. Some of these labels are "
               "arguable even for people.")
else:
    st.caption("No mistakes at all.")

if model.history:
    # drawn only when opened: most visitors never do, and two charts are most of this page's cost
    curves = st.expander("How the active model learned (its training curves)", key="ev_curves", on_change="rerun")
    if curves.open:
        with curves:
            accuracy_chart, loss_chart = charts.history_charts({model.name: model.history})
            left, right = st.columns(2)
            left.altair_chart(accuracy_chart, width="stretch")
            right.altair_chart(loss_chart, width="stretch")
