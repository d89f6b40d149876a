"""The app's frame: page set-up, the navigation between the pages, and the sidebar.

``app.py`` calls :func:`run_app`; every page starts with :func:`page_start`. Why the second: Streamlit
still has its older multipage mode, in which each file in a ``pages/`` folder beside the entry file is a
page of its own. The first script run of a fresh server, and every AppTest run, decide between the two
modes before ``st.navigation`` has been called, so a page opened by its URL there runs its file alone,
without this frame (no navigation, no sidebar, no status of the runs in training). :func:`page_start`
notices and runs the frame instead, which runs the page inside it.
"""

from __future__ import annotations

import copy
import gc
import threading
import time

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from ann import blas
from ui import datasets, memory, phone, run_panels, serving, setup_link, state, workspace

# a garbage collection once a minute instead of after every script run (config.toml's runner.postScriptGC),
# and freed heap pages back to the system (ui.memory)
memory.start_housekeeping()

TRAIN_LINK_NAMES = frozenset({"preset", "hidden", *(p.name for p in setup_link.train_params((), ()))})

PAGES = (
    # (file, title, icon); the first is the default page
    ("pages/home.py", "Home", ":material/home:"),
    ("pages/dataset.py", "Dataset", ":material/grid_view:"),
    ("pages/train.py", "Train", ":material/model_training:"),
    ("pages/runs.py", "Runs", ":material/table_chart:"),
    ("pages/evaluate.py", "Evaluate", ":material/fact_check:"),
    ("pages/draw.py", "Draw", ":material/draw:"),
    ("pages/inside.py", "Inside", ":material/neurology:"),
    ("pages/experiments.py", "Experiments", ":material/science:"),
    ("pages/step.py", "One step by hand", ":material/calculate:"),
    ("pages/map.py", "Hidden-layer map", ":material/scatter_plot:"),
    ("pages/robustness.py", "Robustness lab", ":material/shield:"),
)

# components' bundles sent as they are, the config files polled every two seconds, the frontend's files and the
# pages' addresses answered from memory (ui.serving)
serving.install()  # app.py did already, but a page file run on its own (page_start) comes here first

# the navigation's st.Page objects, made once per app folder: see _pages
_made_pages: dict[str, list] = {}
_this_run = threading.local()  # each session's script runs on its own thread, one run at a time
_freeze_started = threading.Event()


def run_app() -> None:
    """Set the page up, draw the navigation and the sidebar, and run the page the URL asks for."""
    st.set_page_config(page_title="ANN Explorer", page_icon=":material/neurology:", layout="wide")
    # every BLAS pool of the server at one thread before any page computes (a PCA's SVD, a forward pass
    # outside ann.train): a pool at two threads spins beside a busy second core (ann.blas)
    blas.hold_pools_at_one()
    page = st.navigation(_pages())
    phone.style()  # the layout rules every page shares (a phone's first screen, readable text)
    # Whose runs: the browser's workspace (a cookie, or a ?workspace= link); runs that ended since this
    # session last looked make their model active before anything is drawn.
    workspace.settle_workspace()
    runs = workspace.my_runs()  # the frame's one query of the run store per script run
    run_panels.notice_ended_runs(runs)  # once a script run: the status bar below is drawn from these runs
    with st.sidebar:
        # which dataset the pages work on (Dataset, Train, Evaluate, Inside, Experiments), and the picker
        datasets.picker("sidebar")
    workspace.keep_cookie(runs, datasets.own_sets)
    with st.sidebar:
        model = state.active_model()
        if model is None:
            st.caption("**Active model**: none yet. Train one on the Train page.")
        else:
            headline, sentence = state.describe_model(model)
            st.caption(f"**Active model**  \n{headline}.  \n{sentence}")
    workspace.show_workspace_notice()
    datasets.show_notice()
    state.show_model_notice()
    on_train = page.url_path == "train"
    if not on_train and st.session_state.get("page_before") == "train":
        # just left the Train page: its settings stay on its own address, not on the next page's
        for name in [name for name in st.query_params if name in TRAIN_LINK_NAMES]:
            del st.query_params[name]
        st.session_state.pop("tr_link_warnings", None)  # and what its link got wrong is said no more
    st.session_state["page_before"] = page.url_path
    # every page but Train (which shows its run in full: the one picked there, else the newest) starts with the
    # live status of your runs
    in_view = st.session_state.get("tr_view")
    if on_train and runs and in_view not in {run.id for run in runs}:
        in_view = runs[-1].id
    run_panels.status_bar(runs, hide=in_view if on_train else None)
    _this_run.inside_frame = True
    try:
        page.run()
    finally:
        _this_run.inside_frame = False
    if not _freeze_started.is_set():
        _freeze_started.set()
        threading.Thread(target=_freeze_the_long_lived, name="ann-freeze", daemon=True).start()


def _pages() -> list:
    """The navigation's pages for this script run. Each ``st.Page`` resolves its file's path on the disk when
    made (0.2 ms apiece, eleven on every script run of every visitor), so they are made once per app folder
    and copied for each run: ``st.navigation`` marks the page it returns as callable and ``Page.run`` unmarks
    it, so two sessions running at once must not share one object."""
    folder = str(get_script_run_ctx().pages_manager.main_script_parent)
    made = _made_pages.get(folder)
    if made is None:
        made = _made_pages[folder] = [st.Page(path, title=title, icon=icon, default=index == 0)
                                      for index, (path, title, icon) in enumerate(PAGES)]
    return [copy.copy(page) for page in made]


def _freeze_the_long_lived() -> None:
    """Take the server's long-lived objects (modules, classes, the dataset, the first session's) out of the
    garbage collector's sight once the first page is out: ``gc.freeze()`` moves every object tracked now
    into a permanent generation that collections skip, so the housekeeping thread's full collections
    (``ui.memory``) walk only what sessions made since. What it freezes is never freed by the cycle
    collector, so it is done once, early; plain reference counting still frees everything as before.

    Heavy libraries that only some pages need (altair, pandas: ``ui.lazy``) are not imported here: a server
    that serves first looks never pays for them. It waits a moment first: the first page is still being sent.

    Only the young generations are collected first (well under a millisecond): a full collection would walk
    every object of the server (20-80 ms) to free what the imports left, which was nothing measurable (a fresh
    process importing the app's modules: no object freed)."""
    time.sleep(1.5)
    gc.collect(1)  # the young garbage goes first; the rest is frozen
    gc.freeze()


def page_start() -> None:
    """First call of every page: run inside the frame, starting the frame if Streamlit did not."""
    if getattr(_this_run, "inside_frame", False):
        return
    run_app()  # runs this very page again, inside the frame
    st.stop()  # and ends this frameless run of it
