"""``exactbridge status``: runs, failed and pending records from the state store; exit codes."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from exactbridge.cli import EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, main
from exactbridge.sync import BookingKey, RunStatus, SQLiteStateStore
from tests.cli._support import write_config

T0 = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.timezone.utc)

CONFIG = """
[state]
path = "state.sqlite3"

[pipelines.club]
kind = "invoices"
tenant = "club-12"
source = "virtuagym"

[pipelines.school]
kind = "invoices"
source = "eduframe"
"""

REASON = "record virtuagym:INV-7, field 'vat', policy VatMapping: no VAT code for tax 3"


def _seed(path: Path) -> None:
    with SQLiteStateStore(path) as store:
        for number in range(3):
            run = store.start_run("club", now=T0 + dt.timedelta(hours=number))
            store.finish_run(
                run,
                status=RunStatus.PARTIAL if number == 2 else RunStatus.SUCCEEDED,
                now=T0 + dt.timedelta(hours=number, seconds=95),
                booked=10 + number,
                failed=1 if number == 2 else 0,
                exact_calls=20 + number,
                notes="daily limit" if number == 1 else "",
            )
        school = store.start_run("school", now=T0 + dt.timedelta(hours=5))
        store.finish_run(school, status=RunStatus.SUCCEEDED, now=T0 + dt.timedelta(hours=6))
        store.mark_failed(BookingKey("virtuagym", "club-12", "INV-7"), error=REASON, now=T0)
        store.record_intent(
            BookingKey("virtuagym", "club-12", "INV-9"),
            content_hash="h",
            your_ref="INV-9",
            journal="70",
            now=T0,
        )
        store.record_intent(
            BookingKey("eduframe", "school", "F-1"),
            content_hash="h",
            your_ref="F-1",
            journal="70",
            now=T0,
        )


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return write_config(tmp_path, CONFIG)


def test_status_of_a_store_that_does_not_exist_yet(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["status", "--config", str(config)]) == EXIT_OK
    out = capsys.readouterr().out
    assert f"state store: {tmp_path / 'state.sqlite3'}" in out
    assert "does not exist yet" in out
    assert not (tmp_path / "state.sqlite3").exists()  # looking does not create it
    assert main(["status", "--config", str(config), "--json"]) == EXIT_OK
    data = json.loads(capsys.readouterr().out)
    assert data == {
        "state_store": str(tmp_path / "state.sqlite3"),
        "exists": False,
        "pipeline": None,
        "runs": [],
        "failed": [],
        "pending": [],
    }


def test_status_table_shows_runs_failed_with_reasons_and_pending_and_exits_1(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _seed(tmp_path / "state.sqlite3")
    assert main(["status", "--config", str(config)]) == EXIT_PARTIAL
    out = capsys.readouterr().out
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.split()[:2] == ["run", "pipeline"])
    runs = lines[header + 2 : header + 6]
    assert [line.split()[1] for line in runs] == ["school", "club", "club", "club"]  # newest first
    assert runs[1].split()[:5] == ["3", "club", "2026-01-05", "11:00:00Z", "1m35s"]
    assert "partial" in runs[1]
    assert "daily limit" in runs[2]
    assert "Failed records (1), retried on the next run:" in out
    assert REASON in out
    assert "virtuagym/club-12/invoice/INV-7" in out
    assert "Pending records (2)" in out
    assert "virtuagym/club-12/invoice/INV-9" in out
    assert "1 failed record: fix the cause" in out


def test_status_json_for_one_pipeline_with_a_limit(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _seed(tmp_path / "state.sqlite3")
    code = main(["status", "--config", str(config), "--pipeline", "club", "--limit", "2", "--json"])
    assert code == EXIT_PARTIAL
    data = json.loads(capsys.readouterr().out)
    assert data["pipeline"] == "club"
    assert data["exists"] is True
    assert [run["run_id"] for run in data["runs"]] == [3, 2]
    newest = data["runs"][0]
    assert newest["status"] == "partial"
    assert newest["started_at"] == "2026-01-05T11:00:00+00:00"
    assert newest["duration_seconds"] == "95"
    assert (newest["booked"], newest["failed"], newest["exact_calls"]) == (12, 1, 22)
    assert [(r["source_id"], r["reason"], r["status"]) for r in data["failed"]] == [
        ("INV-7", REASON, "failed")
    ]
    assert [(r["record"], r["journal"], r["your_ref"], r["attempts"]) for r in data["pending"]] == [
        ("virtuagym/club-12/invoice/INV-9", "70", "INV-9", 1)
    ]


def test_status_of_a_pipeline_without_failures_exits_0(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _seed(tmp_path / "state.sqlite3")
    assert main(["status", "--config", str(config), "--pipeline", "school"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "No failed records of pipeline 'school'." in out
    assert "eduframe/school/invoice/F-1" in out
    assert "INV-7" not in out


def test_status_of_an_unknown_pipeline_is_a_configuration_error(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["status", "--config", str(config), "--pipeline", "gym"]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert "pipelines.gym" in err
    assert "club, school" in err


def test_status_reads_the_config_named_by_the_environment(
    tmp_path: Path,
    config: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("EXACTBRIDGE_CONFIG", str(config))
    monkeypatch.chdir(tmp_path.parent)
    assert main(["status"]) == EXIT_OK
    assert str(tmp_path / "state.sqlite3") in capsys.readouterr().out
    monkeypatch.delenv("EXACTBRIDGE_CONFIG")
    assert main(["status"]) == EXIT_USAGE  # no ./exactbridge.toml here
    err = capsys.readouterr().err
    assert "exactbridge.toml: the configuration file does not exist" in err
