"""OAuth2 of the fake Exact Online, over HTTP (reference §1.2-1.4)."""

from __future__ import annotations

import json
import urllib.parse

import httpx
import pytest

from exactbridge.errors import ConfigurationError
from exactbridge.testing import FakeExactOnline

BASE = "https://start.exactonline.nl"
CLIENT_ID = "8d1a7f0e-1b0c-4a57-9d4f-2a6b0c9e3f11"
SECRET = "canary-secret-Qx7"
REDIRECT = "https://app.example/callback"


@pytest.fixture
def oauth_fake(proto_fake: FakeExactOnline) -> FakeExactOnline:
    proto_fake.register_app(CLIENT_ID, SECRET, REDIRECT)
    return proto_fake


@pytest.fixture
def raw(oauth_fake: FakeExactOnline):
    with httpx.Client(transport=oauth_fake.transport(), base_url=BASE) as client:
        yield client


def token_post(raw: httpx.Client, **form: str) -> httpx.Response:
    return raw.post("/api/oauth2/token", data=form)


def exchange(raw: httpx.Client, code: str, redirect_uri: str = REDIRECT) -> httpx.Response:
    return token_post(
        raw,
        grant_type="authorization_code",
        code=code,
        redirect_uri=redirect_uri,
        client_id=CLIENT_ID,
        client_secret=SECRET,
    )


def refresh(raw: httpx.Client, token: str) -> httpx.Response:
    return token_post(
        raw,
        grant_type="refresh_token",
        refresh_token=token,
        client_id=CLIENT_ID,
        client_secret=SECRET,
    )


def consent(raw: httpx.Client, state: str = "xyz") -> str:
    response = raw.get(
        "/api/oauth2/auth",
        params={
            "client_id": CLIENT_ID,
            "redirect_uri": REDIRECT,
            "response_type": "code",
            "state": state,
            "force_login": "0",
        },
    )
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith(REDIRECT + "?")
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(location).query)
    assert query["state"] == [state]
    return query["code"][0]


def test_auth_redirects_with_code_and_state(raw: httpx.Client):
    code = consent(raw, state="s-42")
    assert code


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"client_id": "unknown", "redirect_uri": REDIRECT, "response_type": "code"}, "client"),
        ({"client_id": CLIENT_ID, "redirect_uri": REDIRECT + "/x", "response_type": "code"}, "uri"),
        ({"client_id": CLIENT_ID, "redirect_uri": REDIRECT, "response_type": "token"}, "type"),
    ],
)
def test_auth_refuses_unknown_client_other_redirect_or_response_type(raw, params, reason):
    response = raw.get("/api/oauth2/auth", params=params)
    assert response.status_code == 400, reason
    assert "Location" not in response.headers


def test_code_exchange_returns_600_as_a_string(raw: httpx.Client):
    response = exchange(raw, consent(raw))
    assert response.status_code == 200
    body = json.loads(response.text)
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == "600"
    assert body["access_token"]
    assert body["refresh_token"]
    assert set(body) == {"access_token", "token_type", "expires_in", "refresh_token"}


def test_code_is_single_use(raw: httpx.Client):
    code = consent(raw)
    assert exchange(raw, code).status_code == 200
    again = exchange(raw, code)
    assert again.status_code == 400
    assert json.loads(again.text)["error"] == "invalid_grant"


def test_code_expires_after_three_minutes(raw, oauth_fake: FakeExactOnline):
    code = consent(raw)
    oauth_fake.clock.advance(181)
    assert exchange(raw, code).status_code == 400


def test_code_exchange_needs_the_same_redirect_uri(raw):
    response = exchange(raw, consent(raw), redirect_uri=REDIRECT + "/other")
    assert response.status_code == 400
    assert json.loads(response.text)["error"] == "invalid_grant"


def test_authorize_helper_gives_an_exchangeable_code(raw, oauth_fake: FakeExactOnline):
    code = oauth_fake.authorize(CLIENT_ID, redirect_uri=REDIRECT, state="abc")
    assert exchange(raw, code).status_code == 200
    with pytest.raises(ConfigurationError):
        oauth_fake.authorize(CLIENT_ID, redirect_uri="https://evil.example/")


def test_authorization_header_on_token_endpoint_is_refused(raw):
    code = consent(raw)
    response = raw.post(
        "/api/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "client_id": CLIENT_ID,
            "client_secret": SECRET,
        },
        headers={"Authorization": "Basic abc"},
    )
    assert response.status_code == 401


def test_token_endpoint_wants_form_encoding(raw):
    response = raw.post(
        "/api/oauth2/token", json={"grant_type": "refresh_token", "client_id": CLIENT_ID}
    )
    assert response.status_code == 400
    assert json.loads(response.text)["error"] == "invalid_request"


def test_wrong_client_secret_is_refused(raw):
    response = token_post(
        raw,
        grant_type="authorization_code",
        code=consent(raw),
        redirect_uri=REDIRECT,
        client_id=CLIENT_ID,
        client_secret="wrong",
    )
    assert response.status_code == 401
    assert json.loads(response.text)["error"] == "invalid_client"


def test_refresh_before_570_seconds_is_refused_with_reason_header(raw, oauth_fake):
    grant = oauth_fake.issue_tokens(CLIENT_ID)
    oauth_fake.clock.advance(569)
    response = refresh(raw, grant.refresh_token)
    assert response.status_code == 400
    assert json.loads(response.text) == {
        "error": "access_denied",
        "error_description": "Rate limit exceeded: access_token not expired",
    }
    assert response.headers["Reason"] == (
        "TooEarlyToRefreshTokens: Rate limit exceeded: access_token not expired"
    )
    # the refused attempt does not burn the refresh token
    oauth_fake.clock.advance(1)
    assert refresh(raw, grant.refresh_token).status_code == 200


def test_refresh_rotates_and_old_token_is_refused(raw, oauth_fake):
    grant = oauth_fake.issue_tokens(CLIENT_ID)
    oauth_fake.clock.advance(570)
    first = refresh(raw, grant.refresh_token)
    assert first.status_code == 200
    rotated = json.loads(first.text)
    assert rotated["refresh_token"] != grant.refresh_token
    assert rotated["expires_in"] == "600"
    oauth_fake.clock.advance(600)
    reused = refresh(raw, grant.refresh_token)
    assert reused.status_code == 401
    assert json.loads(reused.text) == {
        "error": "unauthorized_client",
        "error_description": "Old refresh token used.",
    }
    assert refresh(raw, rotated["refresh_token"]).status_code == 200


def test_refresh_too_early_counts_from_the_latest_access_token(raw, oauth_fake):
    grant = oauth_fake.issue_tokens(CLIENT_ID)
    oauth_fake.clock.advance(600)
    second = json.loads(refresh(raw, grant.refresh_token).text)
    oauth_fake.clock.advance(100)
    assert refresh(raw, second["refresh_token"]).status_code == 400


def test_refresh_token_unused_for_30_days_expires(raw, oauth_fake):
    oauth_fake.clock.set(oauth_fake.clock.now().replace(day=1, hour=20, minute=0, second=0))
    grant = oauth_fake.issue_tokens(CLIENT_ID)
    oauth_fake.clock.advance(30 * 86400 + 3600)
    response = refresh(raw, grant.refresh_token)
    assert response.status_code == 400
    body = json.loads(response.text)
    assert body["error"] == "invalid_request"
    assert body["error_description"] == (
        "The refresh token expired at 3/31/2026 8:00:00 PM and it is now 3/31/2026 9:00:00 PM."
    )


def test_api_accepts_a_fresh_access_token_and_refuses_after_600_seconds(raw, oauth_fake):
    grant = oauth_fake.issue_tokens(CLIENT_ID)
    headers = {"Authorization": f"Bearer {grant.access_token}", "Accept": "application/json"}
    assert raw.get("/api/v1/current/Me", headers=headers).status_code == 200
    oauth_fake.clock.advance(599)
    assert raw.get("/api/v1/current/Me", headers=headers).status_code == 200
    oauth_fake.clock.advance(1)
    expired = raw.get("/api/v1/current/Me", headers=headers)
    assert expired.status_code == 401
    assert "error" in json.loads(expired.text)


@pytest.mark.parametrize("header", [None, "Bearer nope", "Basic abc"])
def test_api_refuses_missing_or_unknown_tokens(raw, header):
    headers = {"Authorization": header} if header else {}
    assert raw.get("/api/v1/123/crm/Contacts", headers=headers).status_code == 401


def test_token_calls_are_counted_separately(raw, oauth_fake):
    grant = oauth_fake.issue_tokens(CLIENT_ID)
    oauth_fake.clock.advance(100)
    refresh(raw, grant.refresh_token)  # too early
    oauth_fake.clock.advance(500)
    refresh(raw, grant.refresh_token)  # ok
    assert oauth_fake.token_calls == 2
    assert oauth_fake.count_token_calls("refresh_token") == 2
    assert [call.status for call in oauth_fake.token_log] == [400, 200]
    assert oauth_fake.counters()[("POST", "oauth2/token")] == 2


def test_token_grant_repr_hides_the_tokens(oauth_fake):
    grant = oauth_fake.issue_tokens(CLIENT_ID)
    assert grant.access_token not in repr(grant)
    assert grant.refresh_token not in repr(grant)
    assert grant.expires_in == 600
    assert (grant.expires_at - grant.issued_at).total_seconds() == 600


def test_issue_tokens_for_an_unregistered_app_is_a_configuration_error(oauth_fake):
    with pytest.raises(ConfigurationError, match="not registered"):
        oauth_fake.issue_tokens("no-such-app")


@pytest.mark.asyncio
async def test_async_transport_runs_the_code_flow(oauth_fake):
    async with httpx.AsyncClient(transport=oauth_fake.async_transport(), base_url=BASE) as client:
        code = oauth_fake.authorize(CLIENT_ID, redirect_uri=REDIRECT)
        response = await client.post(
            "/api/oauth2/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": REDIRECT,
                "client_id": CLIENT_ID,
                "client_secret": SECRET,
            },
        )
        assert response.status_code == 200
        token = json.loads(response.text)["access_token"]
        me = await client.get("/api/v1/current/Me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 200
