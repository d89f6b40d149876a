"""ui.serving: components' bundles go out as they are on disk while everything else is still gzipped, and the
config and secrets files are still watched, every two seconds.

Each check runs in a process of its own, against Streamlit's own gzip middleware and polling watcher: what
ui.serving changes lasts for the process."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(script: str) -> str:
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(script)], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
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
