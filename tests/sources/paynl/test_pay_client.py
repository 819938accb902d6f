"""Pay. clients (sync and async) against FakePay, the exchange parser and the verifier."""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal
from typing import Any

import pytest

from exactbridge.errors import ConfigurationError, SourceAPIError, SourceRecordError
from exactbridge.sources._http import NO_RETRIES, RetryPolicy, no_jitter
from exactbridge.sources.paynl import (
    AsyncPayClient,
    Direction,
    ExchangeSignatureError,
    PayClient,
    PayEndpoints,
    PayStatus,
    SignatureVerifier,
    exchange_response,
    parse_exchange,
    status_for_code,
)
from exactbridge.testing.clock import FakeClock
from exactbridge.testing.paynl import FakePay

TOKEN = "CANARY-api-token-0123456789abcdef0123456789"
SECRET = "CANARY-service-secret-abcdef0123456789abcd"


@pytest.fixture
def fake() -> FakePay:
    pay = FakePay(api_token=TOKEN, service_secret=SECRET)
    pay.seed(settlements=25, transactions=7, seed=1)
    return pay


def _client(fake: FakePay, **kw: Any) -> PayClient:
    return PayClient(fake.token_code, TOKEN, transport=fake.transport(), **kw)


def test_settlements_are_paged_and_parsed(fake: FakePay) -> None:
    listing = _client(fake).list_settlements()
    settlements = listing.all()
    assert listing.errors == []
    assert len(settlements) == 25
    assert [c.params["page"] for c in fake.calls] == ["1", "2", "3"]
    assert {c.params["limit"] for c in fake.calls} == {"10"}
    first = settlements[0]
    assert first.settlement_date == dt.date(2026, 1, 1)
    assert first.payout_iban == "NL12RABO0123456789"
    assert first.payout_bic == "RABONL2U"
    line = first.clearings[0].lines[0]
    assert line.turnover_group is not None
    assert line.turnover_group.code.startswith("CT-")
    assert line.direction in (Direction.CREDIT, Direction.DEBIT)
    signed = sum(ln.signed_amount for c in first.clearings for ln in c.lines)
    assert signed == first.amount
    assert isinstance(first.amount, Decimal)


def test_date_filters_for_incremental_reads(fake: FakePay) -> None:
    listing = _client(fake).list_settlements(
        settled_from=dt.date(2026, 1, 20), settled_to=dt.date(2026, 1, 22)
    )
    assert [s.settlement_date.day for s in listing] == [20, 21, 22]
    assert fake.calls[0].params["settlementDate[gte]"] == "2026-01-20"
    assert fake.calls[0].params["settlementDate[lte]"] == "2026-01-22"


def test_records_by_settlement_code_or_clearing_id(fake: FakePay) -> None:
    client = _client(fake)
    code = next(iter(fake.settlements))
    by_code = client.list_clearing_records(code).all()
    clearing = fake.settlements[code].clearing_id
    by_clearing = client.list_clearing_records(clearing).all()
    assert by_code == by_clearing
    assert len(by_code) == 7
    record = by_code[0]
    tx = fake.settlements[code].transactions[0]
    assert record.transaction_id == tx.id
    assert record.order_id == tx.order_id
    assert record.reference == tx.reference
    assert record.amount == Decimal(tx.amount_cents).scaleb(-2)
    assert record.costs == Decimal(tx.costs_cents).scaleb(-2)
    assert record.status is PayStatus.PAID or record.is_reversal
    assert record.customer_iban == tx.customer_iban
    assert record.completed_at is not None
    assert record.completed_at.tzinfo is not None


def test_bundles_read_settlements_with_records(fake: FakePay) -> None:
    bundles = _client(fake).list_settlement_bundles(settled_from=dt.date(2026, 1, 24)).all()
    assert [len(b.records) for b in bundles] == [7, 7]
    assert all(b.errors == () for b in bundles)


def test_transaction_uses_service_credentials(fake: FakePay) -> None:
    client = _client(fake, service_id=fake.service_id, service_secret=SECRET)
    tx_id = next(iter(fake.transactions))
    transaction = client.get_transaction(tx_id)
    assert transaction.id == tx_id
    assert transaction.service_id == fake.service_id
    assert transaction.customer_name == fake.transactions[tx_id].customer_name
    assert transaction.amount_refunded == Decimal("0.00")


def test_bad_credentials_are_api_errors_without_secrets(fake: FakePay) -> None:
    client = PayClient(fake.token_code, "CANARY-wrong-token", transport=fake.transport())
    with pytest.raises(SourceAPIError) as info:
        client.list_settlements().all()
    assert info.value.status == 401
    assert "CANARY" not in str(info.value)
    assert "CANARY" not in repr(client)
    assert TOKEN not in repr(_client(fake, service_id="SL-1234-5678", service_secret=SECRET))
    assert SECRET not in repr(_client(fake, service_id="SL-1234-5678", service_secret=SECRET))


@pytest.mark.parametrize(
    ("args", "key"),
    [
        (("XX-1", TOKEN), "token_code"),
        (("AT-1234-5678", ""), "api_token"),
    ],
)
def test_credentials_are_checked(args: tuple[str, str], key: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        PayClient(*args)
    assert info.value.key == key
    with pytest.raises(ConfigurationError, match="service"):
        PayClient("AT-1234-5678", TOKEN, service_id="SL-1234-5678")
    with pytest.raises(ConfigurationError, match="SL-code"):
        PayClient("AT-1234-5678", TOKEN, service_id="x", service_secret="y")


def test_retries_5xx_and_429_on_the_fake_clock(fake: FakePay) -> None:
    clock = FakeClock()
    client = _client(fake, clock=clock, retry=RetryPolicy(jitter=no_jitter, backoff=2.0))
    fake.fail_next(503, times=2, path_contains="settlements")
    fake.fail_next(429, headers={"Retry-After": "30"}, path_contains="records")
    assert len(client.list_settlements(settled_from=dt.date(2026, 1, 25)).all()) == 1
    assert len(client.list_clearing_records(next(iter(fake.settlements))).all()) == 7
    assert [c.status for c in fake.calls] == [503, 503, 200, 429, 200]
    assert clock.slept == [2.0, 4.0, 30.0]
    assert client.calls == 5


def test_bad_records_are_collected_not_raised(fake: FakePay) -> None:
    code = next(iter(fake.settlements))
    fake.add_raw_record(
        code,
        {"id": "EX-BAD-1", "amount": {"value": -500, "currency": "EUR"}, "status": {"code": 100}},
    )
    fake.add_raw_record(code, {"id": "EX-BAD-2", "amount": {"value": 12.5, "currency": "EUR"}})
    fake.add_raw_record(
        code,
        {
            "id": "EX-BAD-3",
            "amount": {"value": 100, "currency": "EUR"},
            "costs": {"value": -3, "currency": "EUR"},
        },
    )
    fake.add_raw_record(code, "not an object")
    fake.add_raw_record(
        code,
        {
            "id": "EX-OK",
            "amount": {"value": -500, "currency": "EUR"},
            "status": {"code": -70},
            "newField": {"x": 1},
        },
    )
    listing = _client(fake).list_clearing_records(code)
    records = listing.all()
    assert len(records) == 8
    assert records[-1].transaction_id == "EX-OK"
    assert records[-1].amount == Decimal("-5.00")
    assert records[-1].status is PayStatus.CHARGEBACK
    assert dict(records[-1].extra) == {"newField": {"x": 1}}
    fields = [(e.record_id, e.field) for e in listing.errors]
    assert fields == [
        ("EX-BAD-1", "amount.value"),
        ("EX-BAD-2", "amount.value"),
        ("EX-BAD-3", "costs.value"),
        ("?", "<record>"),
    ]


def test_bad_settlement_is_collected_and_the_bundle_listing_goes_on(fake: FakePay) -> None:
    fake.add_raw_settlement(
        {
            "code": "BAD-1",
            "settlementDate": "2026-02-01",
            "amount": {"value": -1, "currency": "EUR"},
        }
    )
    listing = _client(fake).list_settlement_bundles(settled_from=dt.date(2026, 1, 25))
    assert len(listing.all()) == 1
    (error,) = listing.errors
    assert (error.record_id, error.field) == ("BAD-1", "amount.value")


def test_malformed_envelope_is_an_api_error(fake: FakePay) -> None:
    client = _client(fake, endpoints=PayEndpoints(settlements_key="payouts"), retry=NO_RETRIES)
    with pytest.raises(SourceAPIError, match="'payouts'"):
        client.list_settlements().all()


def test_endpoint_values_are_validated() -> None:
    with pytest.raises(ValueError, match="settlements_page_size"):
        PayEndpoints(settlements_page_size=50)
    with pytest.raises(ConfigurationError):
        PayClient("AT-1234-5678", TOKEN).list_clearing_records("../x")


@pytest.mark.asyncio
async def test_async_client_has_the_same_surface(fake: FakePay) -> None:
    fake.fail_next(500, path_contains="records")
    async with AsyncPayClient(
        fake.token_code,
        TOKEN,
        service_id=fake.service_id,
        service_secret=SECRET,
        transport=fake.async_transport(),
        clock=FakeClock(),
        retry=RetryPolicy(jitter=no_jitter),
    ) as client:
        settlements = await client.list_settlements(settled_from=dt.date(2026, 1, 24)).all()
        assert len(settlements) == 2
        bundles = await client.list_settlement_bundles(settled_from=dt.date(2026, 1, 25)).all()
        assert [len(b.records) for b in bundles] == [7]
        records = await client.list_clearing_records(settlements[0].code).all()
        assert len(records) == 7
        tx = await client.get_transaction(records[0].transaction_id)
        assert tx.id == records[0].transaction_id
        assert client.calls == 6
    sync = _client(fake)
    assert sync.list_settlements(settled_from=dt.date(2026, 1, 24)).all() == settlements


def test_status_table() -> None:
    assert status_for_code(100) is PayStatus.PAID
    assert status_for_code(-51).is_paid
    assert status_for_code(-82) is PayStatus.PARTIAL_REFUND
    assert status_for_code(-71).is_reversal
    assert status_for_code(20) is PayStatus.PENDING
    assert status_for_code(12345) is PayStatus.UNKNOWN


def test_signed_exchange_call_is_verified_and_parsed(fake: FakePay) -> None:
    tx_id = next(iter(fake.transactions))
    body, headers = fake.exchange_call(tx_id)
    verifier = SignatureVerifier(key_id=fake.service_id, secret=SECRET)
    verifier.require(body, headers)
    call = parse_exchange(body, content_type=headers["Content-Type"])
    assert call.variant == "signed"
    assert call.transaction is not None
    assert call.transaction.id == tx_id
    assert call.status is status_for_code(fake.transactions[tx_id].status_code)
    assert call.amount == Decimal(fake.transactions[tx_id].amount_cents).scaleb(-2)
    assert SECRET not in repr(verifier)


def test_tampered_or_unsigned_calls_are_refused(fake: FakePay) -> None:
    tx_id = next(iter(fake.transactions))
    verifier = SignatureVerifier(key_id=fake.service_id, secret=SECRET)
    body, headers = fake.exchange_call(tx_id, tamper=True)
    assert not verifier.verify(body, headers)
    body, headers = fake.exchange_call(tx_id)
    with pytest.raises(ExchangeSignatureError, match="missing"):
        verifier.require(body, {})
    with pytest.raises(ExchangeSignatureError, match="another key"):
        verifier.require(body, {**headers, "Signature-KeyID": "SL-9999-9999"})
    with pytest.raises(ExchangeSignatureError, match="not allowed"):
        verifier.require(body, {**headers, "Signature-Algorithm": "md5"})
    wrong = SignatureVerifier(key_id=fake.service_id, secret="CANARY-other")
    with pytest.raises(ExchangeSignatureError) as info:
        wrong.require(body, headers)
    assert "CANARY" not in str(info.value)
    body512, headers512 = fake.exchange_call(tx_id, algorithm="sha512")
    assert verifier.verify(body512, headers512)


def test_hmac_scheme_is_configurable() -> None:
    verifier = SignatureVerifier(key_id="SL-1", secret="k", scheme="hmac")
    signature = verifier.sign(b"{}")
    assert verifier.verify(b"{}", {"signature": signature})
    assert not verifier.verify(b"{ }", {"signature": signature})


def test_legacy_exchange_variants(fake: FakePay) -> None:
    tx_id = next(iter(fake.transactions))
    body, headers = fake.exchange_call(tx_id, signed=False)
    call = parse_exchange(body, content_type=headers["Content-Type"])
    assert call.variant == "legacy"
    assert call.order_id == fake.transactions[tx_id].order_id
    assert call.extra[0] == fake.transactions[tx_id].reference
    get = parse_exchange(b"", query="?action=new_ppt&order_id=123X&amount=9.99&info=x")
    assert (get.status, get.amount, get.info) == (PayStatus.PAID, Decimal("9.99"), "x")
    posted = parse_exchange(
        b'{"action": "cancel", "order_id": "9", "amount": 1.5}', content_type="application/json"
    )
    assert posted.status is PayStatus.CANCEL
    assert posted.amount == Decimal("1.5")
    assert exchange_response() == "TRUE|"
    assert exchange_response(False, "unknown order") == "FALSE|unknown order"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"order_id=1", "action"),
        (b"action=new_ppt&order_id=1&amount=abc", "amount"),
        (b"{not json", "<body>"),
        (b"[1, 2]", "<body>"),
        (b"\xff\xfe=1", "<body>"),
        (b'{"object": {"id": "EX-1", "amount": {"value": 1.5}}}', "amount.value"),
    ],
)
def test_hostile_exchange_calls(body: bytes, field: str) -> None:
    with pytest.raises(SourceRecordError) as info:
        parse_exchange(body)
    assert info.value.field == field


def test_no_secret_in_logs(fake: FakePay, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    fake.fail_next(401)
    with pytest.raises(SourceAPIError):
        _client(fake, retry=NO_RETRIES).list_settlements().all()
    assert TOKEN not in caplog.text
