"""The pytest plugin as another project's test suite uses it (driven through pytester)."""

from __future__ import annotations

import typing

import pytest

import exactbridge.testing.pytest_plugin as plugin

CONFTEST = 'pytest_plugins = ["exactbridge.testing.pytest_plugin"]'
INI = "[pytest]\nasyncio_default_fixture_loop_scope = function\n"


def _run(pytester: pytest.Pytester, source: str) -> pytest.RunResult:
    pytester.makeconftest(CONFTEST)
    pytester.makeini(INI)
    pytester.makepyfile(source)
    # In a subprocess: an in-process run would unload modules it imported first
    # (cryptography's among them) and leave the outer session holding stale classes.
    return pytester.runpytest_subprocess("-p", "no:cacheprovider")


def test_source_fakes_and_their_clients_share_one_clock(pytester: pytest.Pytester) -> None:
    result = _run(
        pytester,
        """
        import datetime as dt

        def test_virtuagym(virtuagym_fake, virtuagym_client, exactbridge_clock):
            virtuagym_fake.add_member(firstname="Ada", lastname="Vos")
            (member,) = virtuagym_client.members().all()
            assert member.firstname == "Ada"
            assert virtuagym_fake.clock is exactbridge_clock

        def test_eduframe(eduframe_fake, eduframe_client):
            eduframe_fake.add_account("Academie De Brug", account_type="business")
            (account,) = eduframe_client.accounts().all()
            assert account.name == "Academie De Brug"

        def test_coachview(coachview_fake, coachview_client):
            coachview_fake.seed_invoices(3)
            assert len(coachview_client.list_invoices().all()) == 3
            assert coachview_fake.token_calls == 1

        def test_paynl(paynl_fake, paynl_client):
            paynl_fake.seed(settlements=2, transactions=1)
            assert len(paynl_client.list_settlements().all()) == 2

        def test_each_test_gets_fresh_fakes(virtuagym_fake, coachview_fake, paynl_fake):
            assert len(virtuagym_fake.members) == 0
            assert coachview_fake.entities["facturen"] == []
            assert paynl_fake.settlements == {}

        def test_clubassistent_files(clubassistent_files):
            names = [path.name for path in clubassistent_files]
            assert names == ["incasso.xml", "facturen.csv"]
            assert all(path.stat().st_size > 0 for path in clubassistent_files)
        """,
    )
    result.assert_outcomes(passed=6)


def test_served_source_fakes_answer_a_plain_http_client(pytester: pytest.Pytester) -> None:
    result = _run(
        pytester,
        """
        import base64
        import json
        import urllib.parse
        import urllib.request

        def _get(url, headers=None):
            request = urllib.request.Request(url, headers=headers or {})
            with urllib.request.urlopen(request, timeout=10) as answer:
                return answer.status, json.loads(answer.read())

        def test_virtuagym_server(virtuagym_fake, virtuagym_server):
            virtuagym_fake.add_member(firstname="Ada", lastname="Vos")
            creds = virtuagym_server.credentials
            query = urllib.parse.urlencode(
                {"api_key": creds["api_key"], "club_secret": creds["club_secret"]}
            )
            url = f"{virtuagym_server.base_url}/club/{creds['club_id']}/member?{query}"
            status, body = _get(url)
            assert status == 200
            assert [row["firstname"] for row in body["result"]] == ["Ada"]

        def test_eduframe_server(eduframe_fake, eduframe_server):
            eduframe_fake.add_account("Academie De Brug", account_type="business")
            auth = {"Authorization": "Bearer " + eduframe_server.credentials["api_key"]}
            status, body = _get(eduframe_server.base_url + "/accounts", auth)
            assert status == 200
            assert [row["name"] for row in body] == ["Academie De Brug"]

        def test_coachview_server(coachview_fake, coachview_server):
            coachview_fake.seed_invoices(2)
            form = urllib.parse.urlencode(
                {"grant_type": "client_credentials", **coachview_server.credentials}
            ).encode()
            token_request = urllib.request.Request(
                coachview_server.url + "/auth/connect/token", data=form
            )
            with urllib.request.urlopen(token_request, timeout=10) as answer:
                token = json.loads(answer.read())["access_token"]
            status, rows = _get(
                coachview_server.url + "/api/v1/Facturen?take=10",
                {"Authorization": f"Bearer {token}"},
            )
            assert (status, len(rows)) == (200, 2)

        def test_paynl_server(paynl_fake, paynl_server):
            paynl_fake.seed(settlements=1, transactions=1)
            creds = paynl_server.credentials
            basic = base64.b64encode(
                f"{creds['token_code']}:{creds['api_token']}".encode()
            ).decode()
            status, body = _get(
                paynl_server.url + "/v2/clearings/settlements",
                {"Authorization": f"Basic {basic}"},
            )
            assert (status, len(body["settlements"])) == (200, 1)
        """,
    )
    result.assert_outcomes(passed=4)


def test_exact_fixtures_over_http_and_https(pytester: pytest.Pytester) -> None:
    result = _run(
        pytester,
        """
        import json
        import ssl
        import urllib.error
        import urllib.request

        import pytest

        from exactbridge.exact import ExactClient

        def test_client(exact_client, exact_division, exact_fake, exactbridge_clock):
            assert isinstance(exact_client, ExactClient)
            assert exact_client.division == exact_division
            assert exact_fake.clock is exactbridge_clock

        def test_tls_server_is_trusted_through_the_ca_only(exact_tls_server, exactbridge_ca):
            assert exact_tls_server.url.startswith("https://127.0.0.1:")
            context = exactbridge_ca.client_context()
            request = urllib.request.Request(exact_tls_server.url + "/api/v1/current/Me")
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(request, context=context, timeout=10)
            assert refused.value.code == 401  # TLS held; the fake wants a token
            refused.value.close()
            # The system store alone does not know the fake's CA.
            with pytest.raises(urllib.error.URLError, match="CERTIFICATE_VERIFY_FAILED"):
                urllib.request.urlopen(request, context=ssl.create_default_context(), timeout=10)

        def test_one_ca_per_session(exactbridge_ca, request):
            assert exactbridge_ca is request.getfixturevalue("exactbridge_ca")
            assert exactbridge_ca.ca_path.read_text().startswith("-----BEGIN CERTIFICATE-----")
        """,
    )
    result.assert_outcomes(passed=3)


def test_every_fixture_is_listed_and_typed() -> None:
    fixtures = {
        name
        for name, value in vars(plugin).items()
        if type(value).__name__ == "FixtureFunctionDefinition"
    }
    assert fixtures == set(plugin.__all__)
    namespace = {**vars(plugin)}
    exec(  # resolve the TYPE_CHECKING-only names the annotations use
        "from exactbridge.exact import AsyncExactClient, ExactClient\n"
        "from exactbridge.sources.coachview import CoachviewClient\n"
        "from exactbridge.sources.eduframe import EduframeClient\n"
        "from exactbridge.sources.paynl import PayClient\n"
        "from exactbridge.sources.virtuagym import VirtuagymClient\n"
        "from exactbridge.testing.tls import LocalCA\n",
        namespace,
    )
    for name in sorted(fixtures):
        function = getattr(plugin, name)._get_wrapped_function()
        hints = typing.get_type_hints(function, globalns=namespace)
        returned = hints["return"]
        assert returned is not typing.Any, f"{name} returns Any"
        for argument in typing.get_args(returned):
            assert argument is not typing.Any, f"{name} yields Any"
