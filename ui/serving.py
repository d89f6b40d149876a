"""Two things Streamlit's server does for every visitor, or all the time, that a class's server can do for less.

Installed once per process by ``ui.shell`` (the app's first script run); each leaves Streamlit as it is where
the thing it changes is not found (another Streamlit version, the Tornado server).

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

import threading

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


def install() -> None:
    """Both of the above, once per process (each is idempotent)."""
    send_component_bundles_as_they_are()
    poll_config_files_every()
