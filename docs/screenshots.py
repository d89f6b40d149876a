"""Take the README's screenshots of the dashboard in a real Chromium, so they show the app as it is now.

    python docs/screenshots.py [--data DIR] [--out docs/img] [--pages home,train,draw]

It starts the app (``streamlit run app.py``) on a free port with a run store of its own, opens each page at a
desktop size (1400x1000) and a phone size (390x844), and writes ``<page>-desktop.png`` and ``<page>-phone.png``.
On Train it starts a short run of the seed's network and waits for its live curves; on Draw it draws a 7 with
the mouse and waits for the answer. MNIST is read from ``--data`` (default: ``$ANN_DATA_DIR``, else
``../shared/mnist`` beside the checkout, else ``data/``). The browser is Debian's Chromium
(``apt-get install chromium``) driven by the ``playwright`` package.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SIZES = {"desktop": {"viewport": {"width": 1400, "height": 1000}},
         "phone": {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True,
                   "device_scale_factor": 2}}
WAIT_MS = 120_000
# each page: its URL path and an element only it shows once drawn
PAGES = {
    "home": ("", "[data-testid='stMarkdownContainer'] svg"),
    "dataset": ("dataset", "[data-testid='stHtml'] img"),
    "train": ("train", ".st-key-tr_start button"),
    "runs": ("runs", "h1"),
    "evaluate": ("evaluate", ".st-key-ev_confusion td"),
    "draw": ("draw", ".st-key-draw_canvas canvas.upper-canvas"),
    "inside": ("inside", "h1"),
    "experiments": ("experiments", "h1"),
    "step": ("step", "h1"),
    "map": ("map", "h1"),
    "robustness": ("robustness", "h1"),
}
SEVEN = [(0.25, 0.22), (0.75, 0.22), (0.45, 0.80)]  # a 7 in canvas fractions: the bar, then the stem


def data_dir(given: str | None) -> str:
    for candidate in (given, os.environ.get("ANN_DATA_DIR"), ROOT.parent / "shared" / "mnist", ROOT / "data"):
        if candidate and Path(candidate).is_dir():
            return str(candidate)
    sys.exit("no MNIST folder found: give --data DIR")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(data: str, runs: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = dict(os.environ, ANN_DATA_DIR=data, ANN_RUNS_DIR=runs)
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true", "--server.port",
         str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.read().decode().strip() == "ok":
                    return server, url
        except OSError:
            time.sleep(0.25)
    os.killpg(server.pid, signal.SIGTERM)
    sys.exit("the app did not start")


def draw_seven(page) -> None:
    box = page.locator(PAGES["draw"][1]).bounding_box()
    points = [(box["x"] + fx * box["width"], box["y"] + fy * box["height"]) for fx, fy in SEVEN]
    page.mouse.move(*points[0])
    page.mouse.down()
    for point in points[1:]:
        page.mouse.move(*point, steps=20)
    page.mouse.up()
    page.locator(".st-key-prediction [data-testid='stMetricValue']").first.wait_for()


def shoot(browser, url: str, name: str, size: str, out: Path) -> Path:
    context = browser.new_context(**SIZES[size])
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    path, ready = PAGES[name]
    page.goto(f"{url}/{path}")
    page.locator(ready).first.wait_for()
    if name == "train":
        page.locator(".st-key-tr_start button").click()
        page.get_by_text("Test accuracy").first.wait_for()
        time.sleep(8)  # a few seconds of live curves
    elif name == "draw":
        draw_seven(page)
    time.sleep(1.5)  # let charts finish drawing
    target = out / f"{name}-{size}.png"
    page.screenshot(path=str(target), full_page=size == "desktop")
    context.close()
    return target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", help="the MNIST folder")
    parser.add_argument("--out", default=str(ROOT / "docs" / "img"))
    parser.add_argument("--pages", default="home,train,draw", help=f"any of {','.join(PAGES)}")
    parser.add_argument("--sizes", default="desktop,phone")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as runs:
        server, url = start_app(data_dir(args.data), runs)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_ARGS)
                for name in args.pages.split(","):
                    for size in args.sizes.split(","):
                        print(shoot(browser, url, name, size, out))
                browser.close()
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
