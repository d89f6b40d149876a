"""Whose runs these are: the browser's private workspace key, and the server's run store and training pool.

The key. Each browser gets a random workspace key the first time it opens the app, kept in a cookie
(``ann_workspace``, a year, this site only), so a reload or a return next week finds the same runs; the
session keeps it in ``st.session_state`` too. Nothing in the address bar carries it, so a link copied to
share a page (the Train page's settings, say) never gives a workspace away. To move to another device, the
Runs page shows a private link with ``?workspace=KEY``: opening it adopts that workspace in the new browser
(and takes the key out of the address bar at once). A link whose key owns no runs on this server is "not
found", and the browser keeps its own workspace.

What the workspace chose. The active model and the active dataset belong to the workspace, not to one
session: every change is written to the run store (``ann.service.choices``), and a session opening an existing
workspace (a reload, a second tab, a return tomorrow, a ``?workspace=`` link) reads it once
(:func:`stored_choice`); ``ui.state`` and ``ui.datasets`` open what it names. Tabs open side by side do not
follow each other's picks: each goes on with its own until it is reloaded, and the last pick is what a new one
opens.

The store and the pool are one per server (a module-level dictionary): plain objects from ``ann.service.store``
and ``ann.service.worker``, safe to call from every session's script thread; no Streamlit call is ever made from the
pool's thread or its worker processes.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Callable

import streamlit as st

from ann.service.choices import ModelChoice, WorkspaceChoice
from ann.service.pool import TrainingService
from ann.service.records import RunInfo, default_runs_dir, is_workspace_key, new_workspace_key
from ann.service.store import RunStore
from ui import downloads

COOKIE = "ann_workspace"
COOKIE_DAYS = 365
KEY = "workspace_key"
FRESH = "workspace_fresh"  # the key was made in this session: nothing is stored under it yet
CHOICE = "workspace_choice"  # (key, WorkspaceChoice): what the store held for the workspace when first asked
CHOSE = "workspace_chose"  # this session wrote a choice: the cookie is worth writing


# one TrainingService per (runs folder, data folder), for the server's lifetime. A plain dictionary rather
# than st.cache_resource: a page asks for the service several times a script run, and each call of a cached
# function hashes its arguments and inspects its signature.
_services: dict[tuple[str, str], TrainingService] = {}
_services_lock = threading.Lock()


def service() -> TrainingService:
    """The server's training pool (started on first use; it starts worker processes only for queued runs)."""
    folders = (str(default_runs_dir()), downloads.data_folder())
    found = _services.get(folders)
    if found is None:
        with _services_lock:  # two sessions' first runs at once still make one
            found = _services.get(folders)
            if found is None:
                found = _services[folders] = TrainingService(RunStore(folders[0]), folders[1])
    return found


def store() -> RunStore:
    return service().store


def _set_cookie(key: str) -> None:
    """Ask the browser to keep the key: a script in the page (st.html runs it; the page is same-origin)."""
    max_age = COOKIE_DAYS * 86_400
    script = (f"<script>document.cookie = {json.dumps(COOKIE)} + '=' + {json.dumps(key)} + "
              f"'; path=/; max-age={max_age}; SameSite=Lax' + "
              "(window.location.protocol === 'https:' ? '; Secure' : '');</script>")
    st.html(script, unsafe_allow_javascript=True)


def workspace_key() -> str:
    """This browser's workspace key (made, or read from its cookie, on the session's first script run)."""
    key = st.session_state.get(KEY)
    if key is None:
        cookie = st.context.cookies.get(COOKIE) if st.context.cookies is not None else None
        key = cookie if is_workspace_key(cookie) else new_workspace_key()
        st.session_state[KEY] = key
        st.session_state["workspace_cookie_pending"] = st.session_state[FRESH] = key != cookie
    return key


def settle_workspace() -> None:
    """On every script run, before a page draws: adopt a ``?workspace=`` link and take the key out of the
    address bar (:func:`keep_cookie` writes the cookie)."""
    key = workspace_key()
    adopted = st.query_params.get("workspace")
    if adopted is not None:
        del st.query_params["workspace"]
        if adopted != key:
            if is_workspace_key(adopted) and store().workspace_exists(adopted):
                st.session_state[KEY] = key = adopted
                st.session_state["workspace_cookie_pending"] = True
                st.session_state[FRESH] = False
                st.session_state["workspace_notice"] = ("success", "This browser now uses the workspace of the "
                                                        "link you opened: its runs are listed on the Runs page.")
            else:
                st.session_state["workspace_notice"] = ("warning", "The workspace link you opened was not "
                                                        "found on this server; this browser keeps its own "
                                                        "workspace.")


def keep_cookie(runs: list[RunInfo], own_sets: Callable[[], list], sidebar: bool = True) -> None:
    """Write the workspace's cookie once the workspace holds something worth finding again: a run, an own
    dataset or a model or dataset picked (``runs``: the frame's query of this script run; ``own_sets`` lists the
    workspace's datasets, asked only while the cookie is still to be written and nothing else decided it).
    Until then a reload may as well start a new, empty workspace; and a visitor who only looks around costs the
    server no script in the page (``st.html`` with JavaScript: two more of Streamlit's script files for every
    first look). A ``?workspace=`` link adopts a workspace with runs: its cookie is written on that same run.
    ``sidebar=False``: write it where the caller is (a fragment, such as the Train page's Start, cannot
    write to the sidebar)."""
    if st.session_state.get("workspace_cookie_pending") and (runs or st.session_state.get(CHOSE) or own_sets()):
        del st.session_state["workspace_cookie_pending"]
        with st.sidebar if sidebar else st.container():
            _set_cookie(workspace_key())


def show_workspace_notice() -> None:
    notice = st.session_state.pop("workspace_notice", None)
    if notice is not None:
        kind, text = notice
        (st.success if kind == "success" else st.warning)(text, icon=":material/key:")


def my_runs() -> list[RunInfo]:
    return store().list_runs(workspace_key())


# --------------------------------------------------------------------------- what the workspace chose


def stored_choice() -> WorkspaceChoice:
    """The workspace's model and dataset as the run store held them when this session first asked (read once
    per session and workspace; a key made in this session has nothing stored, and costs no query)."""
    key = workspace_key()
    cached = st.session_state.get(CHOICE)
    if cached is None or cached[0] != key:
        chosen = WorkspaceChoice()
        if not st.session_state.get(FRESH):
            try:
                chosen = store().choice(key)
            except (sqlite3.Error, OSError):  # the store unavailable: the defaults, and the pages still work
                pass
        cached = st.session_state[CHOICE] = (key, chosen)
    return cached[1]


def remember_model(model: ModelChoice | None) -> None:
    """Keep the workspace's active model (None: the default) for its next session."""
    _remember(lambda key: store().choose_model(key, model))


def remember_dataset(dataset: str) -> None:
    """Keep the workspace's active dataset for its next session."""
    _remember(lambda key: store().choose_dataset(key, dataset))


def remember_offer(run_id: str | None) -> None:
    """Keep the run offered as the active model (None: no offer) for the workspace's next session."""
    _remember(lambda key: store().offer(key, run_id))


def _remember(write: Callable[[str], None]) -> None:
    try:
        write(workspace_key())
    except (sqlite3.Error, OSError):  # not kept for the next session, but this one goes on with it
        return
    st.session_state[CHOSE] = True
