"""The Exact client against the fake Exact Online, through the real transport seam.

Every test runs twice: once with ``ExactClient`` and once with ``AsyncExactClient``.
"""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal

import httpx
import pytest

from exactbridge.errors import (
    AuthorizationRequiredError,
    BadRequestError,
    ConfigurationError,
    DailyRateLimitError,
    ExactBridgeError,
    MinutelyRateLimitError,
    NotFoundError,
    OutcomeUnknownError,
    ServerError,
    ServiceUnavailableError,
    TransportError,
)
from exactbridge.exact import (
    NewAccount,
    NewDocument,
    NewDocumentAttachment,
    NewSalesEntry,
    NewSalesEntryLine,
    P,
)
from exactbridge.testing import Fault

from .conftest import CLIENT_SECRET, DIVISION, Harness, deterministic_retry


def _gl(exact: Harness, code: str):
    [account] = exact.collect(lambda c: c.gl_accounts.iterate(filter=P("Code") == code))
    return account


def _customer(exact: Harness, code: str = "1001", name: str = "Sportschool De Berg"):
    return exact.call(
        lambda c: c.accounts.create(NewAccount(name=name, code=code, status="C", is_sales=True))
    )


def _sales_entry(exact: Harness, customer_id, your_ref: str = "INV-1", amount: str = "100.00"):
    revenue = _gl(exact, "8000")
    new = NewSalesEntry(
        journal="70",
        customer=customer_id,
        entry_date=dt.date(2026, 3, 1),
        your_ref=your_ref,
        description=f"Invoice {your_ref}",
        lines=[
            NewSalesEntryLine(
                gl_account=revenue.id,
                amount_fc=Decimal(amount),
                vat_code="2",
                description="Membership",
            )
        ],
    )
    return exact.call(lambda c: c.sales_entries.create(new))


# -- basics -----------------------------------------------------------------------------


def test_division_is_required_for_division_scoped_calls(exact: Harness):
    client = exact.make_client(division=None)
    try:
        with pytest.raises(ConfigurationError, match="division"):
            exact.collect(lambda c: c.journals.iterate(), client)
        assert exact.fake.count() == 0
    finally:
        exact.close(client)


def test_me_is_readable_without_a_division(exact: Harness):
    me = exact.call(lambda c: c.me())
    assert me.current_division == DIVISION


def test_divisions_lists_the_seeded_division(exact: Harness):
    divisions = exact.call(lambda c: c.divisions())
    assert DIVISION in [d.code for d in divisions]


def test_requests_carry_accept_and_prefer_headers(exact: Harness):
    seen: list[httpx.Request] = []
    inner = exact.fake.transport() if exact.mode == "sync" else exact.fake.async_transport()

    if exact.mode == "sync":

        class Spy(httpx.BaseTransport):
            def handle_request(self, request):
                seen.append(request)
                return inner.handle_request(request)

        client = exact.make_client(transport=Spy())
    else:

        class ASpy(httpx.AsyncBaseTransport):
            async def handle_async_request(self, request):
                seen.append(request)
                return await inner.handle_async_request(request)

        client = exact.make_client(transport=ASpy())
    try:
        _ = exact.call(lambda c: c.accounts.create(NewAccount(name="Header Check")), client)
    finally:
        exact.close(client)
    [post] = [r for r in seen if r.method == "POST"]
    assert post.headers["Accept"] == "application/json"
    assert post.headers["Prefer"] == "return=representation"
    assert post.headers["Authorization"].startswith("Bearer ")


# -- paging and queries -------------------------------------------------------------------


def test_iterate_follows_next_links_across_pages(exact: Harness):
    for i in range(130):
        exact.call(
            lambda c, i=i: c.accounts.create(NewAccount(name=f"Member {i:03}", code=str(5000 + i)))
        )
    before = exact.fake.count(method="GET")
    names = [
        a.name
        for a in exact.collect(lambda c: c.accounts.iterate(filter=P("Name").startswith("Member")))
    ]
    assert len(names) == 130
    assert len(set(names)) == 130
    # 60 rows per page: three GETs.
    assert exact.fake.count(method="GET") - before == 3


def test_top_larger_than_a_page_is_honoured(exact: Harness):
    for i in range(70):
        exact.call(
            lambda c, i=i: c.accounts.create(NewAccount(name=f"Top {i}", code=str(7000 + i)))
        )
    rows = exact.collect(lambda c: c.accounts.iterate(filter=P("Name").startswith("Top"), top=65))
    assert len(rows) == 65


def test_small_top_bare_list_is_parsed(exact: Harness):
    _customer(exact)
    rows = exact.call(lambda c: c.accounts.list(filter=P("Code") == "              1001", top=5))
    assert [r.code for r in rows] == ["1001"]


def test_find_by_code_pads_to_eighteen_characters(exact: Harness):
    created = _customer(exact, code="42")
    found = exact.call(lambda c: c.accounts.find_by_code("42"))
    assert found is not None
    assert found.id == created.id
    assert found.code == "42"
    assert exact.call(lambda c: c.accounts.find_by_code("43")) is None


def test_select_accepts_model_field_names(exact: Harness):
    _customer(exact)
    [row] = exact.collect(
        lambda c: c.accounts.iterate(
            filter=P("Code") == "              1001", select=["id", "name"]
        )
    )
    assert row.name == "Sportschool De Berg"
    assert row.email is None


def test_count_uses_the_count_segment(exact: Harness):
    for i in range(3):
        _customer(exact, code=str(300 + i), name=f"Count {i}")
    assert exact.call(lambda c: c.accounts.count(filter=P("Name").startswith("Count"))) == 3


def test_get_by_key_and_not_found(exact: Harness):
    created = _customer(exact)
    again = exact.call(lambda c: c.accounts.get(created.id))
    assert again.name == created.name
    import uuid

    with pytest.raises(NotFoundError):
        exact.call(lambda c: c.accounts.get(uuid.UUID(int=5)))


def test_mandatory_filter_error_is_a_typed_bad_request_with_exacts_message(exact: Harness):
    with pytest.raises(BadRequestError) as info:
        exact.collect(lambda c: c.accounts.iterate())
    assert "mandatory filtering" in info.value.message
    assert info.value.method == "GET"
    assert "crm/Accounts" in info.value.url


def test_bulk_requires_select_before_any_request(exact: Harness):
    with pytest.raises(ConfigurationError, match="select"):
        exact.collect(lambda c: c.accounts.iter_bulk(select=[]))
    assert exact.fake.count() == 0


def test_bulk_reads_a_thousand_rows_per_call(exact: Harness):
    for i in range(1100):
        exact.fake.domain.create(
            DIVISION,
            exact.fake.domain.entity_set("crm/Accounts"),
            {"Name": f"Bulk {i}", "Code": str(20000 + i)},
        )
    before = exact.fake.count(method="GET")
    rows = exact.collect(lambda c: c.accounts.iter_bulk(select=["ID", "Code", "Name"]))
    assert len(rows) >= 1100
    assert exact.fake.count(method="GET") - before == 2


def test_iter_sync_returns_rows_and_a_cursor_and_resumes(exact: Harness):
    first = exact.collect(lambda c: c.accounts.iter_sync(since=1))
    cursor = first[-1].cursor if first else 1
    _customer(exact, code="9001", name="New after cursor")
    later = exact.collect(lambda c: c.accounts.iter_sync(since=cursor))
    names = [a.name for page in later for a in page.rows]
    assert names == ["New after cursor"]
    assert later[-1].cursor > cursor


def test_sync_deleted_records_deletions(exact: Harness):
    created = _customer(exact, code="8100", name="Temp")
    start = exact.collect(lambda c: c.deleted.iter_sync(since=1))
    cursor = start[-1].cursor if start else 1
    exact.call(lambda c: c.accounts.delete(created.id))
    pages = exact.collect(lambda c: c.deleted.iter_sync(since=cursor))
    keys = [str(r.entity_key) for p in pages for r in p.rows]
    assert str(created.id) in keys


# -- writes ---------------------------------------------------------------------------------


def test_sales_entry_with_lines_inline_creates_a_receivable(exact: Harness):
    customer = _customer(exact)
    entry = _sales_entry(exact, customer.id, your_ref="INV-77", amount="100.00")
    assert entry.amount_fc == Decimal("121.00")
    assert entry.your_ref == "INV-77"
    assert entry.entry_number is not None
    open_items = exact.collect(lambda c: c.receivables_list.iterate())
    assert [(r.your_ref, r.amount) for r in open_items] == [("INV-77", Decimal("121.00"))]
    found = exact.call(lambda c: c.sales_entries.find_by_your_ref("70", "INV-77"))
    assert found is not None
    assert found.entry_id == entry.entry_id


def test_update_puts_only_the_changed_fields_and_rejects_unknown_names(exact: Harness):
    customer = _customer(exact)
    exact.call(lambda c: c.accounts.update(customer.id, email="info@berg.example"))
    assert exact.call(lambda c: c.accounts.get(customer.id)).email == "info@berg.example"
    calls = exact.fake.count()
    with pytest.raises(ConfigurationError, match="no_such_field"):
        exact.call(lambda c: c.accounts.update(customer.id, no_such_field=1))
    assert exact.fake.count() == calls


def test_replace_lines_adds_before_it_deletes(exact: Harness):
    customer = _customer(exact)
    entry = _sales_entry(exact, customer.id)
    revenue = _gl(exact, "8000")
    exact.call(
        lambda c: c.sales_entries.replace_lines(
            entry.entry_id,
            [
                NewSalesEntryLine(gl_account=revenue.id, amount_fc=Decimal("40.00"), vat_code="2"),
                NewSalesEntryLine(gl_account=revenue.id, amount_fc=Decimal("60.00"), vat_code="2"),
            ],
        )
    )
    again = exact.call(lambda c: c.sales_entries.get(entry.entry_id))
    assert again.amount_fc == Decimal("121.00")
    lines = exact.call(lambda c: c.sales_entries.children(entry.entry_id, "SalesEntryLines"))
    assert sorted(Decimal(str(line["AmountFC"])) for line in lines) == [
        Decimal("40.00"),
        Decimal("60.00"),
    ]


def test_document_with_base64_attachment(exact: Harness):
    customer = _customer(exact)
    document = exact.call(
        lambda c: c.documents.create(NewDocument(subject="Invoice 1", type=10, account=customer.id))
    )
    pdf = b"%PDF-1.4 fake invoice\n%%EOF"
    attachment = exact.call(
        lambda c: c.document_attachments.create(
            NewDocumentAttachment(document=document.id, file_name="invoice-1.pdf", attachment=pdf)
        )
    )
    assert attachment.file_name == "invoice-1.pdf"
    assert attachment.file_size == len(pdf)


def test_raw_reaches_any_endpoint(exact: Harness):
    payload = exact.call(lambda c: c.raw.get("financial/Journals", params=[("$select", "Code")]))
    codes = (
        {row["Code"] for row in payload["d"]["results"]}
        if isinstance(payload["d"], dict)
        else {row["Code"] for row in payload["d"]}
    )
    assert "70" in codes
    rows = exact.collect(lambda c: c.raw.iterate("financial/Journals"))
    assert "70" in {r["Code"] for r in rows}


def test_validation_failures_keep_exacts_message_lines(exact: Harness):
    customer = _customer(exact)
    bank = _gl(exact, "1300")  # a receivables account: not allowed on a sales line
    new = NewSalesEntry(
        journal="70",
        customer=customer.id,
        lines=[NewSalesEntryLine(gl_account=bank.id, amount_fc=Decimal("10.00"))],
    )
    calls = exact.fake.count(method="POST")
    with pytest.raises(ExactBridgeError) as info:
        exact.call(lambda c: c.sales_entries.create(new))
    assert info.value.messages  # type: ignore[attr-defined]
    # A write that failed validation is never retried.
    assert exact.fake.count(method="POST") == calls + 1


# -- rate limits and retries -------------------------------------------------------------


def test_client_waits_before_the_minutely_limit_and_never_gets_429(exact: Harness):
    start = exact.fake.clock.now()
    for _ in range(130):
        exact.collect(lambda c: c.journals.iterate(top=1))
    statuses = [call.status for call in exact.fake.calls]
    assert 429 not in statuses
    assert exact.fake.clock.now() - start >= dt.timedelta(minutes=2)


def test_a_minutely_429_is_waited_out_and_retried(exact: Harness):
    exact.fake.fail_next(Fault.RATE_LIMIT, times=1)
    start = exact.fake.clock.now()
    rows = exact.collect(lambda c: c.journals.iterate())
    assert rows
    assert exact.fake.clock.now() > start


def test_minutely_429_raises_when_waiting_is_switched_off(exact: Harness):
    client = exact.make_client(retry=deterministic_retry(wait_for_minutely_limit=False))
    try:
        exact.fake.fail_next(Fault.RATE_LIMIT, times=1)
        with pytest.raises(MinutelyRateLimitError):
            exact.collect(lambda c: c.journals.iterate(), client)
    finally:
        exact.close(client)


def test_daily_exhaustion_raises_with_the_reset_time(exact: Harness, fake):
    client = exact.make_client()
    try:
        fake.daily_limit = 3  # type: ignore[misc]
    except AttributeError:
        pytest.fail("FakeExactOnline must allow changing the daily limit")

    def use_up_the_day() -> None:
        for _ in range(10):
            exact.collect(lambda c: c.journals.iterate(top=1), client)

    try:
        with pytest.raises(DailyRateLimitError) as info:
            use_up_the_day()
        assert info.value.reset_at is not None
        assert info.value.reset_at > fake.clock.now()
    finally:
        exact.close(client)


def test_get_is_retried_on_server_errors(exact: Harness):
    exact.fake.fail_next(Fault.SERVER_ERROR, times=2, method="GET")
    before = exact.fake.count(method="GET")
    assert exact.collect(lambda c: c.journals.iterate())
    assert exact.fake.count(method="GET") - before == 3


def test_get_gives_up_after_the_attempts(exact: Harness):
    exact.fake.fail_next(Fault.SERVER_ERROR, times=10, method="GET")
    with pytest.raises(ServerError):
        exact.collect(lambda c: c.journals.iterate())
    assert exact.fake.count(method="GET") == 4


def test_get_is_retried_on_connection_errors_and_timeouts(exact: Harness):
    exact.fake.fail_next(Fault.CONNECTION_ERROR, times=1, method="GET")
    exact.fake.fail_next(Fault.TIMEOUT, times=1, method="GET")
    assert exact.collect(lambda c: c.journals.iterate())


def test_persistent_connection_errors_become_typed_transport_errors(exact: Harness):
    exact.fake.fail_next(Fault.CONNECTION_ERROR, times=10, method="GET")
    with pytest.raises(TransportError) as info:
        exact.collect(lambda c: c.journals.iterate())
    assert not isinstance(info.value.__cause__, type(None))
    assert isinstance(info.value.__cause__, httpx.TransportError)


def test_post_is_not_retried_on_server_error(exact: Harness):
    exact.fake.fail_next(Fault.SERVER_ERROR, times=1, method="POST")
    with pytest.raises(ServerError):
        _customer(exact)
    assert exact.fake.count(method="POST") == 1


def test_lost_post_response_is_an_unknown_outcome_and_is_not_repeated(exact: Harness):
    exact.fake.fail_next(Fault.LOST_RESPONSE, times=1, method="POST")
    with pytest.raises(OutcomeUnknownError) as info:
        _customer(exact, code="555", name="Lost answer")
    assert "may or may not" in str(info.value)
    # The write did happen exactly once on the server.
    assert exact.call(lambda c: c.accounts.find_by_code("555")) is not None
    assert exact.fake.count(method="POST") == 1


def test_client_errors_are_not_retried(exact: Harness):
    before = exact.fake.count(method="GET")
    with pytest.raises(BadRequestError):
        exact.collect(lambda c: c.accounts.iterate(filter="Bogus eq 1"))
    assert exact.fake.count(method="GET") - before == 1


def test_maintenance_page_is_service_unavailable(exact: Harness):
    exact.fake.fail_next(Fault.MAINTENANCE, times=10, method="GET")
    with pytest.raises(ServiceUnavailableError):
        exact.collect(lambda c: c.journals.iterate())


# -- tokens ----------------------------------------------------------------------------------


def test_access_token_is_refreshed_in_the_last_thirty_seconds(exact: Harness):
    exact.collect(lambda c: c.journals.iterate(top=1))
    before = exact.fake.token_calls if hasattr(exact.fake, "token_calls") else None
    exact.fake.clock.advance(575)
    exact.collect(lambda c: c.journals.iterate(top=1))
    assert exact.store.load().generation >= 1
    if before is not None:
        assert exact.fake.token_calls == before + 1


def test_no_refresh_before_570_seconds(exact: Harness):
    generation = exact.store.load().generation
    exact.fake.clock.advance(500)
    exact.collect(lambda c: c.journals.iterate(top=1))
    assert exact.store.load().generation == generation


def test_an_empty_token_store_asks_for_authorization(exact: Harness):
    from exactbridge.exact import MemoryTokenStore

    client = exact.make_client(token_store=MemoryTokenStore())
    try:
        with pytest.raises(AuthorizationRequiredError):
            exact.collect(lambda c: c.journals.iterate(), client)
    finally:
        exact.close(client)


def test_authorization_code_flow_end_to_end(exact: Harness):
    from exactbridge.exact import MemoryTokenStore

    store = MemoryTokenStore()
    client = exact.make_client(token_store=store)
    try:
        url = client.authorization_url(state="xyz")
        assert url.startswith(exact.fake.base_url + "/api/oauth2/auth?")
        assert "state=xyz" in url
        code = exact.fake.authorize(
            exact.credentials.client_id, redirect_uri=exact.credentials.redirect_uri
        )
        token = exact.call(lambda c: c.exchange_code(code), client)
        assert store.load() is not None
        assert token.expires_in == 600
        assert exact.collect(lambda c: c.journals.iterate(top=1), client)
    finally:
        exact.close(client)


def test_secrets_never_appear_in_reprs_errors_or_logs(exact: Harness, caplog):
    caplog.set_level(logging.DEBUG)
    token = exact.store.load()
    exact.fake.fail_next(Fault.SERVER_ERROR, times=4, method="GET")  # every attempt fails
    with pytest.raises(ServerError) as info:
        exact.collect(lambda c: c.journals.iterate())
    exact.fake.clock.advance(580)
    exact.collect(lambda c: c.journals.iterate(top=1))
    texts = [
        repr(exact.client),
        repr(exact.store),
        repr(token),
        str(info.value),
        repr(info.value),
        caplog.text,
    ]
    for secret in (
        CLIENT_SECRET,
        token.access_token,
        token.refresh_token,
        exact.store.load().access_token,
    ):
        for text in texts:
            assert secret not in text
