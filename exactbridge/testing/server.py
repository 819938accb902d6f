"""Serve a fake (Exact Online or a source system) over real HTTP or HTTPS on localhost.

From the command line (``exactbridge fake-server`` offers more: every source fake,
seeding options)::

    python -m exactbridge.testing.server --port 8765 --division 123 --template nl --tls

From Python (e.g. in a test that wants real sockets)::

    from exactbridge.testing import FakeExactOnline, FakeVirtuagym
    from exactbridge.testing.server import serve

    fake = FakeExactOnline()
    with serve(fake, port=0) as server:
        print(server.url)                           # e.g. http://127.0.0.1:54321

    with serve(FakeVirtuagym(), tls=True) as server:
        print(server.url, server.ca_path)           # https://127.0.0.1:54322, the CA's PEM

Any fake with a ``handle(request)`` method can be served: :class:`FakeExactOnline`,
:class:`FakeVirtuagym`, :class:`FakeEduframe`, :class:`FakeCoachview`,
:class:`FakePay`. The server answers exactly what the in-process transports answer
(same handler, same state), so a host application whose own code uses ``requests``,
``aiohttp``, ``urllib`` or another language can test against the fakes. Injected
transport faults (timeouts, connection errors, lost responses) close the connection
without an answer.

With ``tls=True`` the server speaks HTTPS with a certificate for ``127.0.0.1``,
``::1`` and ``localhost`` issued by this process's throwaway certificate authority
(:func:`exactbridge.testing.tls.default_ca`); ``server.ca_path`` is the PEM file
to trust and ``server.environment()`` the ``SSL_CERT_FILE`` / ``REQUESTS_CA_BUNDLE``
variables. Pass a :class:`~exactbridge.testing.tls.LocalCA` to use another one.
It binds loopback addresses only: it is a test tool, not a production server.
"""

from __future__ import annotations

import argparse
import datetime as dt
import ipaddress
import socket
import sys
import threading
import time
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Protocol

import httpx

from exactbridge.testing._exact.fake import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_REDIRECT_URI,
    FakeExactOnline,
)
from exactbridge.testing.clock import FakeClock

if TYPE_CHECKING:
    from types import TracebackType

    from exactbridge.testing.tls import LocalCA

__all__ = ["RunningServer", "ServableFake", "main", "serve"]

_HOP_BY_HOP = frozenset({"content-length", "transfer-encoding", "connection", "keep-alive"})
#: Seconds an idle or stalled connection may hold a handler thread.
_SOCKET_TIMEOUT = 30.0


class ServableFake(Protocol):
    """What :func:`serve` needs of a fake: one method answering one request."""

    def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer ``request`` (its body already read)."""
        ...


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(
        self,
        address: tuple[str, int],
        fake: ServableFake,
        follow: bool,
        tls: LocalCA | None,
    ) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)
        self.fake = fake
        self.follow = follow
        self.scheme = "https" if tls is not None else "http"
        if tls is not None:
            # The handshake happens in the handler thread (on first read), so a client
            # that connects and stays silent cannot stall the accept loop.
            self.socket = tls.server_context().wrap_socket(
                self.socket, server_side=True, do_handshake_on_connect=False
            )
        self._wall = time.monotonic()
        self._wall_lock = threading.Lock()

    def sync_clock(self) -> None:
        """In wall-clock mode, move the fake clock forward by the real time that passed."""
        if not self.follow:
            return
        clock = getattr(self.fake, "clock", None)
        if not isinstance(clock, FakeClock):
            return
        with self._wall_lock:
            now = time.monotonic()
            elapsed, self._wall = now - self._wall, now
        if elapsed > 0:
            clock.advance(elapsed)

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that hangs up or fails the TLS handshake is not worth a traceback."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; without TCP_NODELAY each answer on a
    # kept-alive connection waits ~40 ms for the client's delayed ACK.
    disable_nagle_algorithm = True
    server: _Server
    server_version = "FakeServer"
    timeout = _SOCKET_TIMEOUT

    def _body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _answer(self) -> None:
        body = self._body()
        host = self.headers.get("Host") or "{}:{}".format(*self.server.server_address[:2])
        headers = [(k, v) for k, v in self.headers.items() if k.lower() not in _HOP_BY_HOP]
        request = httpx.Request(
            self.command,
            f"{self.server.scheme}://{host}{self.path}",
            headers=headers,
            content=body,
        )
        self.server.sync_clock()
        try:
            response = self.server.fake.handle(request)
        except httpx.TransportError:
            # An injected timeout, connection error or lost response: no answer at all.
            self.close_connection = True
            return
        content = response.content
        self.send_response(response.status_code)
        for name, value in response.headers.multi_items():
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
        """Stay quiet; the fakes' call logs record every request."""


class RunningServer:
    """A fake being served in a background thread.

    ``url`` is the base URL to give a client (``http://127.0.0.1:<port>``, or
    ``https://...`` when served with TLS); ``ca_path`` the PEM file of the certificate
    authority to trust (``None`` over plain HTTP); ``close()`` stops the server (also
    on leaving a ``with`` block) within a few seconds.
    """

    def __init__(self, server: _Server, thread: threading.Thread, tls: LocalCA | None) -> None:
        self._server = server
        self._thread = thread
        self._tls = tls
        host, port = server.server_address[:2]
        self.host = str(host)
        self.port = int(port)
        self.scheme = server.scheme
        shown = f"[{self.host}]" if ":" in self.host else self.host
        self.url = f"{self.scheme}://{shown}:{self.port}"
        self.fake = server.fake
        self.ca_path = tls.ca_path if tls is not None else None

    def environment(self) -> dict[str, str]:
        """``SSL_CERT_FILE`` and ``REQUESTS_CA_BUNDLE`` for a client process (empty over HTTP)."""
        return self._tls.environment() if self._tls is not None else {}

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
    fake: ServableFake,
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    follow_wall_clock: bool = False,
    tls: bool | LocalCA = False,
) -> RunningServer:
    """Serve ``fake`` on ``host:port`` (port 0 picks a free port) in a daemon thread.

    ``host`` must be a loopback address (``ValueError`` otherwise). With
    ``follow_wall_clock`` a fake whose clock is a :class:`FakeClock` moves forward with
    real time, so tokens expire and rate-limit windows reset as they would for real;
    otherwise time only moves when the test moves ``fake.clock``. ``tls=True`` serves
    HTTPS with :func:`~exactbridge.testing.tls.default_ca` (needs ``trustme``, the
    ``testing`` extra); a :class:`~exactbridge.testing.tls.LocalCA` uses that one.

    A served :class:`FakeEduframe` has its ``base_url`` moved to the server, so its
    ``Link`` next-page headers point back at it.
    """
    if not _is_loopback(host):
        raise ValueError(f"{host!r} is not a loopback address; the fakes serve this computer only")
    authority: LocalCA | None
    if tls is True:
        from exactbridge.testing.tls import default_ca

        authority = default_ca()
    elif tls is False:
        authority = None
    else:
        authority = tls
    bind = "127.0.0.1" if host == "localhost" else host.strip("[]")
    server = _Server((bind, port), fake, follow_wall_clock, authority)
    thread = threading.Thread(
        target=server.serve_forever, args=(0.05,), name="fake-server", daemon=True
    )
    thread.start()
    running = RunningServer(server, thread, authority)
    _point_at(fake, running.url)
    return running


def _point_at(fake: ServableFake, url: str) -> None:
    """Let a fake that writes absolute URLs into its answers write the served ones."""
    from exactbridge.testing.eduframe import FakeEduframe

    if isinstance(fake, FakeEduframe):
        path = httpx.URL(fake.base_url).path.rstrip("/")
        fake.base_url = url + path


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point: serve a seeded fake Exact Online until interrupted."""
    parser = argparse.ArgumentParser(
        prog="python -m exactbridge.testing.server",
        description="Serve a fake Exact Online over HTTP(S) on localhost (for tests).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="port (0 picks a free one)")
    parser.add_argument(
        "--division", type=int, action="append", default=None, help="division code (repeatable)"
    )
    parser.add_argument(
        "--template", default="nl", choices=["nl", "be", "none"], help="seed template"
    )
    parser.add_argument("--tls", action="store_true", help="serve HTTPS with a local CA")
    args = parser.parse_args(argv)
    start = dt.datetime.fromtimestamp(time.time(), tz=dt.timezone.utc)
    fake = FakeExactOnline(clock=FakeClock(start))
    template = None if args.template == "none" else args.template
    for division in args.division or [123456]:
        fake.add_division(division, template=template)
    server = serve(fake, args.host, args.port, follow_wall_clock=True, tls=args.tls)
    print(f"Fake Exact Online at {server.url}  divisions: {fake.domain.divisions()}")
    print(f"  client_id={DEFAULT_CLIENT_ID}")
    print(f"  client_secret={DEFAULT_CLIENT_SECRET} (a public test value)")
    print(f"  redirect_uri={DEFAULT_REDIRECT_URI}")
    if server.ca_path is not None:
        print(f"  CA bundle: {server.ca_path}")
        print("  " + " ".join(f"{k}={v}" for k, v in server.environment().items()))
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
