"""Every source fake on a real socket, and HTTPS on localhost, driven with plain clients.

These tests use ``urllib``/``ssl`` or bare ``httpx`` requests, never exactbridge's own
client code, so the fakes are checked as another project's code would meet them.
"""

from __future__ import annotations

import base64
import json
import ssl
import urllib.parse
import urllib.request

import httpx
import pytest

from exactbridge.testing import FakeExactOnline
from exactbridge.testing.served import (
    SOURCES,
    ServedSource,
    make_source_fake,
    seed_parameters,
    serve_source,
    write_clubassistent_files,
)
from exactbridge.testing.server import serve
from exactbridge.testing.tls import LOCAL_NAMES, ca_bundle_path, default_ca, local_ca


def _get_json(url: str) -> tuple[int, object]:
    with urllib.request.urlopen(url, timeout=10) as answer:
        return answer.status, json.loads(answer.read().decode("utf-8"))


def test_virtuagym_served_answers_with_the_credentials_it_prints():
    with serve_source("virtuagym", seed_options={"members": 5, "months": 1}) as served:
        creds = served.credentials
        query = urllib.parse.urlencode(
            {"api_key": creds["api_key"], "club_secret": creds["club_secret"]}
        )
        status, body = _get_json(f"{served.base_url}/club/{creds['club_id']}/member?{query}")
        assert status == 200
        assert len(body["result"]) == 5
        assert served.fake.members  # the same fake answered
        # wrong key: the fake refuses, as Virtuagym does
        bad = urllib.parse.urlencode({"api_key": "nope", "club_secret": creds["club_secret"]})
        status, body = _get_json(f"{served.base_url}/club/{creds['club_id']}/member?{bad}")
        # Virtuagym answers HTTP 200 with the error in the body
        assert status == 200
        assert body["statuscode"] == 420
        assert body["statusmessage"] == "Invalid API key or club secret"


def test_eduframe_served_pages_link_back_to_the_server():
    with serve_source("eduframe", seed_options={"accounts": 3, "invoices": 30}) as served:
        auth = {"Authorization": f"Bearer {served.credentials['api_key']}"}
        with httpx.Client() as http:
            first = http.get(f"{served.base_url}/invoices", params={"per_page": 10}, headers=auth)
            assert first.status_code == 200
            assert len(first.json()) == 10
            next_url = first.links["next"]["url"]
            assert next_url.startswith(served.url + "/api/v1/invoices")
            second = http.get(next_url, headers=auth)
            assert second.status_code == 200
            ids = {row["id"] for row in first.json()} | {row["id"] for row in second.json()}
            assert len(ids) == 20
            assert http.get(f"{served.base_url}/invoices").status_code == 401


def test_coachview_served_token_then_bearer():
    with serve_source("coachview", seed_options={"count": 7}) as served, httpx.Client() as http:
        token = http.post(
            served.url + "/auth/connect/token",
            data={"grant_type": "client_credentials", **served.credentials},
        )
        assert token.status_code == 200
        access = token.json()["access_token"]
        rows = http.get(
            served.url + "/api/v1/Facturen",
            params={"take": 100},
            headers={"Authorization": f"Bearer {access}"},
        )
        assert rows.status_code == 200
        assert len(rows.json()) == 7
        refused = http.post(
            served.url + "/auth/connect/token",
            data={"grant_type": "client_credentials", "client_id": "x", "client_secret": "y"},
        )
        assert refused.status_code in (400, 401)


def test_paynl_served_basic_auth():
    with serve_source("paynl", seed_options={"settlements": 2, "transactions": 4}) as served:
        creds = served.credentials
        basic = base64.b64encode(f"{creds['token_code']}:{creds['api_token']}".encode()).decode()
        with httpx.Client() as http:
            url = served.url + "/v2/clearings/settlements"
            answer = http.get(url, headers={"Authorization": f"Basic {basic}"})
            assert answer.status_code == 200
            assert len(answer.json()["settlements"]) == 2
            assert http.get(served.url + "/v2/clearings/settlements").status_code == 401


def test_served_source_repr_hides_credentials():
    with serve_source("virtuagym", seed_options={"members": 1, "months": 1}) as served:
        text = repr(served)
        assert served.credentials["api_key"] not in text
        assert served.credentials["club_secret"] not in text
        assert isinstance(served, ServedSource)


def test_unknown_source_is_refused_with_the_choices():
    with pytest.raises(ValueError, match="virtuagym"):
        serve_source("exactly")
    with pytest.raises(ValueError, match="not a served source fake"):
        make_source_fake("clubassistent")


def test_seed_parameters_are_the_seed_methods_own():
    for name in SOURCES:
        params = seed_parameters(name)
        assert params, name
    assert seed_parameters("virtuagym")["members"] == 40
    with pytest.raises(TypeError):
        make_source_fake("virtuagym", seed_options={"no_such_option": 1})


def test_clubassistent_files_are_written(tmp_path):
    paths = write_clubassistent_files(tmp_path / "ca", debits=3, invoices=4)
    pain, csv = paths
    assert pain.read_text(encoding="utf-8").count("<DrctDbtTxInf>") == 3
    rows = csv.read_text(encoding="utf-8-sig").strip().splitlines()[1:]
    # one row per invoice line, the invoice number first
    assert {row.split(";")[0] for row in rows} == {f"F202600000{n}" for n in range(1, 5)}


def test_https_exact_fake_trusted_through_the_ca_bundle_only():
    fake = FakeExactOnline()
    fake.add_division(123, template=None)
    with serve(fake, tls=True) as server:
        assert server.url.startswith("https://127.0.0.1:")
        assert server.ca_path == ca_bundle_path()
        env = server.environment()
        assert env["SSL_CERT_FILE"] == str(server.ca_path)
        assert env["REQUESTS_CA_BUNDLE"] == str(server.ca_path)
        # a client that trusts the bundle connects ...
        trusting = ssl.create_default_context(cafile=str(server.ca_path))
        request = urllib.request.Request(server.url + "/api/v1/current/Me")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, context=trusting, timeout=10)
        assert refused.value.code == 401  # TLS worked; the fake wants a token
        refused.value.close()
        # ... and one that trusts only the system store does not
        with pytest.raises(urllib.error.URLError):
            urllib.request.urlopen(request, context=ssl.create_default_context(), timeout=10)


def test_local_ca_certificate_names_and_isolation():
    assert set(LOCAL_NAMES) == {"127.0.0.1", "::1", "localhost"}
    first, second = local_ca(), local_ca()
    assert first.ca_path != second.ca_path
    assert default_ca() is default_ca()
    fake = FakeExactOnline()
    with serve(fake, tls=second) as server:
        wrong = ssl.create_default_context(cafile=str(first.ca_path))
        with pytest.raises(urllib.error.URLError):
            urllib.request.urlopen(server.url + "/api/v1/current/Me", context=wrong, timeout=10)
