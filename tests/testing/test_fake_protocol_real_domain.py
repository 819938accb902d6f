"""The protocol layer on top of the real domain layer (default FakeExactOnline)."""

from __future__ import annotations

import json

import httpx
import pytest

from exactbridge.testing import FakeExactOnline

BASE = "https://start.exactonline.nl"


@pytest.fixture
def real() -> FakeExactOnline:
    fake = FakeExactOnline()
    fake.add_division(123, template="nl")
    return fake


@pytest.fixture
def real_http(real: FakeExactOnline):
    grant = real.issue_tokens()
    with httpx.Client(
        transport=real.transport(),
        base_url=BASE,
        headers={"Authorization": f"Bearer {grant.access_token}", "Accept": "application/json"},
    ) as client:
        yield client


def test_me_reports_the_division(real_http):
    body = json.loads(real_http.get("/api/v1/current/Me").text)
    (me,) = body["d"]["results"]
    assert me["CurrentDivision"] == 123
    assert me["__metadata"]["type"] == "Exact.Web.Api.Models.System.Me"


def test_divisions_list(real_http):
    body = json.loads(real_http.get("/api/v1/123/system/Divisions").text)
    assert [row["Code"] for row in body["d"]["results"]] == [123]


def test_account_round_trip(real_http):
    created = real_http.post("/api/v1/123/crm/Accounts", json={"Name": "Acme BV", "Status": "C"})
    assert created.status_code == 201
    entity = json.loads(created.text)["d"]
    assert entity["Name"] is None  # no Prefer header: key only
    key = entity["ID"]
    fetched = json.loads(real_http.get(f"/api/v1/123/crm/Accounts(guid'{key}')").text)["d"]
    assert fetched["Name"] == "Acme BV"
    assert fetched["__metadata"]["type"] == "Exact.Web.Api.Models.Account"
    listed = real_http.get("/api/v1/123/crm/Accounts", params={"$filter": "Name eq 'Acme BV'"})
    assert listed.status_code == 200
    assert [row["ID"] for row in json.loads(listed.text)["d"]["results"]] == [key]
    refused = real_http.get("/api/v1/123/crm/Accounts")
    assert refused.status_code == 400
    assert "mandatory filtering" in json.loads(refused.text)["error"]["message"]["value"]


def test_unknown_property_is_a_400_stream_error(real_http):
    response = real_http.post("/api/v1/123/crm/Accounts", json={"Name": "x", "SalesVatCode": "2"})
    assert response.status_code == 400
    assert json.loads(response.text)["error"]["message"]["value"].startswith(
        "Error processing request stream."
    )
