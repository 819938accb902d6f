"""``exactbridge fake-server``: starts, prints how to use it, answers over real HTTP, stops."""

from __future__ import annotations

import threading
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from exactbridge.cli import EXIT_OK, EXIT_USAGE, build_parser, main
from exactbridge.cli._config import load_config
from exactbridge.cli._fakeserver import command
from exactbridge.testing import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from exactbridge.testing.server import RunningServer


def test_fake_server_serves_until_stopped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stop = threading.Event()
    seen: list[RunningServer] = []
    answers: list[httpx.Response] = []
    redirect = "http://localhost:8799/callback"

    def started(server: RunningServer) -> None:
        seen.append(server)
        answers.append(
            httpx.get(
                f"{server.url}/api/oauth2/auth",
                params={
                    "client_id": DEFAULT_CLIENT_ID,
                    "redirect_uri": redirect,
                    "response_type": "code",
                    "state": "s1",
                },
            )
        )
        stop.set()

    args = build_parser().parse_args(
        [
            "fake-server",
            "--port",
            "0",
            "--division",
            "4242",
            "--template",
            "be",
            "--redirect-uri",
            redirect,
        ]
    )
    assert command(args, stop=stop, started=started) == EXIT_OK
    out = capsys.readouterr().out
    server = seen[0]
    assert out.startswith(f"Fake Exact Online at {server.url} (division 4242, be)")
    assert DEFAULT_CLIENT_SECRET in out  # a public test value, printed on purpose
    # The fake issued a code for its app and redirected to the registered URI.
    assert answers[0].status_code == 302
    location = answers[0].headers["Location"]
    assert location.startswith(redirect + "?")
    assert parse_qs(urlsplit(location).query)["state"] == ["s1"]
    # The printed [exact] section is a valid configuration pointing at the server.
    snippet = out[out.index("[exact]") : out.index("\n\n", out.index("[exact]"))]
    (tmp_path / "exactbridge.toml").write_text(snippet, encoding="utf-8")
    exact = load_config(tmp_path / "exactbridge.toml").require_exact()
    assert exact.site_url == server.url
    assert exact.division == 4242
    assert exact.country == "be"
    assert exact.client_id == DEFAULT_CLIENT_ID
    assert exact.redirect_uri == redirect
    assert exact.token_store == tmp_path / "fake-exact-tokens.sqlite3"
    # Closed afterwards: the port no longer answers.
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{server.url}/api/v1/current/Me", timeout=2)


def test_fake_server_default_redirect_is_on_the_next_port(
    capsys: pytest.CaptureFixture[str],
) -> None:
    stop = threading.Event()
    seen: list[RunningServer] = []

    def started(server: RunningServer) -> None:
        seen.append(server)
        stop.set()

    args = build_parser().parse_args(["fake-server", "--port", "0"])
    assert command(args, stop=stop, started=started) == EXIT_OK
    out = capsys.readouterr().out
    assert f"redirect_uri  http://localhost:{seen[0].port + 1}/callback" in out
    assert "(division 1001, nl)" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["fake-server", "--host", "0.0.0.0", "--port", "0"], "--host"),
        (["fake-server", "--port", "0", "--division", "0"], "--division"),
    ],
)
def test_fake_server_refuses_bad_options(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == EXIT_USAGE
    assert message in capsys.readouterr().err


def test_fake_server_port_out_of_range_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["fake-server", "--port", "70000"]) == EXIT_USAGE
    assert "not a port" in capsys.readouterr().err
