"""Reads of the fake Exact Online that scale with what they return, not the table.

The fake filters, orders and pages the stored rows in place and copies only the rows it
answers with; equality filters on indexed natural keys read one index bucket. These
tests pin the results to the plain definitions (sort everything, then slice), count the
rows that are copied or lent instead of timing anything, and check that no caller can
reach the fake's own rows.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exactbridge.testing import FakeExactOnline, FakeODataError
from exactbridge.testing._exact import domain as domain_module
from exactbridge.testing._exact.domain import ExactDomain
from exactbridge.testing._exact.odata import first_after, select_page, sort_rows
from exactbridge.testing._exact.schema import EntitySet
from exactbridge.testing._exact.seeds import SeededDivision, seed_division

DIV = 1001
NOW = dt.datetime(2025, 3, 1, 9, 30, tzinfo=dt.timezone.utc)
BASE = "https://start.exactonline.nl"


# -- select_page against its definition -----------------------------------------------------


def _reference(
    rows: list[dict[str, Any]],
    order: list[tuple[str, bool]],
    after: list[Any] | None,
    skip: int,
    limit: int,
) -> tuple[list[dict[str, Any]], int]:
    """Sort everything, drop up to the skiptoken, skip, take: what a page is by definition."""
    ordered = sort_rows(rows, order)
    if after is not None:
        ordered = ordered[first_after(ordered, order, after) :]
    rest = ordered[skip:]
    return rest[:limit], len(rest)


_ROW = st.fixed_dictionaries(
    {
        "A": st.none() | st.integers(0, 3),
        "B": st.none() | st.sampled_from(["x", "y", "z"]),
        "D": st.none() | st.sampled_from([dt.datetime(2025, 1, d) for d in (1, 2, 3)]),
    }
)


@settings(max_examples=80, deadline=None)
@given(
    raw=st.lists(_ROW, max_size=14),
    order=st.lists(
        st.tuples(st.sampled_from(["A", "B", "D"]), st.booleans()),
        min_size=1,
        max_size=3,
        unique_by=lambda item: item[0],
    ),
    with_key=st.booleans(),
    key_descending=st.booleans(),
    token_from=st.none() | st.integers(0, 20),
    skip=st.integers(0, 4),
    limit=st.integers(0, 6),
)
def test_select_page_matches_sorting_everything(
    raw: list[dict[str, Any]],
    order: list[tuple[str, bool]],
    with_key: bool,
    key_descending: bool,
    token_from: int | None,
    skip: int,
    limit: int,
) -> None:
    rows = [{**row, "K": uuid.UUID(int=(index * 7919) % 101)} for index, row in enumerate(raw)]
    full_order = [*order, ("K", key_descending)] if with_key else order
    after = None
    if token_from is not None and rows:
        # skiptokens are the sort values of a row that was served
        source = rows[token_from % len(rows)]
        after = [source.get(name) for name, _ in full_order]
    expected = _reference(rows, full_order, after, skip, limit)
    page, left = select_page(rows, full_order, after=after, skip=skip, limit=limit)
    # identity, not equality: ties must come out in the same (stable) order
    assert [id(row) for row in page] == [id(row) for row in expected[0]]
    assert left == expected[1]


def test_select_page_descending_keeps_ties_in_row_order() -> None:
    rows = [{"A": 1, "n": 0}, {"A": 2, "n": 1}, {"A": 1, "n": 2}, {"A": 2, "n": 3}]
    page, left = select_page(rows, [("A", True)], limit=3)
    assert [row["n"] for row in page] == [1, 3, 0]
    assert left == 4


# -- fixtures -------------------------------------------------------------------------------


@pytest.fixture
def domain() -> ExactDomain:
    return ExactDomain(now=lambda: NOW)


@pytest.fixture
def seeded(domain: ExactDomain) -> SeededDivision:
    return seed_division(domain, DIV, customers=["Jan Jansen", "Piet Pieters"])


def es(domain: ExactDomain, path: str) -> EntitySet:
    found = domain.entity_set(path)
    assert found is not None
    return found


def sale(seeded: SeededDivision, your_ref: str, *amounts: str) -> dict[str, Any]:
    return {
        "Customer": str(seeded.customers["Jan Jansen"]),
        "Journal": "70",
        "EntryDate": "2025-02-12",
        "YourRef": your_ref,
        "SalesEntryLines": [
            {"GLAccount": str(seeded.gl("8000")), "AmountFC": Decimal(amount), "VATCode": "2"}
            for amount in amounts or ("100.00",)
        ],
    }


def post_sales(domain: ExactDomain, body: dict[str, Any]) -> dict[str, Any]:
    return domain.create(DIV, es(domain, "salesentry/SalesEntries"), body)


class Lent:
    """A ``choose`` for ``pick_rows`` that records how many rows it was lent."""

    def __init__(self) -> None:
        self.lent: list[int] = []

    def __call__(self, rows: Sequence[Mapping[str, Any]]) -> Sequence[Mapping[str, Any]]:
        self.lent.append(len(rows))
        return rows


@pytest.fixture
def fake() -> FakeExactOnline:
    fake = FakeExactOnline(minutely_limit=10**6, daily_limit=10**6)
    fake.add_division(123, template="nl")
    return fake


@pytest.fixture
def http(fake: FakeExactOnline) -> Iterator[httpx.Client]:
    grant = fake.issue_tokens()
    with httpx.Client(
        transport=fake.transport(),
        base_url=BASE,
        headers={"Authorization": f"Bearer {grant.access_token}", "Accept": "application/json"},
    ) as client:
        yield client


def get_json(http: httpx.Client, url: str, **params: str) -> Any:
    response = http.get(url, params=params)
    assert response.status_code == 200, response.text
    return json.loads(response.text, parse_float=Decimal)["d"]


def add_accounts(fake: FakeExactOnline, count: int) -> list[dict[str, Any]]:
    accounts = es(fake.domain, "crm/Accounts")
    return [
        fake.domain.create(123, accounts, {"Name": f"Customer {index:04d}", "Status": "C"})
        for index in range(count)
    ]


@pytest.fixture
def copies(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the rows the domain copies out (one entry per copied row)."""
    counted: list[int] = []
    original = domain_module._project

    def counting(row: Mapping[str, Any], entity_set: EntitySet) -> dict[str, Any]:
        counted.append(1)
        return original(row, entity_set)

    monkeypatch.setattr(domain_module, "_project", counting)
    return counted


# -- no references to the fake's own rows ---------------------------------------------------


def test_returned_rows_are_copies_everywhere(domain: ExactDomain, seeded: SeededDivision) -> None:
    entries = es(domain, "salesentry/SalesEntries")
    accounts = es(domain, "crm/Accounts")
    created = post_sales(domain, sale(seeded, "INV-1", "10.00", "20.00"))
    key = created["EntryID"]
    created["YourRef"] = "changed by create's caller"
    domain.get(DIV, entries, key)["YourRef"] = "changed by get's caller"
    domain.rows(DIV, entries)[0]["YourRef"] = "changed by rows' caller"
    (picked,) = domain.pick_rows(DIV, entries, lambda rows: rows)
    picked["YourRef"] = "changed by pick_rows' caller"
    lines = domain.children(DIV, entries, key, "SalesEntryLines")
    lines[0]["AmountFC"] = Decimal("999")
    account = domain.get(DIV, accounts, seeded.customers["Jan Jansen"])
    account["Name"] = "changed"

    assert domain.get(DIV, entries, key)["YourRef"] == "INV-1"
    assert [row["YourRef"] for row in domain.pick_rows(DIV, entries, lambda rows: rows)] == [
        "INV-1"
    ]
    amounts = [row["AmountFC"] for row in domain.children(DIV, entries, key, "SalesEntryLines")]
    assert amounts == [Decimal("10.00"), Decimal("20.00")]
    assert domain.get(DIV, accounts, seeded.customers["Jan Jansen"])["Name"] == "Jan Jansen"


def test_picked_rows_hold_exactly_the_sets_fields(
    domain: ExactDomain, seeded: SeededDivision
) -> None:
    post_sales(domain, sale(seeded, "INV-1"))
    for path in ("salesentry/SalesEntries", "read/financial/ReceivablesList", "crm/Accounts"):
        entity_set = es(domain, path)
        picked = domain.pick_rows(DIV, entity_set, lambda rows: rows)
        assert picked == domain.rows(DIV, entity_set)
        assert all(set(row) == set(entity_set.fields) for row in picked)


def test_computed_sets_are_served_fresh(domain: ExactDomain, seeded: SeededDivision) -> None:
    divisions = es(domain, "system/Divisions")
    me = es(domain, "current/Me")
    (division,) = domain.pick_rows(DIV, divisions, lambda rows: rows)
    division["Description"] = "changed"
    assert domain.get(DIV, divisions, DIV)["Description"] != "changed"
    assert domain.get(DIV, divisions, DIV)["Current"] is True
    user = domain.get(DIV, me, domain.user_id)
    assert user["CurrentDivision"] == DIV
    assert [row["UserID"] for row in domain.rows(DIV, me)] == [domain.user_id]


def test_receivables_list_by_key(domain: ExactDomain, seeded: SeededDivision) -> None:
    post_sales(domain, sale(seeded, "INV-1"))
    second = post_sales(domain, sale(seeded, "INV-2"))
    receivables = es(domain, "read/financial/ReceivablesList")
    listed = {row["YourRef"]: row for row in domain.rows(DIV, receivables)}
    assert set(listed) == {"INV-1", "INV-2"}
    for row in listed.values():
        assert domain.get(DIV, receivables, row["HID"]) == row
    domain.delete(DIV, es(domain, "salesentry/SalesEntries"), second["EntryID"])
    with pytest.raises(FakeODataError) as caught:
        domain.get(DIV, receivables, listed["INV-2"]["HID"])
    assert caught.value.status == 404


# -- equality filters read index buckets ------------------------------------------------------


def test_pick_rows_narrows_by_an_indexed_natural_key(
    domain: ExactDomain, seeded: SeededDivision
) -> None:
    entries = es(domain, "salesentry/SalesEntries")
    for index in range(12):
        post_sales(domain, sale(seeded, f"INV-{index}"))
    lent = Lent()
    (found,) = domain.pick_rows(DIV, entries, lent, equal={"Journal": "70", "YourRef": "INV-7"})
    assert found["YourRef"] == "INV-7"
    assert domain.pick_rows(DIV, entries, lent, equal={"YourRef": "nothing"}) == []
    # Journal has no index: only the bucket of YourRef is lent; no hint lends every row
    domain.pick_rows(DIV, entries, lent, equal={"Journal": "70"})
    domain.pick_rows(DIV, entries, lent)
    assert lent.lent == [1, 0, 12, 12]


def test_index_follows_updates_deletes_and_refused_posts(
    domain: ExactDomain, seeded: SeededDivision
) -> None:
    entries = es(domain, "salesentry/SalesEntries")

    def refs(value: str) -> list[str]:
        def matching(rows: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
            return [row for row in rows if row.get("YourRef") == value]

        picked = domain.pick_rows(DIV, entries, matching, equal={"YourRef": value})
        return [row["YourRef"] for row in picked]

    entry = post_sales(domain, sale(seeded, "INV-1"))
    domain.update(DIV, entries, entry["EntryID"], {"YourRef": "INV-1b"})
    assert (refs("INV-1"), refs("INV-1b")) == ([], ["INV-1b"])
    broken = sale(seeded, "INV-9")
    broken["SalesEntryLines"][0]["GLAccount"] = str(uuid.UUID(int=1))  # unknown GL account
    with pytest.raises(FakeODataError):
        post_sales(domain, broken)
    assert refs("INV-9") == []
    domain.delete(DIV, entries, entry["EntryID"])
    assert refs("INV-1b") == []


def test_yourref_filter_over_http_reads_one_bucket(
    fake: FakeExactOnline, http: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    domain = fake.domain
    accounts = add_accounts(fake, 3)
    gl = get_json(
        http,
        "/api/v1/123/financial/GLAccounts",
        **{"$filter": "trim(Code) eq '8000'", "$select": "ID"},
    )["results"][0]["ID"]
    entries = es(domain, "salesentry/SalesEntries")
    for index in range(15):
        domain.create(
            123,
            entries,
            {
                "Customer": str(accounts[index % 3]["ID"]),
                "Journal": "70",
                "EntryDate": "2025-02-12",
                "YourRef": f"INV-{index:02d}",
                "SalesEntryLines": [{"GLAccount": gl, "AmountFC": Decimal("10"), "VATCode": "2"}],
            },
        )
    lent: list[int] = []
    original = ExactDomain.pick_rows

    def recording(
        self: ExactDomain,
        division: int,
        entity_set: EntitySet,
        choose: Any,
        *,
        equal: Mapping[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        def wrapped(rows: Sequence[Mapping[str, Any]]) -> Any:
            lent.append(len(rows))
            return choose(rows)

        return original(self, division, entity_set, wrapped, equal=equal)

    monkeypatch.setattr(ExactDomain, "pick_rows", recording)
    found = get_json(
        http,
        "/api/v1/123/salesentry/SalesEntries",
        **{"$filter": "Journal eq '70' and YourRef eq 'INV-04'", "$select": "YourRef"},
    )
    assert [row["YourRef"] for row in found["results"]] == ["INV-04"]
    code = accounts[1]["Code"]
    by_code = get_json(
        http, "/api/v1/123/crm/Accounts", **{"$filter": f"Code eq '{code}'", "$select": "Name"}
    )
    assert [row["Name"] for row in by_code["results"]] == ["Customer 0001"]
    count = http.get(
        "/api/v1/123/salesentry/SalesEntries/$count",
        params={"$filter": "YourRef eq 'INV-04' or YourRef eq 'INV-05'"},
    )
    assert count.text == "2"
    # one bucket each for the indexed filters; an `or` cannot use an index
    assert lent == [1, 1, 15]


# -- pages copy only what they return ---------------------------------------------------------


def test_a_page_copies_only_its_rows_and_count_copies_none(
    fake: FakeExactOnline, http: httpx.Client, copies: list[int]
) -> None:
    add_accounts(fake, 150)
    every = len(fake.domain.rows(123, es(fake.domain, "crm/Accounts")))
    copies.clear()
    page = get_json(
        http, "/api/v1/123/crm/Accounts", **{"$filter": "Name ne null", "$select": "ID"}
    )
    assert (len(page["results"]), len(copies)) == (60, 60)
    copies.clear()
    counted = http.get("/api/v1/123/crm/Accounts/$count", params={"$filter": "Status eq 'C'"})
    plain = http.get("/api/v1/123/crm/Accounts/$count")
    assert (counted.text, plain.text, copies) == ("150", str(every), [])


def _walk(http: httpx.Client, url: str, params: dict[str, str]) -> tuple[list[str], int]:
    names: list[str] = []
    requests = 0
    body = get_json(http, url, **params)
    while True:
        requests += 1
        names += [row["Name"] for row in body["results"]]
        link = body.get("__next")
        if not link:
            return names, requests
        response = http.get(link)
        assert response.status_code == 200, response.text
        body = json.loads(response.text, parse_float=Decimal)["d"]


@pytest.mark.parametrize(
    ("orderby", "expected_order"),
    [
        (None, lambda row: row["ID"].int),
        ("Name desc", lambda row: tuple(-ord(c) for c in row["Name"])),
        ("Status,Name desc", lambda row: tuple(-ord(c) for c in row["Name"])),
    ],
)
def test_walking_every_page_serves_each_row_once_in_order(
    fake: FakeExactOnline, http: httpx.Client, orderby: str | None, expected_order: Any
) -> None:
    created = add_accounts(fake, 130)
    params = {"$filter": "startswith(Name, 'Customer')", "$select": "ID,Name"}
    if orderby:
        params["$orderby"] = orderby
    params["$inlinecount"] = "allpages"
    first = get_json(http, "/api/v1/123/crm/Accounts", **params)
    assert first["__count"] == "130"
    names, requests = _walk(http, "/api/v1/123/crm/Accounts", params)
    assert requests == 3
    assert names == [row["Name"] for row in sorted(created, key=expected_order)]


def test_top_and_skip_over_a_walk(fake: FakeExactOnline, http: httpx.Client) -> None:
    created = add_accounts(fake, 100)
    params = {
        "$filter": "Name ne null",
        "$select": "Name",
        "$orderby": "Name desc",
        "$skip": "5",
        "$top": "70",
        "$inlinecount": "allpages",
    }
    names, requests = _walk(http, "/api/v1/123/crm/Accounts", params)
    expected = sorted((row["Name"] for row in created), reverse=True)[5:75]
    assert (names, requests) == (expected, 2)


def test_a_skiptoken_of_the_wrong_type_is_a_400(fake: FakeExactOnline, http: httpx.Client) -> None:
    add_accounts(fake, 2)
    response = http.get(
        "/api/v1/123/crm/Accounts",
        params={"$filter": "Name ne null", "$select": "Name", "$skiptoken": "5"},
    )
    assert response.status_code == 400
    assert "$skiptoken '5' is not valid" in response.text


def test_line_order_survives_an_update_of_a_line(fake: FakeExactOnline, http: httpx.Client) -> None:
    domain = fake.domain
    seeded = seed_division(domain, DIV, customers=["Jan Jansen"])
    entries = es(domain, "salesentry/SalesEntries")
    lines_set = es(domain, "salesentry/SalesEntryLines")
    entry = domain.create(DIV, entries, sale(seeded, "INV-1", "1.00", "2.00", "3.00"))
    key = entry["EntryID"]
    first = domain.children(DIV, entries, key, "SalesEntryLines")[0]
    domain.update(DIV, lines_set, first["ID"], {"AmountFC": Decimal("1.50")})
    lines = domain.children(DIV, entries, key, "SalesEntryLines")
    assert [(row["LineNumber"], row["AmountFC"]) for row in lines] == [
        (1, Decimal("1.50")),
        (2, Decimal("2.00")),
        (3, Decimal("3.00")),
    ]
    expanded = get_json(
        http,
        f"/api/v1/{DIV}/salesentry/SalesEntries(guid'{key}')",
        **{"$expand": "SalesEntryLines"},
    )
    assert [row["LineNumber"] for row in expanded["SalesEntryLines"]["results"]] == [1, 2, 3]


def test_stand_in_domains_are_read_through_their_rows(proto_fake: FakeExactOnline) -> None:
    accounts = es(proto_fake.domain, "crm/Accounts")
    proto_fake.domain.create(123, accounts, {"Name": "Acme"})
    (picked,) = proto_fake.domain.pick_rows(123, accounts, lambda rows: rows)
    picked["Name"] = "changed"
    assert [row["Name"] for row in proto_fake.domain.rows(123, accounts)] == ["Acme"]
