"""Your own httpx.Client / AsyncClient for the Exact client and every source client.

Each test hands a client with an event hook, a default header and a timeout of its
own, reads through exactbridge, and checks that every request went through that
client, carried its header, and that closing exactbridge's client left it open.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from exactbridge.errors import ConfigurationError
from exactbridge.sources.coachview import AsyncCoachviewClient, CoachviewClient
from exactbridge.sources.eduframe import AsyncEduframeClient, EduframeClient
from exactbridge.sources.paynl import AsyncPayClient, PayClient
from exactbridge.sources.virtuagym import AsyncVirtuagymClient, VirtuagymClient
from exactbridge.testing import FakeClock, FakeCoachview, FakeEduframe, FakeExactOnline
from exactbridge.testing.paynl import FakePay
from exactbridge.testing.virtuagym import FakeVirtuagym

DIVISION = 123
HEADER = ("X-Host-App", "gym-suite/4.2")


class Seen:
    """An event hook that keeps every request the user's client sent."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> None:
        self.requests.append(request)

    async def hook(self, request: httpx.Request) -> None:
        self.requests.append(request)

    def assert_all_marked(self) -> None:
        assert self.requests, "no request went through the client you passed"
        for request in self.requests:
            assert request.headers.get(HEADER[0]) == HEADER[1], request.url


def _sync_client(transport: httpx.BaseTransport, seen: Seen) -> httpx.Client:
    return httpx.Client(
        transport=transport,
        headers=dict([HEADER]),
        timeout=7.0,
        event_hooks={"request": [seen]},
    )


def _async_client(transport: httpx.AsyncBaseTransport, seen: Seen) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=transport,
        headers=dict([HEADER]),
        timeout=7.0,
        event_hooks={"request": [seen.hook]},
    )


# -- Exact ---------------------------------------------------------------------------------


def _exact() -> FakeExactOnline:
    fake = FakeExactOnline()
    fake.add_division(DIVISION, template="nl")
    return fake


def test_exact_sends_every_call_through_your_client_with_its_timeout_and_headers() -> None:
    fake = _exact()
    seen = Seen()
    with _sync_client(fake.transport(), seen) as http:
        with fake.client(DIVISION, http_client=http) as exact:
            journals = list(exact.journals.iterate())
            assert journals
            assert exact.calls == len(seen.requests)
        assert not http.is_closed  # closing exactbridge's client leaves yours open
        assert http.get(fake.base_url + "/api/v1/current/Me").status_code == 401
    seen.assert_all_marked()
    assert all(r.headers["Authorization"].startswith("Bearer ") for r in seen.requests[:-1])
    assert {r.extensions["timeout"]["read"] for r in seen.requests[:-1]} == {7.0}
    assert fake.count(path="/api/v1/123/financial/Journals") == 1


def test_exact_applies_its_timeout_when_it_builds_its_own_client() -> None:
    fake = _exact()
    timeouts: list[Any] = []

    def handler(request: httpx.Request) -> httpx.Response:
        timeouts.append(request.extensions.get("timeout"))
        return fake.handle(request)

    with fake.client(DIVISION, transport=httpx.MockTransport(handler), timeout=12.5) as exact:
        exact.me()
    with fake.client(DIVISION, transport=httpx.MockTransport(handler)) as exact:
        exact.me()
    assert [t["read"] for t in timeouts] == [12.5, 60.0]


@pytest.mark.asyncio
async def test_async_exact_sends_every_call_through_your_async_client() -> None:
    fake = _exact()
    seen = Seen()
    async with _async_client(fake.async_transport(), seen) as http:
        async with fake.async_client(DIVISION, http_client=http) as exact:
            me = await exact.me()
            assert me.current_division == DIVISION
        assert not http.is_closed
    seen.assert_all_marked()
    assert seen.requests[0].extensions["timeout"]["read"] == 7.0


def _unused(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"no request was to be sent: {request.url}")


@pytest.mark.parametrize("conflict", [{"transport": httpx.MockTransport(_unused)}, {"timeout": 5}])
def test_exact_refuses_your_client_together_with_a_transport_or_timeout(
    conflict: dict[str, Any],
) -> None:
    fake = _exact()
    with httpx.Client() as http, pytest.raises(ConfigurationError, match="http_client") as info:
        fake.client(DIVISION, http_client=http, **conflict)
    assert info.value.key in conflict


# -- sources -------------------------------------------------------------------------------

SyncRead = Callable[[Seen, FakeClock], int]


def _virtuagym_read(seen: Seen, clock: FakeClock) -> int:
    fake = FakeVirtuagym(clock=clock)
    fake.add_member(firstname="Ada", lastname="Vos", email="ada@example.nl")
    with _sync_client(fake.transport(), seen) as http:
        with VirtuagymClient(fake.credentials, http_client=http, clock=clock) as client:
            count = len(client.members().all())
        assert not http.is_closed  # closing exactbridge's client leaves yours open
    return count


def _eduframe_read(seen: Seen, clock: FakeClock) -> int:
    fake = FakeEduframe(clock=clock)
    fake.seed_institute(courses=1, editions_per_course=1, accounts=2, invoices=3)
    with _sync_client(fake.transport(), seen) as http:
        with EduframeClient(fake.credentials, http_client=http, clock=clock) as client:
            count = len(client.invoices().all())
        assert not http.is_closed
    return count


def _coachview_read(seen: Seen, clock: FakeClock) -> int:
    fake = FakeCoachview(clock=clock)
    fake.add_client("cv-own", "cv-secret")
    fake.seed_invoices(4)
    with _sync_client(fake.transport(), seen) as http:
        with CoachviewClient("cv-own", "cv-secret", http_client=http, clock=clock) as client:
            count = len(client.list_invoices().all())
        assert not http.is_closed
    assert fake.token_calls == 1  # the token request went through your client as well
    return count


def _pay_read(seen: Seen, clock: FakeClock) -> int:
    fake = FakePay()
    fake.seed(settlements=3, transactions=2)
    with _sync_client(fake.transport(), seen) as http:
        with PayClient(fake.token_code, fake.api_token, http_client=http, clock=clock) as client:
            count = len(client.list_settlements().all())
        assert not http.is_closed
    return count


@pytest.mark.parametrize(
    ("read", "expected"),
    [(_virtuagym_read, 1), (_eduframe_read, 3), (_coachview_read, 4), (_pay_read, 3)],
    ids=["virtuagym", "eduframe", "coachview", "paynl"],
)
def test_a_source_client_sends_every_request_through_your_client(
    read: SyncRead, expected: int
) -> None:
    seen = Seen()
    assert read(seen, FakeClock()) == expected
    seen.assert_all_marked()


@pytest.mark.asyncio
async def test_async_source_clients_send_every_request_through_your_async_client() -> None:
    clock = FakeClock()
    vg = FakeVirtuagym(clock=clock)
    vg.add_member(firstname="Ada", lastname="Vos", email="ada@example.nl")
    ef = FakeEduframe(clock=clock)
    ef.seed_institute(courses=1, editions_per_course=1, accounts=2, invoices=3)
    cv = FakeCoachview(clock=clock)
    cv.add_client("cv-own", "cv-secret")
    cv.seed_invoices(4)
    pay = FakePay()
    pay.seed(settlements=3, transactions=2)
    counts: dict[str, int] = {}
    seen: dict[str, Seen] = {name: Seen() for name in ("vg", "ef", "cv", "pay")}
    async with _async_client(vg.async_transport(), seen["vg"]) as http:
        async with AsyncVirtuagymClient(vg.credentials, http_client=http, clock=clock) as c1:
            counts["vg"] = len(await c1.members().all())
        assert not http.is_closed
    async with _async_client(ef.async_transport(), seen["ef"]) as http:
        async with AsyncEduframeClient(ef.credentials, http_client=http, clock=clock) as c2:
            counts["ef"] = len(await c2.invoices().all())
        assert not http.is_closed
    async with _async_client(cv.async_transport(), seen["cv"]) as http:
        async with AsyncCoachviewClient("cv-own", "cv-secret", http_client=http, clock=clock) as c3:
            counts["cv"] = len(await c3.list_invoices().all())
        assert not http.is_closed
    async with _async_client(pay.async_transport(), seen["pay"]) as http:
        async with AsyncPayClient(pay.token_code, pay.api_token, http_client=http) as c4:
            counts["pay"] = len(await c4.list_settlements().all())
        assert not http.is_closed
    assert counts == {"vg": 1, "ef": 3, "cv": 4, "pay": 3}
    for one in seen.values():
        one.assert_all_marked()


def test_a_source_client_refuses_your_client_together_with_a_transport() -> None:
    fake = FakeVirtuagym()
    with httpx.Client() as http, pytest.raises(ConfigurationError, match="not both"):
        VirtuagymClient(fake.credentials, http_client=http, transport=fake.transport())
    with httpx.Client() as http, pytest.raises(ConfigurationError, match="not both"):
        CoachviewClient("a", "b", http_client=http, transport=FakeCoachview().transport())
