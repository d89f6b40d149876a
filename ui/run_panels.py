"""Training runs on the pages: the small live status on every page, the Train page's full view, controls.

A run trains in a worker process (``ann.service.worker``); these panels only read the run store and send requests
(pause, resume, stop, a new learning rate, continue). They redraw themselves with ``st.fragment(run_every=...)``
while a run of this workspace is queued, training or paused, so the rest of the page is not rerun; when a
run ends they rerun the whole page once (so the sidebar's active model, the run lists and the Draw page
follow) and stop polling.
"""

from __future__ import annotations

import math
import threading
from typing import Any

import streamlit as st

from ann.config import ConfigError
from ann.estimates import duration_text
from ann.formats import count, format_accuracy
from ann.live_points import LiveView
from ann.service.records import ACTIVE_STATUSES, CheckpointError, RunInfo, RunNotFound, RunStateError, RunStatus
from ui import charts, live_view, state, workspace
from ui.phone import OFFER_SUFFIX

SIDEBAR_SECONDS = 2.0  # the status on every page: cheap, and every visitor with a run polls it
LIVE_SECONDS = 1.0  # the Train page's own view of the run being watched, while it trains
QUEUED_SECONDS = 3.0  # ... while it waits in the queue, near its front (a classroom's queue is long: poll it gently)
QUEUED_FAR_SECONDS = 10.0  # ... while at least FAR_IN_QUEUE runs are ahead of it: its place changes only when
FAR_IN_QUEUE = 4  # a run ends, and thirty such views redrawn every 3 s would slow the server for everyone
POINTS_CAPTION = ("Every 2% of an epoch, solid: the training samples since the previous point, as they were "
                  "trained; dotted: a fixed slice of the test set, as many images of each class. Dashed, with "
                  "dots: the whole test set after each epoch.")
WATCH_KEY = "runs_watched"  # ids of this workspace's runs that were active when last seen
NEWS_KEY = "runs_news"  # messages about runs that ended, for the Train page
OFFER_KEY = "model_offer"  # the id of an ended run that reads no better than the active model: offered, not used
OFFER_FOR = "model_offer_for"  # the workspace key the offer was read from the run store for
OFFER_TAKEN = "model_offer_taken"  # the offer was taken inside a fragment: the whole page is to be drawn again


def queue_text(run: RunInfo) -> str:
    position = workspace.store().queue_position(run)
    if position is None:
        return "waiting for a worker"
    if position == 0:
        return "next in the queue"
    return f"{position} run{'s' if position > 1 else ''} ahead of yours"


def status_text(run: RunInfo) -> str:
    """One line: where the run stands."""
    if run.status == RunStatus.QUEUED:
        return f"queued: {queue_text(run)}"
    if run.status == RunStatus.PAUSED and run.worker is None:
        return f"paused after epoch {run.epochs_done} of {run.target_epochs}"
    if run.status in ("running", RunStatus.PAUSED):
        epoch = min(run.epochs_done + 1, run.target_epochs)
        share = run.progress_done / run.progress_total if run.progress_total else 0.0
        text = f"epoch {epoch} of {run.target_epochs}, {share:.0%}"
        if run.status == RunStatus.PAUSED:
            return f"paused in {text}"
        left = run.seconds_left()
        return text + (f", {duration_text(left)} left" if left is not None else "")
    done = f"{run.epochs_done} of {run.target_epochs} epochs"
    return f"{run.status_text} after {done}" if run.status != RunStatus.FINISHED else f"finished: {done}"


def accuracy_text(run: RunInfo) -> str:
    return format_accuracy(run.test_accuracy)


# --------------------------------------------------------------------------- requests


def _request(action: str, run_id: str, *args: Any) -> None:
    """A button's callback: send the request; a refusal (the run moved on meanwhile) is shown, not raised."""
    svc = workspace.service()
    key = workspace.workspace_key()
    calls = {"pause": svc.pause, "resume": svc.resume, "stop": svc.stop, "continue": svc.continue_run,
             "learning_rate": svc.set_learning_rate}
    try:
        calls[action](key, run_id, *args)
    except (RunStateError, ConfigError) as exc:
        st.session_state["runs_refusal"] = str(exc)
    except RunNotFound:
        st.session_state["runs_refusal"] = "That run was not found (deleted?)."
    if action in ("continue", "resume"):
        st.session_state.setdefault(WATCH_KEY, []).append(run_id)


def _set_rate(run_id: str, key: str) -> None:
    _request("learning_rate", run_id, float(st.session_state[key]))


def _continue(run_id: str, key: str) -> None:
    _request("continue", run_id, int(st.session_state[key]))
    st.session_state["tr_view"] = run_id


def show_refusal() -> None:
    refusal = st.session_state.pop("runs_refusal", None)
    if refusal:
        st.warning(refusal, icon=":material/block:")


def control_buttons(run: RunInfo, prefix: str, compact: bool = False) -> None:
    """Pause or Resume, and Stop, for an active run (``compact``: small buttons in the current row)."""
    if not run.active:
        return
    cols = (st, st) if compact else st.columns(2, gap="small")
    width = "content" if compact else "stretch"
    paused = run.status == RunStatus.PAUSED or run.control == "pause"
    if paused:
        cols[0].button("Resume", key=f"{prefix}_resume_{run.id}", icon=":material/play_arrow:", width=width,
                       on_click=_request, args=("resume", run.id), help=None if compact else
                       "Goes on from where it paused.")
    else:
        cols[0].button("Pause", key=f"{prefix}_pause_{run.id}", icon=":material/pause:", width=width,
                       on_click=_request, args=("pause", run.id), help=None if compact else
                       "Pauses between two training steps (within a second); Resume goes on from there.")
    cols[1].button("Stop", key=f"{prefix}_stop_{run.id}", icon=":material/stop:", width=width,
                   on_click=_request, args=("stop", run.id), disabled=run.control == "stop",
                   help=None if compact else "Ends the run; its finished epochs are kept (the epoch in "
                   "progress is not), and Continue can go on from there later.")


def learning_rate_control(run: RunInfo, prefix: str) -> None:
    """Change the learning rate of an active run (taken at the worker's next chunk, marked on the curves)."""
    key = f"{prefix}_lr_{run.id}"
    if key not in st.session_state:
        st.session_state[key] = float(run.learning_rate)
    left, right = st.columns([2, 1], vertical_alignment="bottom", gap="small")
    left.number_input("Learning rate", 0.0001, 5.0, step=0.01, format="%.4f", key=key,
                      help="Change it while the run trains: it applies from the next chunk of about a thousand "
                           "records and is marked on the curves.")
    right.button("Set", key=f"{prefix}_set_lr_{run.id}", on_click=_set_rate, args=(run.id, key),
                 disabled=math.isclose(float(st.session_state[key]), run.learning_rate, rel_tol=1e-9),
                 width="stretch")


def continue_control(run: RunInfo, prefix: str) -> None:
    """Train N more epochs of an ended run, from its last whole epoch."""
    if not run.can_continue:
        return
    key = f"{prefix}_more_{run.id}"
    remaining = run.target_epochs - run.epochs_done
    st.session_state.setdefault(key, remaining if remaining > 0 else 5)
    left, right = st.columns([2, 1], vertical_alignment="bottom", gap="small")
    left.number_input("More epochs", 1, 100, step=1, key=key)
    right.button("Continue", key=f"{prefix}_continue_{run.id}", icon=":material/resume:", width="stretch",
                 on_click=_continue, args=(run.id, key),
                 help="The same run goes on from the end of its last whole epoch, its random state carried "
                      "over: 5 epochs and then 3 more are the 8 epochs of one run. With a cosine schedule, "
                      "the schedule is stretched over the new total from here on.")


# --------------------------------------------------------------------------- runs that end


def replaces(run: RunInfo, model: state.ActiveModel | None) -> bool:
    """Whether a run that has just ended becomes the active model by itself: when it reads better than the
    active model on the test set of the same dataset, or when the two cannot be compared (no active model,
    one without a test accuracy, or one of another dataset: the run was trained on the dataset active when
    it started). Otherwise the learner is asked (:func:`model_offer`): a short run must not quietly take
    the place of the better shipped model a beginner draws on."""
    if model is None or model.test_accuracy is None or model.dataset.key != run.dataset:
        return True
    return run.test_accuracy is not None and run.test_accuracy > model.test_accuracy


def notice_ended_runs(runs: list[RunInfo]) -> bool:
    """Runs seen active before and ended now: the newest with a whole epoch becomes the active model if it
    :func:`replaces` it, and is offered otherwise. Returns True if anything changed (the page should be drawn
    again)."""
    watched = set(st.session_state.get(WATCH_KEY, []))
    by_id = {run.id: run for run in runs}
    ended = [by_id[i] for i in watched if i in by_id and not by_id[i].active]
    active_now = [run.id for run in runs if run.active]
    st.session_state[WATCH_KEY] = active_now
    gone = [i for i in watched if i not in by_id]
    if not ended:
        return bool(gone)
    ended.sort(key=lambda run: run.ended or 0.0)
    news = []
    for run in ended:
        result = (f"{format_accuracy(run.test_accuracy)} on the test set" if run.test_accuracy is not None
                  else "no whole epoch")
        verb = {RunStatus.FINISHED: "finished",
                RunStatus.STOPPED: f"stopped after {count(run.epochs_done, 'epoch')}"}.get(run.status, run.status_text)
        news.append(f"{run.name} {verb}: {result}.")
    usable = [run for run in ended if run.status in (RunStatus.FINISHED, RunStatus.STOPPED) and run.has_model]
    if usable:
        newest, before = usable[-1], state.active_model()
        if replaces(newest, before):
            try:
                state.activate_run(newest, workspace.store())
                news[-1 if newest is ended[-1] else 0] += f" {newest.name} is now the active model."
                _set_offer(None)
            except CheckpointError as exc:
                news.append(str(exc))
        else:
            _set_offer(newest.id)
    st.session_state[NEWS_KEY] = news
    for line in news:
        st.toast(line, icon=":material/check_circle:")
    return True


def _offer_id() -> str | None:
    """The run on offer: the workspace's (kept in the run store, so a reload or a second tab offers it too)."""
    key = workspace.workspace_key()
    if st.session_state.get(OFFER_FOR) != key:
        st.session_state[OFFER_FOR] = key
        st.session_state[OFFER_KEY] = workspace.stored_choice().offer
    return st.session_state.get(OFFER_KEY)


def _set_offer(run_id: str | None) -> None:
    if _offer_id() != run_id:
        st.session_state[OFFER_KEY] = run_id
        workspace.remember_offer(run_id)


def _offered() -> tuple[RunInfo, state.ActiveModel] | None:
    """The run on offer and the active model it was compared with; None (and the offer withdrawn) once it is
    the active model, has gone, or trains again."""
    run_id = _offer_id()
    if run_id is None:
        return None
    try:
        run = workspace.store().get_run(workspace.workspace_key(), run_id)
    except RunNotFound:
        run = None
    model = state.active_model()
    if run is None or run.active or not run.has_model or model is None or state.is_run_model(model, run):
        _set_offer(None)
        return None
    return run, model


def offer_text(run: RunInfo, model: state.ActiveModel) -> str:
    """"Run 3 reads 91.20%; the active model reads 99.36%. Use Run 3?": both on the test set of the same dataset;
    short, for a phone's first screen (the sidebar names the active model). When the active model is an earlier
    state of the same run, its epochs say which."""
    active = f"the active model (its epoch {len(model.history)})" if model.run_id == run.id else "the active model"
    return (f"{run.name} reads {accuracy_text(run)}; {active} reads {format_accuracy(model.test_accuracy)}. "
            f"Use {run.name}?")


def _use_offered(run_id: str, in_fragment: bool) -> None:
    _set_offer(None)
    try:
        model = state.activate_run(workspace.store().get_run(workspace.workspace_key(), run_id), workspace.store())
    except (CheckpointError, RunNotFound) as exc:
        st.session_state["runs_refusal"] = f"That run's model could not be read: {exc}"
        return
    if in_fragment:  # the sidebar and the pickers name the active model: the whole page is drawn again
        st.session_state[OFFER_TAKEN] = True
        st.session_state[NEWS_KEY] = [f"{model.name} is now the active model."]
    else:
        st.toast(f"{model.name} is now the active model.", icon=":material/check_circle:")


def _keep_active() -> None:
    _set_offer(None)


def model_offer(prefix: str, only: str | None = None, hide: str | None = None, in_fragment: bool = False) -> None:
    """The offer of a run that ended reading no better than the active model: how the two compare, and a
    button to switch (and one to keep the active model, which withdraws the offer). ``only``: draw it only if
    it is that run's; ``hide``: not if it is that run's (the Train page shows the run it views in full);
    ``in_fragment``: drawn in a fragment, so taking the offer redraws the whole page."""
    if st.session_state.pop(OFFER_TAKEN, False):
        st.rerun(scope="app")
    offered = _offered()
    if offered is None or (only is not None and offered[0].id != only) or offered[0].id == hide:
        return
    run, model = offered
    # one row, the buttons after the sentence (below it on a phone, small: ui.phone's OFFER rules keep a page's
    # main action on the first screen with the offer above it)
    with st.container(border=True, key=f"{prefix}{OFFER_SUFFIX}", horizontal=True, vertical_alignment="center",
                      gap="small"):
        st.markdown(f":material/compare_arrows: {offer_text(run, model)}", width="content",
                    help=f"Both on the test set of {run.dataset_title}; the active model is {model.name}.")
        st.button(f"Use {run.name}", key=f"{prefix}_offer_use", type="primary", on_click=_use_offered,
                  args=(run.id, in_fragment), icon=":material/swap_horiz:")
        st.button("Keep the active model", key=f"{prefix}_offer_keep", on_click=_keep_active)


# --------------------------------------------------------------------------- the status on every page


def _status_body(hide: str | None = None) -> None:
    runs = getattr(_page_run, "runs", None)
    if runs is None:  # its own rerun, on its timer: read the runs, and notice those that ended meanwhile
        runs = workspace.my_runs()
        if notice_ended_runs(runs):
            st.rerun(scope="app")
    active = [run for run in runs if run.status in ACTIVE_STATUSES and run.id != hide]
    if not active:
        return
    with st.container(border=True, key="run_status"):
        for run in active[-3:]:
            share = (run.progress_done / run.progress_total) if run.progress_total else 0.0
            overall = min((run.epochs_done + share) / max(run.target_epochs, 1), 1.0)
            line = f"**{run.name}**: {status_text(run)}"
            if run.test_accuracy is not None:
                line += f"; test accuracy {accuracy_text(run)}"
            # one row: the progress, then small buttons (on a phone the buttons wrap below it, side by side)
            with st.container(horizontal=True, vertical_alignment="center", gap="small"):
                with st.container(width="stretch"):
                    st.progress(overall, text=line)
                control_buttons(run, "sb", compact=True)


_status_live = st.fragment(run_every=SIDEBAR_SECONDS)(_status_body)
_page_run = threading.local()  # the frame's runs while the page's own script run draws the status (its thread)


def status_bar(runs: list[RunInfo], hide: str | None = None) -> None:
    """The small live status of this workspace's active runs, at the top of every page (in the main
    area, so a phone shows it too; the sidebar is folded away there). ``runs``: this workspace's runs, as
    the page's frame has just read them and passed them to :func:`notice_ended_runs` (once a script run: the
    status's own reruns read and notice them themselves). ``hide``: a run the page shows in full already
    (the Train page's run in view). A visitor with no run queued or training gets nothing: no fragment, no
    timer."""
    if any(run.active and run.id != hide for run in runs) or st.session_state.get(WATCH_KEY):
        _page_run.runs = runs
        try:
            _status_live(hide)
        finally:
            _page_run.runs = None
    model_offer("sb", hide=hide)


# --------------------------------------------------------------------------- the Train page's view


def run_charts(run: RunInfo, history: list[dict[str, Any]], events: list[dict[str, Any]],
               key: str = "", points: list[dict[str, Any]] | None = None, view: LiveView | None = None) -> None:
    """A run's accuracy and loss curves (its live points too, if given), and with ``view`` the network's
    answers to the fixed digits and a few first-layer nodes' weights under them."""
    accuracy_chart, loss_chart = charts.history_charts(
        {run.name: history}, epochs=run.target_epochs, events={run.name: events}, points={run.name: points or []},
        per_epoch={run.name: run.records * run.train_config.copies_per_record})
    left, right = st.columns(2)
    left.altair_chart(accuracy_chart, width="stretch", key=f"{key}_acc" if key else None)
    right.altair_chart(loss_chart, width="stretch", key=f"{key}_loss" if key else None)
    if points:
        st.caption(POINTS_CAPTION)
    if view is not None:
        live_panel(run, view)


def live_panel(run: RunInfo, view: LiveView) -> None:
    """The network at the run's latest live point: its answers to the fixed digits (one test image of each
    class), and what its first nodes look for; redrawn with the curves, so only while a run is shown."""
    noun = "digit" if run.dataset_tag.digits else "image"
    answers, weights = st.columns([10, 7], gap="medium")
    answers.markdown(f"**Its answers now**, to one test {noun} of each class")
    answers.html(live_view.answers_html(view, run.class_names))
    pictures = live_view.weights_html(view)
    if pictures:
        weights.markdown(f"**What {len(view.weights)} first-layer nodes look for**")
        weights.html(pictures)
    st.caption(f"After {view.samples:,} samples. Under each {noun}: the network's answer and its share of the "
               "outputs, green when right. Weights: red where ink excites the node, blue where it holds it back.")


def _train_view_body(run_id: str) -> None:
    store = workspace.store()
    try:
        run = store.get_run(workspace.workspace_key(), run_id)
    except RunNotFound:
        st.session_state.pop("tr_view", None)
        return
    was, tier = st.session_state.get("tr_view_status"), _view_tier(run)
    st.session_state["tr_view_status"] = run.status
    if was is not None and was != run.status and (not run.active or was == RunStatus.QUEUED):
        # it ended (redraw the page once: results, active model; then stop polling), or it left the queue
        # (redraw with the faster timer of a training run)
        st.rerun(scope="app")
    if st.session_state.get("tr_view_tier", tier) != tier:  # came near the queue's front: the quicker timer
        st.rerun(scope="app")
    with st.container(border=True, key="tr_live"):
        title, status = st.columns([1, 3], vertical_alignment="center")
        title.markdown(f"#### {run.name}")
        history, points = store.history(run), store.points(run)
        sliced = [p["slice_accuracy"] for p in points if p["slice_accuracy"] is not None]
        if run.test_accuracy is None and sliced:  # in its first epoch: the test slice says how it goes
            status.markdown(f"**{status_text(run).capitalize()}**. Accuracy on the test slice now: "
                            f"**{format_accuracy(sliced[-1])}** (the whole test set is scored when the epoch ends).")
        else:
            status.markdown(f"**{status_text(run).capitalize()}**. Test accuracy after the last epoch: "
                            f"**{accuracy_text(run)}**.")
        if run.status in ("running", RunStatus.PAUSED) and run.worker is not None:
            share = run.progress_done / run.progress_total if run.progress_total else 0.0
            st.progress(min(share, 1.0), text=(
                f"Epoch {min(run.epochs_done + 1, run.target_epochs)} of {run.target_epochs}: "
                f"{run.progress_done:,} of {run.progress_total:,} samples"
                + (f", {duration_text(run.seconds_left())} left in all" if run.seconds_left() is not None else "")))
        elif run.status == RunStatus.QUEUED:
            service = workspace.service()
            if service.executor == "dask":
                where = f"The Dask cluster at {service.scheduler} trains the queue"
            else:
                where = (f"This server trains {count(service.workers, 'run')} at once "
                         f"({len(service.alive_workers())} busy)")
            st.info(f"Queued: {queue_text(run)}. {where}; it starts by itself, and you can leave this page "
                    "meanwhile.", icon=":material/hourglass_top:")
        if run.message and not run.active:
            st.caption(run.message)
        model_offer("tr", only=run.id, in_fragment=True)
        show_refusal()
        if run.active:
            buttons, rate = st.columns([1, 1], gap="large", vertical_alignment="bottom")
            with buttons:
                control_buttons(run, "tr")
            with rate:
                learning_rate_control(run, "tr")
        else:
            continue_control(run, "tr")
        if history or points:
            run_charts(run, history, store.events(run), points=points, view=store.live_view(run))
        elif run.active:
            st.caption("The curves appear within the first seconds of training.")


_train_view_live = st.fragment(run_every=LIVE_SECONDS)(_train_view_body)
_train_view_queued = st.fragment(run_every=QUEUED_SECONDS)(_train_view_body)
_train_view_queued_far = st.fragment(run_every=QUEUED_FAR_SECONDS)(_train_view_body)


def _view_tier(run: RunInfo) -> str:
    """Which timer the Train page's view of ``run`` redraws with."""
    if run.status == RunStatus.QUEUED:
        position = workspace.store().queue_position(run)
        return "far" if position is not None and position >= FAR_IN_QUEUE else "queued"
    return "live" if run.active else "ended"


def train_view(run_id: str) -> None:
    """The Train page's view of one run: live (redrawn every second) while it trains, every few seconds
    while it waits in the queue, still once it has ended."""
    try:
        run = workspace.store().get_run(workspace.workspace_key(), run_id)
    except RunNotFound:
        return
    st.session_state["tr_view_status"] = run.status
    tier = st.session_state["tr_view_tier"] = _view_tier(run)
    if tier == "far":
        _train_view_queued_far(run_id)
    elif tier == "queued":
        _train_view_queued(run_id)
    elif run.active:
        _train_view_live(run_id)
    else:
        _train_view_body(run_id)


def show_news() -> None:
    for line in st.session_state.pop(NEWS_KEY, []):
        st.success(line, icon=":material/check_circle:")
