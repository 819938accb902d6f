"""``exactbridge fake-server``: the fakes on localhost, for trying things by hand.

It serves :class:`exactbridge.testing.FakeExactOnline` over real HTTP (see
:mod:`exactbridge.testing.server`) with one seeded division, its clock following
real time (tokens expire, rate-limit windows reset), until Ctrl-C. It prints the
base URL, the test app's client id and secret (public test values) and an
``[exact]`` section to point ``exactbridge.toml`` at it.

``--tls`` serves HTTPS with a certificate made at start by a local CA and prints the
CA bundle and the environment line that makes ordinary clients trust it.
``--source NAME`` (repeatable) serves a seeded source fake as well, each on a port of
its own, printing its base URL and the credentials it accepts (``--no-exact``: the
sources alone); ``--seed NAME.OPTION=VALUE`` passes seeding options;
``clubassistent`` has no API, so its export files are written to ``--files``.

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
    from exactbridge.testing.served import ServedSource
    from exactbridge.testing.server import RunningServer

#: What ``--source`` accepts: the served source fakes, and Club-assistent's files.
SOURCE_CHOICES = ("virtuagym", "eduframe", "coachview", "paynl", "clubassistent")

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
    parser.add_argument(
        "--tls",
        action="store_true",
        help="serve HTTPS with a certificate from a local CA (needs exactbridge[testing])",
    )
    parser.add_argument(
        "--source",
        action="append",
        choices=SOURCE_CHOICES,
        default=[],
        metavar="NAME",
        help="also serve this source fake (repeatable): " + ", ".join(SOURCE_CHOICES),
    )
    parser.add_argument(
        "--no-exact", action="store_true", help="serve only the --source fakes, not Exact"
    )
    parser.add_argument(
        "--seed",
        action="append",
        default=[],
        metavar="NAME.OPTION=VALUE",
        help="a seeding option of a source fake, e.g. virtuagym.members=20 (repeatable)",
    )
    parser.add_argument(
        "--files",
        default="clubassistent-files",
        metavar="DIR",
        help="where --source clubassistent writes its export files (default ./clubassistent-files)",
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


def _seed_options(items: list[str], sources: list[str]) -> dict[str, dict[str, Any]]:
    """``--seed NAME.OPTION=VALUE`` items by source, checked against each seeder's options."""
    from exactbridge.testing.served import seed_parameters

    options: dict[str, dict[str, Any]] = {}
    for item in items:
        key, equals, text = item.partition("=")
        name, dot, option = key.strip().partition(".")
        if not equals or not dot or not option:
            raise ConfigurationError(
                f"{item!r} is not NAME.OPTION=VALUE",
                key="--seed",
                expected="e.g. virtuagym.members=20",
            )
        if name not in sources or name == "clubassistent":
            raise ConfigurationError(
                f"{name!r} is not a served --source",
                key="--seed",
                expected="one of " + ", ".join(n for n in sources if n != "clubassistent"),
            )
        known = seed_parameters(name)
        if option not in known:
            raise ConfigurationError(
                f"{name} has no seeding option {option!r}",
                key="--seed",
                expected="one of " + ", ".join(sorted(known)),
            )
        value: Any = text.strip()
        if value.lstrip("-").isdigit():
            value = int(value)
        options.setdefault(name, {})[option] = value
    return options


def _tls_authority(tls: bool) -> Any:
    if not tls:
        return False
    try:
        from exactbridge.testing.tls import default_ca

        return default_ca()
    except ImportError as exc:
        raise ConfigurationError(
            "serving HTTPS needs trustme",
            key="--tls",
            expected="pip install 'exactbridge[testing]'",
        ) from exc


def start_sources(
    names: list[str], *, host: str, seeds: dict[str, dict[str, Any]], tls: Any
) -> list[ServedSource]:
    """Serve each named source fake (seeded, its clock following real time)."""
    from exactbridge.testing import FakeClock
    from exactbridge.testing.served import make_source_fake, serve_source

    _check_host(host)
    served: list[ServedSource] = []
    try:
        for name in dict.fromkeys(names):
            if name == "clubassistent":
                continue
            fake = make_source_fake(
                name, seed_options=seeds.get(name), clock=FakeClock(SystemClock().now())
            )
            served.append(
                serve_source(name, fake=fake, host=host, port=0, tls=tls, follow_wall_clock=True)
            )
    except BaseException:
        for source in served:
            source.close()
        raise
    return served


def start_fake_server(
    *,
    host: str,
    port: int,
    division: int,
    template: str,
    redirect_uri: str | None,
    tls: Any = False,
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
        server = serve(fake, host, port, follow_wall_clock=True, tls=tls)
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
    sources_started: Callable[[list[ServedSource]], None] | None = None,
) -> int:
    """Run ``exactbridge fake-server`` until Ctrl-C (or ``stop`` is set, for tests).

    ``started`` gets the Exact server, ``sources_started`` the served sources, once
    everything listens (for tests).
    """
    if args.division <= 0:
        raise ConfigurationError(
            f"{args.division} is not a division code", key="--division", expected="1 or more"
        )
    names: list[str] = list(getattr(args, "source", []) or [])
    no_exact = bool(getattr(args, "no_exact", False))
    if no_exact and not names:
        raise ConfigurationError(
            "--no-exact leaves nothing to serve", key="--no-exact", expected="with --source NAME"
        )
    seeds = _seed_options(list(getattr(args, "seed", []) or []), names)
    tls = _tls_authority(bool(getattr(args, "tls", False)))
    server: RunningServer | None = None
    sources: list[ServedSource] = []
    stopping = stop if stop is not None else threading.Event()
    try:
        if not no_exact:
            server, redirect_uri = start_fake_server(
                host=args.host,
                port=args.port,
                division=args.division,
                template=args.template,
                redirect_uri=args.redirect_uri,
                tls=tls,
            )
            _print_exact(server, args, redirect_uri)
        sources = start_sources(names, host=args.host, seeds=seeds, tls=tls)
        for source in sources:
            _print_source(source)
        if "clubassistent" in names:
            _write_files(args.files)
        if tls:
            print(f"TLS: trust the CA bundle {tls.ca_path}")
            print(f"  {tls.environment_line()}")
            print()
        print("Their data and tokens live in memory and are gone when they stop.")
        print("Press Ctrl-C to stop.", flush=True)
        if started is not None and server is not None:
            started(server)
        if sources_started is not None:
            sources_started(sources)
        while not stopping.wait(0.5):
            pass
    except KeyboardInterrupt:
        print("Stopped.")
    finally:
        for source in sources:
            source.close()
        if server is not None:
            server.close()
    return 0


def _print_exact(server: RunningServer, args: argparse.Namespace, redirect_uri: str) -> None:
    from exactbridge.testing import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET

    print(f"Fake Exact Online at {server.url} (division {args.division}, {args.template})")
    print(f"  client_id     {DEFAULT_CLIENT_ID}")
    print(f"  client_secret {DEFAULT_CLIENT_SECRET}   (a public test value)")
    print(f"  redirect_uri  {redirect_uri}")
    print()
    print("Point exactbridge.toml at it:")
    print()
    print(
        config_snippet(
            server.url, division=args.division, redirect_uri=redirect_uri, country=args.template
        )
    )
    print()
    print(f"and set the secret:  export {DEFAULT_SECRET_ENV}={DEFAULT_CLIENT_SECRET}")
    print("then: exactbridge login, exactbridge divisions, ...")
    print()


def _print_source(source: ServedSource) -> None:
    print(f"Fake {source.name} at {source.base_url}")
    for key, value in source.credentials.items():
        print(f"  {key:<13} {value}")
    print(f"  auth          {source.auth}")
    print("  (public test values)")
    print()


def _write_files(folder: str) -> None:
    from exactbridge.testing.served import write_clubassistent_files

    paths = write_clubassistent_files(folder)
    print("Club-assistent has no API; its export files were written:")
    for path in paths:
        print(f"  {path}")
    print()
