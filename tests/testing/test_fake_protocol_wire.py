"""FakeClock, the wire encoding, current/Me, the call log and the transports."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import decimal
import json
import threading
import uuid

import httpx
import pytest

from exactbridge.clock import Clock
from exactbridge.errors import ConfigurationError
from exactbridge.testing import FakeClock, FakeExactOnline
from exactbridge.testing._exact.wire import WireError, dumps, loads_object, ms_date

UTC = dt.timezone.utc


# -- FakeClock --------------------------------------------------------------------------------


def test_fake_clock_is_a_clock_and_starts_on_a_fixed_monday():
    clock = FakeClock()
    assert isinstance(clock, Clock)
    assert clock.now() == dt.datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_sleep_advances_time_instantly_and_is_recorded():
    clock = FakeClock(dt.datetime(2026, 1, 1, tzinfo=UTC))
    clock.sleep(1.5)
    clock.sleep(-3)
    assert clock.now() == dt.datetime(2026, 1, 1, 0, 0, 1, 500000, tzinfo=UTC)
    assert clock.slept == [1.5, 0.0]


def test_asleep_advances_time():
    clock = FakeClock()
    start = clock.now()
    asyncio.run(clock.asleep(60))
    assert clock.now() - start == dt.timedelta(seconds=60)


def test_advance_and_set():
    clock = FakeClock()
    clock.advance(3600)
    assert clock.now().hour == 10
    clock.set(dt.datetime(2030, 5, 1, 12, tzinfo=dt.timezone(dt.timedelta(hours=2))))
    assert clock.now() == dt.datetime(2030, 5, 1, 10, tzinfo=UTC)
    assert clock.now().tzinfo == UTC
    with pytest.raises(ConfigurationError):
        clock.set(dt.datetime(2030, 5, 1))
    with pytest.raises(ConfigurationError):
        clock.advance(-1)


def test_clock_is_thread_safe():
    clock = FakeClock()
    start = clock.now()

    def work() -> None:
        for _ in range(200):
            clock.sleep(1)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert clock.now() - start == dt.timedelta(seconds=800)


# -- wire encoding ----------------------------------------------------------------------------


def test_dates_are_amsterdam_wall_clock_encoded_as_if_utc():
    # reference §2.5: a POST at 14:31:00 GMT (16:31 CEST) came back as /Date(1782405060220)/
    assert ms_date(dt.datetime(2026, 6, 25, 16, 31, 0, 220000)) == "/Date(1782405060220)/"
    assert ms_date(dt.date(2026, 6, 25)) == "/Date(1782345600000)/"


def test_decimals_keep_their_exact_digits():
    body = dumps(
        {
            "a": decimal.Decimal("50.80"),
            "b": decimal.Decimal("0.1") + decimal.Decimal("0.2"),
            "c": decimal.Decimal("-1234567890.123456789"),
            "d": decimal.Decimal("1E+2"),
        }
    )
    assert body == b'{"a":50.80,"b":0.3,"c":-1234567890.123456789,"d":100}'
    assert json.loads(body, parse_float=decimal.Decimal)["c"] == decimal.Decimal(
        "-1234567890.123456789"
    )


def test_uuid_bytes_bools_and_nulls():
    key = uuid.UUID("40D4C49D-1790-4A13-B890-42909AF24348")
    body = json.loads(dumps({"k": key, "b": b"%PDF-1", "t": True, "n": None, "s": "é\"'"}))
    assert body == {
        "k": "40d4c49d-1790-4a13-b890-42909af24348",
        "b": base64.b64encode(b"%PDF-1").decode(),
        "t": True,
        "n": None,
        "s": "é\"'",
    }


def test_non_finite_decimal_cannot_be_encoded():
    with pytest.raises(ValueError, match="non-finite"):
        dumps({"x": decimal.Decimal("NaN")})


def test_request_bodies_parse_numbers_as_decimal():
    body = loads_object(b'{"AmountFC": 12.10, "Qty": 3, "Name": "x"}')
    assert body == {"AmountFC": decimal.Decimal("12.10"), "Qty": 3, "Name": "x"}
    assert isinstance(body["AmountFC"], decimal.Decimal)


@pytest.mark.parametrize("raw", [b"[]", b'"x"', b"{", b"NaN", b"\xff"])
def test_non_object_bodies_are_stream_errors(raw):
    with pytest.raises(WireError, match="valid top-level resource object"):
        loads_object(raw)


# -- current/Me, divisions, call log --------------------------------------------------------


def test_current_me_has_no_division_and_carries_current_division(proto_http: httpx.Client):
    response = proto_http.get("/api/v1/current/Me", params={"$select": "CurrentDivision"})
    assert response.status_code == 200
    body = json.loads(response.text)
    (me,) = body["d"]["results"]
    assert me["CurrentDivision"] == 123
    assert set(me) == {"__metadata", "CurrentDivision"}
    assert me["__metadata"]["type"] == "Exact.Web.Api.Models.System.Me"
    assert me["__metadata"]["uri"].startswith("https://start.exactonline.nl/api/v1/current/Me(")
    assert "X-RateLimit-Limit" not in response.headers


def test_system_divisions_list_with_int_keys(proto_http: httpx.Client, proto_fake):
    proto_fake.add_division(456, template=None)
    response = proto_http.get("/api/v1/123/system/Divisions", params={"$inlinecount": "allpages"})
    body = json.loads(response.text)
    assert [row["Code"] for row in body["d"]["results"]] == [123, 456]
    assert body["d"]["results"][1]["__metadata"]["uri"] == (
        "https://start.exactonline.nl/api/v1/123/system/Divisions(456)"
    )
    by_key = json.loads(proto_http.get("/api/v1/123/system/Divisions(456)").text)
    assert by_key["d"]["Code"] == 456


def test_unknown_division_is_403_and_non_numeric_division_is_404(proto_http: httpx.Client):
    forbidden = proto_http.get("/api/v1/999/crm/Contacts")
    assert forbidden.status_code == 403
    assert json.loads(forbidden.text)["error"]["message"]["value"]
    assert proto_http.get("/api/v1/abc/crm/Contacts").status_code == 404


def test_unknown_paths_are_404_in_exacts_error_shape(proto_http: httpx.Client):
    for path in ("/api/v1/123/crm/Nope", "/nothing/here", "/api/v1/123"):
        response = proto_http.get(path)
        assert response.status_code == 404, path
        body = json.loads(response.text)
        assert set(body["error"]) == {"code", "message"}
        assert body["error"]["code"] == ""
        assert body["error"]["message"]["lang"] == ""


def test_call_log_and_counters(proto_http: httpx.Client, proto_fake: FakeExactOnline):
    proto_fake.clear_calls()
    proto_http.get("/api/v1/123/crm/Contacts", params={"$top": "5"})
    proto_http.post("/api/v1/123/crm/Contacts", json={"Account": str(uuid.uuid4())})
    proto_http.get("/api/v1/current/Me")
    calls = proto_fake.calls
    assert [(c.method, c.path, c.status, c.division) for c in calls] == [
        ("GET", "/api/v1/123/crm/Contacts", 200, 123),
        ("POST", "/api/v1/123/crm/Contacts", 201, 123),
        ("GET", "/api/v1/current/Me", 200, None),
    ]
    assert calls[0].query == "%24top=5"
    assert calls[0].at == proto_fake.clock.now()
    assert proto_fake.count() == 3
    assert proto_fake.count("GET") == 2
    assert proto_fake.count(path="crm/contacts") == 2
    assert proto_fake.count("POST", "crm/Contacts") == 1
    assert proto_fake.counters() == {
        ("GET", "crm/Contacts"): 1,
        ("POST", "crm/Contacts"): 1,
        ("GET", "current/Me"): 1,
    }


def test_reset_forgets_everything_but_keeps_the_default_app(
    proto_fake: FakeExactOnline, proto_http
):
    proto_http.get("/api/v1/current/Me")
    proto_fake.reset()
    assert proto_fake.calls == []
    assert proto_fake.domain.divisions() == []
    # old tokens are gone, the default app still works
    assert proto_http.get("/api/v1/current/Me").status_code == 401
    assert proto_fake.issue_tokens().access_token


def test_settings_validate_and_are_settable(proto_fake: FakeExactOnline):
    proto_fake.daily_limit = 3
    proto_fake.minutely_limit = 2
    proto_fake.post_status = 200
    assert (proto_fake.daily_limit, proto_fake.minutely_limit, proto_fake.post_status) == (
        3,
        2,
        200,
    )
    with pytest.raises(ConfigurationError):
        proto_fake.post_status = 204
    with pytest.raises(ConfigurationError):
        FakeExactOnline(minutely_limit=-1)


@pytest.mark.asyncio
async def test_async_transport_serves_the_same_backend(proto_fake: FakeExactOnline):
    grant = proto_fake.issue_tokens()
    async with httpx.AsyncClient(
        transport=proto_fake.async_transport(),
        base_url="https://start.exactonline.nl",
        headers={"Authorization": f"Bearer {grant.access_token}"},
    ) as client:
        created = await client.post("/api/v1/123/crm/Contacts", json={"Account": str(uuid.uuid4())})
        assert created.status_code == 201
        listed = await client.get("/api/v1/123/crm/Contacts", params={"$inlinecount": "allpages"})
        assert json.loads(listed.text)["d"]["__count"] == "1"
    assert proto_fake.count() == 2


def test_public_exports():
    import exactbridge.testing as testing
    import exactbridge.testing.pytest_plugin as plugin
    import exactbridge.testing.server as server

    for module in (testing, plugin, server):
        for name in module.__all__:
            assert getattr(module, name) is not None, name
    assert {"FakeExactOnline", "FakeClock", "Fault", "CallRecord", "TokenGrant"} <= set(
        testing.__all__
    )
    assert testing.FakeExactOnline.__doc__
