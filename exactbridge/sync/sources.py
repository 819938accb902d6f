"""What a pipeline reads from: the :class:`InvoiceSource` protocol and its implementations.

An invoice source hands the pipeline canonical :class:`~exactbridge.records.Invoice`
records and the records it could not read (:class:`SourceBatch`). It wraps a
source client and its adapter; it never talks to Exact. Implementations:

- :class:`VirtuagymInvoices` (``exactbridge.sources.virtuagym``),
- :class:`EduframeInvoices`, :class:`CoachviewInvoices` and
  :class:`ClubassistentInvoices` (in :mod:`exactbridge.sync.connectors`, re-exported
  from :mod:`exactbridge.sync`).

A host can implement the protocol for its own system: three methods and two
attributes. ``fetch(cursor)`` returns what is new or changed since ``cursor`` (a
string the source chose last time, ``None`` on the first run) and the next cursor;
a source without incremental reads simply returns everything and ``None``: the
pipeline recognises unchanged invoices by their content hash and spends no Exact
call on them. ``fetch_ids`` re-reads records the pipeline must retry (failed or
unresolved last time) that an incremental ``fetch`` would not return again.

A record the source cannot read goes into ``SourceBatch.errors`` as a
:class:`~exactbridge.errors.SourceRecordError` whose ``record_id`` is the invoice's
``source_id`` (the pipeline stores the failure under that id and retries it); an error
about something else (a page, a file) should be a plain
:class:`~exactbridge.errors.SourceError`, which is reported but not stored.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol, runtime_checkable

import attrs

from exactbridge.errors import SourceError
from exactbridge.records import Invoice
from exactbridge.sources.virtuagym import (
    VirtuagymAdapter,
    VirtuagymAdapterConfig,
    VirtuagymClient,
)

__all__ = ["InvoiceSource", "SourceBatch", "VirtuagymInvoices"]


def _invoice_tuple(values: Iterable[Invoice]) -> tuple[Invoice, ...]:
    return tuple(values)


def _error_tuple(values: Iterable[SourceError]) -> tuple[SourceError, ...]:
    return tuple(values)


@attrs.frozen
class SourceBatch:
    """What one read of a source returned.

    ``invoices`` are the canonical records, ``errors`` the records that could not be
    read or adapted (each names the record), ``cursor`` the value to pass to the next
    ``fetch`` (``None``: the source has no incremental reads), ``complete`` whether
    the read covered the whole source (a full read: an invoice that is missing from
    it no longer exists there).
    """

    invoices: tuple[Invoice, ...] = attrs.field(default=(), converter=_invoice_tuple)
    errors: tuple[SourceError, ...] = attrs.field(default=(), converter=_error_tuple)
    cursor: str | None = None
    complete: bool = False


@runtime_checkable
class InvoiceSource(Protocol):
    """A source of canonical invoices for :class:`~exactbridge.sync.InvoicePipeline`.

    ``source`` is the source system's name (``"virtuagym"``), ``tenant`` the club,
    institute or company in it; both go into every booking key.
    """

    source: str
    tenant: str

    def fetch(self, cursor: str | None) -> SourceBatch:
        """New and changed invoices since ``cursor`` (everything when ``None``)."""
        ...

    def fetch_ids(self, source_ids: Sequence[str]) -> SourceBatch:
        """These invoices again (ids that no longer exist are simply absent)."""
        ...

    def pdf(self, invoice: Invoice) -> bytes | None:
        """The invoice's PDF, when the source has one (``None`` otherwise)."""
        ...


def _error_record(exc: SourceError) -> str:
    return str(getattr(exc, "record_id", None) or "<source>")


def filter_ids(batch: SourceBatch, source_ids: Iterable[str]) -> SourceBatch:
    """The part of ``batch`` about ``source_ids`` (for sources that can only read all)."""
    wanted = set(source_ids)
    return SourceBatch(
        invoices=[invoice for invoice in batch.invoices if invoice.source_id in wanted],
        errors=[error for error in batch.errors if _error_record(error) in wanted],
        cursor=batch.cursor,
        complete=False,
    )


class VirtuagymInvoices:
    """Virtuagym club invoices as an :class:`InvoiceSource`.

    Virtuagym has no "changed since" filter for invoices, so every fetch reads the
    club's invoices (500 per call) with its members and club taxes; the pipeline
    skips unchanged ones by their content hash. ``adapter_config`` holds the
    adapter's options (which number is the invoice number, time zone, ...);
    ``tenant`` names the club in the state store (default: the club id).

    >>> from exactbridge.testing.virtuagym import FakeVirtuagym
    >>> import datetime as dt
    >>> fake = FakeVirtuagym()
    >>> member = fake.add_member(firstname="Ann", lastname="Smit")
    >>> row = {"name": "Maand", "price": "30.00", "tax": 2}
    >>> _ = fake.add_invoice(
    ...     member_id=member["member_id"], invoice_date=dt.date(2025, 1, 1), rows=[row]
    ... )
    >>> client = VirtuagymClient(fake.credentials, transport=fake.transport())
    >>> batch = VirtuagymInvoices(client).fetch(None)
    >>> [invoice.party.name for invoice in batch.invoices]
    ['Ann Smit']
    """

    source = "virtuagym"

    def __init__(
        self,
        client: VirtuagymClient,
        *,
        adapter_config: VirtuagymAdapterConfig | None = None,
        include_concepts: bool = False,
        tenant: str | None = None,
    ) -> None:
        self.client = client
        self.tenant = tenant or str(client.club_id)
        self._adapter_config = adapter_config
        self._include_concepts = include_concepts

    def fetch(self, cursor: str | None) -> SourceBatch:
        """Read members, club taxes and all invoices, and adapt them."""
        members = self.client.members().all()
        taxes = self.client.club_taxes().all()
        adapter = VirtuagymAdapter(
            members=members,
            club_taxes=taxes,
            club_id=self.client.club_id,
            config=self._adapter_config,
        )
        listing = self.client.invoices(include_concepts=self._include_concepts)
        records, bad = adapter.adapt_all(listing)
        errors: list[SourceError] = [*bad, *listing.errors]
        return SourceBatch(invoices=records, errors=errors, cursor=None, complete=True)

    def fetch_ids(self, source_ids: Sequence[str]) -> SourceBatch:
        """Virtuagym cannot look invoices up by their id: a full read, filtered."""
        return filter_ids(self.fetch(None), source_ids)

    def pdf(self, invoice: Invoice) -> bytes | None:
        """Virtuagym's API serves no invoice PDF; use the pipeline's ``pdf_renderer``."""
        return None
