"""The fake over real sockets (exactbridge.testing.server) and the opt-in pytest plugin."""

from __future__ import annotations

import json
import urllib.parse

import httpx
import pytest

from exactbridge.testing import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_REDIRECT_URI,
    FakeExactOnline,
    Fault,
)
from exactbridge.testing.server import serve

pytest_plugins = ["pytester"]


def test_oauth_and_a_get_over_a_real_socket():
    fake = FakeExactOnline()
    fake.add_division(123, template="nl")
    with serve(fake, "127.0.0.1", 0) as server, httpx.Client(base_url=server.url) as http:
        assert server.url.startswith("http://127.0.0.1:")
        assert server.port > 0
        consent = http.get(
            "/api/oauth2/auth",
            params={
                "client_id": DEFAULT_CLIENT_ID,
                "redirect_uri": DEFAULT_REDIRECT_URI,
                "response_type": "code",
                "state": "s1",
            },
        )
        assert consent.status_code == 302
        location = urllib.parse.urlsplit(consent.headers["Location"])
        code = urllib.parse.parse_qs(location.query)["code"][0]
        tokens = http.post(
            "/api/oauth2/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": DEFAULT_REDIRECT_URI,
                "client_id": DEFAULT_CLIENT_ID,
                "client_secret": DEFAULT_CLIENT_SECRET,
            },
        )
        assert tokens.status_code == 200
        access = json.loads(tokens.text)["access_token"]
        auth = {"Authorization": f"Bearer {access}", "Accept": "application/json"}
        me = http.get("/api/v1/current/Me", headers=auth)
        assert me.status_code == 200
        (row,) = json.loads(me.text)["d"]["results"]
        assert row["CurrentDivision"] == 123
        assert row["__metadata"]["uri"].startswith(server.url + "/api/v1/current/Me(")
        divisions = http.get("/api/v1/123/system/Divisions", headers=auth)
        assert divisions.status_code == 200
        assert divisions.headers["X-RateLimit-Minutely-Remaining"] == "59"
        created = http.post("/api/v1/123/crm/Accounts", json={"Name": "Sock BV"}, headers=auth)
        assert created.status_code == 201
        assert (
            http.put(
                "/api/v1/123/crm/Accounts(guid'{}')".format(json.loads(created.text)["d"]["ID"]),
                json={"Email": "a@b.nl"},
                headers=auth,
            ).status_code
            == 204
        )
    assert fake.count() == 6


def test_transport_faults_drop_the_connection():
    fake = FakeExactOnline()
    fake.add_division(123, template=None)
    fake.fail_next(Fault.CONNECTION_ERROR)
    with serve(fake) as server, httpx.Client(base_url=server.url) as http:
        with pytest.raises(httpx.TransportError):
            http.get("/api/v1/current/Me")
        assert http.get("/api/v1/current/Me").status_code == 401


def test_command_line_parser_rejects_bad_arguments():
    from exactbridge.testing.server import main

    with pytest.raises(SystemExit):
        main(["--template", "xx"])


PLUGIN_TEST = """
import json

import httpx

pytest_plugins = ["exactbridge.testing.pytest_plugin"]


def test_fixture_is_seeded(exact_fake, exact_division):
    assert exact_fake.domain.divisions() == [exact_division] == [123456]
    token = exact_fake.issue_tokens().access_token
    with httpx.Client(transport=exact_fake.transport(), base_url=exact_fake.base_url) as http:
        response = http.get(
            "/api/v1/123456/financial/Journals", headers={"Authorization": "Bearer " + token}
        )
    assert response.status_code == 200
    assert "results" in json.loads(response.text)["d"]


def test_server_fixture(exact_server):
    with httpx.Client(base_url=exact_server.url) as http:
        assert http.get("/api/v1/current/Me").status_code == 401
"""


def test_pytest_plugin_fixtures(pytester: pytest.Pytester):
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(test_uses_plugin=PLUGIN_TEST)
    result = pytester.runpytest_inprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)
