"""Inside: what the active network has learned, in pictures.

Four views of the session's active model, each computed by ``ann.lab.inside`` (plain NumPy) and drawn by
``ui.inside_charts``: the hidden nodes' incoming weights as 28x28 images; one image (a test image or the
Draw page's drawing) followed through the network, node by node; the network run backwards from each digit
(gradient ascent on the pixels, or Rashid's backquery); and the spread of every layer's weights against where they started.

Every picture and chart depends on the model (and, in view 2, on the test image), so each is made once per
model version (``ui.model_cache``): for the shipped model once per server, shared by every visitor, for a
session's own model once in its session. Pictures are small PNGs in one grid (``ui.pictures``), charts are
kept as their Vega-Lite dicts. Only a drawing, the session's own, is followed anew on every look.
"""

import numpy as np
import streamlit as st

from ann.formats import signed
from ann.lab.inside import (
    AscentConfig,
    BackqueryMethod,
    backquery_images,
    hidden_activations,
    hidden_weight_images,
    output_contributions,
)
from ann.train import as_inputs
from ui import charts, datasets, digits, epoch_scrubber, inside_charts, pictures, run_epochs, shell, state
from ui.model_cache import per_model

shell.page_start()

GRID_SIZES = (16, 32, 64, 100)
DEFAULT_GRID = 64
TOP_CONTRIBUTIONS = 8  # at most this many hidden nodes shown pushing an output up, and pushing it down
NOTABLE_SHARE = 0.03  # ...of those whose push is at least this share of the strongest one
PICTURE = 84  # screen pixels for a 28x28 picture: three per weight
ASCENT = AscentConfig()  # what the caption of view 3 says about the climb
VIEWS = ("The active model", "One of your runs, epoch by epoch")


def weight_pictures(network, nodes: tuple[int, ...], captions: tuple[str, ...]) -> tuple[str, float]:
    """The first layer's weight pictures of ``nodes``, all on one colour scale, as one grid; and the scale's
    limit."""
    images = hidden_weight_images(network, 0)[list(nodes)]
    limit = inside_charts.symmetric_limit(images)
    palette = inside_charts.diverging_palette()
    urls = [pictures.data_url(indices, palette) for indices in inside_charts.diverging_indices(images, limit)]
    return pictures.grid(urls, captions, width=PICTURE), limit


def follow(network, x: np.ndarray) -> dict:
    """One image (784,) through the network: its outputs, its answer, every hidden layer's activations, and
    the chart of the outputs (in the classes of the model's dataset)."""
    inputs = as_inputs(x[None, :], network.dtype)
    outputs = network.query(inputs)[0].astype(np.float64)
    chart = charts.output_bars(outputs, height=200, class_names=None if trained_on.digits else class_names, noun=cls)
    return {"outputs": outputs, "predicted": int(np.argmax(outputs)), "hidden": hidden_activations(network, inputs),
            "picture": pictures.digit_url(x), "outputs_chart": chart.to_dict()}


def explain(network, x: np.ndarray, hidden: list[np.ndarray], chosen: int) -> dict:
    """How output ``chosen`` is built for image ``x``: each last hidden node's push w·h, the strongest
    pushes either way (leaving out the crowd of nodes that hardly matter for this image), their chart and
    weight pictures, and every hidden layer's strip with those nodes marked."""
    inputs = as_inputs(x[None, :], network.dtype)
    contributions = output_contributions(network, inputs)[chosen]  # (n_last_hidden,) w * h
    last = hidden[-1].astype(np.float64) if hidden else as_inputs(x[None, :], np.float64)[0]
    weights_in = network.weights[-1][chosen].astype(np.float64)
    order = np.argsort(-contributions)
    notable = NOTABLE_SHARE * float(np.abs(contributions).max(initial=0.0))
    up = [int(j) for j in order[:TOP_CONTRIBUTIONS] if contributions[j] > max(notable, 0.0)]
    down = [int(j) for j in order[::-1][:TOP_CONTRIBUTIONS] if contributions[j] < -notable]
    net_input = float(contributions.sum()) + (float(network.biases[-1][chosen]) if network.biases is not None
                                              else 0.0)
    view = {"up": up, "down": down, "net_input": net_input,
            "pushing_up": float(contributions[contributions > 0].sum()),
            "pushing_down": float(contributions[contributions < 0].sum()),
            "n_up": int((contributions > 0).sum()), "n_down": int((contributions < 0).sum()),
            "bars_chart": inside_charts.contribution_bars(contributions, up + down[::-1], last, weights_in).to_dict()}
    if len(hidden) == 1:  # the last hidden layer looks at the pixels: its nodes have pictures
        view["up_pictures"] = weight_pictures(network, tuple(up), tuple(f"#{j}, h {signed(last[j], '.2f')}" for j in up))[0]
        view["down_pictures"] = weight_pictures(network, tuple(down),
                                                tuple(f"#{j}, h {signed(last[j], '.2f')}" for j in down))[0]
    view["strips"] = [inside_charts.activation_strip(
        activations, highlight=(up + down) if layer == len(hidden) - 1 else [],
        layer_name=f"hidden layer {layer + 1}").to_dict() for layer, activations in enumerate(hidden)]
    return view


# A test image's views are kept per model version (ui.model_cache) under the test set's dataset key (a named
# set's name, an own set's content digest) and the image's index: the same model follows image #5 of MNIST
# and image #5 of another set of as many classes, and the two must not share an entry.
def follow_test_image(network, dataset: str, index: int) -> dict:
    return follow(network, test_data.test.images[index])


def explain_test_image(network, base: dict, dataset: str, index: int, chosen: int) -> dict:
    return explain(network, test_data.test.images[index], base["hidden"], chosen)


def backquery_view(network, names: tuple[str, ...], method: str) -> tuple[str, list[int], list[float]]:
    """Each class's picture by ``method`` as one grid, captioned (in ``names``, the model's classes) with what the
    network reads in it; those readings, and the network's output for each picture's own class."""
    expected = backquery_images(network, method)  # (n_classes, 784) float64, scaled like the inputs
    read_back = network.query(expected.astype(network.dtype)).astype(np.float64)
    grid = pictures.digit_grid(expected, [f"{names[d]}: read as {names[int(np.argmax(r))]} ({r.max():.2f})"
                                          for d, r in enumerate(read_back)], width=112)
    return grid, [int(np.argmax(r)) for r in read_back], [float(r[d]) for d, r in enumerate(read_back)]


BACKQUERY_CHOICES = {BackqueryMethod.ASCENT: "gradient ascent", BackqueryMethod.INVERSION: "Rashid's inversion"}


def histograms(network, names: tuple[str, ...]) -> list[tuple[dict, str]]:
    """Each layer's weights against the distribution they started from: a chart and a sentence a layer."""
    views = []
    for layer, W in enumerate(network.weights):
        W = W.astype(np.float64)
        initial_std = W.shape[0] ** -0.5
        chart = inside_charts.weight_histogram(
            W, initial_std, title=f"{names[layer]} → {names[layer + 1]}: {W.size:,} weights").to_dict()
        views.append((chart, f"Mean {signed(W.mean(), '.3f', plus=True)}, spread {W.std():.3f} (it started at {initial_std:.3f}); "
                             f"from {signed(W.min(), '.2f', plus=True)} to {signed(W.max(), '.2f', plus=True)}."))
    return views


st.title("Inside the network")
st.markdown(
    "A trained network is nothing but numbers: one weight on every link. Here they are drawn as pictures. "
    "Each view says what it shows; hover over a chart for its values. The first tab looks inside the **active "
    "model**, so train another one, or teach this one on the Draw page, and come back to compare; the second "
    "goes through one of your training runs epoch by epoch, to watch the pictures form."
)
# only the open tab is computed: the epoch scrubber reads checkpoints; the active model's views score images
model_tab = run_epochs.model_or_run_tabs(epoch_scrubber.PICK_KEY, "in_view", VIEWS, epoch_scrubber.show)

with model_tab:
    model = state.show_model_caption(pick=True, short=True)  # compact: the pictures nearer the top on a phone
    if model is None:
        st.stop()
    network = model.network
    config = model.config
    n_hidden_layers = len(config.hidden_nodes)
    output_kind = "sigmoid" if config.loss == "mse" else "softmax"
    # the model's outputs are the classes of the dataset it was trained on
    trained_on = model.dataset
    class_names = trained_on.class_names
    n_out = trained_on.n_classes
    cls, cls_plural = ("digit", "digits") if trained_on.digits else ("class", "classes")

    def cname(index: int) -> str:
        return datasets.class_label(trained_on, index)

    # --------------------------------------------------------------------------- 1. weights as pictures

    st.subheader("1. What each hidden node looks for" if n_hidden_layers else "1. What each output node looks for")
    st.markdown(
        "Every node of the first layer multiplies each of the 784 pixels by its own weight and adds the lot up. "
        "Drawn in the 28x28 grid of the pixels they belong to, a node's weights show the pattern of ink it "
        "responds to: **red** where ink turns the node on, **blue** where ink turns it off, white where it does "
        "not care. Most nodes look for a fragment of a stroke, or for ink in one place and not in another; "
        "rarely for a whole digit. All the pictures share one colour scale."
    )
    if not n_hidden_layers:
        st.info(f"This model has no hidden layer: its {n_out} output nodes look at the pixels directly, so these "
                f"are the output nodes' weights, {cls} by {cls}.", icon=":material/info:")

    n_nodes = network.weights[0].shape[0]  # the first layer's nodes: the hidden ones, or the outputs if none
    choices = {"first": "the first nodes", "strongest": "the strongest weights"}
    if n_hidden_layers == 1:
        choices["digit"] = f"the nodes a {cls} relies on most"
    how = st.segmented_control("Show", list(choices), format_func=choices.get, default="first", required=True,
                               key=f"in_nodes_by_{len(choices)}")  # its options depend on the model
    count_col, digit_col, _ = st.columns([3, 2, 3], vertical_alignment="bottom")
    sizes = [n for n in GRID_SIZES if n < n_nodes] + [n_nodes]
    # buttons, as "Show" above: a slider's scripts would be fetched for this one choice of a few sizes
    count = count_col.segmented_control("How many", sizes, default=min(DEFAULT_GRID, n_nodes) if DEFAULT_GRID in sizes
                                        else sizes[-1], required=True, key=f"in_nodes_count_{n_nodes}")
    if how == "digit":
        digit = digit_col.selectbox(cls.capitalize(), list(range(n_out)),
                                    key="in_nodes_digit" if n_out == 10 else f"in_nodes_digit_{n_out}",
                                    format_func=cname)
        to_output = network.weights[-1][digit].astype(np.float64)  # (n_hidden,) weights into output `digit`
        nodes = [int(j) for j in np.argsort(-to_output)[:count]]
        captions = [f"node {j}: w {signed(to_output[j], '.2f', plus=True)}" for j in nodes]
        name = class_names[digit]
        explanation = (f"The output node for **{name}** adds up the hidden nodes' activations, each times its "
                       f"weight: these {count} hidden nodes have the largest positive weights into it (w, under "
                       f"each picture). When they fire, the network leans towards {name}. Their red parts often "
                       f"trace pieces of a {name}; their blue parts, where other {cls_plural} have ink.")
    elif how == "strongest":
        first_layer = hidden_weight_images(network, 0)  # (n_nodes, 28, 28), a copy: made only for this choice
        strength = np.sqrt((first_layer.astype(np.float64) ** 2).sum(axis=(1, 2)))
        nodes = [int(j) for j in np.argsort(-strength)[:count]]
        captions = [f"node {j}: |w| {strength[j]:.1f}" for j in nodes]
        explanation = ("The nodes whose weights grew largest overall (|w|: the square root of the sum of the "
                       "squared weights): the nodes training shaped most.")
    else:
        nodes = list(range(count))
        captions = [f"node {j}" if n_hidden_layers else class_names[j] for j in nodes]
        explanation = f"The first {count} of the {n_nodes} nodes, in the network's own order (which means nothing)."
    grid, limit = per_model(model, weight_pictures, tuple(nodes), tuple(captions))
    st.html(pictures.as_is(grid))
    st.caption(explanation)
    key_col, key_text = st.columns([1, 3], vertical_alignment="center")
    with key_col:
        st.html(pictures.figure(inside_charts.colour_key_url(), f"{signed(-limit, '.2f')}  ←  0  →  {signed(limit, '.2f', plus=True)}",
                                280))
    key_text.caption(f"The colour scale: white is a weight of 0, full blue {signed(-limit, '.2f')} or below, full red "
                     f"{signed(limit, '.2f')} or above (nearly all weights lie inside).")

    # --------------------------------------------------------------------------- 2. one image through the network

    # Views 2 and 4 are drawn only when opened: their charts and widgets cost a first look more than the
    # pictures of views 1 and 3 together (bench/profile_pages.py).
    follow_view = st.expander("**2. One image through the network**", key="in_follow", on_change="rerun")
    if follow_view.open:
        with follow_view:
            drawing = st.session_state.get("draw_input")  # the Draw page keeps its current drawing here
            # test images of the active dataset, when the model's outputs are its classes
            test_data = datasets.if_ready() if datasets.fits(model) else None
            sources = {"test": "a test image", "drawing": "your drawing on the Draw page"}
            source = st.segmented_control("Follow", list(sources), format_func=sources.get, required=True,
                                          default="drawing" if drawing is not None else "test", key="in_source")
            x = None
            if source == "drawing":
                if drawing is None:
                    st.info("There is no drawing yet: write a digit on the Draw page, then come back.",
                            icon=":material/draw:")
                else:
                    x = np.asarray(drawing["x"]).reshape(-1)
                    about = "your drawing, as the Draw page prepared it"
                    true_label = None
            elif test_data is None:
                active = datasets.active_tag()
                why = (f"the model's {n_out} outputs are not the {active.n_classes} classes of {active.title}, the "
                       "active dataset" if not datasets.fits(model) else f"the {active.title} dataset, which is not "
                       "downloaded yet (the Home page downloads it)")
                st.info(f"Following a test image needs {why}. A drawing from the Draw page works without it.",
                        icon=":material/info:")
            else:
                labels = test_data.test.labels
                filter_col, which_col = st.columns([5, 2], vertical_alignment="bottom")
                if trained_on.digits and n_out == 10:
                    digit_filter = filter_col.segmented_control("Only images of", list(range(10)),
                                                                key="in_test_digit", wrap=True)
                else:
                    digit_filter = filter_col.selectbox("Only images of", [None, *range(n_out)],
                                                        key=f"in_test_class_{n_out}",
                                                        format_func=lambda v: "any class" if v is None else cname(v))
                candidates = np.arange(len(labels)) if digit_filter is None else np.flatnonzero(labels == digit_filter)
                position = which_col.number_input(f"Which one (1 to {len(candidates):,})", 1, len(candidates),
                                                  value=1, key=f"in_test_position_{digit_filter}")
                index = int(candidates[int(position) - 1])
                x = test_data.test.images[index]
                true_label = int(labels[index])
                # named in the test set's own classes (a model of another dataset with as many classes may meet it)
                about = (f"test image {digits.image_number(index)} of {test_data.title}, "
                         f"{'a ' if test_data.digits else ''}"
                         f"{test_data.class_names[true_label]}")

            if x is not None:
                # a test image's view is the same for everyone who looks at this model and this test set; a
                # drawing is the session's own
                base = (per_model(model, follow_test_image, test_data.tag.key, index) if source == "test"
                        else follow(network, x))
                outputs, predicted, hidden = base["outputs"], base["predicted"], base["hidden"]
                seen_col, out_col = st.columns([1, 4], gap="large")
                with seen_col:
                    st.html(pictures.figure(base["picture"], about, 140))
                with out_col:
                    verdict = "" if true_label is None else (" (right)" if predicted == true_label else " (wrong)")
                    st.markdown(f"**The {n_out} outputs**: the network reads {'a ' if trained_on.digits else ''}"
                                f"**{class_names[predicted]}**{verdict}.")
                    st.vega_lite_chart(base["outputs_chart"], width="stretch")

                st.markdown("**How each output is built.** An output node adds up the last hidden layer's "
                            "activations, each times the weight of its link (w·h), then squeezes the sum with "
                            + ("the sigmoid into 0..1." if output_kind == "sigmoid" else
                               f"the softmax, which turns the {n_out} sums into shares of 1."))
                chosen = st.segmented_control("Output to explain (none picked: the prediction)", list(range(n_out)),
                                              key=f"in_output_digit{'' if n_out == 10 else n_out}",
                                              format_func=lambda v: class_names[v], wrap=True)
                chosen = predicted if chosen is None else int(chosen)
                view = (per_model(model, explain_test_image, test_data.tag.key, index, chosen, using=(base,))
                        if source == "test" else explain(network, x, hidden, chosen))
                up, down = view["up"], view["down"]
                bias_text = " + the bias" if network.biases is not None else ""
                st.markdown(
                    f"Output **{class_names[chosen]}**: {view['n_up']} nodes push it up by "
                    f"{signed(view['pushing_up'], '.2f', plus=True)} in all, {view['n_down']} push it down by "
                    f"{signed(view['pushing_down'], '.2f', plus=True)}; the sum{bias_text} is "
                    f"{signed(view['net_input'], '.2f', plus=True)}, and the output "
                    f"{outputs[chosen]:.3f}.")
                bars_col, pictures_col = st.columns([2, 3], gap="large")
                with bars_col:
                    st.vega_lite_chart(view["bars_chart"], width="stretch")
                    st.caption(f"The strongest pushes up (red, {len(up)}) and down (blue, {len(down)}): each bar is "
                               "the node's activation h times its weight w to this output. Nodes whose push is under "
                               f"{NOTABLE_SHARE:.0%} of the strongest are left out: for one image, most nodes barely "
                               "matter.")
                with pictures_col:
                    if n_hidden_layers == 1:
                        st.markdown("**Pushing up**: what these hidden nodes look for")
                        if up:
                            st.html(pictures.as_is(view["up_pictures"]))
                        st.markdown("**Pushing down**")
                        if down:
                            st.html(pictures.as_is(view["down_pictures"]))
                        st.caption("The weight pictures of the nodes in the bars (same colours as in view 1; h is "
                                   "how strongly the node fires for this image). Where the image's ink meets a "
                                   "node's red, the node fires.")
                    elif n_hidden_layers > 1:
                        st.caption("With several hidden layers, the last layer's nodes look at the layer before, "
                                   "not at the pixels, so they have no picture.")

                for layer, (activations, strip) in enumerate(zip(hidden, view["strips"])):
                    st.markdown(f"**Hidden layer {layer + 1}: how strongly each of its {len(activations)} nodes fires**")
                    st.vega_lite_chart(strip, width="content")
                if hidden:
                    st.caption("One cell per node, in the network's order, darker for a stronger response; outlined: the "
                               "nodes in the bars above. A few nodes fire strongly and most stay quiet: each image is "
                               "read by its own small team of nodes.")

    # --------------------------------------------------------------------------- 3. backquery

    st.subheader("3. The network run backwards")
    st.markdown(
        "Tariq Rashid's book ends by asking the network a question the other way round: which picture goes with "
        f"an output? Two ways to ask it. **Gradient ascent** starts from a grey page and changes the pixels, a "
        f"little at a time, in the direction that makes the network surer of one {cls} (the same exact gradient "
        "the Robustness page's adversarial nudges follow), keeping the picture smooth and its ink sparse. "
        "**Rashid's inversion** sets the output for one digit high and the others low and sends that signal back "
        "through the weights, inverting the activation at each layer, down to the pixels. Either way the picture "
        "is never an image the network saw; feeding it forward again shows whether the network agrees with itself."
    )
    method = st.segmented_control("Drawn by", list(BACKQUERY_CHOICES), format_func=BACKQUERY_CHOICES.get,
                                  default=BackqueryMethod.ASCENT, required=True, key="in_backquery_method")
    grid, readings, own = per_model(model, backquery_view, tuple(class_names), str(method))
    st.html(pictures.as_is(grid))
    agreed = sum(reading == d for d, reading in enumerate(readings))
    if method == BackqueryMethod.ASCENT:
        how_drawn = (f"Drawn by gradient ascent: {ASCENT.steps} steps from a grey page, each following the exact "
                     f"gradient of the network's certainty in the {cls}, blurred over {ASCENT.blur:g} pixel "
                     f"(smoothness) and averaged over the picture moved {ASCENT.shift} pixels four ways; inked "
                     "pixels are pulled back to paper at every step, so ink stays where it counts.")
    else:
        how_drawn = ("Drawn by Rashid's inversion: the outputs (0.99 for the digit, 0.01 elsewhere) sent back "
                     "through the transposed weights and each layer's inverse activation.")
    note = (f"{how_drawn} Under each picture: the {cls} it was made from, and what the network reads in it (its "
            f"output). It reads {agreed} of the {n_out} as the {cls} they came from; its output for their own "
            f"{cls} is {min(own):.2f} at the least.")
    if method == BackqueryMethod.INVERSION and agreed < 0.7 * n_out:
        common = max(set(readings), key=readings.count)
        note += (f" Most go to one catch-all answer, {class_names[common]}. The pictures sit on grey paper, "
                 "stretched into 0.01..0.99 on the way back, unlike any image the network trained on. Networks "
                 "trained briefly (say one epoch on a few thousand images) usually read most of their pictures "
                 "right; the longer a network trains, the more of them land on one digit. Gradient ascent asks the "
                 "trained network itself, step by step, and does not have this problem.")
    st.caption(note)

    # --------------------------------------------------------------------------- 4. histograms

    spread_view = st.expander("**4. How the weights are spread**", key="in_spread", on_change="rerun")
    if spread_view.open:
        with spread_view:
            st.markdown(
                "Before training, every weight was drawn at random around zero (the dashed curve: a normal distribution "
                "with spread 1/√n for a layer of n nodes, as in the seed). Training moved them: the bars are the weights "
                "now. Tails wider than the curve are the links training found worth strengthening."
            )
            names = ["inputs"] + [f"hidden {i + 1}" for i in range(n_hidden_layers)] + ["outputs"]
            per_row = 3
            views = per_model(model, histograms, tuple(names))
            for start in range(0, len(views), per_row):
                columns = st.columns(per_row)
                for column, (chart, sentence) in zip(columns, views[start:start + per_row]):
                    with column:
                        st.vega_lite_chart(chart, width="stretch")
                        st.caption(sentence)
