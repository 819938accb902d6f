"""The fake Exact domain's generic machinery: catalogue, coercion, storage, sync bookkeeping."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest

from exactbridge.testing._exact.domain import ExactDomain, FakeODataError
from exactbridge.testing._exact.rules_common import coerce_value, message, round_cents
from exactbridge.testing._exact.schema import EdmType, EntitySet, Field, SetKind

DIV = 1001
NOW = dt.datetime(2025, 3, 1, 9, 30, tzinfo=dt.timezone.utc)  # 10:30 in Amsterdam (CET)


class Clock:
    def __init__(self, now: dt.datetime = NOW) -> None:
        self.value = now

    def __call__(self) -> dt.datetime:
        return self.value


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def domain(clock: Clock) -> ExactDomain:
    d = ExactDomain(now=clock)
    d.add_division(DIV, description="Gym BV")
    return d


def es(domain: ExactDomain, path: str) -> EntitySet:
    found = domain.entity_set(path)
    assert found is not None, path
    return found


# -- catalogue ---------------------------------------------------------------------------------


EXPECTED_PATHS = {
    "crm/Accounts": ("Accounts", "ID", {"GET", "POST", "PUT", "DELETE"}, SetKind.CRUD),
    "bulk/CRM/Accounts": ("Accounts", "ID", {"GET"}, SetKind.BULK),
    "sync/CRM/Accounts": ("Accounts", "ID", {"GET"}, SetKind.SYNC),
    "crm/BankAccounts": ("BankAccounts", "ID", {"GET", "POST", "PUT", "DELETE"}, SetKind.CRUD),
    "crm/Contacts": ("Contacts", "ID", {"GET", "POST", "PUT", "DELETE"}, SetKind.CRUD),
    "bulk/CRM/Contacts": ("Contacts", "ID", {"GET"}, SetKind.BULK),
    "sync/CRM/Contacts": ("Contacts", "ID", {"GET"}, SetKind.SYNC),
    "salesentry/SalesEntries": (
        "SalesEntries",
        "EntryID",
        {"GET", "POST", "PUT", "DELETE"},
        SetKind.CRUD,
    ),
    "salesentry/SalesEntryLines": (
        "SalesEntryLines",
        "ID",
        {"GET", "POST", "PUT", "DELETE"},
        SetKind.CRUD,
    ),
    "financial/Journals": ("Journals", "ID", {"GET", "POST", "PUT", "DELETE"}, SetKind.CRUD),
    "vat/VATCodes": ("VATCodes", "ID", {"GET", "POST", "PUT", "DELETE"}, SetKind.CRUD),
    "financial/GLAccounts": ("GLAccounts", "ID", {"GET", "POST", "PUT", "DELETE"}, SetKind.CRUD),
    "bulk/Financial/GLAccounts": ("GLAccounts", "ID", {"GET"}, SetKind.BULK),
    "sync/Financial/GLAccounts": ("GLAccounts", "ID", {"GET"}, SetKind.SYNC),
    "financial/FinancialPeriods": ("FinancialPeriods", "ID", {"GET"}, SetKind.CRUD),
    "hrm/Costcenters": ("Costcenters", "ID", {"GET", "POST", "PUT", "DELETE"}, SetKind.CRUD),
    "hrm/Costunits": ("Costunits", "ID", {"GET", "POST", "PUT", "DELETE"}, SetKind.CRUD),
    "documents/Documents": ("Documents", "ID", {"GET", "POST", "PUT", "DELETE"}, SetKind.CRUD),
    "bulk/Documents/Documents": ("Documents", "ID", {"GET"}, SetKind.BULK),
    "sync/Documents/Documents": ("Documents", "ID", {"GET"}, SetKind.SYNC),
    "documents/DocumentAttachments": (
        "DocumentAttachments",
        "ID",
        {"GET", "POST", "DELETE"},
        SetKind.CRUD,
    ),
    "financialtransaction/BankEntries": (
        "BankEntries",
        "EntryID",
        {"GET", "POST", "DELETE"},
        SetKind.CRUD,
    ),
    "financialtransaction/BankEntryLines": (
        "BankEntryLines",
        "ID",
        {"GET", "POST"},
        SetKind.CRUD,
    ),
    "generaljournalentry/GeneralJournalEntries": (
        "GeneralJournalEntries",
        "EntryID",
        {"GET", "POST", "DELETE"},
        SetKind.CRUD,
    ),
    "generaljournalentry/GeneralJournalEntryLines": (
        "GeneralJournalEntryLines",
        "ID",
        {"GET", "POST"},
        SetKind.CRUD,
    ),
    "read/financial/ReceivablesList": ("ReceivablesList", "HID", {"GET"}, SetKind.READ),
    "cashflow/Receivables": ("Receivables", "ID", {"GET", "PUT"}, SetKind.CRUD),
    "bulk/Cashflow/Receivables": ("Receivables", "ID", {"GET"}, SetKind.BULK),
    "cashflow/PaymentConditions": ("PaymentConditions", "ID", {"GET", "POST"}, SetKind.CRUD),
    "cashflow/DirectDebitMandates": (
        "DirectDebitMandates",
        "ID",
        {"GET", "POST", "PUT", "DELETE"},
        SetKind.CRUD,
    ),
    "financialtransaction/Transactions": ("Transactions", "EntryID", {"GET"}, SetKind.CRUD),
    "financialtransaction/TransactionLines": ("TransactionLines", "ID", {"GET"}, SetKind.CRUD),
    "sync/Financial/TransactionLines": ("TransactionLines", "ID", {"GET"}, SetKind.SYNC),
    "system/Divisions": ("Divisions", "Code", {"GET"}, SetKind.CRUD),
    "current/Me": ("Me", "UserID", {"GET"}, SetKind.CRUD),
    "sync/Deleted": ("Deleted", "ID", {"GET"}, SetKind.SYNC),
}


@pytest.mark.parametrize("path", sorted(EXPECTED_PATHS))
def test_catalogue_serves_every_entity_set_of_the_brief(domain: ExactDomain, path: str) -> None:
    table, key, verbs, kind = EXPECTED_PATHS[path]
    entity_set = es(domain, path)
    assert (entity_set.table, entity_set.key, set(entity_set.verbs), entity_set.kind) == (
        table,
        key,
        verbs,
        kind,
    )
    assert entity_set.key in entity_set.fields
    assert entity_set.type_name.startswith("Exact.Web.Api.Models.")


def test_lookup_is_case_insensitive_and_ignores_slashes(domain: ExactDomain) -> None:
    assert domain.entity_set("/CRM/accounts/") is es(domain, "crm/Accounts")
    assert domain.entity_set("crm/Nope") is None


def test_query_rules_per_set(domain: ExactDomain) -> None:
    assert "Code" in (es(domain, "crm/Accounts").mandatory_filter_fields or ())
    assert es(domain, "generaljournalentry/GeneralJournalEntries").requires_select_or_top
    assert es(domain, "cashflow/DirectDebitMandates").requires_select_or_top
    assert not es(domain, "current/Me").division_scoped
    assert es(domain, "bulk/CRM/Accounts").page_size == 1000
    assert es(domain, "crm/Accounts").page_size == 60


def test_timestamp_only_on_sync_sets(domain: ExactDomain) -> None:
    for entity_set in domain.entity_sets():
        if entity_set.kind is SetKind.SYNC:
            assert entity_set.fields["Timestamp"].type is EdmType.INT64
        else:
            assert "Timestamp" not in entity_set.fields, entity_set.path


def test_children_navigation(domain: ExactDomain) -> None:
    assert es(domain, "crm/Accounts").children == {"BankAccounts": "crm/BankAccounts"}
    assert es(domain, "salesentry/SalesEntries").children == {
        "SalesEntryLines": "salesentry/SalesEntryLines"
    }
    assert es(domain, "financialtransaction/Transactions").children == {
        "TransactionLines": "financialtransaction/TransactionLines"
    }


def test_fields_carry_types_required_and_read_only_markers(domain: ExactDomain) -> None:
    sales = es(domain, "salesentry/SalesEntries").fields
    assert sales["Customer"] == Field("Customer", EdmType.GUID, required=True)
    assert sales["Journal"].required
    assert sales["Journal"].post_only
    assert sales["AmountFC"].read_only
    assert not sales["Type"].read_only  # 20 or 21 may be posted
    assert sales["TypeDescription"].read_only
    assert sales["ReportingYear"].type is EdmType.INT16
    lines = es(domain, "salesentry/SalesEntryLines").fields
    assert lines["AmountFC"].type is EdmType.DOUBLE
    assert lines["AmountFC"].required
    assert lines["CostCenter"].type is EdmType.STRING
    gl = es(domain, "financial/GLAccounts").fields
    assert gl["UseCostcenter"].type is EdmType.BYTE
    attachment = es(domain, "documents/DocumentAttachments").fields
    assert attachment["Attachment"].type is EdmType.BINARY
    assert es(domain, "read/financial/ReceivablesList").fields["HID"].type is EdmType.INT64
    assert es(domain, "system/Divisions").fields["Code"].type is EdmType.INT32


# -- coercion ----------------------------------------------------------------------------------


def _field(edm: EdmType) -> Field:
    return Field("X", edm)


@pytest.mark.parametrize(
    ("edm", "raw", "expected"),
    [
        (EdmType.STRING, "abc", "abc"),
        (EdmType.INT32, Decimal("70"), 70),
        (EdmType.INT32, "70", 70),
        (EdmType.INT16, 2025, 2025),
        (EdmType.INT64, "123456789012", 123456789012),
        (EdmType.BYTE, Decimal(1), 1),
        (EdmType.DOUBLE, Decimal("41.98"), Decimal("41.98")),
        (EdmType.DOUBLE, "50.80", Decimal("50.80")),
        (EdmType.DOUBLE, 3, Decimal(3)),
        (EdmType.BOOLEAN, True, True),
        (
            EdmType.GUID,
            "{40D4C49D-1790-4A13-B890-42909AF24348}",
            uuid.UUID("40d4c49d-1790-4a13-b890-42909af24348"),
        ),
        (EdmType.DATETIME, "2024-08-12", dt.datetime(2024, 8, 12)),
        (EdmType.DATETIME, "2024-08-12T00:00:00Z", dt.datetime(2024, 8, 12)),
        (
            EdmType.DATETIME,
            "2024-08-12T14:00:00+02:00",
            dt.datetime(2024, 8, 12, 12),
        ),
        (EdmType.DATETIME, "/Date(1782345600000)/", dt.datetime(2026, 6, 25)),
        (EdmType.BINARY, "JVBERi0=", b"%PDF-"),
        (EdmType.STRING, None, None),
    ],
)
def test_coercion_by_edm_type(edm: EdmType, raw: object, expected: object) -> None:
    assert coerce_value("Exact.Web.Api.Models.T", _field(edm), raw) == expected


@pytest.mark.parametrize(
    ("edm", "raw"),
    [
        (EdmType.STRING, 70),
        (EdmType.INT32, Decimal("1.5")),
        (EdmType.INT32, True),
        (EdmType.INT16, 40000),
        (EdmType.BYTE, -1),
        (EdmType.DOUBLE, "abc"),
        (EdmType.DOUBLE, 1.5),  # floats never enter the money path
        (EdmType.DOUBLE, True),
        (EdmType.BOOLEAN, "true"),
        (EdmType.GUID, "not-a-guid"),
        (EdmType.DATETIME, "12-08-2024"),
        (EdmType.BINARY, "***not base64***"),
    ],
)
def test_wrong_types_are_400_stream_errors(edm: EdmType, raw: object) -> None:
    with pytest.raises(FakeODataError) as caught:
        coerce_value("Exact.Web.Api.Models.T", _field(edm), raw)
    assert caught.value.status == 400
    assert caught.value.message.startswith("Error processing request stream.")
    assert "'X'" in caught.value.message
    assert edm.value in caught.value.message


def test_round_cents_is_half_up() -> None:
    assert round_cents(Decimal("0.125")) == Decimal("0.13")
    assert round_cents(Decimal("-0.125")) == Decimal("-0.13")
    assert round_cents(Decimal("2.1049")) == Decimal("2.10")


def test_messages_in_english_and_dutch() -> None:
    assert message("en", "mandatory", label="Journal") == "Mandatory: Journal"
    assert message("nl", "mandatory", label="Journal") == "Verplicht: Dagboek"
    assert message("nl", "invalid", label="GLAccountType") == "Ongeldig: Grootboekrekeningtype"
    assert message("nl", "invalid_reference", label="Journals") == "Ongeldige referentie: Journals"


# -- generic CRUD ------------------------------------------------------------------------------


def test_create_returns_every_field_with_audit_values(domain: ExactDomain) -> None:
    row = domain.create(DIV, es(domain, "crm/Accounts"), {"Name": "Acme"})
    assert set(row) == set(es(domain, "crm/Accounts").fields)
    assert isinstance(row["ID"], uuid.UUID)
    assert row["Division"] == DIV
    assert row["Created"] == dt.datetime(2025, 3, 1, 10, 30)
    assert row["Modified"] == row["Created"]
    assert row["Creator"] == domain.user_id
    assert row["Email"] is None  # explicit nulls


def test_created_uses_summer_time(domain: ExactDomain, clock: Clock) -> None:
    clock.value = dt.datetime(2026, 6, 25, 14, 31, tzinfo=dt.timezone.utc)
    row = domain.create(DIV, es(domain, "crm/Accounts"), {"Name": "Acme"})
    assert row["Created"] == dt.datetime(2026, 6, 25, 16, 31)


def test_unknown_property_wording(domain: ExactDomain) -> None:
    with pytest.raises(FakeODataError) as caught:
        domain.create(DIV, es(domain, "salesentry/SalesEntries"), {"SalesVatCode": "2"})
    assert caught.value.status == 400
    assert caught.value.message == (
        "Error processing request stream. The property name 'SalesVatCode' specified for type "
        "'Exact.Web.Api.Models.SalesEntry' is not valid."
    )


@pytest.mark.parametrize("body", [[], "x", {"Name": "x", "BankAccounts": {"Foo": 1}}])
def test_badly_shaped_bodies_are_top_level_errors(domain: ExactDomain, body: object) -> None:
    with pytest.raises(FakeODataError) as caught:
        domain.create(DIV, es(domain, "crm/Accounts"), body)  # type: ignore[arg-type]
    assert caught.value.status == 400
    assert caught.value.message == (
        "Error processing request stream. The request should be a valid top-level resource object."
    )


def test_read_only_fields_in_a_body_are_ignored(domain: ExactDomain) -> None:
    row = domain.create(
        DIV,
        es(domain, "crm/Accounts"),
        {"Name": "Acme", "CountryName": "Narnia", "Division": 9, "__metadata": {"type": "x"}},
    )
    assert row["CountryName"] is None
    assert row["Division"] == DIV


def test_get_update_delete_round_trip(domain: ExactDomain, clock: Clock) -> None:
    accounts = es(domain, "crm/Accounts")
    row = domain.create(DIV, accounts, {"Name": "Acme"})
    clock.value = NOW + dt.timedelta(hours=1)
    domain.update(DIV, accounts, row["ID"], {"Name": "Acme BV", "Email": "a@b.nl"})
    fetched = domain.get(DIV, accounts, row["ID"])
    assert (fetched["Name"], fetched["Email"]) == ("Acme BV", "a@b.nl")
    assert fetched["Modified"] == dt.datetime(2025, 3, 1, 11, 30)
    assert fetched["Created"] == row["Created"]
    domain.delete(DIV, accounts, row["ID"])
    with pytest.raises(FakeODataError) as caught:
        domain.get(DIV, accounts, row["ID"])
    assert caught.value.status == 404
    assert caught.value.message == "Resource not found for the segment 'Accounts'."


def test_rows_are_copies(domain: ExactDomain) -> None:
    accounts = es(domain, "crm/Accounts")
    domain.create(DIV, accounts, {"Name": "Acme"})
    domain.rows(DIV, accounts)[0]["Name"] = "changed"
    assert domain.rows(DIV, accounts)[0]["Name"] == "Acme"


def test_verbs_are_enforced_by_the_domain_too(domain: ExactDomain) -> None:
    with pytest.raises(FakeODataError) as caught:
        domain.create(DIV, es(domain, "financial/FinancialPeriods"), {})
    assert caught.value.status == 405
    with pytest.raises(FakeODataError):
        domain.create(DIV, es(domain, "bulk/CRM/Accounts"), {"Name": "x"})


def test_unknown_division_is_refused(domain: ExactDomain) -> None:
    with pytest.raises(FakeODataError) as caught:
        domain.rows(999, es(domain, "crm/Accounts"))
    assert caught.value.status == 403


def test_client_supplied_key_is_kept_and_duplicates_refused(domain: ExactDomain) -> None:
    # SalesEntries take a client-generated EntryID (reference §2.6); here a Documents-like
    # generic table is enough: BankEntries also accept EntryID.
    key = uuid.uuid4()
    from exactbridge.testing._exact.seeds import seed_division

    seeded = seed_division(domain, 2002, customers=["Jan"])
    body = {
        "EntryID": str(key),
        "Customer": str(seeded.customers["Jan"]),
        "Journal": "70",
        "EntryDate": "2025-02-01",
        "SalesEntryLines": [{"GLAccount": str(seeded.gl("8000")), "AmountFC": Decimal(10)}],
    }
    row = domain.create(2002, es(domain, "salesentry/SalesEntries"), body)
    assert row["EntryID"] == key
    with pytest.raises(FakeODataError) as caught:
        domain.create(2002, es(domain, "salesentry/SalesEntries"), body)
    assert caught.value.status == 500
    assert str(key) in caught.value.message


# -- timestamps and sync/Deleted ---------------------------------------------------------------


def test_timestamp_is_one_increasing_counter_per_division(domain: ExactDomain) -> None:
    accounts = es(domain, "crm/Accounts")
    sync = es(domain, "sync/CRM/Accounts")
    first = domain.create(DIV, accounts, {"Name": "A"})
    second = domain.create(DIV, accounts, {"Name": "B"})
    stamps = {r["ID"]: r["Timestamp"] for r in domain.rows(DIV, sync)}
    assert stamps[first["ID"]] > 1  # the usual first filter "Timestamp gt 1L" finds it
    assert stamps[second["ID"]] > stamps[first["ID"]]
    domain.update(DIV, accounts, first["ID"], {"Name": "A2"})
    after = {r["ID"]: r["Timestamp"] for r in domain.rows(DIV, sync)}
    assert after[first["ID"]] > after[second["ID"]]
    assert "Timestamp" not in domain.get(DIV, accounts, first["ID"])


def test_deletions_are_recorded_for_sync_deleted(domain: ExactDomain) -> None:
    accounts = es(domain, "crm/Accounts")
    row = domain.create(DIV, accounts, {"Name": "A"})
    before = max(r["Timestamp"] for r in domain.rows(DIV, es(domain, "sync/CRM/Accounts")))
    domain.delete(DIV, accounts, row["ID"])
    (deleted,) = domain.rows(DIV, es(domain, "sync/Deleted"))
    assert deleted["EntityKey"] == row["ID"]
    assert deleted["EntityType"] == 2
    assert deleted["DeletedBy"] == domain.user_id
    assert deleted["DeletedDate"] == dt.datetime(2025, 3, 1, 10, 30)
    assert deleted["Division"] == DIV
    assert deleted["Timestamp"] > before


def test_failed_write_leaves_no_trace(domain: ExactDomain) -> None:
    from exactbridge.testing._exact.seeds import seed_division

    seeded = seed_division(domain, 2002, customers=["Jan"])
    entries = es(domain, "salesentry/SalesEntries")
    counts = {s.table: len(domain.rows(2002, s)) for s in domain.entity_sets() if s.division_scoped}
    with pytest.raises(FakeODataError):
        domain.create(
            2002,
            entries,
            {
                "Customer": str(seeded.customers["Jan"]),
                "Journal": "70",
                "EntryDate": "2025-02-01",
                # the header is valid; the duplicate header VAT override fails late
                "VATAmountFC": Decimal(5),
                "SalesEntryLines": [
                    {"GLAccount": str(seeded.gl("8020")), "AmountFC": Decimal(10)},
                ],
            },
        )
    after = {s.table: len(domain.rows(2002, s)) for s in domain.entity_sets() if s.division_scoped}
    assert after == counts
    ok = domain.create(
        2002,
        entries,
        {
            "Customer": str(seeded.customers["Jan"]),
            "Journal": "70",
            "EntryDate": "2025-02-01",
            "SalesEntryLines": [{"GLAccount": str(seeded.gl("8020")), "AmountFC": Decimal(10)}],
        },
    )
    assert ok["EntryNumber"] == 25700001  # the failed attempt used no number


# -- divisions and Me --------------------------------------------------------------------------


def test_divisions_and_me(domain: ExactDomain) -> None:
    domain.add_division(2002, description="Club", country="BE")
    assert domain.divisions() == [DIV, 2002]
    assert domain.has_division(2002)
    assert not domain.has_division(3)
    domain.rows(2002, es(domain, "crm/Accounts"))  # use division 2002
    rows = domain.rows(DIV, es(domain, "system/Divisions"))
    by_code = {r["Code"]: r for r in rows}
    assert by_code[2002]["Country"] == "BE "
    assert by_code[2002]["Currency"] == "EUR"
    assert by_code[DIV]["Current"] is True  # listing through DIV made it the last used
    me = domain.current_user()
    assert me["CurrentDivision"] == DIV
    assert me["UserID"] == domain.user_id
    assert me["ServerUtcOffset"] == 3600
    assert domain.rows(DIV, es(domain, "current/Me")) == [me]
    assert domain.get(DIV, es(domain, "system/Divisions"), 2002)["Description"] == "Club"


def test_add_division_rejects_bad_input(domain: ExactDomain) -> None:
    with pytest.raises(ValueError, match="already exists"):
        domain.add_division(DIV)
    with pytest.raises(ValueError, match="country"):
        domain.add_division(5, country="NLD")
    with pytest.raises(ValueError, match="positive"):
        domain.add_division(0)


def test_reset_forgets_everything(domain: ExactDomain) -> None:
    domain.create(DIV, es(domain, "crm/Accounts"), {"Name": "A"})
    domain.reset()
    assert domain.divisions() == []
    assert domain.current_user()["CurrentDivision"] is None


def test_options_are_validated() -> None:
    with pytest.raises(ValueError, match="language"):
        ExactDomain(now=Clock(), language="fr")
    with pytest.raises(ValueError, match="receipt_sign"):
        ExactDomain(now=Clock(), receipt_sign=2)


def test_dutch_messages_option(clock: Clock) -> None:
    d = ExactDomain(now=clock, language="nl")
    d.add_division(DIV)
    with pytest.raises(FakeODataError) as caught:
        d.create(DIV, es(d, "crm/Accounts"), {})
    assert caught.value.message == "Verplicht: Naam"
    assert d.current_user()["LanguageCode"] == "nl-NL"


def test_injectable_id_factory(clock: Clock) -> None:
    ids = iter(uuid.UUID(int=n) for n in range(1, 100))
    d = ExactDomain(now=clock, new_id=lambda: next(ids))
    d.add_division(DIV)
    assert d.create(DIV, es(d, "crm/Accounts"), {"Name": "A"})["ID"] == uuid.UUID(int=1)


def test_docs_page_covers_every_entity_set(domain: ExactDomain) -> None:
    from pathlib import Path

    page = Path(__file__).parents[2] / "docs" / "testing-exact-entities.md"
    text = page.read_text(encoding="utf-8")
    missing = [s.path for s in domain.entity_sets() if f"`{s.path}`" not in text]
    assert missing == []
    for entity_set in domain.entity_sets():
        for field in entity_set.fields:
            if field != "Timestamp":
                assert f"`{field}`" in text, (entity_set.path, field)
