"""Train: every hyperparameter of ``ann``, presets, Start and Stop, live progress and curves, runs, files.

How Start and Stop work with Streamlit's reruns:

- Start's callback leaves a request in the session; the script run that follows draws the settings
  disabled and Stop enabled, then trains inside that same run, redrawing the progress bar (at most four
  times a second) and the curves (once an epoch) in placeholders.
- Stop is an ordinary button: clicking it makes Streamlit interrupt the running script at its next
  Streamlit call (a progress redraw, within a fraction of a second) and start a new run. Each epoch's
  metrics were appended to the run's history as they arrived, and ``ann.train`` only updates the network
  between whole chunks, so the interrupted run is complete up to where it stopped. The new run (in
  ``app.py``, whatever page it shows) records it as stopped; leaving the page mid-run does the same.
"""

import functools
import math
import time
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
from ann.model_io import ModelFileError, model_to_bytes
from ann.train import train
from ui import charts, setup_link, shell, state

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
        "tr_elastic_share": float(tr.elastic_fraction), "tr_momentum": tr.momentum,
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
        elastic_fraction=float(ss.tr_elastic_share), momentum=float(ss.tr_momentum),
        weight_decay=float(ss.tr_decay), schedule=ss.tr_schedule, warmup_epochs=float(ss.tr_warmup),
        shuffle=bool(ss.tr_shuffle), seed=int(ss.tr_seed),
        limit=None if int(ss.tr_limit) >= 60_000 else int(ss.tr_limit))
    return network, training


def estimate_seconds(network: NetworkConfig, training: TrainConfig, records: int) -> float:
    """A rough training time on a small 2-core server, from the multiply-adds per sample.

    One sample at a time (the seed's way) runs at about 10 G multiply-adds a second with the BLAS
    rank-one path (the seed on all 60,000 records: about 9 s an epoch); batches of 16 or more at about
    15 G. Augmentation adds its own per-sample cost.
    """
    sizes = network.layer_sizes
    weights = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
    speed = 10e9 if training.batch_size == 1 else (8e9 if training.batch_size < 16 else 15e9)
    per_sample = 3 * weights / speed * (2 if network.dtype == "float64" else 1)
    if training.copies_per_record == 3:
        per_sample += 4e-6  # two sparse-matrix rotations per record, shared by its three samples
    elif training.augment == "random" and (training.rotate or training.shift or training.elastic_alpha):
        per_sample += 60e-6 if training.elastic_alpha else 25e-6
    samples = records * training.copies_per_record * training.epochs
    test_pass = 10_000 * weights / 15e9 * training.epochs
    return samples * per_sample + test_pass + 0.5


def duration(seconds: float) -> str:
    if seconds < 60:
        return f"{max(seconds, 1):.0f} s"
    if seconds < 3600:
        return f"{seconds // 60:.0f} min {seconds % 60:02.0f} s"
    return f"{seconds // 3600:.0f} h {seconds % 3600 // 60:02.0f} min"


def request_start() -> None:
    st.session_state["tr_start_requested"] = True


def link_base(name: str) -> dict[str, Any]:
    """What a shared link's settings are measured against: the preset, with the default record count."""
    return {**preset_values(name), "tr_limit": DEFAULT_RECORDS}


LINK_PARAMS = setup_link.train_params(TRAIN_RECORDS, BATCH_SIZES)


# --------------------------------------------------------------------------- page

st.title("Train")
mnist = state.require_mnist("The Train page")

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
    for warning in link_warnings:
        st.warning(warning, icon=":material/link_off:")

training_now = bool(st.session_state.pop("tr_start_requested", False))
locked = training_now  # while training, any widget change would interrupt it: settings are locked
keep = "session"  # settings survive a visit to another page

preset = st.segmented_control("Preset", list(PRESETS), format_func=lambda name: PRESETS[name].title,
                              key="tr_preset", on_change=apply_preset, disabled=locked, persist_state=keep)
if preset:
    modified = any(st.session_state.get(k) != v for k, v in preset_values(preset).items())
    st.caption(PRESETS[preset].description + (" *Settings changed since.*" if modified else "")
               + " Presets leave the number of training records to you.")
else:
    st.caption("Custom settings. Pick a preset to start from a known recipe.")

net_col, train_col, data_col = st.columns(3, gap="large")
with net_col:
    st.markdown("**Network**")
    layers = st.number_input("Hidden layers", 0, MAX_HIDDEN_LAYERS, step=1, key="tr_layers", disabled=locked,
                             persist_state=keep)
    for layer in range(int(layers)):
        st.number_input(f"Nodes in hidden layer {layer + 1}", 5, 1000, step=10, key=f"tr_hidden_{layer}",
                        disabled=locked, persist_state=keep)
    st.selectbox("Activation of the hidden layers", ACTIVATION_NAMES, key="tr_activation", disabled=locked,
                 persist_state=keep)
    st.selectbox("Loss", LOSS_NAMES, key="tr_loss", format_func=lambda v: f"{v}: {LOSS_TEXT[v]}",
                 disabled=locked, persist_state=keep)
    st.selectbox("Error rule", ERROR_RULE_NAMES, key="tr_error_rule", format_func=lambda v: f"{v}: {RULE_TEXT[v]}",
                 disabled=locked, persist_state=keep,
                 help="How a layer's error is shared out among the hidden nodes that caused it.")
    st.selectbox("Send back", PROPAGATE_NAMES, key="tr_propagate", format_func=lambda v: PROPAGATE_TEXT[v],
                 disabled=locked, persist_state=keep)
    st.checkbox("Bias nodes", key="tr_bias", disabled=locked, persist_state=keep, help="The seed has none.")

with train_col:
    st.markdown("**Training**")
    st.number_input("Learning rate", 0.0001, 5.0, step=0.01, format="%.4f", key="tr_lr", disabled=locked,
                    persist_state=keep)
    st.slider("Epochs", 1, 100, key="tr_epochs", disabled=locked, persist_state=keep)
    st.select_slider("Batch size", BATCH_SIZES, key="tr_batch", disabled=locked, persist_state=keep,
                     help="1 is the seed's way: one sample, one update.")
    st.slider("Momentum", 0.0, 0.99, step=0.01, key="tr_momentum", disabled=locked, persist_state=keep)
    st.number_input("Weight decay (L2)", 0.0, 0.01, step=0.0001, format="%.4f", key="tr_decay",
                    disabled=locked, persist_state=keep)
    st.selectbox("Learning-rate schedule", SCHEDULE_NAMES, key="tr_schedule", disabled=locked,
                 persist_state=keep)
    st.number_input("Warm-up epochs (cosine schedule)", 0.0, 10.0, step=0.5, key="tr_warmup",
                    disabled=locked or st.session_state.tr_schedule != "cosine", persist_state=keep)
    st.number_input("Random seed", 0, 2**32 - 1, step=1, key="tr_seed", disabled=locked, persist_state=keep)

with data_col:
    st.markdown("**Data**")
    st.select_slider("Training records", TRAIN_RECORDS, key="tr_limit", format_func=lambda v: f"{v:,}",
                     disabled=locked, persist_state=keep, help="The first N of the 60,000 training images.")
    st.checkbox("Shuffle every epoch", key="tr_shuffle", disabled=locked, persist_state=keep,
                help="The seed trains in file order.")
    st.slider("Rotation (degrees)", 0.0, 30.0, step=1.0, key="tr_rotate", disabled=locked, persist_state=keep,
              help="0 turns augmentation by rotation off.")
    st.radio("Augmentation", AUGMENT_NAMES, key="tr_augment", format_func=lambda v: f"{v}: {AUGMENT_TEXT[v]}",
             disabled=locked, persist_state=keep)
    random_off = locked or st.session_state.tr_augment != "random"
    st.slider("Shift (pixels)", 0, 4, key="tr_shift", disabled=random_off, persist_state=keep)
    st.slider("Elastic distortion strength", 0.0, 60.0, step=1.0, key="tr_elastic", disabled=random_off,
              persist_state=keep, help="Simard's elastic distortion; 34 is typical, 0 is off.")
    st.slider("Elastic smoothness (pixels)", 1.0, 8.0, step=0.5, key="tr_sigma", disabled=random_off,
              persist_state=keep)
    st.slider("Share distorted elastically", 0.0, 1.0, step=0.05, key="tr_elastic_share", disabled=random_off,
              persist_state=keep, help="The rest of each epoch's records are only rotated and shifted.")
    st.selectbox("Precision", DTYPE_NAMES, key="tr_dtype", disabled=locked, persist_state=keep,
                 help="float64 reproduces the seed bit for bit; float32 is twice as fast.")

try:
    network_config, train_config = configs_from_widgets()
    config_error = None
except ConfigError as exc:
    network_config = train_config = None
    config_error = str(exc)

records = int(st.session_state.tr_limit)
start_col, stop_col, info_col = st.columns([1, 1, 6], vertical_alignment="center")
start_col.button("Start", key="tr_start", type="primary", icon=":material/play_arrow:", on_click=request_start,
                 disabled=locked or config_error is not None, width="stretch")
stop_col.button("Stop", key="tr_stop", icon=":material/stop:", disabled=not training_now, width="stretch",
                help="Stops after the current chunk of about a thousand records; finished epochs are kept.")
if config_error:
    info_col.error(config_error)
elif train_config is not None:
    copies = train_config.copies_per_record
    info_col.caption(
        f"{'-'.join(map(str, network_config.layer_sizes))} network, {records:,} records"
        f"{f' x{copies} (rotations)' if copies > 1 else ''} x {train_config.epochs} epochs: about "
        f"{duration(estimate_seconds(network_config, train_config, records))} (a rough estimate; the "
        "progress bar shows the real time left).")

# The address bar always carries the settings that differ from the preset: a copied link opens this setup.
link_query = setup_link.to_query(st.session_state, link_base, LINK_PARAMS)
url_query = st.query_params.to_dict()
if {k: v for k, v in url_query.items() if k not in setup_link.RESERVED} != link_query:
    st.query_params.from_dict({**{k: v for k, v in url_query.items() if k in setup_link.RESERVED}, **link_query})
with st.expander("Copy link to this setup", icon=":material/link:"):
    st.code(setup_link.link(st.context.url, link_query), language=None, wrap_lines=True)
    st.caption("The address bar carries these settings too. Opening the link starts the Train page with them "
               "(the preset it names, then every setting changed since); the names are the command line's "
               "flags: `python -m ann train --lr 0.2` is `?lr=0.2`.")

live = st.container()  # progress and curves of the run in progress are drawn here

# --------------------------------------------------------------------------- runs of this session

all_runs = state.runs()
compare_options = [run.name for run in all_runs]
new_runs = st.session_state.pop(state.NEW_RUNS_KEY, [])
if "tr_compare" not in st.session_state:
    st.session_state["tr_compare"] = compare_options[-3:]
elif new_runs:
    st.session_state["tr_compare"] = [n for n in st.session_state["tr_compare"] if n in compare_options] + [
        n for n in new_runs if n in compare_options]
if all_runs:
    finished = all_runs[-1]
    if new_runs and finished.name in new_runs:
        accuracy = finished.test_accuracy
        result = f"{accuracy:.2%} on the test set" if accuracy is not None else "no whole epoch"
        verb = "finished" if finished.status == "finished" else f"stopped after {finished.epochs_done} epoch(s)"
        active_note = " It is now the active model." if finished.epochs_done >= 1 else ""
        st.success(f"{finished.name} {verb}: {result}.{active_note}", icon=":material/check_circle:")

    st.subheader("Runs in this session")
    active = state.active_model()
    table = [{
        "run": run.name, "status": run.status,
        "network": "-".join(map(str, run.network_config.layer_sizes)),
        "activation / loss": f"{run.network_config.activation} / {run.network_config.loss}",
        "learning rate": run.train_config.learning_rate, "batch": run.train_config.batch_size,
        "epochs": f"{run.epochs_done} of {run.train_config.epochs}", "records": run.records,
        "test accuracy": run.test_accuracy, "seconds": round(run.seconds, 1),
        "active": active is not None and run.model_uid == active.uid,
    } for run in all_runs]
    st.dataframe(table, hide_index=True, column_config={
        "test accuracy": st.column_config.NumberColumn(format="percent"),
        "records": st.column_config.NumberColumn(format="localized"),
        "active": st.column_config.CheckboxColumn("active")})
    compare = st.multiselect("Curves to compare", compare_options, key="tr_compare", disabled=locked,
                             persist_state=keep)
    shown = {run.name: run.history for run in all_runs if run.name in compare and run.history}
    if shown:
        accuracy_chart, loss_chart = charts.history_charts(shown)
        left, right = st.columns(2)
        left.altair_chart(accuracy_chart, width="stretch")
        right.altair_chart(loss_chart, width="stretch")
        st.caption("Solid: measured on the training samples as they were trained (augmented copies "
                   "included); dashed: the test set after each epoch.")

    with_weights = [run for run in all_runs if run.network is not None and run.epochs_done >= 1]
    if with_weights:
        pick_col, use_col, save_col = st.columns([2, 1, 1], vertical_alignment="bottom")
        picked_name = pick_col.selectbox("Run", [run.name for run in reversed(with_weights)], key="tr_pick",
                                         disabled=locked)
        picked = next(run for run in with_weights if run.name == picked_name)
        use_col.button("Make it the active model", key="tr_use", on_click=state.activate_run, args=(picked,),
                       disabled=locked or (active is not None and picked.model_uid == active.uid))
        save_col.download_button(
            "Download its model (.npz)", key="tr_save_run", on_click="ignore", disabled=locked,
            data=functools.partial(model_to_bytes, picked.network, picked.train_config, picked.history,
                                   picked.info()),
            file_name=f"ann-{picked.name.lower().replace(' ', '-')}.npz", mime="application/octet-stream")
        if len(all_runs) > len(with_weights):
            st.caption(f"Only the last {state.RUNS_KEEPING_WEIGHTS} runs keep their weights (and runs stopped "
                       "before their first epoch ended have none worth keeping).")

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
    st.session_state["tr_upload_result"] = ("success", f"{upload.name} is now the active model.")


st.subheader("Model files")
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
            "Download the active model (.npz)", key="tr_save_active", on_click="ignore", disabled=locked,
            icon=":material/download:", mime="application/octet-stream", file_name="ann-explorer-model.npz",
            data=functools.partial(model_to_bytes, active.network, active.train_config, active.history,
                                   active.info))
        st.caption("The weights, the configuration and the training history in one NumPy .npz file "
                   "(no pickle); `python -m ann evaluate` and `predict` read it too.")
with files_right:
    st.file_uploader("Upload a model file (.npz)", type=["npz"], key="tr_upload", on_change=load_uploaded_model,
                     max_upload_size=MAX_MODEL_UPLOAD_MB, disabled=locked)
    outcome = st.session_state.pop("tr_upload_result", None)
    if outcome is not None:
        (st.error if outcome[0] == "error" else st.success)(outcome[1])

# --------------------------------------------------------------------------- the run itself


def train_live(run: state.Run) -> None:
    """Train ``run.network`` here, drawing progress and curves into the ``live`` container."""
    config = run.train_config
    with live:
        st.subheader(f"{run.name}: training")
        bar = st.progress(0.0, text=f"Epoch 1 of {config.epochs}: starting...")
        curves = st.empty()
    started = time.perf_counter()
    last_draw = 0.0

    def progress(done: int, total: int) -> None:
        nonlocal last_draw
        now = time.perf_counter()
        if now - last_draw < state.UI_UPDATE_SECONDS and done < total:
            return
        last_draw = now
        overall = (run.epochs_done + done / total) / config.epochs
        elapsed = now - started
        left = elapsed * (1 - overall) / overall if overall > 0 else math.nan
        epoch_left = (elapsed / max(overall * config.epochs, 1e-9)) * (1 - done / total)
        bar.progress(min(done / total, 1.0),
                     text=f"Epoch {run.epochs_done + 1} of {config.epochs}: {done:,} of {total:,} samples, "
                          f"{duration(epoch_left)} left in this epoch, {duration(left)} in all")

    for metrics in train(run.network, mnist.train.images, mnist.train.labels, config,
                         mnist.test.images, mnist.test.labels, progress=progress):
        run.history.append(metrics)  # kept at once: a Stop from here on loses nothing of this epoch
        accuracy_chart, loss_chart = charts.history_charts({run.name: run.history}, epochs=config.epochs)
        with curves.container():
            left, right = st.columns(2)
            left.altair_chart(accuracy_chart, width="stretch")
            right.altair_chart(loss_chart, width="stretch")


if training_now and network_config is not None:
    n_records = min(records, len(mnist.train.labels))
    new_run = state.start_run(network_config, train_config, preset if preset else None, n_records)
    train_live(new_run)
    state.finish_run(new_run, "finished")
    st.rerun()
