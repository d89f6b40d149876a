"""A classroom opens the link at once (issue #14): the server's CPU per first look at a page, and its memory.

Everything here is measured against a hello-world Streamlit app (``bench/hello_app.py``: ``st.navigation``, a
title, a line of text, a button) in the same run, on the same core, interleaved with ANN Explorer: the
machine is shared, so only such ratios mean something. Both servers run ``streamlit run`` with the same
flags, pinned to core 0 with ``taskset``; this script, Playwright and Chromium run on core 1 (a classroom's
browsers run on the students' own machines: the server's CPU is what they all wait for). Server CPU is the
process's user + system time from ``/proc/PID/stat`` (all its threads), read before a visit and again once
the page is fully rendered and the server has gone quiet (no CPU tick for ``QUIET_SECONDS``): it counts
everything a visit costs the server, the static files of the page, the websocket session, the script run,
its pictures and charts.

"Fully rendered": the page's title is on screen, the script has finished (``stApp`` not running), no
spinner or skeleton is left, every picture has loaded, every chart has drawn its canvas and every
Components-v2 component (the drawing canvas, Evaluate's confusion matrix) its canvas or table.

Parts (``--parts``, all by default):

- ``pages``: every page's first render, ``--repeats`` times, each in a fresh browser context (a new visitor:
  no cookie, no cache), after a warm-up visit of every page (MNIST loaded, imports done, shared caches
  filled). Hello-world and the page are measured alternately, so the floor is measured as often as the pages
  and under the same load. Target: each page's median at most 1.5x the hello-world median.
- ``classroom``: ``--sessions`` (30) fresh browser contexts open pages at once (``--classroom-pages``, in
  turn), against the same number opening the hello-world app, alternately, ``--waves`` times. The server's
  CPU until all are fully rendered and it is quiet again; its peak memory (VmHWM, reset before each wave).
  Target: ANN Explorer's CPU at most 1.5x hello-world's.
- ``idle``: ``--idle-sessions`` (100) visitors, each browsing Home, Dataset, Evaluate, Inside and Draw in one
  session (the sidebar's links), then staying idle; the server's resident memory against one such visitor.
  Then they leave, and after the disconnected-session TTL the same number browse again: memory must not grow
  by another wave's worth (the sessions of those who left were released). Targets: at most 2 MB per idle
  visitor beyond the first; the server at or under 600 MB. ``--idle-waves N``: N such waves, each after the
  last has left; ``--probe``: at each step the server reports its heap (a ``sitecustomize`` thread: CPython's
  allocated blocks, the collector's objects by type, sessions, threads) and at the end what glibc's
  ``malloc_trim(0)`` hands back (memory the allocator kept after it was freed).

Two ways of counting (``bench/README.md`` compares them):

- By default a warm server: both servers are started once, every page of the app is visited first (imports
  done, MNIST loaded, caches filled), and a resident session stays connected all along (with no session
  connected Streamlit forgets its compiled pages). Each visitor opens one page (``classroom``: ``paths``
  shared out in turn) in a fresh context, so most of a visit is the frontend's static files, the same for
  both apps. ``--in-turn``: every visitor opens every page of ``--classroom-pages`` in turn, a full page load
  each; from the second page on the browser has most static files cached and the page's script run weighs
  more.
- ``--strict``: what the server spends from the moment it is started. For every wave (``classroom``) and every
  visit (``pages``) a server is started for it, without warm-up or resident session; its CPU is counted from
  the process's start (Streamlit's start-up, the first script run's imports and data, the warm-up thread)
  until it has been quiet for ``STRICT_QUIET_SECONDS``. In ``classroom`` every visitor opens every page in
  turn (hello-world's open its one page as many times). Target: at most 1.3x hello-world. The servers
  write their bytecode and the app its disk caches as a deployed app does (Python's default, whatever
  ``$PYTHONDONTWRITEBYTECODE`` says here), into folders made for this run (``$PYTHONPYCACHEPREFIX``,
  ``$ANN_CACHE_DIR``): so first each app's first start on the machine is measured on its own (one visitor,
  every page: the bytecode compiled, MNIST copied uncompressed, the shipped models' views computed and
  kept), and every measure after it is of a server started again.

Needs Debian's chromium and the ``playwright`` package (never ``playwright install``). Writes
bench/out/classroom.json and prints every figure with the load average at the time.

Run (about 15-25 minutes on a quiet machine)::

    python bench/classroom.py
    python bench/classroom.py --parts pages --repeats 5
    python bench/classroom.py --parts classroom --waves 3
    python bench/classroom.py --parts classroom --in-turn      # warm, five pages per visitor
    python bench/classroom.py --strict --parts classroom --waves 1   # fresh servers, five pages per visitor
    python bench/classroom.py --strict --parts pages --pages home train step --repeats 2
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from statistics import mean
from typing import Any

from _common import BENCH_DIR, DEFAULT_DATA_DIR, OUT_DIR, REPO_DIR, median, write_results

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1400, "height": 1000}
WAIT_MS = 300_000  # thirty browsers on one core are slow to draw: generous, it costs nothing when quick
SERVER_CORE, BROWSER_CORE = 0, 1
QUIET_SECONDS = 1.0  # the server is done with a visit when its CPU time has not moved for this long
STRICT_QUIET_SECONDS = 3.0  # --strict: long enough for the app's warm-up thread (it waits 1.5 s) to be counted
TICK = os.sysconf("SC_CLK_TCK")
TARGETS = {"page_over_hello": 1.5, "classroom_over_hello": 1.5, "strict_over_hello": 1.3, "idle_mb_per_visitor": 2.0, "idle_server_mb": 600.0}

# url path -> the page's title (what must be on screen); "" is Home
PAGES = {
    "": "ANN Explorer", "dataset": "Dataset", "train": "Train", "runs": "Runs", "evaluate": "Evaluate",
    "draw": "Draw", "inside": "Inside the network", "experiments": "Experiments", "step": "One step by hand",
    "map": "Hidden-layer map", "robustness": "Robustness lab",
}
CLASSROOM_PAGES = ("", "dataset", "evaluate", "inside", "draw")  # the classroom: in turn
IDLE_JOURNEY = (("", "Home"), ("dataset", "Dataset"), ("evaluate", "Evaluate"), ("inside", "Inside"),
                ("draw", "Draw"))  # (url path, sidebar link)

# True once the page is fully drawn: its title, the script finished, nothing still loading, every picture
# loaded and every visible chart drawn.
RENDERED_JS = """(title) => {
  const app = document.querySelector("[data-testid='stApp']");
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning') return false;
  const heading = [...document.querySelectorAll('h1')].some(h => h.textContent.trim() === title);
  if (!heading) return false;
  if (document.querySelector("[data-testid='stSpinner'], [data-testid='stSkeleton']")) return false;
  const images = [...document.querySelectorAll("[data-testid='stMain'] img")];
  if (images.some(i => !i.complete || i.naturalWidth === 0)) return false;
  // charts in a tab not shown are drawn when it is opened: only the visible ones count
  const charts = [...document.querySelectorAll("[data-testid='stVegaLiteChart']")].filter(c => c.checkVisibility());
  if (charts.some(c => !c.querySelector('canvas, svg'))) return false;
  // Components v2 (the canvas, Evaluate's confusion matrix) draw into a shadow root once their script ran
  const parts = [...document.querySelectorAll("[data-testid^='stBidiComponent']")];
  if (parts.some(c => !(c.shadowRoot || c).querySelector('canvas, table'))) return false;
  return true;
}"""


# --------------------------------------------------------------------------- servers

# ``--probe``: written as sitecustomize.py into a folder on the app server's PYTHONPATH. A thread of the server
# answers a request file with what its heap holds: resident size, CPython's allocated blocks (objects and
# buffers alive, whoever holds them), the garbage collector's objects by type, the sessions and threads; and,
# when asked, the resident size after glibc's malloc_trim(0), which hands freed heap pages back to the system
# (what it gives back was free already: kept by the allocator, not by anyone in the program).
PROBE = '''
"""Written by bench/classroom.py (--probe): answer $ANN_PROBE_DIR/request with the heap's state in .../answer."""
import collections, ctypes, gc, json, os, sys, threading, time

_dir = os.environ["ANN_PROBE_DIR"]


def _rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024


def _answer(trim):
    gc.collect()
    types = collections.Counter(type(o).__name__ for o in gc.get_objects())
    answer = {"rss_mb": round(_rss(), 1), "allocated_blocks": sys.getallocatedblocks(),
              "gc_objects": sum(types.values()), "frozen": gc.get_freeze_count(),
              "threads": threading.active_count(), "top_types": types.most_common(25)}
    try:
        from streamlit.runtime import Runtime
        answer["sessions"] = len(Runtime.instance()._session_mgr.list_sessions())
    except Exception as exc:
        answer["sessions"] = repr(exc)
    if trim:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
        answer["rss_after_trim_mb"] = round(_rss(), 1)
    return answer


def _loop():
    request = os.path.join(_dir, "request")
    while True:
        time.sleep(0.2)
        if os.path.exists(request):
            trim = open(request).read().strip() == "trim"
            os.remove(request)
            tmp = os.path.join(_dir, "answer.tmp")
            with open(tmp, "w") as f:
                json.dump(_answer(trim), f)
            os.replace(tmp, os.path.join(_dir, "answer"))


threading.Thread(target=_loop, name="classroom-probe", daemon=True).start()
'''


def probe(folder: Path | None, trim: bool = False, timeout: float = 60.0) -> dict[str, Any] | None:
    """Ask the app server's probe (``--probe``) for its heap's state; None without the probe."""
    if folder is None:
        return None
    import json

    answer = folder / "answer"
    answer.unlink(missing_ok=True)
    (folder / "request").write_text("trim" if trim else "look")
    start = time.perf_counter()
    while not answer.exists():
        if time.perf_counter() - start > timeout:
            return {"error": "no answer"}
        time.sleep(0.2)
    return json.loads(answer.read_text())



def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``streamlit run SCRIPT`` pinned to the server's core (``taskset``), in its own process group."""

    def __init__(self, name: str, script: Path, env: dict[str, str], flags: list[str]) -> None:
        self.name = name
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self._log = open(OUT_DIR / f"classroom_{name}_server.log", "w")
        self.process = subprocess.Popen(
            ["taskset", "-c", str(SERVER_CORE), sys.executable, "-m", "streamlit", "run", str(script),
             "--server.headless", "true", "--server.port", str(port), "--server.address", "127.0.0.1",
             "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none", *flags],
            cwd=REPO_DIR, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
        self.pid = self.process.pid  # taskset execs the server: the same process

    def wait_healthy(self, timeout: float = 90.0) -> None:
        start = time.perf_counter()
        while True:
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=1) as response:
                    if response.read().decode().strip() == "ok":
                        return
            except OSError:
                pass
            if self.process.poll() is not None or time.perf_counter() - start > timeout:
                raise RuntimeError(f"{self.name} did not start on {self.url}; see {self._log.name}")
            time.sleep(0.1)

    def cpu(self) -> float:
        """User + system CPU seconds of the server process so far (all its threads)."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK

    def memory_mb(self) -> dict[str, float]:
        """VmRSS (now) and VmHWM (the peak since the last reset) in MB."""
        values = {}
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(value.split()[0]) / 1024
        return {"rss_mb": round(values["VmRSS"], 1), "peak_mb": round(values["VmHWM"], 1)}

    def reset_peak(self) -> None:
        """Start VmHWM again from the current resident size (Linux: write 5 to clear_refs)."""
        Path(f"/proc/{self.pid}/clear_refs").write_text("5")

    def sessions(self) -> int | None:
        """Sessions the server holds, connected or kept for reconnection (its metrics endpoint)."""
        try:
            with urllib.request.urlopen(f"{self.url}/_stcore/metrics?families=active_sessions", timeout=5) as r:
                text = r.read().decode()
        except OSError:
            return None
        found = re.search(r"^active_sessions\S*\s+(\d+)", text, re.MULTILINE)
        return int(found.group(1)) if found else None

    def settle(self, timeout: float = 60.0, quiet: float = QUIET_SECONDS) -> float:
        """Wait until the server's CPU time stops moving (``quiet`` seconds without a tick); returns it."""
        last, still_since, start = self.cpu(), time.perf_counter(), time.perf_counter()
        while time.perf_counter() - start < timeout:
            time.sleep(0.1)
            now = self.cpu()
            if now != last:
                last, still_since = now, time.perf_counter()
            elif time.perf_counter() - still_since >= quiet:
                break
        return last

    def stop(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGTERM)  # its own group: this server and nothing else
            self.process.wait(timeout=15)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self._log.close()


class Sampler:
    """``py-spy record`` of a server while a wave runs (``--py-spy``): where its CPU goes, every thread, the
    static files and the websocket included, not only the script runs that cProfile sees
    (``bench/profile_pages.py``). 100 samples a second of the thread holding the GIL (``--gil``: py-spy's
    guess of which threads are idle counts threads asleep in ``select`` and ``Condition.wait`` here), so
    time in C code that releases the GIL (zlib, socket writes) is missed."""

    def __init__(self, server: Server, name: str) -> None:
        self.path = OUT_DIR / f"classroom_{name}_pyspy.txt"
        self.process = subprocess.Popen(
            ["py-spy", "record", "--pid", str(server.pid), "--format", "raw", "--rate", "100", "--gil", "--output",
             str(self.path), "--nonblocking"], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
            start_new_session=True)
        time.sleep(1.0)  # py-spy attaches

    def stop(self) -> dict[str, Any]:
        self.process.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        return summarize_samples(self.path)


# Where a sample's stack says it is: the first of these that matches, from the stack's top (the innermost
# frame) down; the categories of the README's table.
SAMPLE_KINDS = (
    ("gc after a script run", ("gc.collect", "_run_script;<built-in method collect")),
    ("static files (tornado)", ("StaticFileHandler", "static_file_handling", "web.py:get_content")),
    ("compressing responses", ("zlib", "gzip", "GZipContentEncoding")),
    ("the page's script", ("/pages/", "/ui/", "/ann/", "app.py")),
    ("Streamlit's elements and protobufs", ("streamlit/elements", "streamlit/delta_generator", "protobuf",
                                            "streamlit/commands")),
    ("script runs: Streamlit's own", ("script_runner", "exec_func_with_error_handling")),
    ("websocket and forward messages", ("websocket", "browser_websocket_handler", "forward_msg", "app_session")),
    ("caches (st.cache_*)", ("streamlit/runtime/caching",)),
    ("tornado and asyncio", ("tornado", "asyncio")),
)


def summarize_samples(path: Path) -> dict[str, Any]:
    """Shares of py-spy's raw samples (``stack count`` lines) by :data:`SAMPLE_KINDS`, and the heaviest
    leaf functions."""
    kinds: dict[str, int] = {}
    leaves: dict[str, int] = {}
    total = 0
    if not path.is_file():
        return {"samples": 0}
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        total += n
        frames = stack.split(";")
        kind = next((name for name, marks in SAMPLE_KINDS if any(m in stack for m in marks)), "other")
        kinds[kind] = kinds.get(kind, 0) + n
        leaves[frames[-1]] = leaves.get(frames[-1], 0) + n
    top = sorted(leaves.items(), key=lambda item: -item[1])[:15]
    return {"samples": total, "shares": {k: round(v / max(total, 1), 3) for k, v in
                                         sorted(kinds.items(), key=lambda item: -item[1])},
            "top_leaves": [(leaf, round(n / max(total, 1), 3)) for leaf, n in top], "file": str(path)}


def title_of(server: Server, path: str) -> str:
    return "Hello" if server.name == "hello" else PAGES[path]


def url_of(server: Server, path: str) -> str:
    return server.url if server.name == "hello" else f"{server.url}/{path}"


def wait_rendered(page, title: str) -> None:
    page.wait_for_function(RENDERED_JS, arg=title, timeout=WAIT_MS, polling=100)


def load() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


# --------------------------------------------------------------------------- part 1: each page's first render


def visit(browser, server: Server, path: str) -> dict[str, Any]:
    """One new visitor opens one page: the server's CPU for it, and the wall time to fully rendered."""
    before = server.settle()
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    start = time.perf_counter()
    page.goto(url_of(server, path), wait_until="commit")
    wait_rendered(page, title_of(server, path))
    wall = time.perf_counter() - start
    after = server.settle()
    context.close()
    return {"cpu_seconds": round(after - before, 3), "wall_seconds": round(wall, 2)}


def warm_up(browser, server: Server, paths):
    """Every page once, in one session: MNIST loaded, imports done, shared caches filled. The session
    stays connected for the whole run, as someone is always connected to a server in use (Streamlit
    forgets its compiled scripts whenever no session is connected: every first visitor would pay for
    compiling them again)."""
    context = browser.new_context(viewport=VIEWPORT)
    resident = context.new_page()  # connected first, and all along: going from page to page below drops
    resident.goto(url_of(server, paths[0]), wait_until="commit")  # a session for a moment, which would
    wait_rendered(resident, title_of(server, paths[0]))  # otherwise leave none and clear the compiled pages
    page = context.new_page()
    for path in paths:
        page.goto(url_of(server, path), wait_until="commit")
        wait_rendered(page, title_of(server, path))
    page.close()
    server.settle()
    return context


def pages_part(browser, hello: Server, app: Server, paths: list[str], repeats: int) -> dict[str, Any]:
    rows: dict[str, list[dict]] = {path: [] for path in paths}
    floor: list[dict] = []
    print(f"\n== each page's first render: {repeats} fresh visitors a page, hello-world between them "
          f"(load {load()})")
    for repeat in range(repeats):
        for path in paths:
            floor.append(visit(browser, hello, ""))
            rows[path].append(visit(browser, app, path))
            print(f"  round {repeat + 1}, /{path:<12} {rows[path][-1]['cpu_seconds']:6.3f} s CPU "
                  f"(hello {floor[-1]['cpu_seconds']:.3f} s), wall {rows[path][-1]['wall_seconds']:.2f} s, "
                  f"load {load()}")
    # CPU time is counted in clock ticks (10 ms), a few per visit: means over many visits are exact on
    # average where medians jump by whole ticks, so the ratio is one of means; medians are shown beside it.
    hello_cpu = [r["cpu_seconds"] for r in floor]
    hello_mean, hello_median = mean(hello_cpu), median(hello_cpu)
    table = {}
    print(f"hello-world: mean {hello_mean:.3f} s CPU (median {hello_median:.3f} s) over {len(floor)} visits")
    for path in paths:
        cpu = [r["cpu_seconds"] for r in rows[path]]
        ratio = mean(cpu) / hello_mean
        table[path or "home"] = {"mean_cpu_seconds": round(mean(cpu), 4), "median_cpu_seconds": median(cpu),
                                 "ratio": round(ratio, 2), "median_ratio": round(median(cpu) / hello_median, 2),
                                 "cpu_seconds": cpu,
                                 "median_wall_seconds": median([r["wall_seconds"] for r in rows[path]])}
        verdict = "ok" if ratio <= TARGETS["page_over_hello"] else "OVER"
        print(f"  {PAGES[path]:<18} mean {mean(cpu):6.3f} s  {ratio:4.2f}x  (median {median(cpu):.3f} s, "
              f"{median(cpu) / hello_median:.2f}x)  {verdict}")
    return {"hello_mean_cpu_seconds": round(hello_mean, 4), "hello_median_cpu_seconds": hello_median,
            "hello_cpu_seconds": hello_cpu, "pages": table, "load_at_end": load()}


# --------------------------------------------------------------------------- part 2: a classroom at once


def wave(browser, server: Server, paths: list[str], sessions: int, in_turn: bool = False) -> dict[str, Any]:
    """``sessions`` new visitors open pages at once, one page each (``paths`` shared out in turn), or with
    ``in_turn`` every visitor every page of ``paths`` in turn (a full page load each, all visitors on the same
    step); the server's CPU and peak memory."""
    before = server.settle()
    server.reset_peak()
    contexts = [browser.new_context(viewport=VIEWPORT) for _ in range(sessions)]
    pages = [context.new_page() for context in contexts]
    steps = [[path] * sessions for path in paths] if in_turn else [[paths[i % len(paths)] for i in range(sessions)]]
    start = time.perf_counter()
    step_cpu, mark = [], before
    for wanted in steps:
        for page, path in zip(pages, wanted):
            page.goto(url_of(server, path), wait_until="commit")
        for page, path in zip(pages, wanted):
            wait_rendered(page, title_of(server, path))
        if in_turn:  # what each step cost: the first page with the frontend's files, the others mostly without
            now = server.settle()
            step_cpu.append(round(now - mark, 3))
            mark = now
    wall = time.perf_counter() - start
    after = server.settle()
    memory = server.memory_mb()
    for context in contexts:
        context.close()
    return {"cpu_seconds": round(after - before, 2), "wall_seconds": round(wall, 1), **memory,
            **({"step_cpu_seconds": step_cpu} if in_turn else {})}


def classroom_part(browser, hello: Server, app: Server, paths: list[str], sessions: int,
                   waves: int, py_spy: bool = False, in_turn: bool = False) -> dict[str, Any]:
    print(f"\n== a classroom: {sessions} visitors at once, pages {['/' + p for p in paths]} "
          f"{'each in turn' if in_turn else 'one each'}, {waves} waves each (load {load()})")
    rows: dict[str, list[dict]] = {"hello": [], "app": []}
    for number in range(waves):
        for name, server, wanted in (("hello", hello, [""] * (len(paths) if in_turn else 1)), ("app", app, paths)):
            sampler = Sampler(server, f"{name}_wave{number + 1}") if py_spy else None
            rows[name].append(wave(browser, server, wanted, sessions, in_turn))
            r = rows[name][-1]
            if sampler is not None:  # after the wave's figures: py-spy's own CPU is not the server's
                r["py_spy"] = profile = sampler.stop()
                print(f"  py-spy, {name}: {profile['samples']} samples; "
                      + ", ".join(f"{k} {v:.0%}" for k, v in profile.get("shares", {}).items()))
            print(f"  wave {number + 1}, {name:<5}: {r['cpu_seconds']:6.2f} s CPU, all rendered after "
                  f"{r['wall_seconds']:.0f} s, resident {r['rss_mb']:.0f} MB, peak {r['peak_mb']:.0f} MB, "
                  f"load {load()}")
            if "step_cpu_seconds" in r:
                print(f"    each step: {r['step_cpu_seconds']} s CPU")
    hello_cpu = median([r["cpu_seconds"] for r in rows["hello"]])
    app_cpu = median([r["cpu_seconds"] for r in rows["app"]])
    ratio = app_cpu / hello_cpu
    peak = max(r["peak_mb"] for r in rows["app"])
    print(f"classroom: ANN Explorer {app_cpu:.2f} s CPU against hello-world {hello_cpu:.2f} s: {ratio:.2f}x "
          f"(target {TARGETS['classroom_over_hello']}x) {'ok' if ratio <= TARGETS['classroom_over_hello'] else 'OVER'}; "
          f"the server's peak {peak:.0f} MB")
    return {"sessions": sessions, "pages": paths, "in_turn": in_turn, "hello": rows["hello"], "app": rows["app"],
            "hello_median_cpu_seconds": hello_cpu, "app_median_cpu_seconds": app_cpu, "ratio": round(ratio, 2),
            "app_peak_mb": peak, "load_at_end": load()}


# --------------------------------------------------------------------------- --strict: fresh servers


def fresh_server(name: str, script: Path, env: dict[str, str], flags: list[str]) -> tuple[Server, float]:
    """A new server, healthy; returns it and its CPU so far (start-up: Python, Streamlit, nothing of the app's
    own yet, which Streamlit imports on the first script run)."""
    server = Server(name, script, env, flags)
    server.wait_healthy()
    return server, server.cpu()


def strict_visit(browser, name: str, script: Path, env, flags, path: str) -> dict[str, Any]:
    """A fresh server, one new visitor, one page: the server's CPU from its process start until the page is
    fully rendered and the server is quiet (start-up, the imports and data of the first script run, the
    static files, the script run, the warm-up thread once its pause is over)."""
    server, startup = fresh_server(name, script, env, flags)
    try:
        context = browser.new_context(viewport=VIEWPORT)
        page = context.new_page()
        start = time.perf_counter()
        page.goto(url_of(server, path), wait_until="commit")
        wait_rendered(page, title_of(server, path))
        wall = time.perf_counter() - start
        total = server.settle(quiet=STRICT_QUIET_SECONDS)
        context.close()
    finally:
        server.stop()
    return {"cpu_seconds": round(total, 3), "startup_cpu_seconds": round(startup, 3), "wall_seconds": round(wall, 2)}


def strict_pages_part(browser, hello_args, app_args, paths: list[str], repeats: int) -> dict[str, Any]:
    """``--strict`` pages: each page's first look on a server started for it, against hello-world's on a
    server started for it, alternately."""
    print(f"\n== strict: each page's first look on a fresh server, {repeats} a page, a fresh hello-world server "
          f"between them (load {load()})")
    rows: dict[str, list[dict]] = {path: [] for path in paths}
    floor: list[dict] = []
    for repeat in range(repeats):
        for path in paths:
            floor.append(strict_visit(browser, *hello_args, ""))
            rows[path].append(strict_visit(browser, *app_args, path))
            r, h = rows[path][-1], floor[-1]
            print(f"  round {repeat + 1}, /{path:<12} {r['cpu_seconds']:6.3f} s CPU (start-up {r['startup_cpu_seconds']:.3f}) "
                  f"hello {h['cpu_seconds']:.3f} s (start-up {h['startup_cpu_seconds']:.3f}), load {load()}")
    hello_mean = mean(r["cpu_seconds"] for r in floor)
    table = {}
    print(f"hello-world: mean {hello_mean:.3f} s CPU over {len(floor)} fresh servers")
    for path in paths:
        cpu = [r["cpu_seconds"] for r in rows[path]]
        ratio = mean(cpu) / hello_mean
        table[path or "home"] = {"mean_cpu_seconds": round(mean(cpu), 4), "ratio": round(ratio, 2),
                                 "cpu_seconds": cpu, "startup_cpu_seconds": [r["startup_cpu_seconds"] for r in rows[path]]}
        print(f"  {PAGES[path]:<18} mean {mean(cpu):6.3f} s  {ratio:4.2f}x  "
              f"{'ok' if ratio <= TARGETS['strict_over_hello'] else 'OVER'}")
    return {"hello_mean_cpu_seconds": round(hello_mean, 4), "hello": floor, "pages": table, "load_at_end": load()}


def strict_wave(browser, name: str, script: Path, env, flags, paths: list[str], sessions: int,
                sample: str | None = None) -> dict[str, Any]:
    """A fresh server; ``sessions`` new visitors at once, each opening ``paths`` in turn (a full page load
    each, the next once the last is fully rendered); the server's CPU from its process start. ``sample``:
    py-spy's file name for the wave (from start-up on)."""
    server, startup = fresh_server(name, script, env, flags)
    sampler = Sampler(server, sample) if sample else None
    try:
        contexts = [browser.new_context(viewport=VIEWPORT) for _ in range(sessions)]
        pages = [context.new_page() for context in contexts]
        start = time.perf_counter()
        for path in paths:  # every visitor on the same step: they open the next page together
            for page in pages:
                page.goto(url_of(server, path), wait_until="commit")
            for page in pages:
                wait_rendered(page, title_of(server, path))
        wall = time.perf_counter() - start
        total = server.settle(quiet=STRICT_QUIET_SECONDS)
        memory = server.memory_mb()
        for context in contexts:
            context.close()
    finally:
        profile = sampler.stop() if sampler else None
        server.stop()
    return {"cpu_seconds": round(total, 2), "startup_cpu_seconds": round(startup, 2), "wall_seconds": round(wall, 1),
            **memory, **({"py_spy": profile} if profile else {})}


def first_start(browser, hello_args, app_args, paths: list[str]) -> dict[str, Any]:
    """Each app's first start with this run's empty bytecode and cache folders: one visitor opening ``paths``
    in turn (hello-world's its page as many times). What a machine's first server pays once; every later
    measure reads what it wrote."""
    print(f"\n== strict: each app's first start on empty caches, one visitor, {len(paths)} pages (load {load()})")
    hello = strict_wave(browser, *hello_args, [""] * len(paths), 1)
    app = strict_wave(browser, *app_args, paths, 1)
    ratio = app["cpu_seconds"] / hello["cpu_seconds"]
    print(f"  first start: ANN Explorer {app['cpu_seconds']:.2f} s CPU, hello-world {hello['cpu_seconds']:.2f} s "
          f"({ratio:.2f}x; not a target: paid once per machine), load {load()}")
    return {"hello": hello, "app": app, "ratio": round(ratio, 2)}


def strict_classroom_part(browser, hello_args, app_args, paths: list[str], sessions: int, waves: int,
                          py_spy: bool = False) -> dict[str, Any]:
    """``--strict`` classroom: each wave on fresh servers, every visitor opening every page in turn (hello-world's
    visitors open its one page as many times)."""
    print(f"\n== strict classroom: fresh servers, {sessions} visitors at once, each opening "
          f"{['/' + p for p in paths]} in turn; hello-world's open its page {len(paths)} times; {waves} waves "
          f"(load {load()})")
    rows: dict[str, list[dict]] = {"hello": [], "app": []}
    for number in range(waves):
        for name, args, wanted in (("hello", hello_args, [""] * len(paths)), ("app", app_args, paths)):
            rows[name].append(strict_wave(browser, *args, wanted, sessions,
                                          f"strict_{name}_wave{number + 1}" if py_spy else None))
            r = rows[name][-1]
            if "py_spy" in r:
                print(f"  py-spy, {name}: {r['py_spy']['samples']} samples; "
                      + ", ".join(f"{k} {v:.0%}" for k, v in r["py_spy"].get("shares", {}).items()))
            print(f"  wave {number + 1}, {name:<5}: {r['cpu_seconds']:6.2f} s CPU (start-up {r['startup_cpu_seconds']:.2f} s), "
                  f"all rendered after {r['wall_seconds']:.0f} s, peak {r['peak_mb']:.0f} MB, load {load()}")
    hello_cpu = median([r["cpu_seconds"] for r in rows["hello"]])
    app_cpu = median([r["cpu_seconds"] for r in rows["app"]])
    ratio = app_cpu / hello_cpu
    print(f"strict classroom: ANN Explorer {app_cpu:.2f} s CPU against hello-world {hello_cpu:.2f} s: {ratio:.2f}x "
          f"{'ok' if ratio <= TARGETS['strict_over_hello'] else 'OVER'}")
    return {"sessions": sessions, "pages": paths, "hello": rows["hello"], "app": rows["app"],
            "hello_median_cpu_seconds": hello_cpu, "app_median_cpu_seconds": app_cpu, "ratio": round(ratio, 2),
            "load_at_end": load()}


# --------------------------------------------------------------------------- part 3: idle visitors' memory


def browse(page, server: Server) -> None:
    """Home, Dataset, Evaluate, Inside and Draw, in one session: the sidebar's links, as a visitor would."""
    page.goto(server.url, wait_until="commit")
    wait_rendered(page, PAGES[""])
    for path, link in IDLE_JOURNEY[1:]:
        page.get_by_test_id("stSidebarNav").get_by_role("link", name=link, exact=True).click()
        wait_rendered(page, PAGES[path])


def open_visitors(browser, server: Server, count: int, batch: int) -> list:
    """``count`` visitors browse, ``batch`` at a time; their contexts stay open (connected, idle)."""
    contexts = []
    while len(contexts) < count:
        group = [browser.new_context(viewport=VIEWPORT) for _ in range(min(batch, count - len(contexts)))]
        pages = [context.new_page() for context in group]
        for page in pages:
            page.set_default_timeout(WAIT_MS)
        for page in pages:
            browse(page, server)
        contexts += group
    return contexts


def idle_part(browser, app: Server, visitors: int, batch: int, ttl: float, waves: int = 2,
              probe_dir: Path | None = None) -> dict[str, Any]:
    """``visitors`` browse and stay; they leave; after the TTL the next ``visitors`` come, ``waves`` times.
    With the probe, the heap's state at each step, and at the end what malloc_trim gives back."""
    print(f"\n== {visitors} idle visitors (Home, Dataset, Evaluate, Inside, Draw each), {waves} waves, load {load()}")
    first = open_visitors(browser, app, 1, 1)
    app.settle()
    one = app.memory_mb()
    one_probe = probe(probe_dir)
    print(f"  one visitor: resident {one['rss_mb']:.0f} MB, {app.sessions()} session(s)"
          + (f", {one_probe['allocated_blocks']:,} Python blocks" if one_probe else ""))
    steps = []
    contexts = first
    for number in range(waves):
        if number:
            contexts = []
        contexts += open_visitors(browser, app, visitors - (1 if number == 0 else 0), batch)
        app.settle()
        many = app.memory_mb()
        held = app.sessions()
        seen = probe(probe_dir)
        print(f"  wave {number + 1}: {visitors} visitors: resident {many['rss_mb']:.0f} MB (peak {many['peak_mb']:.0f} MB), "
              f"{held} sessions" + (f", {seen['allocated_blocks']:,} Python blocks" if seen else "") + f", load {load()}")
        for context in contexts:
            context.close()
        time.sleep(ttl + 15)  # the disconnected-session TTL, and a margin for the server to notice
        app.settle()
        left = app.memory_mb()
        after_leaving = app.sessions()
        gone = probe(probe_dir)
        print(f"  wave {number + 1}: all left, {ttl:.0f} s later: resident {left['rss_mb']:.0f} MB, {after_leaving} sessions "
              "held" + (f", {gone['allocated_blocks']:,} Python blocks, {gone['gc_objects']:,} gc objects" if gone else ""))
        steps.append({"wave": number + 1, "visitors": many, "sessions_held": held, "probe_visitors": seen,
                      "after_leaving": left, "sessions_after_leaving": after_leaving, "probe_after_leaving": gone})
    per_visitor = (steps[0]["visitors"]["rss_mb"] - one["rss_mb"]) / (visitors - 1)
    print(f"  {per_visitor:.2f} MB per visitor beyond the first (wave 1)")
    trimmed = probe(probe_dir, trim=True)
    if trimmed:
        print(f"  malloc_trim(0) at the end: resident {trimmed['rss_mb']:.0f} -> {trimmed['rss_after_trim_mb']:.0f} MB")
    return {"visitors": visitors, "waves": waves, "one_visitor": one, "probe_one_visitor": one_probe,
            "all_visitors": steps[0]["visitors"], "sessions_held": steps[0]["sessions_held"],
            "mb_per_visitor_beyond_first": round(per_visitor, 2), "after_leaving": steps[0]["after_leaving"],
            "sessions_after_leaving": steps[0]["sessions_after_leaving"],
            "second_wave": steps[1]["visitors"] if waves > 1 else None, "steps": steps, "trim_at_end": trimmed,
            "ttl_seconds": ttl, "load_at_end": load()}


# --------------------------------------------------------------------------- main


@contextlib.contextmanager
def warm_servers(env: dict[str, str], app_env: dict[str, str], flags: list[str]):
    """Both servers started and warm (every page visited, a resident session each), Chromium launched: yields
    (browser, hello, app); closes and stops everything after."""
    from playwright.sync_api import sync_playwright

    hello = Server("hello", BENCH_DIR / "hello_app.py", env, flags)
    app = Server("app", REPO_DIR / "app.py", app_env, flags)
    try:
        hello.wait_healthy()
        app.wait_healthy()
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
            resident = [warm_up(browser, hello, [""]), warm_up(browser, app, list(PAGES))]
            yield browser, hello, app
            for context in resident:
                context.close()
            browser.close()
    finally:
        hello.stop()
        app.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR, help="the MNIST folder")
    parser.add_argument("--parts", nargs="+", choices=["pages", "classroom", "idle"],
                        default=["pages", "classroom", "idle"])
    parser.add_argument("--pages", nargs="+", default=list(PAGES),
                        help="url paths of the pages to measure ('' or 'home' for Home)")
    parser.add_argument("--repeats", type=int, default=3, help="fresh visitors per page (part 'pages')")
    parser.add_argument("--sessions", type=int, default=30, help="visitors at once (part 'classroom')")
    parser.add_argument("--classroom-pages", nargs="+", default=list(CLASSROOM_PAGES))
    parser.add_argument("--waves", type=int, default=2, help="classroom waves per app, alternating")
    parser.add_argument("--py-spy", action="store_true",
                        help="sample each server with py-spy during the classroom waves (its CPU is not counted: "
                             "py-spy runs beside the browsers) and print where the time went")
    parser.add_argument("--idle-sessions", type=int, default=100, help="idle visitors (part 'idle')")
    parser.add_argument("--batch", type=int, default=10, help="idle visitors browsing at the same time")
    parser.add_argument("--idle-waves", type=int, default=2,
                        help="waves of idle visitors, each after the last has left (part 'idle')")
    parser.add_argument("--probe", action="store_true",
                        help="the app server answers with its heap's state (Python blocks, objects by type, what "
                             "malloc_trim gives back) at each step of the idle part")
    parser.add_argument("--in-turn", action="store_true",
                        help="part 'classroom': every visitor opens every page of --classroom-pages in turn (a full "
                             "page load each) instead of one page each; hello-world's open its page as many times")
    parser.add_argument("--strict", action="store_true",
                        help="the parts 'pages' and 'classroom' on fresh servers, their CPU from process start, no "
                             "warm-up and no resident session; in 'classroom' every visitor opens every page of "
                             "--classroom-pages in turn (see the docstring)")
    parser.add_argument("--repo", type=Path, default=None,
                        help="the checkout whose app.py to serve (default: this one; another commit's worktree, for a "
                             "before and after: its .streamlit/config.toml applies)")
    parser.add_argument("--ttl", type=float, default=60.0,
                        help="server.disconnectedSessionTTL of both servers, seconds (the app ships 60)")
    args = parser.parse_args()
    if args.repo is not None:
        global REPO_DIR  # noqa: PLW0603 -- Server and warm_servers read it: the checkout served
        REPO_DIR = args.repo.resolve()
    paths = ["" if p == "home" else p for p in args.pages]
    classroom_paths = ["" if p == "home" else p for p in args.classroom_pages]

    OUT_DIR.mkdir(parents=True, exist_ok=True)
    if (os.cpu_count() or 1) >= 2:
        os.sched_setaffinity(0, {BROWSER_CORE})  # this script, and Playwright and Chromium, which it starts
    runs_dir = tempfile.mkdtemp(prefix="classroom_runs_")
    env = dict(os.environ, ANN_DATA_DIR=str(args.data), ANN_RUNS_DIR=runs_dir)
    flags = ["--server.disconnectedSessionTTL", str(int(args.ttl))]
    probe_dir = None
    app_env = env
    if args.probe:
        probe_dir = Path(tempfile.mkdtemp(prefix="classroom_probe_"))
        (probe_dir / "sitecustomize.py").write_text(PROBE)
        app_env = dict(env, ANN_PROBE_DIR=str(probe_dir),
                       PYTHONPATH=os.pathsep.join([str(probe_dir), os.environ.get("PYTHONPATH", "")]))
    print(f"load before: {load()}; server on core {SERVER_CORE}, browsers on core {BROWSER_CORE}")
    settings = {**vars(args), "data": str(args.data), "repo": str(args.repo) if args.repo else None}
    results: dict[str, Any] = {"settings": settings, "load_at_start": load()}
    if args.strict:
        return strict_main(args, paths, classroom_paths, env, flags, results)
    with warm_servers(env, app_env, flags) as (browser, hello, app):
        results["after_warm_up"] = app.memory_mb()
        if "pages" in args.parts:
            results["pages"] = pages_part(browser, hello, app, paths, args.repeats)
        if "classroom" in args.parts:
            results["classroom"] = classroom_part(browser, hello, app, classroom_paths, args.sessions,
                                                  args.waves, args.py_spy, args.in_turn)
        if "idle" in args.parts:
            results["idle"] = idle_part(browser, app, args.idle_sessions, args.batch, args.ttl, args.idle_waves,
                                        probe_dir)
    path = write_results("classroom", results)
    print(f"\nwrote {path} (load at the end {load()})")
    return 0


def strict_main(args, paths, classroom_paths, env, flags, results) -> int:
    """``--strict``: servers started for each measure, nothing warmed up."""
    from playwright.sync_api import sync_playwright

    env = dict(env, PYTHONPYCACHEPREFIX=tempfile.mkdtemp(prefix="classroom_pycache_"),
               ANN_CACHE_DIR=tempfile.mkdtemp(prefix="classroom_cache_"))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    hello_args = ("hello", BENCH_DIR / "hello_app.py", env, flags)
    app_args = ("app", REPO_DIR / "app.py", env, flags)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
        results["strict_first_start"] = first_start(browser, hello_args, app_args, classroom_paths)
        if "pages" in args.parts:
            results["strict_pages"] = strict_pages_part(browser, hello_args, app_args, paths, args.repeats)
        if "classroom" in args.parts:
            results["strict_classroom"] = strict_classroom_part(browser, hello_args, app_args, classroom_paths,
                                                                args.sessions, args.waves, args.py_spy)
        browser.close()
    path = write_results("classroom_strict", results)
    print(f"\nwrote {path} (load at the end {load()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
