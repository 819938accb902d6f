"""Invoice sources for Eduframe, Coachview and Club-assistent (see :mod:`.sources`).

Each class wraps one source connector of :mod:`exactbridge.sources` (client and
adapter) as an :class:`~exactbridge.sync.sources.InvoiceSource`, so an
:class:`~exactbridge.sync.InvoicePipeline` can book its invoices. What each one reads
per run, and what its cursor remembers:

=====================  ====================================  ==============================
source                 a run reads                           the cursor (text in the store)
=====================  ====================================  ==============================
EduframeInvoices       every opened invoice (Eduframe has    the ids listed last time, to
                       no "changed since" filter) and the    notice invoices that were
                       lookups the adapter needs             deleted since
CoachviewInvoices      invoices created or changed since     the latest change time read
                       the last run (the audit trail)        (and the versions read just
                                                             before it)
ClubassistentInvoices  the export files not read before      name and fingerprint of each
                                                             file read
=====================  ====================================  ==============================

The pipeline recognises unchanged invoices by their content hash and retries failed
ones by id (``fetch_ids``), so a cursor only saves reading work; it never decides
what gets booked. Records a source cannot read come back as
:class:`~exactbridge.errors.SourceRecordError` keyed by the invoice's own id (so the
pipeline records and retries them); problems that name no invoice (a malformed
page, an unreadable file) come back as plain :class:`~exactbridge.errors.SourceError`.

``tenant`` names the institute, company or club inside the source system. It goes
into every booking key, so keep it stable; give each one its own when several share
one state store. When given, it is also set on the records (``Invoice.tenant``,
which a numbering template may use).
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import hashlib
import json
import logging
import os
import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any, TypeVar, Union, cast

import attrs

from exactbridge.errors import (
    ConfigurationError,
    ExactBridgeError,
    SourceAPIError,
    SourceError,
    SourceFileError,
    SourceRecordError,
)
from exactbridge.records import Invoice
from exactbridge.sources import clubassistent, coachview, eduframe
from exactbridge.sources.clubassistent import InvoiceCsvReader, RecordFileError
from exactbridge.sources.coachview import CoachviewClient, CvInvoice, is_guid, where_in
from exactbridge.sources.eduframe import (
    EduframeAdapter,
    EduframeAdapterConfig,
    EduframeClient,
    EduframeInvoice,
    EduframeInvoiceStatus,
)
from exactbridge.sync.sources import SourceBatch, filter_ids

__all__ = ["ClubassistentInvoices", "CoachviewInvoices", "EduframeInvoices", "ExportSource"]

log = logging.getLogger("exactbridge.sync")

T = TypeVar("T")

#: What ``ClubassistentInvoices`` accepts: a path (file or folder) or an open binary file.
ExportSource = Union[str, "os.PathLike[str]", IO[bytes]]

_DEFAULT_TENANT = "default"
_CURSOR_VERSION = 1
# A cursor that decodes to more ids than this is refused as corrupt.
_MAX_REMEMBERED_IDS = 5_000_000
_ID_CHUNK = 50
_DIGITS = re.compile(r"^[0-9]{1,18}$")


# -- errors keyed the way the pipeline needs them ------------------------------------------


def _core_message(error: SourceRecordError) -> str:
    """The bare message of a ``SourceRecordError`` (without its record/field frame)."""
    text = str(error)
    head = f"{error.source} record {error.record_id}, field {error.field!r}: "
    tail = f" (expected {error.expected}, got {error.value!r})"
    if text.startswith(head):
        text = text[len(head) :]
    if text.endswith(tail):
        text = text[: -len(tail)]
    return text


def _rekeyed(error: SourceRecordError, record_id: str) -> SourceRecordError:
    """``error`` about the invoice ``record_id`` (the pipeline keys failures by it)."""
    if error.record_id == record_id:
        return error
    message = _core_message(error)
    if error.record_id and error.record_id != f"invoice {record_id}":
        message = f"{message} [{error.record_id}]"
    rekeyed = SourceRecordError(
        message,
        source=error.source,
        record_id=record_id,
        field=error.field,
        expected=error.expected,
        value=error.value,
    )
    rekeyed.__cause__ = error
    return rekeyed


def _unkeyed(error: SourceError) -> SourceError:
    """An error that names no invoice: reported by the pipeline, never stored as a record."""
    if not isinstance(error, SourceRecordError):
        return error
    plain = SourceError(str(error))
    plain.__cause__ = error
    return plain


def _read_error(source: str, record_id: str, error: SourceAPIError) -> SourceRecordError:
    """One record the source refused to serve (not a 404): failed now, retried next run."""
    record = SourceRecordError(
        f"the source refused to serve it: {error}",
        source=source,
        record_id=record_id,
        field="<record>",
        expected="a readable invoice",
        value=error.status,
    )
    record.__cause__ = error
    return record


def _must_stop(error: SourceAPIError) -> bool:
    """Whether a failed single read means the source is unusable now (rate limit, no answer).

    Any other refusal (a 5xx after the client's retries, a 403...) concerns that one
    record: it fails (or stays unconfirmed) and the rest goes on.
    """
    return error.status is None or error.status == 429


def _drain(listing: Iterable[T], errors: list[SourceError]) -> list[T]:
    """Read a source listing to the end; its record errors go to ``errors``, unkeyed."""
    items = list(listing)
    errors.extend(_unkeyed(error) for error in getattr(listing, "errors", ()))
    return items


def _with_tenant(invoice: Invoice, tenant: str | None) -> Invoice:
    if tenant is None or invoice.tenant == tenant:
        return invoice
    return attrs.evolve(invoice, tenant=tenant)


def _load_cursor(cursor: str | None, kind: str) -> dict[str, Any] | None:
    """A cursor written by this module, or ``None`` (absent, foreign or damaged)."""
    if cursor is None:
        return None
    try:
        data = json.loads(cursor)
    except ValueError:
        data = None
    if not isinstance(data, dict) or data.get("v") != _CURSOR_VERSION or data.get("kind") != kind:
        log.warning("ignoring an unreadable %s cursor; reading as on a first run", kind)
        return None
    return data


def _dump_cursor(kind: str, **fields: Any) -> str:
    return json.dumps(
        {"v": _CURSOR_VERSION, "kind": kind, **fields}, sort_keys=True, separators=(",", ":")
    )


def _encode_id_ranges(ids: Iterable[int]) -> str:
    """Integer ids as compact ranges: ``{1, 2, 3, 7}`` -> ``"1-3,7"``.

    >>> _encode_id_ranges([7, 1, 3, 2])
    '1-3,7'
    """
    parts: list[str] = []
    ordered = sorted(set(ids))
    index = 0
    while index < len(ordered):
        first = last = ordered[index]
        while index + 1 < len(ordered) and ordered[index + 1] == last + 1:
            index += 1
            last = ordered[index]
        parts.append(str(first) if first == last else f"{first}-{last}")
        index += 1
    return ",".join(parts)


def _decode_id_ranges(text: str) -> set[int]:
    """The inverse of :func:`_encode_id_ranges`; ``ValueError`` on anything else.

    >>> sorted(_decode_id_ranges("1-3,7"))
    [1, 2, 3, 7]
    """
    ids: set[int] = set()
    if not text:
        return ids
    for part in text.split(","):
        low, dash, high = part.partition("-")
        if not _DIGITS.match(low) or (dash and not _DIGITS.match(high)):
            raise ValueError(f"not an id range: {part!r}")
        first, last = int(low), int(high) if dash else int(low)
        if last < first or len(ids) + last - first + 1 > _MAX_REMEMBERED_IDS:
            raise ValueError(f"not a usable id range: {part!r}")
        ids.update(range(first, last + 1))
    return ids


# -- Eduframe ----------------------------------------------------------------------------------

_EDUFRAME_INVOICE_ID = re.compile(r"^invoice ([0-9]{1,18})$")
_OPENED = ("open", "paid", "expired")
# Adapter attributes that follow payments, not the booking: left out of the records so
# that a payment in Eduframe is not taken for a change of the booked invoice.
_EDUFRAME_PAYMENT_STATE = ("total_open",)


@attrs.frozen
class _EduframeState:
    seen: frozenset[int]
    gone: frozenset[int]


def _eduframe_state(cursor: str | None) -> _EduframeState | None:
    data = _load_cursor(cursor, "eduframe")
    if data is None:
        return None
    try:
        seen = _decode_id_ranges(str(data.get("seen", "")))
        gone = _decode_id_ranges(str(data.get("gone", "")))
    except ValueError:
        log.warning("ignoring a damaged eduframe cursor; deletions are looked for next run")
        return None
    return _EduframeState(frozenset(seen), frozenset(gone))


class EduframeInvoices:
    """An Eduframe institute's invoices as an :class:`~exactbridge.sync.InvoiceSource`.

    Eduframe's API has no "changed since" filter on invoices, so every ``fetch``
    lists the opened invoices (status open, paid and expired, 100 per call) and,
    when there are any, the lookups the adapter needs: accounts, VAT codes, catalog
    variants, editions, course templates, discount codes and (``read_orders``)
    orders. Unchanged invoices then cost no Exact call (content hash).

    * Concept invoices have no number or date yet and are never booked: they are
      not listed. With ``include_concepts=True`` they are read too and come out as
      ``DRAFT`` records, which the pipeline reports once as skipped.
    * Deleted invoices (``detect_deletions``): the cursor remembers which ids were
      listed; an id missing from a later full listing is looked up by id and, if
      Eduframe answers 404, handed to the pipeline as a deleted invoice (which it
      reverses by its ``on_delete`` policy). A listing with a damaged page never
      counts as proof of a deletion, and neither does one that lacks more than
      ``max_deletions`` invoices at once (a wrong API key, an institute switched):
      that is reported as an error and nothing is treated as deleted.
    * ``fetch_ids`` reads invoices one by one (``GET /invoices/{id}``); an id
      Eduframe no longer knows is simply absent.
    * ``pdf`` returns ``EduframeClient.invoice_pdf`` (``None`` when there is none),
      for ``SyncSettings(attach_pdf=True)``.
    * The adapter's ``total_open`` attribute is left out of the records: it changes
      with every payment and is not part of what is booked.

    Example, on the fakes::

        fake = FakeEduframe()
        client = EduframeClient(fake.credentials, transport=fake.transport())
        pipeline = InvoicePipeline(EduframeInvoices(client, tenant="academy"), exact,
                                   config, store)
    """

    source = eduframe.SOURCE

    def __init__(
        self,
        client: EduframeClient,
        *,
        adapter_config: EduframeAdapterConfig | None = None,
        tenant: str | None = None,
        include_concepts: bool = False,
        read_orders: bool = True,
        detect_deletions: bool = True,
        max_deletions: int = 50,
    ) -> None:
        self.client = client
        self.tenant = tenant or _DEFAULT_TENANT
        self._record_tenant = tenant
        self.adapter_config = adapter_config or EduframeAdapterConfig()
        self.include_concepts = include_concepts
        self.read_orders = read_orders
        self.detect_deletions = detect_deletions
        self.max_deletions = max_deletions

    def __repr__(self) -> str:
        return f"<EduframeInvoices tenant={self.tenant!r}>"

    # -- the protocol ----------------------------------------------------------------------

    def fetch(self, cursor: str | None) -> SourceBatch:
        """List the invoices, look for deletions, adapt; the cursor holds the listed ids."""
        errors: list[SourceError] = []
        statuses = [*_OPENED, "concept"] if self.include_concepts else list(_OPENED)
        listing = self.client.invoices(status=statuses)
        raw = list(listing)
        clean = True
        present = {invoice.id for invoice in raw if not _is_concept(invoice)}
        for error in listing.errors:
            match = _EDUFRAME_INVOICE_ID.match(error.record_id)
            if match is None:
                # A damaged page or a record without an id: the listing proves nothing.
                clean = False
                errors.append(_unkeyed(error))
                continue
            present.add(int(match.group(1)))
            errors.append(_rekeyed(error, match.group(1)))
        state = _eduframe_state(cursor) if self.detect_deletions else None
        gone: set[int] = set(state.gone) if state is not None else set()
        unsure: set[int] = set()
        missing = sorted(state.seen - present) if state is not None else []
        if len(missing) > self.max_deletions:
            clean = False
            errors.append(
                SourceError(
                    f"{self.source}: {len(missing)} invoices listed before are missing from "
                    f"the listing (more than max_deletions={self.max_deletions}); none is "
                    "treated as deleted. Check the API key and institute, or raise the limit."
                )
            )
        if clean:
            for invoice_id in missing:
                verdict, found = self._confirm(invoice_id, errors)
                if verdict == "gone":
                    gone.add(invoice_id)
                elif found is None:
                    unsure.add(invoice_id)
                else:
                    raw.append(found)
                    present.add(invoice_id)
        gone -= present
        records, problems = self._adapt(raw, concepts=self.include_concepts)
        errors.extend(problems)
        records.extend(self._tombstone(invoice_id) for invoice_id in sorted(gone))
        next_cursor: str | None = None
        if self.detect_deletions:
            seen = present | unsure
            if not clean and state is not None:
                seen |= state.seen - gone
            next_cursor = _dump_cursor(
                "eduframe", seen=_encode_id_ranges(seen), gone=_encode_id_ranges(gone)
            )
        return SourceBatch(invoices=records, errors=errors, cursor=next_cursor, complete=clean)

    def fetch_ids(self, source_ids: Sequence[str]) -> SourceBatch:
        """Read these invoices by id; unknown ids are absent, unreadable ones errors."""
        raw: list[EduframeInvoice] = []
        errors: list[SourceError] = []
        for source_id in dict.fromkeys(source_ids):
            if not _DIGITS.match(source_id):
                continue
            try:
                raw.append(self.client.invoice(int(source_id)))
            except SourceRecordError as exc:
                errors.append(_rekeyed(exc, source_id))
            except SourceAPIError as exc:
                if exc.status == 404:
                    continue
                if _must_stop(exc):
                    raise
                errors.append(_read_error(self.source, source_id, exc))
        records, problems = self._adapt(raw, concepts=True)
        return SourceBatch(invoices=records, errors=[*errors, *problems], complete=False)

    def pdf(self, invoice: Invoice) -> bytes | None:
        """The invoice's PDF from Eduframe (``None`` when Eduframe has none for it)."""
        key = invoice.pdf.source_key if invoice.pdf and invoice.pdf.source_key else None
        key = key or invoice.source_id
        if not _DIGITS.match(key):
            return None
        try:
            return self.client.invoice_pdf(int(key))
        except SourceAPIError as exc:
            if exc.status == 404:
                return None
            raise

    # -- helpers ---------------------------------------------------------------------------

    def _confirm(
        self, invoice_id: int, errors: list[SourceError]
    ) -> tuple[str, EduframeInvoice | None]:
        """Look up an invoice that left the listing: ``("gone", None)`` on a 404, else
        ``("there", invoice)``, or ``("there", None)`` when it could not be read."""
        try:
            return "there", self.client.invoice(invoice_id)
        except SourceRecordError as exc:
            errors.append(_rekeyed(exc, str(invoice_id)))
            return "there", None
        except SourceAPIError as exc:
            if exc.status == 404:
                return "gone", None
            if _must_stop(exc):
                raise
            return "there", None

    def _adapters(self, errors: list[SourceError]) -> tuple[EduframeAdapter, EduframeAdapter]:
        """The adapter (lookups read once) and its twin that adapts concepts as drafts."""
        client = self.client
        accounts = _drain(client.accounts(), errors)
        vats = _drain(client.invoice_vats(), errors)
        variants = _drain(client.catalog_variants(), errors)
        editions = _drain(client.planned_courses(), errors)
        courses = _drain(client.courses(), errors)
        codes = _drain(client.discount_codes(), errors)
        orders = _drain(client.orders(), errors) if self.read_orders else []

        def build(config: EduframeAdapterConfig) -> EduframeAdapter:
            return EduframeAdapter(
                accounts=accounts,
                invoice_vats=vats,
                catalog_variants=variants,
                planned_courses=editions,
                courses=courses,
                orders=orders,
                discount_codes=codes,
                config=config,
            )

        drafts = attrs.evolve(self.adapter_config, concept_invoices="draft")
        return build(self.adapter_config), build(drafts)

    def _adapt(
        self, raw: Sequence[EduframeInvoice], *, concepts: bool
    ) -> tuple[list[Invoice], list[SourceError]]:
        errors: list[SourceError] = []
        wanted = [invoice for invoice in raw if concepts or not _is_concept(invoice)]
        if not wanted:
            return [], errors
        adapter, drafts = self._adapters(errors)
        records: list[Invoice] = []
        for invoice in wanted:
            concept = _is_concept(invoice)
            try:
                record = (drafts if concept else adapter).invoice(invoice)
            except SourceRecordError as exc:
                if concept:
                    # A concept is never booked; one the adapter cannot read (no items
                    # yet...) is no failure either.
                    log.debug("eduframe concept invoice %s left out: %s", invoice.id, exc)
                    continue
                errors.append(_rekeyed(exc, str(invoice.id)))
                continue
            records.append(self._clean(record))
        return records, errors

    def _clean(self, record: Invoice) -> Invoice:
        attributes = {
            key: value
            for key, value in record.attributes.items()
            if key not in _EDUFRAME_PAYMENT_STATE
        }
        if len(attributes) != len(record.attributes):
            record = attrs.evolve(record, attributes=attributes)
        return _with_tenant(record, self._record_tenant)

    def _tombstone(self, invoice_id: int) -> Invoice:
        """A deleted invoice, as the pipeline needs it: its id and ``deleted=True``."""
        return Invoice(
            source=self.source,
            source_id=str(invoice_id),
            number=str(invoice_id),
            invoice_date=self.client.clock.now().date(),
            lines=(),
            deleted=True,
            tenant=self._record_tenant,
            attributes={"deleted": "no longer found in Eduframe"},
        )


def _is_concept(invoice: EduframeInvoice) -> bool:
    return invoice.status is EduframeInvoiceStatus.CONCEPT


# -- Coachview ---------------------------------------------------------------------------------


class CoachviewInvoices:
    """A Coachview company's invoices as an :class:`~exactbridge.sync.InvoiceSource`.

    The first ``fetch`` reads every invoice; later ones only the invoices created or
    changed since the latest change time read before (Coachview's audit trail,
    ``where_changed_between``), minus ``overlap`` to allow for records committed
    late; the versions read within that overlap last time are remembered in the
    cursor and skipped. ``incremental=False`` reads everything every time. The
    debtors, companies and persons of the invoices read are fetched in bulk (50 ids
    per request), so a run costs a handful of Coachview's 5,000 daily requests.

    * A cancelled invoice (status ``geannuleerd``) reaches the pipeline as
      ``CANCELLED`` and is reversed by its ``on_delete`` policy; Coachview's audit
      trail does not show deleted records, so a deletion is not noticed.
    * An invoice whose debtor (or the debtor's company or person) cannot be read
      fails with that reason and is retried next run, rather than booked on
      incomplete customer data.
    * ``fetch_ids`` reads invoices by id (``where=id=...``, 50 per request).
    * Coachview's API serves no invoice PDF: ``pdf`` returns ``None`` (give the
      pipeline a ``pdf_renderer`` to attach one).

    Example, on the fakes::

        fake = FakeCoachview(clock=clock)
        fake.add_client("id", "secret")
        client = CoachviewClient("id", "secret", transport=fake.transport(), clock=clock)
        pipeline = InvoicePipeline(CoachviewInvoices(client, tenant="acme"), exact,
                                   config, store)
    """

    source = coachview.SOURCE

    def __init__(
        self,
        client: CoachviewClient,
        *,
        tenant: str | None = None,
        incremental: bool = True,
        overlap: dt.timedelta = dt.timedelta(minutes=30),
    ) -> None:
        self.client = client
        self.tenant = tenant or _DEFAULT_TENANT
        self._record_tenant = tenant
        self.incremental = incremental
        self.overlap = overlap

    def __repr__(self) -> str:
        return f"<CoachviewInvoices tenant={self.tenant!r}>"

    def fetch(self, cursor: str | None) -> SourceBatch:
        """Invoices changed since the cursor (all on the first run), with their debtors."""
        state = self._state(cursor) if self.incremental else None
        since: dt.datetime | None = None
        recent: dict[str, str] = {}
        if state is None:
            listing = self.client.list_invoices()
        else:
            since, recent = state
            # Whole days on the server (its local dates run ahead of UTC): end tomorrow.
            until = self.client.clock.now() + dt.timedelta(days=1)
            listing = self.client.list_invoices(changed_from=since - self.overlap, changed_to=until)
        errors: list[SourceError] = []
        invoices = list(listing)
        clean = True
        for error in listing.errors:
            if is_guid(error.record_id):
                errors.append(error)
            else:
                clean = False
                errors.append(_unkeyed(error))
        # The overlap reads the latest changes again: skip the versions read last time.
        fresh = [
            invoice
            for invoice in invoices
            if _stamp_of(invoice) is None or recent.get(invoice.id.lower()) != _stamp_of(invoice)
        ]
        records = self._bundle(fresh, errors)
        next_cursor = self._next_cursor(invoices, since, recent) if self.incremental else None
        return SourceBatch(
            invoices=records, errors=errors, cursor=next_cursor, complete=since is None and clean
        )

    def fetch_ids(self, source_ids: Sequence[str]) -> SourceBatch:
        """These invoices (by GUID, 50 per request); unknown ids are absent."""
        wanted = [source_id for source_id in dict.fromkeys(source_ids) if is_guid(source_id)]
        invoices: list[CvInvoice] = []
        errors: list[SourceError] = []
        lowered = {source_id.lower() for source_id in wanted}
        for start in range(0, len(wanted), _ID_CHUNK):
            listing = self.client.list_invoices(
                where=where_in("id", wanted[start : start + _ID_CHUNK])
            )
            invoices.extend(invoice for invoice in listing if invoice.id.lower() in lowered)
            errors.extend(error for error in listing.errors if error.record_id.lower() in lowered)
        records = self._bundle(invoices, errors)
        return SourceBatch(invoices=records, errors=errors, complete=False)

    def pdf(self, invoice: Invoice) -> bytes | None:
        """Coachview's API serves no invoice PDF."""
        return None

    def _state(self, cursor: str | None) -> tuple[dt.datetime, dict[str, str]] | None:
        """The latest change time read and the versions read within the overlap before it."""
        data = _load_cursor(cursor, "coachview")
        if data is None:
            return None
        recent = data.get("recent", {})
        try:
            moment = dt.datetime.fromisoformat(str(data.get("changed")))
        except ValueError:
            moment = None
        if moment is None or moment.tzinfo is None or not isinstance(recent, dict):
            log.warning("ignoring a damaged coachview cursor; reading every invoice")
            return None
        return moment, {str(key): str(value) for key, value in recent.items()}

    def _next_cursor(
        self, invoices: Sequence[CvInvoice], since: dt.datetime | None, recent: dict[str, str]
    ) -> str | None:
        stamps = [invoice.changed_at for invoice in invoices if invoice.changed_at is not None]
        latest = max([*stamps, *([since] if since is not None else [])], default=None)
        if latest is None:
            return None
        window = latest - self.overlap
        kept: dict[str, str] = {}
        for key, stamp in recent.items():
            try:
                if dt.datetime.fromisoformat(stamp) >= window:
                    kept[key] = stamp
            except (ValueError, TypeError):
                continue
        for invoice in invoices:
            if invoice.changed_at is not None and invoice.changed_at >= window:
                kept[invoice.id.lower()] = invoice.changed_at.isoformat()
        return _dump_cursor("coachview", changed=latest.isoformat(), recent=kept)

    def _bundle(self, invoices: Sequence[CvInvoice], errors: list[SourceError]) -> list[Invoice]:
        """Fetch the debtors, companies and persons in bulk and adapt each invoice."""
        if not invoices:
            return []
        client = self.client
        debtor_ids = [invoice.debtor_id for invoice in invoices if is_guid(invoice.debtor_id)]
        debtor_listing = client.list_debtors(ids=debtor_ids)
        debtors = {debtor.id.lower(): debtor for debtor in debtor_listing}
        broken = {error.record_id.lower(): error for error in debtor_listing.errors}
        company_ids = [d.company_id for d in debtors.values() if d.company_id]
        person_ids = [d.person_id for d in debtors.values() if d.person_id]
        company_listing = client.list_companies(ids=company_ids)
        companies = {company.id.lower(): company for company in company_listing}
        broken.update({error.record_id.lower(): error for error in company_listing.errors})
        person_listing = client.list_persons(ids=person_ids)
        persons = {person.id.lower(): person for person in person_listing}
        broken.update({error.record_id.lower(): error for error in person_listing.errors})
        records: list[Invoice] = []
        for invoice in invoices:
            debtor = debtors.get(invoice.debtor_id.lower())
            problem = self._party_problem(invoice, debtor, broken)
            if problem is not None:
                errors.append(problem)
                continue
            assert debtor is not None
            company = companies.get(debtor.company_id.lower()) if debtor.company_id else None
            person = persons.get(debtor.person_id.lower()) if debtor.person_id else None
            try:
                record = coachview.invoice_to_record(
                    invoice, debtor, company=company, person=person, tenant=self._record_tenant
                )
            except (ExactBridgeError, ValueError, TypeError) as exc:
                errors.append(
                    SourceRecordError(
                        f"cannot be turned into an invoice record: {exc}",
                        source=self.source,
                        record_id=invoice.id,
                        field="<record>",
                        expected="a complete invoice",
                    )
                )
                continue
            records.append(record)
        return records

    def _party_problem(
        self,
        invoice: CvInvoice,
        debtor: coachview.CvDebtor | None,
        broken: dict[str, SourceRecordError],
    ) -> SourceRecordError | None:
        """Why the invoice's customer data is unusable (``None``: it is fine)."""
        if debtor is None:
            cause = broken.get(invoice.debtor_id.lower())
            detail = _core_message(cause) if cause is not None else "not found"
            where = f" (field {cause.field!r})" if cause is not None else ""
            return SourceRecordError(
                f"its debtor could not be read: {detail}{where}",
                source=self.source,
                record_id=invoice.id,
                field="debiteurId",
                expected="an existing, readable debtor",
                value=invoice.debtor_id,
            )
        for kind, owner in (("company", debtor.company_id), ("person", debtor.person_id)):
            cause = broken.get(owner.lower()) if owner else None
            if cause is not None:
                return SourceRecordError(
                    f"the debtor's {kind} could not be read: {_core_message(cause)} "
                    f"(field {cause.field!r})",
                    source=self.source,
                    record_id=invoice.id,
                    field="debiteurId",
                    expected=f"a readable {kind} behind the debtor",
                    value=owner,
                )
        return None


# -- Club-assistent ------------------------------------------------------------------------------


@attrs.frozen
class _ExportFile:
    """One export to read: its name, a fingerprint of its version, and how to get the bytes."""

    name: str
    fingerprint: str
    path: Path | None = None
    data: bytes | None = attrs.field(default=None, repr=False)

    def read(self) -> bytes:
        if self.data is not None:
            return self.data
        assert self.path is not None
        try:
            return self.path.read_bytes()
        except OSError as exc:
            raise SourceFileError(f"cannot read: {exc.strerror}", file=self.name) from None


class ClubassistentInvoices:
    """Club-assistent invoice exports (CSV files) as an :class:`~exactbridge.sync.InvoiceSource`.

    ``paths_or_sources`` is one or more of: an export file, a folder (every file in
    it matching ``pattern``, oldest first, so a newer export of an invoice wins), or
    an open binary file (read once, kept in memory). ``reader`` sets the CSV layout
    (:class:`~exactbridge.sources.clubassistent.InvoiceCsvReader` with a
    ``CsvFormat``). ``tenant`` names the club; it goes into every booking key and
    onto each record.

    * The cursor remembers each file read by name, size and modification time (open
      files by a SHA-256 of their content), so a run reads only new or changed
      exports; an invoice is booked once anyway, the state store sees to that.
    * A file that cannot be used as a whole (missing column, broken quoting...) is a
      :class:`~exactbridge.errors.SourceFileError` in the batch, not a crash, and is
      read again next run (fix or replace it). A bad row fails its invoice, keyed
      by the invoice number, so the pipeline retries it.
    * ``fetch_ids`` reads every file again and keeps those invoices.
    * Club-assistent exports carry no status and no PDF: ``pdf`` returns ``None``;
      a cancellation shows up as a credit invoice, which is booked like any other.

    Example::

        source = ClubassistentInvoices("exports/", tenant="hockeyclub")
        pipeline = InvoicePipeline(source, exact, config, store)
    """

    source = clubassistent.SOURCE

    def __init__(
        self,
        paths_or_sources: ExportSource | Iterable[ExportSource],
        *,
        reader: InvoiceCsvReader | None = None,
        tenant: str,
        pattern: str = "*.csv",
    ) -> None:
        name: object = tenant
        if not isinstance(name, str) or not name.strip():
            raise ConfigurationError(f"got {tenant!r}", key="tenant", expected="a club name")
        self.tenant = tenant
        self.reader = reader or InvoiceCsvReader()
        self.pattern = pattern
        self._items = _export_items(paths_or_sources)
        self._streams: dict[int, _ExportFile] = {}

    def __repr__(self) -> str:
        return f"<ClubassistentInvoices tenant={self.tenant!r}, {len(self._items)} source(s)>"

    def fetch(self, cursor: str | None) -> SourceBatch:
        """Read the exports not read before (by fingerprint) and adapt their invoices."""
        data = _load_cursor(cursor, "clubassistent")
        files_done = data.get("files") if data is not None else None
        done: dict[str, str] = (
            {str(k): str(v) for k, v in files_done.items()} if isinstance(files_done, dict) else {}
        )
        errors: list[SourceError] = []
        latest: dict[str, Invoice | SourceRecordError] = {}
        read_now: dict[str, str] = {}
        everything = True
        for export in self._exports(errors):
            if done.get(export.name) == export.fingerprint:
                read_now[export.name] = export.fingerprint
                everything = False
                continue
            if self._read(export, latest, errors):
                read_now[export.name] = export.fingerprint
        return SourceBatch(
            invoices=[item for item in latest.values() if isinstance(item, Invoice)],
            errors=[*errors, *(item for item in latest.values() if not isinstance(item, Invoice))],
            cursor=_dump_cursor("clubassistent", files=read_now),
            complete=everything and not errors,
        )

    def fetch_ids(self, source_ids: Sequence[str]) -> SourceBatch:
        """Read every export again and keep these invoices."""
        errors: list[SourceError] = []
        latest: dict[str, Invoice | SourceRecordError] = {}
        for export in self._exports(errors):
            self._read(export, latest, errors)
        batch = SourceBatch(
            invoices=[item for item in latest.values() if isinstance(item, Invoice)],
            errors=[item for item in latest.values() if not isinstance(item, Invoice)],
        )
        return filter_ids(batch, source_ids)

    def pdf(self, invoice: Invoice) -> bytes | None:
        """Club-assistent exports hold no PDF."""
        return None

    # -- helpers ---------------------------------------------------------------------------

    def _exports(self, errors: list[SourceError]) -> Iterator[_ExportFile]:
        for index, item in enumerate(self._items):
            if not isinstance(item, Path):
                yield self._stream(index, item, errors)
            elif item.is_dir():
                yield from self._folder(item, errors)
            else:
                stamped = _stamp(item, errors)
                if stamped is not None:
                    yield stamped[1]

    def _folder(self, folder: Path, errors: list[SourceError]) -> list[_ExportFile]:
        """The folder's exports matching ``pattern``, oldest first (a newer one wins)."""
        pattern = self.pattern.lower()
        try:
            entries = [
                entry
                for entry in folder.iterdir()
                if entry.is_file() and fnmatch.fnmatch(entry.name.lower(), pattern)
            ]
        except OSError as exc:
            errors.append(SourceFileError(f"cannot list: {exc.strerror}", file=str(folder)))
            return []
        stamped = [found for found in (_stamp(entry, errors) for entry in entries) if found]
        stamped.sort(key=lambda pair: (pair[0], pair[1].name))
        return [export for _, export in stamped]

    def _stream(self, index: int, stream: IO[bytes], errors: list[SourceError]) -> _ExportFile:
        known = self._streams.get(index)
        if known is not None:
            return known
        name = str(getattr(stream, "name", "") or f"<stream {index + 1}>")
        data: object
        try:
            data = cast(object, stream.read())  # a text stream would give str
        except OSError as exc:
            errors.append(SourceFileError(f"cannot read: {exc.strerror}", file=name))
            data = b""
        if not isinstance(data, bytes):
            errors.append(SourceFileError("not a binary file", file=name))
            data = b""
        digest = hashlib.sha256(data).hexdigest()
        export = _ExportFile(name, f"sha256:{digest}", data=data)
        self._streams[index] = export
        return export

    def _read(
        self,
        export: _ExportFile,
        latest: dict[str, Invoice | SourceRecordError],
        errors: list[SourceError],
    ) -> bool:
        """Read one export; False if the file is unusable as a whole.

        Each invoice's record, or the error of its bad rows, goes into ``latest`` by
        invoice number, replacing what an older export said about it; errors that
        name no invoice go to ``errors``.
        """
        try:
            listing = self.reader.read_bytes(export.read(), name=export.name)
        except SourceError as exc:
            errors.append(exc)
            return False
        found: list[tuple[str, Invoice | SourceRecordError]] = []
        for invoice in listing.records:
            try:
                record = clubassistent.invoice_to_record(invoice, tenant=self.tenant)
            except (ExactBridgeError, ValueError, TypeError) as exc:
                problem = SourceRecordError(
                    f"cannot be turned into an invoice record: {exc}",
                    source=self.source,
                    record_id=invoice.number,
                    field="<record>",
                    expected="a complete invoice",
                )
                found.append((invoice.number, problem))
                continue
            found.append((record.source_id, record))
        failed: set[str] = set()
        for error in listing.errors:
            keyed = _clubassistent_error(error)
            if not isinstance(keyed, SourceRecordError):
                errors.append(keyed)
            elif keyed.record_id not in failed:  # the first bad row of an invoice tells
                failed.add(keyed.record_id)
                found.append((keyed.record_id, keyed))
        for number, item in found:
            latest.pop(number, None)  # keep the order of the latest reading
            latest[number] = item
        return True


def _stamp_of(invoice: CvInvoice) -> str | None:
    return invoice.changed_at.isoformat() if invoice.changed_at is not None else None


def _export_items(value: ExportSource | Iterable[ExportSource]) -> list[Path | IO[bytes]]:
    """One source or several, as paths and open files."""
    if isinstance(value, (str, os.PathLike)):
        return [Path(value)]
    if hasattr(value, "read"):
        return [cast("IO[bytes]", value)]
    items: list[Path | IO[bytes]] = []
    for item in value:
        if isinstance(item, (str, os.PathLike)):
            items.append(Path(item))
        elif hasattr(item, "read"):
            items.append(item)
        else:
            raise ConfigurationError(
                f"got {item!r}", key="paths_or_sources", expected="paths or open binary files"
            )
    return items


def _stamp(path: Path, errors: list[SourceError]) -> tuple[int, _ExportFile] | None:
    """An export file with its fingerprint (size and modification time) and mtime."""
    name = os.path.abspath(os.fspath(path))
    try:
        stat = path.stat()
    except OSError as exc:
        errors.append(SourceFileError(f"cannot read: {exc.strerror}", file=name))
        return None
    fingerprint = f"{stat.st_size}:{stat.st_mtime_ns}"
    return stat.st_mtime_ns, _ExportFile(name, fingerprint, path=path)


def _clubassistent_error(error: SourceError) -> SourceError:
    """A bad row keyed by its invoice number (so the pipeline retries that invoice)."""
    if not isinstance(error, RecordFileError) or not error.record_id:
        return error
    text = str(error)
    marker = f"record {error.record_id}, field {error.field!r}: "
    message = text.split(marker, 1)[1] if marker in text else text
    where = f"{error.file}, line {error.line}" if error.line is not None else error.file
    if error.column is not None:
        where += f", column {error.column}"
    keyed = SourceRecordError(
        f"{message} ({where})",
        source=clubassistent.SOURCE,
        record_id=error.record_id,
        field=error.field,
        expected="a valid value in the export",
    )
    keyed.__cause__ = error
    return keyed
