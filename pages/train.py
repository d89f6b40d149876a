"""Train: every hyperparameter of ``ann``, presets, Start, and the run in progress, live.

Start submits a job to the server's training service (``ann.service.worker``): a worker process trains it, outside
this page's script run, and writes every epoch to the run store (``ann.service.store``). So leaving the page, drawing
on Draw, pressing any widget or reloading never interrupts it; the settings stay free while it trains (the
next run can be prepared). The page puts what a first run needs first (preset, records, epochs, Start), then
the run's view, then every other setting, folded. The run's view redraws itself every second while the run is
queued, training or paused: progress, time left, Pause/Resume, Stop, its learning rate (changeable while
it trains) and its curves; when it ends, Continue trains more epochs of the same run. Every run is listed
on the Runs page.
"""

import dataclasses
import functools
from typing import Any

import streamlit as st

from ann.config import (
    ACTIVATION_NAMES,
    AUGMENT_NAMES,
    DTYPE_NAMES,
    ERROR_RULE_NAMES,
    LOSS_NAMES,
    PRESETS,
    PROPAGATE_NAMES,
    SCHEDULE_NAMES,
    ConfigError,
    NetworkConfig,
    TrainConfig,
)
from ann.estimates import duration_text
from ann.formats import count, format_accuracy
from ann.model_io import ModelFileError, model_to_bytes
from ann.models import shipped_for_preset
from ann.service.records import RunLimitError, RunStateError
from ui import datasets, phone, run_panels, setup_link, shell, state, waits, workspace

shell.page_start()

TRAIN_RECORDS = [500, 1000, 2000, 5000, 10_000, 20_000, 30_000, 60_000]
BATCH_SIZES = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024]
MAX_HIDDEN_LAYERS = 4
DEFAULT_RECORDS = 10_000  # a seed-classic epoch on these takes seconds, not a minute: interactive
MAX_MODEL_UPLOAD_MB = 50

LOSS_TEXT = {"mse": "squared error, sigmoid outputs (seed)", "cross_entropy": "cross-entropy, softmax outputs"}
RULE_TEXT = {"transpose": "Wᵀ·E, by weight (seed)", "equal": "split equally", "proportional": "by share of weight",
             "transpose_normalized": "Wᵀ·E / N"}
PROPAGATE_TEXT = {"error": "the error (seed's update)", "delta": "the slope-weighted error (exact gradient)"}
AUGMENT_TEXT = {"copies": "each record also at ±rotation (seed)", "random": "one random distortion a record"}


# --------------------------------------------------------------------------- settings <-> widgets


def preset_values(name: str) -> dict[str, Any]:
    """Widget values for a preset (the training-record count is left as the user set it)."""
    net, tr = PRESETS[name].network, PRESETS[name].train
    values = {
        "tr_layers": len(net.hidden_nodes), "tr_activation": net.activation, "tr_loss": net.loss,
        "tr_error_rule": net.error_rule, "tr_propagate": net.propagate, "tr_bias": net.bias,
        "tr_dtype": net.dtype, "tr_lr": tr.learning_rate, "tr_epochs": tr.epochs, "tr_batch": tr.batch_size,
        "tr_rotate": float(tr.rotate), "tr_augment": tr.augment, "tr_shift": tr.shift,
        "tr_elastic": float(tr.elastic_alpha), "tr_sigma": float(tr.elastic_sigma),
        "tr_elastic_share": float(tr.elastic_fraction), "tr_thickness": float(tr.thickness),
        "tr_contrast": float(tr.contrast), "tr_noise": float(tr.noise), "tr_momentum": tr.momentum,
        "tr_decay": tr.weight_decay, "tr_schedule": tr.schedule, "tr_warmup": float(tr.warmup_epochs),
        "tr_shuffle": tr.shuffle, "tr_seed": tr.seed,
    }
    values.update({f"tr_hidden_{i}": n for i, n in enumerate(net.hidden_nodes)})
    return values


def apply_preset() -> None:
    name = st.session_state.get("tr_preset")
    if name:
        st.session_state.update(preset_values(name))


def configs_from_widgets() -> tuple[NetworkConfig, TrainConfig]:
    """Both configurations from the widgets; ConfigError names a bad combination."""
    ss = st.session_state
    network = NetworkConfig(
        hidden_nodes=tuple(int(ss[f"tr_hidden_{i}"]) for i in range(int(ss.tr_layers))),
        activation=ss.tr_activation, loss=ss.tr_loss, error_rule=ss.tr_error_rule, propagate=ss.tr_propagate,
        bias=bool(ss.tr_bias), dtype=ss.tr_dtype)
    training = TrainConfig(
        learning_rate=float(ss.tr_lr), epochs=int(ss.tr_epochs), batch_size=int(ss.tr_batch),
        rotate=float(ss.tr_rotate), augment=ss.tr_augment, shift=int(ss.tr_shift),
        elastic_alpha=float(ss.tr_elastic), elastic_sigma=float(ss.tr_sigma),
        elastic_fraction=float(ss.tr_elastic_share), thickness=float(ss.tr_thickness),
        contrast=float(ss.tr_contrast), noise=float(ss.tr_noise), momentum=float(ss.tr_momentum),
        weight_decay=float(ss.tr_decay), schedule=ss.tr_schedule, warmup_epochs=float(ss.tr_warmup),
        shuffle=bool(ss.tr_shuffle), seed=int(ss.tr_seed),
        limit=None if int(ss.tr_limit) >= 60_000 else int(ss.tr_limit))
    return network, training


def start_run() -> None:
    """Start's callback: submit the run to the training service (it trains in a worker process)."""
    try:
        network, training = configs_from_widgets()
    except ConfigError as exc:
        st.session_state["tr_start_error"] = str(exc)
        return
    preset = st.session_state.get("tr_preset") or None
    tag = datasets.active_tag()
    # one output node per class of the active dataset (10 for MNIST and its siblings)
    network = dataclasses.replace(network, output_nodes=tag.n_classes)
    records = min(int(st.session_state.tr_limit), datasets.train_count(tag))
    try:
        run = workspace.service().submit(workspace.workspace_key(), network, training, preset=preset,
                                         records=records, dataset=tag)
    except (RunLimitError, RunStateError, ValueError) as exc:  # OwnDataError (a ValueError): the data is gone
        st.session_state["tr_start_error"] = str(exc)
        return
    st.session_state["tr_view"] = run.id
    st.session_state.setdefault(run_panels.WATCH_KEY, []).append(run.id)
    st.session_state["tr_just_started"] = True


def link_base(name: str) -> dict[str, Any]:
    """What a shared link's settings are measured against: the preset, with the default record count."""
    return {**preset_values(name), "tr_limit": DEFAULT_RECORDS}


LINK_PARAMS = setup_link.train_params(TRAIN_RECORDS, BATCH_SIZES)


# --------------------------------------------------------------------------- page

st.title("Train")
active_data = datasets.require_files("The Train page")
st.caption(f"Trains on **{active_data.title}** ({active_data.n_classes} classes: "
           f"{', '.join(active_data.class_names[:5])}{', ...' if active_data.n_classes > 5 else ''}; pick another "
           "dataset in the sidebar). The network gets one output node per class.")

if "tr_lr" not in st.session_state:  # first visit: the seed's values, a subset that trains in seconds
    st.session_state.update(preset_values("seed"))
    st.session_state.update({"tr_preset": "seed", "tr_limit": DEFAULT_RECORDS})
for layer in range(MAX_HIDDEN_LAYERS):
    st.session_state.setdefault(f"tr_hidden_{layer}", 100)
if "tr_link_read" not in st.session_state:  # a shared link's settings (?lr=0.2&hidden=100) apply once
    st.session_state["tr_link_read"] = True
    link_values, link_warnings = setup_link.from_query(st.query_params.to_dict(), link_base, LINK_PARAMS,
                                                       list(PRESETS), MAX_HIDDEN_LAYERS, (5, 1000))
    st.session_state.update(link_values)
    # what the link got wrong stays said while the learner is on this page (the page reruns: a widget, an
    # estimate arriving); the frame forgets it when they leave
    st.session_state["tr_link_warnings"] = link_warnings
for warning in st.session_state.get("tr_link_warnings", ()):
    st.warning(warning, icon=":material/link_off:")

keep = "session"  # settings survive a visit to another page

preset = st.segmented_control("Preset", list(PRESETS), format_func=lambda name: PRESETS[name].title,
                              key="tr_preset", on_change=apply_preset, persist_state=keep)
def shipped_figure(preset: str) -> str:
    """" The shipped model made this way (data/pretrained.npz) reads 96.76% on the test set.", quoted from the
    model file; empty when no shipped model was made with ``preset``."""
    made = shipped_for_preset(preset)
    described = state.shipped(made.name) if made is not None else None
    if described is None or described.test_accuracy is None:
        return ""
    return (f" The shipped model made this way ({made.label}) reads {format_accuracy(described.test_accuracy)} on "
            "the test set.")


if preset:
    modified = any(st.session_state.get(k) != v for k, v in preset_values(preset).items())
    st.caption(PRESETS[preset].description + shipped_figure(preset)
               + (" *Settings changed since.*" if modified else "")
               + " Presets leave the number of training records to you.")
else:
    st.caption("Custom settings. Pick a preset to start from a known recipe.")

# What a first run needs, first: on a phone the preset, the records, the epochs and Start fill the first screen,
# and the run's live view comes right below them; every other setting is folded underneath.
records_col, epochs_col = st.columns(2, gap="small")
records_col.select_slider("Training records", TRAIN_RECORDS, key="tr_limit", format_func=lambda v: f"{v:,}",
                          persist_state=keep, help=f"The first N of the {datasets.train_count(active_data):,} "
                                                   f"training images of {active_data.title}.")
epochs_col.slider("Epochs", 1, 100, key="tr_epochs", persist_state=keep)
# Start and the run in view, filled further down (the fragment needs the settings read first)
start_area = st.container()

all_settings = st.expander("All settings: network, training, data augmentation", icon=":material/tune:",
                           key="tr_settings")
net_col, train_col, data_col = all_settings.columns(3, gap="large")
with net_col:
    st.markdown("**Network**")
    layers = st.number_input("Hidden layers", 0, MAX_HIDDEN_LAYERS, step=1, key="tr_layers",
                             persist_state=keep)
    for layer in range(int(layers)):
        st.number_input(f"Nodes in hidden layer {layer + 1}", 5, 1000, step=10, key=f"tr_hidden_{layer}",
                        persist_state=keep)
    # Buttons and radio buttons, not drop-down lists: two to four choices each, all in view, one click; and a
    # drop-down list would cost every visitor's first look at this page some twenty more of Streamlit's
    # script files from the server (the page has radio buttons already).
    st.segmented_control("Activation of the hidden layers", ACTIVATION_NAMES, key="tr_activation", required=True,
                         persist_state=keep)
    st.radio("Loss", LOSS_NAMES, key="tr_loss", format_func=lambda v: f"{v}: {LOSS_TEXT[v]}",
             persist_state=keep)
    st.radio("Error rule", ERROR_RULE_NAMES, key="tr_error_rule", format_func=lambda v: f"{v}: {RULE_TEXT[v]}",
             persist_state=keep,
             help="How a layer's error is shared out among the hidden nodes that caused it.")
    st.radio("Send back", PROPAGATE_NAMES, key="tr_propagate", format_func=lambda v: PROPAGATE_TEXT[v],
             persist_state=keep)
    st.checkbox("Bias nodes", key="tr_bias", persist_state=keep, help="The seed has none.")

with train_col:
    st.markdown("**Training**")
    st.number_input("Learning rate", 0.0001, 5.0, step=0.01, format="%.4f", key="tr_lr",
                    persist_state=keep)
    st.select_slider("Batch size", BATCH_SIZES, key="tr_batch", persist_state=keep,
                     help="1 is the seed's way: one sample, one update.")
    st.slider("Momentum", 0.0, 0.99, step=0.01, key="tr_momentum", persist_state=keep)
    st.number_input("Weight decay (L2)", 0.0, 0.01, step=0.0001, format="%.4f", key="tr_decay",
                    persist_state=keep)
    st.segmented_control("Learning-rate schedule", SCHEDULE_NAMES, key="tr_schedule", required=True,
                         persist_state=keep)
    st.number_input("Warm-up epochs (cosine schedule)", 0.0, 10.0, step=0.5, key="tr_warmup",
                    disabled=st.session_state.tr_schedule != "cosine", persist_state=keep)
    st.number_input("Random seed", 0, 2**32 - 1, step=1, key="tr_seed", persist_state=keep)

with data_col:
    st.markdown("**Data**")
    st.checkbox("Shuffle every epoch", key="tr_shuffle", persist_state=keep,
                help="The seed trains in file order.")
    st.slider("Rotation (degrees)", 0.0, 30.0, step=1.0, key="tr_rotate", persist_state=keep,
              help="0 turns augmentation by rotation off.")
    st.radio("Augmentation", AUGMENT_NAMES, key="tr_augment", format_func=lambda v: f"{v}: {AUGMENT_TEXT[v]}",
             persist_state=keep)
    random_off = st.session_state.tr_augment != "random"
    st.slider("Shift (pixels)", 0, 4, key="tr_shift", disabled=random_off, persist_state=keep)
    st.slider("Elastic distortion strength", 0.0, 60.0, step=1.0, key="tr_elastic", disabled=random_off,
              persist_state=keep, help="Simard's elastic distortion; 34 is typical, 0 is off.")
    st.slider("Elastic smoothness (pixels)", 1.0, 8.0, step=0.5, key="tr_sigma", disabled=random_off,
              persist_state=keep)
    st.slider("Share distorted elastically", 0.0, 1.0, step=0.05, key="tr_elastic_share", disabled=random_off,
              persist_state=keep, help="The rest of each epoch's records are only rotated and shifted.")
    st.slider("Stroke thickness (± pixels)", 0.0, 3.0, step=0.25, key="tr_thickness", disabled=random_off,
              persist_state=keep, help="Each record's strokes thinned or thickened by up to this much: "
                                       "real handwriting's pens are thicker or finer than MNIST's. 0 is off.")
    st.slider("Edge contrast", 0.0, 2.0, step=0.1, key="tr_contrast", disabled=random_off, persist_state=keep,
              help="Stroke edges made softer or harder (a power from 1/(1+c) to 1+c): blurred photos, "
                   "bilevel scans. 0 is off.")
    st.slider("Noise", 0.0, 0.3, step=0.01, key="tr_noise", disabled=random_off, persist_state=keep,
              help="Gaussian noise of a standard deviation up to this on every pixel (0..1 scale). 0 is off.")
    st.segmented_control("Precision", DTYPE_NAMES, key="tr_dtype", required=True, persist_state=keep,
                         help="float64 reproduces the seed bit for bit; float32 is twice as fast.")

try:
    network_config, train_config = configs_from_widgets()
    network_config = dataclasses.replace(network_config, output_nodes=active_data.n_classes)
    config_error = None
except ConfigError as exc:
    network_config = train_config = None
    config_error = str(exc)

# The address bar always carries the settings that differ from the preset: a copied link opens this setup.
link_query = setup_link.to_query(st.session_state, link_base, LINK_PARAMS)
url_query = st.query_params.to_dict()
if {k: v for k, v in url_query.items() if k not in setup_link.RESERVED} != link_query:
    st.query_params.from_dict({**{k: v for k, v in url_query.items() if k in setup_link.RESERVED}, **link_query})
# drawn only when opened: its code block needs a syntax highlighter as large as the rest of the page's scripts
copy_link = st.expander("Copy link to this setup", icon=":material/link:", key="tr_copy_link", on_change="rerun")
if copy_link.open:
    with copy_link:
        st.code(setup_link.link(st.context.url, link_query), language=None, wrap_lines=True)
        st.caption("The address bar carries these settings too. Opening the link starts the Train page with them "
                   "(the preset it names, then every setting changed since); the names are the command line's "
                   "flags: `python -m ann train --lr 0.2` is `?lr=0.2`.")

# --------------------------------------------------------------------------- Start, and the run in view


@st.fragment
def start_and_runs(network_config: NetworkConfig | None, train_config: TrainConfig | None,
                   config_error: str | None, records: int, hidden: str | None) -> None:
    """Start and the runs below it, one fragment: pressing Start (or picking another run to view) reruns
    only this part, not the settings, the sidebar and the page's frame. When a classroom presses Start
    at once, each press is a small script run, so the server stays free for everyone else
    (bench/classroom_training.py).
    ``hidden``: the run the page's status bar left out when the whole page last ran."""
    start_col, info_col = st.columns([1, 7], vertical_alignment="center")
    start_col.button("Start", key="tr_start", type="primary", icon=":material/play_arrow:", on_click=start_run,
                     disabled=config_error is not None, width="stretch")
    if config_error:
        info_col.error(config_error)
    elif train_config is not None:
        copies = train_config.copies_per_record
        plan = (f"{'-'.join(map(str, network_config.layer_sizes))} network, {records:,} records"
                f"{f' x{copies} (rotations)' if copies > 1 else ''} x {train_config.epochs} epochs")
        background = ("It trains on the server in the background: you can leave this page, and the settings stay "
                      "free for the next run.")

        def say(seconds: float | None) -> None:
            when = (f"about {duration_text(seconds)} from Start to the end, at this server's speed now (if no other "
                    f"run waits)" if seconds is not None else f"how long from Start to the end: {waits.MEASURING}")
            st.caption(f"{plan}: {when}. {background}")

        with info_col:
            # measured on this server for this network and these settings, as its workers train (ann.estimates),
            # in the background the first time
            waits.measured(lambda: workspace.service().run_seconds(
                network_config, train_config, records, datasets.test_count(datasets.active_tag()), wait=False), say)
    start_error = st.session_state.pop("tr_start_error", None)
    if start_error:
        st.error(start_error, icon=":material/block:")
    my_runs = workspace.my_runs()
    # the first Start of a workspace reruns only this fragment: the browser keeps the workspace's key from now
    # (a reload right away finds the run), not from the page's next whole run
    workspace.keep_cookie(my_runs, list, sidebar=False)  # no own datasets asked here
    # a visitor without runs has nothing to lose to housekeeping: no second query for them
    for run, why in workspace.store().removal_preview(workspace.workspace_key()) if my_runs else []:
        if "runs" in why or "MB" in why:
            st.caption(f":material/delete_sweep: Starting a run removes **{run.name}** ({run.status_text}, "
                       f"{count(run.epochs_done, 'epoch')}) first: {why}, the oldest ended runs going first. Download "
                       "its model on the Runs page to keep it.")

    run_panels.show_news()
    if not my_runs:
        st.caption("Your runs appear here when you press Start, and on the Runs page. They train on this server "
                   "in the background: leave the page, draw on Draw, come back; a reload keeps them too.")
        return
    ids = [run.id for run in my_runs]
    if st.session_state.get("tr_view") not in ids:
        st.session_state["tr_view"] = ids[-1]
    view = st.session_state["tr_view"]
    if view != hidden and any(run.active and run.id != view for run in my_runs):
        # another run of yours is training: the status bar at the top must now show it (or leave this one
        # out), and that bar belongs to the whole page
        st.rerun(scope="app")
    names = {run.id: f"{run.name}: {'-'.join(map(str, run.network_config.layer_sizes))}, "
                     f"{run.records:,} records"
                     + ("" if run.dataset == "mnist" else f" of {run.dataset_title}") for run in my_runs}
    st.subheader("Your runs")
    pick_col, link_col = st.columns([3, 1], vertical_alignment="bottom")
    pick_col.selectbox("Run", list(reversed(ids)), key="tr_view", format_func=names.get,
                       help="The run shown below. Every run of yours is on the Runs page: a table, curves side "
                            "by side, downloads, share links.")
    link_col.page_link("pages/runs.py", label="All runs", icon=":material/table_chart:")
    run_panels.train_view(view)
    if st.session_state.pop("tr_just_started", False):
        phone.bring_into_view("tr_live")  # on a phone the live view starts below the fold


with start_area:
    start_and_runs(network_config, train_config, config_error,
                   min(int(st.session_state.tr_limit), datasets.train_count(active_data)),
                   st.session_state.get("tr_view"))

# --------------------------------------------------------------------------- model files


def load_uploaded_model() -> None:
    upload = st.session_state.get("tr_upload")
    if upload is None:
        return
    if upload.size > MAX_MODEL_UPLOAD_MB * 2**20:
        st.session_state["tr_upload_result"] = ("error", f"{upload.name} is {upload.size / 2**20:.0f} MB: "
                                                f"too large for a model file of ours.")
        return
    try:
        model = state.model_from_upload(upload.getvalue(), upload.name)
    except ModelFileError as exc:
        st.session_state["tr_upload_result"] = ("error", f"Not loaded: {exc}")
        return
    state.set_active_model(model)
    problem = datasets.model_mismatch(model)
    st.session_state["tr_upload_result"] = ("warning" if problem else "success",
                                            f"{upload.name} is now the active model." + (f" {problem}" if problem
                                                                                          else ""))


# Opened on demand: a file uploader and a download button are a good part of a first look's cost
# (bench/classroom.py).
model_files = st.expander("Model files: download the active model, or upload one",
                          icon=":material/folder_open:", key="tr_model_files", on_change="rerun")
if model_files.open:
    with model_files:
        files_left, files_right = st.columns(2, gap="large")
        with files_left:
            active = state.active_model()
            if active is None:
                st.caption("No active model to download yet.")
            else:
                headline, sentence = state.describe_model(active)
                st.markdown(f"**Active model**: {headline}.")
                st.caption(sentence)
                st.download_button(
                    "Download the active model (.npz)", key="tr_save_active", on_click="ignore",
                    icon=":material/download:", mime="application/octet-stream", file_name="ann-explorer-model.npz",
                    data=functools.partial(model_to_bytes, active.network, active.train_config, active.history,
                                           active.info, active.dataset))
                st.caption("The weights, the configuration and the training history in one NumPy .npz file "
                           "(no pickle); `python -m ann evaluate` and `predict` read it too.")
        with files_right:
            st.file_uploader("Upload a model file (.npz)", type=["npz"], key="tr_upload", on_change=load_uploaded_model,
                             max_upload_size=MAX_MODEL_UPLOAD_MB)
            outcome = st.session_state.pop("tr_upload_result", None)
            if outcome is not None:
                {"error": st.error, "warning": st.warning}.get(outcome[0], st.success)(outcome[1])
