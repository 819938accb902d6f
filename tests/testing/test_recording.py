"""exactbridge.testing.recording: scrubbed vcrpy cassettes that replay offline."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from vcr.errors import CannotOverwriteExistingCassetteException

from exactbridge.sources.virtuagym import VirtuagymClient, VirtuagymCredentials
from exactbridge.testing import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_REDIRECT_URI,
    FakeClock,
    FakeExactOnline,
)
from exactbridge.testing.recording import SCRUBBED, recorder, scrub_json
from exactbridge.testing.virtuagym import FakeVirtuagym

KEY = "CANARY-rec-api-key-3e1f"
SECRET = "CANARY-rec-club-secret-9b0c"


def _refuse(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"replay went past the cassette: {request.url}")


def refusing() -> httpx.MockTransport:
    """A transport that fails the test if a replay reaches it (vcrpy patches MockTransport)."""
    return httpx.MockTransport(_refuse)


def _virtuagym(transport: httpx.BaseTransport, clock: FakeClock) -> VirtuagymClient:
    credentials = VirtuagymCredentials(club_id=8633, api_key=KEY, club_secret=SECRET)
    return VirtuagymClient(credentials, transport=transport, clock=clock)


def test_a_virtuagym_session_is_recorded_scrubbed_and_replays_offline(tmp_path: Path) -> None:
    clock = FakeClock()
    fake = FakeVirtuagym(club_id=8633, api_key=KEY, club_secret=SECRET, clock=clock)
    fake.add_member(firstname="Annemarie", lastname="Zwartkruis", email="annemarie@example.nl")
    vcr = recorder(tmp_path)
    with vcr.use_cassette("vg.yaml") as cassette, _virtuagym(fake.transport(), clock) as client:
        recorded = [m.member_id for m in client.members()]
    assert len(cassette) >= 1
    text = (tmp_path / "vg.yaml").read_text(encoding="utf-8")
    for canary in (KEY, SECRET, "Annemarie", "Zwartkruis", "annemarie@example.nl"):
        assert canary not in text
    assert f"api_key={SCRUBBED}" in text
    assert "scrubbed-email" in text

    replay = recorder(tmp_path, record_mode="none")
    with replay.use_cassette("vg.yaml"), _virtuagym(refusing(), clock) as client:
        assert [m.member_id for m in client.members()] == recorded


def test_an_exact_oauth_session_keeps_no_code_token_or_client_secret(tmp_path: Path) -> None:
    fake = FakeExactOnline()
    fake.add_division(123, template="nl")
    code = fake.authorize(DEFAULT_CLIENT_ID, redirect_uri=DEFAULT_REDIRECT_URI)
    transport = httpx.MockTransport(fake.handle)
    with (
        recorder(tmp_path).use_cassette("exact.yaml"),
        httpx.Client(transport=transport, base_url=fake.base_url) as http,
    ):
        tokens = http.post(
            "/api/oauth2/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": DEFAULT_REDIRECT_URI,
                "client_id": DEFAULT_CLIENT_ID,
                "client_secret": DEFAULT_CLIENT_SECRET,
            },
        ).json()
        me = http.get(
            "/api/v1/current/Me",
            headers={
                "Authorization": f"Bearer {tokens['access_token']}",
                "Accept": "application/json",
            },
        )
    assert me.status_code == 200
    text = (tmp_path / "exact.yaml").read_text(encoding="utf-8")
    for secret in (code, DEFAULT_CLIENT_SECRET, tokens["access_token"], tokens["refresh_token"]):
        assert secret not in text
    assert "client_secret=SCRUBBED" in text
    assert "Bearer" not in text  # the whole Authorization value is replaced
    assert text.count(SCRUBBED) >= 4  # code, client_secret, two tokens in the response


def test_scrub_json_keeps_shape_and_replaces_only_what_it_names() -> None:
    data = {
        "access_token": "A",
        "result": [{"email": "x@y.nl", "member_id": 4, "nested": {"iban": "NL01"}}],
        "statuscode": 200,
    }
    assert scrub_json(data) == {
        "access_token": SCRUBBED,
        "result": [
            {"email": "scrubbed-email", "member_id": 4, "nested": {"iban": "scrubbed-iban"}}
        ],
        "statuscode": 200,
    }
    assert scrub_json(data, personal_data=False)["result"][0]["email"] == "x@y.nl"


def test_replay_of_a_request_not_in_the_cassette_fails(tmp_path: Path) -> None:
    clock = FakeClock()
    fake = FakeVirtuagym(club_id=8633, api_key=KEY, club_secret=SECRET, clock=clock)
    with recorder(tmp_path).use_cassette("one.yaml"), _virtuagym(fake.transport(), clock) as c:
        list(c.members())
    replay = recorder(tmp_path, record_mode="none")
    with (
        replay.use_cassette("one.yaml"),
        _virtuagym(refusing(), clock) as client,
        pytest.raises(CannotOverwriteExistingCassetteException),
    ):
        list(client.invoices())
