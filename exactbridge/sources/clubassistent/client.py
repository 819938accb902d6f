"""Readers for Club-assistent's files: SEPA direct-debit XML and the invoice CSV export.

Club-assistent has no public API, so its "client" reads the files it produces
(reference section 5; the formats below are the connector's documented assumptions,
the vendor publishes no export specification):

* :class:`Pain008Reader` streams ISO 20022 ``pain.008`` customer direct-debit files,
  versions ``pain.008.001.02`` up to ``pain.008.001.11`` (``.02`` and ``.08`` are the
  ones Dutch banks take; the reader knows both the ``BIC`` and ``BICFI`` spellings).
  It uses the stdlib expat parser (the one under :mod:`xml.etree`) fed in chunks, so a
  50,000-transaction file is read with flat memory, and it is defused: a document type
  declaration, entity declaration or external entity is refused with a
  :class:`~exactbridge.errors.SourceFileError` before anything is expanded.
* :class:`InvoiceCsvReader` reads the invoice export: one row per invoice line, Dutch
  numbers (``1.234,56``) and dates (``31-12-2026``), UTF-8 with or without a byte-order
  mark, an optional fallback encoding such as ``cp1252``, and a configurable column
  mapping (:class:`~exactbridge.sources.clubassistent.models.CsvColumns`).

Errors always name the file, the line and the column. A well-formedness error or a
missing column makes the whole file unreadable and is raised; one bad record (a wrong
amount, a bad IBAN, an unknown date) is collected in the result's ``errors`` and the
other records are still returned.

Example::

    listing = InvoiceCsvReader().read("facturen.csv")
    for invoice in listing.records: ...
    for error in listing.errors: print(error)   # "facturen.csv, line 7, column 5: ..."
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import logging
import os
import re
from collections import deque
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from typing import IO, Any, Union
from xml.parsers import expat

from dateutil import tz

from exactbridge.errors import SourceError, SourceFileError

from .models import (
    ClubInvoice,
    ClubInvoiceLine,
    ClubMember,
    ClubPaymentMethod,
    CollectionBatch,
    CsvFormat,
    DirectDebit,
    GroupHeader,
    Listing,
    Pain008File,
    RecordFileError,
)

__all__ = [
    "PAIN008_NAMESPACE_PREFIX",
    "SUPPORTED_PAIN008_VERSIONS",
    "FileSource",
    "InvoiceCsvReader",
    "Pain008Reader",
    "parse_dutch_date",
    "parse_dutch_decimal",
    "valid_iban",
]

_log = logging.getLogger("exactbridge.sources.clubassistent")

#: What a reader accepts: a path, or a binary file object opened by the caller.
FileSource = Union[str, "os.PathLike[str]", IO[bytes]]

#: The XML namespace of a pain.008 ``Document`` without its version number (``02``...).
PAIN008_NAMESPACE_PREFIX = "urn:iso:std:iso:20022:tech:xsd:pain.008.001."
SUPPORTED_PAIN008_VERSIONS = ("02", "03", "04", "05", "06", "07", "08", "09", "10", "11")
_AMSTERDAM = tz.gettz("Europe/Amsterdam")
_CHUNK = 64 * 1024

# --------------------------------------------------------------------------- values


_NL_NUMBER = re.compile(r"^[+-]?(\d{1,3}(\.\d{3})+|\d+)(,\d+)?$")
_EN_NUMBER = re.compile(r"^[+-]?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?$")


def parse_dutch_decimal(text: str, *, decimal_comma: bool = True) -> Decimal:
    """Parse a number as a Dutch export writes it: ``1.234,56``, ``-12,5``, ``€ 7,00``.

    With ``decimal_comma=False`` the English form ``1,234.56`` is read instead.
    Raises :class:`ValueError` (with a readable message) for anything else; a float is
    never involved.

    >>> parse_dutch_decimal("1.234,56")
    Decimal('1234.56')
    """
    cleaned = text.strip().replace("€", "").replace("\u00a0", "").replace(" ", "")
    if cleaned.endswith("-") and cleaned[:-1] and cleaned[0] not in "+-":
        cleaned = "-" + cleaned[:-1]  # "12,50-" as some exports write credits
    pattern = _NL_NUMBER if decimal_comma else _EN_NUMBER
    if not pattern.match(cleaned):
        style = "1.234,56" if decimal_comma else "1,234.56"
        raise ValueError(f"{text!r} is not a number written as {style}")
    if decimal_comma:
        cleaned = cleaned.replace(".", "").replace(",", ".")
    else:
        cleaned = cleaned.replace(",", "")
    return Decimal(cleaned)


def parse_dutch_date(text: str, formats: tuple[str, ...] = ("%d-%m-%Y", "%Y-%m-%d")) -> dt.date:
    """Parse a date in the first of ``formats`` that fits (default ``31-12-2026`` or ISO).

    >>> parse_dutch_date("31-12-2026")
    datetime.date(2026, 12, 31)
    """
    value = text.strip()
    for fmt in formats:
        try:
            return dt.datetime.strptime(value, fmt).date()  # noqa: DTZ007 - a date, no instant
        except ValueError:
            continue
    raise ValueError(f"{text!r} is not a date in any of the formats {', '.join(formats)}")


def valid_iban(iban: str) -> bool:
    """Whether ``iban`` has the IBAN shape and a correct ISO 7064 mod-97 check digit."""
    value = iban.replace(" ", "").upper()
    if not re.fullmatch(r"[A-Z]{2}\d{2}[A-Z0-9]{10,30}", value):
        return False
    moved = value[4:] + value[:4]
    digits = "".join(str(int(ch, 36)) for ch in moved)
    return int(digits) % 97 == 1


def _source_name(source: FileSource) -> str:
    if isinstance(source, (str, os.PathLike)):
        return os.fspath(source)
    return str(getattr(source, "name", "<stream>"))


# --------------------------------------------------------------------------- pain.008


class _Refused(Exception):
    """Raised inside expat handlers for constructs the reader refuses."""


class _Node:
    """A small element: local tag, attributes, text, children and where it started."""

    __slots__ = ("attrs", "children", "column", "line", "tag", "text")

    def __init__(self, tag: str, attrs: dict[str, str], line: int, column: int) -> None:
        self.tag = tag
        self.attrs = attrs
        self.line = line
        self.column = column
        self.children: list[_Node] = []
        self.text: list[str] = []

    def find(self, path: str) -> _Node | None:
        node: _Node | None = self
        for part in path.split("/"):
            if node is None:
                return None
            node = next((c for c in node.children if c.tag == part), None)
        return node

    def findall(self, path: str) -> list[_Node]:
        head, _, last = path.rpartition("/")
        parent = self.find(head) if head else self
        if parent is None:
            return []
        return [c for c in parent.children if c.tag == last]

    def value(self) -> str:
        return "".join(self.text).strip()


_Event = tuple[str, _Node, "_Node | None"]


class _Pain008Stream:
    """Feeds a pain.008 byte stream to expat and hands out finished parts as events."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.version: str | None = None
        self.events: deque[_Event] = deque()
        self._stack: list[_Node] = []
        self._pmtinf: _Node | None = None
        parser = expat.ParserCreate(namespace_separator=" ")
        parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        parser.StartDoctypeDeclHandler = self._refuse_doctype
        parser.EntityDeclHandler = self._refuse_entity
        parser.UnparsedEntityDeclHandler = self._refuse_entity
        parser.ExternalEntityRefHandler = self._refuse_external
        parser.StartElementHandler = self._start
        parser.EndElementHandler = self._end
        parser.CharacterDataHandler = self._chars
        parser.buffer_text = True
        self._parser = parser

    # -- defusing
    def _refuse_doctype(self, *args: Any) -> None:
        raise _Refused("a document type declaration (DTD) is not allowed in a pain.008 file")

    def _refuse_entity(self, *args: Any) -> None:
        raise _Refused("entity declarations are not allowed in a pain.008 file")

    def _refuse_external(self, *args: Any) -> int:
        raise _Refused("external entities are not allowed in a pain.008 file")

    # -- tree building
    def _start(self, name: str, attributes: dict[str, str]) -> None:
        uri, _, local = name.rpartition(" ")
        line = self._parser.CurrentLineNumber
        column = self._parser.CurrentColumnNumber + 1
        if not self._stack:
            if local != "Document" or not uri.startswith(PAIN008_NAMESPACE_PREFIX):
                raise _Refused(
                    f"the root element is {local!r} in namespace {uri!r}, "
                    f"not a pain.008 Document ({PAIN008_NAMESPACE_PREFIX}NN)"
                )
            version = uri[len(PAIN008_NAMESPACE_PREFIX) :]
            if version not in SUPPORTED_PAIN008_VERSIONS:
                raise _Refused(
                    f"pain.008.001.{version} is not supported "
                    f"(supported: {', '.join(SUPPORTED_PAIN008_VERSIONS)})"
                )
            self.version = f"pain.008.001.{version}"
        node = _Node(local, {k.rpartition(" ")[2]: v for k, v in attributes.items()}, line, column)
        if local == "PmtInf":
            self._pmtinf = node
        self._stack.append(node)

    def _end(self, name: str) -> None:
        node = self._stack.pop()
        parent = self._stack[-1] if self._stack else None
        if node.tag == "DrctDbtTxInf":
            self.events.append(("tx", node, self._pmtinf))
            return  # not kept in the tree: memory stays flat
        if node.tag == "PmtInf":
            self.events.append(("batch_end", node, None))
            self._pmtinf = None
            return
        if node.tag == "GrpHdr":
            self.events.append(("header", node, None))
        if parent is not None:
            parent.children.append(node)

    def _chars(self, data: str) -> None:
        if self._stack:
            self._stack[-1].text.append(data)

    def feed(self, data: bytes, final: bool = False) -> None:
        try:
            self._parser.Parse(data, final)
        except _Refused as exc:
            raise SourceFileError(
                str(exc),
                file=self.name,
                line=self._parser.CurrentLineNumber,
                column=self._parser.CurrentColumnNumber + 1,
            ) from None
        except expat.ExpatError as exc:
            raise SourceFileError(
                f"not well-formed XML: {expat.ErrorString(exc.code)}",
                file=self.name,
                line=exc.lineno,
                column=exc.offset + 1,
            ) from None
        if final and self.version is None:
            raise SourceFileError("the file holds no pain.008 document", file=self.name, line=1)


def _text(node: _Node, path: str) -> str | None:
    found = node.find(path)
    if found is None:
        return None
    value = found.value()
    return value or None


def _bic(node: _Node, path: str) -> str | None:
    return _text(node, f"{path}/BICFI") or _text(node, f"{path}/BIC")


class Pain008Reader:
    """Reads SEPA direct-debit collection files (pain.008) as Club-assistent writes them.

    Stream with :meth:`iter_direct_debits` (flat memory, any size) or read a whole file
    with :meth:`read`. Transactions with a bad field are reported as
    :class:`~exactbridge.sources.clubassistent.models.RecordFileError` (file, line,
    column, end-to-end id and element) and skipped; the rest is still read.

    Example::

        errors: list[SourceError] = []
        for debit in Pain008Reader().iter_direct_debits("incasso.xml", errors=errors):
            print(debit.mandate_id, debit.amount)
    """

    def __init__(self, *, check_iban: bool = True, check_totals: bool = True) -> None:
        self.check_iban = check_iban
        self.check_totals = check_totals

    def read(self, source: FileSource) -> Pain008File:
        """Read a whole file: header, batches, transactions and the errors of bad records."""
        errors: list[SourceError] = []
        batches: list[CollectionBatch] = []
        debits: list[DirectDebit] = []
        headers: list[GroupHeader] = []
        versions: list[str] = []
        for item in self._iterate(source, errors, versions):
            if isinstance(item, DirectDebit):
                debits.append(item)
            elif isinstance(item, CollectionBatch):
                batches.append(item)
            else:
                headers.append(item)
        return Pain008File(
            file=_source_name(source),
            version=versions[0] if versions else "",
            header=headers[0] if headers else None,
            batches=tuple(batches),
            direct_debits=tuple(debits),
            errors=tuple(errors),
        )

    def iter_direct_debits(
        self, source: FileSource, *, errors: list[SourceError] | None = None
    ) -> Iterator[DirectDebit]:
        """Yield each good transaction as soon as it is parsed.

        Bad records go to ``errors`` when a list is given; otherwise they are logged
        (without personal data beyond the record's end-to-end id) and skipped. A file
        that is not well-formed XML raises :class:`~exactbridge.errors.SourceFileError`
        at the point of the fault, after the transactions before it were yielded.
        """
        sink: list[SourceError] = [] if errors is None else errors
        before = len(sink)
        for item in self._iterate(source, sink, []):
            if isinstance(item, DirectDebit):
                yield item
        if errors is None:
            for error in sink[before:]:
                _log.warning("skipped a bad pain.008 record: %s", error)

    # ------------------------------------------------------------------ internals

    def _iterate(
        self, source: FileSource, errors: list[SourceError], versions: list[str]
    ) -> Iterator[DirectDebit | CollectionBatch | GroupHeader]:
        name = _source_name(source)
        stream = _Pain008Stream(name)
        header: GroupHeader | None = None
        header_node: _Node | None = None
        batch: CollectionBatch | None = None
        batch_node: _Node | None = None
        batch_failed = False
        skipped = 0
        count = 0
        total = Decimal(0)

        def chunks() -> Iterator[bytes]:
            if isinstance(source, (str, os.PathLike)):
                try:
                    handle = open(source, "rb")  # noqa: SIM115 - closed below
                except OSError as exc:
                    raise SourceFileError(f"cannot open: {exc.strerror}", file=name) from None
                with handle:
                    yield from iter(lambda: handle.read(_CHUNK), b"")
            else:
                yield from iter(lambda: source.read(_CHUNK), b"")

        def events() -> Iterator[_Event]:
            for chunk in chunks():
                stream.feed(chunk)
                while stream.events:
                    yield stream.events.popleft()
            stream.feed(b"", final=True)
            while stream.events:
                yield stream.events.popleft()

        for kind, node, pmtinf in events():
            if stream.version and not versions:
                versions.append(stream.version)
            if kind == "header":
                header_node = node
                try:
                    header = self._header(node, name)
                except RecordFileError as exc:
                    errors.append(exc)
                    continue
                yield header
            elif kind == "tx":
                assert pmtinf is not None
                if batch_node is not pmtinf:
                    batch_node = pmtinf
                    batch_failed = False
                    try:
                        batch = self._batch(pmtinf, name)
                    except RecordFileError as exc:
                        errors.append(exc)
                        batch, batch_failed = None, True
                    else:
                        yield batch
                count += 1
                if batch_failed or batch is None:
                    skipped += 1
                    continue
                try:
                    debit = self._debit(node, batch, name)
                except RecordFileError as exc:
                    errors.append(exc)
                    continue
                total += debit.amount
                yield debit
            elif kind == "batch_end" and batch_node is not node:
                # a PmtInf without transactions
                batch_node = node
                try:
                    yield self._batch(node, name)
                except RecordFileError as exc:
                    errors.append(exc)
        if skipped:
            errors.append(
                SourceFileError(
                    f"{skipped} transaction(s) skipped because their PmtInf block is invalid",
                    file=name,
                )
            )
        if self.check_totals and header is not None and header_node is not None:
            if header.number_of_transactions is not None and header.number_of_transactions != count:
                errors.append(
                    RecordFileError(
                        f"the header announces {header.number_of_transactions} transactions, "
                        f"the file holds {count}",
                        file=name,
                        line=header_node.line,
                        column=header_node.column,
                        field="GrpHdr/NbOfTxs",
                        record_id=header.message_id,
                    )
                )
            elif header.control_sum is not None and header.control_sum != total and not errors:
                errors.append(
                    RecordFileError(
                        f"the header's control sum {header.control_sum} differs from the "
                        f"sum of the transactions {total}",
                        file=name,
                        line=header_node.line,
                        column=header_node.column,
                        field="GrpHdr/CtrlSum",
                        record_id=header.message_id,
                    )
                )

    @staticmethod
    def _fail(
        node: _Node, path: str, name: str, record: str | None, message: str
    ) -> RecordFileError:
        where = node.find(path) or node
        return RecordFileError(
            message, file=name, line=where.line, column=where.column, field=path, record_id=record
        )

    def _required(self, node: _Node, path: str, name: str, record: str | None) -> str:
        value = _text(node, path)
        if value is None:
            raise self._fail(node, path, name, record, "missing or empty")
        return value

    def _date(self, node: _Node, path: str, name: str, record: str | None) -> dt.date:
        raw = self._required(node, path, name, record)
        if "T" in raw:  # .08 and later allow a DtTm choice in some places
            raw = raw.split("T", 1)[0]
        raw = raw.removesuffix("Z")
        try:
            return dt.date.fromisoformat(raw)
        except ValueError:
            raise self._fail(node, path, name, record, f"{raw!r} is not an ISO date") from None

    def _header(self, node: _Node, name: str) -> GroupHeader:
        message_id = self._required(node, "MsgId", name, None)
        created: dt.datetime | None = None
        raw = _text(node, "CreDtTm")
        if raw is not None:
            try:
                created = dt.datetime.fromisoformat(raw.replace("Z", "+00:00"))
            except ValueError:
                raise self._fail(
                    node, "CreDtTm", name, message_id, "not an ISO date-time"
                ) from None
            if created.tzinfo is None:
                created = created.replace(tzinfo=_AMSTERDAM)
        return GroupHeader(
            message_id=message_id,
            created_at=created,
            number_of_transactions=self._int(node, "NbOfTxs", name, message_id),
            control_sum=self._decimal(node, "CtrlSum", name, message_id),
            initiating_party=_text(node, "InitgPty/Nm"),
        )

    def _int(self, node: _Node, path: str, name: str, record: str | None) -> int | None:
        raw = _text(node, path)
        if raw is None:
            return None
        if not raw.isdigit():
            raise self._fail(node, path, name, record, f"{raw!r} is not a whole number")
        return int(raw)

    def _decimal(self, node: _Node, path: str, name: str, record: str | None) -> Decimal | None:
        raw = _text(node, path)
        if raw is None:
            return None
        try:
            value = Decimal(raw)
        except InvalidOperation:
            value = Decimal("NaN")
        if not value.is_finite():
            raise self._fail(node, path, name, record, f"{raw!r} is not a decimal amount")
        return value

    def _batch(self, node: _Node, name: str) -> CollectionBatch:
        batch_id = self._required(node, "PmtInfId", name, None)
        return CollectionBatch(
            payment_information_id=batch_id,
            collection_date=self._date(node, "ReqdColltnDt", name, batch_id),
            sequence_type=self._sequence(node, "PmtTpInf/SeqTp", name, batch_id, required=True)
            or "",
            creditor_name=_text(node, "Cdtr/Nm"),
            creditor_iban=_text(node, "CdtrAcct/Id/IBAN"),
            creditor_bic=_bic(node, "CdtrAgt/FinInstnId"),
            creditor_scheme_id=_text(node, "CdtrSchmeId/Id/PrvtId/Othr/Id"),
            number_of_transactions=self._int(node, "NbOfTxs", name, batch_id),
            control_sum=self._decimal(node, "CtrlSum", name, batch_id),
            local_instrument=_text(node, "PmtTpInf/LclInstrm/Cd"),
        )

    def _sequence(
        self, node: _Node, path: str, name: str, record: str | None, *, required: bool
    ) -> str | None:
        value = _text(node, path)
        if value is None:
            if required:
                raise self._fail(node, path, name, record, "missing or empty")
            return None
        if value not in ("FRST", "RCUR", "OOFF", "FNAL"):
            raise self._fail(node, path, name, record, f"{value!r} is not FRST, RCUR, OOFF or FNAL")
        return value

    def _debit(self, node: _Node, batch: CollectionBatch, name: str) -> DirectDebit:
        e2e = self._required(node, "PmtId/EndToEndId", name, None)
        amount_node = node.find("InstdAmt")
        if amount_node is None:
            raise self._fail(node, "InstdAmt", name, e2e, "missing")
        amount = self._decimal(node, "InstdAmt", name, e2e)
        if amount is None:
            raise self._fail(node, "InstdAmt", name, e2e, "missing or empty")
        if amount <= 0:
            raise self._fail(node, "InstdAmt", name, e2e, f"{amount} is not a positive amount")
        if amount.as_tuple().exponent < -2:  # type: ignore[operator]
            raise self._fail(node, "InstdAmt", name, e2e, f"{amount} has more than 2 decimals")
        currency = amount_node.attrs.get("Ccy", "")
        if not re.fullmatch(r"[A-Z]{3}", currency):
            raise self._fail(node, "InstdAmt", name, e2e, f"currency {currency!r} is not ISO 4217")
        mandate_id = self._required(node, "DrctDbtTx/MndtRltdInf/MndtId", name, e2e)
        signed = self._date(node, "DrctDbtTx/MndtRltdInf/DtOfSgntr", name, e2e)
        iban = self._required(node, "DbtrAcct/Id/IBAN", name, e2e).replace(" ", "").upper()
        if self.check_iban and not valid_iban(iban):
            raise self._fail(node, "DbtrAcct/Id/IBAN", name, e2e, "not a valid IBAN")
        bic = _bic(node, "DbtrAgt/FinInstnId")
        sequence = self._sequence(node, "PmtTpInf/SeqTp", name, e2e, required=False)
        remittance = " ".join(n.value() for n in node.findall("RmtInf/Ustrd") if n.value())
        return DirectDebit(
            end_to_end_id=e2e,
            amount=amount,
            currency=currency,
            mandate_id=mandate_id,
            mandate_signature_date=signed,
            debtor_name=self._required(node, "Dbtr/Nm", name, e2e),
            debtor_iban=iban,
            debtor_bic=None if bic in (None, "NOTPROVIDED") else bic,
            sequence_type=sequence or batch.sequence_type,
            collection_date=batch.collection_date,
            batch_id=batch.payment_information_id,
            remittance=remittance or None,
            instruction_id=_text(node, "PmtId/InstrId"),
            line=node.line,
            column=node.column,
        )


# --------------------------------------------------------------------------- CSV


def _decode(data: bytes, fmt: CsvFormat, name: str) -> str:
    if data.startswith(codecs.BOM_UTF8):
        return _decode_with(data[len(codecs.BOM_UTF8) :], "utf-8", fmt, name)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return _decode_with(data, "utf-16", fmt, name)
    return _decode_with(data, fmt.encoding, fmt, name)


def _decode_with(data: bytes, encoding: str, fmt: CsvFormat, name: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as exc:
        if fmt.fallback_encoding is not None:
            try:
                return data.decode(fmt.fallback_encoding)
            except UnicodeDecodeError:
                pass
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        hint = (
            ""
            if fmt.fallback_encoding
            else " (set CsvFormat(fallback_encoding='cp1252') "
            "for exports saved by Excel on Windows)"
        )
        raise SourceFileError(
            f"byte 0x{data[exc.start]:02x} cannot be decoded as {encoding}{hint}",
            file=name,
            line=line,
            column=column,
        ) from None


class InvoiceCsvReader:
    """Reads Club-assistent's invoice export (CSV, one row per invoice line).

    Rows are grouped by invoice number (the rows of one invoice need not be adjacent);
    the invoice fields are taken from its first row and must agree on the others. An
    invoice with any bad row is left out as a whole and its errors reported, so a
    half-read invoice is never booked. Columns the mapping does not name are kept in
    ``ClubInvoice.extra``.

    Example::

        reader = InvoiceCsvReader(CsvFormat(fallback_encoding="cp1252"))
        listing = reader.read("export.csv")
    """

    def __init__(self, fmt: CsvFormat | None = None) -> None:
        self.format = fmt or CsvFormat()

    def read(self, source: FileSource) -> Listing[ClubInvoice]:
        """Read the whole export; raises only when the file as a whole is unusable."""
        name = _source_name(source)
        try:
            if isinstance(source, (str, os.PathLike)):
                with open(source, "rb") as handle:
                    data = handle.read()
            else:
                data = source.read()
        except OSError as exc:
            raise SourceFileError(f"cannot read: {exc.strerror}", file=name) from None
        return self.read_bytes(data, name=name)

    def read_bytes(self, data: bytes, *, name: str = "<bytes>") -> Listing[ClubInvoice]:
        """Read an export already in memory; ``name`` is used in error messages."""
        fmt = self.format
        text = _decode(data, fmt, name)
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=fmt.delimiter, strict=True)
        rows = _numbered_rows(reader, name)
        header_line, header = self._header(rows, name)
        positions = self._positions(header, header_line, name)
        known = set(positions.values())
        groups: dict[str, list[tuple[int, dict[str, str], dict[str, str]]]] = {}
        errors: list[SourceError] = []
        bad: set[str] = set()
        for line, row in rows:
            if not any(cell.strip() for cell in row):
                continue
            if len(row) < len(header):
                missing = header[len(row)]
                errors.append(
                    RecordFileError(
                        f"the row has {len(row)} fields, the header {len(header)}",
                        file=name,
                        line=line,
                        column=len(row) + 1,
                        field=missing,
                        record_id=self._cell(row, positions.get("number")),
                    )
                )
                number = self._cell(row, positions.get("number"))
                if number:
                    bad.add(number)
                continue
            if len(row) > len(header) and any(cell.strip() for cell in row[len(header) :]):
                errors.append(
                    RecordFileError(
                        f"the row has {len(row)} fields, the header {len(header)}",
                        file=name,
                        line=line,
                        column=len(header) + 1,
                        field="(extra field)",
                        record_id=self._cell(row, positions.get("number")),
                    )
                )
                number = self._cell(row, positions.get("number"))
                if number:
                    bad.add(number)
                continue
            values = {field: row[index].strip() for field, index in positions.items()}
            extra = {
                header[i]: row[i].strip()
                for i in range(len(header))
                if i not in known and header[i]
            }
            number = values["number"]
            if not number:
                errors.append(
                    RecordFileError(
                        "missing invoice number",
                        file=name,
                        line=line,
                        column=positions["number"] + 1,
                        field=header[positions["number"]],
                    )
                )
                continue
            groups.setdefault(number, []).append((line, values, extra))
        invoices: list[ClubInvoice] = []
        for number, members in groups.items():
            try:
                invoice = self._invoice(number, members, header, positions, name)
            except RecordFileError as exc:
                errors.append(exc)
                continue
            if number in bad:
                continue
            invoices.append(invoice)
        return Listing(records=tuple(invoices), errors=tuple(errors))

    # ------------------------------------------------------------------ internals

    @staticmethod
    def _cell(row: list[str], index: int | None) -> str | None:
        if index is None or index >= len(row):
            return None
        return row[index].strip() or None

    @staticmethod
    def _header(rows: Iterator[tuple[int, list[str]]], name: str) -> tuple[int, list[str]]:
        for line, row in rows:
            if any(cell.strip() for cell in row):
                return line, [cell.strip() for cell in row]
        raise SourceFileError("the file is empty: no header row", file=name, line=1)

    def _positions(self, header: list[str], line: int, name: str) -> dict[str, int]:
        folded: dict[str, int] = {}
        for index, title in enumerate(header):
            key = title.casefold()
            if key and key in folded:
                raise SourceFileError(
                    f"column {title!r} appears twice in the header",
                    file=name,
                    line=line,
                    column=index + 1,
                )
            folded[key] = index
        columns = self.format.columns
        positions: dict[str, int] = {}
        missing = []
        for field, title in columns.required().items():
            found = folded.get(title.casefold())
            if found is None:
                missing.append(f"{title!r} ({field})")
            else:
                positions[field] = found
        if missing:
            raise SourceFileError(
                f"missing required column(s) {', '.join(missing)}; the header has "
                f"{', '.join(repr(h) for h in header)} (configure CsvColumns to match)",
                file=name,
                line=line,
            )
        for field, title in columns.optional().items():
            found = folded.get(title.casefold())
            if found is not None:
                positions[field] = found
        return positions

    def _invoice(
        self,
        number: str,
        rows: list[tuple[int, dict[str, str], dict[str, str]]],
        header: list[str],
        positions: dict[str, int],
        name: str,
    ) -> ClubInvoice:
        fmt = self.format

        def fail(line: int, field: str, message: str) -> RecordFileError:
            return RecordFileError(
                message,
                file=name,
                line=line,
                column=positions[field] + 1,
                field=header[positions[field]],
                record_id=number,
            )

        def date(line: int, values: dict[str, str], field: str) -> dt.date | None:
            raw = values.get(field, "")
            if not raw:
                return None
            try:
                return parse_dutch_date(raw, fmt.date_formats)
            except ValueError as exc:
                raise fail(line, field, str(exc)) from None

        first_line, first, extra = rows[0]
        invoice_date = date(first_line, first, "invoice_date")
        if invoice_date is None:
            raise fail(first_line, "invoice_date", "missing invoice date")
        due = date(first_line, first, "due_date")
        if not first["member_number"]:
            raise fail(first_line, "member_number", "missing member number")
        if not first["member_name"]:
            raise fail(first_line, "member_name", "missing member name")
        lines: list[ClubInvoiceLine] = []
        for line, values, _ in rows:
            for field in ("member_number", "invoice_date"):
                if values[field] != first[field]:
                    raise fail(
                        line,
                        field,
                        f"{values[field]!r} differs from {first[field]!r} on line {first_line} "
                        "of the same invoice",
                    )
            try:
                amount = parse_dutch_decimal(values["amount"], decimal_comma=fmt.decimal_comma)
            except ValueError as exc:
                raise fail(line, "amount", str(exc)) from None
            if amount.as_tuple().exponent < -2:  # type: ignore[operator]
                raise fail(line, "amount", f"{values['amount']!r} has more than 2 decimals")
            rate: Decimal | None = None
            raw_rate = values.get("vat_rate", "").replace("%", "").strip()
            if raw_rate:
                try:
                    percent = parse_dutch_decimal(raw_rate, decimal_comma=fmt.decimal_comma)
                except ValueError as exc:
                    raise fail(line, "vat_rate", str(exc)) from None
                if not Decimal(0) <= percent <= Decimal(100):
                    raise fail(line, "vat_rate", f"{percent} is not a percentage (0-100)")
                rate = (percent / 100).normalize() if percent else Decimal(0)
            description = values["description"]
            if not description:
                raise fail(line, "description", "missing line description")
            lines.append(
                ClubInvoiceLine(description=description, amount=amount, vat_rate=rate, line=line)
            )
        method_text = first.get("payment_method") or None
        return ClubInvoice(
            number=number,
            member=ClubMember(
                number=first["member_number"],
                name=first["member_name"],
                email=first.get("member_email") or None,
                iban=(first.get("member_iban") or "").replace(" ", "").upper() or None,
                address=first.get("member_address") or None,
                postcode=first.get("member_postcode") or None,
                city=first.get("member_city") or None,
            ),
            invoice_date=invoice_date,
            due_date=due,
            lines=tuple(lines),
            payment_method=self._method(method_text),
            payment_method_text=method_text,
            description=first.get("invoice_description") or None,
            extra=extra,
            file=name,
            line=first_line,
        )

    def _method(self, text: str | None) -> ClubPaymentMethod:
        if not text:
            return ClubPaymentMethod.OTHER
        folded = text.casefold()
        if any(word in folded for word in self.format.direct_debit_words):
            return ClubPaymentMethod.DIRECT_DEBIT
        if any(word in folded for word in self.format.invoice_words):
            return ClubPaymentMethod.INVOICE
        return ClubPaymentMethod.OTHER


def _numbered_rows(reader: Any, name: str) -> Iterator[tuple[int, list[str]]]:
    """Yield (first line of the row, cells); a CSV syntax error names its line."""
    previous = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise SourceFileError(
                f"CSV syntax error: {exc}", file=name, line=reader.line_num or previous + 1
            ) from None
        yield previous + 1, row
        previous = reader.line_num
