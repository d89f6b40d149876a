"""What a server spends while its visitors read (issue #20): CPU per second of a warm server, ANN Explorer
against hello-world (``bench/hello_app.py``), with only the resident session and then with ``--sessions``
visitors connected and idle (the app's spread over Home, Dataset, Evaluate, Inside and Draw).

A class's wave lasts as long as its browsers take to draw the pages, and all that time the server runs its
timers: Streamlit polls its config and secrets files, uvicorn ticks ten times a second, the training service
looks for queued runs. So this rate, times the wave's length, is part of every strict wave's figure
(``classroom.py --strict``). Servers on core 0, the browsers on core 1, as in ``classroom.py``; CPU is user +
system from ``/proc`` (every thread), over ``--seconds`` once the server has been quiet; ``--py-spy`` also
samples where it goes (GIL holder, 500 Hz) into ``bench/out/idle_<app>.txt``.

    python bench/idle_cpu.py [--sessions 30] [--seconds 40] [--py-spy]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import tempfile
import time

import classroom
from _common import DEFAULT_DATA_DIR, OUT_DIR, write_results


def rate(server: classroom.Server, seconds: float) -> float:
    """The server's CPU in ms per second of wall time, over ``seconds``."""
    cpu, start = server.cpu(), time.perf_counter()
    time.sleep(seconds)
    return 1000 * (server.cpu() - cpu) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=30)
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument("--py-spy", action="store_true", help="sample the idle servers (py-spy, GIL holder)")
    args = parser.parse_args()
    if (os.cpu_count() or 1) >= 2:
        os.sched_setaffinity(0, {classroom.BROWSER_CORE})
    env = dict(os.environ, ANN_DATA_DIR=str(DEFAULT_DATA_DIR), ANN_RUNS_DIR=tempfile.mkdtemp(prefix="idle_cpu_runs_"))
    flags = ["--server.disconnectedSessionTTL", "60"]
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    results = {}
    with classroom.warm_servers(env, env, flags) as (browser, hello, app):
        for name, server, paths in (("hello", hello, [""]), ("app", app, list(classroom.CLASSROOM_PAGES))):
            server.settle()
            alone = rate(server, args.seconds / 2)
            contexts = [browser.new_context(viewport=classroom.VIEWPORT) for _ in range(args.sessions)]
            pages = [context.new_page() for context in contexts]
            for number, page in enumerate(pages):
                page.goto(classroom.url_of(server, paths[number % len(paths)]), wait_until="commit")
            for number, page in enumerate(pages):
                classroom.wait_rendered(page, classroom.title_of(server, paths[number % len(paths)]))
            server.settle()
            time.sleep(3)
            spy = None
            if args.py_spy:
                spy = subprocess.Popen(["py-spy", "record", "--pid", str(server.pid), "--format", "raw", "--rate", "500",
                                        "--gil", "--output", str(OUT_DIR / f"idle_{name}.txt"), "--nonblocking"],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
                time.sleep(1)
            connected = rate(server, args.seconds)
            if spy is not None:
                spy.send_signal(signal.SIGINT)
                spy.wait()
            for context in contexts:
                context.close()
            results[name] = {"resident_only_ms_per_s": round(alone, 2), "idle_sessions": args.sessions,
                             "connected_ms_per_s": round(connected, 2)}
            print(f"{name:5s}: the resident session only {alone:5.2f} ms/s; {args.sessions} idle visitors "
                  f"{connected:5.2f} ms/s", flush=True)
    print(f"ANN Explorer against hello-world, {args.sessions} idle visitors: "
          f"{results['app']['connected_ms_per_s'] / results['hello']['connected_ms_per_s']:.2f}x")
    write_results("idle_cpu", results)


if __name__ == "__main__":
    main()
