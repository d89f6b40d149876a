"""Hidden-layer map: the last hidden layer for a sample of test images, drawn in 2-D.

Each test image is a point: its last hidden layer's activations (200 numbers for the seed's network),
brought down to two dimensions by PCA or t-SNE (``ann.lab.hidden_map``). Coloured by the true digit; mistakes
marked; click a point to see its image. Computed when asked (a button) and kept per model version: the
shipped model's map once per server, shared by every visitor, a session's own model's in its session.

Two tabs: the active model's map, and one of your runs' maps epoch by epoch (``ui.map_view``: a slider and
Play over the finished epochs, the maps aligned from epoch to epoch).
"""

import time

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from ann.estimates import duration_text
from ann.lab.hidden_map import fit_pca, last_hidden, tsne
from ann.train import as_inputs
from ui import charts, datasets, digits, downloads, map_view, phone, robustness_view, run_epochs, shell, state, waits
from ui.model_cache import per_model

shell.page_start()

SAMPLE_SIZES = (500, 1000, 2000, 5000)
DEFAULT_SAMPLE = 2000
SAMPLE_SEED = map_view.SAMPLE_SEED
TSNE_MAX = 2000
METHODS = {"pca": "PCA", "tsne": "t-SNE"}
VIEWS = ("The active model", "One of your runs, epoch by epoch")


def compute_map(network, method: str, n: int) -> dict:
    """The map of ``n`` sampled test images: coordinates, labels, predictions, and the seconds it took (kept
    per model version by ``ui.model_cache``: the shipped model's once per server, a session's own model's in
    its session).

    t-SNE shows a bar: the iterations of its optimisation done (``ann.hidden_map.tsne`` reports each), and
    the time left from its own rate. Its elements live in here: a cached result replays them (then empties
    the bar at once)."""
    order = sample_indices(n)
    started = time.perf_counter()
    hidden = last_hidden(network, mnist.test.images[order])
    outputs = network.query(as_inputs(mnist.test.images[order], network.dtype))
    if method == "pca":
        pca = fit_pca(hidden, 2)
        coords, note = pca.transform(hidden), pca.explained_variance_ratio
    else:
        bar = waits.WaitBar(f"Mapping {n:,} test images with t-SNE")
        try:
            coords = tsne(hidden, seed=SAMPLE_SEED, progress=lambda done, total: bar.update(
                done / total, f"iteration {done:,} of {total:,}"))
        finally:
            bar.done()
        note = None
    return {"index": order, "coords": coords, "labels": mnist.test.labels[order],
            "predictions": np.argmax(outputs, axis=1), "confidence": outputs.max(axis=1).astype(float),
            "variance": note, "seconds": time.perf_counter() - started}


def sample_indices(n: int) -> np.ndarray:
    """``n`` test images drawn at random, always the same ones for a given ``n``, in file order."""
    return map_view.sample_indices(n, len(mnist.test.labels))


st.title("Hidden-layer map")
model_tab = run_epochs.model_or_run_tabs(map_view.PICK_KEY, "map_view", VIEWS, map_view.show)

with model_tab:
    model = state.show_model_caption(short=True, dataset_check=False)
    if model is None:
        st.stop()
    datasets.require_digits_model(model, "The hidden-layer map")  # this page works on MNIST only
    network = model.network
    if not model.config.hidden_nodes:
        st.info("This model has no hidden layer, so there is no hidden layer to map. Train one with a hidden "
                "layer (the Seed classic preset has 200 nodes) on the Train page.", icon=":material/info:")
        st.stop()
    mnist = downloads.require_mnist("The hidden-layer map")
    size = model.config.hidden_nodes[-1]
    st.markdown(
        f"The last hidden layer is where the network has turned pixels into the {size} features its output "
        f"layer reads the digit from. Each test image becomes a point in a space of {size} dimensions; the map brings "
        "those points down to two. A network that has learned keeps the images of each digit together and the "
        "digits apart, and its mistakes sit where two digits' clouds meet.")

    left, middle, right = st.columns([2, 3, 1], vertical_alignment="bottom")
    method = left.segmented_control("Method", list(METHODS), format_func=METHODS.get, default="pca",
                                    required=True, key="map_method",
                                    help="PCA is instant; t-SNE (scikit-learn, one core) takes seconds to half a "
                                         "minute: a bar shows how far it is and the time left.")
    # t-SNE grows faster than the number of points (bench/README.md, bench/honest_waits.py); a shared server
    # keeps it to 2,000.
    sizes = SAMPLE_SIZES if method == "pca" else tuple(size for size in SAMPLE_SIZES if size <= TSNE_MAX)
    n = middle.select_slider("Test images", sizes, value=DEFAULT_SAMPLE, key=f"map_images_{method}",
                             help="A random sample of the 10,000 test images, the same one every time."
                                  + ("" if method == "pca" else f" t-SNE maps at most {TSNE_MAX:,}."))
    drawn_now = right.button("Draw the map", key="map_draw", type="primary", icon=":material/scatter_plot:")
    if drawn_now:
        st.session_state["map_request"] = (method, n)
    request = st.session_state.get("map_request")
    if request is None:
        st.info("Pick a method and a number of images, then **Draw the map**. PCA turns the space so that its "
                "two widest directions lie flat on the page; t-SNE instead keeps each image next to its nearest "
                "neighbours.", icon=":material/info:")
        st.stop()

    method, n = request
    if method == "pca":  # a second or so for 5,000 images with a large network
        with st.spinner(f"Mapping {n:,} test images with PCA..."):
            data = per_model(model, compute_map, method, n)
    else:  # t-SNE draws its own bar, with the time left
        data = per_model(model, compute_map, method, n)
    wrong = data["predictions"] != data["labels"]
    frame = pd.DataFrame({
        "x": data["coords"][:, 0], "y": data["coords"][:, 1], "digit": data["labels"].astype(str),
        "predicted": data["predictions"], "index": data["index"], "number": data["index"] + 1,
        "confidence": data["confidence"],
        "read": np.where(wrong, "wrong", "right"), "image": map_view.thumbnails(n=n, _images=mnist.test.images)})
    highlight = st.segmented_control("Highlight a digit", list(range(10)), key="map_highlight", wrap=True)
    pick = alt.selection_point(name="pick", fields=["index"], on="click")
    axis_titles = (("first principal component", "second principal component") if method == "pca"
                   else ("t-SNE 1", "t-SNE 2"))
    # vega's tooltip draws a field named "image" as the picture itself
    tooltip = [alt.Tooltip("image:N"), alt.Tooltip("number:Q", title="test image #"),
               alt.Tooltip("digit:N", title="true digit"), alt.Tooltip("predicted:Q", title="read as"),
               alt.Tooltip("confidence:Q", format=".2f")]
    points = map_view.points_chart(frame, axis_titles, highlight, show_axes=method == "pca",
                                   tooltip=tooltip).add_params(pick)
    event = st.altair_chart(robustness_view.fit_width((points + map_view.mistakes_outline(frame)).interactive()),
                            key="map_chart", on_select="rerun", selection_mode="pick", width="stretch")
    if drawn_now:
        phone.bring_into_view("map_chart")  # on a phone the map starts below the button

    about = (f"PCA: the two directions along which the {n:,} points spread most, holding "
             f"{data['variance'][0]:.0%} and {data['variance'][1]:.0%} of the spread of the {size} dimensions."
             if method == "pca" else
             "t-SNE: each point is placed near its nearest neighbours in the hidden layer; the size of a cloud and "
             "the gaps between clouds mean little, only who sits next to whom. "
             f"This map took {duration_text(data['seconds'])} to compute on this server.")
    st.caption(f"{about} Crosses with a black outline: the {int(wrong.sum())} images the network reads wrong "
               f"({wrong.mean():.1%}). Hover a point for its image and the network's answer; click it for the ten "
               "outputs; scroll to zoom, drag to move.")

    selected = (event.selection.get("pick") or []) if event is not None else []
    if selected:
        chosen = int(selected[0]["index"])
        row = frame[frame["index"] == chosen].iloc[0]
        image_col, bars_col = st.columns([1, 3], vertical_alignment="center")
        image_col.image(digits.digit_image(mnist.test.images[chosen], scale=5), width=140,
                        caption=f"test image {digits.image_number(chosen)}: a {row['digit']}, read as "
                                f"{row['predicted']}")
        outputs = network.query(as_inputs(mnist.test.images[chosen][None, :], network.dtype))[0]
        bars_col.altair_chart(robustness_view.fit_width(charts.output_bars(outputs, height=170)),
                              width="stretch")
    else:
        st.caption("No point picked yet.")
