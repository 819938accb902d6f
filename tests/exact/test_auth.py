"""OAuth2 for Exact Online: URLs, the sans-I/O token flows and ExactAuth's rules.

ExactAuth runs against the fake Exact Online (``exactbridge.testing``) through a real
httpx client, once with ``httpx.Client`` and once with ``httpx.AsyncClient``; a
MockTransport in front of the fake lets a test watch or replace single answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import threading
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from exactbridge.errors import (
    AuthorizationRequiredError,
    ConfigurationError,
    RefreshTooEarlyError,
    TokenConflictError,
    TokenEndpointError,
)
from exactbridge.exact.auth import (
    COUNTRY_BASE_URLS,
    Credentials,
    ExactAuth,
    MemoryTokenStore,
    OldRefreshTokenError,
    Token,
    authorization_url,
    base_url_for_country,
    exchange_code_flow,
    refresh_flow,
)
from exactbridge.testing import FakeClock, FakeExactOnline

CLIENT_ID = "3f7c9a10-5b2e-4c1d-8e9f-0a1b2c3d4e5f"
CLIENT_SECRET = "canary-secret-Pq4Rz8"
REDIRECT_URI = "https://app.example/exact/callback"
BASE = "https://start.exactonline.nl"
ME = BASE + "/api/v1/current/Me"
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.timezone.utc)
CREDENTIALS = Credentials(CLIENT_ID, CLIENT_SECRET, REDIRECT_URI)


# -- sites, credentials, authorization URL ------------------------------------------------


def test_every_country_has_its_exact_site():
    expected = {
        "nl": "https://start.exactonline.nl",
        "be": "https://start.exactonline.be",
        "de": "https://start.exactonline.de",
        "uk": "https://start.exactonline.co.uk",
        "us": "https://start.exactonline.com",
        "es": "https://start.exactonline.es",
        "fr": "https://start.exactonline.fr",
    }
    assert dict(COUNTRY_BASE_URLS) == expected
    for country, url in expected.items():
        assert base_url_for_country(country) == url
        assert base_url_for_country(f" {country.upper()} ") == url


@pytest.mark.parametrize("country", ["gb", "nederland", "", "xx"])
def test_an_unknown_country_is_a_configuration_error(country: str):
    with pytest.raises(ConfigurationError, match="country") as info:
        base_url_for_country(country)
    assert "nl" in str(info.value)


def test_credentials_hide_the_secret():
    for text in (repr(CREDENTIALS), str(CREDENTIALS)):
        assert CLIENT_SECRET not in text
        assert CLIENT_ID in text


@pytest.mark.parametrize("field", ["client_id", "client_secret", "redirect_uri"])
def test_credentials_need_every_field(field: str):
    values = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "redirect_uri": REDIRECT_URI}
    values[field] = " "
    with pytest.raises(ConfigurationError, match=field):
        Credentials(**values)


def test_authorization_url_asks_for_a_code():
    url = authorization_url(CREDENTIALS, base_url=BASE + "/", state="st-123")
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == (
        "https",
        "start.exactonline.nl",
        "/api/oauth2/auth",
    )
    assert parse_qs(parts.query) == {
        "response_type": ["code"],
        "client_id": [CLIENT_ID],
        "redirect_uri": [REDIRECT_URI],
        "state": ["st-123"],
    }
    assert CLIENT_SECRET not in url


def test_authorization_url_can_force_the_login_screen():
    url = authorization_url(CREDENTIALS, base_url=BASE, force_login=True)
    query = parse_qs(urlsplit(url).query)
    assert query["force_login"] == ["1"]
    assert "state" not in query


def test_authorization_url_allows_plain_http_only_on_loopback():
    url = authorization_url(CREDENTIALS, base_url="http://127.0.0.1:8765")
    assert url.startswith("http://127.0.0.1:8765/api/oauth2/auth?")
    for bad in ("http://start.exactonline.nl", "ftp://x", "start.exactonline.nl"):
        with pytest.raises(ConfigurationError, match="base_url"):
            authorization_url(CREDENTIALS, base_url=bad)


# -- the sans-I/O flows -------------------------------------------------------------------


def run_flow(flow: Any, response: httpx.Response) -> tuple[httpx.Request, Any]:
    request = next(flow)
    with pytest.raises(StopIteration) as done:
        flow.send(response)
    return request, done.value.value


def token_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "access_token": "acc-canary-A1",
        "token_type": "bearer",
        "expires_in": "600",
        "refresh_token": "ref-canary-R1",
    }
    body.update(overrides)
    return body


def answer(status: int, body: Any = None, headers: dict[str, str] | None = None) -> httpx.Response:
    if isinstance(body, (dict, list)):
        return httpx.Response(status, json=body, headers=headers)
    return httpx.Response(status, content=(body or "").encode(), headers=headers)


def test_exchange_code_flow_posts_a_form_without_authorization_header():
    clock = FakeClock(T0)
    flow = exchange_code_flow(CREDENTIALS, base_url=BASE, code="code!canary", clock=clock)
    request, token = run_flow(flow, answer(200, token_body()))
    assert request.method == "POST"
    assert str(request.url) == BASE + "/api/oauth2/token"
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert "Authorization" not in request.headers
    assert parse_qs(request.content.decode()) == {
        "grant_type": ["authorization_code"],
        "code": ["code!canary"],
        "redirect_uri": [REDIRECT_URI],
        "client_id": [CLIENT_ID],
        "client_secret": [CLIENT_SECRET],
    }
    assert token == Token("acc-canary-A1", "ref-canary-R1", T0, 600, 0)


def test_refresh_flow_sends_the_refresh_token_and_keeps_the_generation():
    clock = FakeClock(T0 + dt.timedelta(seconds=575))
    old = Token("acc-old", "__1P!Iold", T0, generation=7)
    request, token = run_flow(
        refresh_flow(CREDENTIALS, base_url=BASE, token=old, clock=clock), answer(200, token_body())
    )
    assert "Authorization" not in request.headers
    assert parse_qs(request.content.decode()) == {
        "grant_type": ["refresh_token"],
        "refresh_token": ["__1P!Iold"],
        "client_id": [CLIENT_ID],
        "client_secret": [CLIENT_SECRET],
    }
    assert token.issued_at == T0 + dt.timedelta(seconds=575)
    assert token.generation == 7
    assert token.access_token == "acc-canary-A1"


@pytest.mark.parametrize(
    ("expires_in", "token_type", "seconds"),
    [("600", "bearer", 600), (600, "Bearer", 600), (" 300 ", "BEARER", 300), (None, "bearer", 600)],
)
def test_token_answers_accept_string_or_int_lifetimes(
    expires_in: Any, token_type: str, seconds: int
):
    body = token_body(expires_in=expires_in, token_type=token_type)
    if expires_in is None:
        del body["expires_in"]
    _, token = run_flow(
        exchange_code_flow(CREDENTIALS, base_url=BASE, code="c", clock=FakeClock(T0)),
        answer(200, body),
    )
    assert token.expires_in == seconds
    assert token.expires_at == T0 + dt.timedelta(seconds=seconds)


TOO_EARLY_REASON = "TooEarlyToRefreshTokens: Rate limit exceeded: access_token not expired"


@pytest.mark.parametrize(
    ("response", "error"),
    [
        (
            answer(
                400,
                {
                    "error": "access_denied",
                    "error_description": "Rate limit exceeded: access_token not expired",
                },
                {"Reason": TOO_EARLY_REASON},
            ),
            RefreshTooEarlyError,
        ),
        (
            answer(
                401,
                {"error": "unauthorized_client", "error_description": "Old refresh token used."},
            ),
            OldRefreshTokenError,
        ),
        (
            answer(
                400,
                {
                    "error": "invalid_request",
                    "error_description": "The refresh token expired at 10/11/2022 9:18:20 PM "
                    "and it is now 10/28/2022 4:15:50 PM.",
                },
            ),
            AuthorizationRequiredError,
        ),
        (
            answer(400, {"error": "invalid_grant", "error_description": "revoked"}),
            AuthorizationRequiredError,
        ),
        (
            answer(401, {"error": "invalid_client", "error_description": "Invalid client."}),
            TokenEndpointError,
        ),
        (answer(500, "<html>Onderhoud</html>"), TokenEndpointError),
        (answer(200, "<html>maintenance</html>"), TokenEndpointError),
        (answer(200, token_body(refresh_token="")), TokenEndpointError),
        (answer(200, token_body(token_type="mac")), TokenEndpointError),
        (answer(200, token_body(expires_in="ten minutes")), TokenEndpointError),
        (answer(200, token_body(expires_in=True)), TokenEndpointError),
        (answer(400, {"error": "unsupported_grant_type"}), TokenEndpointError),
    ],
)
def test_refresh_errors_map_to_typed_exceptions(response: httpx.Response, error: type[Exception]):
    old = Token("acc-canary-OLD", "ref-canary-OLD", T0)
    flow = refresh_flow(CREDENTIALS, base_url=BASE, token=old, clock=FakeClock(T0))
    next(flow)
    with pytest.raises(error) as info:
        flow.send(response)
    assert type(info.value) is error
    text = str(info.value)
    for secret in ("acc-canary-OLD", "ref-canary-OLD", CLIENT_SECRET, "acc-canary-A1"):
        assert secret not in text
    if error is AuthorizationRequiredError:
        assert "authorize the app again" in text


def test_expired_refresh_token_message_keeps_exacts_explanation():
    flow = refresh_flow(
        CREDENTIALS, base_url=BASE, token=Token("a-xx", "r-xx", T0), clock=FakeClock(T0)
    )
    next(flow)
    with pytest.raises(AuthorizationRequiredError, match="expired at 10/11/2022"):
        flow.send(
            answer(
                400,
                {
                    "error": "invalid_request",
                    "error_description": "The refresh token expired at 10/11/2022.",
                },
            )
        )


def test_secrets_echoed_by_the_token_endpoint_are_scrubbed():
    old = Token("acc-canary-OLD", "ref-canary-OLD", T0)
    flow = refresh_flow(CREDENTIALS, base_url=BASE, token=old, clock=FakeClock(T0))
    next(flow)
    echo = f"bad client {CLIENT_SECRET} with token ref-canary-OLD"
    with pytest.raises(TokenEndpointError) as info:
        flow.send(answer(400, {"error": "weird", "error_description": echo}, {"Reason": echo}))
    assert CLIENT_SECRET not in str(info.value)
    assert "ref-canary-OLD" not in str(info.value)
    assert CLIENT_SECRET not in info.value.description
    assert info.value.status == 400
    assert info.value.error == "weird"


def test_an_authorization_code_refusal_asks_to_authorize_again():
    flow = exchange_code_flow(CREDENTIALS, base_url=BASE, code="code-canary-X", clock=FakeClock(T0))
    next(flow)
    with pytest.raises(AuthorizationRequiredError) as info:
        flow.send(
            answer(400, {"error": "invalid_grant", "error_description": "code-canary-X is used"})
        )
    assert "code-canary-X" not in str(info.value)


# -- ExactAuth against the fake -----------------------------------------------------------

Intercept = Callable[[httpx.Request], "httpx.Response | None"]


class World:
    """The fake Exact Online, a token store, an ExactAuth and a sync or async caller."""

    def __init__(
        self,
        mode: str,
        *,
        client_clock: FakeClock | None = None,
        store: Any = None,
        make_store: Callable[[Token, FakeExactOnline], Any] | None = None,
    ):
        self.mode = mode
        self.clock = FakeClock(T0)  # the fake's clock
        self.client_clock = client_clock or self.clock
        self.fake = FakeExactOnline(clock=self.clock, minutely_limit=100_000, error_budget=1_000)
        self.fake.register_app(CLIENT_ID, CLIENT_SECRET, REDIRECT_URI)
        self.fake.add_division(1234567)
        if store is None:
            grant = self.fake.issue_tokens(CLIENT_ID)
            first = Token(grant.access_token, grant.refresh_token, grant.issued_at)
            store = make_store(first, self.fake) if make_store else MemoryTokenStore(first)
        self.store = store
        self.auth = ExactAuth(CREDENTIALS, self.store, base_url=BASE, clock=self.client_clock)
        self.requests: list[httpx.Request] = []
        self.intercept: Intercept | None = None
        self.transport = httpx.MockTransport(self._handle)

    def _handle(self, request: httpx.Request) -> httpx.Response:
        # a snapshot: a retried request is the same object with a new Authorization header
        self.requests.append(
            httpx.Request(
                request.method, request.url, headers=request.headers.copy(), content=request.content
            )
        )
        if self.intercept is not None:
            replaced = self.intercept(request)
            if replaced is not None:
                return replaced
        return self.fake.handle(request)

    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)
        if self.client_clock is not self.clock:
            self.client_clock.advance(seconds)

    def get(self, url: str = ME) -> httpx.Response:
        if self.mode == "sync":
            with httpx.Client(transport=self.transport, auth=self.auth) as client:
                return client.get(url)

        async def go() -> httpx.Response:
            async with httpx.AsyncClient(transport=self.transport, auth=self.auth) as client:
                return await client.get(url)

        return asyncio.run(go())

    def exchange(self, code: str) -> Token:
        if self.mode == "sync":
            with httpx.Client(transport=self.transport) as client:
                return self.auth.exchange_code(client, code)

        async def go() -> Token:
            async with httpx.AsyncClient(transport=self.transport) as client:
                return await self.auth.aexchange_code(client, code)

        return asyncio.run(go())

    # observations
    def token_statuses(self) -> list[int]:
        return [call.status for call in self.fake.token_log]

    def api_requests(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path.startswith("/api/v1/")]

    def bearer(self, request: httpx.Request) -> str:
        return request.headers["Authorization"].removeprefix("Bearer ")

    def stored(self) -> Token:
        token = self.store.load()
        assert isinstance(token, Token)
        return token


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.mark.parametrize("age", [0, 1, 300, 569])
def test_no_refresh_before_570_seconds(mode: str, age: int):
    world = World(mode)
    first = world.stored()
    world.advance(age)
    assert world.get().status_code == 200
    assert world.token_statuses() == []
    assert world.bearer(world.api_requests()[0]) == first.access_token
    assert world.stored() == first


@pytest.mark.parametrize("age", [570, 571, 599, 600, 601, 3600])
def test_refresh_from_570_seconds_on_then_use_the_new_token(mode: str, age: int):
    world = World(mode)
    first = world.stored()
    world.advance(age)
    assert world.get().status_code == 200
    assert world.token_statuses() == [200]
    rotated = world.stored()
    assert rotated.generation == first.generation + 1
    assert rotated.issued_at == T0 + dt.timedelta(seconds=age)
    assert rotated.refresh_token != first.refresh_token
    assert world.bearer(world.api_requests()[0]) == rotated.access_token
    # further calls at the same moment use the rotated token without refreshing
    assert world.get().status_code == 200
    assert world.token_statuses() == [200]
    assert world.auth.token == rotated


def test_refresh_again_after_the_next_570_seconds(mode: str):
    world = World(mode)
    world.advance(580)
    world.get()
    world.advance(569)
    world.get()
    assert world.token_statuses() == [200]
    world.advance(1)
    world.get()
    assert world.token_statuses() == [200, 200]
    assert world.stored().generation == 2


def test_the_rotated_pair_is_saved_before_its_access_token_is_used(mode: str):
    world = World(mode)
    checks: list[bool] = []

    def check(request: httpx.Request) -> None:
        if request.url.path.startswith("/api/v1/"):
            checks.append(world.bearer(request) == world.stored().access_token)

    world.intercept = check
    world.advance(590)
    assert world.get().status_code == 200
    world.advance(590)
    assert world.get().status_code == 200
    assert checks == [True, True]
    assert world.token_statuses() == [200, 200]
    paths = [r.url.path for r in world.requests]
    assert paths == ["/api/oauth2/token", "/api/v1/current/Me"] * 2


def test_an_unexpected_401_refreshes_once_and_retries_once(mode: str):
    client_clock = FakeClock(T0)
    world = World(mode, client_clock=client_clock)
    first = world.stored()
    client_clock.advance(100)  # the client thinks the token is young...
    world.clock.advance(605)  # ...but Exact says it expired
    response = world.get()
    assert response.status_code == 200
    assert world.token_statuses() == [200]
    api = world.api_requests()
    assert len(api) == 2
    assert world.bearer(api[0]) == first.access_token
    assert world.bearer(api[1]) == world.stored().access_token
    assert world.stored().generation == 1


def test_a_second_401_is_returned_not_retried(mode: str):
    client_clock = FakeClock(T0)
    world = World(mode, client_clock=client_clock)
    client_clock.advance(100)
    world.clock.advance(600)

    def always_401(request: httpx.Request) -> httpx.Response | None:
        if request.url.path.startswith("/api/v1/"):
            return httpx.Response(401, json={"error": {"message": {"value": "nope"}}})
        return None

    world.intercept = always_401
    response = world.get()
    assert response.status_code == 401
    assert len(world.api_requests()) == 2
    assert world.token_statuses() == [200]


def test_a_401_on_a_young_token_raises_refresh_too_early(mode: str):
    world = World(mode)
    world.advance(100)
    world.intercept = lambda r: httpx.Response(401) if r.url.path.startswith("/api/v1/") else None
    with pytest.raises(RefreshTooEarlyError, match="570 s"):
        world.get()
    assert len(world.api_requests()) == 1
    assert world.token_statuses() == [400]
    assert world.stored().generation == 0


def test_a_token_another_worker_saved_is_adopted_instead_of_refreshing(mode: str):
    world = World(mode)
    world.get()  # caches generation 0
    world.advance(580)
    # another worker rotated and saved
    newer = world.store.save(Token(*_issue(world), world.clock.now()), expected_generation=0)
    # the cached token is in the window; the cheap store look adopts the newer one
    assert world.get().status_code == 200
    assert world.token_statuses() == []
    assert world.bearer(world.api_requests()[-1]) == newer.access_token


def test_a_401_with_a_cached_token_adopts_the_stored_newer_one(mode: str):
    world = World(mode)
    world.get()
    # another worker saved a fresh pair; our cached token has been revoked by Exact
    fresh = world.store.save(Token(*_issue(world), world.clock.now()), expected_generation=0)
    revoked = world.bearer(world.api_requests()[0])
    world.intercept = lambda r: (
        httpx.Response(401)
        if world.bearer(r) == revoked and r.url.path.startswith("/api/v1/")
        else None
    )
    assert world.get().status_code == 200
    api = world.api_requests()
    assert [world.bearer(r) for r in api[1:]] == [revoked, fresh.access_token]
    assert world.token_statuses() == []


def _issue(world: World) -> tuple[str, str]:
    grant = world.fake.issue_tokens(CLIENT_ID)
    return grant.access_token, grant.refresh_token


def _foreign_refresh(world: World, *, save: bool) -> Token:
    """Another worker refreshes the stored token behind our back (optionally saving it)."""
    stored = world.stored()
    flow = refresh_flow(CREDENTIALS, base_url=BASE, token=stored, clock=world.clock)
    request = next(flow)
    try:
        flow.send(world.fake.handle(request))
    except StopIteration as done:
        fresh: Token = done.value
    if save:
        saved: Token = world.store.save(fresh, expected_generation=stored.generation)
        return saved
    return fresh


def test_old_refresh_token_used_adopts_the_newer_stored_token(mode: str):
    world = World(mode)
    world.advance(580)
    raced: list[Token] = []

    def race(request: httpx.Request) -> None:
        if request.url.path == "/api/oauth2/token" and not raced:
            raced.append(_foreign_refresh(world, save=True))

    world.intercept = race
    assert world.get().status_code == 200
    assert world.token_statuses() == [200, 401]  # the other worker's, then our refusal
    assert world.fake.token_log[1].grant_type == "refresh_token"
    assert world.bearer(world.api_requests()[0]) == raced[0].access_token
    assert world.auth.token == raced[0]
    assert world.stored() == raced[0]


def test_old_refresh_token_used_without_a_newer_token_needs_authorization(mode: str):
    world = World(mode)
    world.advance(580)
    lost: list[Token] = []

    def race(request: httpx.Request) -> None:
        if request.url.path == "/api/oauth2/token" and not lost:
            lost.append(_foreign_refresh(world, save=False))  # the classic bug: not saved

    world.intercept = race
    with pytest.raises(OldRefreshTokenError, match="authorized again") as info:
        world.get()
    assert isinstance(info.value, AuthorizationRequiredError)
    assert world.api_requests() == []
    assert world.token_statuses() == [200, 401]


def test_an_expired_refresh_token_asks_to_authorize_again(mode: str):
    world = World(mode)
    world.advance(31 * 24 * 3600)
    with pytest.raises(AuthorizationRequiredError, match="authorize the app again") as info:
        world.get()
    assert "expired at" in str(info.value)
    assert world.token_statuses() == [400]
    assert world.api_requests() == []


def test_an_empty_store_asks_for_authorization_without_any_request(mode: str):
    world = World(mode, store=MemoryTokenStore())
    with pytest.raises(AuthorizationRequiredError, match="authorize"):
        world.get()
    assert world.requests == []


def test_too_early_on_a_proactive_refresh_uses_the_token_until_it_expires(mode: str):
    client_clock = FakeClock(T0)
    world = World(mode, client_clock=client_clock)
    first = world.stored()
    client_clock.advance(575)  # the client is 75 s ahead of Exact
    world.clock.advance(500)
    assert world.get().status_code == 200
    assert world.get().status_code == 200
    assert world.token_statuses() == [400]  # asked once, not on every request
    assert [world.bearer(r) for r in world.api_requests()] == [first.access_token] * 2
    world.clock.advance(100)
    client_clock.advance(30)  # expired now on both sides
    assert world.get().status_code == 200
    assert world.token_statuses() == [400, 200]
    assert world.stored().generation == 1


def test_too_early_on_an_expired_token_raises(mode: str):
    client_clock = FakeClock(T0)
    world = World(mode, client_clock=client_clock)
    client_clock.advance(700)
    world.clock.advance(100)
    with pytest.raises(RefreshTooEarlyError):
        world.get()
    assert world.api_requests() == []


class ConflictingStore(MemoryTokenStore):
    """A store that another writer (not using the refresh lock) overwrites during a refresh."""

    def __init__(self, token: Token, foreign: Token) -> None:
        super().__init__(token)
        self.foreign = foreign
        self.conflicts = 0

    def save(self, token: Token, *, expected_generation: int | None) -> Token:
        if expected_generation is not None and self.conflicts == 0:
            super().save(self.foreign, expected_generation=None)
            self.conflicts += 1
        return super().save(token, expected_generation=expected_generation)


def test_a_store_conflict_after_a_refresh_adopts_the_other_writers_token(mode: str):
    def make(first: Token, fake: FakeExactOnline) -> ConflictingStore:
        grant = fake.issue_tokens(CLIENT_ID)
        return ConflictingStore(first, Token(grant.access_token, grant.refresh_token, T0))

    world = World(mode, make_store=make)
    world.advance(580)
    assert world.get().status_code == 200
    assert world.store.conflicts == 1
    foreign = world.store.foreign
    assert world.stored().access_token == foreign.access_token
    assert world.bearer(world.api_requests()[0]) == foreign.access_token
    assert world.token_statuses() == [200]


def test_a_conflict_with_our_own_old_pair_saves_the_fresh_pair(mode: str):
    class Flaky(MemoryTokenStore):
        raised = False

        def save(self, token: Token, *, expected_generation: int | None) -> Token:
            if expected_generation is not None and not self.raised:
                self.raised = True
                raise TokenConflictError("simulated conflict")
            return super().save(token, expected_generation=expected_generation)

    world = World(mode, make_store=lambda first, _fake: Flaky(first))
    world.advance(580)
    assert world.get().status_code == 200
    assert world.stored().generation == 1
    assert world.bearer(world.api_requests()[0]) == world.stored().access_token


def test_exchange_code_saves_the_new_pair(mode: str):
    world = World(mode, store=MemoryTokenStore())
    code = world.fake.authorize(CLIENT_ID, redirect_uri=REDIRECT_URI)
    token = world.exchange(code)
    assert token.generation == 1
    assert token.expires_in == 600
    assert world.stored() == token
    assert world.auth.token == token
    (request,) = world.requests
    assert "Authorization" not in request.headers
    assert world.get().status_code == 200
    assert world.bearer(world.api_requests()[0]) == token.access_token
    # a code works once
    with pytest.raises(AuthorizationRequiredError, match="authorize the app again"):
        world.exchange(code)
    assert world.stored() == token


def test_exchange_code_flow_can_be_driven_by_hand():
    world = World("sync", store=MemoryTokenStore())
    code = world.fake.authorize(CLIENT_ID, redirect_uri=REDIRECT_URI)
    flow = world.auth.exchange_code_flow(code)
    request = next(flow)
    with httpx.Client(transport=world.transport) as client, pytest.raises(StopIteration) as done:
        flow.send(client.send(request, auth=None))
    assert done.value.value == world.stored()


def test_a_request_body_is_sent_again_on_the_retry(mode: str):
    client_clock = FakeClock(T0)
    world = World(mode, client_clock=client_clock)
    world.clock.advance(601)
    bodies: list[bytes] = []

    def record(request: httpx.Request) -> httpx.Response | None:
        if request.url.path.startswith("/api/v1/"):
            bodies.append(request.content)
            if len(bodies) == 1:
                return httpx.Response(401)
            return httpx.Response(201, json={"d": {}})
        return None

    world.intercept = record
    url = BASE + "/api/v1/1234567/crm/Accounts"
    if mode == "sync":
        with httpx.Client(transport=world.transport, auth=world.auth) as client:
            response = client.post(url, json={"Name": "Gym"})
    else:

        async def go() -> httpx.Response:
            async with httpx.AsyncClient(transport=world.transport, auth=world.auth) as client:
                return await client.post(url, json={"Name": "Gym"})

        response = asyncio.run(go())
    assert response.status_code == 201
    assert [json.loads(b) for b in bodies] == [{"Name": "Gym"}] * 2


def test_exact_auth_validates_its_arguments():
    with pytest.raises(ConfigurationError, match="credentials"):
        ExactAuth(("id", "secret"), MemoryTokenStore(), base_url=BASE)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="token_store"):
        ExactAuth(CREDENTIALS, object(), base_url=BASE)  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="base_url"):
        ExactAuth(CREDENTIALS, MemoryTokenStore(), base_url="http://start.exactonline.nl")


def test_secrets_never_reach_logs_reprs_or_messages(mode: str, caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.DEBUG)
    world = World(mode, store=MemoryTokenStore())
    code = world.fake.authorize(CLIENT_ID, redirect_uri=REDIRECT_URI)
    seen: list[str] = [CLIENT_SECRET, code]
    world.exchange(code)
    world.advance(580)
    world.get()  # a refresh
    # a race that ends in "Old refresh token used"
    world.advance(580)

    def race(request: httpx.Request) -> None:
        if request.url.path == "/api/oauth2/token":
            _foreign_refresh(world, save=False)

    world.intercept = race
    with pytest.raises(OldRefreshTokenError) as old:
        world.get()
    world.intercept = None
    world.advance(40 * 24 * 3600)
    with pytest.raises(AuthorizationRequiredError) as expired:
        world.get()
    for request in world.requests:
        if "Authorization" in request.headers:
            seen.append(world.bearer(request))
        if request.url.path == "/api/oauth2/token":
            seen.extend(
                v[0]
                for k, v in parse_qs(request.content.decode()).items()
                if "token" in k or k == "code"
            )
    token = world.stored()
    seen += [token.access_token, token.refresh_token]
    texts = [
        caplog.text,
        repr(world.auth),
        repr(world.store),
        repr(token),
        str(old.value),
        str(expired.value),
        repr(old.value),
    ]
    assert "refreshing the Exact Online access token" in caplog.text
    for secret in set(seen):
        assert len(secret) >= 6
        for text in texts:
            assert secret not in text


class _Gate:
    """A class-based lock context (no generator that garbage collection could close)."""

    def __init__(self, store: GatedStore) -> None:
        self._store = store

    def __enter__(self) -> None:
        self._store.entering.set()
        self._store.lock.acquire()
        self._store.acquired.set()

    def __exit__(self, *exc: object) -> None:
        self._store.lock.release()


class GatedStore(MemoryTokenStore):
    """Announces when a worker starts waiting for the refresh lock."""

    def __init__(self, token: Token) -> None:
        super().__init__(token)
        self.lock = threading.Lock()
        self.entering = threading.Event()  # a worker started waiting for the lock
        self.acquired = threading.Event()  # a worker got it

    def refresh_lock(self) -> contextlib.AbstractContextManager[None]:
        return _Gate(self)

    def lock_is_free(self) -> bool:
        if self.lock.acquire(timeout=30):
            self.lock.release()
            return True
        return False


@pytest.mark.parametrize("loop_state", ["running", "closed"])
def test_a_cancelled_async_request_does_not_keep_the_store_locked(loop_state: str):
    world = World("async", make_store=lambda first, _fake: GatedStore(first))
    store: GatedStore = world.store
    world.advance(580)
    store.lock.acquire()  # another worker is refreshing

    async def go() -> None:
        async with httpx.AsyncClient(transport=world.transport, auth=world.auth) as client:
            task = asyncio.create_task(client.get(ME))
            assert await asyncio.to_thread(store.entering.wait, 30)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            if loop_state == "running":
                store.lock.release()
                # the helper thread gets the lock, finds the task gone and lets go again
                assert await asyncio.to_thread(store.acquired.wait, 30)
                assert await asyncio.to_thread(store.lock_is_free)

    asyncio.run(go())
    if loop_state == "closed":
        store.lock.release()
        assert store.acquired.wait(30)
        assert store.lock_is_free()
    assert world.token_statuses() == []
    assert world.requests == []
