"""Which dataset this session works on: the picker, the class names, loading it, downloading it, your own.

The session's choice is ``st.session_state["dataset_key"]`` (MNIST until the visitor picks another), kept for
the workspace's next sessions in the run store (``ui.workspace.remember_dataset``): a named
dataset (``mnist``, ``fashion``, ``kmnist``; ``ann.data.named``) or one of the workspace's own (``own-<hash>``),
which the run store keeps privately for the workspace (``ann.service.datasets.DatasetStore``), where the training
workers read it too. Nothing here loads a dataset to draw the picker or to say which dataset is active: the
class names come from the registry, or from the small ``dataset.json`` of the workspace's own sets.

- Named datasets are loaded once per server (``st.cache_resource``), mapped read-only from uncompressed copies
  (``ann.data.mnist.load_mnist_mapped``): every session and every training worker shares one copy of the pages.
- A workspace's own dataset is opened, mapped read-only, from the run store: a few milliseconds, so it is
  opened where it is needed and never cached across sessions (no visitor reaches another's data).
"""

from __future__ import annotations

import sqlite3
import time
from typing import Any

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from ann.data.named import NAMED, Dataset, ensure_named, folder_of, load_named, named_status
from ann.data.own import LIMITS, MAX_TOTAL_MB, TEST_FRACTION, OwnDataError, read_own_data
from ann.data.split import MNISTFormatError
from ann.dataset_tag import MNIST_TAG, DatasetTag, mismatch
from ui import downloads, workspace

KEY = "dataset_key"
KEY_FOR = "dataset_key_for"  # the workspace key the session's dataset was restored for
UI_UPDATE_SECONDS = 0.25
UPLOAD_GENERATION = "own_upload_generation"  # how many uploads were read or refused: the uploader's key


# --------------------------------------------------------------------------- which dataset


def own_sets() -> list[dict[str, Any]]:
    """The workspace's own datasets (their dataset.json), most recently used first; none when the run store
    cannot be read (the picker still offers the named sets)."""


    try:
        return workspace.store().list_datasets(workspace.workspace_key())
    except (OSError, sqlite3.Error):
        return []


def active_key() -> str:
    """The active dataset's key: the workspace's last pick (read once per session), else MNIST."""
    workspace_key = workspace.workspace_key()
    if st.session_state.get(KEY_FOR) != workspace_key:  # the session's first run, or a workspace adopted
        st.session_state[KEY_FOR] = workspace_key
        stored = workspace.stored_choice().dataset
        if stored:
            st.session_state[KEY] = stored
    return st.session_state.get(KEY, "mnist")


def set_active(key: str) -> None:
    """Make ``key`` the session's dataset, and the workspace's for its next sessions."""
    st.session_state[KEY] = key
    workspace.remember_dataset(key)


def tag_of(key: str) -> DatasetTag | None:
    """Key, title and class names of a named dataset or of one of the workspace's own (None if unknown)."""
    if key in NAMED:
        return NAMED[key].tag
    for meta in own_sets():
        if meta.get("key") == key:
            return DatasetTag(key, str(meta["title"]), tuple(meta["classes"]))
    return None


def active_tag() -> DatasetTag:
    """The active dataset's tag; a choice that is gone (an own dataset removed by housekeeping) falls back to
    MNIST, saying so once."""
    key = active_key()
    tag = tag_of(key)
    if tag is None:
        set_active("mnist")
        st.session_state["dataset_notice"] = (f"The dataset you were using ({key}) is no longer on this server "
                                              "(your own datasets go after 30 days unused): back to MNIST.")
        return MNIST_TAG
    return tag


def train_count(tag: DatasetTag) -> int:
    """Training images of a dataset, without loading it: 60,000 for the named sets (all three are MNIST's
    size), the count its ``dataset.json`` keeps for the workspace's own."""
    return _count(tag, "train", 60_000)


def test_count(tag: DatasetTag) -> int:
    """Test images of a dataset, without loading it (10,000 for the named sets)."""
    return _count(tag, "test", 10_000)


def _count(tag: DatasetTag, split: str, named: int) -> int:
    if tag.key in NAMED:
        return named
    for meta in own_sets():
        if meta.get("key") == tag.key:
            return int(meta.get(split, 0))
    return 0


def is_digits() -> bool:
    """The active dataset is handwritten digits (what the Draw page's drawings are)."""
    return active_key() == "mnist"


def model_mismatch(model: Any) -> str | None:
    """What to say when the model (a ``ui.state.ActiveModel``) was trained on another dataset than the active
    one (``ann.dataset_tag.mismatch``), else None."""
    return mismatch(model.dataset, active_tag())


def fits(model: Any) -> bool:
    """The model has one output per class of the active dataset (it can be scored on it at all)."""
    return model.dataset.n_classes == active_tag().n_classes


def class_label(tag: DatasetTag, index: int) -> str:
    """"7" for MNIST; "7 Sneaker" for the others (their number and their name, as a picker shows them)."""
    name = tag.class_names[int(index)]
    return name if tag.digits or name == str(index) else f"{index} {name}"


def noun(tag: DatasetTag) -> str:
    """What a class is called on the pages: "digit" for MNIST, "class" for the rest."""
    return "digit" if tag.key == "mnist" else "class"


def describe(tag: DatasetTag) -> str:
    """One line for people: "Fashion-MNIST: photos of Zalando's clothes ... (10 classes)"."""
    spec = NAMED.get(tag.key)
    if spec is not None:
        return f"{spec.title}: {spec.about} ({tag.n_classes} classes)"
    return f"{tag.title}: your own data ({tag.n_classes} classes)"


def choices() -> dict[str, str]:
    """Key to label for the picker: the named datasets, then the workspace's own."""
    options = {key: spec.title for key, spec in NAMED.items()}
    for meta in own_sets():
        options[meta["key"]] = f"{meta['title']} (yours, {len(meta['classes'])} classes)"
    return options


def picker(where: str = "sidebar") -> DatasetTag:
    """The dataset picker (a button naming the active dataset, which opens the list); picking one makes it the session's dataset on every page. Every
    picker follows the active dataset, whichever page or picker changed it. Returns the active tag."""
    options = choices()
    if active_key() not in options:
        active_tag()  # falls back, with the notice
    widget = f"dataset_picker_{where}"
    st.session_state[widget] = active_key()
    # a button naming the dataset, which opens the list: see ui.state.model_picker for why not a drop-down list
    # on_change="rerun": the popover's open state is in st.session_state, so picking closes it (_picked)
    with st.popover(f"Dataset: {options[active_key()]}", icon=":material/dataset:", key=f"{widget}_button",
                    on_change="rerun", width="stretch" if where == "sidebar" else "content",
                    help="What Dataset, Train, Evaluate, Inside and Experiments work on. Upload your own on "
                         "the Dataset page."):
        st.radio("Dataset", list(options), format_func=options.get, key=widget, on_change=_picked, args=(widget,))
    return active_tag()


def _picked(widget: str) -> None:
    set_active(st.session_state[widget])
    st.session_state[f"{widget}_button"] = False  # done: the list closes, the page shows the dataset picked


def show_notice() -> None:
    notice = st.session_state.pop("dataset_notice", None)
    if notice:
        st.warning(notice, icon=":material/dataset:")


# --------------------------------------------------------------------------- loading


def data_root() -> str:

    return downloads.data_folder()


@st.cache_data(ttl=60, show_spinner=False)
def named_files_status(key: str, root: str) -> dict[str, Any]:
    """Which of a named dataset's files are present, missing or corrupt (md5 checked; cached a minute)."""
    return named_status(key, root)


@st.cache_resource(show_spinner="Loading the dataset...", max_entries=3)
def _load_named(key: str, root: str) -> Dataset:
    # mapped from uncompressed copies: the training workers map the same files (one copy of the pages)
    return load_named(key, root, mapped=True)


def if_ready() -> Dataset | None:
    """The active dataset when its files are there and good, else None (never downloads)."""
    key = active_key()
    if key in NAMED:
        root = data_root()
        if not named_files_status(key=key, root=root)["complete"]:
            return None
        try:
            return _load_named(key=key, root=root)
        except (MNISTFormatError, OSError):
            return None
    return _open_own(key)


def _open_own(key: str) -> Dataset | None:

    try:
        return workspace.store().open_dataset(workspace.workspace_key(), key)
    except OwnDataError:
        return None


def require_files(purpose: str, tag: DatasetTag | None = None) -> DatasetTag:
    """Stop the page unless the dataset's files (the active one's, or ``tag``'s) are there and good (offering
    the download), without loading them; returns its tag."""
    tag = active_tag() if tag is None else tag
    if tag.key not in NAMED:
        if _open_own(tag.key) is None:
            st.error(f"Your dataset {tag.title} cannot be opened on the server any more: upload it again on the "
                     "Dataset page.")
            st.stop()
        return tag
    root = data_root()
    status = named_files_status(key=tag.key, root=root)
    folder = folder_of(tag.key, root)
    if status["corrupt"]:
        st.error(f"These {tag.title} files in {folder} are corrupt: {', '.join(status['corrupt'])}. Delete them "
                 f"and download {tag.title} again.")
        st.stop()
    if status["missing"]:
        st.info(f"{purpose} needs the {tag.title} dataset, which is not downloaded yet.")
        download_panel(tag.key, widget_key=f"download_{tag.key}_{purpose}")
        st.stop()
    return tag


def require(purpose: str, tag: DatasetTag | None = None) -> Dataset:
    """The active dataset (or ``tag``'s), loaded; if it is missing, offer the download here and stop the
    page."""
    tag = require_files(purpose, tag)
    if tag.key not in NAMED:
        data = _open_own(tag.key)
        assert data is not None  # checked by require_files a moment ago
        return data
    try:
        return _load_named(key=tag.key, root=data_root())
    except (MNISTFormatError, OSError) as exc:
        st.error(f"{tag.title} could not be read: {exc}")
        st.stop()


def require_run_data(run: Any, purpose: str) -> Dataset:
    """The dataset a run of this workspace trained on (whichever is active), loaded; stops the page with a
    message when it is missing."""
    tag = run.dataset_tag
    if tag.key in NAMED:
        return require(purpose, tag)

    try:
        return workspace.store().run_dataset(run)
    except OwnDataError:
        st.error(f"{run.name} trained on your dataset {tag.title}, which is no longer on this server: upload it "
                 "again on the Dataset page.")
        st.stop()


def require_digits_model(model: Any, purpose: str) -> None:
    """For the pages that work on MNIST only (one step by hand, the hidden-layer map, the robustness lab):
    stop, saying why, unless the model was trained on digits; say so when another dataset is active."""
    if not model.dataset.digits:
        st.info(f"{purpose} works on MNIST's handwritten digits, with a model trained on them; the active model "
                f"was trained on {model.dataset.describe()}. Pick a model trained on MNIST in the model picker "
                "(Home, Draw, Evaluate or Inside).", icon=":material/dataset:")
        st.stop()
    tag = active_tag()
    if not tag.digits:
        st.caption(f":material/dataset: {purpose} works on MNIST, whichever dataset is active ({tag.title}).")


def download_panel(key: str, widget_key: str = "download") -> None:
    """A Download button for a named dataset; when pressed, a progress bar while the missing files arrive.

    Offline or when every mirror fails, ``ann.data`` raises DownloadError with a message that says what
    to fetch by hand and where to put it: it is shown as it is.
    """

    spec = NAMED[key]
    root = data_root()
    sizes = spec.published.sizes
    missing = named_files_status(key=key, root=root)["missing"] or list(sizes)
    if downloads.download_button(spec.title, folder_of(key, root), {name: sizes[name] for name in missing},
                             lambda progress: ensure_named(key, root, progress=progress), widget_key):
        named_files_status.clear()
        downloads.dataset_status.clear()  # MNIST's status as the pages that only know MNIST see it
        st.rerun()


# --------------------------------------------------------------------------- your own data


def upload_panel() -> None:
    """Upload your own data: read it (with its limits and messages), keep it in the workspace, make it active.

    The files are read on the server's script thread, images one at a time (``ann.data.preprocess``' lock), with a
    progress bar; a problem stops the reading with ``ann.data.own``'s message, which names the file or class.
    The dataset is kept privately in this browser's workspace (where the training workers read it).
    """

    form = st.segmented_control("Upload", ["Files", "A folder"], default="Files", required=True, key="own_form",
                                help="Files: a CSV file, an IDX pair or a zip. A folder: a folder holding one "
                                     "subfolder of images per class, uploaded as it is.")
    key = uploader_key(form)
    if form == "Files":
        st.file_uploader(
            "A CSV file, an IDX pair, or a .zip of one folder of images per class", accept_multiple_files=True,
            key=key, max_upload_size=MAX_TOTAL_MB, on_change=_refuse_too_large, args=(key,),
            help="CSV: the seed's format (a label then 784 pixels a line; two files named train and test keep "
                 "their split). IDX: images and labels (two pairs named train and test keep their split); a "
                 "classes.txt beside them names the classes. Images: any size and colour, one folder per class, "
                 "zipped (train/ and test/ folders above them keep their split).")
    else:
        st.file_uploader(
            "A folder with one subfolder of images per class", accept_multiple_files="directory",
            key=key, max_upload_size=MAX_TOTAL_MB, on_change=_refuse_too_large, args=(key,),
            help="Each subfolder's name is its class's name; images of any size and colour (PNG, JPEG, GIF, "
                 "BMP, TIFF, WebP). train/ and test/ folders above the class folders keep their split.")
    files = st.session_state.get(key) or []
    fraction = st.slider("Held out for testing when one set is given", 0.05, 0.5, TEST_FRACTION, 0.05,
                         key="own_fraction", format="%.2f",
                         help="A seeded split (seed 0), class by class: the same data gives the same split.")
    st.caption("Limits: " + "; ".join(f"{what}: {limit}" for what, limit in LIMITS.items()) + ".")
    if not st.button("Read and use this data", key="own_read", type="primary", icon=":material/upload:",
                     disabled=not files):
        return
    bar = st.progress(0.0, text="Reading...")
    last = [0.0]

    def progress(done: int, total: int) -> None:
        now = time.perf_counter()
        if now - last[0] >= UI_UPDATE_SECONDS or done == total:
            last[0] = now
            bar.progress(done / total, text=f"Reading the images: {done:,} of {total:,}")

    try:
        data = read_own_data([(f.name, f.getvalue()) for f in files], test_fraction=fraction, progress=progress)
        tag = workspace.store().save_dataset(workspace.workspace_key(), data)
    except OwnDataError as exc:  # nothing was kept: the message names the file or class, and the fix
        bar.empty()
        _release(key)
        st.session_state["own_result"] = ("error", f"Not read: {exc}")
        st.rerun()
    _release(key)
    bar.empty()
    set_active(tag.key)
    shown = ", ".join(data.class_names[:6]) + (", ..." if data.n_classes > 6 else "")
    note = f" {data.note[0].upper()}{data.note[1:]}." if data.note else ""
    message = (f"**{data.title}** is now the active dataset: {data.n_classes} classes ({shown}), "
               f"{len(data.train):,} training and {len(data.test):,} test images.{note} Train a network on it "
               "on the Train page.")
    st.session_state["own_result"] = ("success", message)
    st.rerun()


def uploader_key(form: str) -> str:
    """The uploader's widget key: a new one after each upload is read or refused, so that the uploader starts
    empty and Streamlit forgets the files (:func:`_release`)."""
    generation = st.session_state.get(UPLOAD_GENERATION, 0)
    base = "own_upload" if form == "Files" else "own_folder"
    return base if not generation else f"{base}_{generation}"


def _refuse_too_large(key: str) -> None:
    """As the files arrive (each at most the limit, Streamlit checks that): their total, refused at once."""
    files = st.session_state.get(key) or []
    total = sum(f.size for f in files)
    if total > MAX_TOTAL_MB * 2**20:
        _release(key)
        st.session_state["own_result"] = (
            "error", f"Not read: {len(files):,} files of {total / 2**20:,.0f} MB in all; at most {MAX_TOTAL_MB} MB "
                     "of files are read here. Upload fewer or smaller files (28x28 is all the network sees).")


def _release(key: str) -> None:
    """Give an upload's bytes back: Streamlit keeps every uploaded file of a session until the session ends
    (a minute after its tab closed), so an upload read or refused is removed from its store, and the uploader
    is replaced by an empty one."""
    context = get_script_run_ctx()
    for upload in st.session_state.get(key) or []:
        upload.close()
        if context is not None:
            context.uploaded_file_mgr.remove_file(context.session_id, upload.file_id)
    st.session_state[UPLOAD_GENERATION] = st.session_state.get(UPLOAD_GENERATION, 0) + 1


def show_upload_result() -> None:
    result = st.session_state.pop("own_result", None)
    if result is not None:
        (st.error if result[0] == "error" else st.success)(result[1])
