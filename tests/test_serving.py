"""ui.serving: components' bundles go out as they are on disk while everything else is still gzipped; the
config and secrets files are still watched, every two seconds; the frontend's files and the pages' addresses
come from memory, as Streamlit's own static route sends them.

Each check runs in a process of its own, against Streamlit's own gzip middleware and polling watcher: what
ui.serving changes lasts for the process."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(script: str, *args: str) -> str:
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(script), *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


GZIP = """
    import asyncio, gzip
    from starlette.responses import Response
    from streamlit.web.server.starlette.starlette_gzip_middleware import SelectiveGZipMiddleware
    from ui import serving

    BODY = b"function f(){return 1}; " * 400  # 9.6 kB of script: well over the middleware's minimum size

    async def bundle(scope, receive, send):
        await Response(BODY, media_type="text/javascript")(scope, receive, send)

    async def get(app, path):
        scope = {"type": "http", "method": "GET", "path": path, "raw_path": path.encode(), "root_path": "",
                 "query_string": b"", "headers": [(b"accept-encoding", b"gzip, deflate, br")], "scheme": "http",
                 "server": ("127.0.0.1", 8501), "client": ("127.0.0.1", 5000), "http_version": "1.1"}
        sent = []
        async def receive():
            return {"type": "http.request", "body": b"", "more_body": False}
        async def send(message):
            sent.append(message)
        await app(scope, receive, send)
        headers = dict(sent[0]["headers"])
        body = b"".join(m.get("body", b"") for m in sent[1:])
        encoding = headers.get(b"content-encoding", b"").decode()
        assert (gzip.decompress(body) if encoding == "gzip" else body) == BODY  # the same bytes either way
        return encoding or "none"

    PATHS = ["/_stcore/bidi-components/streamlit-drawable-canvas.streamlit_drawable_canvas/index-ynYgWHmM.js",
             "/component/some_v1_component/main.js", "/static/js/index.js", "/dataset", "/_stcore/host-config"]
    BASES = ("", "/class")  # no server.baseUrlPath, and one
    apps = {base: SelectiveGZipMiddleware(bundle, base_url=base) for base in BASES}
    before = {base: [asyncio.run(get(apps[base], base + path)) for path in PATHS] for base in BASES}
    assert serving.send_component_bundles_as_they_are() and serving.send_component_bundles_as_they_are()
    for base in BASES:
        print(base or "/", before[base], [asyncio.run(get(apps[base], base + path)) for path in PATHS])
"""


def test_component_bundles_go_uncompressed_and_the_rest_as_before():
    lines = run(GZIP).splitlines()
    # before: Streamlit exempts only its own bundles (/static/); after: components' bundles too, nothing else
    for line in lines:
        assert line.endswith("['gzip', 'gzip', 'none', 'gzip', 'gzip'] ['none', 'none', 'none', 'gzip', 'gzip']"), line
    assert len(lines) == 2


POLL = """
    import pathlib, tempfile, threading, time
    from streamlit.watcher import polling_path_watcher
    from ui import serving

    assert polling_path_watcher._POLLING_PERIOD_SECS == 0.2  # Streamlit's own
    assert serving.poll_config_files_every()
    assert polling_path_watcher._POLLING_PERIOD_SECS == serving.CONFIG_POLL_SECONDS == 2.0
    path = pathlib.Path(tempfile.mkdtemp()) / "secrets.toml"
    path.write_text("a = 1\\n")
    seen = threading.Event()
    polling_path_watcher.PollingPathWatcher(str(path), lambda changed: seen.set())
    time.sleep(0.5)
    path.write_text("a = 2\\n")
    start = time.monotonic()
    assert seen.wait(30), "an edit to a polled file was never noticed"
    print("noticed after", round(time.monotonic() - start, 1), "s")
"""


def test_the_config_files_are_still_watched_every_two_seconds():
    assert run(POLL).startswith("noticed after")


FRONTEND = """
    import asyncio, gzip, os, sys
    import anyio.to_thread
    from starlette.applications import Starlette
    from streamlit import config, file_util
    from streamlit.web.server.starlette.starlette_app import create_streamlit_middleware
    from streamlit.web.server.starlette.starlette_static_routes import create_streamlit_static_assets_routes
    from ui import serving

    BASE = sys.argv[1]
    config.set_option("server.baseUrlPath", BASE)
    app = Starlette(routes=create_streamlit_static_assets_routes(base_url=BASE),
                    middleware=create_streamlit_middleware())  # Streamlit's own static route and middleware
    hops = [0]  # trips to a worker thread: Starlette's StaticFiles makes them to look a file up and read it
    run_sync = anyio.to_thread.run_sync
    async def counted(*args, **kwargs):
        hops[0] += 1
        return await run_sync(*args, **kwargs)
    anyio.to_thread.run_sync = counted

    async def get(path, headers=(), method="GET"):
        path, _, query = (("/" + BASE if BASE else "") + path).partition("?")  # what a browser asks for
        scope = {"type": "http", "method": method, "path": path, "raw_path": path.encode(), "root_path": "",
                 "query_string": query.encode(), "headers": [(k.encode(), v.encode()) for k, v in headers], "scheme": "http",
                 "server": ("127.0.0.1", 8501), "client": ("127.0.0.1", 5000), "http_version": "1.1"}
        sent = []
        async def receive():
            await asyncio.sleep(5)
            return {"type": "http.disconnect"}
        async def send(message):
            sent.append(message)
        before = hops[0]
        await app(scope, receive, send)
        headers = dict(sent[0]["headers"])
        body = b"".join(m.get("body", b"") for m in sent[1:])
        if headers.get(b"content-encoding") == b"gzip":
            body = gzip.decompress(body)
        for name in (b"content-length", b"content-encoding", b"vary"):  # of the encoding, compared on its own
            headers.pop(name, None)
        return sent[0]["status"], sorted(headers.items()), body, hops[0] - before

    js = sorted(n for n in os.listdir(os.path.join(file_util.get_static_dir(), "static", "js")) if n.endswith(".js"))
    css = sorted(os.listdir(os.path.join(file_util.get_static_dir(), "static", "css")))
    GZ = [("accept-encoding", "gzip, deflate, br")]
    cases = [("/", GZ), ("/", ()), ("/dataset", GZ), ("/step", ()), ("/step?preset=seed", GZ),
             (f"/static/js/{js[0]}", GZ), (f"/static/js/{js[-1]}", ()), (f"/static/css/{css[0]}", GZ),
             ("/dataset/_stcore/health", ()), ("/draw/_stcore/host-config", GZ),
             # Streamlit's own answer: not a page of the app, no such file, a path that climbs out, a range
             ("/nopage", GZ), ("/static/js/nothere.js", ()), ("/static/../index.html", ()),
             (f"/static/js/{js[0]}", [("range", "bytes=0-9")])]
    if BASE:  # the base URL without its slash: Streamlit redirects it, before and after
        cases.append(("", ()))
    before = [asyncio.run(get(path, headers)) for path, headers in cases]
    etag = dict(before[5][1])[b"etag"].decode()
    conditional = asyncio.run(get(f"/static/js/{js[0]}", [("if-none-match", etag)]))
    head = asyncio.run(get(f"/static/js/{js[0]}", (), "HEAD"))
    assert serving.serve_frontend_from_memory(["", "dataset", "step", "draw"])
    assert serving.serve_frontend_from_memory(["", "dataset", "step", "draw"])  # once is enough
    after = [asyncio.run(get(path, headers)) for path, headers in cases]
    for (path, _), old, new in zip(cases, before, after):
        assert old[:3] == new[:3], (path, old[:2], new[:2])
        print(path, old[0], "hops", old[3], new[3])
    assert asyncio.run(get(f"/static/js/{js[0]}", [("if-none-match", etag)]))[:3] == conditional[:3]
    assert conditional[0] == 304
    assert asyncio.run(get(f"/static/js/{js[0]}", (), "HEAD"))[:3] == head[:3]
    # another app of the process keeps its own answers at the same addresses
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route
    other = Starlette(routes=[Route("/{page:path}", lambda request: PlainTextResponse("mine"))])
    app = other
    assert asyncio.run(get("/dataset"))[2] == asyncio.run(get(f"/static/js/{js[0]}"))[2] == b"mine"
"""


def test_the_frontend_files_come_from_memory_as_streamlit_sends_them():
    for base in ("", "class"):  # no server.baseUrlPath, and one
        lines = [line.rsplit(" hops ", 1) for line in run(FRONTEND, base).splitlines()]
        assert len(lines) == (15 if base else 14)
        # Streamlit's static route looks each file up and reads it in worker threads; from memory, no trip
        served, left = lines[:10], lines[10:]
        for path, hops in served:
            before, after = hops.split()
            assert int(before) >= 1 and after == "0", (base, path, hops)
        for path, hops in left:  # what is not the app's page or file goes to Streamlit as before
            assert hops.split()[0] == hops.split()[1], (base, path, hops)


PAGE_ADDRESSES = """
    from pathlib import Path
    from ui import serving, shell

    serving.install()  # what app.py does before anything else
    addresses = {"", *(Path(path).stem for path, _, _ in shell.PAGES)}
    print(sorted(addresses - serving._frontend.page_paths))
"""


def test_every_page_of_the_navigation_is_answered_from_memory():
    assert run(PAGE_ADDRESSES) == "[]"
