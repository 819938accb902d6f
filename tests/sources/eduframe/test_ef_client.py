"""Eduframe client against the fake: every quirk, through the sync and the async client."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from exactbridge.errors import ConfigurationError, SourceAPIError, SourceRecordError
from exactbridge.sources._http import Pacer, SourceRateLimitError
from exactbridge.sources.eduframe import (
    EduframeCredentials,
    EduframeInvoice,
    EduframeInvoiceStatus,
    EduframeSettings,
)
from exactbridge.testing.eduframe import EduframeFault, FakeEduframe

DAY = dt.date(2026, 1, 12)


def basic_invoice(fake: FakeEduframe, *, open_on=DAY, price="121.00"):
    vat = fake.add_invoice_vat("21% btw", "21.0")
    account = fake.add_account("Acme B.V.", account_type="business")
    return fake.add_invoice(
        account["id"],
        [{"name": "Cursus", "units": 1, "unit_price": price, "invoice_vat_id": vat["id"]}],
        open_on=open_on,
    )


def many_invoices(fake: FakeEduframe, count: int) -> None:
    vat = fake.add_invoice_vat("21% btw", "21.0")
    account = fake.add_account("Acme B.V.")
    for index in range(count):
        fake.add_invoice(
            account["id"],
            [
                {
                    "name": f"Item {index}",
                    "units": 1,
                    "unit_price": "10.00",
                    "invoice_vat_id": vat["id"],
                }
            ],
            open_on=DAY,
        )


def test_bearer_token_is_sent_and_never_shown(fake, ef_driver_for, clock):
    basic_invoice(fake)
    ok = ef_driver_for(fake)
    invoices, _ = ok.listing("invoices")
    assert len(invoices) == 1
    assert all(call.authorized for call in fake.calls)
    canary = "CANARY-EDUFRAME-TOKEN-77"
    bad = ef_driver_for(fake, credentials=EduframeCredentials(api_key=canary))
    with pytest.raises(SourceAPIError) as info:
        bad.listing("invoices")
    assert info.value.status == 401
    assert "Unauthorized" in str(info.value)
    for text in (str(info.value), repr(info.value), repr(bad.client), repr(bad.client.credentials)):
        assert canary not in text
    assert canary not in repr(fake.calls)


def test_decimal_strings_stay_exact(fake, ef):
    basic_invoice(fake, price="0.10")
    (invoice,), _ = ef.listing("invoices")
    assert invoice.total_excl == Decimal("0.10")
    assert invoice.total_incl == Decimal("0.12")
    assert invoice.invoice_items[0].unit_price == Decimal("0.10")
    assert isinstance(invoice.total_open, Decimal)


def test_link_header_cursor_paging_100_per_page(fake, ef):
    many_invoices(fake, 250)
    invoices, _ = ef.listing("invoices")
    assert [inv.id for inv in invoices] == list(range(1, 251))
    calls = fake.calls_to("/invoices")
    assert len(calls) == 3
    assert ef.calls == 3
    assert "per_page=100" in calls[0].query
    assert "cursor=" in calls[1].query
    assert "cursor=" in calls[2].query


def test_per_page_is_validated():
    with pytest.raises(ConfigurationError) as info:
        EduframeSettings(per_page=250)
    assert info.value.key == "per_page"


def test_small_pages(fake, ef_driver_for):
    many_invoices(fake, 7)
    driver = ef_driver_for(fake, settings=EduframeSettings(per_page=3))
    invoices, _ = driver.listing("invoices")
    assert len(invoices) == 7
    assert driver.calls == 3


def test_status_filter(fake, ef):
    many_invoices(fake, 4)
    fake.pay_invoice(2)
    fake.expire_invoice(3)
    paid, _ = ef.listing("invoices", status=["paid", "expired"])
    assert sorted(inv.id for inv in paid) == [2, 3]
    assert {inv.status for inv in paid} == {
        EduframeInvoiceStatus.PAID,
        EduframeInvoiceStatus.EXPIRED,
    }
    with pytest.raises(ConfigurationError):
        ef.client.invoices(status=["gone"])


def test_invoice_life_cycle(fake, ef):
    invoice = basic_invoice(fake, open_on=None)
    concept = ef.one("invoice", invoice["id"])
    assert concept.status is EduframeInvoiceStatus.CONCEPT
    assert (concept.number, concept.opened_at, concept.expiration_date) == (None, None, None)
    fake.open_invoice(invoice["id"], on=DAY)
    opened = ef.one("invoice", invoice["id"])
    assert opened.status is EduframeInvoiceStatus.OPEN
    assert opened.number is not None
    assert opened.opened_at == DAY
    assert opened.expiration_date == DAY + dt.timedelta(days=30)
    fake.pay_invoice(invoice["id"], "100.00")
    partly = ef.one("invoice", invoice["id"])
    assert partly.total_open == Decimal("46.41")
    assert partly.status is EduframeInvoiceStatus.OPEN
    fake.pay_invoice(invoice["id"])
    assert ef.one("invoice", invoice["id"]).status is EduframeInvoiceStatus.PAID
    payments, _ = ef.listing("invoice_payments", invoice_id=invoice["id"])
    assert [p.amount for p in payments] == [Decimal("100.00"), Decimal("46.41")]
    assert ef.one("payment", payments[0].id).invoice_id == invoice["id"]


def test_429_retry_after_is_honoured(fake, ef, clock):
    many_invoices(fake, 3)
    fake.fail_next(EduframeFault.TOO_MANY_REQUESTS, times=2)
    invoices, _ = ef.listing("invoices")
    assert len(invoices) == 3
    assert clock.slept == [30.0, 30.0]
    assert [call.status for call in fake.calls] == [429, 429, 200]


def test_persistent_429_raises_rate_limit_error(fake, ef):
    fake.fail_next(EduframeFault.TOO_MANY_REQUESTS, times=10)
    with pytest.raises(SourceRateLimitError) as info:
        ef.listing("invoices")
    assert info.value.retry_after == 30.0
    assert ef.calls == 4


def test_pacing_stays_under_the_window_budget(clock, ef_driver_for):
    fake = FakeEduframe(clock=clock, requests_per_window=4, window_seconds=300)
    many_invoices(fake, 10)
    settings = EduframeSettings(per_page=1, requests_per_window=4, window_seconds=300)
    driver = ef_driver_for(fake, settings=settings)
    invoices, _ = driver.listing("invoices")
    assert len(invoices) == 10
    assert all(call.status == 200 for call in fake.calls)
    assert sum(1 for s in clock.slept if s > 0) == 2


def test_without_pacing_the_server_429_is_waited_out(clock, ef_driver_for):
    fake = FakeEduframe(clock=clock, requests_per_window=2, window_seconds=60, retry_after=60)
    many_invoices(fake, 5)
    driver = ef_driver_for(
        fake, settings=EduframeSettings(per_page=1), pacer=Pacer(1000, 60, clock=clock)
    )
    invoices, _ = driver.listing("invoices")
    assert len(invoices) == 5
    assert any(call.status == 429 for call in fake.calls)


def test_server_error_retried_connection_error_wrapped(fake, ef, ef_driver_for):
    many_invoices(fake, 2)
    fake.fail_next(EduframeFault.SERVER_ERROR)
    invoices, _ = ef.listing("invoices")
    assert len(invoices) == 2
    fake.fail_next(EduframeFault.CONNECTION_ERROR, times=9)
    with pytest.raises(SourceAPIError) as info:
        ef_driver_for(fake).listing("invoices")
    assert info.value.status is None


def test_garbage_body_is_a_typed_error(fake, ef):
    fake.fail_next(EduframeFault.GARBAGE)
    with pytest.raises(SourceAPIError) as info:
        ef.listing("invoices")
    assert "not valid JSON" in str(info.value)


def test_next_link_to_another_host_is_refused(fake, ef):
    many_invoices(fake, 150)
    fake.fail_next(EduframeFault.FOREIGN_LINK)
    with pytest.raises(SourceAPIError) as info:
        ef.listing("invoices")
    assert "outside the API" in str(info.value)
    assert not any("evil" in call.path for call in fake.calls)


def test_not_found(fake, ef):
    with pytest.raises(SourceAPIError) as info:
        ef.one("invoice", 999)
    assert info.value.status == 404


@pytest.mark.parametrize("pdf_mode", ["json", "binary"])
def test_pdf_endpoint(clock, ef_driver_for, pdf_mode):
    fake = FakeEduframe(clock=clock, pdf_mode=pdf_mode)
    invoice = basic_invoice(fake)
    pdf = ef_driver_for(fake).one("invoice_pdf", invoice["id"])
    assert pdf.startswith(b"%PDF")


def test_pdf_garbage_is_a_record_error(fake, ef, monkeypatch):
    invoice = basic_invoice(fake)
    monkeypatch.setattr(fake, "_pdf", lambda invoice_id: (200, {"data": "!!!not base64!!!"}, {}))
    with pytest.raises(SourceRecordError) as info:
        ef.one("invoice_pdf", invoice["id"])
    assert (info.value.record_id, info.value.field) == (f"invoice {invoice['id']}", "data")


def test_related_resources(clock, ef_driver_for):
    fake = FakeEduframe(clock=clock)
    summary = fake.seed_institute(courses=3, editions_per_course=2, accounts=12, invoices=20)
    driver = ef_driver_for(fake)
    accounts, listing = driver.listing("accounts")
    assert listing.errors == []
    assert len(accounts) == 12
    business = [a for a in accounts if a.custom.get("vat_number")]
    assert len(business) == summary.business_accounts
    assert business[0].address is not None
    vats, _ = driver.listing("invoice_vats")
    assert {v.percentage for v in vats} == {Decimal("21.0"), Decimal("0.0"), Decimal("9.0")}
    courses, _ = driver.listing("courses")
    editions, _ = driver.listing("planned_courses")
    variants, _ = driver.listing("catalog_variants")
    assert len(courses) == 3
    assert len(editions) == len(variants) == 6
    assert {v.variantable_type for v in variants} == {"PlannedCourse"}
    orders, _ = driver.listing("orders")
    codes, _ = driver.listing("discount_codes")
    assert len(orders) == 20
    assert {c.discount_code for c in codes} == {"VROEGBOEK", "ALUMNI10"}
    assert driver.one("account", accounts[0].id).name == accounts[0].name
    assert driver.one("order", orders[0].id).id == orders[0].id


def test_users(fake, ef):
    fake.users[1] = {
        "id": 1,
        "first_name": "Eva",
        "last_name": "Jong",
        "email": "e@x",
        "roles": ["student"],
    }
    (user,), _ = ef.listing("users")
    assert user.full_name == "Eva Jong"


def test_hostile_invoices_become_typed_errors(fake, ef):
    good = basic_invoice(fake)
    fake.raw_invoices.extend(
        [
            {**good, "id": 900, "total_incl": "12,50"},
            {**good, "id": 901, "status": "weird"},
            {
                **good,
                "id": 902,
                "invoice_items": [{"name": "x", "units": "many", "unit_price": "1"}],
            },
            {**good, "id": 903, "account_id": None},
            {**good, "id": 904, "opened_at": "yesterday"},
            "a string",
            {**good, "id": 905, "brand_new_field": [1, 2]},
        ]
    )
    invoices, listing = ef.listing("invoices")
    assert [inv.id for inv in invoices] == [good["id"], 905]
    assert invoices[1].extra["brand_new_field"] == [1, 2]
    found = {(err.record_id, err.field) for err in listing.errors}
    assert found == {
        ("invoice 900", "total_incl"),
        ("invoice 901", "status"),
        ("invoice 902", "invoice_items[0].units"),
        ("invoice 903", "account_id"),
        ("invoice 904", "opened_at"),
        ("invoice ?", "<record>"),
    }


def test_huge_page_is_cut_with_a_typed_error(fake, ef_driver_for):
    many_invoices(fake, 40)
    driver = ef_driver_for(fake, settings=EduframeSettings(per_page=100, max_page_records=25))
    invoices, listing = driver.listing("invoices")
    assert len(invoices) == 25
    (error,) = listing.errors
    assert (error.record_id, error.field, error.value) == ("invoices page 1", "<page>", 40)


def test_models_are_frozen(fake, ef):
    basic_invoice(fake)
    (invoice,), _ = ef.listing("invoices")
    assert isinstance(invoice, EduframeInvoice)
    with pytest.raises(AttributeError):
        invoice.number = "x"  # type: ignore[misc]
