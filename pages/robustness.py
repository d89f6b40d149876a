"""Robustness lab: how the active model stands up to noise, turning, thicker or thinner strokes, a covered
patch and adversarial nudges.

Two tabs. *Accuracy under damage*: test accuracy against the strength of each kind of damage, on a sample
of the test set, computed when asked (a button, a progress bar with the time left, from the kinds' costs
measured on this server) and kept per model version
(``ui.model_cache``: for the shipped model once per server, for a session's own model in its session).
*One image*: a test image beside its damaged and adversarial copies with their predictions, and its
occlusion-sensitivity map. Only the open tab is computed. The numbers come from ``ann.lab.robustness``; nothing
here changes the model.
"""

import numpy as np
import streamlit as st

from ann.estimates import duration_text
from ann.lab.robustness import (
    PERTURBATIONS,
    accuracy_curve,
    add_noise,
    fgsm,
    level_seconds,
    occlude,
    occlusion_map,
    rotate,
    stroke,
    sweep_estimate,
)
from ann.train import as_inputs
from ui import charts, datasets, digits, downloads, phone, robustness_view, shell, state, waits
from ui.model_cache import per_model

shell.page_start()

SAMPLE_SIZES = (500, 1000, 2000, 5000, 10000)
DEFAULT_SAMPLE = 2000
SWEEP_SEED = robustness_view.SWEEP_SEED

st.title("Robustness lab")
model = state.show_model_caption(short=True, dataset_check=False)  # compact: the Run button in view on a phone
if model is None:
    st.stop()
datasets.require_digits_model(model, "The robustness lab")  # this page works on MNIST only
network = model.network
mnist = downloads.require_mnist("The robustness lab")
# short: on a phone the Run button stays on the first screen under a run's offer (the kinds are named below)
st.markdown(
    "A network's test accuracy is measured on clean, centred, upright digits. Here the test images are damaged "
    "on purpose, a little then more, to see where the active model breaks. The *adversarial* nudges are tiny "
    "changes to every pixel, chosen from the network's own gradient to fool it.")


def sample(network, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``n`` sample test images, scaled for ``network`` (shared by every sweep and visitor)."""
    return robustness_view.sample(folder=downloads.data_folder(), n=n, dtype=str(network.dtype), _mnist=mnist)


def sweep_point(network, kind: str, level: float, n: int) -> dict:
    """One level of one sweep on the ``n`` sample images (kept per model version and setting)."""
    images, labels = sample(network, n)
    return next(accuracy_curve(network, images, labels, kind, [level], seed=SWEEP_SEED))


# Tabs that rerun the page when switched: only the open one is computed and sent.
sweeps_tab, image_tab = st.tabs(["Accuracy under damage", "One image"], key="rb_tab", on_change="rerun")

if sweeps_tab.open:
    with sweeps_tab:
        kinds = st.pills("Kinds of damage", list(PERTURBATIONS), selection_mode="multi", default=list(PERTURBATIONS),
                         format_func=lambda k: PERTURBATIONS[k].title, key="rb_kinds")
        n = st.select_slider("Test images", SAMPLE_SIZES, value=DEFAULT_SAMPLE, key="rb_images",
                             help="A random sample of the 10,000 test images, the same one every time. More images "
                                  "give steadier figures and take longer.")
        run = st.button("Run the sweeps", key="rb_run", type="primary", icon=":material/play_arrow:",
                        disabled=not kinds)
        if run:
            jobs = [(kind, level) for kind in kinds for level in PERTURBATIONS[kind].levels]
            # each job weighted by its kind's measured cost (an adversarial level costs a backward pass more);
            # pressed before the page's calibration ended, it waits for the rest of it
            images = sample(network, n)
            costs = {kind: level_seconds(network, *images, kind, wait=False) for kind in kinds}
            if None in costs.values():
                with st.spinner(waits.MEASURING.capitalize()):
                    costs = {kind: level_seconds(network, *images, kind) for kind in kinds}
            estimate = sum(costs[kind] for kind, _ in jobs) * n
            bar = waits.WaitBar(f"Damaging and reading {n:,} test images", estimate)
            curves: dict[str, list[dict]] = {kind: [] for kind in kinds}
            done_seconds = 0.0
            for done, (kind, level) in enumerate(jobs):
                bar.update(done_seconds / estimate if estimate else done / len(jobs),
                           f"{PERTURBATIONS[kind].title} at {level:g} ({done + 1} of {len(jobs)})")
                curves[kind].append(per_model(model, sweep_point, kind, level, n))
                done_seconds += costs[kind] * n
            took = bar.done()
            st.session_state["rb_results"] = {"key": model.key, "n": n, "curves": curves, "seconds": took,
                                              "estimate": estimate}
        results = st.session_state.get("rb_results")
        if results is not None and results["key"] != model.key:
            st.info("The results below were measured on another model (the active model has changed since): run "
                    "the sweeps again for this one.", icon=":material/info:")
        if results is None:
            def say(seconds: float | None) -> None:
                when = (f"about {duration_text(seconds)} for these with the active model, at this server's speed "
                        "now (measured on a few images)" if seconds is not None
                        else f"how long it takes with the active model: {waits.MEASURING}")
                st.info(f"Pick the kinds of damage and the number of test images, then **Run the sweeps**: {when}.",
                        icon=":material/info:")

            # measured on a few images in the background the first time (ann.lab.robustness.level_seconds)
            waits.measured(lambda: sweep_estimate(network, *sample(network, n),
                                                  kinds, wait=False) if kinds else 0.0, say)
        else:
            st.markdown(f"**{results['n']:,} test images**, each kind of damage at several strengths. Blue: the share "
                        "read right; orange: the share whose answer changed from the undamaged image's.")
            if "seconds" in results:
                st.caption(f"Took {duration_text(results['seconds'])} (estimated "
                           f"{duration_text(results['estimate'])}).")
            shown = list(results["curves"].items())
            for start in range(0, len(shown), 2):
                columns = st.columns(2)
                for column, (kind, points) in zip(columns, shown[start:start + 2]):
                    ordered = sorted(points, key=lambda p: p["level"])
                    column.altair_chart(robustness_view.accuracy_chart(ordered, kind), width="stretch")
                    column.caption(robustness_view.summary(ordered, kind))
            st.caption("Noise: each pixel gets a random amount added (normal, of the given spread), then is kept "
                       "between paper and ink. Rotation: the seed's own rotation. Strokes: each step grows or wears "
                       "every stroke by a pixel. Square: paper of that size somewhere inside the digit's 20x20 box. "
                       "FGSM: each pixel moved by epsilon in the direction that raises the network's error, found from "
                       "its exact gradient with respect to the pixels.")
            if run:  # the curves come below the button (on a phone, below the fold): the button goes to the top
                phone.bring_into_view("rb_run", upper=0.25)

if image_tab.open:
    with image_tab:
        labels = mnist.test.labels
        filter_col, which_col = st.columns([5, 2], vertical_alignment="bottom")
        digit_filter = filter_col.segmented_control("Only images of", list(range(10)), key="rb_digit", wrap=True)
        candidates = np.arange(len(labels)) if digit_filter is None else np.flatnonzero(labels == digit_filter)
        position = which_col.number_input(f"Which one (1 to {len(candidates):,})", 1, len(candidates), value=1,
                                          key=f"rb_position_{digit_filter}")
        index = int(candidates[int(position) - 1])
        x = as_inputs(mnist.test.images[index][None, :], network.dtype)
        true_label = int(labels[index])
        outputs = network.query(x)[0]
        predicted = int(np.argmax(outputs))

        def read(image: np.ndarray) -> str:
            out = network.query(image.reshape(1, -1).astype(network.dtype))[0]
            digit = int(np.argmax(out))
            return f"read as {digit} ({out[digit]:.2f})" + ("" if digit == true_label else " ✗")

        st.subheader("Adversarial copy (FGSM)")
        epsilon = st.slider("Epsilon: how far each pixel moves (1 = from paper to ink)", 0.0, 0.5, 0.1, 0.01,
                            key="rb_epsilon")
        adversarial = fgsm(network, x, np.array([true_label]), epsilon)
        a, b, c, d = st.columns([1, 1, 1, 2])
        a.image(digits.digit_image(x[0], scale=4), width=112,
                caption=f"test {digits.image_number(index)}, a {true_label}: {read(x[0])}")
        b.image(robustness_view.difference_picture(x[0], adversarial[0], scale=4), width=112,
                caption=f"the nudge, ±{epsilon:.2f}: red up, blue down")
        c.image(digits.digit_image(adversarial[0], scale=4), width=112, caption=f"the copy: {read(adversarial[0])}")
        after = network.query(adversarial)[0]
        d.altair_chart(robustness_view.fit_width(charts.before_after_bars(outputs, after, height=150)), width="stretch")
        st.caption("The nudge pushes every pixel by the same amount, up or down, whichever raises the network's error "
                   "on the true digit (pixels already at paper cannot go lower). ✗ marks a wrong answer.")

        st.subheader("Everyday damage")
        rng = np.random.default_rng(SWEEP_SEED)
        columns = st.columns(4)
        sigma = columns[0].slider("Noise", 0.0, 1.0, 0.3, 0.05, key="rb_sigma")
        angle = columns[1].slider("Rotation (degrees)", -90, 90, 30, 5, key="rb_angle")
        steps = columns[2].slider("Strokes (thinner / thicker)", -3, 3, 1, 1, key="rb_steps")
        side = columns[3].slider("Square (pixels)", 0, 20, 8, 1, key="rb_side")
        damaged = [add_noise(x, sigma, rng), rotate(x, float(angle)), stroke(x, int(steps)), occlude(x, int(side), rng)]
        for column, image in zip(columns, damaged):
            column.image(digits.digit_image(image[0], scale=4), width=112, caption=read(image[0]))

        st.subheader("What its answer rests on")
        patch = st.segmented_control("Square of paper slid over it (pixels)", [2, 4, 6, 8], default=4, required=True,
                                     key="rb_patch")
        heat = occlusion_map(network, x[0], predicted, patch=int(patch))
        h1, h2 = st.columns([1, 3], vertical_alignment="center")
        h1.image(robustness_view.heat_overlay(x[0], heat, scale=5), width=140,
                 caption=f"output {predicted}: red where covering lowers it")
        h2.markdown(f"A {patch}x{patch} square of paper is put at every position of the image in turn, and the "
                    f"network's output for its answer, **{predicted}**, read each time. Each pixel is coloured by how "
                    "much covering it lowered that output on average (red), or raised it (blue). The red strokes are "
                    f"what the answer rests on. Largest drop: {heat.max():.3f}; largest rise: {-heat.min():.3f}.")
