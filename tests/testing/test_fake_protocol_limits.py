"""Rate limits, the error budget and injected faults (reference §3.4, §4, §1.5)."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import httpx
import pytest

from exactbridge.errors import ConfigurationError
from exactbridge.testing import FakeExactOnline, Fault

CONTACTS = "/api/v1/123/crm/Contacts"
UTC = dt.timezone.utc
SIX = {
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "X-RateLimit-Minutely-Limit",
    "X-RateLimit-Minutely-Remaining",
    "X-RateLimit-Minutely-Reset",
}


def ms(value: dt.datetime) -> str:
    return str(int(value.timestamp() * 1000))


def renew(http: httpx.Client, fake: FakeExactOnline) -> None:
    """After moving the clock far, the old access token has expired: get a new one."""
    http.headers["Authorization"] = f"Bearer {fake.issue_tokens().access_token}"


def limit_headers(response: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k.lower().startswith("x-ratelimit")}


def test_six_headers_on_success_with_ms_resets(proto_http, proto_fake):
    # the clock stands at 2026-03-02 09:00:30 UTC
    response = proto_http.get(CONTACTS)
    assert response.status_code == 200
    headers = response.headers
    assert {name.lower() for name in SIX} <= set(headers.keys())
    assert headers["X-RateLimit-Limit"] == "5000"
    assert headers["X-RateLimit-Remaining"] == "4999"
    assert headers["X-RateLimit-Reset"] == ms(dt.datetime(2026, 3, 3, tzinfo=UTC))
    assert headers["X-RateLimit-Minutely-Limit"] == "60"
    assert headers["X-RateLimit-Minutely-Remaining"] == "59"
    assert headers["X-RateLimit-Minutely-Reset"] == ms(dt.datetime(2026, 3, 2, 9, 1, tzinfo=UTC))
    assert len(headers["X-RateLimit-Reset"]) == 13


def test_error_answers_carry_no_limit_headers(proto_http):
    response = proto_http.get(CONTACTS + "(guid'00000000-0000-0000-0000-000000000000')")
    assert response.status_code == 404
    assert limit_headers(response) == {}


def test_minutely_limit_gives_429_with_only_the_minutely_trio(proto_http, proto_fake):
    proto_fake.minutely_limit = 3
    statuses = [proto_http.get(CONTACTS).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    refused = proto_http.get(CONTACTS)
    assert refused.status_code == 429
    assert set(limit_headers(refused)) == {
        "x-ratelimit-minutely-limit",
        "x-ratelimit-minutely-remaining",
        "x-ratelimit-minutely-reset",
    }
    assert refused.headers["X-RateLimit-Minutely-Remaining"] == "0"
    assert refused.headers["X-RateLimit-Minutely-Reset"] == ms(
        dt.datetime(2026, 3, 2, 9, 1, tzinfo=UTC)
    )
    assert proto_fake.rate_limit_used(123) == (3, 3)  # refused calls are not counted
    proto_fake.clock.advance(30)  # 09:01:00, a new minute
    assert proto_http.get(CONTACTS).status_code == 200


def test_daily_limit_gives_429_with_the_daily_trio(proto_http, proto_fake):
    proto_fake.daily_limit = 2
    assert [proto_http.get(CONTACTS).status_code for _ in range(2)] == [200, 200]
    refused = proto_http.get(CONTACTS)
    assert refused.status_code == 429
    assert set(limit_headers(refused)) == {
        "x-ratelimit-limit",
        "x-ratelimit-remaining",
        "x-ratelimit-reset",
    }
    assert refused.headers["X-RateLimit-Reset"] == ms(dt.datetime(2026, 3, 3, tzinfo=UTC))
    proto_fake.clock.set(dt.datetime(2026, 3, 3, 0, 0, 1, tzinfo=UTC))
    renew(proto_http, proto_fake)
    assert proto_http.get(CONTACTS).status_code == 200


def test_limits_are_per_division(proto_http, proto_fake):
    proto_fake.add_division(456, template=None)
    proto_fake.minutely_limit = 1
    assert proto_http.get(CONTACTS).status_code == 200
    assert proto_http.get("/api/v1/456/crm/Contacts").status_code == 200
    assert proto_http.get(CONTACTS).status_code == 429


def test_error_budget_blocks_an_endpoint_for_an_hour(proto_http, proto_fake):
    missing = CONTACTS + f"(guid'{uuid.UUID(int=7)}')"
    statuses = [proto_http.get(missing).status_code for _ in range(11)]
    assert statuses == [404] * 11
    blocked = proto_http.get(CONTACTS)
    assert blocked.status_code == 403
    message = json.loads(blocked.text)["error"]["message"]["value"]
    assert "more than 10 failed calls" in message
    assert "crm/Contacts" in message
    # other endpoints of the division are not affected
    assert proto_http.get("/api/v1/123/system/Divisions").status_code == 200
    proto_fake.clock.advance(3599)
    renew(proto_http, proto_fake)
    assert proto_http.get(CONTACTS).status_code == 403
    proto_fake.clock.advance(1)
    assert proto_http.get(CONTACTS).status_code == 200


def test_ten_errors_an_hour_are_tolerated(proto_http, proto_fake):
    missing = CONTACTS + f"(guid'{uuid.UUID(int=7)}')"
    for _ in range(10):
        proto_http.get(missing)
    proto_fake.clock.advance(3600)
    renew(proto_http, proto_fake)
    for _ in range(10):
        proto_http.get(missing)
    assert proto_http.get(CONTACTS).status_code == 200


def test_error_budget_counts_400_and_401(proto_fake, proto_http):
    proto_fake.error_budget = 2
    unauthenticated = httpx.Client(
        transport=proto_fake.transport(), base_url="https://start.exactonline.nl"
    )
    assert unauthenticated.get(CONTACTS).status_code == 401
    assert proto_http.get(CONTACTS, params={"$filter": "Nope eq 1"}).status_code == 400
    assert proto_http.get(CONTACTS, params={"$top": "x"}).status_code == 400
    assert proto_http.get(CONTACTS).status_code == 403


# -- faults -----------------------------------------------------------------------------------


def test_server_error_fault_is_500_then_normal(proto_http, proto_fake):
    proto_fake.fail_next(Fault.SERVER_ERROR, times=2, method="GET")
    first = proto_http.get(CONTACTS)
    assert first.status_code == 500
    assert json.loads(first.text)["error"]["message"]["value"].startswith("A problem has occurred")
    assert proto_http.get(CONTACTS).status_code == 500
    assert proto_http.get(CONTACTS).status_code == 200
    assert [call.fault for call in proto_fake.calls] == [
        Fault.SERVER_ERROR,
        Fault.SERVER_ERROR,
        None,
    ]


def test_503_variant_and_matching_by_method_and_path(proto_http, proto_fake):
    proto_fake.fail_next(Fault.SERVER_ERROR, method="POST", path="crm/contacts", status=503)
    assert proto_http.get(CONTACTS).status_code == 200
    assert proto_http.post("/api/v1/123/crm/Accounts", json={"Name": "x"}).status_code == 201
    response = proto_http.post(CONTACTS, json={"Account": str(uuid.uuid4())})
    assert response.status_code == 503
    assert proto_fake.domain.rows(123, proto_fake.domain.entity_set("crm/Contacts")) == []


def test_rate_limit_fault(proto_http, proto_fake):
    proto_fake.fail_next(Fault.RATE_LIMIT)
    response = proto_http.get(CONTACTS)
    assert response.status_code == 429
    assert response.headers["X-RateLimit-Minutely-Remaining"] == "0"
    assert "X-RateLimit-Remaining" not in response.headers


@pytest.mark.parametrize(
    ("kind", "exception"),
    [(Fault.TIMEOUT, httpx.ReadTimeout), (Fault.CONNECTION_ERROR, httpx.ConnectError)],
)
def test_transport_faults_raise_and_apply_nothing(proto_http, proto_fake, kind, exception):
    proto_fake.fail_next(kind, method="POST")
    with pytest.raises(exception):
        proto_http.post(CONTACTS, json={"Account": str(uuid.uuid4())})
    assert proto_fake.domain.rows(123, proto_fake.domain.entity_set("crm/Contacts")) == []
    assert proto_fake.calls[-1].status is None
    assert proto_fake.calls[-1].fault is kind


def test_lost_response_applies_the_write(proto_http, proto_fake):
    proto_fake.fail_next(Fault.LOST_RESPONSE, method="POST")
    with pytest.raises(httpx.ReadTimeout):
        proto_http.post(CONTACTS, json={"Account": str(uuid.uuid4())})
    assert len(proto_fake.domain.rows(123, proto_fake.domain.entity_set("crm/Contacts"))) == 1
    assert proto_fake.calls[-1].status == 201
    assert proto_fake.calls[-1].fault is Fault.LOST_RESPONSE


def test_maintenance_page_is_200_html(proto_http, proto_fake):
    proto_fake.fail_next(Fault.MAINTENANCE)
    response = proto_http.get(CONTACTS)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/html")
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.text)


def test_faults_on_the_token_endpoint(proto_fake: FakeExactOnline):
    proto_fake.fail_next(Fault.SERVER_ERROR, path="/api/oauth2/token")
    client = httpx.Client(transport=proto_fake.transport(), base_url="https://x.example")
    assert client.post("/api/oauth2/token", data={"grant_type": "x"}).status_code == 500
    assert proto_fake.token_calls == 1
    assert proto_fake.calls[-1].endpoint == "oauth2/token"


def test_faulted_calls_are_logged_with_division_and_endpoint(proto_http, proto_fake):
    proto_fake.fail_next(Fault.SERVER_ERROR)
    proto_http.get(CONTACTS + "(guid'00000000-0000-0000-0000-000000000001')")
    call = proto_fake.calls[-1]
    assert (call.division, call.endpoint, call.status) == (123, "crm/Contacts", 500)


def test_fail_next_validates_its_arguments(proto_fake):
    with pytest.raises(ConfigurationError):
        proto_fake.fail_next(Fault.TIMEOUT, times=0)
    with pytest.raises(ConfigurationError):
        proto_fake.fail_next(Fault.TIMEOUT, status=503)


@pytest.mark.asyncio
async def test_async_faults(proto_fake: FakeExactOnline):
    grant = proto_fake.issue_tokens()
    proto_fake.fail_next(Fault.TIMEOUT)
    async with httpx.AsyncClient(
        transport=proto_fake.async_transport(),
        base_url="https://start.exactonline.nl",
        headers={"Authorization": f"Bearer {grant.access_token}"},
    ) as client:
        with pytest.raises(httpx.ReadTimeout):
            await client.get(CONTACTS)
        assert (await client.get(CONTACTS)).status_code == 200
