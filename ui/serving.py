"""What Streamlit's server does for every visitor, or all the time, that a class's server can do for less.

Installed once per process by ``app.py`` before anything else, at the app's first script run (the first
visitor's files are still sent by Streamlit's own route); each leaves Streamlit as it is where the thing it
changes is not found (another Streamlit version, the Tornado server).

- **The frontend's files and the pages' addresses are answered from memory.** Streamlit's Starlette server
  sends its frontend (``/static/...``, 60-75 files on a visitor's first page) and, at each page's address, its
  ``index.html`` through Starlette's ``StaticFiles``: every request looks the file up, stats, opens, reads and
  closes it in worker threads (four to six trips; 2-3 ms of the server's CPU a request), and for a page's
  address first fails to find a file of that name. The same bytes with the same headers now come from memory
  (0.8-0.9 ms a request, most of it uvicorn's HTTP parsing), and so does Streamlit's 404 to the frontend's two
  probes under a page's address (``/dataset/_stcore/health``: it looks for the server there first). A page's
  address gets its document gzipped once, not on every request. Anything else, a file that is not there, a
  range request, goes to Streamlit as before (``_Frontend``).
- **Components' bundles are sent as they are on disk, not gzipped on every request.** Streamlit's Starlette
  server gzips its responses anew on every request and keeps nothing, except its own frontend bundles
  (``/static/``) and the root document, which it exempts on purpose: for bundles fetched once per visitor the
  compression is CPU spent on every visit for bandwidth that a reverse proxy or CDN saves anyway (Streamlit's
  reasoning, in ``starlette_gzip_middleware._should_bypass_gzip``). Components' bundles (the drawing canvas's
  script is 412 kB) are the same kind of file, so they are exempt too (``/_stcore/bidi-components/`` and the
  older ``/component/``); every other response is compressed as before.
- **The config and secrets files are polled every two seconds, not five times a second.** Streamlit watches
  ``config.toml`` and ``secrets.toml`` (each in the project's and the user's folder, whether they exist or
  not) with a polling watcher whatever ``server.fileWatcherType`` says: twenty wake-ups of a thread pool a
  second, for as long as the server runs, the largest part of an idle server's work. An edit to those files is
  noticed within two seconds instead of a fifth of one. The app's own files are watched as
  ``server.fileWatcherType`` says, untouched.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
import os
import re
import stat
import threading
from email.utils import formatdate
from pathlib import Path

try:  # the Starlette server's gzip rule and the polling watcher: loaded by the running server already
    from streamlit.web.server.starlette import starlette_gzip_middleware
except ImportError:  # a Streamlit without them: nothing to change
    starlette_gzip_middleware = None
try:
    from streamlit.watcher import polling_path_watcher
except ImportError:
    polling_path_watcher = None

CONFIG_POLL_SECONDS = 2.0
COMPONENT_ROUTES = ("/_stcore/bidi-components/", "/component/")

_lock = threading.Lock()


def send_component_bundles_as_they_are() -> bool:
    """Exempt components' bundles from Streamlit's per-request gzip. True once installed (now or before),
    False where Streamlit's gzip middleware has no such rule to extend."""
    gzip_rules = starlette_gzip_middleware
    strip_base_url = getattr(gzip_rules, "_strip_base_url", None)
    with _lock:
        original = getattr(gzip_rules, "_should_bypass_gzip", None)
        if original is None or strip_base_url is None:
            return False
        if getattr(original, "spares_component_bundles", False):
            return True

        def should_bypass_gzip(path: str, base_url: str = "") -> bool:
            if original(path, base_url):
                return True
            return strip_base_url(path, base_url).startswith(COMPONENT_ROUTES)

        should_bypass_gzip.spares_component_bundles = True  # type: ignore[attr-defined]
        gzip_rules._should_bypass_gzip = should_bypass_gzip
        return True


def poll_config_files_every(seconds: float = CONFIG_POLL_SECONDS) -> bool:
    """Set how often Streamlit's polling watcher looks at the files it polls (config and secrets). True if
    set, False where Streamlit has no such setting."""
    if not isinstance(getattr(polling_path_watcher, "_POLLING_PERIOD_SECS", None), (int, float)):
        return False
    polling_path_watcher._POLLING_PERIOD_SECS = float(seconds)
    return True


def install(page_url_paths=None) -> None:
    """All of the above and below, once per process (each is idempotent). ``page_url_paths``: the pages'
    addresses ("" for the default page); by default the root and the name of each file in the app's ``pages/``
    folder, which is how Streamlit names a page made from a file. ``app.py`` calls it on every script run, so
    after the first it only returns."""
    global _installed
    if _installed and page_url_paths is None:
        return
    if page_url_paths is None:
        pages = Path(__file__).resolve().parents[1] / "pages"
        page_url_paths = ["", *sorted(path.stem for path in pages.glob("*.py"))]
    send_component_bundles_as_they_are()
    poll_config_files_every()
    serve_frontend_from_memory(page_url_paths)
    _installed = True


_installed = False


# --- The frontend's files from memory ------------------------------------------------------------------------

INDEX_GZIP_LEVEL = 9  # compressed once per process, so at the highest level (Streamlit's middleware: 5, per request)
MAX_FILE_BYTES = 4 * 1024 * 1024  # larger files (Plotly's 4.7 MB chunk) take Streamlit's own path
MAX_CACHED_BYTES = 64 * 1024 * 1024
_STATIC_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*(?:/[A-Za-z0-9_][A-Za-z0-9._-]*)*")
_PROBES = ("/_stcore/health", "/_stcore/host-config")
_NOT_FOUND = (404, [(b"content-length", b"9"), (b"content-type", b"text/plain; charset=utf-8")], b"Not Found")


class _Frontend:
    """What Streamlit's static route would answer for the frontend's files and the pages' addresses, kept in
    memory. Streamlit's ``StaticFiles`` answers each request with four to six trips to a worker thread (look
    the path up, open, read, close; for a page's address first a failed look-up and a look for a 404 page,
    then a stat), 2-3 ms of a server's CPU a request; a visitor's first page is about 70 of them."""

    def __init__(self, static_dir: str, base_url: str, max_age: int) -> None:
        self.static_dir = os.path.realpath(static_dir)
        self.base = "/" + base_url.strip("/") if base_url.strip("/") else ""
        self.max_age = max_age
        self.page_paths: frozenset[str] = frozenset()
        self.files: dict[str, tuple[list, bytes] | None] = {}
        self.cached_bytes = 0
        self.index: dict[bool, tuple[list, bytes]] | None = None

    def set_pages(self, url_paths) -> None:
        self.page_paths = frozenset(str(p).strip("/") for p in url_paths)

    def _file(self, name: str) -> tuple[list, bytes] | None:
        """(headers, body) of a file of the static folder, as Starlette's FileResponse sends it; None when it is
        no regular file there, or too big to keep."""
        if name in self.files:
            return self.files[name]
        answer = None
        path = os.path.realpath(os.path.join(self.static_dir, name))
        if path.startswith(self.static_dir + os.sep):
            try:
                info = os.stat(path)
                if stat.S_ISREG(info.st_mode) and info.st_size <= MAX_FILE_BYTES and \
                        self.cached_bytes + info.st_size <= MAX_CACHED_BYTES:
                    with open(path, "rb") as file:
                        body = file.read()
                    if len(body) == info.st_size:
                        answer = (_file_headers(path, info), body)
                        self.cached_bytes += len(body)
            except OSError:
                answer = None
        self.files[name] = answer
        return answer

    def answer(self, scope) -> tuple[int, list, bytes] | None:
        """The response to send instead of Streamlit's, or None to let Streamlit answer."""
        path = scope.get("path", "")
        if self.base:
            if not path.startswith(self.base + "/"):
                return None  # the base URL without its slash: Streamlit redirects it to the slash
            path = path[len(self.base):]
        headers = dict(scope.get("headers") or ())
        if b"range" in headers:
            return None
        page = path[1:]
        if page in self.page_paths:
            return self._index(headers)
        for probe in _PROBES:
            under = path[1:-len(probe)]
            if path.endswith(probe) and under and under in self.page_paths:
                return _NOT_FOUND  # Streamlit's own answer to a frontend looking for the server under a page
        if path.startswith("/static/") and _STATIC_NAME.fullmatch(path[1:]) and ".." not in path:
            found = self._file(path[1:])
            if found is None:
                return None
            file_headers, body = found
            return _maybe_not_modified(200, file_headers, body, headers, self._cache_control(path))
        return None

    def _cache_control(self, path: str) -> bytes:
        if path.endswith(".html") or path.endswith("/manifest.json"):
            return b"no-cache"
        return f"public, immutable, max-age={self.max_age}".encode()

    def _index(self, request_headers: dict) -> tuple[int, list, bytes] | None:
        if self.index is None:
            found = self._file("index.html")
            if found is None:
                return None
            file_headers, body = found
            plain = [*file_headers, (b"vary", b"Accept-Encoding")]
            packed = gzip.compress(body, compresslevel=INDEX_GZIP_LEVEL, mtime=0)
            zipped = [(k, v) for k, v in plain if k != b"content-length"] + [
                (b"content-length", str(len(packed)).encode()), (b"content-encoding", b"gzip")]
            self.index = {False: (plain, body), True: (zipped, packed)}
        accepts_gzip = b"gzip" in request_headers.get(b"accept-encoding", b"")
        headers, body = self.index[accepts_gzip]
        return _maybe_not_modified(200, headers, body, request_headers, b"no-cache")


def _file_headers(path: str, info: os.stat_result) -> list:
    """The headers Starlette's FileResponse gives a file (its type, length, time and ETag, in its order)."""
    media_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
    if media_type.startswith("text/"):
        media_type += "; charset=utf-8"
    etag = hashlib.md5(f"{info.st_mtime}-{info.st_size}".encode(), usedforsecurity=False).hexdigest()
    return [(b"content-type", media_type.encode()), (b"accept-ranges", b"bytes"),
            (b"content-length", str(info.st_size).encode()),
            (b"last-modified", formatdate(info.st_mtime, usegmt=True).encode()), (b"etag", f'"{etag}"'.encode())]


def _maybe_not_modified(status: int, headers: list, body: bytes, request_headers: dict, cache_control: bytes):
    """The response with Streamlit's Cache-Control, or the 304 Starlette's StaticFiles answers a matching
    If-None-Match (or If-Modified-Since) with: no body, and of the headers only those a 304 keeps (Streamlit
    adds no Cache-Control to it)."""
    if b"if-none-match" in request_headers or b"if-modified-since" in request_headers:
        from starlette.datastructures import Headers
        from starlette.staticfiles import StaticFiles

        response_headers = Headers(raw=headers)
        if StaticFiles.is_not_modified(None, response_headers, Headers(raw=list(request_headers.items()))):
            kept = {b"content-location", b"date", b"etag", b"expires", b"vary"}
            return 304, [(k, v) for k, v in headers if k in kept], b""
    return status, [*headers, (b"cache-control", cache_control)], body


_frontend: _Frontend | None = None


def _is_streamlits(app) -> bool:
    """Whether a Starlette app is Streamlit's own (it mounts the frontend's files), not another app of the
    process (one that mounts Streamlit's beside its own routes): asked once per app."""
    known = app.__dict__.get("_ann_is_streamlits")
    if known is None:
        known = any(getattr(route, "name", None) == "static-assets" for route in getattr(app, "routes", ()))
        app.__dict__["_ann_is_streamlits"] = known
    return known


def serve_frontend_from_memory(page_url_paths) -> bool:
    """Answer the frontend's files, the pages' addresses and the frontend's probes under them from memory, with
    the bytes and headers Streamlit's own route sends (``_Frontend``). True once installed (now or before), False
    where this Streamlit has no Starlette server or static folder to take them from."""
    global _frontend
    try:
        from starlette.applications import Starlette
        from streamlit import config, file_util
        from streamlit.web.server.starlette.starlette_server_config import STATIC_ASSET_CACHE_MAX_AGE_SECONDS
    except ImportError:
        return False
    static_dir = file_util.get_static_dir()
    if not os.path.isfile(os.path.join(static_dir, "index.html")):
        return False
    with _lock:
        original = Starlette.__call__
        if getattr(original, "serves_frontend_from_memory", False):
            _frontend.set_pages(page_url_paths)
            return True
        frontend = _Frontend(static_dir, config.get_option("server.baseUrlPath") or "",
                             STATIC_ASSET_CACHE_MAX_AGE_SECONDS)
        frontend.set_pages(page_url_paths)

        async def __call__(self, scope, receive, send):
            if scope["type"] == "http" and scope.get("method") in ("GET", "HEAD") and _is_streamlits(self):
                answer = frontend.answer(scope)
                if answer is not None:
                    status, headers, body = answer
                    await send({"type": "http.response.start", "status": status, "headers": headers})
                    await send({"type": "http.response.body",
                                "body": b"" if scope["method"] == "HEAD" else body})
                    return
            await original(self, scope, receive, send)

        __call__.serves_frontend_from_memory = True  # type: ignore[attr-defined]
        _frontend = frontend
        Starlette.__call__ = __call__
        return True
