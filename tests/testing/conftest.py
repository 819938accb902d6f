"""Fixtures for the protocol-layer tests of the fake Exact Online.

The protocol tests run against ``TinyDomain``, a small stand-in for the domain layer
that implements the ``ExactDomain`` interface with a handful of entity sets. It keeps
these tests about HTTP, OData and OAuth, independent of the bookkeeping rules (which
the domain layer tests itself); a few tests also run against the real domain.
"""

from __future__ import annotations

import datetime as dt
import decimal
import itertools
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import httpx
import pytest

from exactbridge.testing import FakeClock, FakeExactOnline, FakeODataError
from exactbridge.testing._exact.domain import ExactDomain
from exactbridge.testing._exact.schema import EdmType, EntitySet, Field, SetKind

DIVISION = 123
BASE = "https://start.exactonline.nl"
STREAM_ERROR = (
    "Error processing request stream. The request should be a valid top-level resource object."
)


def _fields(*specs: tuple[str, EdmType] | tuple[str, EdmType, bool]) -> dict[str, Field]:
    out: dict[str, Field] = {}
    for spec in specs:
        name, edm = spec[0], spec[1]
        required = len(spec) > 2 and bool(spec[2])
        out[name] = Field(name, edm, required=required)
    return out


ACCOUNT_FIELDS = _fields(
    ("ID", EdmType.GUID),
    ("Code", EdmType.STRING),
    ("Name", EdmType.STRING, True),
    ("Email", EdmType.STRING),
    ("Status", EdmType.STRING),
    ("CreditLineSales", EdmType.DOUBLE),
    ("Blocked", EdmType.BOOLEAN),
    ("Created", EdmType.DATETIME),
    ("Timestamp", EdmType.INT64),
)

SETS = [
    EntitySet(
        "crm/Accounts",
        "Accounts",
        "ID",
        "Exact.Web.Api.Models.Account",
        ACCOUNT_FIELDS,
        verbs=frozenset({"GET", "POST", "PUT", "DELETE"}),
        children={"BankAccounts": "crm/BankAccounts"},
        mandatory_filter_fields=frozenset({"ID", "Code", "Name", "Email", "AccountManager"}),
    ),
    EntitySet(
        "crm/BankAccounts",
        "BankAccounts",
        "ID",
        "Exact.Web.Api.Models.BankAccount",
        _fields(("ID", EdmType.GUID), ("Account", EdmType.GUID), ("BankAccount", EdmType.STRING)),
        verbs=frozenset({"GET", "POST"}),
    ),
    EntitySet(
        "bulk/CRM/Accounts",
        "Accounts",
        "ID",
        "Exact.Web.Api.Models.Bulk.CRM.Account",
        ACCOUNT_FIELDS,
        kind=SetKind.BULK,
    ),
    EntitySet(
        "sync/CRM/Accounts",
        "Accounts",
        "ID",
        "Exact.Web.Api.Models.Sync.CRM.Account",
        ACCOUNT_FIELDS,
        kind=SetKind.SYNC,
    ),
    EntitySet(
        "crm/Contacts",
        "Contacts",
        "ID",
        "Exact.Web.Api.Models.Contact",
        _fields(
            ("ID", EdmType.GUID), ("Account", EdmType.GUID, True), ("FirstName", EdmType.STRING)
        ),
        verbs=frozenset({"GET", "POST", "PUT", "DELETE"}),
    ),
    EntitySet(
        "salesentry/SalesEntries",
        "SalesEntries",
        "EntryID",
        "Exact.Web.Api.Models.SalesEntry",
        _fields(
            ("EntryID", EdmType.GUID),
            ("EntryNumber", EdmType.INT32),
            ("Customer", EdmType.GUID, True),
            ("Journal", EdmType.STRING, True),
            ("AmountDC", EdmType.DOUBLE),
            ("EntryDate", EdmType.DATETIME),
            ("YourRef", EdmType.STRING),
        ),
        verbs=frozenset({"GET", "POST", "PUT", "DELETE"}),
        children={"SalesEntryLines": "salesentry/SalesEntryLines"},
    ),
    EntitySet(
        "salesentry/SalesEntryLines",
        "SalesEntryLines",
        "ID",
        "Exact.Web.Api.Models.SalesEntryLine",
        _fields(
            ("ID", EdmType.GUID),
            ("EntryID", EdmType.GUID),
            ("AmountFC", EdmType.DOUBLE),
            ("GLAccount", EdmType.GUID),
        ),
        verbs=frozenset({"GET", "POST", "PUT", "DELETE"}),
    ),
    EntitySet(
        "generaljournalentry/GeneralJournalEntries",
        "GeneralJournalEntries",
        "EntryID",
        "Exact.Web.Api.Models.GeneralJournalEntry",
        _fields(("EntryID", EdmType.GUID), ("JournalCode", EdmType.STRING)),
        requires_select_or_top=True,
    ),
    EntitySet(
        "documents/DocumentAttachments",
        "DocumentAttachments",
        "ID",
        "Exact.Web.Api.Models.DocumentAttachment",
        _fields(("ID", EdmType.GUID), ("FileName", EdmType.STRING), ("Attachment", EdmType.BINARY)),
        verbs=frozenset({"GET", "POST"}),
    ),
    EntitySet(
        "system/Divisions",
        "Divisions",
        "Code",
        "Exact.Web.Api.System.Division",
        _fields(("Code", EdmType.INT32), ("Description", EdmType.STRING)),
    ),
    EntitySet(
        "current/Me",
        "Me",
        "UserID",
        "Exact.Web.Api.Models.System.Me",
        _fields(
            ("UserID", EdmType.GUID),
            ("CurrentDivision", EdmType.INT32),
            ("FullName", EdmType.STRING),
        ),
        division_scoped=False,
    ),
]


class TinyDomain(ExactDomain):
    """A minimal in-memory domain: required fields, unknown properties, nothing else."""

    def __init__(self, now: Callable[[], dt.datetime]) -> None:
        self._now = now
        self._tiny_sets = {s.path.lower(): s for s in SETS}
        self.user_id = uuid.UUID("11111111-2222-4333-8444-555555555555")
        self.reset()

    def entity_set(self, path: str) -> EntitySet | None:
        return self._tiny_sets.get(path.lower())

    def entity_sets(self) -> Iterable[EntitySet]:
        return list(self._tiny_sets.values())

    def add_division(self, code: int, *, description: str = "", country: str = "NL") -> None:
        self._tiny_divisions[code] = description or f"Division {code}"

    def has_division(self, code: int) -> bool:
        return code in self._tiny_divisions

    def divisions(self) -> list[int]:
        return sorted(self._tiny_divisions)

    def reset(self) -> None:
        self._tiny_divisions: dict[int, str] = {}
        self._tables: dict[tuple[int, str], dict[Any, dict[str, Any]]] = {}
        self._timestamps = itertools.count(1000)

    def _table(self, division: int, entity_set: EntitySet) -> dict[Any, dict[str, Any]]:
        return self._tables.setdefault((division, entity_set.table), {})

    def rows(self, division: int, entity_set: EntitySet) -> list[dict[str, Any]]:
        if entity_set.table == "Divisions":
            return [{"Code": c, "Description": d} for c, d in sorted(self._tiny_divisions.items())]
        return [dict(row) for row in self._table(division, entity_set).values()]

    def get(self, division: int, entity_set: EntitySet, key: uuid.UUID | int) -> dict[str, Any]:
        for row in self.rows(division, entity_set):
            if row.get(entity_set.key) == key:
                return row
        raise FakeODataError(404, "Record not found.")

    def children(
        self, division: int, entity_set: EntitySet, key: uuid.UUID | int, navigation: str
    ) -> list[dict[str, Any]]:
        child = self._tiny_sets[entity_set.children[navigation].lower()]
        link = "Account" if navigation == "BankAccounts" else entity_set.key
        return [r for r in self.rows(division, child) if r.get(link) == key]

    def _coerce(self, field: Field, value: Any) -> Any:
        if value is None:
            return None
        if field.type is EdmType.GUID:
            return uuid.UUID(str(value))
        if field.type is EdmType.DATETIME:
            return dt.datetime.fromisoformat(str(value).rstrip("Z"))
        if field.type is EdmType.DOUBLE:
            return decimal.Decimal(str(value))
        return value

    def create(
        self, division: int, entity_set: EntitySet, body: Mapping[str, Any]
    ) -> dict[str, Any]:
        lines = body.get("SalesEntryLines") if entity_set.table == "SalesEntries" else None
        unknown = [n for n in body if n not in entity_set.fields and n != "SalesEntryLines"]
        if unknown:
            raise FakeODataError(
                400,
                f"Error processing request stream. The property name '{unknown[0]}' specified "
                f"for type '{entity_set.type_name}' is not valid.",
            )
        missing = [n for n, f in entity_set.fields.items() if f.required and body.get(n) is None]
        if missing:
            raise FakeODataError(500, "\r\n".join(f"Mandatory: {n}" for n in missing))
        row = {name: self._coerce(f, body.get(name)) for name, f in entity_set.fields.items()}
        if row.get(entity_set.key) is None:
            row[entity_set.key] = uuid.uuid4()
        if "Timestamp" in entity_set.fields:
            row["Timestamp"] = next(self._timestamps)
        if "Created" in entity_set.fields:
            row["Created"] = self._now().replace(tzinfo=None) + dt.timedelta(hours=1)
        self._table(division, entity_set)[row[entity_set.key]] = row
        for line in lines or []:
            self.create(
                division,
                self._tiny_sets["salesentry/salesentrylines"],
                {**line, "EntryID": str(row[entity_set.key])},
            )
        return dict(row)

    def update(
        self, division: int, entity_set: EntitySet, key: uuid.UUID | int, body: Mapping[str, Any]
    ) -> None:
        row = self._table(division, entity_set).get(key)
        if row is None:
            raise FakeODataError(404, "Record not found.")
        for name, value in body.items():
            if name not in entity_set.fields:
                raise FakeODataError(400, f"Error processing request stream. Bad property {name}")
            row[name] = self._coerce(entity_set.fields[name], value)

    def delete(self, division: int, entity_set: EntitySet, key: uuid.UUID | int) -> None:
        if self._table(division, entity_set).pop(key, None) is None:
            raise FakeODataError(404, "Record not found.")

    def current_user(self) -> dict[str, Any]:
        return {
            "UserID": self.user_id,
            "CurrentDivision": min(self._tiny_divisions) if self._tiny_divisions else None,
            "FullName": "Fake User",
        }


@pytest.fixture
def proto_clock() -> FakeClock:
    return FakeClock(dt.datetime(2026, 3, 2, 9, 0, 30, tzinfo=dt.timezone.utc))


@pytest.fixture
def proto_fake(proto_clock: FakeClock) -> FakeExactOnline:
    fake = FakeExactOnline(clock=proto_clock, domain=TinyDomain(proto_clock.now))
    fake.add_division(DIVISION, template=None)
    return fake


@pytest.fixture
def proto_http(proto_fake: FakeExactOnline) -> Iterator[httpx.Client]:
    grant = proto_fake.issue_tokens()
    with httpx.Client(
        transport=proto_fake.transport(),
        base_url=BASE,
        headers={
            "Authorization": f"Bearer {grant.access_token}",
            "Accept": "application/json",
        },
    ) as client:
        yield client


@pytest.fixture
def add_accounts(proto_fake: FakeExactOnline) -> Callable[[int], list[dict[str, Any]]]:
    """Create ``count`` accounts ("Customer 0001"...) in the test division, in the domain."""

    def add(count: int, division: int = DIVISION) -> list[dict[str, Any]]:
        accounts = proto_fake.domain.entity_set("crm/Accounts")
        assert accounts is not None
        return [
            proto_fake.domain.create(
                division, accounts, {"Name": f"Customer {i:04d}", "Code": f"{i:>18}"}
            )
            for i in range(1, count + 1)
        ]

    return add
