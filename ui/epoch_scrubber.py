"""The Inside page's epoch scrubber: one of your runs, epoch by epoch, from its checkpoints.

A slider over the run's finished epochs (and 0, the network before training) shows, at that epoch, the
hidden nodes' weight pictures and what the epoch changed in them, the confusion matrix on the 10,000 test
images and its change, and every layer's weight histogram over the epoch before's. The numbers come from
``ann.lab.epochs.epoch_changes``, computed when asked (a button, a progress bar) and cached per run and list of
epochs; the pictures of the epoch on the slider are read from its checkpoint as it is shown.
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from ann.formats import count, format_accuracy
from ann.lab.epochs import epoch_changes
from ann.lab.inside import hidden_weight_images
from ann.service.records import CheckpointError, RunInfo
from ui import charts, datasets, inside_charts, robustness_view, run_epochs, run_panels, workspace

PICK_KEY = "in_run"
SHOWN_KEY = "in_epochs_shown"  # run id -> the epochs the scrubber was asked to go through (a tuple)
HISTOGRAM_BINS = 120
GRID_SIZES = (16, 32, 64)
PICTURE = 84  # screen pixels for a 28x28 picture, as in the page's view 1
CONFUSION_SIZE = 320  # its height; it stretches to its column's width (on a phone, the screen's)


@st.cache_data(max_entries=8, ttl=3600, show_spinner=False)
def epoch_numbers(run_id: str, epochs: tuple[int, ...], _run: RunInfo, _images: np.ndarray,
                  _labels: np.ndarray) -> list:
    """``ann.lab.epochs.epoch_changes`` of the run's networks at ``epochs`` (0 first) on the test set, without
    the change pictures (drawn for one epoch at a time); cached per run and list of epochs.

    The progress bar is made and removed in here: a bar made outside a cached function cannot be drawn
    from inside it (Streamlit replays a cached function's elements on a cache hit).
    """

    bar = st.progress(0.0, text=f"{_run.name}: reading its checkpoints...")
    try:
        return epoch_changes(
            run_epochs.networks(_run, list(epochs)), _images, _labels, bins=HISTOGRAM_BINS, keep_images=False,
            progress=lambda fraction, message: bar.progress(
                fraction, text=f"{_run.name}, epoch by epoch: {message} (scoring the {len(_labels):,} test images "
                               "with each)"))
    finally:
        bar.empty()


@st.cache_data(max_entries=24, ttl=3600, show_spinner=False)
def first_layer_pictures(run_id: str, epoch: int, _run: RunInfo) -> np.ndarray:
    """The first layer's incoming weights at ``epoch`` as pictures, (n_nodes, 28, 28) float32."""

    return hidden_weight_images(run_epochs.load_epoch(_run, epoch), 0).astype(np.float32)


def _take_newer(run_id: str, epochs: tuple[int, ...]) -> None:
    st.session_state.setdefault(SHOWN_KEY, {})[run_id] = epochs


def show() -> None:
    """The scrubber, in the Inside page's second tab."""
    st.markdown(
        "Pick one of your runs and move the slider through its epochs: the weight pictures of view 1, the "
        "confusion matrix of the Evaluate page and the histograms of view 4, as they were after each epoch, "
        "each beside what that epoch changed. Epoch 0 is the network before training: random weights that "
        "read about one digit in ten.")
    run = run_epochs.pick_run(PICK_KEY, "go through its epochs")
    if run is None:
        return
    epochs = tuple(run_epochs.finished_epochs(run))
    shown = st.session_state.get(SHOWN_KEY, {}).get(run.id)
    if shown is None:
        st.button("Go through its epochs", key="in_epochs_go", type="primary", icon=":material/play_arrow:",
                  on_click=_take_newer, args=(run.id, epochs),
                  help="Reads each epoch's checkpoint and scores it on the 10,000 test images: under a second "
                       "for 5 epochs of the seed's network, 15-20 s for 50 epochs of the Best preset's "
                       "784-800-800-10 (bench/run_epochs.py).")
        st.caption(f"{run.name} has {count(len(epochs) - 1, 'finished epoch')} with a checkpoint. Nothing is computed "
                   "until you ask.")
        return
    newer = [e for e in epochs if e > shown[-1]]
    if newer:
        left, right = st.columns([3, 1], vertical_alignment="center")
        left.caption(f"{run.name} has finished {count(len(newer), 'more epoch')} since you opened it "
                     f"({run_panels.status_text(run)}).")
        right.button("Take them in", key="in_epochs_newer", on_click=_take_newer, args=(run.id, epochs),
                     icon=":material/refresh:", width="stretch")
    if len(shown) < 2:
        st.info(f"{run.name} has no epoch checkpoint on disk to go through.", icon=":material/info:")
        return
    note = run_epochs.missing_epochs_note(run, list(shown))
    if note:
        st.caption(note)
    dataset = datasets.require_run_data(run, "The epoch scrubber")  # the run's own dataset
    try:
        changes = epoch_numbers(run.id, shown, run, dataset.test.images, dataset.test.labels)
    except CheckpointError as exc:
        st.session_state.get(SHOWN_KEY, {}).pop(run.id, None)
        st.error(f"{exc}", icon=":material/broken_image:")
        return
    draw(run, list(shown), changes)


def draw(run: RunInfo, epochs: list[int], changes: list) -> None:
    """Everything at the epoch on the slider."""
    epoch = st.select_slider("Epoch", epochs, value=epochs[-1], format_func=run_epochs.epoch_label,
                             key=f"in_epoch_{run.id}_{len(epochs)}",
                             help="0 (start): the network before training, rebuilt from the run's random seed.")
    i = epochs.index(epoch)
    now = changes[i]
    before = changes[i - 1] if i > 0 else None
    total = int(now.confusion.sum())
    # The accuracy each epoch had as it trained (what Runs and Train show), rather than that of its snapshot,
    # whose weights are stored in float16 and may read an image or two differently; the start has no record,
    # and its network is rebuilt exactly.
    recorded = {int(m["epoch"]): m.get("test_accuracy") for m in workspace.store().history(run)}
    accuracies = [float(recorded.get(e) if recorded.get(e) is not None else c.accuracy)
                  for e, c in zip(epochs, changes)]
    wrong = round((1.0 - accuracies[i]) * total)

    # ------------------------------------------------------------------- the numbers, and what changed
    accuracy_col, wrong_col, moved_col = st.columns(3)
    accuracy_col.metric("Test accuracy", format_accuracy(accuracies[i]),
                        None if before is None else f"{(accuracies[i] - accuracies[i - 1]) * 100:+.2f} points")
    wrong_col.metric("Test images read wrong", f"{wrong:,}", None if before is None else
                     f"{wrong - round((1.0 - accuracies[i - 1]) * total):+,}", delta_color="inverse")
    moved = now.layer_change[0] if now.layer_change is not None else None
    moved_col.metric("First layer's weights moved", "-" if moved is None else f"{moved:.4f}",
                     help="The root-mean-square change of the first layer's weights in this epoch.")
    st.markdown(summary(epochs, i, changes))
    differing = round(abs(now.accuracy - accuracies[i]) * total)
    if differing:
        st.caption(f"The pictures and counts below are this epoch's saved snapshot, its weights stored in float16, "
                   f"which reads {format_accuracy(now.accuracy)} of the test images right: "
                   f"{count(differing, 'image')} differently from the network as it trained.")
    st.altair_chart(inside_charts.epoch_accuracy_chart(epochs, accuracies, epoch), width="stretch")

    # ------------------------------------------------------------------- weight pictures
    hidden = bool(run.network_config.hidden_nodes)
    noun = "node" if hidden else "digit"  # without a hidden layer, the first layer is the ten output nodes
    st.markdown(f"##### {'The hidden nodes' if hidden else 'The output nodes'} at epoch {epoch}")
    pictures = first_layer_pictures(run.id, epoch, run)
    n_nodes = pictures.shape[0]
    how_col, count_col = st.columns([3, 2], vertical_alignment="bottom")
    ways = {"first": "the first nodes", "changed": "the nodes this epoch changed most"}
    how = how_col.segmented_control("Show", list(ways), format_func=ways.get, default="first", required=True,
                                    key="in_scrub_nodes_by", disabled=now.node_change is None,
                                    wrap=True)
    sizes = [n for n in GRID_SIZES if n < n_nodes] + ([n_nodes] if n_nodes <= GRID_SIZES[-1] else [])
    how_many = sizes[0] if len(sizes) == 1 else count_col.select_slider(
        "How many", sizes, value=32 if 32 in sizes else sizes[-1], key=f"in_scrub_count_{n_nodes}")
    if how == "changed" and now.node_change is not None:
        nodes = [int(j) for j in np.argsort(-now.node_change)[:how_many]]
    else:
        nodes = list(range(how_many))
    last = first_layer_pictures(run.id, epochs[-1], run)
    limit = inside_charts.symmetric_limit(last)  # one scale for every epoch: the weights grow into it
    weights_col, change_col = st.columns(2, gap="large")
    with weights_col:
        st.markdown("**Their weights**")
        st.image(list(inside_charts.diverging_images(pictures[nodes], limit)), width=PICTURE,
                 caption=[f"{noun} {j}" for j in nodes])
        st.caption(f"Red where ink turns the node on, blue where it turns it off; one scale for every epoch "
                   f"(full colour at ±{limit:.2f}, the last epoch's), so the patterns grow out of the noise.")
    with change_col:
        st.markdown(f"**What epoch {epoch} changed in them**" if before is not None else "**What changed**")
        if before is None:
            st.caption("Nothing yet: these are the weights the run started from, drawn at random around 0.")
        else:
            delta = pictures[nodes].astype(np.float64) - first_layer_pictures(run.id, epochs[i - 1], run)[nodes]
            change_limit = inside_charts.symmetric_limit(delta)
            st.image(list(inside_charts.diverging_images(delta, change_limit)), width=PICTURE,
                     caption=[f"{noun} {j}: {now.node_change[j]:.2f}" for j in nodes])
            st.caption(f"The change since epoch {epochs[i - 1]} (red: the weight grew), on its own scale (full "
                       f"colour at ±{change_limit:.3f}), as changes shrink while training settles. Under each: "
                       "the size of the node's change.")

    # ------------------------------------------------------------------- confusion matrix
    st.markdown(f"##### The confusion matrix at epoch {epoch}")
    counts_col, change_col = st.columns(2, gap="large")
    with counts_col:
        st.altair_chart(robustness_view.fit_width(charts.confusion_chart(now.confusion, size=CONFUSION_SIZE)),
                        width="stretch")
        st.caption(f"The {total:,} test images: rows the true digit, columns the network's answer; the diagonal "
                   "(green) is right.")
    with change_col:
        if before is None:
            st.caption("The change appears from epoch 1 on.")
        else:
            st.altair_chart(robustness_view.fit_width(
                inside_charts.confusion_change_chart(now.confusion_change, size=CONFUSION_SIZE)), width="stretch")
            st.caption(f"What epoch {epoch} changed (since epoch {epochs[i - 1]}): green where it got better "
                       "(more read right, or fewer of a mistake), orange where it got worse.")

    # ------------------------------------------------------------------- histograms
    st.markdown(f"##### How the weights are spread at epoch {epoch}")
    names = ["inputs"] + [f"hidden {k + 1}" for k in range(len(run.network_config.hidden_nodes))] + ["outputs"]
    per_row = 3
    layers = list(range(len(now.histograms)))
    for start in range(0, len(layers), per_row):
        columns = st.columns(per_row)
        for column, layer in zip(columns, layers[start:start + per_row]):
            edges = now.histogram_edges[layer]
            span = inside_charts.visible_range([c.histograms[layer] for c in changes], edges)
            counts = now.histograms[layer]
            inside_count = int(counts[(edges[:-1] >= span[0] - 1e-12) & (edges[1:] <= span[1] + 1e-12)].sum())
            with column:
                st.altair_chart(inside_charts.epoch_histogram(
                    edges, counts, before.histograms[layer] if before is not None else None, span,
                    title=f"{names[layer]} → {names[layer + 1]}"), width="stretch")
                beyond = int(counts.sum()) - inside_count
                st.caption(f"{int(counts.sum()):,} weights" + (f", {beyond:,} beyond the chart's ends" if beyond
                                                               else "")
                           + (f"; they moved by {now.layer_change[layer]:.4f} (RMS)" if now.layer_change else ""))
    st.caption("Bars: the weights at this epoch; grey outline: the epoch before. The bins are the same at every "
               "epoch, so the bars can be compared as the slider moves.")


def summary(epochs: list[int], i: int, changes: list) -> str:
    """A sentence or two on what epoch ``epochs[i]`` changed."""
    now = changes[i]
    if i == 0:
        return (f"**Before training** the network reads {format_accuracy(now.accuracy)} of the test images right: "
                "its weights are random, so its answers are little better than guesses.")
    before = changes[i - 1]
    gained = int(np.trace(now.confusion)) - int(np.trace(before.confusion))
    text = (f"**Epoch {epochs[i]}** read {abs(gained):,} {'more' if gained >= 0 else 'fewer'} test images right "
            f"than epoch {epochs[i - 1]}.")
    off = now.confusion_change.astype(np.int64).copy()
    np.fill_diagonal(off, 0)
    if off.min() < 0:
        t, p = np.unravel_index(np.argmin(off), off.shape)
        text += (f" Its biggest fix: {-int(off[t, p]):,} fewer {t}s read as {p} "
                 f"({int(before.confusion[t, p]):,} → {int(now.confusion[t, p]):,}).")
    if off.max() > 0:
        t, p = np.unravel_index(np.argmax(off), off.shape)
        text += f" Its biggest new mistake: {int(off[t, p]):,} more {t}s read as {p}."
    if before.layer_change is not None and now.layer_change is not None:
        ratio = now.layer_change[0] / before.layer_change[0] if before.layer_change[0] > 0 else None
        if ratio is not None:
            text += (f" It moved the first layer's weights {ratio:.2f} times as much as epoch {epochs[i - 1]} did.")
    return text
