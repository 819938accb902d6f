"""Serve a fake Exact Online over real HTTP on localhost.

From the command line::

    python -m exactbridge.testing.server --port 8765 --division 123 --template nl

From Python (e.g. in a test that wants real sockets)::

    from exactbridge.testing import FakeExactOnline
    from exactbridge.testing.server import serve

    fake = FakeExactOnline()
    with serve(fake, port=0) as server:
        print(server.url)                           # e.g. http://127.0.0.1:54321

The server answers exactly what the in-process transports answer (same backend, same
state). Injected transport faults (``TIMEOUT``, ``CONNECTION_ERROR``,
``LOST_RESPONSE``) close the connection without an answer. Only plain HTTP on
localhost: it is a test tool, not a production server.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import threading
import time
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

import httpx

from exactbridge.testing._exact.fake import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_REDIRECT_URI,
    FakeExactOnline,
)
from exactbridge.testing.clock import FakeClock

__all__ = ["RunningServer", "main", "serve"]

_HOP_BY_HOP = frozenset({"content-length", "transfer-encoding", "connection", "keep-alive"})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], fake: FakeExactOnline, follow: bool) -> None:
        super().__init__(address, _Handler)
        self.fake = fake
        self.follow = follow
        self._wall = time.monotonic()
        self._wall_lock = threading.Lock()

    def sync_clock(self) -> None:
        """In wall-clock mode, move the fake clock forward by the real time that passed."""
        if not self.follow:
            return
        with self._wall_lock:
            now = time.monotonic()
            elapsed, self._wall = now - self._wall, now
        if elapsed > 0:
            self.fake.clock.advance(elapsed)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server
    server_version = "FakeExactOnline"

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        host = self.headers.get("Host") or "{}:{}".format(*self.server.server_address[:2])
        headers = [(k, v) for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP]
        request = httpx.Request(
            self.command, f"http://{host}{self.path}", headers=headers, content=body
        )
        self.server.sync_clock()
        try:
            response = self.server.fake.backend.handle(request)
        except httpx.TransportError:
            # An injected timeout, connection error or lost response: no answer at all.
            self.close_connection = True
            return
        content = response.content
        self.send_response(response.status_code)
        for name, value in response.headers.items():
            if name.lower() not in _HOP_BY_HOP:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(content)

    do_GET = _answer
    do_POST = _answer
    do_PUT = _answer
    do_DELETE = _answer
    do_PATCH = _answer
    do_HEAD = _answer

    def log_message(self, format: str, *args: object) -> None:
        """Stay quiet; the fake's call log records every request."""


class RunningServer:
    """A fake Exact Online being served in a background thread.

    ``url`` is the base URL to give a client (``http://127.0.0.1:<port>``); ``close()``
    stops the server (also on leaving a ``with`` block).
    """

    def __init__(self, server: _Server, thread: threading.Thread) -> None:
        self._server = server
        self._thread = thread
        host, port = server.server_address[:2]
        self.host = str(host)
        self.port = int(port)
        self.url = f"http://{self.host}:{self.port}"
        self.fake = server.fake

    def close(self) -> None:
        """Stop serving and release the port."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> RunningServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"RunningServer(url={self.url!r})"


def serve(
    fake: FakeExactOnline,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    follow_wall_clock: bool = False,
) -> RunningServer:
    """Serve ``fake`` on ``host:port`` (port 0 picks a free port) in a daemon thread.

    With ``follow_wall_clock`` the fake clock moves forward with real time, so tokens
    expire and rate-limit windows reset as they would against Exact; otherwise time
    only moves when the test moves ``fake.clock``.
    """
    server = _Server((host, port), fake, follow_wall_clock)
    thread = threading.Thread(
        target=server.serve_forever, args=(0.05,), name="fake-exact-server", daemon=True
    )
    thread.start()
    return RunningServer(server, thread)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point: serve a seeded fake until interrupted."""
    parser = argparse.ArgumentParser(
        prog="python -m exactbridge.testing.server",
        description="Serve a fake Exact Online over HTTP on localhost (for tests).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="port (0 picks a free one)")
    parser.add_argument(
        "--division", type=int, action="append", default=None, help="division code (repeatable)"
    )
    parser.add_argument(
        "--template", default="nl", choices=["nl", "be", "none"], help="seed template"
    )
    args = parser.parse_args(argv)
    start = dt.datetime.fromtimestamp(time.time(), tz=dt.timezone.utc)
    fake = FakeExactOnline(clock=FakeClock(start))
    template = None if args.template == "none" else args.template
    for division in args.division or [123456]:
        fake.add_division(division, template=template)
    server = serve(fake, args.host, args.port, follow_wall_clock=True)
    print(f"Fake Exact Online at {server.url}  divisions: {fake.domain.divisions()}")
    print(f"  client_id={DEFAULT_CLIENT_ID}")
    print(f"  client_secret={DEFAULT_CLIENT_SECRET} (a public test value)")
    print(f"  redirect_uri={DEFAULT_REDIRECT_URI}")
    print("Press Ctrl+C to stop.", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
