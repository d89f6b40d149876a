"""MNIST's files for the dashboard: where they are, whether they are ready, the shared copy, the download.

MNIST is loaded once per server process (``st.cache_resource``) and shared by every session. The arrays the
readers return are read-only, so no session can change them for another; they stay uint8 (55 MB for all 70,000
images) and are scaled a batch at a time where they are used.
"""

from __future__ import annotations

import re
import time
import urllib.parse
from collections.abc import Callable
from typing import Any

import streamlit as st

from ann.data.mnist import MNIST_SIZES, default_data_dir, ensure_mnist, load_mnist_mapped, mnist_status
from ann.data.split import MNIST, ChecksumError, MNISTFormatError

UI_UPDATE_SECONDS = 0.25  # at most four progress redraws a second: the UI stays far below 1% of training
_URL = re.compile(r"https?://[^\s()]+[^\s().,;:]")  # a web address in a sentence, without its closing punctuation


def readable(message: str) -> str:
    """ann's message in Markdown: its line breaks kept (one line per mirror), each web address a link named by
    its host, which a phone's narrow column does not break in the middle of a word as it does a long URL."""
    linked = _URL.sub(lambda m: f"[{urllib.parse.urlsplit(m.group()).netloc}]({m.group()})", message)
    return linked.replace("\n", "  \n")


def data_folder() -> str:
    """The MNIST folder: ``data/`` in the project, or ``$ANN_DATA_DIR``."""
    return str(default_data_dir())


@st.cache_data(ttl=60, show_spinner=False)
def dataset_status(folder: str) -> dict[str, Any]:
    """Which MNIST files are present, missing or corrupt (checks md5s, about 25 ms; cached a minute)."""
    return mnist_status(folder)


@st.cache_resource(show_spinner="Loading MNIST: 70,000 images...", max_entries=1)
def _load_mnist(folder: str) -> MNIST:
    # mapped from uncompressed copies: the training workers map the same files, so the server and they
    # share one copy of MNIST's 55 MB in memory
    return load_mnist_mapped(folder)


def mnist_if_ready() -> MNIST | None:
    """The shared dataset when its files are all present and good, else None (never downloads)."""
    folder = data_folder()
    if not dataset_status(folder=folder)["complete"]:
        return None
    try:
        return _load_mnist(folder=folder)
    except (MNISTFormatError, OSError):
        return None


def require_mnist_files(purpose: str) -> None:
    """Stop the page unless MNIST's files are all present and good (offering the download), without
    loading them: for a page whose work happens elsewhere (the Train page's runs train in worker processes)."""
    folder = data_folder()
    status = dataset_status(folder=folder)
    if status["corrupt"]:
        st.error(f"These MNIST files in {folder} are corrupt: {', '.join(status['corrupt'])}. Delete them "
                 "and download MNIST again (the Home page offers the download).")
        st.stop()
    if status["missing"]:
        st.info(f"{purpose} needs the MNIST dataset, which is not downloaded yet.")
        download_panel(key=f"download_{purpose}")
        st.stop()


def require_mnist(purpose: str) -> MNIST:
    """The shared dataset; if it is missing, offer the download here and stop the page."""
    require_mnist_files(purpose)
    folder = data_folder()
    try:
        return _load_mnist(folder=folder)
    except (MNISTFormatError, OSError) as exc:
        st.error(f"MNIST could not be read: {exc}")
        st.stop()


def download_panel(key: str = "download") -> None:
    """A Download button for MNIST; when pressed, a progress bar while the missing files arrive.

    Offline or when every mirror fails, ``ann.data`` raises DownloadError with a message that says what
    to fetch by hand and where to put it: it is shown as it is.
    """
    folder = data_folder()
    missing = dataset_status(folder=folder)["missing"] or list(MNIST_SIZES)
    if download_button("MNIST", folder, {name: MNIST_SIZES[name] for name in missing},
                       lambda progress: ensure_mnist(folder, progress=progress), key):
        dataset_status.clear()
        st.rerun()


def download_button(title: str, folder: Any, sizes: dict[str, int], fetch: Callable[..., Any], key: str) -> bool:
    """The Download button of a dataset's ``sizes`` (the files still missing, name -> bytes) and, once
    pressed, a progress bar while ``fetch(progress=...)`` brings them; True when they arrived. A failure
    (offline, every mirror failing, a bad checksum, a full disk) is shown with ann's own message."""
    total = sum(sizes.values())
    st.caption(f"The four {title} files ({total / 1e6:.1f} MB) are downloaded once into `{folder}` and checked "
               "against their published md5 sums.")
    if not st.button(f"Download {title} ({total / 1e6:.1f} MB)", key=key, type="primary",
                     icon=":material/download:"):
        return False
    bar = st.progress(0.0, text="Connecting...")
    received: dict[str, int] = {}
    last_draw = 0.0

    def progress(done: int, size: int, name: str) -> None:
        nonlocal last_draw
        received[name] = done
        now = time.perf_counter()
        if now - last_draw < UI_UPDATE_SECONDS and done < size:
            return
        last_draw = now
        got = sum(received.values())
        bar.progress(min(got / total, 1.0), text=f"Downloading {name}: {got / 1e6:.1f} of {total / 1e6:.1f} MB")

    try:
        fetch(progress)
    except (OSError, ChecksumError) as exc:  # DownloadError is an OSError, as is a full disk
        bar.empty()
        st.error(readable(str(exc)))
        return False
    return True
