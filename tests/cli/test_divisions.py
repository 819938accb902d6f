"""``exactbridge divisions``: table and --json, over real HTTP and at the transport seam."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from exactbridge.cli import EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, build_parser, main
from exactbridge.cli._config import load_config, make_token_store
from exactbridge.cli._divisions import command
from exactbridge.exact import Token
from exactbridge.testing import FakeExactOnline
from exactbridge.testing.server import RunningServer
from tests.cli._support import (
    CANARY_SECRET,
    CLIENT_ID,
    SECRET_ENV,
    exact_section,
    served_fake,
    write_config,
)


@pytest.fixture
def served() -> Iterator[tuple[FakeExactOnline, RunningServer]]:
    with served_fake() as pair:
        yield pair


def _logged_in(tmp_path: Path, fake: FakeExactOnline, text: str) -> Path:
    config = write_config(tmp_path, text)
    store = make_token_store(load_config(config).require_exact())
    grant = fake.issue_tokens(CLIENT_ID)
    store.save(
        Token(grant.access_token, grant.refresh_token, grant.issued_at, grant.expires_in),
        expected_generation=None,
    )
    return config


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRET_ENV, CANARY_SECRET)


def test_divisions_table_marks_the_current_and_the_configured_division(
    tmp_path: Path,
    served: tuple[FakeExactOnline, RunningServer],
    capsys: pytest.CaptureFixture[str],
) -> None:
    fake, server = served
    config = _logged_in(tmp_path, fake, exact_section(base_url=server.url, division=2002))
    code = main(["divisions", "--config", str(config)])
    out, err = capsys.readouterr()
    assert code == EXIT_OK, err
    lines = out.splitlines()
    assert lines[0].split() == ["code", "description", "country", "currency"]
    first, second = lines[2], lines[3]
    assert first.startswith("    1001  ")  # neither current nor configured
    # Reading through division 2002 made it Exact's current one (as Exact does).
    assert second.startswith("*>  2002  ")
    assert "Tweede BV" in second
    assert len(lines[2:]) >= 2
    assert "> = exact.division in exactbridge.toml (2002)" in out
    assert CANARY_SECRET not in out + err


def test_divisions_json(
    tmp_path: Path,
    served: tuple[FakeExactOnline, RunningServer],
    capsys: pytest.CaptureFixture[str],
) -> None:
    fake, server = served
    config = _logged_in(tmp_path, fake, exact_section(base_url=server.url, division=None))
    assert main(["divisions", "--config", str(config), "--json"]) == EXIT_OK
    data = json.loads(capsys.readouterr().out)
    assert data["configured_division"] is None
    assert [(d["code"], d["current"], d["configured"]) for d in data["divisions"]] == [
        (1001, False, False),
        (2002, True, False),  # the fake's current division: the one seeded last
    ]
    assert data["divisions"][1]["description"] == "Tweede BV"
    assert data["divisions"][1]["currency"] == "EUR"


def test_divisions_at_the_transport_seam_with_a_division_not_in_the_list(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = FakeExactOnline()
    fake.add_division(1001)
    fake.register_app(CLIENT_ID, CANARY_SECRET, "http://localhost:8766/callback")
    config = _logged_in(tmp_path, fake, exact_section(base_url="http://127.0.0.1:9", division=5))
    args = build_parser().parse_args(["divisions", "--config", str(config)])
    # the configured division is unreachable: the list shows, and the exit code says so
    assert command(args, transport=fake.transport(), clock=fake.clock) == EXIT_PARTIAL
    out = capsys.readouterr().out
    assert "exact.division = 5 in exactbridge.toml is not in this list" in out
    assert "1001" in out
    as_json = build_parser().parse_args(["divisions", "--json", "--config", str(config)])
    assert command(as_json, transport=fake.transport(), clock=fake.clock) == EXIT_PARTIAL
    assert json.loads(capsys.readouterr().out)["configured_division"] == 5


def test_divisions_before_login_says_to_log_in(
    tmp_path: Path,
    served: tuple[FakeExactOnline, RunningServer],
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, server = served
    config = write_config(tmp_path, exact_section(base_url=server.url))
    assert main(["divisions", "--config", str(config)]) == EXIT_PARTIAL
    err = capsys.readouterr().err
    assert "token store is empty" in err
    assert "run 'exactbridge login'" in err
    assert "Traceback" not in err


def test_divisions_without_an_exact_section_is_a_configuration_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, "[state]\npath = 'state.sqlite3'\n")
    assert main(["divisions", "--config", str(config)]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.startswith(f"exactbridge: configuration error: {config}: exact: ")
