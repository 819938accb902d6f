"""Sample-file generators for Club-assistent: SEPA pain.008 XML and the invoice CSV.

Club-assistent has no API to fake; what it hands over is files, so this module writes
realistic ones for tests, demos and benchmarks. It has its own writer (it does not
reuse the connector's readers) and follows the same assumptions as the connector:
ISO 20022 pain.008 (``.02`` or ``.08``) and a CSV export with one row per invoice line
in the default :class:`~exactbridge.sources.clubassistent.CsvColumns` layout, Dutch
numbers and dates, ``;`` separated.

Example::

    debits = sample_direct_debits(1000, seed=7)
    write_pain008("incasso.xml", debits, version="08")
    write_invoice_csv("facturen.csv", sample_invoices(200, seed=7))
"""

from __future__ import annotations

import datetime as dt
import os
import random
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from typing import IO
from xml.sax.saxutils import escape, quoteattr

import attrs

__all__ = [
    "DEFAULT_CSV_HEADER",
    "SampleDebit",
    "SampleInvoice",
    "SampleLine",
    "format_dutch_amount",
    "iban_for",
    "sample_direct_debits",
    "sample_invoices",
    "write_invoice_csv",
    "write_pain008",
]

#: The columns of the invoice export as :func:`write_invoice_csv` writes them by default.
DEFAULT_CSV_HEADER = (
    "Factuurnummer",
    "Lidnummer",
    "Naam",
    "E-mail",
    "IBAN",
    "Factuurdatum",
    "Vervaldatum",
    "Omschrijving",
    "Bedrag incl. btw",
    "Btw-percentage",
    "Betaalwijze",
)

_FIRST = ("Anna", "Bram", "Chantal", "Daan", "Eva", "Fleur", "Gijs", "Hanneke", "Iris", "Joost")
_LAST = ("de Vries", "Jansen", "van Dijk", "Bakker", "Visser", "Smit", "Meijer", "de Boer")
_ITEMS = (
    ("Contributie seizoen", Decimal("21")),
    ("Bondscontributie", Decimal("0")),
    ("Kantinekaart", Decimal("9")),
    ("Trainingskamp", Decimal("21")),
)


@attrs.frozen
class SampleDebit:
    """One collection to write into a pain.008 file."""

    end_to_end_id: str
    amount: Decimal
    mandate_id: str
    signature_date: dt.date
    debtor_name: str
    debtor_iban: str
    debtor_bic: str | None = "INGBNL2A"
    sequence_type: str = "RCUR"
    remittance: str | None = None


@attrs.frozen
class SampleLine:
    """One invoice line for the CSV: amount including VAT, VAT as a percentage."""

    description: str
    amount: Decimal
    vat_percent: Decimal = Decimal("21")


@attrs.frozen
class SampleInvoice:
    """One invoice for the CSV export."""

    number: str
    member_number: str
    member_name: str
    invoice_date: dt.date
    lines: tuple[SampleLine, ...]
    due_date: dt.date | None = None
    email: str | None = None
    iban: str | None = None
    payment_method: str = "Incasso"


def iban_for(n: int, bank: str = "INGB") -> str:
    """A Dutch IBAN with a correct check digit for account number ``n``."""
    account = f"{n % 10**10:010d}"
    bban = bank + account
    digits = "".join(str(int(ch, 36)) for ch in bban + "NL00")
    check = 98 - int(digits) % 97
    return f"NL{check:02d}{bban}"


def format_dutch_amount(value: Decimal) -> str:
    """``Decimal("-1234.5")`` -> ``"-1.234,50"`` (the export's number style)."""
    sign = "-" if value < 0 else ""
    whole, _, cents = f"{abs(value):.2f}".partition(".")
    groups: list[str] = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    return f"{sign}{'.'.join(groups)},{cents}"


def sample_direct_debits(
    count: int, *, seed: int = 0, first_share: float = 0.1
) -> Iterator[SampleDebit]:
    """Yield ``count`` realistic collections (lazily, so huge files stay cheap)."""
    rng = random.Random(seed)
    for index in range(1, count + 1):
        member = rng.randint(1, max(count // 2, 1))
        cents = rng.randint(500, 25_000)
        yield SampleDebit(
            end_to_end_id=f"F{2026_000000 + index}",
            amount=Decimal(cents).scaleb(-2),
            mandate_id=f"MACHT-{member:06d}",
            signature_date=dt.date(2020, 1, 1) + dt.timedelta(days=member % 2000),
            debtor_name=f"{rng.choice(_FIRST)} {rng.choice(_LAST)}",
            debtor_iban=iban_for(member),
            sequence_type="FRST" if rng.random() < first_share else "RCUR",
            remittance=f"Factuur F{2026_000000 + index} contributie",
        )


def sample_invoices(count: int, *, seed: int = 0, start: int = 1) -> list[SampleInvoice]:
    """``count`` invoices with one to three lines each; every 25th one is a credit."""
    rng = random.Random(seed)
    out = []
    for index in range(start, start + count):
        member = rng.randint(1, 9999)
        day = dt.date(2026, 1, 1) + dt.timedelta(days=rng.randint(0, 360))
        sign = Decimal(-1) if index % 25 == 0 else Decimal(1)
        lines = tuple(
            SampleLine(desc, sign * Decimal(rng.randint(100, 150_000)).scaleb(-2), vat)
            for desc, vat in rng.sample(_ITEMS, rng.randint(1, 3))
        )
        out.append(
            SampleInvoice(
                number=f"F{2026_000000 + index}",
                member_number=f"{member:05d}",
                member_name=f"{rng.choice(_FIRST)} {rng.choice(_LAST)}",
                invoice_date=day,
                due_date=day + dt.timedelta(days=14),
                lines=lines,
                email=f"lid{member}@example.nl",
                iban=iban_for(member),
                payment_method="Incasso" if rng.random() < 0.8 else "Factuur",
            )
        )
    return out


def _element(name: str, text: str) -> str:
    return f"<{name}>{escape(text)}</{name}>"


def write_pain008(
    target: str | os.PathLike[str] | IO[bytes],
    debits: Iterable[SampleDebit],
    *,
    version: str = "02",
    collection_date: dt.date = dt.date(2026, 2, 1),
    message_id: str = "CA-2026-0001",
    creditor_name: str = "Sportvereniging De Sprinters",
    creditor_iban: str = "NL91ABNA0417164300",
    creditor_id: str = "NL98ZZZ123456780000",
    header_count: int | None = None,
) -> int:
    """Write a pain.008.001.``version`` file, one ``PmtInf`` per sequence type.

    Collections are grouped by sequence type (held in memory while writing). Returns
    the number of transactions written. ``header_count`` overrides ``NbOfTxs`` in the
    group header (to produce a file whose totals do not add up).
    """
    bic_tag = "BICFI" if int(version) >= 4 else "BIC"  # ISO renamed BIC to BICFI in .04
    groups: dict[str, list[SampleDebit]] = {}
    for debit in debits:
        groups.setdefault(debit.sequence_type, []).append(debit)
    total_count = sum(len(g) for g in groups.values())
    total_sum = sum((d.amount for g in groups.values() for d in g), Decimal(0))
    close = False
    handle: IO[bytes]
    if isinstance(target, (str, os.PathLike)):
        handle = open(target, "wb")  # noqa: SIM115 - closed in finally
        close = True
    else:
        handle = target
    try:
        write = handle.write
        ns = f"urn:iso:std:iso:20022:tech:xsd:pain.008.001.{version}"
        write(b'<?xml version="1.0" encoding="UTF-8"?>\n')
        write(f'<Document xmlns="{ns}">\n<CstmrDrctDbtInitn>\n'.encode())
        count = total_count if header_count is None else header_count
        write(
            (
                "<GrpHdr>"
                + _element("MsgId", message_id)
                + _element("CreDtTm", "2026-01-25T10:30:00")
                + _element("NbOfTxs", str(count))
                + _element("CtrlSum", f"{total_sum:.2f}")
                + "<InitgPty>"
                + _element("Nm", creditor_name)
                + "</InitgPty></GrpHdr>\n"
            ).encode()
        )
        for number, (sequence, members) in enumerate(sorted(groups.items()), start=1):
            write(
                (
                    "<PmtInf>"
                    + _element("PmtInfId", f"{message_id}-{number}")
                    + _element("PmtMtd", "DD")
                    + _element("NbOfTxs", str(len(members)))
                    + _element("CtrlSum", f"{sum((d.amount for d in members), Decimal(0)):.2f}")
                    + "<PmtTpInf><SvcLvl><Cd>SEPA</Cd></SvcLvl><LclInstrm><Cd>CORE</Cd>"
                    + "</LclInstrm>"
                    + _element("SeqTp", sequence)
                    + "</PmtTpInf>"
                    + _element("ReqdColltnDt", collection_date.isoformat())
                    + "<Cdtr>"
                    + _element("Nm", creditor_name)
                    + "</Cdtr><CdtrAcct><Id>"
                    + _element("IBAN", creditor_iban)
                    + "</Id></CdtrAcct><CdtrAgt><FinInstnId>"
                    + _element(bic_tag, "ABNANL2A")
                    + "</FinInstnId></CdtrAgt><CdtrSchmeId><Id><PrvtId><Othr>"
                    + _element("Id", creditor_id)
                    + "<SchmeNm><Prtry>SEPA</Prtry></SchmeNm></Othr></PrvtId></Id></CdtrSchmeId>\n"
                ).encode()
            )
            for debit in members:
                write(_transaction(debit, bic_tag).encode())
            write(b"</PmtInf>\n")
        write(b"</CstmrDrctDbtInitn>\n</Document>\n")
    finally:
        if close:
            handle.close()
    return total_count


def _transaction(debit: SampleDebit, bic_tag: str) -> str:
    agent = (
        f"<DbtrAgt><FinInstnId>{_element(bic_tag, debit.debtor_bic)}</FinInstnId></DbtrAgt>"
        if debit.debtor_bic
        else "<DbtrAgt><FinInstnId><Othr><Id>NOTPROVIDED</Id></Othr></FinInstnId></DbtrAgt>"
    )
    remittance = (
        f"<RmtInf>{_element('Ustrd', debit.remittance)}</RmtInf>" if debit.remittance else ""
    )
    return (
        "<DrctDbtTxInf><PmtId>"
        + _element("EndToEndId", debit.end_to_end_id)
        + "</PmtId>"
        + f"<InstdAmt Ccy={quoteattr('EUR')}>{debit.amount:.2f}</InstdAmt>"
        + "<DrctDbtTx><MndtRltdInf>"
        + _element("MndtId", debit.mandate_id)
        + _element("DtOfSgntr", debit.signature_date.isoformat())
        + "</MndtRltdInf></DrctDbtTx>"
        + agent
        + "<Dbtr>"
        + _element("Nm", debit.debtor_name)
        + "</Dbtr><DbtrAcct><Id>"
        + _element("IBAN", debit.debtor_iban)
        + "</Id></DbtrAcct>"
        + remittance
        + "</DrctDbtTxInf>\n"
    )


def _csv_cell(value: str, delimiter: str) -> str:
    if any(ch in value for ch in (delimiter, '"', "\n", "\r")):
        return '"' + value.replace('"', '""') + '"'
    return value


def write_invoice_csv(
    target: str | os.PathLike[str] | IO[bytes],
    invoices: Sequence[SampleInvoice],
    *,
    encoding: str = "utf-8",
    bom: bool = False,
    delimiter: str = ";",
    header: Sequence[str] = DEFAULT_CSV_HEADER,
    date_format: str = "%d-%m-%Y",
) -> int:
    """Write the invoice export (one row per line) and return the number of rows.

    ``header`` may drop columns of :data:`DEFAULT_CSV_HEADER` or add unknown ones (left
    empty), to build exports with missing or extra columns.
    """
    rows = [delimiter.join(_csv_cell(h, delimiter) for h in header)]
    for invoice in invoices:
        for line in invoice.lines:
            cells = {
                "Factuurnummer": invoice.number,
                "Lidnummer": invoice.member_number,
                "Naam": invoice.member_name,
                "E-mail": invoice.email or "",
                "IBAN": invoice.iban or "",
                "Factuurdatum": invoice.invoice_date.strftime(date_format),
                "Vervaldatum": invoice.due_date.strftime(date_format) if invoice.due_date else "",
                "Omschrijving": line.description,
                "Bedrag incl. btw": format_dutch_amount(line.amount),
                "Btw-percentage": f"{line.vat_percent.normalize():f}",
                "Betaalwijze": invoice.payment_method,
            }
            ordered = [cells.get(h, "") for h in header]
            rows.append(delimiter.join(_csv_cell(c, delimiter) for c in ordered))
    data = ("\r\n".join(rows) + "\r\n").encode(encoding)
    if bom:
        data = b"\xef\xbb\xbf" + data
    if isinstance(target, (str, os.PathLike)):
        with open(target, "wb") as handle:
            handle.write(data)
    else:
        target.write(data)
    return len(rows) - 1
