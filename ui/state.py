"""Each session's model: the shipped models, the session's own, the workspace's runs as models, the picker.

- Everything a user changes lives in ``st.session_state``, one per browser session: the active model and
  the Teach results. Training runs do not: they are jobs in the server's run store (``ann.service``, trained by
  its worker processes; see ``ui/workspace.py``), so they outlive a page, a reload and a restart.
  Each shipped model file (``ann.models``: the default, the best reader of handwriting, and the seed's) is
  read once per server and its network shared read-only between sessions until one of them changes it:
  :func:`own_network` gives the session its own copy first (copy on write), so teaching in one session never
  changes what another sees. :func:`model_picker` offers the shipped models, the session's own (uploads,
  taught copies) and the workspace's ended runs.
"""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import streamlit as st

from ann.config import PRESETS, NetworkConfig, TrainConfig
from ann.dataset_tag import MNIST_TAG, DatasetTag
from ann.formats import count, format_accuracy
from ann.model_io import load_model, read_model_info
from ann.models import SHIPPED_MODELS, default_name, shipped_model
from ann.service.choices import ModelChoice, ModelKind, WorkspaceChoice
from ann.service.records import CheckpointError, RunNotFound
from ann.train import score as ann_score
from ui import datasets, workspace

if TYPE_CHECKING:  # the network modules load SciPy: imported where a network is needed, not for Home
    from collections.abc import Callable

    from ann.model_io import LoadedModel
    from ann.network import Network
    from ann.service.records import RunInfo
    from ann.service.store import RunStore

ROOT = Path(__file__).resolve().parents[1]
SHIPPED_DIR = ROOT / "data"  # the shipped models' files (ann.models names them); tests point it elsewhere
PRETRAINED_PATH = SHIPPED_DIR / "pretrained.npz"  # the seed's classic network, the first shipped model
PRETRAINED_LABEL = "data/pretrained.npz"
RUN_NETWORKS_CACHED = 4  # runs' networks kept in memory for the whole server (ActiveModel's loader)
OWN_MODELS_KEPT = 6  # a session's own models (uploads, taught copies, runs) offered by the picker
MODEL_FOR = "active_model_for"  # the workspace key the session's active model was restored for


# --------------------------------------------------------------------------- the active model (per session)


class ActiveModel:
    """The network this session predicts with, and where it came from.

    ``shared`` is True while the network (and ``history``, ``info``) are the server-wide pretrained
    objects: read them, but call :func:`own_network` before changing anything. ``uid`` names the model: a
    shipped model's is its file's digest (``shipped-<digest>``), the same in every session, so work on it
    is shared between sessions (:mod:`ui.model_cache`); any other model's is random, and a shipped model
    gets a random one when a session takes its own copy. ``version`` counts the changes made in place
    (Teach), so caches keyed on :attr:`key` notice them. The pretrained network
    itself is only built when first asked for (:attr:`network`): pages that merely describe the model,
    Home first of all, then start without importing SciPy.
    """

    def __init__(self, config: NetworkConfig, train_config: TrainConfig | None, history: list[dict[str, Any]],
                 info: dict[str, Any], name: str, source: str, network: Network | None = None,
                 shared: bool = False, uid: str | None = None, shipped_name: str | None = None,
                 path: Path | None = None, dataset: DatasetTag = MNIST_TAG,
                 loader: Callable[[], Network] | None = None, probe: Callable[[], None] | None = None) -> None:
        self.config = config
        self.dataset = dataset  # what it was trained on: output i is dataset.class_names[i]
        self.train_config = train_config
        self.history = history
        self.info = info
        self.name = name
        self.source = source  # "pretrained" (shipped), "run" (a run of this workspace), "shared" or "uploaded"
        self.run_id: str | None = None  # the run it came from, if any
        self.share: str | None = None  # the share link's token of the shared run it came from
        self.shipped_name = shipped_name  # ann.models' name of the shipped model it is (or was copied from)
        self.path = path  # the shipped model's file
        self.shared = shared
        self.version = 0
        self.uid = uid or uuid.uuid4().hex[:10]
        self._network = network
        # A run's network is read from its checkpoint through a small server-wide cache whenever it is asked
        # for, never held by the session: a Best network is 10 MB, and a classroom's thirty sessions would
        # hold thirty. Teaching takes the session's own copy first (own_network).
        self._loader = loader
        # a cheap check that the loader's source is still there (every script run asks: see unreadable)
        self._probe = probe

    @property
    def network(self) -> Network:
        if self._network is None and self._loader is not None:
            return self._loader()
        if self._network is None:  # a shipped model starts without one
            path = self.path or PRETRAINED_PATH
            self._network = _read_pretrained(path=str(path), modified=path.stat().st_mtime).network
        return self._network

    @network.setter
    def network(self, network: Network) -> None:
        self._network = network

    def unreadable(self) -> str | None:
        """Why a run's network can no longer be read (the run deleted or removed by housekeeping, its
        checkpoint damaged), or None. Asked on every script run, so with a probe only the probe runs: loading
        the network each time, with thirty sessions each on a run of its own, read a 10 MB checkpoint through
        a cache of four on every script run of every session (bench/classroom_training.py --preset best).
        A damaged checkpoint is said when the run is activated (:func:`model_from_run` reads it then)."""
        if self._network is not None or self._loader is None:
            return None

        try:
            (self._probe or self._loader)()
        except (CheckpointError, RunNotFound, OSError) as exc:
            return str(exc)
        return None

    @property
    def key(self) -> str:
        """Changes whenever the weights may have changed: a cache key for evaluations."""
        return f"{self.uid}.{self.version}"

    @property
    def identity(self) -> str | None:
        """For a shipped model still as shipped, ``shipped:<name>``: the same in every session, so work on it
        can be shared between sessions; None once the session has its own weights."""
        return f"shipped:{self.shipped_name}" if self.shared and self.shipped_name else None

    @property
    def choice(self) -> ModelChoice:
        """What the workspace keeps to open this model again in another session (``ann.service.choices``): a
        shipped model as shipped, a run's (or a shared run's) network as read from its checkpoint; anything
        else (an upload, a taught copy) only this session holds."""
        if self.identity is not None:
            return ModelChoice(ModelKind.SHIPPED, str(self.shipped_name), self.name)
        if self.run_id is not None and self._loader is not None:
            if self.source == "shared" and self.share:
                return ModelChoice(ModelKind.SHARED, self.share, self.name)
            return ModelChoice(ModelKind.RUN, self.run_id, self.name)
        return ModelChoice(ModelKind.SESSION, self.uid, own_label(self))

    @property
    def test_accuracy(self) -> float | None:
        if self.info.get("test_accuracy") is not None:
            return float(self.info["test_accuracy"])
        for epoch in reversed(self.history):
            if epoch.get("test_accuracy") is not None:
                return float(epoch["test_accuracy"])
        return None


@st.cache_resource(show_spinner=False, max_entries=2)
def _read_pretrained(path: str, modified: float) -> LoadedModel:
    """The shipped model file, read once per server (``modified`` in the key: a replaced file is re-read)."""

    return load_model(path, name=PRETRAINED_LABEL)


@st.cache_resource(show_spinner=False, max_entries=2)
def _read_pretrained_description(path: str, modified: float) -> dict[str, Any]:
    """The shipped model's configuration, history and info without building its network: just the
    ``meta`` entry of the .npz (see ann.model_io), so the first page needs NumPy only. Anything odd and the
    full, checked load decides. ``uid``: the file's identity (a digest of its bytes), the same in every
    session and on every server, changed by any change to the file."""

    uid = "shipped-" + hashlib.sha1(Path(path).read_bytes(), usedforsecurity=False).hexdigest()[:12]
    try:
        meta = read_model_info(path)
        return {"config": meta["network"], "train_config": meta["train"], "history": meta["history"],
                "info": meta["info"], "dataset": meta["dataset"], "uid": uid}
    except ValueError:  # not ours, or damaged: the full load names the problem
        loaded = _read_pretrained(path=path, modified=modified)
        return {"config": loaded.network.config, "train_config": loaded.train_config,
                "history": loaded.history, "info": loaded.info, "dataset": loaded.dataset, "uid": uid}


def shipped_path(name: str) -> Path:
    """The file of the shipped model ``name`` (``ann.models``), in ``SHIPPED_DIR``."""

    return SHIPPED_DIR / shipped_model(name).filename


def shipped_names() -> list[str]:
    """The shipped models present, the default (ann.models.default_name) first."""

    default = default_name()
    names = [m.name for m in SHIPPED_MODELS if (SHIPPED_DIR / m.filename).is_file()]
    return sorted(names, key=lambda name: name != default)


def shipped(name: str) -> ActiveModel | None:
    """A shipped model as a session's model, its network shared read-only with every session (described from
    the file's ``meta`` alone; the network is built when first used). None if its file is missing or bad (the
    reason is kept for :func:`show_no_model`)."""

    path = shipped_path(name)
    if not path.is_file():
        return None
    try:
        described = _read_pretrained_description(path=str(path), modified=path.stat().st_mtime)
    except (ValueError, OSError) as exc:  # ModelFileError is a ValueError
        st.session_state["pretrained_error"] = f"data/{path.name}: {exc}"
        return None
    st.session_state.pop("pretrained_error", None)
    return ActiveModel(name=shipped_model(name).title, source="pretrained", shared=True, shipped_name=name,
                       path=path, **described)


def default_model() -> ActiveModel | None:
    """The default shipped model (the first whose file reads), as a new session model; None if none does."""
    for name in shipped_names():
        model = shipped(name)
        if model is not None:
            return model
    return None


def active_model() -> ActiveModel | None:
    """This session's model: the one the workspace chose last (:func:`restore`), else the default shipped one
    (the best reader of handwriting) until the user picks another, trains, uploads or teaches."""
    key = workspace.workspace_key()
    if st.session_state.get(MODEL_FOR) != key:  # the session's first run, or a workspace adopted from a link
        st.session_state[MODEL_FOR] = key
        restored = restore(workspace.stored_choice())
        if restored is not None:
            st.session_state["active_model"] = restored
    model = st.session_state.get("active_model")
    if model is not None and (reason := model.unreadable()):
        own_models().pop(model.uid, None)
        st.session_state["model_gone"] = (f"{model.name} can no longer be read ({reason}), so the default model "
                                          "is active again.")
        model = None
    if model is None:
        model = default_model()
        if model is not None:
            st.session_state["active_model"] = model
    return model


def own_models() -> dict[str, ActiveModel]:
    """The session's own models (uploaded, taught copies of shipped ones, runs made active), by uid, oldest
    first; the picker offers them."""
    return st.session_state.setdefault("own_models", {})


def _remember(model: ActiveModel) -> None:
    if model.shared:
        return
    models = own_models()
    models[model.uid] = model
    while len(models) > OWN_MODELS_KEPT:  # the oldest goes; the active one is never the oldest here
        del models[next(iter(models))]


def set_active_model(model: ActiveModel) -> None:
    """Make ``model`` the session's active model, and the workspace's choice for its next sessions."""
    _remember(model)
    st.session_state["active_model"] = model
    workspace.remember_model(model.choice)


def restore(chosen: WorkspaceChoice) -> ActiveModel | None:
    """The model a workspace chose (``ui.workspace.stored_choice``), opened for this session; None for the
    default. What cannot be opened any more is said once (``model_gone``), and a chosen run that is gone is
    replaced by the default in the store too, so the next session does not say it again."""
    model, said = None, []
    if chosen.model is not None:
        try:
            model = _open_choice(chosen.model)
        except (CheckpointError, RunNotFound, OSError) as exc:
            said.append(f"{chosen.model.label}, the model last chosen in this browser, can no longer be read "
                        f"({exc}), so the default model is active again.")
    if chosen.gone is not None:
        said.append(f"{chosen.gone.label}, the model last chosen in this browser, is no longer on this server "
                    "(deleted, or removed by housekeeping), so the default model is active again.")
        workspace.remember_model(None)
    if chosen.session_model:
        instead = model.name if model is not None else "the default model"
        said.append(f"{chosen.session_model} was held only by the browser tab it was made in (uploaded and taught "
                    f"models are not kept on the server), so {instead} is active: upload it again on the Train "
                    "page to use it.")
    if said:
        st.session_state["model_gone"] = " ".join(said)
    if model is not None:
        _remember(model)
    return model


def _open_choice(choice: ModelChoice) -> ActiveModel | None:
    """The model a stored choice names (None: a shipped model whose file is missing, or a session's own)."""
    store = workspace.store()
    if choice.kind == ModelKind.SHIPPED:
        return shipped(choice.ident)
    if choice.kind == ModelKind.RUN:
        return model_from_run(store.get_run(workspace.workspace_key(), choice.ident), store)
    if choice.kind == ModelKind.SHARED:
        return model_from_run(store.get_shared(choice.ident), store, shared=True)
    return None


def own_network(model: ActiveModel) -> Network:
    """The model's network, copied first if it is still the one shared by all sessions (or a run's, read
    through the server-wide cache)."""
    if model._loader is not None and model._network is None:
        model.network = model.network.copy()
        model._loader = None
    if model.shared:
        model.network = model.network.copy()
        model.uid = uuid.uuid4().hex[:10]  # its own model now: nothing cached for the shipped one applies
        model.history = [dict(epoch) for epoch in model.history]
        model.info = dict(model.info)
        model.shared = False
        _remember(model)
    if st.session_state.get("active_model") is model:  # now a model only this session holds
        workspace.remember_model(model.choice)
    return model.network


def model_from_upload(data: bytes, filename: str) -> ActiveModel:
    """An uploaded model file as the session's model; ModelFileError says what is wrong with it."""

    loaded = load_model(data, name=filename)
    return ActiveModel(config=loaded.network.config, network=loaded.network, train_config=loaded.train_config,
                       history=loaded.history, info=dict(loaded.info), name=f"Uploaded {filename}",
                       source="uploaded", dataset=loaded.dataset)


def layers_text(config: NetworkConfig) -> str:
    return "-".join(str(n) for n in config.layer_sizes)


def describe_model(model: ActiveModel) -> tuple[str, str]:
    """A headline (name, shape, accuracy) and a sentence on how the model was trained."""
    cfg = model.config
    output = "sigmoid" if cfg.loss == "mse" else "softmax"
    headline = f"{model.name}: {layers_text(cfg)} {cfg.activation}/{output}"
    accuracy = model.test_accuracy
    if accuracy is not None:
        headline += f", {format_accuracy(accuracy)} on the test set of {model.dataset.title}"
    elif not model.dataset.digits:
        headline += f", trained on {model.dataset.title}"
    parts = []
    preset = PRESETS.get(model.info.get("preset") or "")
    if preset is not None:
        parts.append(f"the {preset.title} preset")
    tc = model.train_config
    epochs_done = len([e for e in model.history if not e.get("stopped")])
    if tc is not None:
        records = model.info.get("train_records") or tc.limit
        text = (f"{epochs_done} of {count(tc.epochs, 'epoch')}" if model.info.get("stopped")
                else count(tc.epochs, "epoch"))
        if records:
            text += f" on {count(int(records), 'training record')}"
        if tc.copies_per_record == 3:
            text += f" (each also rotated by ±{tc.rotate:g}°)"
        elif tc.random_augment:
            text += " with random distortions"
            if tc.thickness or tc.contrast or tc.noise:
                text += " and pens (strokes thinned and thickened)" if tc.thickness else " and pens"
        parts.append(text)
        parts.append(f"learning rate {tc.learning_rate:g}, batch size {tc.batch_size}")
        if model.info.get("train_seconds"):
            parts.append(f"{float(model.info['train_seconds']):.0f} s of training")
    trained_by = model.info.get("trained_by")
    shipped_as = f"data/{model.path.name}" if model.path is not None else PRETRAINED_LABEL
    where = {"pretrained": f"shipped as {shipped_as}" + ("" if model.shared else " (this session's own copy)"),
             "uploaded": "uploaded in this session",
             "run": "trained on the Train page (listed on the Runs page)",
             "shared": "shared with you through a link (your own copy)"}.get(model.source, "made in this session")
    # a command line in code font, as it would be typed; the app's own name as plain words (and not twice for a
    # run, which `where` already places on the Train page)
    if not trained_by or model.source == "run":
        how = "Trained"
    elif str(trained_by).startswith("python "):
        how = f"Trained by `{trained_by}`"
    else:
        how = f"Trained on the {trained_by}"
    sentence = f"{how}{' with ' + '; '.join(parts) if parts else ''}; {where}."
    if model.info.get("taught"):
        sentence += f" Since taught {count(int(model.info['taught']), 'drawing')} on the Draw page."
    return headline, sentence


def _accuracy_text(accuracy: float | None, dataset: DatasetTag = MNIST_TAG) -> str:
    """" · Fashion-MNIST 88.10%": which dataset a model belongs to, and its test accuracy there."""
    return f" · {dataset.title} {format_accuracy(accuracy)}" if accuracy is not None else f" · {dataset.title}"


def own_label(model: ActiveModel) -> str:
    """A session's own model for people: "Default model: your copy, taught 3 drawings"."""
    label = f"{model.name}: your copy" if model.source == "pretrained" else model.name
    if model.info.get("taught"):
        label += f", taught {count(int(model.info['taught']), 'drawing')}"
    return label


def picker_options() -> dict[str, str]:
    """What the model picker offers, option key -> label: the shipped models (``shipped:<name>``), the
    session's own models (``own:<uid>``) and the workspace's runs that have a model (``run:<id>``)."""

    options: dict[str, str] = {}
    for name in shipped_names():
        described = shipped(name)
        accuracy = described.test_accuracy if described is not None else None
        tag = described.dataset if described is not None else MNIST_TAG
        options[f"shipped:{name}"] = f"{shipped_model(name).title}{_accuracy_text(accuracy, tag)}"
    runs_in_own = set()
    for uid, model in reversed(own_models().items()):
        options[f"own:{uid}"] = own_label(model) + _accuracy_text(model.test_accuracy, model.dataset)
        if model.run_id is not None and not model.info.get("taught"):
            runs_in_own.add(model.run_id)
    try:

        # Runs that have ended with a model (finished, stopped or interrupted after an epoch): one still
        # training is offered once it ends (its status bar says so; the Runs page can use it earlier).
        runs = [run for run in workspace.my_runs() if run.has_model and not run.active and run.id not in runs_in_own]
    except Exception:  # the run store is unavailable: the picker still offers the rest
        runs = []
    for run in runs:
        options[f"run:{run.id}"] = (f"{run.name} ({layers_text(run.network_config)}, {run.status})"
                                    f"{_accuracy_text(run.test_accuracy, run.dataset_tag)}")
    return options


def _current_option(model: ActiveModel | None) -> str | None:
    if model is None:
        return None
    if model.shared and model.shipped_name:
        return f"shipped:{model.shipped_name}"
    return f"own:{model.uid}"


def _pick(key: str) -> None:
    """The picker's callback: make the chosen model the session's active one (and close the list)."""
    st.session_state[f"{key}_button"] = False
    choice = st.session_state.get(key)
    if not choice or choice == _current_option(st.session_state.get("active_model")):
        return
    kind, _, ident = choice.partition(":")
    if kind == "shipped":
        model = shipped(ident)
        if model is not None:
            set_active_model(model)
    elif kind == "own" and ident in own_models():
        set_active_model(own_models()[ident])
    elif kind == "run":

        try:
            activate_run(workspace.store().get_run(workspace.workspace_key(), ident), workspace.store())
        except (CheckpointError, RunNotFound) as exc:
            st.session_state["picker_error"] = f"That run's model could not be read: {exc}"


def model_picker(key: str = "model_picker") -> ActiveModel | None:
    """A button naming the active model, opening a list (radio buttons) of every model this session can use (:func:`picker_options`); choosing one makes it the
    active model on every page. Returns the active model (None if there is none)."""
    model = active_model()
    options = picker_options()
    current = _current_option(model)
    if current is not None and current not in options and model is not None:
        options[current] = model.name + _accuracy_text(model.test_accuracy, model.dataset)
    if not options:
        return model
    st.session_state[key] = current  # follow the active model, whichever page changed it
    # A button naming the model, which opens the list: a drop-down list on the page would cost every visitor's
    # first look some twenty more of Streamlit's script files (its JavaScript, fetched one by one from this
    # server); what a popover holds is drawn, and its files fetched, only when it is opened.
    label = options[current] if current is not None else "none yet: pick one"
    # on_change="rerun": the popover's open state is in st.session_state, so picking closes it (_pick)
    with st.popover(f"Model: {label}", icon=":material/swap_horiz:", key=f"{key}_button", on_change="rerun",
                    help="The shipped models, and your own: uploaded (Train page), taught (Draw page) or "
                         "trained (Runs page); each names the dataset it was trained on. The one you pick is "
                         "used on every page."):
        st.radio("Model", list(options), format_func=options.get, key=key, on_change=_pick, args=(key,))
    error = st.session_state.pop("picker_error", None)
    if error:
        st.error(error)
    return st.session_state.get("active_model")


def show_model_caption(pick: bool = False, short: bool = False, dataset_check: bool = True) -> ActiveModel | None:
    """One line saying which model is active and how it was trained (pages that predict show it); with
    ``pick``, the model picker above it; ``short``: the headline only (the sidebar has the rest), for a page
    that must keep its top compact on a phone. ``dataset_check``: say so when the model was trained on
    another dataset than the active one (``ui.datasets.model_mismatch``)."""
    model = model_picker() if pick else active_model()
    show_model_notice()
    if model is None:
        show_no_model()
        return None
    headline, sentence = describe_model(model)
    st.caption(f"**Active model**: {headline}." + ("" if short else f" {sentence}"))
    if dataset_check:

        problem = datasets.model_mismatch(model)
        if problem:
            st.warning(problem, icon=":material/dataset:")
    return model


def show_model_notice() -> None:
    """Say once why the active model is not the one chosen last (it was deleted, or only a closed tab held it)."""
    if gone := st.session_state.pop("model_gone", None):
        st.warning(gone, icon=":material/search_off:")


def show_no_model() -> None:
    error = st.session_state.get("pretrained_error")
    if error:
        st.warning(f"The pretrained model could not be read: {error}")
    st.info("No model yet: train one on the Train page (or upload a model file there).",
            icon=":material/info:")


# --------------------------------------------------------------------------- runs as models


def model_from_run(run: RunInfo, store: RunStore, shared: bool = False) -> ActiveModel:
    """A run's network after its last whole epoch, as a model of this session (its own copy: teaching it
    on the Draw page never changes the run). CheckpointError says when the checkpoint is damaged."""

    epochs, checkpoint = run.epochs_done, store.folder(run.id) / "resume.npz"

    def probe() -> None:
        # deleted (here, in another tab, by housekeeping), even if still cached; a damaged checkpoint moved aside
        # leaves the epoch snapshots, read in its place
        if not checkpoint.exists() and not store.epoch_snapshots(run):
            raise CheckpointError(f"{run.name} was deleted")

    def loader() -> Network:
        probe()
        return _run_network(run_id=run.id, epochs=epochs, _store=store, _run=run)

    loader()  # read now: a damaged checkpoint is said at once
    model = ActiveModel(config=run.network_config, train_config=run.train_config,
                        history=store.history(run), info=run.info(), dataset=run.dataset_tag,
                        name=f"Shared {run.name.lower()}" if shared else run.name,
                        source="shared" if shared else "run", loader=loader, probe=probe)
    model.run_id = run.id
    model.share = run.share if shared else None
    return model


@st.cache_resource(show_spinner=False, max_entries=RUN_NETWORKS_CACHED)
def _run_network(run_id: str, epochs: int, _store: RunStore, _run: RunInfo) -> Network:
    """A run's network after ``epochs`` whole epochs, read-only, shared by the sessions using it; the few used
    last stay in memory for the whole server, any other is read again from its checkpoint. Exact from the
    checkpoint Continue starts from; from the epoch's float16 snapshot once the run has been continued."""
    network, history = _store.usable_network(_run)  # no momentum: it only predicts
    if len(history) <= epochs:  # that epoch, or (its checkpoint damaged) the last good one before it
        return network
    return _store.load_network(_run, epochs, snapshot=True)


def is_run_model(model: ActiveModel, run: RunInfo) -> bool:
    """The model is this run's network after its last whole epoch, as read from its checkpoint (not a taught
    copy, not an earlier epoch of a run continued since)."""
    return model.choice.kind == ModelKind.RUN and model.run_id == run.id and len(model.history) == run.epochs_done


def activate_run(run: RunInfo, store: RunStore, shared: bool = False) -> ActiveModel:
    """Make a run's network the session's active model."""
    model = model_from_run(run, store, shared)
    set_active_model(model)
    return model


def score(network: Network, images: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """Accuracy and mean loss on a labelled set (ann.train.score, imported late: ann.train brings
    scipy.ndimage, which Home never needs)."""

    return ann_score(network, images, labels)
