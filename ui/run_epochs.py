"""One of your runs, epoch by epoch: the part the Inside page's epoch scrubber and the Hidden-layer map's
epoch slider share.

- :func:`take_run_link`: a link from the Runs page (``/inside?run=<id>``, ``/map?run=<id>``) opens the page's
  epoch view with that run picked, if the run is in this browser's workspace; any other id is "not found",
  exactly like a run that does not exist.
- :func:`pick_run`: the run picker (this workspace's runs only), with what to do when there is nothing to pick.
- :func:`finished_epochs` and :func:`networks`: the epochs a run has on disk (0, the network before training,
  rebuilt from the run's seed, then every finished epoch's checkpoint), read one at a time
  (:class:`ann.lab.epochs.NetworksOnDemand`), so going through fifty epochs never holds fifty networks.

The pages compute nothing here on their first render: their epoch views work on a button, and cache what
they computed per run and list of epochs (a run still training gains epochs; the pages offer to take them in).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import streamlit as st

from ann.lab.epochs import NetworksOnDemand
from ann.network import Network
from ann.service.records import RunInfo
from ui import run_panels, state, workspace

if TYPE_CHECKING:
    from ann.lab.epochs import NetworksOnDemand
    from ann.network import Network

START = 0  # the epoch number of the network before training


def model_or_run_tabs(pick_key: str, tabs_key: str, views: tuple[str, str], show_run: Callable[[], None]):
    """The two tabs of a page that looks at the active model or at one of the visitor's runs, epoch by epoch.

    A ``?run=<id>`` link is adopted first (:func:`take_run_link`). Switching tabs reruns the page, and only the
    open tab is computed: when the run tab is open, ``show_run`` draws it and the page stops here. Returns the
    model tab otherwise.
    """
    missing = take_run_link(pick_key, tabs_key, views[1])
    if missing:
        st.warning(missing, icon=":material/search_off:")
    model_tab, run_tab = st.tabs(views, key=tabs_key, on_change="rerun")
    if run_tab.open:
        with run_tab:
            show_run()
        st.stop()
    return model_tab


def take_run_link(pick_key: str, view_key: str, view_label: str) -> str | None:
    """Adopt a ``?run=<id>`` link before the page draws its views.

    If the run is one of this workspace's, it is picked (``pick_key``) and the page's epoch view opened
    (``view_key`` set to ``view_label``). The parameter leaves the address bar either way, so the picker
    stays free afterwards. Returns a message to show when the run was not found, else None.
    """
    asked = st.query_params.get("run")
    if asked is None:
        return None
    del st.query_params["run"]
    if asked not in {run.id for run in workspace.my_runs()}:
        return "That run was not found in your workspace."
    st.session_state[pick_key] = asked
    st.session_state[view_key] = view_label
    return None


def describe(run: RunInfo) -> str:
    layers = "-".join(str(n) for n in run.network_config.layer_sizes)
    return f"{run.name}: {layers}, {run_panels.status_text(run)}"


def pick_run(key: str, purpose: str, needs_hidden_layer: bool = False) -> RunInfo | None:
    """A picker of this workspace's runs that have a finished epoch; None (having said why) if there is none.

    The first time, it picks the run the active model came from, if it is one of them, else the newest.
    ``purpose`` ends the sentence "Pick one of your runs to ..." .
    """
    runs = workspace.my_runs()
    if not runs:
        st.info("You have no runs yet. Start one on the Train page: its epochs appear here as they finish, and "
                "it keeps training if you leave the page.", icon=":material/info:")
        st.page_link("pages/train.py", label="Train a network", icon=":material/model_training:")
        return None
    usable = [run for run in runs if run.epochs_done >= 1]
    if needs_hidden_layer:
        usable = [run for run in usable if run.network_config.hidden_nodes]
    if not usable:
        why = ("a hidden layer and a finished epoch" if needs_hidden_layer else "a finished epoch")
        st.info(f"None of your runs has {why} yet. A run's epochs appear here as they finish (its status is at "
                "the top of the page); the Train page starts a new one.", icon=":material/hourglass_top:")
        return None
    by_id = {run.id: run for run in reversed(usable)}  # newest first
    if st.session_state.get(key) not in by_id:
        model = state.active_model()
        from_run = getattr(model, "run_id", None) if model is not None and model.source == "run" else None
        st.session_state[key] = from_run if from_run in by_id else next(iter(by_id))
    picked = st.selectbox("Run", list(by_id), key=key, format_func=lambda i: describe(by_id[i]),
                          help=f"Pick one of your runs to {purpose}. Runs of other browsers are never listed.")
    return by_id[picked]


def finished_epochs(run: RunInfo) -> list[int]:
    """0 (before training) and every finished epoch whose checkpoint is on disk, in order."""
    return [START] + workspace.store().epoch_snapshots(run)


def missing_epochs_note(run: RunInfo, epochs: list[int]) -> str | None:
    """A sentence naming the epochs up to the last of ``epochs`` that have no checkpoint among them, if any
    (epochs finished since are not missing: the pages offer to take them in)."""
    missing = sorted(set(range(1, max(epochs) + 1)) - set(epochs))
    if not missing:
        return None
    listed = ", ".join(str(e) for e in missing[:8]) + (", ..." if len(missing) > 8 else "")
    return (f"Epoch{'s' if len(missing) > 1 else ''} {listed} of {run.name} {'have' if len(missing) > 1 else 'has'} "
            "no checkpoint on disk (damaged or removed), so the slider skips "
            f"{'them' if len(missing) > 1 else 'it'}: the changes shown are since the epoch before on the slider.")


def load_epoch(run: RunInfo, epoch: int) -> Network:
    """The run's network after ``epoch`` (0: before training), from that epoch's own snapshot (weights stored
    as float16: for looking, no visible difference; the shipped model reads the same digits either way).

    Raises
    ------
    ann.service.records.CheckpointError
        The snapshot is missing or damaged (the message names it).
    """

    if epoch == START:
        # the worker builds its network from the run's seed (ann.service.worker.train_run): the same seed, the same start
        return Network(run.network_config, seed=run.train_config.seed)
    # Every epoch from its own snapshot, the last one too: the resume checkpoint moves on with a worker (an
    # epoch ending meanwhile would be shown under the number before it).
    return workspace.store().load_network(run, epoch, snapshot=True)


def networks(run: RunInfo, epochs: list[int]) -> NetworksOnDemand:
    """The run's networks at ``epochs``, read from their checkpoints one at a time as asked."""

    return NetworksOnDemand(epochs, lambda epoch: load_epoch(run, epoch))


def epoch_label(epoch: int) -> str:
    return "start" if epoch == START else str(epoch)
