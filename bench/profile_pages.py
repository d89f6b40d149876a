"""Where a page's first render spends the server's time: cProfile of the script runs, and what the browser fetches.

Issue #14 asks for every page's first look to be cheap for the server. ``bench/classroom.py`` measures what
each page costs (server CPU against a hello-world app); this script says where it goes, page by page:

- the script runs of the visit, under cProfile: the server is started with a ``sitecustomize`` (in a
  temporary folder on ``PYTHONPATH``) that wraps Streamlit's ``ScriptRunner._run_script``, so every script
  run of every session is profiled on its own thread and written to a file; the files of one visit are
  merged. Printed: the run's CPU time (``time.thread_time``, unaffected by the profiler's own clock), the
  functions of this project (``app.py``, ``pages/``, ``ui/``, ``ann/``) by cumulative time, and the heaviest
  Streamlit and library calls;
- what the visit asked of the server besides: HTTP requests by kind (the app's static files, pictures from
  ``/media/``, components' files) and the bytes the websocket carried to the browser.

The server runs on core 0 (``taskset``), the browser on core 1, as in the classroom bench; every page is
visited once before (MNIST loaded, imports done, caches filled), then ``--visits`` times in fresh browser
contexts. cProfile slows the script run down (deterministic profiling of every call), so its seconds are
larger than the classroom bench's; the shares are what matter.

Run::

    python bench/profile_pages.py                    # every page, 3 visits each
    python bench/profile_pages.py --pages dataset --visits 5 --top 40
    python bench/profile_pages.py --hello            # the hello-world app, for comparison

Writes bench/out/profile_pages.json (and the merged .prof files in bench/out/profiles/, for snakeviz or
``python -m pstats``).
"""

from __future__ import annotations

import argparse
import io
import os
import pstats
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import BENCH_DIR, DEFAULT_DATA_DIR, OUT_DIR, REPO_DIR, write_results
from classroom import (
    BROWSER_CORE,
    CHROMIUM_ARGS,
    PAGES,
    VIEWPORT,
    Server,
    load,
    title_of,
    url_of,
    wait_rendered,
    warm_up,
)

SITECUSTOMIZE = '''
"""Written by bench/profile_pages.py: profile every script run of this Streamlit server into $ANN_PROFILE_DIR."""
import cProfile, os, threading, time
from streamlit.runtime.scriptrunner import script_runner

_original = script_runner.ScriptRunner._run_script
_folder = os.environ["ANN_PROFILE_DIR"]


def _profiled(self, rerun_data):
    profile = cProfile.Profile()
    cpu = time.thread_time()
    profile.enable()
    try:
        return _original(self, rerun_data)
    finally:
        profile.disable()
        cpu = time.thread_time() - cpu
        name = f"{time.time_ns()}-{threading.get_ident()}-{cpu:.4f}.prof"
        profile.dump_stats(os.path.join(_folder, name))


script_runner.ScriptRunner._run_script = _profiled
'''
OURS = ("app.py", "/pages/", "/ui/", "/ann/")


def our_function(filename: str) -> bool:
    return str(REPO_DIR) in filename and any(part in filename for part in OURS) and "/bench/" not in filename


def summarize(files: list[Path], visits: int, top: int) -> dict[str, Any]:
    """Merge the visits' profiles; the project's functions and the heaviest others, per visit."""
    stats = pstats.Stats(*[str(f) for f in files], stream=io.StringIO())
    script_cpu = sum(float(f.stem.rsplit("-", 1)[1]) for f in files) / visits
    rows = []
    for (filename, line, function), (_, calls, own, cumulative, _) in stats.stats.items():
        rows.append({"function": function, "where": f"{filename.replace(str(REPO_DIR) + '/', '')}:{line}",
                     "ours": our_function(filename), "calls": calls / visits, "own_seconds": own / visits,
                     "cumulative_seconds": cumulative / visits})
    ours = sorted((r for r in rows if r["ours"]), key=lambda r: -r["cumulative_seconds"])[:top]
    others = sorted((r for r in rows if not r["ours"]), key=lambda r: -r["own_seconds"])[:top // 2]
    return {"script_runs_per_visit": len(files) / visits, "script_cpu_seconds": round(script_cpu, 4),
            "ours_by_cumulative": ours, "others_by_own_time": others}


def visit(browser, server: Server, path: str, profiles: Path) -> dict[str, Any]:
    """One fresh visitor: the profiles its script runs wrote, its requests and websocket bytes."""
    server.settle()
    before = set(profiles.iterdir())
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    requests: dict[str, int] = {}
    received = [0]

    def on_request(request) -> None:
        url = request.url.split("?")[0]
        kind = ("media" if "/media/" in url else "component" if "/component" in url
                else "static" if "/static/" in url or url.endswith((".js", ".css", ".woff2", ".svg", ".png"))
                else "other")
        requests[kind] = requests.get(kind, 0) + 1
        size = (request.sizes() or {}).get("responseBodySize", 0)
        requests[f"{kind}_kb"] = requests.get(f"{kind}_kb", 0) + size / 1024

    def on_websocket(socket) -> None:
        socket.on("framereceived", lambda payload: received.__setitem__(
            0, received[0] + len(payload if isinstance(payload, (bytes, str)) else b"")))

    page.on("requestfinished", on_request)
    page.on("websocket", on_websocket)
    page.goto(url_of(server, path), wait_until="commit")
    wait_rendered(page, title_of(server, path))
    server.settle()
    context.close()
    time.sleep(0.3)
    return {"files": sorted(set(profiles.iterdir()) - before), "requests": requests, "websocket_bytes": received[0]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--pages", nargs="+", default=list(PAGES), help="url paths ('home' for Home)")
    parser.add_argument("--visits", type=int, default=3)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--hello", action="store_true", help="profile the hello-world app instead")
    args = parser.parse_args()
    paths = [""] if args.hello else ["" if p == "home" else p for p in args.pages]
    from playwright.sync_api import sync_playwright

    OUT_DIR.mkdir(parents=True, exist_ok=True)
    if (os.cpu_count() or 1) >= 2:
        os.sched_setaffinity(0, {BROWSER_CORE})
    work = Path(tempfile.mkdtemp(prefix="profile_pages_"))
    (work / "site").mkdir()
    (work / "site" / "sitecustomize.py").write_text(SITECUSTOMIZE)
    profiles = work / "profiles"
    profiles.mkdir()
    env = dict(os.environ, ANN_DATA_DIR=str(args.data), ANN_RUNS_DIR=str(work / "runs"),
               ANN_PROFILE_DIR=str(profiles),
               PYTHONPATH=os.pathsep.join([str(work / "site"), os.environ.get("PYTHONPATH", "")]))
    name = "hello" if args.hello else "app"
    server = Server(name, BENCH_DIR / "hello_app.py" if args.hello else REPO_DIR / "app.py", env, [])
    kept = OUT_DIR / "profiles"
    kept.mkdir(exist_ok=True)
    results: dict[str, Any] = {"load_at_start": load(), "visits": args.visits, "pages": {}}
    print(f"load {load()}: profiling {name}, {args.visits} fresh visits a page")
    try:
        server.wait_healthy()
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
            # warm up: every page once; this first visitor stays connected, as in the classroom bench (see
            # classroom.warm_up: its resident page keeps Streamlit's compiled pages)
            context = warm_up(browser, server, [""] if args.hello else list(PAGES))
            for path in paths:
                visits = [visit(browser, server, path, profiles) for _ in range(args.visits)]
                files = [f for v in visits for f in v["files"]]
                summary = summarize(files, args.visits, args.top)
                requests = {kind: round(sum(v["requests"].get(kind, 0) for v in visits) / args.visits)
                            for kind in ("static", "static_kb", "media", "media_kb", "component", "component_kb",
                                         "other")}
                summary |= {"requests_per_visit": requests,
                            "websocket_kb_per_visit": round(sum(v["websocket_bytes"] for v in visits) / args.visits
                                                            / 1024, 1)}
                merged = kept / f"{name}_{path or 'home'}.prof"
                pstats.Stats(*[str(f) for f in files], stream=io.StringIO()).dump_stats(str(merged))
                results["pages"][path or "home"] = summary
                print(f"\n== /{path}: {summary['script_runs_per_visit']:g} script run(s) a visit, "
                      f"{summary['script_cpu_seconds']:.3f} s CPU in them (profiled); requests a visit "
                      f"{requests}; websocket {summary['websocket_kb_per_visit']} kB")
                print("  this project's functions, cumulative seconds a visit:")
                for row in summary["ours_by_cumulative"]:
                    print(f"    {row['cumulative_seconds']:.4f}  {row['function']}  ({row['where']}) "
                          f"x{row['calls']:g}")
                print("  heaviest other functions, own seconds a visit:")
                for row in summary["others_by_own_time"]:
                    print(f"    {row['own_seconds']:.4f}  {row['function']}  ({row['where'][-70:]}) x{row['calls']:g}")
            context.close()
            browser.close()
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    out = write_results("profile_pages" + ("_hello" if args.hello else ""), results)
    print(f"\nwrote {out}; merged profiles in {kept} (load {load()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
