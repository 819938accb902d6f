"""Shared set-up of the end-to-end tests of the source connectors through the sync engine.

One fake clock drives everything; Exact is a ``FakeExactOnline`` division seeded from
the Dutch template, read back through the real Exact client (the fake shares no
parsing code with it). The state store is parametrized: the in-memory store and the
SQLite store in ``tmp_path`` (so cursors round-trip through SQLite as text).

The fixtures have names of their own (``fake_clock``, ``fake_exact``, ``state_store``,
``books``) so modules that define ``clock``/``store``/``world`` are not affected.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from exactbridge.exact import P
from exactbridge.sync import MemoryStateStore, SQLiteStateStore, StateStore
from exactbridge.testing import FakeClock, FakeExactOnline

#: The fake Exact division every end-to-end test books into.
DIVISION = 1001
#: The shared clock's start: Monday 2 June 2025, 09:00 UTC.
START = dt.datetime(2025, 6, 2, 9, 0, tzinfo=dt.timezone.utc)

WRITE_METHODS = ("POST", "PUT", "DELETE")


@pytest.fixture
def fake_clock() -> FakeClock:
    """The one clock of the sources, Exact, the client and the pipeline."""
    return FakeClock(START)


@pytest.fixture
def fake_exact(fake_clock: FakeClock) -> FakeExactOnline:
    """A Dutch division (template "nl": VAT codes, GL 8000-8040, journal 70) with no customers."""
    fake = FakeExactOnline(clock=fake_clock)
    fake.add_division(DIVISION, template="nl")
    return fake


@pytest.fixture(params=["memory", "sqlite"])
def state_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StateStore]:
    """Each test runs on both state stores."""
    store: StateStore
    if request.param == "memory":
        store = MemoryStateStore()
    else:
        store = SQLiteStateStore(tmp_path / "state.sqlite3")
    yield store
    store.close()


class Books:
    """The fake Exact division read back: entries, lines, customers, documents, writes."""

    def __init__(self, fake: FakeExactOnline, division: int = DIVISION) -> None:
        self.fake = fake
        self.division = division
        self.exact = fake.client(division)

    def entries(self) -> dict[str, Any]:
        """Sales entries by ``YourRef``; two entries with one ``YourRef`` fail the test."""
        found = list(self.exact.sales_entries.iterate())
        refs = [entry.your_ref for entry in found]
        duplicates = sorted({ref for ref in refs if refs.count(ref) > 1})
        assert not duplicates, f"booked more than once: {duplicates}"
        return {entry.your_ref: entry for entry in found}

    def lines(self, entry: Any) -> list[Any]:
        """The lines of one sales entry."""
        rows = self.exact.sales_entry_lines.iterate(filter=P("EntryID") == entry.entry_id)
        return sorted(rows, key=lambda line: line.line_number or 0)

    def customer(self, entry: Any) -> Any:
        """The Exact account an entry is booked on."""
        return self.exact.accounts.get(entry.customer)

    def customers(self) -> dict[str, Any]:
        """Customer accounts by (unpadded) code."""
        rows = self.exact.accounts.iterate(filter=P("IsSales") == True)  # noqa: E712
        return {account.code: account for account in rows if account.code}

    def documents(self) -> dict[uuid.UUID, Any]:
        """Exact documents by id."""
        return {document.id: document for document in self.exact.documents.iterate()}

    def attachments(self, document: uuid.UUID) -> list[Any]:
        """The attachments of one document."""
        return list(self.exact.document_attachments.iterate(filter=P("Document") == document))

    def attachment_bytes(self, attachment: Any) -> bytes | None:
        """The file stored for an attachment (what its ``Url`` would download)."""
        return self.fake.domain.attachment_bytes(self.division, attachment.id)

    def writes(self) -> dict[str, int]:
        """Write calls the fake answered so far, by method."""
        return {method: self.fake.count(method) for method in WRITE_METHODS}

    def write_total(self) -> int:
        """All write calls the fake answered so far."""
        return sum(self.writes().values())

    def net(self, prefix: str) -> Decimal:
        """The summed gross amount of the entries whose ``YourRef`` starts with ``prefix``."""
        return sum(
            (gross(entry) for ref, entry in self.entries().items() if ref.startswith(prefix)),
            Decimal(0),
        )

    def close_period(self, year: int, period: int) -> None:
        """Close a financial period for every journal (Exact then refuses changes in it)."""
        self.fake.domain.close_period(self.division, year, period)


def gross(entry: Any) -> Decimal:
    """An entry's amount including VAT."""
    return Decimal(entry.amount_fc)


def vat(entry: Any) -> Decimal:
    """An entry's VAT amount."""
    return Decimal(entry.vat_amount_fc)


@pytest.fixture
def books(fake_exact: FakeExactOnline) -> Books:
    """The fake division, read back through the real Exact client."""
    return Books(fake_exact)
