"""Evaluate: the active model's scorecard on the active dataset's test images.

Accuracy, the confusion matrix (click a cell, or pick it below, to see its images), precision and recall
per class (digit, for MNIST), all in the dataset's class names, and the mistakes the network was surest of.
The evaluation is computed once per model version and dataset and kept in the session, so moving around the
page costs no new forward pass.
"""

import numpy as np
import pandas as pd
import streamlit as st

from ann.metrics import Evaluation, evaluate, most_confident_mistakes
from ui import charts, datasets, digits, shell, state

shell.page_start()

CELL_IMAGES = 40
MISTAKES = 16

st.title("Evaluate")
model = state.show_model_caption(pick=True)
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


def evaluation_of(active: state.ActiveModel) -> Evaluation:
    cached = st.session_state.get("ev_cache")
    if cached is not None and cached[0] == (active.key, tag.key):
        return cached[1]
    with st.spinner(f"Scoring the {len(labels):,} test images of {tag.title}..."):
        result = evaluate(active.network, data.test.images, labels)
    st.session_state["ev_cache"] = ((active.key, tag.key), result)
    return result


def select_clicked_cell() -> None:
    """A click on the heatmap picks that cell in the two selectboxes below it."""
    event = st.session_state.get("ev_confusion")
    cells = (event or {}).get("selection", {}).get("cell") or []
    if cells:
        st.session_state["ev_true"] = int(cells[0]["true"])
        st.session_state["ev_predicted"] = int(cells[0]["predicted"])


def image_grid(indices: np.ndarray, captions: list[str], scale: int = 2) -> None:
    st.image([digits.digit_image(data.test.images[i], scale=scale) for i in indices], caption=captions,
             width=28 * scale)


result = evaluation_of(model)
correct = int(np.trace(result.confusion))
worst = int(np.argmin(result.recall))
c1, c2, c3, c4 = st.columns(4)
c1.metric("Test accuracy", f"{result.accuracy:.2%}", border=True)
c2.metric(f"Right, of {len(labels):,}", f"{correct:,}", border=True)
c3.metric("Mistakes", f"{len(labels) - correct:,}", border=True)
c4.metric(f"Hardest {noun} (recall {result.recall[worst]:.1%})", names[worst], border=True,
          help=f"The {noun} the network finds least often: the lowest recall.")

if st.session_state.get("ev_true", 0) >= n_classes or st.session_state.get("ev_predicted", 0) >= n_classes:
    del st.session_state["ev_true"]  # a pick from a dataset with more classes
if "ev_true" not in st.session_state:  # start at the most frequent confusion
    mistakes = result.confusion * (1 - np.eye(n_classes, dtype=np.int64))
    true_digit, predicted_digit = np.unravel_index(int(np.argmax(mistakes)), mistakes.shape)
    st.session_state["ev_true"], st.session_state["ev_predicted"] = int(true_digit), int(predicted_digit)

st.subheader("Confusion matrix")
matrix_col, cell_col = st.columns([5, 4], gap="large")
with matrix_col:
    show = st.segmented_control("Show", ["counts", "rates"], default="counts", required=True, key="ev_show",
                                help=f"Rates are shares of the true {noun}'s images, in percent.")
    selected = (st.session_state["ev_true"], st.session_state["ev_predicted"])
    st.altair_chart(charts.confusion_chart(result.confusion, show=show, selected=selected,
                                           class_names=None if tag.digits else names, noun=noun),
                    key="ev_confusion", on_select=select_clicked_cell, selection_mode="cell", width="content")
    st.caption(f"Rows: the true {noun}; columns: the network's answer. The diagonal (green) is right; "
               "orange cells are mistakes, darker for more. Hover a cell for its numbers; click it to see "
               "its images.")
with cell_col:
    pick_true, pick_predicted = st.columns(2)
    true_digit = pick_true.selectbox(f"True {noun}", list(range(n_classes)), key="ev_true", format_func=name)
    predicted_digit = pick_predicted.selectbox(f"Predicted {noun}", list(range(n_classes)), key="ev_predicted",
                                               format_func=name)
    cell = np.flatnonzero((labels == true_digit) & (result.predictions == predicted_digit))
    # Mistakes: surest first. Hits: least sure first, the ones that nearly went wrong.
    order = np.argsort(result.confidences[cell], kind="stable")
    cell = cell[order[::-1] if true_digit != predicted_digit else order]
    kind = "read right" if true_digit == predicted_digit else f"read as {names[predicted_digit]}"
    st.markdown(f"**{len(cell):,}** test images of **{names[true_digit]}** {kind}"
                + (f" (the first {CELL_IMAGES} shown)" if len(cell) > CELL_IMAGES else ""))
    if len(cell):
        shown = cell[:CELL_IMAGES]
        image_grid(shown, [f"#{i}: {result.confidences[i]:.2f}" for i in shown], scale=3)
        st.caption("Under each image: its number in the test set and the activation of the winning output "
                   "node." + (" Least sure first." if true_digit == predicted_digit else " Surest first."))
    else:
        st.caption(f"None: the network never made this answer for this {noun}.")

st.subheader(f"Precision and recall per {noun}")
table = pd.DataFrame({
    noun: list(range(10)) if tag.digits else list(names),
    "precision": result.precision,
    "recall": result.recall,
    "test images": result.confusion.sum(axis=1),
    f"predicted as this {noun}": result.confusion.sum(axis=0),
})
st.dataframe(table, hide_index=True, width="content", column_config={
    "precision": st.column_config.ProgressColumn(
        "precision", format="percent", min_value=0.0, max_value=1.0,
        help=f"Of the images the network called this {noun}, the share that were."),
    "recall": st.column_config.ProgressColumn(
        "recall", format="percent", min_value=0.0, max_value=1.0,
        help=f"Of the images of this {noun}, the share the network found."),
})

st.subheader("The most confident mistakes")
worst_mistakes = most_confident_mistakes(result, labels, k=MISTAKES)
if len(worst_mistakes):
    image_grid(worst_mistakes, [f"{names[labels[i]]} read as {names[result.predictions[i]]} "
                                f"({result.confidences[i]:.2f})" for i in worst_mistakes], scale=3)
    st.caption(f"True {noun}, the network's answer and its winning activation. Some of these labels are "
               "arguable even for people.")
else:
    st.caption("No mistakes at all.")

if model.history:
    with st.expander("How the active model learned (its training curves)"):
        accuracy_chart, loss_chart = charts.history_charts({model.name: model.history})
        left, right = st.columns(2)
        left.altair_chart(accuracy_chart, width="stretch")
        right.altair_chart(loss_chart, width="stretch")
