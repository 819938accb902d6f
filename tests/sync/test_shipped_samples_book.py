"""The library's own samples book under the default policies (issue: defaults that work).

Only what no default can know is configured: which Exact VAT code stands for a source
VAT rate, and the revenue account. Everything else (numbering, debtor codes, periods,
credit notes) is the default, and every sample record must land in the fake Exact.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from exactbridge.errors import MappingError
from exactbridge.mapping import BookingConfig, NonNumericNumber, NumberingPolicy
from exactbridge.sync import InvoicePipeline, MemoryStateStore, RunStatus
from exactbridge.sync.connectors import ClubassistentInvoices
from exactbridge.testing import FakeClock, FakeExactOnline, write_invoice_csv
from exactbridge.testing.clubassistent import sample_invoices

DIVISION = 4242
# Club-assistent writes the VAT percentage; the "nl" template's codes for 21, 9 and 0 %.
MINIMAL = {"vat": {"codes": {"21": "2", "9": "1", "0": "0"}}, "ledger": {"default_account": "8000"}}


def _books(tmp_path: Path, config: BookingConfig, count: int = 200):
    clock = FakeClock(dt.datetime(2027, 1, 10, 8, 0, tzinfo=dt.timezone.utc))
    fake = FakeExactOnline(clock=clock)
    fake.add_division(DIVISION, template="nl")
    folder = tmp_path / "exports"
    folder.mkdir()
    samples = sample_invoices(count)
    write_invoice_csv(folder / "facturen.csv", samples)
    source = ClubassistentInvoices(folder, tenant="hc-sample")
    pipeline = InvoicePipeline(
        source, fake.client(DIVISION), config, MemoryStateStore(), clock=clock
    )
    return fake, samples, pipeline.run()


def test_the_clubassistent_sample_books_every_record_under_the_default_numbering(tmp_path):
    fake, samples, report = _books(tmp_path, BookingConfig.from_mapping(MINIMAL))
    assert report.status is RunStatus.SUCCEEDED, [r.reason for r in report.failed][:3]
    assert len(report.booked) == len(samples) == 200
    entries = fake.domain.rows(DIVISION, fake.domain.entity_set("salesentry/SalesEntries"))
    assert len(entries) == 200
    # The source number ("F2026000001") is not a number: Exact numbers the entry and
    # the source number is kept in YourRef, where the engine finds it again.
    assert sorted(row["YourRef"] for row in entries) == sorted(s.number for s in samples)
    numbers = [row["EntryNumber"] for row in entries]
    assert all(isinstance(n, int) and n > 0 for n in numbers)
    assert len(set(numbers)) == 200
    booked = sum((Decimal(str(row["AmountDC"])) for row in entries), Decimal(0))
    expected = sum((line.amount for s in samples for line in s.lines), Decimal(0))
    assert booked == expected


def test_refusing_non_numeric_numbers_fails_every_record_and_names_the_fix(tmp_path):
    config = BookingConfig.from_mapping({**MINIMAL, "numbering": {"non_numeric": "error"}})
    assert config.numbering.non_numeric is NonNumericNumber.ERROR
    fake, _, report = _books(tmp_path, config, count=20)
    assert report.status is RunStatus.PARTIAL
    assert len(report.failed) == 20
    assert fake.domain.rows(DIVISION, fake.domain.entity_set("salesentry/SalesEntries")) == []
    for result in report.failed:
        assert 'to fix: set numbering.non_numeric = "let_exact_number"' in (result.reason or "")


# Each policy-driven refusal names the setting that fixes it, with the value to use.
@pytest.mark.parametrize(
    ("config", "setting"),
    [
        ({"vat": {"codes": {}}, "ledger": {"default_account": "8000"}}, "vat.codes"),
        ({"vat": MINIMAL["vat"], "ledger": {}}, "ledger.default_account"),
        ({**MINIMAL, "ledger": {"default_account": "9999"}}, "ledger.default_account"),
        ({**MINIMAL, "sales_journal": "20"}, "sales_journal"),
        ({**MINIMAL, "debtor": {"create_missing": False}}, "debtor.create_missing = true"),
        ({**MINIMAL, "vat": {"codes": {"21": "4", "9": "4", "0": "4"}}}, "vat.codes"),
        (
            {**MINIMAL, "numbering": {"non_numeric": "digits_only", "prefix": "99"}},
            "numbering.prefix",
        ),
    ],
)
def test_every_refusal_names_the_setting_that_fixes_it(tmp_path, config, setting):
    _, _, report = _books(tmp_path, BookingConfig.from_mapping(config), count=5)
    assert report.failed, "the configuration was meant to refuse the sample"
    for result in report.failed:
        assert "; to fix: " in (result.reason or ""), result.reason
        assert setting in (result.reason or "").split("; to fix: ", 1)[1], result.reason


def test_mapping_error_keeps_the_fix_as_an_attribute():
    error = MappingError(
        "boom", record_id="1", field="f", policy="P", fix="set numbering.enabled = false"
    )
    assert error.fix == "set numbering.enabled = false"
    assert str(error).endswith("; to fix: set numbering.enabled = false")
    assert NumberingPolicy().non_numeric is NonNumericNumber.LET_EXACT_NUMBER
