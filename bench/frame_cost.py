"""What the app's frame alone costs a class (issue #20): ``bench/frame_app.py`` against hello-world.

Strict waves as ``bench/classroom.py --strict`` runs them (a server started for each wave, its CPU from process
start, bytecode and caches in folders of the run): thirty visitors each open the frame's five addresses in turn
(Home, Dataset, Evaluate, Inside, Draw), hello-world's visitors its page five times, alternately.

    python bench/frame_cost.py [--waves 2] [--sessions 30]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import classroom  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

FRAME = Path(__file__).resolve().parent / "frame_app.py"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--waves", type=int, default=2)
    parser.add_argument("--sessions", type=int, default=30)
    args = parser.parse_args()
    os.sched_setaffinity(0, {classroom.BROWSER_CORE})
    env = dict(os.environ, ANN_RUNS_DIR=tempfile.mkdtemp(),
               ANN_CACHE_DIR=tempfile.mkdtemp(), PYTHONPYCACHEPREFIX=tempfile.mkdtemp())
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    flags = ["--server.disconnectedSessionTTL", "60"]
    paths = list(classroom.CLASSROOM_PAGES)
    hello = classroom.BENCH_DIR / "hello_app.py"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=classroom.CHROMIUM_ARGS)
        classroom.strict_wave(browser, "hello", hello, env, flags, [""] * len(paths), 1)  # bytecode written once
        classroom.strict_wave(browser, "frame", FRAME, env, flags, paths, 1)
        for number in range(args.waves):
            h = classroom.strict_wave(browser, "hello", hello, env, flags, [""] * len(paths), args.sessions)
            f = classroom.strict_wave(browser, "frame", FRAME, env, flags, paths, args.sessions)
            print(f"wave {number + 1}: hello-world {h['cpu_seconds']:.2f} s CPU ({h['wall_seconds']:.0f} s), the frame "
                  f"{f['cpu_seconds']:.2f} s ({f['wall_seconds']:.0f} s): {f['cpu_seconds'] / h['cpu_seconds']:.2f}x, "
                  f"load {classroom.load()}", flush=True)
        browser.close()


if __name__ == "__main__":
    main()
