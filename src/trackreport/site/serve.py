"""``trackreport serve``: build, serve over HTTP, rebuild when the store changes.

The port is bound before anything is built (a busy port fails at once and
writes nothing). The site is served from ``--out`` by path on every request,
as each build swaps in a new folder there. Watching uses ``watchfiles``;
every change to the store starts an incremental build. HTML responses (only
they, and only here) get ``<script src="/__trackreport__/reload.js">``, which
polls ``/__trackreport__/version`` and reloads the page after a new build:
the files on disk stay exactly what ``trackreport build`` writes, and the
page's CSP (``script-src 'self'; connect-src 'self'``) allows both.

A store on object storage cannot be watched: it is listed afresh every
``TRACKREPORT_FLUSH_SECONDS`` (10 s by default there, at least 1 s: writers
upload no more often), and a listing that differs from the last one starts a
build, with a fresh view of the store (the reader's cache keeps what was
fetched before).
"""

from __future__ import annotations

import errno
import http.server
import os
import shutil
import signal
import socket
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import TrackreportError
from ..store import Store

PREFIX = "/__trackreport__/"
RELOAD_SCRIPT = b"""// trackreport serve: reload the page after each new build (served only by serve).
(function () {
  "use strict";
  var seen = null;
  function poll() {
    fetch("/__trackreport__/version", {cache: "no-store"})
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (v) {
        if (v === null) { return; }
        if (seen !== null && v !== seen) { window.location.reload(); return; }
        seen = v;
      })
      .catch(function () {})
      .then(function () { window.setTimeout(poll, 500); });
  }
  poll();
})();
"""
TAG = b'<script src="/__trackreport__/reload.js"></script>\n'
_QUIET_ERRORS = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError)


class ServeError(TrackreportError):
    """``trackreport serve`` cannot start (busy port, missing store)."""


class SiteState:
    """The build counter the pages poll, and where the site is."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.version = 0
        self.building = False
        self.lock = threading.Lock()

    def bump(self) -> None:
        with self.lock:
            self.version += 1


def _handler(state: SiteState) -> type[http.server.SimpleHTTPRequestHandler]:
    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, directory=str(state.out), **kwargs)

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def end_headers(self) -> None:
            self.send_header("Cache-Control", "no-store")
            super().end_headers()

        def _send(self, body: bytes, content_type: str) -> None:
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def _html_file(self) -> str | None:
            path = self.translate_path(self.path)
            if os.path.isdir(path):
                if not self.path.split("?", 1)[0].endswith("/"):
                    return None  # the base class redirects to the folder with a slash
                path = os.path.join(path, "index.html")
            return path if path.endswith(".html") and os.path.isfile(path) else None

        def do_GET(self) -> None:
            route = self.path.split("?", 1)[0]
            if route == PREFIX + "reload.js":
                return self._send(RELOAD_SCRIPT, "text/javascript; charset=utf-8")
            if route == PREFIX + "version":
                return self._send(str(state.version).encode(), "text/plain; charset=utf-8")
            if route == "/favicon.ico" and not (state.out / "favicon.ico").is_file():
                self.send_response(204)  # browsers ask for it; the site has none
                self.end_headers()
                return None
            html = self._html_file()
            if html is None:
                return super().do_GET()
            try:
                with open(html, "rb") as fh:
                    body = fh.read()
            except OSError:
                return super().do_GET()
            at = body.rfind(b"</body>")
            body = body[:at] + TAG + body[at:] if at >= 0 else body + TAG
            return self._send(body, "text/html; charset=utf-8")

        def do_HEAD(self) -> None:
            self.do_GET()

        def handle(self) -> None:
            try:
                super().handle()
            except _QUIET_ERRORS:  # a browser that went away: nothing to say
                pass

    return Handler


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], _QUIET_ERRORS):
            return
        super().handle_error(request, client_address)


def bind(host: str, port: int, state: SiteState) -> _Server:
    """Bind the HTTP server now (ServeError naming the port when it is taken)."""
    try:
        server = _Server((host, port), _handler(state))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise ServeError(f"port {port} on {host} is busy: another program uses it; "
                             "choose another with --port") from None
        if isinstance(exc, socket.gaierror) or exc.errno == errno.EADDRNOTAVAIL:
            raise ServeError(f"--host {host!r} is not an address of this machine") from None
        raise ServeError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    return server


def url_of(server: _Server) -> str:
    """The URL to open."""
    host, port = server.server_address[:2]
    shown = f"[{host}]" if ":" in str(host) else str(host)
    return f"http://{shown}:{port}/"


def serve(store: str | os.PathLike[str] | Store, out: str | os.PathLike[str] | None = None,
          host: str = "127.0.0.1", port: int = 8080, theme: str | None = None,
          title: str | None = None, echo: Callable[[str], None] = print) -> int:
    """Serve the site of ``store`` (a folder, or a Store, on object storage too) until
    SIGINT or SIGTERM; the exit status (0).

    Raises:
        ServeError: the store is missing, or the port cannot be bound.
        BuildError: the first build fails (``--out`` refused, unknown theme).
    """
    st = store if isinstance(store, Store) else Store(Path(store))
    root = st.root
    polled = getattr(st.storage, "snapshot", None) is not None
    if not polled and not Path(root).is_dir():
        raise ServeError(f"no store at {str(root)!r} (run a training script first, or pass "
                         "--store)")
    st.check_format()
    temp = None
    if out is None:
        temp = Path(tempfile.mkdtemp(prefix="trackreport-serve-"))
        site = temp / "site"
    else:
        site = Path(out)
    site = Path(os.path.abspath(site))
    state = SiteState(site)
    stop = threading.Event()
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

    def on_signal(signum: int, frame: Any) -> None:
        stop.set()
        if state.building:  # stop a build at once (it leaves the previous site whole)
            raise KeyboardInterrupt

    try:
        server = bind(host, port, state)
    except BaseException:
        if temp is not None:
            shutil.rmtree(temp, ignore_errors=True)
        raise
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                              daemon=True)
    try:
        for sig in previous:
            signal.signal(sig, on_signal)
        thread.start()  # a previous site in --out is served while the first build runs
        echo(f"Serving {root} at {url_of(server)} (Ctrl-C to stop)")
        seen = st.storage.snapshot() if polled else None  # before: a change meanwhile counts
        state.building = True
        from .build import build_site  # after the server starts: the builder's imports take a while

        result = build_site(st, site, theme=theme, title=title)
        state.building = False
        state.bump()
        echo(f"{result}")
        if polled and not stop.is_set():
            _poll(st, seen, site, theme, title, state, stop, echo)
        elif not stop.is_set():
            _watch(st, site, theme, title, state, stop, echo)
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
        server.server_close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if temp is not None:
            shutil.rmtree(temp, ignore_errors=True)
    return 0


def _watch(st: Store, site: Path, theme: str | None, title: str | None, state: SiteState,
           stop: threading.Event, echo: Callable[[str], None]) -> None:
    """Rebuild after every batch of changes in the store until ``stop`` is set."""
    import watchfiles

    for _changes in watchfiles.watch(st.root, stop_event=stop, debounce=200, step=50,
                                     rust_timeout=500, raise_interrupt=False,
                                     ignore_permission_denied=True):
        if stop.is_set():
            break
        _rebuild(st, site, theme, title, state, echo)


def _poll(st: Store, seen: Any, site: Path, theme: str | None, title: str | None,
          state: SiteState, stop: threading.Event, echo: Callable[[str], None]) -> None:
    """Rebuild whenever a fresh listing of an object store differs from the last one
    (``seen``, taken before the last build)."""
    storage: Any = st.storage
    every = max(1.0, storage.flush_seconds or 0.0)
    failing = False
    last = ""

    def say(line: str) -> None:  # a failure repeated at every listing is said once
        nonlocal last
        if line != last:
            echo(line)
        last = line

    while not stop.wait(every):
        try:
            now = storage.snapshot()
        except Exception as exc:  # the endpoint stopped answering: keep serving, list again
            if not failing:
                say(f"cannot list the store (trying again every {every:g} s): {_line(exc)}")
            failing = True
            continue
        if failing:
            say("the store answers again")
            failing = False
        if now == seen:
            continue
        seen = now
        fresh = Store(str(st.root), storage_options=getattr(storage, "options", None))
        try:
            built = _rebuild(fresh, site, theme, title, state, say)
        except Exception as exc:  # the store failed mid-build: the previous site stays
            say(f"rebuild failed: {_line(exc)}")
            built = False
        if not built:
            seen = None  # build again after the next listing


def _line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:300]


def _rebuild(st: Store, site: Path, theme: str | None, title: str | None, state: SiteState,
             echo: Callable[[str], None]) -> bool:
    """Build again; False when the build failed (said in one line, the site as it was)."""
    from ..errors import BuildError
    from .build import build_site

    state.building = True
    try:
        result = build_site(st, site, theme=theme, title=title)
    except (BuildError, OSError) as exc:
        echo(f"rebuild failed: {exc}")
        return False
    finally:
        state.building = False
    state.bump()
    echo(f"Rebuilt: {result}")
    return True
