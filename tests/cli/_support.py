"""Helpers shared by the CLI tests: configuration files and a fake Exact Online over HTTP."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from exactbridge.clock import SystemClock
from exactbridge.testing import FakeClock, FakeExactOnline
from exactbridge.testing.server import RunningServer, serve

#: A client secret nobody would write by accident: it must never show up in output.
CANARY_SECRET = "CANARY-client-secret-7f3e91"
CLIENT_ID = "cli-test-app-0001"
SECRET_ENV = "EXACTBRIDGE_TEST_CLIENT_SECRET"
DIVISION = 1001


def free_port() -> int:
    """A port nothing listens on right now (for the login listener's redirect URI)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def write_config(folder: Path, text: str, name: str = "exactbridge.toml") -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def exact_section(
    *,
    base_url: str | None = None,
    redirect_uri: str = "http://localhost:8766/callback",
    division: int | None = DIVISION,
    extra: str = "",
) -> str:
    lines = [
        "[exact]",
        'country = "nl"',
        f'client_id = "{CLIENT_ID}"',
        f'client_secret_env = "{SECRET_ENV}"',
        f'redirect_uri = "{redirect_uri}"',
        'token_store = "tokens.sqlite3"',
    ]
    if division is not None:
        lines.append(f"division = {division}")
    if base_url is not None:
        lines.append(f'base_url = "{base_url}"')
    if extra:
        lines.append(extra)
    return "\n".join(lines) + "\n"


@contextmanager
def served_fake(
    redirect_uri: str = "http://localhost:8766/callback",
) -> Iterator[tuple[FakeExactOnline, RunningServer]]:
    """A seeded fake Exact Online served on a free localhost port.

    Its clock starts at the real time and stands still, so tokens it issues are
    fresh for the CLI's real clock during the test (no refresh happens).
    """
    fake = FakeExactOnline(clock=FakeClock(SystemClock().now()))
    fake.add_division(DIVISION, template="nl")
    fake.add_division(2002, template="be", description="Tweede BV")
    fake.register_app(CLIENT_ID, CANARY_SECRET, redirect_uri)
    with serve(fake, port=0) as server:
        yield fake, server
