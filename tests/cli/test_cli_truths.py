"""What the CLI says is what it does: durations, previews, refused logins, help, -m."""

from __future__ import annotations

import datetime as dt
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from exactbridge import __version__
from exactbridge.cli import EXIT_OK, EXIT_PARTIAL, main
from exactbridge.errors import ConfigurationError
from exactbridge.sync import RunStatus, SQLiteStateStore
from tests.cli._support import CLIENT_ID, SECRET_ENV, exact_section, served_fake, write_config
from tests.cli.test_sync_command import Setup, _config


@pytest.fixture
def setup(tmp_path: Path) -> Setup:
    return Setup(tmp_path)


def test_sync_json_duration_is_whole_seconds_as_a_string(
    setup: Setup, capsys: pytest.CaptureFixture[str]
) -> None:
    _config(setup.folder)
    assert setup.run("sync", "club", "--json") == EXIT_OK
    duration = json.loads(capsys.readouterr().out)["duration_seconds"]
    assert isinstance(duration, str)
    assert duration.isdigit()


def test_status_json_duration_is_whole_seconds_even_for_fractional_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    started = dt.datetime(2026, 1, 5, 11, 0, tzinfo=dt.timezone.utc)
    with SQLiteStateStore(tmp_path / "state.sqlite3") as store:
        run = store.start_run("club", now=started)
        store.finish_run(
            run,
            status=RunStatus.SUCCEEDED,
            now=started + dt.timedelta(seconds=330, microseconds=109086),
        )
    config = write_config(tmp_path, '[state]\npath = "state.sqlite3"\n')
    assert main(["status", "--config", str(config), "--json"]) == EXIT_OK
    (newest,) = json.loads(capsys.readouterr().out)["runs"]
    assert newest["duration_seconds"] == "330"  # was "330.109086"


def test_preview_says_would_book_and_labels_no_row_booked(
    setup: Setup, capsys: pytest.CaptureFixture[str]
) -> None:
    _config(setup.folder)
    assert setup.run("preview", "club") == EXIT_OK
    out = capsys.readouterr().out
    assert "would book" in out
    table = out.split("action", 1)[1]
    assert "booked" not in table
    assert "would create" in out  # the accounts line
    assert setup.exact.count("POST") == 0


def test_preview_on_a_configuration_error_leaves_no_state_file(setup: Setup) -> None:
    _config(setup.folder)
    del setup.environ["VG_KEY"]  # the source's API key variable is not set
    with pytest.raises(ConfigurationError, match="VG_KEY"):
        setup.run("preview", "club")
    assert not (setup.folder / "state.sqlite3").exists()
    # and a successful preview does not create one either
    setup.environ["VG_KEY"] = "CANARY-vg-api-key-19af"
    assert setup.run("preview", "club") == EXIT_OK
    assert not (setup.folder / "state.sqlite3").exists()


def test_a_refused_login_names_client_id_and_client_secret_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    redirect = "http://localhost:8766/callback"
    monkeypatch.setenv(SECRET_ENV, "not-the-app-secret")
    monkeypatch.delenv("EXACTBRIDGE_CONFIG", raising=False)
    with served_fake(redirect) as (fake, server):
        config = write_config(tmp_path, exact_section(base_url=server.url, redirect_uri=redirect))
        monkeypatch.setattr(
            "sys.stdin", io.StringIO(fake.authorize(CLIENT_ID, redirect_uri=redirect))
        )
        code = main(["login", "--config", str(config), "--paste", "--no-browser"])
    err = capsys.readouterr().err
    assert code == EXIT_PARTIAL
    assert "exact.client_id" in err
    assert CLIENT_ID in err
    assert f"exact.client_secret_env names ({SECRET_ENV})" in err
    assert "not-the-app-secret" not in err


def test_demo_help_describes_both_pipelines(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--help"]) == EXIT_OK
    text = " ".join(capsys.readouterr().out.split())
    assert "invoice pipeline" in text
    assert "payout pipeline" in text


def test_python_dash_m_exactbridge_is_the_cli() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "exactbridge", "--version"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"exactbridge {__version__}"
