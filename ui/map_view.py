"""The Hidden-layer map's scatter chart, and its second view: one of your runs, epoch by epoch.

The epoch view maps the same sample of test images through the run's network after every finished epoch
(and before training, epoch 0), aligned from epoch to epoch by ``ann.lab.epochs.epoch_maps``, on axes that stay
put, so that the slider, or Play, shows the digits pulling apart. Computed when asked (a button, a progress
bar) and cached per run, list of epochs, sample and alignment.
"""

from __future__ import annotations

import base64
import io

import numpy as np
import streamlit as st
from PIL import Image

from ann.formats import count, format_accuracy
from ann.lab.epochs import epoch_maps
from ann.service.records import CheckpointError, RunInfo
from ann.train import as_inputs
from ui import datasets, digits, robustness_view, run_epochs, run_panels, waits
from ui.lazy import lazy_module

alt = lazy_module("altair")  # deferred (0.25 s): most first looks draw no chart
pd = lazy_module("pandas")  # deferred (0.5 s), as altair

SAMPLE_SEED = 0
DIGIT_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                "#bcbd22", "#17becf"]  # tableau10: ten colours told apart easily
PICK_KEY = "map_run"
SHOWN_KEY = "map_epochs_shown"  # run id -> the epochs the view was asked to map (a tuple)
PLAYING_KEY = "map_playing"  # the slider key of the epochs being played, or None
TICK_KEY = "map_play_tick"  # False until the first frame of a Play has been drawn
EPOCH_SAMPLES = (500, 1000, 2000)
DEFAULT_EPOCH_SAMPLE = 2000
PLAY_SECONDS = 1.2  # a frame: time to see it, and for the browser to draw 2,000 points on a slow phone
ALIGNMENTS = {"last_pca": "the last epoch's PCA", "procrustes": "each epoch's own, turned"}


def sample_indices(n: int, total: int) -> np.ndarray:
    """``n`` of ``total`` test images drawn at random, always the same ones for a given ``n``, in file order."""
    return np.sort(np.random.default_rng(SAMPLE_SEED).permutation(total)[:n])


def thumbnail_url(image: np.ndarray) -> str:
    """A test image as a small PNG data URL, dark ink on white, for the chart's hover tooltip (about 300
    bytes each: 2,000 of them add some 0.6 MB to the page)."""
    buffer = io.BytesIO()
    Image.fromarray(digits.digit_image(image, scale=2)).save(buffer, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


@st.cache_data(max_entries=4, show_spinner=False)
def thumbnails(n: int, _images: np.ndarray) -> list[str]:
    """The sample's images (``_images``: MNIST's test images, the map's only set) as data URLs: they depend on
    the sample only, not on the model. Here rather than in the page, whose file runs on every script run (a
    cached function defined there is made anew each run, its source read to name its cache)."""
    return [thumbnail_url(_images[i]) for i in sample_indices(n, len(_images))]


def points_chart(frame: pd.DataFrame, axis_titles: tuple[str, str], highlight: int | None, show_axes: bool,
                 tooltip: list, domain: tuple[list[float], list[float]] | None = None,
                 height: int = 560) -> alt.Chart:
    """The map's points: coloured by true digit, crosses where the network reads the image wrong.

    ``frame`` has columns x, y, digit (str), read ("right" or "wrong") and the ``tooltip``'s fields;
    ``domain`` ((x0, x1), (y0, y1)) fixes the axes, so that frames of several epochs line up.
    """
    opacity = (alt.condition(alt.datum.digit == str(highlight), alt.value(0.95), alt.value(0.08))
               if highlight is not None else alt.value(0.7))
    scale_x = alt.Scale(domain=domain[0], nice=False) if domain else alt.Undefined
    scale_y = alt.Scale(domain=domain[1], nice=False) if domain else alt.Undefined
    return alt.Chart(frame).mark_point(filled=True).encode(
        x=alt.X("x:Q", title=axis_titles[0], axis=alt.Axis(labels=show_axes), scale=scale_x),
        y=alt.Y("y:Q", title=axis_titles[1], axis=alt.Axis(labels=show_axes), scale=scale_y),
        color=alt.Color("digit:N", scale=alt.Scale(domain=[str(d) for d in range(10)], range=DIGIT_COLORS),
                        legend=alt.Legend(title="true digit", orient="right")),
        shape=alt.Shape("read:N", scale=alt.Scale(domain=["right", "wrong"], range=["circle", "cross"]),
                        legend=alt.Legend(title="read", orient="right")),
        size=alt.condition(alt.datum.read == "wrong", alt.value(90), alt.value(22)),
        opacity=opacity,
        tooltip=tooltip,
    ).properties(height=height)


def mistakes_outline(frame: pd.DataFrame) -> alt.Chart:
    """A black outline on every cross, so that mistakes stand out from the crowd of their colour."""
    return alt.Chart(frame[frame["read"] == "wrong"]).mark_point(
        shape="cross", size=110, color="black", strokeWidth=0.6, filled=False).encode(x="x:Q", y="y:Q")


# --------------------------------------------------------------------------- one of your runs, epoch by epoch


@st.cache_data(max_entries=8, ttl=3600, show_spinner=False)
def epoch_map_data(run_id: str, epochs: tuple[int, ...], n: int, align: str, _run: RunInfo,
                   _images: np.ndarray, _labels: np.ndarray) -> dict:
    """The run's map of ``n`` sampled test images at each of ``epochs``, aligned, and each epoch's answers.

    Cached per run, epochs, sample and alignment. The progress bar lives in here (see
    ``ui.epoch_scrubber.epoch_numbers``: Streamlit replays a cached function's own elements).
    """

    order = sample_indices(n, len(_labels))
    images = _images[order]
    networks = run_epochs.networks(_run, list(epochs))
    bar = waits.WaitBar(f"{_run.name}, epoch by epoch ({n:,} test images)")
    try:
        maps = epoch_maps(networks, images, align=align,
                          progress=lambda fraction, message: bar.update(0.8 * fraction, message))
        predictions = []
        for k in range(len(networks)):
            bar.update(0.8 + 0.2 * k / len(networks), "reading each epoch's answers")
            net = networks[k]
            predictions.append(np.argmax(net.query(as_inputs(images, net.dtype)), axis=1).astype(np.int8))
    finally:
        bar.done()
    return {"index": order, "labels": _labels[order], "coords": np.stack(maps).astype(np.float32),
            "predictions": np.stack(predictions)}


def _ask(run_id: str, epochs: tuple[int, ...]) -> None:
    st.session_state.setdefault(SHOWN_KEY, {})[run_id] = epochs
    st.session_state[PLAYING_KEY] = None


def _play(slider_key: str, epochs: tuple[int, ...]) -> None:
    if st.session_state.get(slider_key, epochs[-1]) == epochs[-1]:  # at the end: play from the start
        st.session_state[slider_key] = epochs[0]
    st.session_state[PLAYING_KEY] = slider_key
    st.session_state[TICK_KEY] = False


def _pause() -> None:
    st.session_state[PLAYING_KEY] = None


def show() -> None:
    """The epoch view, in the Hidden-layer map page's second tab."""
    st.markdown(
        "Pick one of your runs: the same test images are mapped through its network as it was after every "
        "finished epoch, and before training (epoch 0). Move the slider, or press Play, to watch the digits "
        "pull apart as the network learns to tell them apart.")
    run = run_epochs.pick_run(PICK_KEY, "map its epochs", needs_hidden_layer=True)
    if run is None:
        return
    epochs = tuple(run_epochs.finished_epochs(run))
    left, middle, right = st.columns([2, 3, 2], vertical_alignment="bottom")
    n = left.select_slider("Test images", EPOCH_SAMPLES, value=DEFAULT_EPOCH_SAMPLE, key="map_run_images",
                           help="A random sample of the 10,000 test images, the same one at every epoch.")
    align = middle.segmented_control(
        "Aligned by", list(ALIGNMENTS), format_func=ALIGNMENTS.get, default="last_pca", required=True,
        key="map_run_align", wrap=True,
        help="The last epoch's PCA: one projection for every epoch, the last epoch's two widest directions, so "
             "the axes stay put and the early epochs show how far the points still had to go. Each epoch's own: "
             "its own two widest directions, turned, mirrored and scaled onto the next epoch's map (Procrustes), "
             "so every frame is its epoch's best view; slower for large networks (one PCA per epoch: 23 s against "
             "5 s for 50 epochs of 784-800-800-10).")
    shown = st.session_state.get(SHOWN_KEY, {}).get(run.id)
    if shown is None:
        right.button("Map its epochs", key="map_run_draw", type="primary", icon=":material/animation:",
                     on_click=_ask, args=(run.id, epochs), width="stretch")
        st.info(f"{run.name} has {count(len(epochs) - 1, 'finished epoch')} with a checkpoint: **Map its epochs** maps "
                "the test images through each: a fraction of a second for a few epochs of the seed's network, about "
                "5 s for 50 epochs of the Best preset's 784-800-800-10.",
                icon=":material/info:")
        return
    newer = [e for e in epochs if e > shown[-1]]
    if newer:
        right.button(f"Take in {count(len(newer), 'new epoch')}", key="map_run_newer", on_click=_ask,
                     args=(run.id, epochs),
                     icon=":material/refresh:", width="stretch",
                     help=f"{run.name} has finished more epochs since you mapped it ({run_panels.status_text(run)}).")
    if len(shown) < 2:
        st.info(f"{run.name} has no epoch checkpoint on disk to map.", icon=":material/info:")
        return
    note = run_epochs.missing_epochs_note(run, list(shown))
    if note:
        st.caption(note)
    dataset = datasets.require_run_data(run, "The hidden-layer map")  # the run's own dataset
    try:
        data = epoch_map_data(run.id, shown, n, align, run, dataset.test.images, dataset.test.labels)
    except CheckpointError as exc:
        st.session_state.get(SHOWN_KEY, {}).pop(run.id, None)
        st.error(str(exc), icon=":material/broken_image:")
        return

    slider_key = f"map_epoch_{run.id}_{len(shown)}"
    st.session_state.setdefault(slider_key, shown[-1])
    # playing these very epochs (a Play left running on another run, or before it gained epochs, is over)
    playing = st.session_state.get(PLAYING_KEY) == slider_key
    play_col, highlight_col = st.columns([1, 4], vertical_alignment="bottom")
    if playing:
        play_col.button("Pause", key="map_pause", icon=":material/pause:", on_click=_pause, width="stretch")
    else:
        play_col.button("Play", key="map_play", icon=":material/play_arrow:", on_click=_play,
                        args=(slider_key, shown), width="stretch", disabled=len(shown) < 2,
                        help=f"Steps through the epochs, one every {PLAY_SECONDS:g} s.")
    highlight = highlight_col.segmented_control("Highlight a digit", list(range(10)), key="map_run_highlight",
                                                wrap=True)
    (_frame_playing if playing else _frame)(run, shown, slider_key, data, highlight, align, playing)


def _stop_playing() -> None:
    st.session_state[PLAYING_KEY] = None


def _frame_body(run: RunInfo, epochs: tuple[int, ...], slider_key: str, data: dict, highlight: int | None,
                align: str, timed: bool) -> None:
    """The slider and the map at its epoch (a fragment: moving the slider redraws only this; while playing,
    it redraws itself every PLAY_SECONDS, one epoch further each time)."""
    playing = st.session_state.get(PLAYING_KEY) == slider_key
    if timed and not playing:  # stopped by a touch of the slider: the page draws its Play button again
        st.rerun(scope="app")
    if playing:
        if st.session_state.get(TICK_KEY):
            at = epochs.index(st.session_state[slider_key]) if st.session_state[slider_key] in epochs else -1
            st.session_state[slider_key] = epochs[min(at + 1, len(epochs) - 1)]
        st.session_state[TICK_KEY] = True
    epoch = st.select_slider("Epoch", epochs, key=slider_key, format_func=run_epochs.epoch_label,
                             on_change=_stop_playing,
                             help="0 (start): the network before training, rebuilt from the run's random seed.")
    i = epochs.index(epoch)
    coords = data["coords"][i]
    predictions = data["predictions"][i]
    labels = data["labels"]
    wrong = predictions != labels
    frame = pd.DataFrame({"x": coords[:, 0], "y": coords[:, 1], "digit": labels.astype(str),
                          "predicted": predictions.astype(int), "index": data["index"], "number": data["index"] + 1,
                          "read": np.where(wrong, "wrong", "right")})
    everything = data["coords"].reshape(-1, 2)
    low, high = everything.min(axis=0), everything.max(axis=0)
    pad = 0.04 * np.maximum(high - low, 1e-9)
    domain = ([float(low[0] - pad[0]), float(high[0] + pad[0])], [float(low[1] - pad[1]), float(high[1] + pad[1])])
    titles = (("first principal component (last epoch)", "second principal component (last epoch)")
              if align == "last_pca" else ("own PCA 1, aligned", "own PCA 2, aligned"))
    tooltip = [alt.Tooltip("number:Q", title="test image #"), alt.Tooltip("digit:N", title="true digit"),
               alt.Tooltip("predicted:Q", title=f"read as (epoch {epoch})")]
    chart = points_chart(frame, titles, highlight, show_axes=align == "last_pca", tooltip=tooltip, domain=domain)
    st.altair_chart(robustness_view.fit_width(chart + mistakes_outline(frame)), key="map_run_chart",
                    width="stretch")
    st.caption(f"{'Before training' if epoch == 0 else f'After epoch {epoch}'} ({len(epochs) - 1} of "
               f"{run.name}'s epochs on the slider): {format_accuracy(1 - wrong.mean())} of these {len(labels):,} "
               f"test images read right; crosses with a black outline: the {int(wrong.sum()):,} read wrong. The "
               "axes are the same at every epoch. Hover a point for its test image number and this epoch's answer.")
    if playing and epoch == epochs[-1]:
        st.session_state[PLAYING_KEY] = None
        st.rerun(scope="app")


_frame = st.fragment(_frame_body)
_frame_playing = st.fragment(run_every=PLAY_SECONDS)(_frame_body)
