"""Tests for response parsing (exactbridge.exact._envelope)."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from exactbridge.errors import (
    APIError,
    AuthenticationError,
    BadRequestError,
    ConfigurationError,
    DailyRateLimitError,
    DecodeError,
    MinutelyRateLimitError,
    NotFoundError,
    ServerError,
    ServiceUnavailableError,
)
from exactbridge.exact._envelope import (
    Page,
    b64decode,
    b64encode,
    check_json,
    dumps,
    epoch_ms_to_utc,
    format_date,
    format_datetime,
    is_json_response,
    loads,
    parse_collection,
    parse_error,
    parse_odata_date,
    parse_odata_datetime,
    parse_single,
)
from exactbridge.exact._odata import AMSTERDAM

URL = "https://start.exactonline.nl/api/v1/124132/salesentry/SalesEntries"
JSON = {"Content-Type": "application/json; charset=utf-8"}

# --------------------------------------------------------------------------- JSON


def test_loads_parses_fractions_as_decimal_and_keeps_ints():
    payload = loads(b'{"AmountFC": 0.1, "VAT": 0.2, "Big": 1e2, "Qty": 3, "Neg": -0.30}')
    assert payload == {
        "AmountFC": Decimal("0.1"),
        "VAT": Decimal("0.2"),
        "Big": Decimal("1e2"),
        "Qty": 3,
        "Neg": Decimal("-0.30"),
    }
    assert type(payload["Qty"]) is int
    assert payload["AmountFC"] + payload["VAT"] == Decimal("0.3")


@pytest.mark.parametrize("body", [b"", b"{", b"<html></html>", b'{"a": NaN}', b"[Infinity]"])
def test_loads_rejects_invalid_json(body):
    with pytest.raises(DecodeError) as info:
        loads(body)
    assert info.value.entity == "response"


def test_dumps_keeps_decimal_digits_exactly():
    body = {"AmountFC": Decimal("0.1") + Decimal("0.2"), "Rate": Decimal("1.000000000000000001")}
    assert dumps(body) == b'{"AmountFC":0.3,"Rate":1.000000000000000001}'
    assert loads(dumps(body)) == body


def test_dumps_all_supported_types():
    body = {"s": 'quote " and é', "i": -5, "t": True, "f": False, "n": None, "l": [1, (2,)]}
    assert json.loads(dumps(body)) == {
        "s": 'quote " and é',
        "i": -5,
        "t": True,
        "f": False,
        "n": None,
        "l": [1, [2]],
    }
    assert dumps(Decimal("1E+2")) == b"100"
    assert dumps([]) == b"[]"
    assert dumps({}) == b"{}"


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"Lines": [{"AmountFC": 1.5}]}, "Lines[0].AmountFC"),
        ({"When": dt.date(2026, 1, 1)}, "When"),
        ({"X": Decimal("NaN")}, "X"),
        ({1: "a"}, None),
        ({"B": b"raw"}, "B"),
    ],
)
def test_dumps_rejects_floats_and_other_types(body, path):
    with pytest.raises(ConfigurationError) as info:
        dumps(body)
    assert info.value.key == path


@settings(max_examples=100)
@given(
    st.recursive(
        st.one_of(
            st.none(),
            st.booleans(),
            st.integers(),
            st.text(),
            st.decimals(allow_nan=False, allow_infinity=False),
        ),
        lambda children: st.one_of(
            st.lists(children, max_size=4), st.dictionaries(st.text(), children, max_size=4)
        ),
        max_leaves=10,
    )
)
def test_dumps_loads_round_trip(value):
    def normalise(v):
        # loads turns integral decimals written without a point into ints
        if isinstance(v, Decimal):
            return ("num", v)
        if isinstance(v, bool) or v is None or isinstance(v, str):
            return v
        if isinstance(v, int):
            return ("num", Decimal(v))
        if isinstance(v, list):
            return [normalise(x) for x in v]
        return {k: normalise(x) for k, x in v.items()}

    assert normalise(loads(dumps(value))) == normalise(value)


def test_base64_helpers():
    assert b64encode(b"%PDF-1.4\x00\xff") == "JVBERi0xLjQA/w=="
    assert b64decode("JVBERi0xLjQA/w==") == b"%PDF-1.4\x00\xff"
    with pytest.raises(ValueError, match="base64"):
        b64decode("not base64!")


# --------------------------------------------------------------------------- envelopes


def test_collection_with_results_and_next():
    payload = loads(
        b"""{"d": {"results": [
              {"__metadata": {"uri": "https://start.exactonline.fr/api/v1/124132/crm/Accounts(guid'1')",
                               "type": "Exact.Web.Api.Models.Account"}, "Name": "A"},
              {"Name": "B"}],
            "__next": "https://start.exactonline.fr/api/v1/124132/crm/Accounts?$top=40&$skiptoken=guid'790fc424-dc9f-405d-ab09-22d4ee00f653'"}}"""
    )
    page = parse_collection(payload)
    assert [row["Name"] for row in page.rows] == ["A", "B"]
    assert page.next_url == (
        "https://start.exactonline.fr/api/v1/124132/crm/Accounts"
        "?$top=40&$skiptoken=guid'790fc424-dc9f-405d-ab09-22d4ee00f653'"
    )
    assert page.count is None


def test_collection_last_page_and_count():
    page = parse_collection({"d": {"results": [], "__count": "125"}})
    assert page == Page(rows=[], next_url=None, count=125)
    assert parse_collection({"d": {"results": [{"a": 1}], "__count": 7}}).count == 7


def test_collection_bare_list_and_single_object():
    assert parse_collection({"d": [{"ID": 1}, {"ID": 2}]}) == Page(rows=[{"ID": 1}, {"ID": 2}])
    assert parse_collection({"d": {"ID": 1}}).rows == [{"ID": 1}]
    assert parse_collection({"d": {}}).rows == []


@pytest.mark.parametrize(
    "payload",
    [
        [],
        {"results": []},
        {"d": "text"},
        {"d": {"results": {"a": 1}}},
        {"d": {"results": [1]}},
        {"d": [["nested"]]},
        {"d": {"results": [], "__next": 5}},
        {"d": {"results": [], "__count": "many"}},
    ],
)
def test_collection_rejects_other_shapes(payload):
    with pytest.raises(DecodeError):
        parse_collection(payload)


def test_single_shapes():
    me = {"__metadata": {"type": "Exact.Web.Api.Models.System.Me"}, "CurrentDivision": 124132}
    assert parse_single({"d": me}) == me
    assert parse_single({"d": {"results": [me]}}) == me
    assert parse_single({"d": [me]}) == me


@pytest.mark.parametrize(
    "payload",
    [
        {"d": {"results": []}},
        {"d": {"results": [{"a": 1}, {"a": 2}]}},
        {"d": []},
        {"d": {}},
        {"d": None},
        {"error": {}},
        "d",
    ],
)
def test_single_rejects_other_shapes(payload):
    with pytest.raises(DecodeError):
        parse_single(payload)


# --------------------------------------------------------------------------- errors


def _error(status, body, headers=None, method="POST", url=URL):
    if isinstance(body, dict):
        body = json.dumps(body).encode()
    return parse_error(
        status=status,
        content=body,
        headers=headers if headers is not None else JSON,
        method=method,
        url=url,
    )


def test_odata_error_message_multi_line_localized():
    body = {
        "error": {
            "code": "",
            "message": {"lang": "", "value": "Verplicht: Factuur voor\r\nVerplicht: Besteld door"},
        }
    }
    error = _error(500, body)
    assert type(error) is ServerError
    assert error.message == "Verplicht: Factuur voor\r\nVerplicht: Besteld door"
    assert error.messages == ["Verplicht: Factuur voor", "Verplicht: Besteld door"]
    assert (error.status, error.method, error.url) == (500, "POST", URL)
    assert "Verplicht: Factuur voor" in str(error)


def test_error_status_classes():
    body = {"error": {"code": "", "message": {"lang": "", "value": "x"}}}
    assert type(_error(400, body)) is BadRequestError
    assert type(_error(401, body)) is AuthenticationError
    assert type(_error(404, body)) is NotFoundError
    assert type(_error(418, body)) is APIError


def test_token_endpoint_error_and_reason_header():
    error = _error(
        400,
        {
            "error": "access_denied",
            "error_description": "Rate limit exceeded: access_token not expired",
        },
        headers={
            **JSON,
            "Reason": "TooEarlyToRefreshTokens: Rate limit exceeded: access_token not expired",
        },
    )
    assert isinstance(error, BadRequestError)
    assert error.message == "access_denied: Rate limit exceeded: access_token not expired"
    assert error.reason == "TooEarlyToRefreshTokens: Rate limit exceeded: access_token not expired"
    assert _error(401, {"error": "unauthorized_client"}).message == "unauthorized_client"


def test_empty_and_unknown_json_bodies_use_status_phrase():
    assert _error(404, b"").message == "Not Found"
    assert _error(400, {"something": "else"}).message == "Bad Request"
    assert _error(400, {"error": {"code": "E1"}}).message == "E1"


def test_html_maintenance_page_is_service_unavailable():
    page = b"<html><head><title>Exact Online - Onderhoud</title></head><body>...</body></html>"
    for status in (200, 503):
        error = _error(status, page, headers={"Content-Type": "text/html"}, method="GET")
        assert type(error) is ServiceUnavailableError
        assert "Onderhoud" in error.message
    not_found = _error(404, page, headers={"Content-Type": "text/html"})
    assert type(not_found) is NotFoundError
    assert not_found.message == "Exact Online - Onderhoud"


def test_429_minutely_only_headers():
    headers = {
        "X-RateLimit-Minutely-Limit": "60",
        "X-RateLimit-Minutely-Remaining": "0",
        "X-RateLimit-Minutely-Reset": "1638447360000",
    }
    error = _error(429, b"", headers=headers, method="GET")
    assert type(error) is MinutelyRateLimitError
    assert error.reset_at == dt.datetime(2021, 12, 2, 12, 16, tzinfo=dt.timezone.utc)
    assert error.message.startswith("Too Many Requests")


def test_429_daily_exhausted():
    headers = {
        "x-ratelimit-limit": "5000",
        "x-ratelimit-remaining": "0",
        "x-ratelimit-reset": "1638489600000",
        "x-ratelimit-minutely-limit": "60",
        "x-ratelimit-minutely-remaining": "12",
        "x-ratelimit-minutely-reset": "1638447360000",
    }
    error = _error(429, b"", headers=headers)
    assert type(error) is DailyRateLimitError
    assert error.reset_at == dt.datetime(2021, 12, 3, tzinfo=dt.timezone.utc)
    daily_only = {k: v for k, v in headers.items() if "minutely" not in k}
    daily_only["x-ratelimit-remaining"] = "3"
    assert type(_error(429, b"", headers=daily_only)) is DailyRateLimitError


def test_429_with_daily_room_is_minutely_and_without_headers_too():
    headers = {
        "X-RateLimit-Remaining": "4000",
        "X-RateLimit-Reset": "1638489600000",
        "X-RateLimit-Minutely-Remaining": "0",
        "X-RateLimit-Minutely-Reset": "1638447360000",
    }
    assert type(_error(429, b"", headers=headers)) is MinutelyRateLimitError
    bare = _error(429, b"", headers={})
    assert type(bare) is MinutelyRateLimitError
    assert bare.reset_at is None


def test_secrets_never_reach_the_error():
    canary_token = "CANARY-ACCESS-TOKEN-1234"
    canary_refresh = "CANARY-REFRESH-5678"
    error = parse_error(
        status=400,
        content=json.dumps(
            {
                "error": "invalid_grant",
                "refresh_token": canary_refresh,
                "access_token": canary_token,
            }
        ).encode(),
        headers={**JSON, "Authorization": f"Bearer {canary_token}"},
        method="POST",
        url=f"https://start.exactonline.nl/api/oauth2/token?code={canary_token}&refresh_token={canary_refresh}",
    )
    for text in (str(error), repr(error), error.body, error.url, error.message):
        assert canary_token not in text
        assert canary_refresh not in text


def test_is_json_response():
    assert is_json_response(JSON, b' {"d": 1}')
    assert is_json_response({}, b"[1]")
    assert not is_json_response({"content-type": "text/html"}, b"{}")
    assert not is_json_response(JSON, b"<html>")
    assert not is_json_response(JSON, b"")


def test_check_json():
    assert check_json(200, JSON, b'{"d": {"A": 1.10}}', method="GET", url=URL) == {
        "d": {"A": Decimal("1.10")}
    }
    with pytest.raises(ServiceUnavailableError, match="non-JSON"):
        check_json(
            200,
            {"Content-Type": "text/html"},
            b"<html><title>Maintenance</title></html>",
            method="GET",
            url=URL,
        )
    with pytest.raises(ServiceUnavailableError, match="not valid JSON"):
        check_json(200, JSON, b'{"d": {"results": [', method="GET", url=URL)


def test_epoch_ms_to_utc():
    assert epoch_ms_to_utc(1638447360000) == dt.datetime(
        2021, 12, 2, 12, 16, tzinfo=dt.timezone.utc
    )
    assert epoch_ms_to_utc("1638447360") == dt.datetime(2021, 12, 2, 12, 16, tzinfo=dt.timezone.utc)
    assert epoch_ms_to_utc("soon") is None
    assert epoch_ms_to_utc("-5") is None


# --------------------------------------------------------------------------- dates


def test_odata_datetime_is_amsterdam_wall_clock():
    # Created of a POST at 14:31:00 GMT on 25 Jun 2026 (reference §2.5)
    value = parse_odata_datetime("/Date(1782405060220)/")
    assert value.tzinfo is AMSTERDAM
    assert value.replace(tzinfo=None) == dt.datetime(2026, 6, 25, 16, 31, 0, 220000)
    assert value.astimezone(dt.timezone.utc) == dt.datetime(
        2026, 6, 25, 14, 31, 0, 220000, tzinfo=dt.timezone.utc
    )
    assert parse_odata_datetime("/Date(1782405060220+0000)/") == value


def test_odata_datetime_winter_and_offsets():
    # 2026-01-15T10:00:00 wall clock in winter is 09:00 UTC
    ms = int(dt.datetime(2026, 1, 15, 10, 0, tzinfo=dt.timezone.utc).timestamp() * 1000)
    value = parse_odata_datetime(f"/Date({ms})/")
    assert value.utcoffset() == dt.timedelta(hours=1)
    assert value.astimezone(dt.timezone.utc).hour == 9
    # a non-zero offset means a true UTC instant (Microsoft JSON rule)
    shifted = parse_odata_datetime(f"/Date({ms}+0100)/")
    assert shifted.astimezone(dt.timezone.utc) == dt.datetime(
        2026, 1, 15, 10, 0, tzinfo=dt.timezone.utc
    )
    assert parse_odata_datetime("/Date(-86400000)/").date() == dt.date(1969, 12, 31)


def test_iso_datetimes():
    naive = parse_odata_datetime("2026-06-25T16:16:40")
    assert naive == dt.datetime(2026, 6, 25, 16, 16, 40, tzinfo=AMSTERDAM)
    zulu = parse_odata_datetime("2024-08-12T00:00:00Z")
    assert zulu.tzinfo is AMSTERDAM
    assert zulu.replace(tzinfo=None) == dt.datetime(2024, 8, 12, 2, 0)


@pytest.mark.parametrize("text", ["", "/Date(abc)/", "tomorrow", "/Date(1)", 5, None])
def test_bad_datetimes(text):
    with pytest.raises(ValueError, match="date"):
        parse_odata_datetime(text)
    with pytest.raises(ValueError, match="date"):
        parse_odata_date(text)


def test_odata_date():
    assert parse_odata_date("/Date(1782345600000)/") == dt.date(2026, 6, 25)
    assert parse_odata_date("2024-08-12") == dt.date(2024, 8, 12)
    assert parse_odata_date("2024-08-12T00:00:00Z") == dt.date(2024, 8, 12)


def test_format_date_and_datetime():
    assert format_date(dt.date(2026, 6, 25)) == "2026-06-25"
    with pytest.raises(ConfigurationError):
        format_date(dt.datetime(2026, 6, 25, tzinfo=dt.timezone.utc))
    with pytest.raises(ConfigurationError):
        format_date("2026-06-25")  # type: ignore[arg-type]
    instant = dt.datetime(2026, 6, 25, 14, 31, 0, 220000, tzinfo=dt.timezone.utc)
    assert format_datetime(instant) == "2026-06-25T16:31:00.22"
    assert (
        format_datetime(parse_odata_datetime("/Date(1782405060220)/")) == "2026-06-25T16:31:00.22"
    )
    with pytest.raises(ConfigurationError):
        format_datetime(dt.datetime(2026, 6, 25, 14, 31))


@settings(max_examples=100)
@given(
    st.datetimes(
        min_value=dt.datetime(1990, 1, 1),
        max_value=dt.datetime(2090, 1, 1),
        timezones=st.just(AMSTERDAM),
    )
)
def test_wall_clock_round_trip(value):
    # Exact's encoding: wall clock as if UTC, in milliseconds
    value = value.replace(microsecond=value.microsecond // 1000 * 1000)
    wall = value.replace(tzinfo=dt.timezone.utc)
    ms = int(
        (wall - dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)) / dt.timedelta(milliseconds=1)
    )
    parsed = parse_odata_datetime(f"/Date({ms})/")
    assert parsed.replace(tzinfo=None) == value.replace(tzinfo=None)
    assert parse_odata_datetime(format_datetime(parsed)).replace(tzinfo=None) == parsed.replace(
        tzinfo=None
    )
