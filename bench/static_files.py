"""Which of Streamlit's static files a first look at each page makes the browser fetch, and what one costs.

Issue #14: most of the server's CPU for a visitor's first look is not the page's script but Streamlit
sending its frontend, file by file (``bench/profile_pages.py``). The frontend is split into many
JavaScript chunks, and an element pulls in its own only when it is drawn: a drop-down list some twenty,
a Vega-Lite chart some thirty, a popover's contents none until it is opened. This script says, page by
page, how many files a fresh browser fetched from the server against the hello-world app
(``bench/hello_app.py``) and which ones beyond it; and, with ``--cost``, how much server CPU one request
costs (a tiny file, a large one, the page itself), fetched many times over one keep-alive connection per
stream from this script (no browser), the server pinned to core 0 as in ``classroom.py``.

Run::

    python bench/static_files.py                      # every page
    python bench/static_files.py --pages evaluate draw --cost

Writes bench/out/static_files.json.
"""

from __future__ import annotations

import argparse
import http.client
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import DEFAULT_DATA_DIR, OUT_DIR, write_results
from classroom import (
    BROWSER_CORE,
    PAGES,
    VIEWPORT,
    Server,
    load,
    title_of,
    url_of,
    wait_rendered,
    warm_servers,
)


def fetched(browser, server: Server, path: str) -> list[tuple[str, int]]:
    """(url path, body bytes) of every request a fresh visitor's first look at ``path`` made."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    requests: list[tuple[str, int]] = []
    page.on("requestfinished", lambda r: requests.append(
        (r.url.split(server.url, 1)[-1].split("?")[0], (r.sizes() or {}).get("responseBodySize", 0)))
        if r.url.startswith(server.url) else None)
    page.goto(url_of(server, path), wait_until="commit")
    wait_rendered(page, title_of(server, path))
    time.sleep(1.0)  # anything fetched after the page looked complete
    context.close()
    return requests


def request_cost(server: Server, path: str, count: int) -> float:
    """Server CPU seconds per GET of ``path``, over ``count`` requests on one keep-alive connection."""
    host, port = server.url.split("//")[1].split(":")
    connection = http.client.HTTPConnection(host, int(port))
    before = server.settle()
    for _ in range(count):
        connection.request("GET", path)
        connection.getresponse().read()
    after = server.settle()
    connection.close()
    return (after - before) / count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR)
    parser.add_argument("--pages", nargs="+", default=list(PAGES), help="url paths ('home' for Home)")
    parser.add_argument("--cost", action="store_true", help="also the server CPU of one request, by file size")
    parser.add_argument("--requests", type=int, default=300, help="requests per file for --cost")
    args = parser.parse_args()
    paths = ["" if p == "home" else p for p in args.pages]
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    if (os.cpu_count() or 1) >= 2:
        os.sched_setaffinity(0, {BROWSER_CORE})
    env = dict(os.environ, ANN_DATA_DIR=str(args.data), ANN_RUNS_DIR=tempfile.mkdtemp(prefix="static_runs_"))
    results: dict[str, Any] = {"load_at_start": load(), "pages": {}}
    with warm_servers(env, env, []) as (browser, hello, app):
        floor = fetched(browser, hello, "")
        floor_names = {url for url, _ in floor}
        results["hello"] = {"files": len(floor), "kb": round(sum(b for _, b in floor) / 1024)}
        print(f"hello-world: {len(floor)} requests, {results['hello']['kb']:,} kB")
        for path in paths:
            got = fetched(browser, app, path)
            extra = sorted({url.rsplit("/", 1)[-1] for url, _ in got
                            if url not in floor_names and "/_stcore/" not in url and url != f"/{path}"})
            results["pages"][path or "home"] = {"files": len(got), "kb": round(sum(b for _, b in got) / 1024),
                                                "beyond_hello": extra}
            print(f"/{path:<12} {len(got):4d} requests, {results['pages'][path or 'home']['kb']:6,} kB; "
                  f"beyond hello-world: {', '.join(e.split('.')[0] for e in extra) or '-'}")
        if args.cost:
            small = min(floor, key=lambda f: f[1] if f[0].endswith(".js") else 1 << 40)
            large = max(floor, key=lambda f: f[1])
            results["cost"] = {}
            for name, (url, size) in (("smallest script", small), ("largest file", large), ("the page", ("/", 0))):
                seconds = request_cost(hello, url, args.requests)
                results["cost"][name] = {"path": url, "bytes": size, "cpu_ms": round(seconds * 1000, 3)}
                print(f"one request, {name} ({url}, {size:,} bytes): {seconds * 1000:.2f} ms of server CPU")
    out = write_results("static_files", results)
    print(f"wrote {out} (load {load()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
