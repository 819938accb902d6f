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
from exactbridge.cli._demo import DEMO_DIVISION, run_demo
from exactbridge.exact import P, SalesEntry
from exactbridge.sync import BookingKey, BookingStatus, SQLiteStateStore
from exactbridge.testing import FakeExactOnline

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
    assert report["invoices"]["read"] == 30
    first, second = report["invoices"]["passes"]
    assert first["status"] == "succeeded"
    assert first["counts"]["failed"] == 0
    assert first["failures"] == []
    assert first["counts"]["booked"] == 30
    assert first["accounts_created"] > 0
    assert Decimal(first["calls_per_booking"]) == (Decimal(first["exact_calls"]) / 30).quantize(
        Decimal("0.01")
    )
    assert second["counts"]["booked"] == 0
    assert second["counts"]["unchanged"] == 30
    assert second["accounts_created"] == 0
    assert second["exact_calls"] == 0  # nothing to do: not even reference data is read


def test_demo_books_the_pay_payout_matching_the_open_invoices(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, report = _demo_json(capsys, "--members", "6", "--invoices", "10")
    assert code == EXIT_OK
    payouts = report["payouts"]
    seeded = payouts["seeded"]
    assert seeded["paid_invoices"]
    assert len(seeded["unmatched_payments"]) == 1
    first, second = payouts["passes"]
    assert first["counts"]["booked"] == 1
    assert second["counts"]["booked"] == 0
    assert second["exact_calls"] == 0


def test_the_payout_closes_exactly_the_paid_invoices() -> None:
    result = run_demo(members=6, invoices=10)
    assert result.payout is not None
    with result.exact.client(DEMO_DIVISION) as exact:
        still_open = {item.your_ref for item in exact.receivables_list.iterate()}
        [entry] = list(exact.bank_entries.iterate())
    assert not still_open & set(result.payout.paid)
    booked = {inv.number for inv in result.invoices if (inv.total_incl_vat or 0) > 0}
    assert booked - set(result.payout.paid) <= still_open
    assert entry.entry_id is not None


def test_fake_exact_holds_one_entry_per_booked_invoice_with_the_source_totals() -> None:
    result = run_demo(members=9, invoices=25, payouts=False)
    first, second = result.invoice_passes
    entries = _entries(result.exact)
    assert len(first.booked) == len(result.invoices) == 25
    assert second.booked == ()
    assert result.payout_passes == ()
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
    first, second = report["invoices"]["passes"]
    assert first["status"] == "partial"
    assert first["counts"]["failed"] == 2
    assert first["counts"]["booked"] == 10
    for failure in first["failures"]:
        assert failure["record"].startswith("virtuagym:")
        assert "VatMapping.codes" in failure["reason"]
        assert "lines[0].vat_category" in failure["reason"]
    # the second pass retries the failed ones (still failing) and books nothing twice
    assert second["counts"]["failed"] == 2
    assert second["counts"]["booked"] == 0
    assert second["counts"]["unchanged"] == 10


def test_text_report_names_the_figures(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--members", "4", "--invoices", "6"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "== invoices -> sales entries" in out
    assert "== Pay. payouts -> bank entries" in out
    assert out.count("pass 2: succeeded") == 2
    assert "calls per booking" in out


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
        assert [run.pipeline for run in store.recent_runs()][-2:] == [
            "demo-virtuagym",
            "demo-virtuagym",
        ]
    finally:
        store.close()


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
    assert "pass 2: succeeded" in done.stdout
    assert "payouts booked" in done.stdout


def test_a_club_larger_than_one_member_page_is_read_completely() -> None:
    # Virtuagym pages members 500 at a time by an inclusive edit-time cursor.
    result = run_demo(members=501, invoices=501, passes=1, payouts=False)
    [report] = result.invoice_passes
    assert report.failed == ()
    assert len(report.booked) == 501
