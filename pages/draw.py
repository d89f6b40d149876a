"""Draw: write a digit and watch the network read it; upload digit images; teach it when it is wrong.

The drawing is turned into what the network sees the way MNIST itself was made (``ann.data.preprocess``: crop,
fit into 20x20, centre of mass to the middle of 28x28). Teaching changes this session's own copy of the
network only (``ui.state.own_network``); other sessions, and the shipped model, never see it.
"""

import contextlib
import hashlib

import numpy as np
import streamlit as st
from streamlit_drawable_canvas import st_canvas  # imported here only: it needs a running app

from ann.data.decode import MAX_IMAGE_BYTES, MAX_IMAGE_PIXELS, ImageError, NoDigitError
from ann.data.prepare import prepare_file, prepare_steps
from ann.data.preprocess import preprocess_for
from ui import charts, datasets, digits, robustness_view, shell, state
from ui.lazy import spare_pandas_for_plain_dicts

shell.page_start()
spare_pandas_for_plain_dicts()  # the canvas's settings are a plain dictionary: no pandas needed to send them

CANVAS_SIDE = 280  # ten screen pixels for each of the network's 28
STROKE_WIDTH = 24  # about 2.5 MNIST pixels once the digit is fitted into 20x20, as MNIST's pens were
MAX_UPLOADS = 30
DEFAULT_TEACH_TIMES = 10
WIDE_SCREEN = 900  # CSS pixels: from here on the answer sits in its own column beside the canvas

st.html(  # the prediction, large; on a narrow screen a compact answer above the canvas instead (only CSS:
    # applied to the page, nothing drawn)
    "<style>.st-key-prediction [data-testid='stMetricValue'] {font-size: 6rem; line-height: 1.1;}"
    ".st-key-answer_top {min-height: 3.2rem;}"
    ".st-key-answer_top p {font-size: 1.6rem; line-height: 1.3; margin: 0;}"
    ".st-key-answer_top strong {font-size: 2.4rem;}"
    f"@media (min-width: {WIDE_SCREEN}px) {{.st-key-answer_top {{display: none;}}}}</style>")

def draw_model(active: state.ActiveModel | None) -> state.ActiveModel | None:
    """The model this page reads drawings with: the active one when it was trained on digits, else the default
    shipped model (trained on MNIST), kept in the session so that teaching it lasts."""
    if active is None or active.dataset.digits:
        return active
    fallback = st.session_state.get("draw_digits_model")
    if fallback is None:
        fallback = state.default_model()
        st.session_state["draw_digits_model"] = fallback
    return fallback


st.title("Draw")
# short: the canvas and its answer fit a phone's screen; the dataset is this page's own matter (below)
active_model = state.show_model_caption(pick=True, short=True, dataset_check=False)
if active_model is None:
    st.stop()
active_data = datasets.active_tag()
# captions, not boxes: the canvas and its answer must still fit a phone's screen
if not active_data.digits:
    st.caption(f":material/dataset: The active dataset, {active_data.title}, is not handwritten digits: this page "
               "reads the digits you draw, with a model trained on digits (MNIST).")
model = draw_model(active_model)
if model is None:
    state.show_no_model()
    st.stop()
if model is not active_model:
    st.caption(f":material/swap_horiz: The active model was trained on {active_model.dataset.describe()}, not on "
               f"digits: your drawings are read by {model.name}, trained on MNIST.")
network = model.network
preprocess = preprocess_for(model.train_config)  # a model trained on every stroke width keeps the drawn width


def clear_canvas() -> None:
    """A canvas under a new key starts empty (and the old drawing's Teach result goes with it)."""
    st.session_state["canvas_generation"] = st.session_state.get("canvas_generation", 0) + 1
    st.session_state.pop("teach_result", None)


def fingerprint(x: np.ndarray) -> str:
    return hashlib.sha1(x.tobytes()).hexdigest()[:16]


def teach() -> None:
    """Train this session's network on the drawing, ``teach_times`` times, with the chosen digit."""
    drawing = st.session_state.get("draw_input")
    digit = st.session_state.get("teach_digit")
    if drawing is None or digit is None:
        return
    active = draw_model(state.active_model())
    net = state.own_network(active)  # the shared pretrained network is copied first
    x = drawing["x"]
    before = net.query(x)[0].copy()
    targets = net.targets(np.array([int(digit)]))
    learning_rate = active.train_config.learning_rate if active.train_config else 0.1
    for _ in range(int(st.session_state.get("teach_times", DEFAULT_TEACH_TIMES))):
        net.train(x, targets, learning_rate)
    active.version += 1
    active.info["taught"] = int(active.info.get("taught", 0)) + 1
    st.session_state["teach_result"] = {"fingerprint": drawing["fingerprint"], "digit": int(digit),
                                        "before": before, "after": net.query(x)[0].copy(),
                                        "times": int(st.session_state.get("teach_times", DEFAULT_TEACH_TIMES)),
                                        "learning_rate": learning_rate}


# Fixed widths side by side (wrapping onto new lines on a narrow screen): the canvas must not be squeezed.
row = st.container(horizontal=True, gap="large")
canvas_col = row.container(width=CANVAS_SIDE + 24)
seen_col = row.container(width=190)
outputs_col = row.container(width="stretch")
with canvas_col:
    # On a phone the columns wrap below the canvas: the answer goes here too, above it, so a user sees it
    # without scrolling away from what they draw (hidden on wide screens, which show it beside the canvas).
    answer_top = st.container(key="answer_top")
    st.markdown("**Write a digit**")
    with st.container(key="draw_canvas"):
        canvas = st_canvas(stroke_width=STROKE_WIDTH, stroke_color="#000000", height=CANVAS_SIDE,
                           width=CANVAS_SIDE, drawing_mode="freedraw", return_image_data=True,
                           key=f"canvas_{st.session_state.get('canvas_generation', 0)}")
    st.button("Clear", key="clear_canvas", icon=":material/ink_eraser:", on_click=clear_canvas)
    st.caption("With the mouse, or a finger on a touch screen; one digit, as large as the box allows.")

x = image = None
steps = []
problem = None
try:
    # image_data is None until something is drawn (and always under AppTest): an empty canvas.
    if canvas.image_data is not None:
        x, image, steps = prepare_steps(canvas.image_data, dtype=network.dtype, preprocess=preprocess)
except NoDigitError:
    pass
except ImageError as exc:
    problem = str(exc)

if x is None:
    st.session_state.pop("draw_input", None)
    with answer_top:
        st.markdown("Draw a digit below: the answer appears here.")
    with seen_col:
        if problem:
            st.error(f"This drawing could not be read: {problem}")
        else:
            st.info("Draw a digit on the canvas: the network reads it as soon as you lift the pen.",
                    icon=":material/draw:")
else:
    outputs = network.query(x)[0]
    predicted = int(np.argmax(outputs))
    st.session_state["draw_input"] = {"x": x, "fingerprint": fingerprint(x)}
    with answer_top:
        st.markdown(f"Reads **{predicted}** &nbsp;·&nbsp; confidence {outputs[predicted]:.2f}")
    with seen_col:
        st.markdown("**What the network sees**")
        st.image(digits.digit_image(image, scale=5), caption="28x28, fitted and centred as MNIST digits are")
        with st.container(key="prediction"):
            st.metric("Prediction", str(predicted))
        st.caption(f"Output node {predicted} is the most active: {outputs[predicted]:.2f}.")
    with outputs_col:
        st.markdown("**The ten output activations**")
        st.altair_chart(charts.output_bars(outputs), width="stretch")

    with st.expander("What the network sees, step by step", icon=":material/filter_frames:"):
        st.caption("How the drawing becomes the network's 784 inputs (`ann.data.preprocess`): MNIST's own steps (ink, "
                   "crop, fit into 20x20, centre of mass), and those that bring a digit from outside MNIST "
                   "nearer MNIST's look: uneven light and specks removed"
                   + (", and the stroke width brought into MNIST's range." if preprocess.stroke else
                      ". The stroke width is left as drawn: this model was trained on strokes of every width "
                      "(thinning them would cost it on real handwriting)."))
        # The user's own image as it is, but the dashboard's way round: dark ink on white.
        st.image([digits.step_picture(step.image, ink=step.name != "grey" or np.median(step.image[0]) < 128)
                  for step in steps],
                 caption=[f"{i}. {step.title}: {step.note}" for i, step in enumerate(steps, 1)], width=120)

    st.subheader("Teach")
    result = st.session_state.get("teach_result")
    if result is not None and result["fingerprint"] != fingerprint(x):
        result = None  # a Teach result belongs to the drawing it was made on
    st.caption("When the network reads your drawing wrong, pick the right digit and train the network on "
               "this drawing a few times, as the seed's last section does. Only this session's network "
               "changes; the Evaluate page shows what it did to the test scores.")
    pick_col, times_col, button_col = st.columns([4, 2, 1], vertical_alignment="bottom")
    with pick_col:
        st.segmented_control("The right digit", list(range(10)), key="teach_digit", wrap=True)
    with times_col:
        st.number_input("Times", 1, 100, value=DEFAULT_TEACH_TIMES, key="teach_times",
                        help="How many training steps on this drawing, at the model's learning rate.")
    with button_col:
        st.button("Teach", key="teach", type="primary", on_click=teach,
                  disabled=st.session_state.get("teach_digit") is None)
    if result is not None:
        before, after = int(np.argmax(result["before"])), int(np.argmax(result["after"]))
        b_col, a_col, chart_col = st.columns([1, 1, 4], vertical_alignment="center")
        b_col.metric("Before", str(before), help=f"output {result['before'][before]:.2f}")
        a_col.metric("After", str(after), help=f"output {result['after'][after]:.2f}")
        chart_col.altair_chart(charts.before_after_bars(result["before"], result["after"]), width="stretch")
        verdict = "now reads it right" if after == result["digit"] else "still reads it otherwise: teach it again"
        st.caption(f"Trained {result['times']} times on this drawing as a {result['digit']} at learning rate "
                   f"{result['learning_rate']:g}: the network {verdict}.")

# How sure is it, and how easily fooled: the current drawing's robustness (ui.robustness_view).
robustness_view.drawing_sensitivity(network, st.session_state.get("draw_input"))

st.divider()
st.subheader("Your own digit images")


def read_upload(upload) -> dict:
    """Prepare one uploaded file, once per file (canvas strokes rerun the page; uploads stay put).

    ann decodes one image at a time, at most 1024 pixels on the long side (``ann.data.decode.decode_image``), so
    30 phone photos cost the server no more memory than one; only the small result is kept."""
    cache = st.session_state.setdefault("upload_cache", {})
    key = (upload.file_id, preprocess)  # prepared again for a model that wants other steps
    if key not in cache:
        if upload.size > MAX_IMAGE_BYTES:
            cache[key] = {"error": f"{upload.name} is {upload.size / 2**20:.0f} MB; the limit is "
                                   f"{MAX_IMAGE_BYTES // 2**20} MB"}
        else:
            prepared = prepare_file(upload, upload.name, dtype=np.float32, preprocess=preprocess)
            cache[key] = ({"error": prepared.error} if prepared.error is not None
                          else {"x": prepared.x, "image": prepared.image})
    return cache[key]


# The file uploader is drawn once its section is opened, and from then on while it holds files (closed again,
# it keeps them, and their answers below stay): a first look does without the uploader's scripts.
upload_section = st.expander("Upload pictures of digits", key="draw_upload_open", on_change="rerun",
                             icon=":material/upload:")
uploads = None
if upload_section.open or st.session_state.get("draw_uploads"):
    with upload_section:
        uploads = st.file_uploader(
            "Upload one or several PNG or JPG images of digits", type=["png", "jpg", "jpeg"],
            accept_multiple_files=True, key="draw_uploads", max_upload_size=MAX_IMAGE_BYTES // 2**20,
            help=f"Dark ink on light paper or the reverse. Phone photos are fine: up to "
                 f"{MAX_IMAGE_PIXELS / 1e6:g} megapixels, turned upright as the phone recorded.")
if uploads:
    present = {(u.file_id, preprocess) for u in uploads}
    cache = st.session_state.get("upload_cache", {})
    for stale in set(cache) - present:
        del cache[stale]
    if len(uploads) > MAX_UPLOADS:
        st.warning(f"{len(uploads)} files: the first {MAX_UPLOADS} are shown.")
    new = sum((u.file_id, preprocess) not in cache for u in uploads[:MAX_UPLOADS])
    reading = st.spinner(f"Reading {new} new image{'s' if new != 1 else ''}...", show_time=True) if new else \
        contextlib.nullcontext()
    with reading:
        read = [(u.name, read_upload(u)) for u in uploads[:MAX_UPLOADS]]  # one at a time
    for _, entry in read:
        if "error" in entry:
            st.error(entry["error"])
    good = [(name, entry) for name, entry in read if "error" not in entry]
    if good:
        batch = np.concatenate([entry["x"] for _, entry in good]).astype(network.dtype)
        outputs = network.query(batch)
        st.caption("What the network sees in each image, and what it reads there (like the seed's 3x3 figure).")
        for row in range(0, len(good), 3):
            for col, (name, entry), out in zip(st.columns(3), good[row:row + 3], outputs[row:row + 3]):
                digit = int(np.argmax(out))
                col.image(digits.digit_image(entry["image"], scale=5), width=140,
                          caption=f"{name}: predicted {digit} ({out[digit]:.2f})")
