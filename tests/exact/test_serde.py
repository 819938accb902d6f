"""Tests for the private converter (exactbridge.exact._serde)."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import cattrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exactbridge.errors import ConfigurationError, DecodeError
from exactbridge.exact import _serde
from exactbridge.exact import models as m
from exactbridge.exact._envelope import dumps, loads
from exactbridge.exact._odata import AMSTERDAM
from exactbridge.exact._serde import (
    field_for_wire,
    structure,
    unstructure,
    update_payload,
    wire_name,
    wire_names,
)

G1 = uuid.UUID("40d4c49d-1790-4a13-b890-42909af24348")
G2 = uuid.UUID("790fc424-dc9f-405d-ab09-22d4ee00f653")


# --------------------------------------------------------------------------- structure


@pytest.mark.parametrize(
    ("model", "row", "field", "wire"),
    [
        (m.SalesEntry, {"AmountFC": "lots"}, "amount_fc", "AmountFC"),
        (m.SalesEntry, {"AmountFC": 1.5}, "amount_fc", "AmountFC"),
        (m.SalesEntry, {"AmountFC": True}, "amount_fc", "AmountFC"),
        (m.SalesEntry, {"EntryID": "not-a-guid"}, "entry_id", "EntryID"),
        (m.SalesEntry, {"EntryDate": "yesterday"}, "entry_date", "EntryDate"),
        (m.SalesEntry, {"Created": "/Date(x)/"}, "created", "Created"),
        (m.SalesEntry, {"InvoiceNumber": "12a"}, "invoice_number", "InvoiceNumber"),
        (m.SalesEntry, {"InvoiceNumber": Decimal("1.5")}, "invoice_number", "InvoiceNumber"),
        (m.SalesEntry, {"Reversal": "yes"}, "reversal", "Reversal"),
        (m.SalesEntry, {"Reversal": 2}, "reversal", "Reversal"),
        (m.SalesEntry, {"YourRef": ["list"]}, "your_ref", "YourRef"),
        (m.SalesEntry, {"Status": "open"}, "status", "Status"),
        (m.SalesEntry, {"SalesEntryLines": "nope"}, "lines", "SalesEntryLines"),
        (m.DocumentAttachment, {"Attachment": "%%%"}, "attachment", "Attachment"),
    ],
)
def test_bad_values_name_entity_field_value_and_expectation(model, row, field, wire):
    with pytest.raises(DecodeError) as info:
        structure(model, row)
    error = info.value
    assert error.entity == model.__name__
    assert error.field == field
    assert error.value == row[wire]
    assert error.expected
    text = str(error)
    assert f"{model.__name__}.{field}" in text
    assert wire in text
    assert "expected" in text


def test_bad_line_names_its_position():
    row = {"SalesEntryLines": {"results": [{"AmountFC": Decimal("1")}, {"AmountFC": "x"}]}}
    with pytest.raises(DecodeError) as info:
        structure(m.SalesEntry, row)
    assert info.value.entity == "SalesEntry"
    assert info.value.field == "lines[1].amount_fc"
    assert info.value.value == "x"


def test_row_must_be_an_object():
    with pytest.raises(DecodeError, match="JSON object"):
        structure(m.Account, ["not", "a", "row"])  # type: ignore[arg-type]
    with pytest.raises(DecodeError) as info:
        structure(m.SalesEntry, {"SalesEntryLines": {"results": [5]}})
    assert info.value.field == "lines[0]"


def test_non_model_class_is_refused():
    with pytest.raises(ConfigurationError, match="not an exactbridge Exact model"):
        structure(dict, {})  # type: ignore[type-var]
    with pytest.raises(ConfigurationError):
        unstructure({"a": 1})


def test_lenient_scalar_reading():
    entry = structure(
        m.SalesEntry,
        {
            "InvoiceNumber": "26700001",  # a digit string
            "EntryNumber": Decimal("26700001"),  # an integral number parsed as Decimal
            "Reversal": 0,  # Exact's Byte flag
            "AmountFC": "50.80",  # OSSO-style string amount
            "VATAmountFC": 9,  # JSON int
            "Journal": 70,  # a code that arrived as a number
            "EntryDate": "2026-06-25",
            "Created": "2026-06-25T16:31:00",
        },
    )
    assert entry.invoice_number == 26700001
    assert entry.entry_number == 26700001
    assert entry.reversal is False
    assert entry.amount_fc == Decimal("50.80")
    assert entry.vat_amount_fc == Decimal(9)
    assert entry.journal == "70"
    assert entry.entry_date == dt.date(2026, 6, 25)
    assert entry.created == dt.datetime(2026, 6, 25, 16, 31, tzinfo=AMSTERDAM)


def test_unknown_and_metadata_fields():
    row = {
        "__metadata": {"uri": "x", "type": "Exact.Web.Api.Models.Account"},
        "Name": "A",
        "NewField": None,
        "SomeChildren": {"__deferred": {"uri": "x"}},
        "Nested": {"a": 1},
    }
    account = structure(m.Account, row)
    assert account.extra == {"NewField": None, "Nested": {"a": 1}}


def test_write_model_structure_is_strict():
    line = structure(m.NewSalesEntryLine, {"GLAccount": str(G1), "AmountFC": Decimal("1.00")})
    assert line == m.NewSalesEntryLine(gl_account=G1, amount_fc=Decimal("1.00"))
    with pytest.raises(DecodeError, match="unknown properties"):
        structure(m.NewSalesEntryLine, {"GLAccount": str(G1), "AmountFC": 1, "Oops": 1})
    with pytest.raises(DecodeError, match="required"):
        structure(m.NewSalesEntryLine, {"GLAccount": str(G1)})
    with pytest.raises(DecodeError, match="at least one line"):
        structure(m.NewSalesEntry, {"Customer": str(G1), "Journal": "70", "SalesEntryLines": []})


def test_no_cattrs_error_escapes(monkeypatch):
    def broken(*_args):
        raise cattrs.errors.ClassValidationError("boom", [ValueError("x")], m.Account)

    monkeypatch.setattr(_serde, "_read_field", broken)
    with pytest.raises(DecodeError) as info:
        structure(m.Account, {"Name": "x"})
    assert info.value.entity == "Account"


def test_converter_is_private():
    assert _serde._converter is not cattrs.global_converter
    # the global converter was not taught our hooks: it still turns 2 into True,
    # where ours refuses anything but a bool or a 0/1 flag
    assert cattrs.structure(2, bool) is True
    with pytest.raises(DecodeError):
        structure(m.SalesEntry, {"Reversal": 2})


# --------------------------------------------------------------------------- unstructure


def test_new_sales_entry_wire_body():
    entry = m.NewSalesEntry(
        customer=G1,
        journal="70",
        entry_date=dt.date(2015, 3, 1),
        reporting_period=3,
        reporting_year=2015,
        description="Invoice F0005555",
        your_ref="F0005555",
        lines=[
            m.NewSalesEntryLine(
                gl_account=G2,
                amount_fc=Decimal("41.98"),
                vat_code="2",
                description="Lidmaatschap",
                cost_center="GYM1",
            ),
            m.NewSalesEntryLine(gl_account=G2, amount_fc=Decimal("-0.10")),
        ],
    )
    body = unstructure(entry)
    assert body == {
        "Customer": str(G1),
        "Journal": "70",
        "SalesEntryLines": [
            {
                "GLAccount": str(G2),
                "AmountFC": Decimal("41.98"),
                "Description": "Lidmaatschap",
                "VATCode": "2  ",
                "CostCenter": "GYM1",
            },
            {"GLAccount": str(G2), "AmountFC": Decimal("-0.10")},
        ],
        "EntryDate": "2015-03-01",
        "ReportingPeriod": 3,
        "ReportingYear": 2015,
        "Description": "Invoice F0005555",
        "YourRef": "F0005555",
    }
    # and it serialises with exact digits
    assert b'"AmountFC":41.98' in dumps(body)
    assert b'"AmountFC":-0.10' in dumps(body)


def test_unstructure_other_types():
    attachment = m.NewDocumentAttachment(document=G1, file_name="f.pdf", attachment=b"\x00\x01")
    assert unstructure(attachment) == {
        "Document": str(G1),
        "FileName": "f.pdf",
        "Attachment": "AAE=",
    }
    read = m.Division(
        code=124132,
        country="FR",
        legislation="FR",
        created=dt.datetime(2026, 6, 25, 14, 31, tzinfo=dt.timezone.utc),
        status=m.DivisionStatus.ACTIVE,
        extra={"Ignored": 1},
    )
    assert unstructure(read) == {
        "Code": 124132,
        "Country": "FR ",
        "Legislation": "FR",
        "Status": 1,
        "Created": "2026-06-25T16:31:00",
    }
    assert unstructure(m.SalesEntry(status=77)) == {"Status": 77}
    assert unstructure(m.NewAccount(name="x", code=1001)) == {  # type: ignore[arg-type]
        "Name": "x",
        "Code": "              1001",
    }


@pytest.mark.parametrize(
    ("obj", "key"),
    [
        (m.NewSalesEntryLine(gl_account=G1, amount_fc=1.5), "NewSalesEntryLine.amount_fc"),  # type: ignore[arg-type]
        (m.NewSalesEntryLine(gl_account="x", amount_fc=Decimal(1)), "NewSalesEntryLine.gl_account"),  # type: ignore[arg-type]
        (m.NewAccount(name="x", code="1234567890123456789"), "NewAccount.code"),
        (m.NewAccount(name="x", country="Netherlands"), "NewAccount.country"),
        (m.NewAccount(name="x", sales_vat_code="TOOLONG"), "NewAccount.sales_vat_code"),
        (m.NewAccount(name="x", is_sales="yes"), "NewAccount.is_sales"),  # type: ignore[arg-type]
        (m.NewAccount(name=5), "NewAccount.name"),  # type: ignore[arg-type]
        (m.NewContact(account=G1, start_date=dt.datetime(2026, 1, 1)), "NewContact.start_date"),
        (m.SalesEntry(created=dt.datetime(2026, 1, 1)), "SalesEntry.created"),
        (m.NewJournal(code="70", type=True), "NewJournal.type"),  # type: ignore[arg-type]
        (
            m.NewDocumentAttachment(document=G1, file_name="f", attachment="text"),
            "NewDocumentAttachment.attachment",
        ),  # type: ignore[arg-type]
    ],
)
def test_unstructure_rejects_wrong_types_naming_the_field(obj, key):
    with pytest.raises(ConfigurationError) as info:
        unstructure(obj)
    assert info.value.key == key
    assert key in str(info.value)


def test_unstructure_rejects_bad_lines():
    entry = m.NewBankEntry(
        journal_code="50", lines=[m.NewSalesEntryLine(gl_account=G1, amount_fc=Decimal(1))]
    )  # type: ignore[list-item]
    with pytest.raises(ConfigurationError) as info:
        unstructure(entry)
    assert info.value.key == "NewBankEntry.lines"


def test_round_trip_read_model():
    entry = m.SalesEntry(
        entry_id=G1,
        entry_date=dt.date(2026, 6, 25),
        amount_fc=Decimal("0.30"),
        status=m.EntryStatus.OPEN,
        lines=(m.SalesEntryLine(vat_code="VN", amount_fc=Decimal("0.1")),),
    )
    again = structure(m.SalesEntry, loads(dumps(unstructure(entry))))
    assert again == entry


@settings(max_examples=100)
@given(
    st.decimals(
        allow_nan=False, allow_infinity=False, places=4, min_value=-(10**9), max_value=10**9
    ),
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1, max_size=3),
    st.text(alphabet="0123456789ABC", min_size=1, max_size=18),
    st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2090, 12, 31)),
)
def test_write_then_read_keeps_values(amount, vat, code, day):
    line = m.NewSalesEntryLine(gl_account=G1, amount_fc=amount, vat_code=vat, from_date=day)
    wire = loads(dumps(unstructure(line)))
    assert len(wire["VATCode"]) == 3
    read = structure(m.SalesEntryLine, wire)
    assert read.amount_fc == amount
    assert read.vat_code == vat
    assert read.from_date == day
    account = structure(m.Account, loads(dumps(unstructure(m.NewAccount(name="n", code=code)))))
    assert account.code == code


# --------------------------------------------------------------------------- names and updates


def test_wire_name_and_field_for_wire():
    assert wire_name(m.SalesEntry, "your_ref") == "YourRef"
    assert wire_name(m.SalesEntry, "lines") == "SalesEntryLines"
    assert wire_name(m.Account, "gl_ar") == "GLAR"
    assert wire_name(m.ReceivablesListItem, "id") == "Id"
    assert field_for_wire(m.SalesEntry, "VATAmountFC") == "vat_amount_fc"
    assert field_for_wire(m.SalesEntry, "Nope") is None
    with pytest.raises(ConfigurationError, match="did you mean 'your_ref'"):
        wire_name(m.SalesEntry, "yourref")


def test_wire_names():
    names = wire_names(m.SalesEntry)
    assert "SalesEntryLines" not in names
    assert "EntryID" in names
    assert len(names) == len(set(names))
    assert "SalesEntryLines" in wire_names(m.SalesEntry, include_children=True)
    assert "Timestamp" not in wire_names(m.Account)
    assert "Timestamp" in wire_names(m.Account, include_sync_only=True)
    assert "Timestamp" in wire_names(m.DeletedRecord)


def test_update_payload():
    body = update_payload(
        m.SalesEntry,
        {
            "document": G1,
            "description": "changed",
            "due_date": dt.date(2026, 7, 1),
            "payment_reference": None,
        },
    )
    assert body == {
        "Document": str(G1),
        "Description": "changed",
        "DueDate": "2026-07-01",
        "PaymentReference": None,
    }
    assert update_payload(m.Account, {"country": "be", "sales_vat_code": "21"}) == {
        "Country": "BE ",
        "SalesVATCode": "21 ",
    }
    assert update_payload(m.Receivable, {}) == {}


def test_update_payload_refuses_before_any_request():
    with pytest.raises(ConfigurationError, match="has no field 'colour'"):
        update_payload(m.Account, {"colour": "red"})
    with pytest.raises(ConfigurationError, match="own endpoint"):
        update_payload(m.SalesEntry, {"lines": ()})
    with pytest.raises(ConfigurationError) as info:
        update_payload(m.SalesEntry, {"vat_amount_fc": 0.1})
    assert info.value.key == "SalesEntry.vat_amount_fc"
    with pytest.raises(ConfigurationError):
        update_payload(m.Account, {"extra": {}})
