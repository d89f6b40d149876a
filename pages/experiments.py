"""Experiments: the seed blog's claims put to the test, from shipped full-MNIST results or live.

Two sections, each with its precomputed result (``data/*.json``, written by ``bench/run_experiments.py``
through ``ann.experiments``) shown at once, and a live run on a subset of this session's data:

- **Error rules**: the seed's chart of four ways to send the output error back to the hidden layer.
- **Sweeps**: test accuracy against the learning rate, the hidden layer's size, and the epochs.

Live runs follow the Train page's Start/Stop pattern: Start's callback leaves a request; the script run that
follows draws the settings disabled and Stop enabled, then runs the experiment at the end of that same run
through the sweep runner (``ann.experiments.sweep.run_sweep``, the one ``python -m ann sweep`` uses): the rules (or the
swept values) train side by side on worker processes, one per core, and each is kept in the session as it
finishes. Stop interrupts the script at its next progress redraw, which stops the workers between two
chunks; the next run marks the result stopped, and everything that finished before stays on the chart.
"""

import dataclasses
import threading
import time
from collections.abc import Callable
from typing import Any

import streamlit as st

from ann.blas import available_cores
from ann.config import ConfigError, configs_to_dict
from ann.estimates import duration_text
from ann.experiments.grid import SweepData, SweepError, expand_grid
from ann.experiments.seed_claims import as_error_rules, as_sweep
from ann.experiments.sweep import run_sweep
from ann.experiments.timing import sweep_seconds
from ann.formats import format_accuracy
from ui import datasets, findings, shell, waits
from ui import experiments_charts as ec

shell.page_start()

RECORD_CHOICES = [500, 1000, 2000, 5000, 10_000, 20_000, 60_000]
LR_CHOICES = [0.003, 0.01, 0.03, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0]
HIDDEN_CHOICES = [10, 25, 50, 100, 200, 400, 800]
SWEEP_NAMES = {"learning_rate": "learning rate", "hidden_nodes": "hidden nodes", "epochs": "epochs"}
LIVE_RULES = "ex_live_rules"  # this session's live error-rule result
LIVE_SWEEPS = "ex_live_sweeps"  # this session's live sweeps, by parameter
FILE_RESULT = "ex_file_result"  # a results file opened on the page (python -m ann sweep --out)
FILE_NAME = "ex_file_name"  # (name, size) of the upload FILE_RESULT was read from
keep = "session"  # the knobs survive a visit to another page

# --------------------------------------------------------------------------- helpers


def show_results_file(loaded: dict[str, Any] | None) -> None:
    """A results file opened on this page: a grid's chart, finding and runs, or a sweep's own chart."""
    if loaded is None:
        return
    if "error" in loaded:
        st.warning(loaded["error"])
        return
    result, name = loaded["result"], loaded["name"]
    kind = result["kind"]
    if kind == "grid":
        names = ", ".join(p["name"].replace("_", " ") for p in result["parameters"]) or "no setting"
        st.markdown(f"**{name}: {len(result['runs'])} runs over {names}, {len(result['seeds'])} seed"
                    f"{'s' if len(result['seeds']) > 1 else ''}, {result['records']:,} training records**")
        if any(r["status"] == "finished" for r in result["runs"]):
            st.altair_chart(ec.grid_chart(result), width="stretch")
        st.markdown(findings.grid_finding(result))
        where = (f"Dask cluster at {result['scheduler']}" if result.get("backend") == "dask"
                 else f"{result.get('workers', '?')} local processes")
        st.caption(f"Trained on {where} in {duration_text(result.get('seconds_total', 0.0))}.")
        st.dataframe(ec.grid_table(result), hide_index=True, width="stretch")
    elif kind == "error_rules":
        st.altair_chart(ec.error_rules_chart(result), width="stretch")
        st.markdown(findings.error_rules_finding(result))
    else:
        entries = findings.sweeps_by_parameter(result) if kind == "sweeps" else {result["parameter"]: [result]}
        for parameter, group in entries.items():
            for entry in group:
                chart = ec.epochs_chart(entry) if parameter == "epochs" else ec.sweep_chart(entry)
                st.altair_chart(chart, width="stretch")


def shipped_chart(path, parameter: str, result: dict[str, Any], zoom: bool = False, position: int = 0) -> None:
    """Draw a chart of a shipped results file (``parameter``: "rules", or a sweep's parameter; ``position``:
    which of the file's sweeps of that parameter). Its Vega-Lite dict is built once per server, shared by every
    visitor (the file's path and time in the key): building it costs a first look more than drawing it."""
    st.vega_lite_chart(findings.shipped_spec(path=str(path), modified=path.stat().st_mtime, parameter=parameter,
                                             zoom=zoom, position=position, _result=result),
                       width="stretch")


def request_start(kind: str) -> None:
    st.session_state["ex_start_requested"] = kind


def recover_interrupted() -> None:
    """A live result still marked running was interrupted (Stop, or leaving the page): it stopped."""
    live = [st.session_state.get(LIVE_RULES), *st.session_state.get(LIVE_SWEEPS, {}).values()]
    for result in live:
        if result is not None and result.get("status") == "running":
            result["status"] = "stopped"
            result["stopped"] = True


def run_note(result: dict[str, Any]) -> str:
    """One line on how a live run went (and on which dataset)."""
    on = f" On {result['dataset']}." if result.get("dataset") else ""
    if result.get("status") == "stopped":
        return (f"Stopped after {duration_text(result.get('seconds_total', 0.0))}: the parts that finished are "
                f"shown.{on}")
    return f"Finished in {duration_text(result.get('seconds_total', 0.0))}.{on}"


def zoom_note(results: dict[str, Any], zoom: bool) -> str:
    """Which rules the zoomed chart leaves out, and where they are."""
    if not zoom:
        return ""
    below = [s for s in results.get("series", []) if s["test_accuracy"] and max(s["test_accuracy"]) < 0.5]
    if not below or len(below) == len(results.get("series", [])):
        return ""
    return " Below the zoomed chart: " + "; ".join(
        f"{ec.RULE_LABELS.get(s['rule'], s['rule'])}, at most {format_accuracy(max(s['test_accuracy']))}"
        for s in below) + "."


def shipped_note(results: dict[str, Any]) -> str:
    """Where a shipped result comes from, in one line."""
    created = str(results.get("created", ""))[:10]
    machine = results.get("machine") or {}
    cores = f" on {machine['cpus']} cores" if machine.get("cpus") else ""
    minutes = results.get("seconds_total")
    took = f", {minutes / 60:.0f} minutes{cores}" if minutes else ""
    return (f"Precomputed on full MNIST by `bench/run_experiments.py` with `ann` ({created}{took}); "
            "test accuracy on all 10,000 test images.")


# --------------------------------------------------------------------------- the live runs


def live_workers(runs: int) -> int:
    """Worker processes for a live run: one per core, no more than runs (each process costs memory)."""
    return max(1, min(available_cores(), runs))


def sweep_data(dataset, records: int) -> SweepData:
    return SweepData(dataset.train.images[:records], dataset.train.labels[:records], dataset.test.images,
                     dataset.test.labels)


def fitted(specs: list, n_classes: int) -> list:
    """The grid's runs with one output node per class of the dataset (10 for MNIST and its siblings)."""
    return [dataclasses.replace(spec, network=dataclasses.replace(spec.network, output_nodes=n_classes))
            for spec in specs]


def rules_specs(settings: dict[str, Any], n_classes: int) -> list:
    """The four rules' runs: the same data, seed and configuration."""
    base = {"learning_rate": settings["lr"], "epochs": settings["epochs"], "limit": settings["records"],
            "rotate": 10.0 if settings["rotate"] else 0.0, "hidden_nodes": (settings["hidden"],)}
    return fitted(expand_grid([("error_rule", list(ec.RULES))], [settings["seed"]], base), n_classes)


def sweep_specs(settings: dict[str, Any], n_classes: int) -> list:
    """A sweep's runs: one per value, or, for epochs, one long run scored on training records too."""
    parameter = settings["parameter"]
    base = {"learning_rate": 0.1, "epochs": settings["epochs"], "limit": settings["records"],
            "rotate": 10.0 if settings["rotate"] else 0.0}
    if parameter == "epochs":
        return fitted(expand_grid([], [settings["seed"]], base | {"epochs": settings["max_epochs"]},
                                  train_eval_records=min(settings["records"], 10_000)), n_classes)
    return fitted(expand_grid([(parameter, grid_values(settings))], [settings["seed"]], base), n_classes)


def grid_values(settings: dict[str, Any]) -> list:
    parameter = settings["parameter"]
    return [(int(v),) if parameter == "hidden_nodes" else float(v) for v in settings["values"]]


def live_estimate(specs: list, records: int, test_images: int, wait: bool = True) -> float | None:
    """Calibrated seconds for a live run (``ann.experiments.timing.sweep_seconds``: measured on this server, in
    the background the first time; ``wait=False``: None until then). Waiting, it says so while it waits."""
    estimate = sweep_seconds(specs, records, test_images, live_workers(len(specs)), wait=False)
    if estimate is None and wait:  # Start pressed before the page's calibration ended: the rest of it first
        with st.spinner(waits.MEASURING.capitalize()):
            estimate = sweep_seconds(specs, records, test_images, live_workers(len(specs)))
    return estimate


def say_estimate(info_col, plan: str, estimate: Callable[[], float | None]) -> None:
    """"plan: about 9 s at this server's speed now." beside a Start button, once measured."""
    with info_col:
        waits.measured(estimate, lambda seconds: st.caption(
            f"{plan}: about {duration_text(seconds)} at this server's speed now." if seconds is not None
            else f"{plan}: how long it takes, {waits.MEASURING}"))


def run_error_rules(dataset, panel, settings: dict[str, Any]) -> None:
    """The four rules side by side on worker processes, same data, seed and configuration; the chart grows
    as each rule finishes."""
    specs = rules_specs(settings, dataset.n_classes)
    records = min(settings["records"], len(dataset.train.labels))
    result = {"kind": "error_rules", "config": {}, "records": records, "test_records": len(dataset.test.labels),
              "dataset": dataset.title, "series": [], "stopped": False, "seconds_total": 0.0, "status": "running"}
    st.session_state[LIVE_RULES] = result  # listed at once: a Stop keeps every rule that finished
    finished: list[dict[str, Any]] = []
    with panel:
        progress = waits.WaitBar(f"{len(specs)} rules on {live_workers(len(specs))} processes",
                                 live_estimate(specs, records, len(dataset.test.labels)))
        chart = st.empty()

    def on_run(record: dict[str, Any]) -> None:
        finished.append(record)
        grid = {"parameters": [{"name": "error_rule", "values": list(ec.RULES)}], "seeds": [settings["seed"]],
                "config": grid_config(specs), "records": records,
                "test_records": len(dataset.test.labels), "stopped": False,
                "seconds_total": time.perf_counter() - started, "runs": sorted(finished, key=lambda r: r["index"])}
        result.update({k: v for k, v in as_error_rules(grid).items() if k != "stopped"})
        chart.altair_chart(ec.error_rules_chart(result, epochs=settings["epochs"], zoom=settings["zoom"]),
                           width="stretch")

    started = time.perf_counter()
    run_grid(specs, sweep_data(dataset, records), progress, on_run, unit="rules")
    result["status"] = "finished"


def run_setting_sweep(dataset, panel, settings: dict[str, Any]) -> None:
    """A sweep over one setting: one run per value, side by side on worker processes (the chart grows a
    point at a time), or, for epochs, one long run scored after every epoch on the test set and on the
    training records."""
    parameter = settings["parameter"]
    records = min(settings["records"], len(dataset.train.labels))
    specs = sweep_specs(settings, dataset.n_classes)
    title = (f"{settings['max_epochs']} epochs" if parameter == "epochs"
             else f"{len(specs)} runs on {live_workers(len(specs))} processes")
    result = {"kind": "sweep", "parameter": parameter, "config": {}, "records": records,
              "test_records": len(dataset.test.labels), "dataset": dataset.title, "values": [],
              "final_test_accuracy": [], "series": [],
              "stopped": False, "seconds_total": 0.0, "status": "running"}
    st.session_state.setdefault(LIVE_SWEEPS, {})[parameter] = result
    finished: list[dict[str, Any]] = []
    with panel:
        progress = waits.WaitBar(title, live_estimate(specs, records, len(dataset.test.labels)))
        chart = st.empty()

    def on_run(record: dict[str, Any]) -> None:
        finished.append(record)
        runs = sorted(finished, key=lambda r: r["index"])
        if parameter == "epochs":
            done_epochs = list(range(1, len(record["epochs"]) + 1))
            one = {"parameter": "epochs", "config": grid_config(specs), "values": done_epochs,
                   "final_test_accuracy": record["test_accuracy"][:len(done_epochs)],
                   "series": [{"value": settings["max_epochs"], **{k: record[k] for k in (
                       "epochs", "test_accuracy", "train_loss", "seconds", "train_accuracy")}}]
                   if done_epochs else [],
                   "train_eval_records": specs[0].train_eval_records}
        else:
            grid = {"parameters": [{"name": parameter, "values": [list(v) if isinstance(v, tuple) else v
                                                                  for v in grid_values(settings)]}],
                    "seeds": [settings["seed"]], "config": grid_config(specs), "records": records,
                    "test_records": len(dataset.test.labels), "stopped": False, "seconds_total": 0.0, "runs": runs}
            one = as_sweep(grid)
        result.update({k: v for k, v in one.items() if k not in ("stopped", "seconds_total", "kind")})
        result["seconds_total"] = time.perf_counter() - started
        draw = ec.epochs_chart(result, epochs=settings["max_epochs"]) if parameter == "epochs" else (
            ec.sweep_chart(result) if result["values"] else None)
        if draw is not None:
            chart.altair_chart(draw, width="stretch")

    started = time.perf_counter()
    run_grid(specs, sweep_data(dataset, records), progress, on_run, unit="runs")
    result["status"] = "finished"


def grid_config(specs) -> dict[str, Any]:
    """The settings every run of the grid shares (its varied ones left out), as the results show them."""
    config = configs_to_dict(specs[0].network, specs[0].train)
    for name, _ in specs[0].values:
        config.pop(name, None)
    return config


@st.cache_resource(show_spinner=False)
def _live_slot() -> threading.Semaphore:
    """One live experiment at a time on a server: each starts a worker process per core, with its own copy
    of the data, beside the training service's workers; a classroom pressing Run must not multiply them."""
    return threading.Semaphore(1)


def run_grid(specs, data: SweepData, progress: waits.WaitBar, on_run, unit: str) -> None:
    """The runs through ``ann.experiments.sweep.run_sweep`` on this machine's cores, once the server's one live
    experiment slot is free. A Stop interrupts the script at its next redraw (also while it waits); leaving
    ``run_sweep`` then stops its workers between two chunks."""
    slot = _live_slot()
    while not slot.acquire(timeout=0.5):
        progress.update(0.0, "waiting for another visitor's live experiment to end (this server runs one at "
                             "a time; yours starts by itself)")
    try:
        run_sweep(specs, data, workers=live_workers(len(specs)),
                  progress=lambda fraction, message: progress.update(fraction, message.replace("runs", unit)),
                  on_run=on_run)
    finally:
        slot.release()


# --------------------------------------------------------------------------- page

st.title("Experiments")
st.markdown(
    "The seed blog backs its choices with experiments: a chart comparing four ways to send the error back "
    "to the hidden layer, and tuning that settled on 200 hidden nodes, a learning rate of 0.1 and 5 epochs. "
    "Here they are run again with this project's network, on the same data, from the same starting weights. "
    "Each chart first shows the full-MNIST result shipped with the app; below it you can run the "
    "experiment yourself on a part of the data and watch it grow."
)
recover_interrupted()
starting = st.session_state.pop("ex_start_requested", None)
locked = starting is not None  # while an experiment runs, any widget change would interrupt it
active_data = datasets.active_tag()
data_ready = datasets.if_ready() is not None  # the live runs train on the active dataset
# Tabs that rerun the page when switched: only the open one is built (the Sweeps tab's four shipped charts
# cost a first look more than the rest of the page; bench/classroom.py).
rules_tab, sweeps_tab = st.tabs(["Error rules", "Sweeps"], key="ex_tab", on_change="rerun")

# --------------------------------------------------------------------------- error rules

if rules_tab.open:
    with rules_tab:
        st.subheader("Four ways to send the error back")
        st.markdown(
            "After each image, the output layer knows its error *E* (target minus output). To correct the "
            "weights below, each hidden node needs a share of that error. The seed weighs four rules:\n"
            "- **Wᵀ·E** (the seed's blue line): hidden node *j* gets Σₖ wₖⱼ·eₖ, each output's error flowing back "
            "along every link in proportion to its weight. One matrix product.\n"
            "- **Wᵀ·E / N** (red): the same, divided by *N*, the number of links into an output node.\n"
            "- **Equal split** (yellow): each output's error divided equally among its *N* links.\n"
            "- **Split by weight share** (green): each link gets its weight's share of all the weights into that "
            "output node, wₖⱼ / Σᵢ|wₖᵢ|.")
        st.info("**What the seed concluded**: the blue and green lines both did well after several epochs, and it "
                "chose Wᵀ·E, because it is the simplest to compute.", icon=":material/menu_book:")

        zoom = st.toggle("Zoom in on the rules that learn", value=True, key="ex_zoom", persist_state=keep,
                         help="Narrows the accuracy axis to the lines above 50%; a rule left out is named below.")
        shipped_rules, problem = findings.shipped(findings.ERROR_RULES_PATH)
        if problem:
            st.info(problem, icon=":material/hourglass_empty:")
        else:
            st.markdown("**Full MNIST, the seed's exact setting**")
            # a picture, not a Vega-Lite chart: the page's first look (this tab) costs the server no chart
            # library (bench/classroom.py); hover a point for its figures
            st.markdown(findings.shipped_rules_svg(path=str(findings.ERROR_RULES_PATH),
                                                   modified=findings.ERROR_RULES_PATH.stat().st_mtime, zoom=zoom,
                                                   _result=shipped_rules),
                        unsafe_allow_html=True)
            st.caption(shipped_note(shipped_rules) + zoom_note(shipped_rules, zoom))
            st.markdown(findings.error_rules_finding(shipped_rules))

        st.markdown("#### Run it yourself")
        st.caption(f"On **{active_data.title}** (the active dataset; pick another in the sidebar), its first "
                   "training records only, so that it takes seconds rather than minutes; the same data, starting "
                   "weights and settings for every rule. Scored on all its test images after every epoch.")
        knobs = st.columns(5)
        r_records = knobs[0].select_slider("Training records", RECORD_CHOICES, value=5000, key="ex_r_records",
                                           format_func=lambda v: f"{v:,}", disabled=locked, persist_state=keep)
        r_epochs = knobs[1].slider("Epochs", 1, 10, value=5, key="ex_r_epochs", disabled=locked, persist_state=keep)
        r_lr = knobs[2].select_slider("Learning rate", LR_CHOICES, value=0.1, key="ex_r_lr", disabled=locked,
                                      persist_state=keep)
        r_hidden = knobs[3].select_slider("Hidden nodes", HIDDEN_CHOICES, value=200, key="ex_r_hidden",
                                          disabled=locked, persist_state=keep)
        r_seed = knobs[4].number_input("Random seed", 0, 2**32 - 1, value=80, key="ex_r_seed", disabled=locked,
                                       persist_state=keep)
        r_rotate = st.checkbox("Also train every record rotated by ±10° (the seed's way; three times the time)",
                               value=False, key="ex_r_rotate", disabled=locked, persist_state=keep)
        start_col, stop_col, info_col = st.columns([1, 1, 6], vertical_alignment="center")
        start_col.button("Start", key="ex_r_start", type="primary", icon=":material/play_arrow:", width="stretch",
                         on_click=request_start, args=("rules",), disabled=locked or not data_ready)
        stop_col.button("Stop", key="ex_r_stop", icon=":material/stop:", width="stretch", disabled=starting != "rules",
                        help="Stops within a second; the rules that finished stay on the chart.")
        if not data_ready:
            info_col.info(f"Live runs need the {active_data.title} dataset: the Home page downloads it.")
        else:
            r_specs = rules_specs({"records": r_records, "epochs": r_epochs, "lr": r_lr, "hidden": r_hidden,
                                   "seed": int(r_seed), "rotate": r_rotate}, active_data.n_classes)
            r_train = min(r_records, datasets.train_count(active_data))
            say_estimate(info_col, f"4 rules x {r_records:,} records x {r_epochs} epochs",
                         lambda: live_estimate(r_specs, r_train, datasets.test_count(active_data), wait=False))
        rules_panel = st.container()  # the progress and growing chart of a run in progress
        live_rules = st.session_state.get(LIVE_RULES)
        if live_rules is not None and starting != "rules" and not live_rules["series"]:
            rules_panel.caption("Your last run was stopped before its first rule finished.")
        if live_rules is not None and starting != "rules" and live_rules["series"]:
            with rules_panel:
                st.markdown(f"**Your run: {live_rules['records']:,} training records**")
                st.altair_chart(ec.error_rules_chart(live_rules, zoom=zoom), width="stretch")
                st.caption(run_note(live_rules) + zoom_note(live_rules, zoom))
                st.markdown(findings.error_rules_finding(live_rules))

# --------------------------------------------------------------------------- sweeps

if sweeps_tab.open:
    with sweeps_tab:
        st.subheader("The seed's tuning: learning rate, hidden nodes, epochs")
        st.info("**What the seed says**: it settled on 200 hidden nodes and a learning rate of 0.1 after a series of "
                "tuning runs, and on 5 epochs because, over several experiments, 5 worked best and more began to "
                "overfit.", icon=":material/menu_book:")
        shipped_sweeps, problem = findings.shipped(findings.SWEEPS_PATH)
        if problem:
            st.info(problem, icon=":material/hourglass_empty:")
        grouped = findings.sweeps_by_parameter(shipped_sweeps)
        describe = {"learning_rate": findings.learning_rate_finding, "hidden_nodes": findings.hidden_nodes_finding,
                    "epochs": findings.epochs_finding}
        headings = {
            "learning_rate": ("Learning rate", "How big a step each image makes the weights take. Too small and "
                              "5 epochs are not enough to get far; too large and every step overshoots."),
            "hidden_nodes": ("Hidden nodes", "More hidden nodes can tell more patterns apart, but each costs time "
                             "(784 + 10 weights to train per image)."),
            "epochs": ("Epochs, and where overfitting begins", "One long run scored after every epoch on the test "
                       "set (orange) and on training records (blue). While both rise, the network is learning; "
                       "where the training accuracy keeps rising and the test accuracy stalls or falls, it is "
                       "learning its training images by heart: overfitting. The ring marks the test accuracy's "
                       "peak."),
        }
        for parameter in ("learning_rate", "hidden_nodes", "epochs"):
            entries = grouped.get(parameter, [])
            if not entries:
                continue
            title, meaning = headings[parameter]
            st.markdown(f"#### {title}")
            st.caption(meaning)
            columns = st.columns(len(entries)) if len(entries) > 1 else [st.container()]
            for position, (column, entry) in enumerate(zip(columns, entries)):
                with column:
                    if len(entries) > 1:
                        config = entry.get("config", {})
                        rotated = config.get("rotate") and config.get("augment") == "copies"
                        st.markdown(f"**With the seed's ±{config['rotate']:g}° rotations**" if rotated
                                    else "**Without rotations**")
                    shipped_chart(findings.SWEEPS_PATH, parameter, entry, position=position)
                    st.markdown(describe[parameter](entry))
        if shipped_sweeps is not None:
            st.caption(shipped_note(shipped_sweeps))

        st.markdown("#### Run a sweep yourself")
        st.caption(f"The seed's network (784-200-{active_data.n_classes} sigmoid, learning rate 0.1, one image at "
                   f"a time) with one setting varied, on the first training records of **{active_data.title}** "
                   "(the active dataset).")
        parameter = st.segmented_control("Vary", list(SWEEP_NAMES), format_func=SWEEP_NAMES.get, default="epochs",
                                         required=True, key="ex_s_parameter", disabled=locked, persist_state=keep)
        knobs = st.columns([3, 2, 2, 2])
        values: list[Any] = []
        max_epochs = 0
        if parameter == "learning_rate":
            values = sorted(knobs[0].multiselect("Learning rates", LR_CHOICES, default=[0.01, 0.03, 0.1, 0.3, 0.7],
                                                 key="ex_s_lr_values", disabled=locked, persist_state=keep))
        elif parameter == "hidden_nodes":
            values = sorted(knobs[0].multiselect("Hidden nodes", HIDDEN_CHOICES, default=[10, 25, 50, 100, 200, 400],
                                                 key="ex_s_hidden_values", disabled=locked, persist_state=keep))
        else:
            max_epochs = knobs[0].slider("Epochs to run", 2, 30, value=15, key="ex_s_max_epochs", disabled=locked,
                                         persist_state=keep)
        s_records = knobs[1].select_slider("Training records", RECORD_CHOICES, value=2000, key="ex_s_records",
                                           format_func=lambda v: f"{v:,}", disabled=locked, persist_state=keep)
        s_epochs = knobs[2].slider("Epochs per run", 1, 10, value=3, key="ex_s_epochs", persist_state=keep,
                                   disabled=locked or parameter == "epochs")
        s_seed = knobs[3].number_input("Random seed", 0, 2**32 - 1, value=80, key="ex_s_seed", disabled=locked,
                                       persist_state=keep)
        s_rotate = st.checkbox("Also train every record rotated by ±10° (three times the time)", value=False,
                               key="ex_s_rotate", disabled=locked, persist_state=keep)
        s_settings = {"parameter": parameter, "values": values, "max_epochs": max_epochs, "records": s_records,
                      "epochs": s_epochs, "seed": int(s_seed), "rotate": s_rotate}
        plan = (f"one run of {max_epochs} epochs on {s_records:,} records" if parameter == "epochs"
                else f"{len(values)} runs of {s_epochs} epochs on {s_records:,} records")
        start_col, stop_col, info_col = st.columns([1, 1, 6], vertical_alignment="center")
        start_col.button("Start", key="ex_s_start", type="primary", icon=":material/play_arrow:", width="stretch",
                         on_click=request_start, args=("sweep",),
                         disabled=locked or not data_ready or (parameter != "epochs" and not values))
        stop_col.button("Stop", key="ex_s_stop", icon=":material/stop:", width="stretch", disabled=starting != "sweep",
                        help="Stops within a second; the values that finished stay on the chart.")
        if not data_ready:
            info_col.info(f"Live runs need the {active_data.title} dataset: the Home page downloads it.")
        elif parameter != "epochs" and not values:
            info_col.warning("Pick at least one value to try.")
        else:
            s_specs = sweep_specs(s_settings, active_data.n_classes)
            s_train = min(s_records, datasets.train_count(active_data))
            say_estimate(info_col, plan,
                         lambda: live_estimate(s_specs, s_train, datasets.test_count(active_data), wait=False))
        sweep_panel = st.container()
        live_sweep = st.session_state.get(LIVE_SWEEPS, {}).get(parameter)
        if live_sweep is not None and starting != "sweep" and not live_sweep["series"]:
            sweep_panel.caption("Your last run was stopped before its first run finished.")
        if live_sweep is not None and starting != "sweep" and live_sweep["series"]:
            with sweep_panel:
                st.markdown(f"**Your run: {SWEEP_NAMES[parameter]}, {live_sweep['records']:,} training records**")
                if parameter == "epochs":
                    st.altair_chart(ec.epochs_chart(live_sweep), width="stretch")
                elif live_sweep["values"]:
                    st.altair_chart(ec.sweep_chart(live_sweep), width="stretch")
                st.caption(run_note(live_sweep))
                st.markdown(describe[parameter](live_sweep))

        st.markdown("#### A sweep from the command line")
        st.caption("`python -m ann sweep --param learning_rate=0.01,0.03,0.1 --param hidden_nodes=100,200,400 "
                   "--seeds 3` trains a grid of runs side by side, on this machine's cores or a Dask cluster, and "
                   "writes a results file (`sweep.json`). Open it here to see what it found.")
        upload = st.file_uploader("Results file", type=["json"], key="ex_file_upload", disabled=locked,
                                  max_upload_size=findings.MAX_RESULTS_MB)
        if upload is not None and st.session_state.get(FILE_NAME) != (upload.name, upload.size):
            st.session_state[FILE_NAME] = (upload.name, upload.size)
            st.session_state[FILE_RESULT] = findings.read_results_file(upload.name, upload.getvalue())
        show_results_file(st.session_state.get(FILE_RESULT))


# --------------------------------------------------------------------------- the run itself

# a run starts only in the tab its Start button is on (switching tabs meanwhile is a change that interrupts it)
if starting is not None and data_ready and (rules_tab.open if starting == "rules" else sweeps_tab.open):
    dataset = datasets.require("A live experiment")  # the active dataset
    try:
        if starting == "rules":
            run_error_rules(dataset, rules_panel, {"records": r_records, "epochs": r_epochs, "lr": r_lr,
                                                   "hidden": r_hidden, "seed": int(r_seed), "rotate": r_rotate,
                                                   "zoom": zoom})
        else:
            run_setting_sweep(dataset, sweep_panel, s_settings)
    except (ConfigError, SweepError) as exc:
        st.error(f"This experiment cannot run: {exc}")
        st.stop()
    st.rerun()
