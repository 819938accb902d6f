"""Envelopes, paging and writes of the fake Exact Online, over HTTP (reference §2.2-2.6)."""

from __future__ import annotations

import base64
import decimal
import json
import urllib.parse
import uuid

import httpx
import pytest

from exactbridge.testing import FakeExactOnline

BASE = "https://start.exactonline.nl"
ACCOUNTS = "/api/v1/123/crm/Accounts"
NAME_FILTER = "startswith(Name,'Customer')"
STREAM_ERROR = (
    "Error processing request stream. The request should be a valid top-level resource object."
)


def body_of(response: httpx.Response):
    return json.loads(response.text, parse_float=decimal.Decimal)


def next_query(url: str) -> dict[str, str]:
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))


def test_pages_of_60_with_absolute_next_and_guid_skiptoken(proto_http, add_accounts):
    created = add_accounts(130)
    first = proto_http.get(ACCOUNTS, params={"$filter": NAME_FILTER, "$select": "ID,Name"})
    assert first.status_code == 200
    page = body_of(first)["d"]
    assert len(page["results"]) == 60
    assert page["__next"].startswith(BASE + ACCOUNTS + "?")
    query = next_query(page["__next"])
    assert query["$filter"] == NAME_FILTER
    assert query["$select"] == "ID,Name"
    assert query["$skiptoken"] == f"guid'{page['results'][-1]['ID']}'"
    assert "$top" not in query
    seen = [row["ID"] for row in page["results"]]
    url = page["__next"]
    while url:
        page = body_of(proto_http.get(url))["d"]
        seen += [row["ID"] for row in page["results"]]
        url = page.get("__next")
    assert sorted(seen) == sorted(str(row["ID"]) for row in created)
    assert len(seen) == len(set(seen)) == 130


def test_top_larger_than_a_page_carries_the_remaining_top(proto_http, add_accounts):
    add_accounts(130)
    page = body_of(proto_http.get(ACCOUNTS, params={"$filter": NAME_FILTER, "$top": "100"}))["d"]
    assert len(page["results"]) == 60
    assert next_query(page["__next"])["$top"] == "40"
    assert "$top=40&$skiptoken=guid'" in page["__next"]
    last = body_of(proto_http.get(page["__next"]))["d"]
    assert len(last["results"]) == 40
    assert "__next" not in last


def test_bulk_and_sync_pages_hold_1000_rows(proto_http, add_accounts):
    add_accounts(1001)
    bulk = body_of(proto_http.get("/api/v1/123/bulk/CRM/Accounts", params={"$select": "ID"}))["d"]
    assert len(bulk["results"]) == 1000
    assert "__next" in bulk
    sync = body_of(
        proto_http.get("/api/v1/123/sync/CRM/Accounts", params={"$filter": "Timestamp gt 1L"})
    )["d"]
    assert len(sync["results"]) == 1000
    token = next_query(sync["__next"])["$skiptoken"]
    assert token.endswith("L," + f"guid'{sync['results'][-1]['ID']}'")  # Timestamp order
    rest = body_of(proto_http.get(sync["__next"]))["d"]
    assert len(rest["results"]) == 1


def test_small_top_gives_a_bare_list(proto_http, add_accounts):
    add_accounts(5)
    bare = body_of(proto_http.get(ACCOUNTS, params={"$filter": NAME_FILTER, "$top": "60"}))
    assert isinstance(bare["d"], list)
    assert len(bare["d"]) == 5
    counted = body_of(
        proto_http.get(
            ACCOUNTS, params={"$filter": NAME_FILTER, "$top": "2", "$inlinecount": "allpages"}
        )
    )
    assert counted["d"]["__count"] == "5"
    assert len(counted["d"]["results"]) == 2
    wide = body_of(proto_http.get(ACCOUNTS, params={"$filter": NAME_FILTER, "$top": "61"}))
    assert isinstance(wide["d"]["results"], list)


def test_bare_list_can_be_switched_off(proto_http, add_accounts, proto_fake):
    add_accounts(2)
    proto_fake.bare_list_for_small_top = False
    body = body_of(proto_http.get(ACCOUNTS, params={"$filter": NAME_FILTER, "$top": "1"}))
    assert len(body["d"]["results"]) == 1


def test_entities_carry_metadata_and_deferred_children(proto_http, add_accounts):
    (account,) = add_accounts(1)
    key = account["ID"]
    response = proto_http.get(f"{ACCOUNTS}(guid'{key}')")
    assert response.status_code == 200
    entity = body_of(response)["d"]
    uri = f"{BASE}{ACCOUNTS}(guid'{key}')"
    assert entity["__metadata"] == {"uri": uri, "type": "Exact.Web.Api.Models.Account"}
    assert entity["BankAccounts"] == {"__deferred": {"uri": uri + "/BankAccounts"}}
    assert entity["ID"] == str(key)
    assert entity["Code"] == "                 1"
    assert entity["Email"] is None
    assert entity["Created"].startswith("/Date(")


def test_expand_inlines_children_and_navigation_get_lists_them(proto_http, proto_fake):
    created = proto_http.post(
        "/api/v1/123/salesentry/SalesEntries",
        json={
            "Customer": str(uuid.uuid4()),
            "Journal": "70",
            "SalesEntryLines": [{"AmountFC": 100.10}, {"AmountFC": "21.02"}],
        },
    )
    assert created.status_code == 201
    key = body_of(created)["d"]["EntryID"]
    path = f"/api/v1/123/salesentry/SalesEntries(guid'{key}')"
    expanded = body_of(proto_http.get(path, params={"$expand": "SalesEntryLines"}))["d"]
    amounts = sorted(line["AmountFC"] for line in expanded["SalesEntryLines"]["results"])
    assert amounts == [decimal.Decimal("21.02"), decimal.Decimal("100.10")]
    line = expanded["SalesEntryLines"]["results"][0]
    assert line["__metadata"]["type"] == "Exact.Web.Api.Models.SalesEntryLine"
    navigated = body_of(proto_http.get(path + "/SalesEntryLines"))["d"]
    assert len(navigated["results"]) == 2
    missing = proto_http.get(
        f"/api/v1/123/salesentry/SalesEntries(guid'{uuid.uuid4()}')/SalesEntryLines"
    )
    assert missing.status_code == 404


def test_count_segment_is_a_plain_number(proto_http, add_accounts):
    add_accounts(7)
    response = proto_http.get(ACCOUNTS + "/$count")
    assert response.status_code == 200
    assert response.text == "7"
    assert response.headers["Content-Type"].startswith("text/plain")


def test_get_by_int_key_and_bad_keys(proto_http):
    assert proto_http.get("/api/v1/123/system/Divisions(123)").status_code == 200
    assert proto_http.get("/api/v1/123/system/Divisions(guid'x')").status_code == 400
    assert proto_http.get(f"{ACCOUNTS}(42)").status_code == 400
    assert proto_http.get(f"{ACCOUNTS}(guid'{uuid.uuid4()}')").status_code == 404


def test_post_returns_201_and_full_entity_with_prefer(proto_http):
    response = proto_http.post(
        ACCOUNTS,
        content=b'{"Name": "Acme", "Email": "a@example.org", "CreditLineSales": 1500.50}',
        headers={"Prefer": "return=representation", "Content-Type": "application/json"},
    )
    assert response.status_code == 201
    entity = body_of(response)["d"]
    assert entity["Name"] == "Acme"
    assert entity["CreditLineSales"] == decimal.Decimal("1500.50")
    assert '"CreditLineSales":1500.50' in response.text
    assert response.headers["Location"] == entity["__metadata"]["uri"]
    assert "X-RateLimit-Remaining" in response.headers


def test_post_without_prefer_returns_key_only_for_accounts_and_contacts(proto_http):
    entity = body_of(proto_http.post(ACCOUNTS, json={"Name": "Acme"}))["d"]
    assert entity["ID"]
    assert entity["Name"] is None
    assert entity["BankAccounts"]["__deferred"]["uri"].endswith("/BankAccounts")
    full = body_of(
        proto_http.post(
            "/api/v1/123/documents/DocumentAttachments",
            json={"FileName": "a.pdf", "Attachment": base64.b64encode(b"%PDF").decode()},
        )
    )["d"]
    assert full["FileName"] == "a.pdf"


def test_post_status_200_is_configurable(proto_http, proto_fake: FakeExactOnline):
    proto_fake.post_status = 200
    response = proto_http.post(ACCOUNTS, json={"Name": "Acme"})
    assert response.status_code == 200
    assert "Location" not in response.headers


def test_put_and_delete_answer_204_with_an_empty_body(proto_http, add_accounts, proto_fake):
    (account,) = add_accounts(1)
    path = f"{ACCOUNTS}(guid'{account['ID']}')"
    put = proto_http.put(path, json={"Email": "new@example.org"})
    assert put.status_code == 204
    assert put.content == b""
    assert body_of(proto_http.get(path))["d"]["Email"] == "new@example.org"
    delete = proto_http.delete(path)
    assert delete.status_code == 204
    assert delete.content == b""
    assert proto_http.get(path).status_code == 404


@pytest.mark.parametrize("content", [b"[]", b'"text"', b"not json", b""])
def test_bodies_that_are_not_objects_are_400_stream_errors(proto_http, content):
    response = proto_http.post(
        ACCOUNTS, content=content, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert body_of(response) == {
        "error": {"code": "", "message": {"lang": "", "value": STREAM_ERROR}}
    }


def test_domain_errors_keep_status_and_crlf_joined_messages(proto_http):
    response = proto_http.post("/api/v1/123/salesentry/SalesEntries", json={"YourRef": "x"})
    assert response.status_code == 500
    assert body_of(response)["error"]["message"]["value"] == (
        "Mandatory: Customer\r\nMandatory: Journal"
    )
    unknown = proto_http.post(ACCOUNTS, json={"Name": "x", "SalesVatCode": "2"})
    assert unknown.status_code == 400
    assert "SalesVatCode" in body_of(unknown)["error"]["message"]["value"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("DELETE", "/api/v1/123/system/Divisions(123)"),
        ("POST", "/api/v1/123/bulk/CRM/Accounts"),
        ("PUT", ACCOUNTS),
        ("POST", f"{ACCOUNTS}(guid'{uuid.UUID(int=1)}')"),
    ],
)
def test_unsupported_methods_are_405(proto_http, method, path):
    response = proto_http.request(method, path, json={})
    assert response.status_code == 405
    assert "error" in body_of(response)


@pytest.mark.asyncio
async def test_async_paging_follows_next(proto_fake: FakeExactOnline, add_accounts):
    add_accounts(61)
    grant = proto_fake.issue_tokens()
    async with httpx.AsyncClient(
        transport=proto_fake.async_transport(),
        base_url=BASE,
        headers={"Authorization": f"Bearer {grant.access_token}"},
    ) as client:
        first = body_of(await client.get(ACCOUNTS, params={"$filter": NAME_FILTER}))["d"]
        second = body_of(await client.get(first["__next"]))["d"]
    assert (len(first["results"]), len(second["results"])) == (60, 1)
