"""``exactbridge fake-server``: a fake Exact Online on localhost, for trying things by hand.

It serves :class:`exactbridge.testing.FakeExactOnline` over real HTTP (see
:mod:`exactbridge.testing.server`) with one seeded division, its clock following
real time (tokens expire, rate-limit windows reset), until Ctrl-C. It prints the
base URL, the test app's client id and secret (public test values) and an
``[exact]`` section to point ``exactbridge.toml`` at it.

The fake's own redirect URI is on the next port (``http://localhost:<port+1>/callback``)
so that ``exactbridge login`` can listen for it while the fake keeps its port.
"""

from __future__ import annotations

import argparse
import ipaddress
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from exactbridge.cli._args import port
from exactbridge.cli._config import DEFAULT_SECRET_ENV
from exactbridge.clock import SystemClock
from exactbridge.errors import ConfigurationError

if TYPE_CHECKING:
    from exactbridge.testing.server import RunningServer

__all__ = ["command", "config_snippet", "register", "start_fake_server"]

DEFAULT_PORT = 8765
DEFAULT_DIVISION = 1001


def register(commands: Any) -> None:
    """Add the ``fake-server`` subcommand to ``commands`` (an argparse subparsers action)."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "fake-server",
        help="serve a fake Exact Online on localhost for trying exactbridge by hand",
        description=(
            "Serve the fake Exact Online of exactbridge.testing over HTTP on this computer, "
            "with one seeded division, until Ctrl-C. Prints its address, the client id and "
            "secret it accepts and an [exact] section for exactbridge.toml."
        ),
    )
    parser.add_argument(
        "--host", default="127.0.0.1", help="loopback address to bind (default 127.0.0.1)"
    )
    parser.add_argument(
        "--port",
        type=port,
        default=DEFAULT_PORT,
        help=f"port (default {DEFAULT_PORT}; 0 picks a free one)",
    )
    parser.add_argument(
        "--division",
        type=int,
        default=DEFAULT_DIVISION,
        help=f"code of the seeded division (default {DEFAULT_DIVISION})",
    )
    parser.add_argument(
        "--template",
        choices=["nl", "be"],
        default="nl",
        help="seed the division as a Dutch (nl, default) or Belgian (be) administration",
    )
    parser.add_argument(
        "--redirect-uri",
        metavar="URI",
        help="the redirect URI the fake's app accepts (default http://localhost:<port+1>/callback)",
    )


def _check_host(host: str) -> None:
    loopback = host == "localhost"
    if not loopback:
        try:
            loopback = ipaddress.ip_address(host.strip("[]")).is_loopback
        except ValueError:
            loopback = False
    if not loopback:
        raise ConfigurationError(
            f"{host!r} is not this computer's loopback address: the fake is a test tool "
            "and speaks plain HTTP",
            key="--host",
            expected="127.0.0.1, ::1 or localhost",
        )


def config_snippet(url: str, *, division: int, redirect_uri: str, country: str) -> str:
    """An ``[exact]`` section (TOML) pointing at a fake served at ``url``."""
    from exactbridge.testing import DEFAULT_CLIENT_ID

    return "\n".join(
        [
            "[exact]",
            f'country = "{country}"',
            f"division = {division}",
            f'client_id = "{DEFAULT_CLIENT_ID}"',
            f'client_secret_env = "{DEFAULT_SECRET_ENV}"',
            f'redirect_uri = "{redirect_uri}"',
            f'base_url = "{url}"',
            'token_store = "fake-exact-tokens.sqlite3"   # keep the fake\'s tokens apart',
        ]
    )


def start_fake_server(
    *, host: str, port: int, division: int, template: str, redirect_uri: str | None
) -> tuple[RunningServer, str]:
    """Seed a fake and serve it; returns the running server and the redirect URI it accepts."""
    # The fakes are imported only when this command runs.
    from exactbridge.testing import (
        DEFAULT_CLIENT_ID,
        DEFAULT_CLIENT_SECRET,
        FakeClock,
        FakeExactOnline,
    )
    from exactbridge.testing.server import serve

    _check_host(host)
    fake = FakeExactOnline(clock=FakeClock(SystemClock().now()))
    fake.add_division(division, template=template)
    try:
        server = serve(fake, host, port, follow_wall_clock=True)
    except OSError as exc:
        raise ConfigurationError(
            f"cannot listen on {host} port {port} ({exc.strerror or exc})",
            key="--port",
            expected="a free port (0 picks one)",
        ) from exc
    if redirect_uri is None:
        redirect_port = server.port + 1 if server.port < 65535 else server.port - 1
        redirect_uri = f"http://localhost:{redirect_port}/callback"
    fake.register_app(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, redirect_uri)
    return server, redirect_uri


def command(
    args: argparse.Namespace,
    *,
    stop: threading.Event | None = None,
    started: Callable[[RunningServer], None] | None = None,
) -> int:
    """Run ``exactbridge fake-server`` until Ctrl-C (or ``stop`` is set, for tests)."""
    if args.division <= 0:
        raise ConfigurationError(
            f"{args.division} is not a division code", key="--division", expected="1 or more"
        )
    server, redirect_uri = start_fake_server(
        host=args.host,
        port=args.port,
        division=args.division,
        template=args.template,
        redirect_uri=args.redirect_uri,
    )
    from exactbridge.testing import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET

    stopping = stop if stop is not None else threading.Event()
    try:
        print(f"Fake Exact Online at {server.url} (division {args.division}, {args.template})")
        print(f"  client_id     {DEFAULT_CLIENT_ID}")
        print(f"  client_secret {DEFAULT_CLIENT_SECRET}   (a public test value)")
        print(f"  redirect_uri  {redirect_uri}")
        print()
        print("Point exactbridge.toml at it:")
        print()
        print(
            config_snippet(
                server.url,
                division=args.division,
                redirect_uri=redirect_uri,
                country=args.template,
            )
        )
        print()
        print(f"and set the secret:  export {DEFAULT_SECRET_ENV}={DEFAULT_CLIENT_SECRET}")
        print("then: exactbridge login, exactbridge divisions, ...")
        print("Its data and tokens live in memory and are gone when it stops.")
        print("Press Ctrl-C to stop.", flush=True)
        if started is not None:
            started(server)
        while not stopping.wait(0.5):
            pass
    except KeyboardInterrupt:
        print("Stopped.")
    finally:
        server.close()
    return 0
