"""What a page load costs the server once the browser has the frontend cached, and what a page's script run costs.

Two measures behind the issue-#20 section of ``bench/README.md`` ("A warm page load's CPU"):

- ``reloads`` (default): a hello-world Streamlit app (``bench/hello_app.py``) and ANN Explorer, both warm (every
  page visited once, a resident session connected), each on core 0; one browser context per app on core 1
  reloads the pages in turn (``--pages``, the classroom's five by default) ``--rounds`` times, alternating with
  a hello-world reload. Printed: the server's CPU per load (user + system from ``/proc``, all threads, read once
  the server has been quiet for a second; 10 ms ticks, so means over rounds), and the event-loop thread's part.
- ``scripts``: a fresh session's first script run of each page in AppTest, with every cache warm: the script
  thread's CPU (``time.thread_time``), the median over ``--rounds`` sessions. AppTest compiles the scripts again
  on every run (a real server does not), so these are upper bounds; ``--profile N`` prints the N heaviest
  functions (cProfile over the timed runs).

    python bench/page_loads.py --rounds 8
    python bench/page_loads.py --part scripts --rounds 30 --pages hello home dataset evaluate inside draw
"""

from __future__ import annotations

import argparse
import cProfile
import logging
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path
from statistics import mean, median

import classroom
from _common import BENCH_DIR, DEFAULT_DATA_DIR, OUT_DIR, REPO_DIR, write_results


def thread_cpu(server: classroom.Server) -> float:
    """CPU seconds of the server's main thread (its event loop: static files, the websocket, sending)."""
    fields = Path(f"/proc/{server.pid}/task/{server.pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / classroom.TICK


def load_once(page, server: classroom.Server, path: str) -> tuple[float, float]:
    before, main_before = server.settle(), thread_cpu(server)
    page.goto(classroom.url_of(server, path), wait_until="commit")
    classroom.wait_rendered(page, classroom.title_of(server, path))
    return server.settle() - before, thread_cpu(server) - main_before


def reloads(data: Path, paths: list[str], rounds: int) -> dict:
    if (os.cpu_count() or 1) >= 2:
        os.sched_setaffinity(0, {classroom.BROWSER_CORE})
    env = dict(os.environ, ANN_DATA_DIR=str(data), ANN_RUNS_DIR=tempfile.mkdtemp(prefix="page_loads_runs_"))
    flags = ["--server.disconnectedSessionTTL", "60"]
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    with classroom.warm_servers(env, env, flags) as (browser, hello, app):
        hello_page = browser.new_context(viewport=classroom.VIEWPORT).new_page()
        app_page = browser.new_context(viewport=classroom.VIEWPORT).new_page()
        load_once(hello_page, hello, "")  # the frontend's files fetched once: every load after is a reload
        load_once(app_page, app, "")
        floor, loads = [], {path: [] for path in paths}
        for _ in range(rounds):
            for path in paths:
                floor.append(load_once(hello_page, hello, ""))
                loads[path].append(load_once(app_page, app, path))
    hello_ms = 1000 * mean(cpu for cpu, _ in floor)
    print(f"hello-world reload: {hello_ms:.1f} ms of server CPU (event loop {1000 * mean(m for _, m in floor):.1f}), "
          f"mean of {len(floor)}; load {classroom.load()}")
    table = {}
    for path in paths:
        page_ms = 1000 * mean(cpu for cpu, _ in loads[path])
        table[path or "home"] = {"ms": round(page_ms, 1), "ratio": round(page_ms / hello_ms, 2),
                                 "event_loop_ms": round(1000 * mean(m for _, m in loads[path]), 1)}
        print(f"  /{path:<12} {page_ms:6.1f} ms  {page_ms / hello_ms:4.2f}x  (event loop "
              f"{table[path or 'home']['event_loop_ms']:.1f} ms)")
    all_ms = mean(row["ms"] for row in table.values())
    print(f"  all pages      {all_ms:6.1f} ms  {all_ms / hello_ms:4.2f}x")
    return {"hello_ms": round(hello_ms, 1), "pages": table, "all_pages_ms": round(all_ms, 1)}


def scripts(data: Path, pages: list[str], rounds: int, profile: int) -> dict:
    os.chdir(REPO_DIR)
    os.environ.setdefault("ANN_DATA_DIR", str(data))
    os.environ.setdefault("ANN_RUNS_DIR", tempfile.mkdtemp(prefix="page_loads_runs_"))
    os.environ.setdefault("ANN_CACHE_DIR", tempfile.mkdtemp(prefix="page_loads_cache_"))
    logging.disable(logging.WARNING)
    from streamlit.runtime.scriptrunner import script_runner
    from streamlit.testing.v1 import AppTest

    profiler, timing, spent = cProfile.Profile(), [False], []
    original = script_runner.ScriptRunner._run_script

    def timed(self, *args, **kwargs):
        start = time.thread_time()
        if profile and timing[0]:
            profiler.enable()
        try:
            return original(self, *args, **kwargs)
        finally:
            if profile and timing[0]:
                profiler.disable()
            spent.append(time.thread_time() - start)

    script_runner.ScriptRunner._run_script = timed

    def first_look(page: str) -> float:
        if page == "hello":
            at = AppTest.from_file(str(BENCH_DIR / "hello_app.py"), default_timeout=60)
        else:
            at = AppTest.from_file(str(REPO_DIR / "app.py"), default_timeout=60)
            if page != "home":
                at.switch_page(f"pages/{page}.py")
        spent.clear()
        at.run()
        if at.exception:
            raise RuntimeError(f"{page}: {[e.value for e in at.exception]}")
        return sum(spent)

    table = {}
    for page in pages:
        timing[0] = False
        first_look(page)
        first_look(page)  # caches filled, imports done
        timing[0] = True
        runs = [first_look(page) for _ in range(rounds)]
        table[page] = {"median_ms": round(1000 * median(runs), 2), "min_ms": round(1000 * min(runs), 2)}
        print(f"{page:<12} script run median {1000 * median(runs):6.1f} ms  (min {1000 * min(runs):.1f})", flush=True)
    if profile:
        pstats.Stats(profiler).sort_stats("tottime").print_stats(profile)
    return table


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", choices=["reloads", "scripts"], default="reloads")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR, help="the MNIST folder")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--pages", nargs="+", help="reloads: url paths ('home' for Home); scripts: page file names, "
                                                   "'home', 'hello'")
    parser.add_argument("--profile", type=int, default=0, help="scripts: print this many heaviest functions")
    args = parser.parse_args()
    if args.part == "reloads":
        paths = ["" if p == "home" else p for p in (args.pages or classroom.CLASSROOM_PAGES)]
        results = reloads(args.data, paths, args.rounds)
    else:
        pages = args.pages or ["hello", "home", "dataset", "evaluate", "inside", "draw"]
        results = scripts(args.data, pages, args.rounds, args.profile)
    print(f"wrote {write_results('page_loads_' + args.part, {'settings': vars(args) | {'data': str(args.data)}, **results})}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
