"""The fake Eduframe's wire format, checked against the documented shapes (raw HTTP)."""

from __future__ import annotations

import base64
import json

import httpx
import pytest

from exactbridge.testing.clock import FakeClock
from exactbridge.testing.eduframe import FakeEduframe


def raw(fake: FakeEduframe, url: str) -> httpx.Response:
    with httpx.Client(transport=fake.transport()) as client:
        return client.get(url, headers={"Authorization": f"Bearer {fake.credentials.api_key}"})


def test_list_is_a_bare_array_with_a_link_header_cursor():
    fake = FakeEduframe(clock=FakeClock())
    fake.seed_institute(accounts=30, invoices=120)
    response = raw(fake, "https://api.eduframe.nl/api/v1/invoices")
    body = json.loads(response.text)
    assert isinstance(body, list)
    assert len(body) == 25  # default per_page
    link = response.headers["Link"]
    assert link.endswith('; rel="next"')
    cursor = httpx.URL(link[1 : link.index(">")]).params["cursor"]
    assert json.loads(base64.urlsafe_b64decode(cursor + "==")) == {"id": body[-1]["id"]}
    capped = json.loads(raw(fake, "https://api.eduframe.nl/api/v1/invoices?per_page=500").text)
    assert len(capped) == 100  # per_page is capped at 100


def test_money_is_decimal_strings_and_lifecycle_fields():
    fake = FakeEduframe(clock=FakeClock())
    summary = fake.seed_institute(accounts=30, invoices=80)
    assert set(summary.statuses) == {"concept", "open", "paid", "expired"}
    invoice = json.loads(raw(fake, "https://api.eduframe.nl/api/v1/invoices/1").text)
    assert isinstance(invoice["total_incl"], str)
    assert invoice["total_incl"].count(".") == 1
    assert isinstance(invoice["invoice_items"][0]["unit_price"], str)
    concepts = [inv for inv in fake.invoices.values() if inv["status"] == "concept"]
    assert all(inv["number"] is None and inv["opened_at"] is None for inv in concepts)
    opened = [inv for inv in fake.invoices.values() if inv["status"] != "concept"]
    assert all(inv["number"] and inv["expiration_date"] for inv in opened)


def test_unauthorized_and_pdf_shapes():
    fake = FakeEduframe(clock=FakeClock())
    fake.seed_institute(accounts=5, invoices=3)
    with httpx.Client(transport=fake.transport()) as client:
        denied = client.get("https://api.eduframe.nl/api/v1/invoices")
    assert denied.status_code == 401
    assert json.loads(denied.text)["code"] == 401
    pdf = json.loads(raw(fake, "https://api.eduframe.nl/api/v1/invoices/1/pdf").text)
    assert base64.b64decode(pdf["data"]).startswith(b"%PDF")


def test_add_account_refuses_an_account_type_eduframe_never_sends() -> None:
    fake = FakeEduframe()
    with pytest.raises(ValueError, match="'company' is not Eduframe's"):
        fake.add_account("Academie De Brug", account_type="company")
    assert fake.accounts == {}
    assert fake.add_account("Academie De Brug", account_type="business")["account_type"] == (
        "business"
    )
