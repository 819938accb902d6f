"""The ``exactbridge`` CLI: the demo on the embedded fakes, --version, usage errors, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from exactbridge import __version__
from exactbridge.cli import EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, main
from exactbridge.cli._demo import (
    DEMO_DIVISION,
    demo_config,
    run_demo,
    seed_exact,
    seed_virtuagym,
    sync_pass,
)
from exactbridge.exact import P, SalesEntry
from exactbridge.sources.virtuagym import VirtuagymClient
from exactbridge.sync.sqlite_store import SQLiteStateStore
from exactbridge.sync.state import BookingKey, BookingStatus, MemoryStateStore
from exactbridge.testing import FakeClock, FakeExactOnline, Fault

REPO = Path(__file__).resolve().parents[2]


def _demo_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    code = main(["demo", "--json", *args])
    out = capsys.readouterr().out
    return code, json.loads(out, parse_float=Decimal)


def _entries(fake: FakeExactOnline) -> list[SalesEntry]:
    with fake.client(DEMO_DIVISION) as exact:
        return list(exact.sales_entries.iterate(filter=P("Journal") == "70"))


def test_demo_books_every_bookable_invoice_once_and_nothing_on_the_second_pass(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, report = _demo_json(capsys, "--members", "12", "--invoices", "30")
    assert code == EXIT_OK
    first, second = report["passes"]
    assert first["invoices_read"] == 30
    assert first["failed"] == 0
    assert first["failures"] == []
    assert first["booked"] == first["invoices_read"]
    assert first["accounts_created"] > 0
    assert Decimal(first["calls_per_booked_invoice"]) == (
        Decimal(first["exact_calls"]) / first["booked"]
    ).quantize(Decimal("0.01"))
    assert second["booked"] == 0
    assert second["already_booked"] == first["booked"]
    assert second["accounts_created"] == 0
    assert second["exact_calls"] == 0  # nothing to do: not even reference data is read
    assert report["payout_pipeline"] == "not part of this demo yet"


def test_fake_exact_holds_one_entry_per_booked_invoice_with_the_source_totals() -> None:
    result = run_demo(members=9, invoices=25)
    first, second = result.passes
    entries = _entries(result.exact)
    assert first.booked == len(result.invoices) == 25
    assert second.booked == 0
    by_ref: dict[str | None, list[SalesEntry]] = {}
    for entry in entries:
        by_ref.setdefault(entry.your_ref, []).append(entry)
    assert sorted(ref or "" for ref in by_ref) == sorted(inv.number for inv in result.invoices)
    assert all(len(found) == 1 for found in by_ref.values())
    for invoice in result.invoices:
        [entry] = by_ref[invoice.number]
        assert entry.amount_fc == invoice.total_incl_vat
    # the seeded club has credit invoices, guests and discounts: all of them got booked
    assert any(inv.total_incl_vat is not None and inv.total_incl_vat < 0 for inv in result.invoices)
    assert any(inv.party is None for inv in result.invoices)


def test_bad_records_are_reported_with_reasons_and_do_not_stop_the_run(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, report = _demo_json(capsys, "--members", "5", "--invoices", "12", "--bad-invoices", "2")
    assert code == EXIT_PARTIAL
    first, second = report["passes"]
    assert first["failed"] == 2
    assert first["booked"] == first["invoices_read"] - 2 == 10
    for failure in first["failures"]:
        assert failure["record"].startswith("virtuagym:")
        assert "VatMapping.codes" in failure["reason"]
        assert "lines[0].vat_category" in failure["reason"]
    # the second pass retries the failed ones (still failing) and books nothing twice
    assert second["failed"] == 2
    assert second["booked"] == 0
    assert second["already_booked"] == 10


def test_text_report_names_the_figures(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--members", "4", "--invoices", "6"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "pass 1:" in out
    assert "pass 2:" in out
    assert "calls per booked invoice" in out
    assert "Pay. payout pipeline: not part of this demo yet." in out


def test_state_dir_keeps_the_sqlite_store_with_booked_records(tmp_path: Path) -> None:
    result = run_demo(members=3, invoices=5, state_dir=str(tmp_path / "state"))
    assert result.state_path is not None
    store = SQLiteStateStore(result.state_path)
    try:
        invoice = result.invoices[0]
        record = store.get(BookingKey("virtuagym", invoice.tenant or "-", invoice.source_id))
        assert record is not None
        assert record.status is BookingStatus.BOOKED
        assert record.your_ref == invoice.number
        assert record.attempts == 1
    finally:
        store.close()


def test_a_lost_answer_is_resolved_by_natural_key_and_never_booked_twice() -> None:
    clock = FakeClock()
    club = seed_virtuagym(members=4, invoices=6, clock=clock)
    fake = seed_exact(clock)
    fake.fail_next(Fault.LOST_RESPONSE, method="POST", path="SalesEntries")
    store = MemoryStateStore()
    source = VirtuagymClient(club.credentials, transport=club.transport(), clock=clock)
    with source, fake.client(DEMO_DIVISION) as exact:
        first, _ = sync_pass(source, exact, store, demo_config(), clock)
        second, invoices = sync_pass(source, exact, store, demo_config(), clock)
    assert len(first.failed) == 1
    assert "outcome unknown" in first.failed[0].reason
    assert first.booked == 5
    # the lost one was committed by Exact: the second pass finds it instead of writing
    assert second.booked == 0
    assert second.already_booked == 6
    assert second.failed == ()
    refs = sorted(entry.your_ref or "" for entry in _entries(fake))
    assert refs == sorted(invoice.number for invoice in invoices)


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == EXIT_OK
    assert capsys.readouterr().out.strip() == f"exactbridge {__version__}"


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["frobnicate"],
        ["demo", "--invoices", "-3"],
        ["demo", "--members", "0"],
        ["demo", "--members", "many"],
        ["demo", "--invoices", "2", "--bad-invoices", "3"],
    ],
)
def test_usage_errors_exit_with_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == EXIT_USAGE
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "exactbridge" in captured.err


def test_console_module_runs_the_demo() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "exactbridge.cli", "demo"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "pass 2:" in done.stdout
    assert "booked" in done.stdout


def test_a_club_larger_than_one_member_page_is_read_completely() -> None:
    # Virtuagym pages members 500 at a time by an inclusive edit-time cursor.
    result = run_demo(members=501, invoices=501, passes=1)
    [report] = result.passes
    assert report.failed == ()
    assert report.booked == 501
