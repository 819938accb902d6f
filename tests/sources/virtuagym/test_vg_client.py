"""Virtuagym client against the fake: every quirk, through the sync and the async client."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from exactbridge.errors import SourceAPIError, SourceRecordError
from exactbridge.sources._http import Pacer, SourceRateLimitError
from exactbridge.sources.virtuagym import (
    Member,
    TimestampUnit,
    VirtuagymAPIError,
    VirtuagymCredentials,
    VirtuagymInvoice,
    VirtuagymSettings,
)
from exactbridge.testing.virtuagym import FakeVirtuagym, VirtuagymFault

JAN = dt.date(2026, 1, 1)


def one_invoice(fake: FakeVirtuagym, **kwargs):
    member = fake.add_member(firstname="Anna", lastname="Bos")
    rows = kwargs.pop("rows", [{"name": "Membership", "price": Decimal("12.10"), "tax": 1}])
    return fake.add_invoice(member_id=member["member_id"], invoice_date=JAN, rows=rows, **kwargs)


def test_euro_floats_become_exact_decimals(fake, driver):
    one_invoice(fake, rows=[{"name": "A", "price": Decimal("12.10"), "tax": 1}])
    invoices, _ = driver.listing("invoices")
    (invoice,) = invoices
    assert isinstance(invoice.price, Decimal)
    assert invoice.price == Decimal("12.1")
    row = invoice.rows[0]
    assert (row.price_ex_vat, row.vat) == (Decimal("10"), Decimal("2.1"))
    assert row.price_ex_vat + row.vat == row.price
    assert str(row.vat) == "2.1"  # no binary-float residue such as 2.0999999


def test_invoice_timestamps_are_seconds_and_member_timestamps_milliseconds(fake, driver, clock):
    edited = dt.datetime(2026, 2, 3, 4, 5, 6, 789000, tzinfo=dt.timezone.utc)
    member = fake.add_member(edited_at=edited)
    fake.add_invoice(
        member_id=member["member_id"],
        invoice_date=JAN,
        rows=[{"name": "A", "price": "10", "tax": 0}],
        edited_at=edited,
    )
    (invoice,), _ = driver.listing("invoices")
    # 2026-01-01 00:00 in Amsterdam is 2025-12-31 23:00 UTC.
    assert invoice.timestamp == dt.datetime(2025, 12, 31, 23, 0, tzinfo=dt.timezone.utc)
    assert invoice.timestamp_edit == edited.replace(microsecond=0)
    got = driver.one("member", member["member_id"])
    assert got.timestamp_edit == edited  # milliseconds kept


def test_auto_timestamp_unit_reads_milliseconds_on_invoices(fake, make_driver):
    invoice = one_invoice(fake)
    invoice["timestamp"] = invoice["timestamp"] * 1000
    settings = VirtuagymSettings(invoice_timestamps=TimestampUnit.AUTO)
    (got,), _ = make_driver(settings=settings).listing("invoices")
    assert got.timestamp.year == 2025
    # read with the documented unit (seconds), a ms value is out of range: a typed error
    invoices, listing = make_driver().listing("invoices")
    assert invoices == []
    assert [(e.record_id, e.field) for e in listing.errors] == [(invoice["guid"], "timestamp")]


def test_error_as_http_200_with_status_420(fake, driver):
    one_invoice(fake)
    with pytest.raises(VirtuagymAPIError) as info:
        driver.one("invoice", "does-not-exist")
    assert info.value.statuscode == 420
    assert "Invoice not found" in str(info.value)


def test_single_invoice_resolves_by_guid_only(fake, driver):
    invoice = one_invoice(fake)
    got = driver.one("invoice", invoice["guid"])
    assert got.guid == invoice["guid"]
    with pytest.raises(VirtuagymAPIError):
        driver.one("invoice", str(invoice["id"]))


def test_validation_error_shape(fake, driver):
    fake.fail_next(VirtuagymFault.VALIDATION)
    with pytest.raises(VirtuagymAPIError) as info:
        driver.one("member", 1)
    assert info.value.errors == ("Parameter member_id is mandatory. Null or empty given.",)


def test_wrong_credentials_and_secret_canaries(fake, clock, driver_for):
    canary_key, canary_secret = "CANARY-KEY-4f1c", "CANARY-SECRET-9a7e"
    creds = VirtuagymCredentials(
        club_id=fake.club_id, api_key=canary_key, club_secret=canary_secret
    )
    assert canary_key not in repr(creds)
    assert canary_secret not in repr(creds)
    driver = driver_for(fake)
    driver.client.credentials = creds
    with pytest.raises(VirtuagymAPIError) as info:
        driver.listing("invoices")
    text = str(info.value) + repr(info.value) + info.value.url
    assert canary_key not in text
    assert canary_secret not in text
    assert "api_key=***" in info.value.url
    assert canary_key not in repr(driver.client)
    for call in fake.calls:
        assert "api_key" not in call.params
        assert "club_secret" not in call.params


def test_secrets_not_in_transport_errors(fake, make_driver):
    fake.fail_next(VirtuagymFault.CONNECTION_ERROR, times=10)
    driver = make_driver()
    with pytest.raises(SourceAPIError) as info:
        driver.listing("invoices")
    assert fake.credentials.api_key not in str(info.value)
    assert fake.credentials.club_secret not in str(info.value)
    assert driver.calls == 4


def test_concept_invoices_with_id_zero_are_skipped(fake, driver, make_driver):
    one_invoice(fake)
    one_invoice(fake, concept=True)
    invoices, listing = driver.listing("invoices")
    assert [inv.id for inv in invoices] == [1001]
    assert listing.stats.skipped_concepts == 1
    everything, _ = make_driver().listing("invoices", include_concepts=True)
    assert sorted(inv.id for inv in everything) == [0, 1001]


def test_page_based_listing_reads_every_page(fake, driver):
    member = fake.add_member()
    for _ in range(1201):
        fake.add_invoice(
            member_id=member["member_id"],
            invoice_date=JAN,
            rows=[{"name": "x", "price": "1", "tax": 0}],
        )
    invoices, listing = driver.listing("invoices")
    assert len(invoices) == 1201
    assert len({inv.guid for inv in invoices}) == 1201
    assert listing.stats.pages == 3
    assert driver.calls == 3
    assert [call.params.get("page") for call in fake.calls_to("/invoices")] == ["1", "2", "3"]


def test_changes_detected_by_timestamp_edit(fake, driver, clock):
    first = one_invoice(fake)
    second = one_invoice(fake)
    all_invoices, _ = driver.listing("invoices")
    known = {inv.guid: inv.timestamp_edit for inv in all_invoices}
    fake.edit_invoice(second["guid"], when=clock.now() + dt.timedelta(hours=1), paid=True)
    third = one_invoice(fake)
    changed, listing = driver.listing("invoices", known=known)
    assert {inv.guid for inv in changed} == {second["guid"], third["guid"]}
    assert first["guid"] not in {inv.guid for inv in changed}
    assert listing.stats.unchanged == 1


def test_deleted_invoices_are_flagged_not_hidden(fake, driver):
    one_invoice(fake, deleted=True)
    (invoice,), _ = driver.listing("invoices")
    assert invoice.deleted is True


def test_guest_invoice_has_no_member(fake, driver):
    fake.add_invoice(
        member_id=None, invoice_date=JAN, rows=[{"name": "Dagpas", "price": "12.50", "tax": 2}]
    )
    (invoice,), _ = driver.listing("invoices")
    assert invoice.member_id is None


def test_mixed_int_and_string_ids(clock, driver_for):
    fake = FakeVirtuagym(clock=clock, mixed_types=True)
    for _ in range(4):
        one_invoice(fake)
    invoices, listing = driver_for(fake).listing("invoices")
    assert listing.errors == []
    assert all(isinstance(inv.member_id, int) for inv in invoices)


def _members(fake: FakeVirtuagym, count: int, start: dt.datetime) -> None:
    for index in range(count):
        fake.add_member(member_id=500 + index, edited_at=start + dt.timedelta(seconds=index))


@pytest.mark.parametrize("cursor", ["inclusive", "exact"])
def test_member_cursor_pages_without_duplicates(clock, driver_for, cursor):
    fake = FakeVirtuagym(clock=clock, members_per_page=10, member_cursor=cursor)
    start = dt.datetime(2025, 6, 1, tzinfo=dt.timezone.utc)
    _members(fake, 25, start)
    driver = driver_for(fake)
    members, listing = driver.listing("members")
    ids = [m.member_id for m in members]
    assert sorted(ids) == list(range(500, 525))
    assert len(ids) == len(set(ids))
    if cursor == "inclusive":
        assert listing.stats.duplicates == listing.stats.pages - 1 > 0
    else:
        assert listing.stats.duplicates == 0
    assert listing.stats.cursor == start + dt.timedelta(seconds=24)


def test_members_since_a_cursor(fake, driver):
    start = dt.datetime(2025, 6, 1, tzinfo=dt.timezone.utc)
    _members(fake, 10, start)
    members, _ = driver.listing("members", sync_from=start + dt.timedelta(seconds=7))
    assert [m.member_id for m in members] == [507, 508, 509]
    assert fake.calls_to("/member")[0].params["sync_from"] == str(
        int((start + dt.timedelta(seconds=7)).timestamp() * 1000)
    )


def test_single_member_comes_as_one_element_array(fake, driver):
    member = fake.add_member(firstname="Piet", lastname="Klaas")
    got = driver.one("member", member["member_id"])
    assert isinstance(got, Member)
    assert got.full_name == "Piet Klaas"
    with pytest.raises(VirtuagymAPIError):
        driver.one("member", 999)


@pytest.mark.parametrize("key", ["result", "results"])
def test_club_taxes_and_income_categories(clock, driver_for, key):
    fake = FakeVirtuagym(clock=clock, taxes_key=key)
    driver = driver_for(fake)
    taxes, listing = driver.listing("club_taxes")
    assert listing.errors == []
    by_id = {tax.club_tax_id: tax for tax in taxes}
    assert by_id[1].tax_perc == Decimal("21.00")
    assert by_id[2].tax_name == "BTW 9%"
    categories, _ = driver.listing("income_categories")
    assert {c.name_id for c in categories} == {"membership", "pt", "retail", "other"}


def test_throttle_in_body_is_retried_with_backoff(fake, driver, clock):
    one_invoice(fake)
    fake.fail_next(VirtuagymFault.THROTTLE, times=2)
    invoices, _ = driver.listing("invoices")
    assert len(invoices) == 1
    assert driver.calls == 3
    assert clock.slept == [10.0, 20.0]


def test_throttle_as_http_status_honours_retry_after(clock, driver_for):
    fake = FakeVirtuagym(clock=clock, throttle_mode="http")
    one_invoice(fake)
    fake.fail_next(VirtuagymFault.THROTTLE)
    invoices, _ = driver_for(fake).listing("invoices")
    assert len(invoices) == 1
    assert clock.slept == [60.0]


def test_throttle_code_is_configurable(fake, make_driver):
    one_invoice(fake)
    fake.fail_next(VirtuagymFault.THROTTLE)
    driver = make_driver(settings=VirtuagymSettings(throttle_statuses={429}))
    with pytest.raises(VirtuagymAPIError) as info:
        driver.listing("invoices")
    assert info.value.statuscode == 421
    assert driver.calls == 1


def test_persistent_429_raises_rate_limit_error(fake, make_driver):
    fake.fail_next(VirtuagymFault.TOO_MANY_REQUESTS, times=10)
    driver = make_driver()
    with pytest.raises(SourceRateLimitError):
        driver.listing("invoices")
    assert driver.calls == 4


def test_pacing_keeps_under_the_hourly_budget(clock, driver_for):
    fake = FakeVirtuagym(
        clock=clock, requests_per_hour=5, members_per_page=1, member_cursor="exact"
    )
    _members(fake, 12, dt.datetime(2025, 6, 1, tzinfo=dt.timezone.utc))
    driver = driver_for(fake, settings=VirtuagymSettings(requests_per_hour=5))
    members, _ = driver.listing("members")
    assert len(members) == 12
    assert all(call.statuscode == 200 for call in fake.calls)  # never throttled
    assert sum(1 for s in clock.slept if s > 0) == 2  # waited twice for the hour to roll over
    assert driver.calls == 12


def test_without_pacing_the_fake_throttles_and_backoff_recovers(clock, driver_for):
    fake = FakeVirtuagym(
        clock=clock, requests_per_hour=3, members_per_page=1, member_cursor="exact"
    )
    _members(fake, 5, dt.datetime(2025, 6, 1, tzinfo=dt.timezone.utc))
    from exactbridge.sources._http import RetryPolicy, no_jitter

    driver = driver_for(
        fake,
        pacer=Pacer(10_000, 3600, clock=clock),
        retry=RetryPolicy(attempts=10, backoff=600, max_backoff=1800, jitter=no_jitter),
    )
    members, _ = driver.listing("members")
    assert len(members) == 5
    assert any(call.statuscode == 421 for call in fake.calls)


def test_server_errors_and_garbage(fake, driver, make_driver):
    one_invoice(fake)
    fake.fail_next(VirtuagymFault.SERVER_ERROR, times=2)
    invoices, _ = driver.listing("invoices")
    assert len(invoices) == 1
    fake.fail_next(VirtuagymFault.GARBAGE)
    with pytest.raises(SourceAPIError) as info:
        make_driver().listing("invoices")
    assert "not valid JSON" in str(info.value)


def test_hostile_invoices_become_typed_errors_and_the_listing_goes_on(fake, driver):
    good = one_invoice(fake)
    fake.raw_invoices.extend(
        [
            {"id": 5, "price": 1, "timestamp": 1, "rows": []},  # no guid
            {**good, "guid": "bad-price", "price": "twelve"},
            {**good, "guid": "bad-rows", "rows": {"not": "a list"}},
            {**good, "guid": "bad-row", "rows": [{"guid": "r", "price": None}]},
            {**good, "guid": "bad-stamp", "timestamp": "yesterday"},
            {**good, "guid": "bool-id", "id": True},
            ["not", "an", "object"],
            {**good, "guid": "unknown-fields", "surprise": {"nested": 1}},
        ]
    )
    invoices, listing = driver.listing("invoices")
    assert [inv.guid for inv in invoices] == [good["guid"], "unknown-fields"]
    assert invoices[1].extra == {"surprise": {"nested": 1}}
    found = {(err.record_id, err.field) for err in listing.errors}
    assert found == {
        ("?", "guid"),
        ("bad-price", "price"),
        ("bad-rows", "rows"),
        ("bad-row", "rows[0].price"),
        ("bad-stamp", "timestamp"),
        ("bool-id", "id"),
        ("?", "<record>"),
    }
    assert all(isinstance(err, SourceRecordError) for err in listing.errors)


def test_huge_page_is_cut_with_a_typed_error(fake, make_driver):
    member = fake.add_member()
    for _ in range(30):
        fake.add_invoice(
            member_id=member["member_id"], invoice_date=JAN, rows=[{"name": "x", "price": "1"}]
        )
    driver = make_driver(settings=VirtuagymSettings(max_page_records=20))
    invoices, listing = driver.listing("invoices")
    assert len(invoices) == 20
    (error,) = listing.errors
    assert (error.record_id, error.field, error.value) == ("invoices page 1", "result", 30)


def test_invoice_model_is_frozen(fake, driver):
    one_invoice(fake)
    (invoice,), _ = driver.listing("invoices")
    assert isinstance(invoice, VirtuagymInvoice)
    with pytest.raises(AttributeError):
        invoice.price = Decimal(0)  # type: ignore[misc]
