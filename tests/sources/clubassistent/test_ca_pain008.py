"""pain.008 reader: versions, streaming, defused parsing and hostile files."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from exactbridge.errors import SourceError, SourceFileError
from exactbridge.records import SequenceType
from exactbridge.sources.clubassistent import (
    Pain008Reader,
    RecordFileError,
    direct_debit_to_mandate,
    mandates_from_direct_debits,
    valid_iban,
)
from exactbridge.testing.clubassistent import (
    SampleDebit,
    iban_for,
    sample_direct_debits,
    write_pain008,
)


def _debit(n: int, **changes: Any) -> SampleDebit:
    values: dict[str, Any] = {
        "end_to_end_id": f"F{n}",
        "amount": Decimal("12.50") + n,
        "mandate_id": f"M-{n}",
        "signature_date": dt.date(2021, 3, n % 28 + 1),
        "debtor_name": f"Lid {n} & Zn",
        "debtor_iban": iban_for(n),
        "sequence_type": "RCUR",
        "remittance": f"Factuur F{n}",
    }
    values.update(changes)
    return SampleDebit(**values)


def _file(debits: list[SampleDebit], version: str = "02", **kw: Any) -> bytes:
    buf = io.BytesIO()
    write_pain008(buf, debits, version=version, **kw)
    return buf.getvalue()


@pytest.mark.parametrize("version", ["02", "08"])
def test_reads_every_field_of_both_versions(version: str) -> None:
    debits = [_debit(1, sequence_type="FRST"), _debit(2), _debit(3, debtor_bic=None)]
    result = Pain008Reader().read(io.BytesIO(_file(debits, version)))
    assert result.version == f"pain.008.001.{version}"
    assert result.errors == ()
    assert result.header is not None
    assert result.header.message_id == "CA-2026-0001"
    assert result.header.number_of_transactions == 3
    assert result.header.created_at is not None
    assert result.header.created_at.tzinfo is not None
    assert {b.sequence_type for b in result.batches} == {"FRST", "RCUR"}
    batch = result.batches[0]
    assert batch.creditor_iban == "NL91ABNA0417164300"
    assert batch.creditor_bic == "ABNANL2A"
    assert batch.creditor_scheme_id == "NL98ZZZ123456780000"
    assert batch.local_instrument == "CORE"
    by_id = {d.end_to_end_id: d for d in result.direct_debits}
    first = by_id["F1"]
    assert first.amount == Decimal("13.50")
    assert first.currency == "EUR"
    assert first.mandate_id == "M-1"
    assert first.mandate_signature_date == dt.date(2021, 3, 2)
    assert first.debtor_name == "Lid 1 & Zn"
    assert first.debtor_iban == iban_for(1)
    assert first.debtor_bic == "INGBNL2A"
    assert first.sequence_type == "FRST"
    assert first.collection_date == dt.date(2026, 2, 1)
    assert first.remittance == "Factuur F1"
    assert first.line is not None
    assert first.line > 1
    assert by_id["F3"].debtor_bic is None  # NOTPROVIDED


def test_mandates_link_to_members_through_invoice_numbers() -> None:
    debits = (
        Pain008Reader()
        .read(
            io.BytesIO(
                _file([_debit(1, sequence_type="FRST"), _debit(1, end_to_end_id="F9"), _debit(2)])
            )
        )
        .direct_debits
    )
    mandates = mandates_from_direct_debits(debits, member_by_invoice={"F1": "00042"})
    by_id = {m.mandate_id: m for m in mandates}
    assert set(by_id) == {"M-1", "M-2"}
    assert by_id["M-1"].sequence_type is SequenceType.RECURRING  # RCUR replaces FRST
    assert by_id["M-1"].party_source_id == "00042"
    assert by_id["M-2"].party_source_id is None
    single = direct_debit_to_mandate(debits[0], party_source_id="x")
    assert single.source == "clubassistent"
    assert single.iban == debits[0].debtor_iban
    assert single.holder == "Lid 1 & Zn"
    assert single.bic == "INGBNL2A"
    assert single.signature_date == debits[0].mandate_signature_date


def test_streaming_yields_before_the_end_and_keeps_going_after_bad_records() -> None:
    debits = [_debit(i) for i in range(1, 6)]
    debits[2] = _debit(3, debtor_iban="NL00INGB0000000001")
    errors: list[SourceError] = []
    seen = list(Pain008Reader().iter_direct_debits(io.BytesIO(_file(debits)), errors=errors))
    assert [d.end_to_end_id for d in seen] == ["F1", "F2", "F4", "F5"]
    assert len(errors) == 1
    error = errors[0]
    assert isinstance(error, RecordFileError)
    assert error.record_id == "F3"
    assert error.field == "DbtrAcct/Id/IBAN"
    assert error.line is not None
    assert error.column is not None


def test_negative_amount_and_bad_date_are_record_errors() -> None:
    data = _file([_debit(1), _debit(2), _debit(3)])
    data = data.replace(b">14.50<", b">-14.50<").replace(b"2021-03-04", b"2021-13-04")
    result = Pain008Reader().read(io.BytesIO(data))
    assert [d.end_to_end_id for d in result.direct_debits] == ["F1"]
    fields = {e.field for e in result.errors if isinstance(e, RecordFileError)}
    assert fields == {"InstdAmt", "DrctDbtTx/MndtRltdInf/DtOfSgntr"}
    assert all("line" in str(e) and "column" in str(e) for e in result.errors)


def test_header_count_mismatch_is_reported() -> None:
    result = Pain008Reader().read(io.BytesIO(_file([_debit(1)], header_count=7)))
    assert len(result.direct_debits) == 1
    assert [e.field for e in result.errors if isinstance(e, RecordFileError)] == ["GrpHdr/NbOfTxs"]


def test_malformed_xml_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "kapot.xml"
    data = _file([_debit(1), _debit(2)])
    path.write_bytes(data.replace(b"</Dbtr>", b"</Dbtor>", 2))
    with pytest.raises(SourceFileError) as info:
        list(Pain008Reader().iter_direct_debits(path, errors=[]))
    assert info.value.file == str(path)
    assert info.value.line is not None
    assert info.value.line > 1
    assert isinstance(info.value.column, int)
    assert "not well-formed" in str(info.value)


@pytest.mark.parametrize(
    "payload",
    [
        b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
        b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.008.001.02">&b;</Document>',
        b'<?xml version="1.0"?><!DOCTYPE d SYSTEM "file:///etc/passwd">'
        b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.008.001.02"/>',
        b'<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.008.001.02">'
        b"&undefined;</Document>",
    ],
)
def test_dtds_and_entities_are_refused(payload: bytes) -> None:
    with pytest.raises(SourceFileError) as info:
        Pain008Reader().read(io.BytesIO(payload))
    assert info.value.line == 1
    assert "passwd" not in str(info.value)


@pytest.mark.parametrize(
    ("payload", "words"),
    [
        (b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"/>', "not a pain.008"),
        (b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.008.001.99"/>', "not supported"),
        (b"", "not well-formed"),
    ],
)
def test_wrong_documents_are_refused(payload: bytes, words: str) -> None:
    with pytest.raises(SourceFileError, match=words):
        Pain008Reader().read(io.BytesIO(payload))


def test_missing_file_is_a_file_error(tmp_path: Path) -> None:
    with pytest.raises(SourceFileError, match="cannot open"):
        Pain008Reader().read(tmp_path / "nope.xml")


def test_unknown_elements_are_tolerated() -> None:
    data = _file([_debit(1)]).replace(b"<Dbtr>", b"<Dbtr><PstlAdr><Ctry>NL</Ctry></PstlAdr>")
    result = Pain008Reader().read(io.BytesIO(data))
    assert result.errors == ()
    assert result.direct_debits[0].debtor_name == "Lid 1 & Zn"


def test_large_file_streams(tmp_path: Path) -> None:
    path = tmp_path / "groot.xml"
    written = write_pain008(path, sample_direct_debits(3000, seed=3), version="08")
    errors: list[SourceError] = []
    count = sum(1 for _ in Pain008Reader().iter_direct_debits(path, errors=errors))
    assert count == written == 3000
    assert errors == []


def test_iban_check() -> None:
    assert valid_iban("NL91 ABNA 0417 1643 00")
    assert not valid_iban("NL92ABNA0417164300")
    assert not valid_iban("nonsense")
