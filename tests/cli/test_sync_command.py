"""``exactbridge sync/preview/retry NAME`` on a configuration file, against the fakes."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest

from exactbridge.cli import EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, build_parser, main
from exactbridge.cli._sync import EXIT_BUSY, Seams, run_command
from exactbridge.config import ConfigFileError
from exactbridge.exact import SQLiteTokenStore, Token
from exactbridge.sync import RunLock, SQLiteStateStore
from exactbridge.testing import (
    FakeClock,
    FakeExactOnline,
    FakePay,
    sample_invoices,
    seed_pay_for_receivables,
    write_invoice_csv,
)
from exactbridge.testing.virtuagym import FakeVirtuagym

from ._support import CANARY_SECRET, CLIENT_ID, DIVISION, SECRET_ENV, exact_section, write_config

VG_KEY = "CANARY-vg-api-key-19af"
VG_SECRET = "CANARY-vg-club-secret-77c2"
PAY_TOKEN = "CANARY-pay-api-token-" + "e" * 19

PAY_PIPELINE = """
[pipelines.pay]
kind = "payouts"

[pipelines.pay.source]
system = "paynl"
token_code = "AT-1234-5678"
api_token_env = "PAY_TOKEN"

[pipelines.pay.booking.payments]
bank_journal = "20"
debtors_account = "1300"
psp_cost_account = "4510"
payout_account = "1110"
unassigned_account = "2050"
"""


DEFAULT_VAT = 'vat.codes = { 1 = "2", 2 = "1" }'


def _config(folder: Path, *, booking: str = DEFAULT_VAT, sync: str = "") -> Path:
    text = exact_section(base_url="https://start.exactonline.nl") + (
        "\n[state]\n"
        'path = "state.sqlite3"\n'
        "\n[pipelines.club]\n"
        'kind = "invoices"\n'
        "\n[pipelines.club.source]\n"
        'system = "virtuagym"\n'
        "club_id = 8633\n"
        'api_key_env = "VG_KEY"\n'
        'club_secret_env = "VG_SECRET"\n'
        "\n[pipelines.club.booking]\n"
        'sales_journal = "70"\n'
        "numbering.enabled = false\n"
        'ledger.default_account = "8000"\n'
        f"{booking}\n"
        "\n[pipelines.club.sync]\n"
        f"{sync}\n"
    )
    return write_config(folder, text)


class Setup:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.clock = FakeClock(dt.datetime(2025, 6, 1, 8, tzinfo=dt.timezone.utc))
        self.exact = FakeExactOnline(clock=self.clock)
        self.exact.add_division(DIVISION, template="nl")
        self.exact.register_app(CLIENT_ID, CANARY_SECRET, "http://localhost:8766/callback")
        self.vg = FakeVirtuagym(
            club_id=8633, api_key=VG_KEY, club_secret=VG_SECRET, clock=self.clock
        )
        self.environ = {
            SECRET_ENV: CANARY_SECRET,
            "VG_KEY": VG_KEY,
            "VG_SECRET": VG_SECRET,
            "PAY_TOKEN": PAY_TOKEN,
        }
        grant = self.exact.issue_tokens(CLIENT_ID)
        store = SQLiteTokenStore(folder / "tokens.sqlite3", name="default")
        store.save(
            Token(grant.access_token, grant.refresh_token, grant.issued_at, grant.expires_in),
            expected_generation=None,
        )
        ann = self.vg.add_member(firstname="Ann", lastname="Smit")["member_id"]
        for month in (3, 4, 5):
            self.vg.add_invoice(
                member_id=ann,
                invoice_date=dt.date(2025, month, 1),
                rows=[{"name": "Abonnement", "price": Decimal("39.95"), "tax": 2}],
            )

        self.pay = FakePay(api_token=PAY_TOKEN)

    def seams(self) -> Seams:
        return Seams(
            exact_transport=self.exact.transport(),
            source_transports={"virtuagym": self.vg.transport(), "paynl": self.pay.transport()},
            clock=self.clock,
            environ=self.environ,
        )

    def run(self, *argv: str) -> int:
        args = build_parser().parse_args([*argv, "--config", str(self.folder / "exactbridge.toml")])
        return run_command(args, self.seams())


@pytest.fixture
def setup(tmp_path: Path) -> Setup:
    return Setup(tmp_path)


def test_sync_books_and_a_second_sync_finds_nothing(
    setup: Setup, capsys: pytest.CaptureFixture[str]
) -> None:
    _config(setup.folder)
    assert setup.run("sync", "club", "--json") == EXIT_OK
    report = json.loads(capsys.readouterr().out)
    assert report["pipeline"] == "club"
    assert report["counts"]["booked"] == 3
    assert {row["amount"] for row in report["results"]} == {"39.95"}
    assert setup.exact.count("POST", "SalesEntries") == 3

    assert setup.run("sync", "club") == EXIT_OK
    text = capsys.readouterr().out
    assert "unchanged       3" in text
    assert setup.exact.count("POST", "SalesEntries") == 3
    store = SQLiteStateStore(setup.folder / "state.sqlite3")
    try:
        assert [run.booked for run in store.recent_runs("club")] == [0, 3]
        # The records are kept under the pipeline's tenant (the pipeline name by default).
        assert store.failed("virtuagym", "club") == []
    finally:
        store.close()


def test_preview_writes_nothing_and_prints_a_table(
    setup: Setup, capsys: pytest.CaptureFixture[str]
) -> None:
    _config(setup.folder)
    assert setup.run("preview", "club") == EXIT_OK
    out = capsys.readouterr().out
    assert "(dry run)" in out
    assert "action" in out
    assert "39.95" in out
    assert setup.exact.count("POST") == 0
    assert setup.run("sync", "club", "--dry-run", "--json") == EXIT_OK
    assert json.loads(capsys.readouterr().out)["dry_run"] is True
    assert setup.exact.count("POST") == 0


def test_failed_records_give_exit_1_and_retry_books_them_after_the_fix(
    setup: Setup, capsys: pytest.CaptureFixture[str]
) -> None:
    _config(setup.folder, booking='vat.codes = { 1 = "2" }')
    assert setup.run("sync", "club") == EXIT_PARTIAL
    out = capsys.readouterr().out
    assert "failed" in out
    assert "VatMapping" in out
    _config(setup.folder)
    assert setup.run("retry", "club", "--json") == EXIT_OK
    report = json.loads(capsys.readouterr().out)
    assert report["counts"]["booked"] == 3


def test_a_busy_pipeline_exits_3(setup: Setup, capsys: pytest.CaptureFixture[str]) -> None:
    _config(setup.folder)
    with RunLock(setup.folder / "state.sqlite3", "club"):
        assert setup.run("sync", "club") == EXIT_BUSY
    assert "busy" in capsys.readouterr().out
    assert setup.exact.count("POST") == 0


def test_bad_sync_settings_name_the_file_and_key(
    setup: Setup, capsys: pytest.CaptureFixture[str]
) -> None:
    _config(setup.folder, sync='on_change = "rewrite"')
    with pytest.raises(Exception, match=r"exactbridge\.toml.*pipelines\.club\.sync\.on_change"):
        setup.run("sync", "club")
    # Through main(): a configuration error is exit 2 with the message on stderr.
    code = main(["sync", "club", "--config", str(setup.folder / "exactbridge.toml")])
    assert code == EXIT_USAGE
    err = capsys.readouterr().err
    assert "pipelines.club.sync.on_change" in err


def test_secrets_never_reach_the_output(setup: Setup, capsys: pytest.CaptureFixture[str]) -> None:
    _config(setup.folder)
    setup.run("sync", "club", "--json")
    setup.run("preview", "club")
    captured = capsys.readouterr()
    assert "booked" in captured.out
    for canary in (CANARY_SECRET, VG_KEY, VG_SECRET):
        assert canary not in captured.out + captured.err


def test_a_payout_pipeline_from_the_config_matches_the_booked_invoices(
    setup: Setup, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _config(setup.folder)
    path.write_text(path.read_text(encoding="utf-8") + PAY_PIPELINE, encoding="utf-8")
    assert setup.run("sync", "club") == EXIT_OK
    with setup.exact.client(DIVISION) as reader:
        seeded = seed_pay_for_receivables(setup.pay, reader, every=1, unmatched=1)
    capsys.readouterr()
    assert setup.run("sync", "pay", "--json") == EXIT_OK
    report = json.loads(capsys.readouterr().out)
    assert report["counts"]["booked"] == 1
    assert report["results"][0]["amount"] == str(seeded.net)
    assert setup.exact.count("POST", "BankEntries") == 1
    assert setup.run("sync", "pay") == EXIT_OK
    assert setup.exact.count("POST", "BankEntries") == 1
    assert PAY_TOKEN not in capsys.readouterr().out


def test_a_clubassistent_export_folder_from_the_config(
    setup: Setup, capsys: pytest.CaptureFixture[str]
) -> None:
    exports = setup.folder / "exports"
    exports.mkdir()
    invoices = sample_invoices(4, seed=7)
    write_invoice_csv(exports / "facturen-2026-01.csv", invoices)
    path = _config(setup.folder)
    path.write_text(
        path.read_text(encoding="utf-8")
        + """
[pipelines.hockey]
kind = "invoices"

[pipelines.hockey.source]
system = "clubassistent"
files = "exports/*.csv"

[pipelines.hockey.booking]
numbering.enabled = false
ledger.default_account = "8000"
vat.codes = { "21" = "2", "9" = "1", "0" = "0" }
""",
        encoding="utf-8",
    )
    assert setup.run("sync", "hockey", "--json") == EXIT_OK
    report = json.loads(capsys.readouterr().out)
    assert report["counts"]["booked"] == 4
    assert setup.exact.count("POST", "SalesEntries") == 4
    assert setup.run("sync", "hockey", "--json") == EXIT_OK
    assert json.loads(capsys.readouterr().out)["counts"]["booked"] == 0


def test_a_file_pattern_that_is_not_text_names_the_key(setup: Setup) -> None:
    path = _config(setup.folder)
    path.write_text(
        path.read_text(encoding="utf-8")
        + '\n[pipelines.hockey]\nkind = "invoices"\n'
        + '[pipelines.hockey.source]\nsystem = "clubassistent"\nfiles = 3\n',
        encoding="utf-8",
    )
    with pytest.raises(Exception, match=r"pipelines\.hockey\.source\.files"):
        setup.run("sync", "hockey")


def test_sync_from_until_exports_one_month_and_a_plain_sync_books_the_rest(
    setup: Setup, capsys: pytest.CaptureFixture[str]
) -> None:
    _config(setup.folder)  # invoices of 1 March, 1 April and 1 May 2025
    argv = ("sync", "club", "--from", "2025-04-01", "--until", "2025-04-30", "--json")
    assert setup.run(*argv) == EXIT_OK
    report = json.loads(capsys.readouterr().out)
    assert report["counts"]["booked"] == 1
    assert report["counts"]["skipped"] == 2
    reasons = sorted(row["reason"] for row in report["results"] if row["action"] == "skipped")
    assert reasons == [
        "dated 2025-03-01, before the sync-from date 2025-04-01",
        "dated 2025-05-01, after the sync-until date 2025-04-30; left for a later run",
    ]
    with setup.exact.client(DIVISION) as exact:
        dates = sorted(entry.entry_date for entry in exact.sales_entries.iterate())
    assert dates == [dt.date(2025, 4, 1)]

    assert setup.run("sync", "club", "--json") == EXIT_OK
    assert json.loads(capsys.readouterr().out)["counts"]["booked"] == 2
    with setup.exact.client(DIVISION) as exact:
        dates = sorted(entry.entry_date for entry in exact.sales_entries.iterate())
    assert dates == [dt.date(2025, 3, 1), dt.date(2025, 4, 1), dt.date(2025, 5, 1)]


def test_until_before_from_and_a_bad_date_are_refused_before_any_call(
    setup: Setup, capsys: pytest.CaptureFixture[str]
) -> None:
    _config(setup.folder, sync="sync_from = 2025-04-01")
    with pytest.raises(ConfigFileError, match=r"sync\.sync_until: 2025-03-31 is before"):
        setup.run("sync", "club", "--until", "2025-03-31")
    with pytest.raises(SystemExit) as exited:
        setup.run("sync", "club", "--until", "2025-04-31")
    assert exited.value.code == 2
    assert "'2025-04-31' is not a date" in capsys.readouterr().err
    assert setup.exact.calls == []
