"""Runs: every training run of this workspace, in the spirit of TensorBoard's HParams dashboard.

One table (sortable by any column, filterable), the curves of the runs you pick side by side, a setting
against test accuracy, and for any run: make it the active model, download its model file, continue it,
pause or stop it, share it, delete it. A share link (``/runs?share=...``) opens one run read-only for
anyone who has it: its curves, its configuration and "use this model", nothing that changes it.
"""

from __future__ import annotations

import functools
import time

import altair as alt
import pandas as pd
import streamlit as st

from ann.config import PRESETS
from ann.estimates import duration_text
from ann.formats import ACCURACY_FORMAT, format_accuracy
from ann.service.records import CheckpointError, RunInfo, RunNotFound, RunStateError
from ui import charts, run_panels, shell, state, workspace

shell.page_start()

# A setting of a run, for the scatter chart: (label, value of a run, numeric?, log scale?)
SETTINGS = {
    "learning rate": (lambda r: r.train_config.learning_rate, True, True),
    "hidden nodes (first layer)": (lambda r: r.network_config.hidden_nodes[0] if r.network_config.hidden_nodes
                                   else 0, True, False),
    "hidden layers": (lambda r: len(r.network_config.hidden_nodes), True, False),
    "batch size": (lambda r: r.train_config.batch_size, True, True),
    "epochs": (lambda r: r.epochs_done, True, False),
    "training records": (lambda r: r.records, True, True),
    "momentum": (lambda r: r.train_config.momentum, True, False),
    "activation": (lambda r: r.network_config.activation, False, False),
    "error rule": (lambda r: r.network_config.error_rule, False, False),
    "augmentation": (lambda r: f"{r.train_config.augment}, {r.train_config.rotate:g}°", False, False),
    "precision": (lambda r: r.network_config.dtype, False, False),
}


def layers(run: RunInfo) -> str:
    return "-".join(str(n) for n in run.network_config.layer_sizes)


def when(timestamp: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(timestamp)) if timestamp else "-"


def config_rows(run: RunInfo) -> list[dict[str, str]]:
    net, tr = run.network_config, run.train_config
    rows = [("network", f"{layers(run)}, {net.activation} hidden, "
                        f"{'sigmoid/mse' if net.loss == 'mse' else 'softmax/cross-entropy'} output"),
            ("error rule, sent back", f"{net.error_rule}, {net.propagate}"), ("bias nodes", "yes" if net.bias else "no"),
            ("precision", net.dtype), ("learning rate", f"{tr.learning_rate:g}"
                                       + (f" (now {run.learning_rate:g})" if run.learning_rate != tr.learning_rate
                                          else "")),
            ("epochs", f"{run.epochs_done} of {tr.epochs}"), ("batch size", str(tr.batch_size)),
            ("momentum, weight decay", f"{tr.momentum:g}, {tr.weight_decay:g}"),
            ("schedule", tr.schedule + (f", {tr.warmup_epochs:g} warm-up epochs" if tr.schedule == "cosine" else "")),
            ("augmentation", f"{tr.augment}: rotation {tr.rotate:g}°, shift {tr.shift}, elastic {tr.elastic_alpha:g}"
                             f" (sigma {tr.elastic_sigma:g}, share {tr.elastic_fraction:g})"),
            ("records, shuffled", f"{run.records:,}, {'yes' if tr.shuffle else 'no'}"), ("random seed", str(tr.seed)),
            ("preset", PRESETS[run.preset].title if run.preset in PRESETS else "none"),
            ("started from", "the command line" if run.source == "cli" else "the Train page"),
            ("created", when(run.created)), ("training time", duration_text(run.train_seconds))]
    return [{"setting": k, "value": v} for k, v in rows]


def use_shared(run: RunInfo) -> None:
    """A callback, so the sidebar (drawn before the page) already names the new model."""
    try:
        state.activate_run(run, workspace.store(), shared=True)
        st.session_state["rn_shared_outcome"] = ("success", "The shared model is now your active model, in your "
                                                 "session only.")
    except CheckpointError as exc:
        st.session_state["rn_shared_outcome"] = ("error", str(exc))


def shared_view(token: str) -> None:
    """One run, read-only, for whoever has its share link."""
    store = workspace.store()
    try:
        run = store.get_shared(token)
    except RunNotFound:
        st.error("This share link was not found: it may have been withdrawn by its owner, or mistyped.",
                 icon=":material/link_off:")
        return
    history = store.history(run)
    st.subheader(f"A shared run: {layers(run)} {run.network_config.activation}")
    st.caption(f"Read-only: someone shared this run with you. It {run_panels.status_text(run)}; test accuracy "
               f"{run_panels.accuracy_text(run)}. You can look at it and use its model in your own session; "
               "nothing you do here changes it.")
    if history:
        run_panels.run_charts(run, history, store.events(run), key="shared", points=store.points(run))
    st.table({row["setting"]: row["value"] for row in config_rows(run)})
    if run.has_model:
        st.button("Use this model", key="rn_use_shared", type="primary", icon=":material/input:",
                  on_click=use_shared, args=(run,),
                  help="A copy of its network becomes your active model (Draw, Evaluate, Inside use it).")
        outcome = st.session_state.pop("rn_shared_outcome", None)
        if outcome is not None:
            (st.success if outcome[0] == "success" else st.error)(outcome[1])
    else:
        st.caption("It has no finished epoch yet, so no model to use.")


def run_actions(run: RunInfo) -> None:
    """What can be done with one of your runs."""
    store = workspace.store()
    key = workspace.workspace_key()
    active = state.active_model()
    is_active = active is not None and getattr(active, "run_id", None) == run.id and active.source == "run"
    use_col, save_col, share_col, delete_col = st.columns(4, vertical_alignment="bottom")
    if use_col.button("Make it the active model", key=f"rn_use_{run.id}", icon=":material/input:",
                      disabled=not run.has_model or is_active, width="stretch",
                      help="Draw, Evaluate and Inside then use this run's network."):
        try:
            state.activate_run(run, store)
            st.rerun()
        except CheckpointError as exc:
            st.error(str(exc))
    save_col.download_button(
        "Download its model (.npz)", key=f"rn_save_{run.id}", on_click="ignore", icon=":material/download:",
        disabled=not (run.has_model and (store.folder(run.id) / "resume.npz").exists()), width="stretch",
        data=functools.partial(store.model_bytes, run), file_name=f"ann-{run.name.lower().replace(' ', '-')}.npz",
        mime="application/octet-stream")
    if run.share:
        if share_col.button("Stop sharing", key=f"rn_unshare_{run.id}", icon=":material/link_off:", width="stretch"):
            store.unshare(key, run.id)
            st.rerun()
    elif share_col.button("Share a read-only link", key=f"rn_share_{run.id}", icon=":material/share:",
                          width="stretch"):
        store.share(key, run.id)
        st.rerun()
    with delete_col.popover("Delete", icon=":material/delete:", width="stretch", disabled=run.held_by_worker,
                            help="Stop it first" if run.held_by_worker else None):
        st.markdown(f"Delete **{run.name}**, its curves and its checkpoints? This cannot be undone.")
        if st.button(f"Delete {run.name}", key=f"rn_delete_{run.id}", type="primary"):
            try:
                store.delete(key, run.id)
                st.session_state.pop("rn_pick", None)
                st.rerun()
            except (RunStateError, RunNotFound) as exc:
                st.session_state["runs_refusal"] = str(exc)
                st.rerun()
    if run.share:
        base = (st.context.url or "").split("?")[0] or "/runs"
        st.code(f"{base}?share={run.share}", language=None, wrap_lines=True)
        st.caption("Anyone with this link sees this run read-only (its curves and settings) and can use a copy "
                   "of its model; they cannot change, continue or delete it. Stop sharing withdraws the link.")
    if run.active:
        left, right = st.columns(2, gap="large", vertical_alignment="bottom")
        with left:
            run_panels.control_buttons(run, "rn")
        with right:
            run_panels.learning_rate_control(run, "rn")
    else:
        run_panels.continue_control(run, "rn")


st.title("Runs")
share_token = st.query_params.get("share")
if share_token:
    shared_view(share_token)
    st.stop()

store = workspace.store()
key = workspace.workspace_key()
for notice in store.notices:
    st.warning(notice, icon=":material/database:")
run_panels.show_refusal()
run_panels.show_news()
runs = store.list_runs(key)
asked = st.query_params.get("run")
if asked is not None and asked not in {run.id for run in runs}:
    st.warning("That run was not found in your workspace.", icon=":material/search_off:")
    del st.query_params["run"]

if not runs:
    st.info("No runs yet. Start one on the Train page: it trains on this server in the background, and every "
            "run of this browser is listed here, even after a reload.", icon=":material/info:")
    st.page_link("pages/train.py", label="Train a network", icon=":material/model_training:")
else:
    # ------------------------------------------------------------------- the table
    filter_col, text_col = st.columns([2, 3], vertical_alignment="bottom")
    which = filter_col.segmented_control("Show", ["all", "active", "ended"], default="all", key="rn_show",
                                         format_func=lambda v: {"all": "All", "active": "Queued or training",
                                                                "ended": "Ended"}[v]) or "all"
    needle = text_col.text_input("Filter", key="rn_filter", placeholder="network, activation, preset, dataset, e.g. 800 or relu")
    shown = [run for run in runs if (which == "all" or (which == "active") == run.active) and (
        not needle or needle.lower() in f"{run.name} {run.status_text} {layers(run)} {run.network_config.activation} "
                                        f"{run.network_config.loss} {run.preset or ''} {run.dataset_title}".lower())]
    accuracies = {run.id: run.best_accuracy for run in runs}
    # the columns a reader compares first come first: on a phone the rest scroll sideways, the run's name pinned
    table = [{
        "run": run.name, "test accuracy": run.test_accuracy, "status": run.status_text, "network": layers(run),
        "epochs": run.epochs_done, "of": run.target_epochs, "best": accuracies[run.id],
        "dataset": run.dataset_title, "activation / loss": f"{run.network_config.activation} / {run.network_config.loss}",
        "preset": PRESETS[run.preset].title if run.preset in PRESETS else "",
        "learning rate": run.learning_rate, "batch": run.train_config.batch_size, "records": run.records,
        "training s": round(run.train_seconds, 1),
        "created": when(run.created), "from": "CLI" if run.source == "cli" else "Train page",
        "trained on": run.trained_where,
    } for run in reversed(shown)]
    st.dataframe(table, hide_index=True, width="stretch", key="rn_table", column_config={
        "run": st.column_config.TextColumn("run", pinned=True),
        "test accuracy": st.column_config.NumberColumn("test accuracy", format="percent",
                                                       help="after the last whole epoch"),
        "best": st.column_config.NumberColumn("best", format="percent", help="the best epoch's test accuracy"),
        "records": st.column_config.NumberColumn(format="localized"),
        "learning rate": st.column_config.NumberColumn(format="%g"),
    })
    st.caption(f"{len(shown)} of {len(runs)} runs. Click a column's header to sort by it.")

    # ------------------------------------------------------------------- curves side by side
    with_history = [run for run in runs if run.epochs_done >= 1]
    if with_history:
        names = {run.name: run for run in with_history}
        st.session_state.setdefault("rn_compare", [run.name for run in with_history[-3:]])
        st.session_state["rn_compare"] = [n for n in st.session_state["rn_compare"] if n in names]
        compare = st.multiselect("Curves side by side", list(names), key="rn_compare")
        if compare:

            histories = {name: store.history(names[name]) for name in compare}
            events = {name: store.events(names[name]) for name in compare}
            points = {name: store.points(names[name]) for name in compare}
            per_epoch = {name: names[name].records * names[name].train_config.copies_per_record for name in compare}
            accuracy_chart, loss_chart = charts.history_charts(histories, events=events, points=points,
                                                               per_epoch=per_epoch)
            left, right = st.columns(2)
            left.altair_chart(accuracy_chart, width="stretch")
            right.altair_chart(loss_chart, width="stretch")
            st.caption("Solid: the training samples as they were trained (augmented copies included), every 2% of an "
                       "epoch; dotted: a fixed slice of the test set, scored as often; dashed, with dots: the whole "
                       "test set after each epoch. Purple rules: the learning rate changed there.")

        # --------------------------------------------------------------- a setting against accuracy
        if len(with_history) >= 2:

            setting = st.selectbox("Test accuracy against", list(SETTINGS), key="rn_setting")
            value_of, numeric, log = SETTINGS[setting]
            frame = pd.DataFrame([{"run": run.name, "value": value_of(run), "test accuracy": run.test_accuracy,
                                   "activation": run.network_config.activation, "network": layers(run)}
                                  for run in with_history if run.test_accuracy is not None])
            x = (alt.X("value:Q", title=setting, scale=alt.Scale(type="log" if log else "linear", zero=False))
                 if numeric else alt.X("value:N", title=setting, axis=alt.Axis(labelAngle=0)))
            scatter = alt.Chart(frame).mark_circle(size=110, opacity=0.85).encode(
                x=x, y=alt.Y("test accuracy:Q", scale=alt.Scale(zero=False), axis=alt.Axis(format=".1%")),
                color=alt.Color("activation:N", scale=alt.Scale(scheme="tableau10")),
                tooltip=["run:N", "network:N", alt.Tooltip("value", title=setting),
                         alt.Tooltip("test accuracy:Q", format=ACCURACY_FORMAT)],
            ).properties(height=280)
            st.altair_chart(scatter, width="stretch")

    # ------------------------------------------------------------------- one run
    st.subheader("One run")
    by_id = {run.id: run for run in runs}
    if asked in by_id:
        st.session_state["rn_pick"] = asked
    if st.session_state.get("rn_pick") not in by_id:
        st.session_state["rn_pick"] = runs[-1].id
    picked_id = st.selectbox("Run", list(reversed(list(by_id))), key="rn_pick",
                             format_func=lambda i: f"{by_id[i].name}: {layers(by_id[i])}, {by_id[i].status_text}")
    picked = by_id[picked_id]
    best = format_accuracy(picked.best_accuracy)
    st.markdown(f"**{picked.name}**: {run_panels.status_text(picked)}; test accuracy "
                f"{run_panels.accuracy_text(picked)} (best epoch {best}).")
    if picked.trained_where:
        st.caption(f"Trained on {picked.trained_where}.")
    if picked.message:
        st.caption(picked.message)
    run_actions(picked)
    history, points = store.history(picked), store.points(picked)
    if history or points:
        run_panels.run_charts(picked, history, store.events(picked), key="picked", points=points)
    if history:
        with st.container(horizontal=True, gap="medium"):
            st.page_link("pages/inside.py", label="Its weights and mistakes, epoch by epoch",
                         icon=":material/neurology:", query_params={"run": picked.id})
            st.page_link("pages/map.py", label="Its hidden-layer map, epoch by epoch",
                         icon=":material/scatter_plot:", query_params={"run": picked.id})
    else:
        st.caption("No finished epoch yet.")
    with st.expander(f"{picked.name}'s settings", icon=":material/tune:", expanded=True):
        st.table({row["setting"]: row["value"] for row in config_rows(picked)})

    # ------------------------------------------------------------------- housekeeping
    limits = store.limits
    used = store.disk_used(key)
    coming = store.removal_preview(key)
    st.caption(f"Your workspace keeps at most {limits.max_runs} runs and {limits.max_megabytes:g} MB of checkpoints "
               f"(now {len(runs)} runs, {used / 1e6:.1f} MB); a run is removed {limits.max_age_days:g} days after "
               f"it ends. The oldest ended runs go first. At most {limits.max_active} runs of yours can be queued "
               "or training at once.")
    for run, why in coming:
        st.caption(f":material/delete_sweep: **{run.name}** will be removed "
                   + ("when you start another run" if "days" not in why else "within a day") + f": {why}.")

with st.expander("Your workspace: these runs on another device", icon=":material/key:"):
    base = (st.context.url or "").split("?")[0] or "/runs"
    st.caption("Your runs belong to this browser (a cookie keeps a private key). To open them in another browser "
               "or device, open this private link there; keep it to yourself, as anyone who has it can control "
               "and delete your runs. To share one run read-only, use its share link instead.")
    st.code(f"{base}?workspace={key}", language=None, wrap_lines=True)
    st.caption(f"The command line reads them too: `python -m ann runs list --workspace {key}`.")
