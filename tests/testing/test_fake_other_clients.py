"""``exactbridge fake-server --tls`` driven the way other clients drive Exact Online.

No exactbridge client code runs here: the requests are made with the standard
library's ``urllib`` and parsed with ``json``, so our own parsing can never hide a bug
of the fake. The client trusts only what ``ssl.create_default_context()`` trusts with
the one environment line the server prints (``SSL_CERT_FILE=...``), as a project
using another Exact client would configure it. The query shapes are the ones the
reference notes record for the common Exact clients: form-encoded token requests,
``$select`` lists, ``$filter`` on the padded ``Code``, ``$top``, ``__next`` paging,
``current/Me?$select=CurrentDivision``, ``bulk/`` and ``sync/`` endpoints,
``read/financial/ReceivablesList``, and refresh-token rotation.
"""

from __future__ import annotations

import base64
import json
import ssl
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest

from exactbridge.cli import build_parser
from exactbridge.cli._fakeserver import command
from exactbridge.errors import ConfigurationError
from exactbridge.testing import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET
from exactbridge.testing.served import ServedSource
from exactbridge.testing.server import RunningServer

DIVISION = 1001
REDIRECT = "http://localhost:8799/callback"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # keep the 302 (its Location carries the code)


@attrs.define
class Running:
    exact: RunningServer
    sources: list[ServedSource]
    output: str
    files: Path


@pytest.fixture
def running(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Running]:
    """``exactbridge fake-server --tls --source ...`` in a thread, until the test ends."""
    args = build_parser().parse_args(
        [
            "fake-server",
            "--tls",
            "--port",
            "0",
            "--division",
            str(DIVISION),
            "--redirect-uri",
            REDIRECT,
            "--source",
            "virtuagym",
            "--source",
            "coachview",
            "--source",
            "eduframe",
            "--source",
            "paynl",
            "--source",
            "clubassistent",
            "--seed",
            "virtuagym.members=3",
            "--files",
            str(tmp_path / "ca"),
        ]
    )
    stop = threading.Event()
    ready = threading.Event()
    seen: dict[str, Any] = {}

    def started(server: RunningServer) -> None:
        seen["exact"] = server

    def sources_started(sources: list[ServedSource]) -> None:
        seen["sources"] = sources
        ready.set()

    thread = threading.Thread(
        target=command,
        args=(args,),
        kwargs={"stop": stop, "started": started, "sources_started": sources_started},
        daemon=True,
    )
    thread.start()
    assert ready.wait(30), "fake-server did not start"
    output = capsys.readouterr().out
    # The one line the server prints is all the trust a client gets.
    [line] = [text.strip() for text in output.splitlines() if "SSL_CERT_FILE=" in text]
    for pair in line.split():
        name, _, value = pair.partition("=")
        monkeypatch.setenv(name, value)
    try:
        yield Running(seen["exact"], seen["sources"], output, tmp_path / "ca")
    finally:
        stop.set()
        thread.join(10)


class Plain:
    """A bare HTTPS client: urllib, the default SSL context, JSON by hand."""

    def __init__(self, base: str) -> None:
        self.base = base
        context = ssl.create_default_context()  # system store + SSL_CERT_FILE
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPSHandler(context=context), _NoRedirect()
        )
        self.token: str | None = None

    def call(
        self,
        method: str,
        url: str,
        *,
        body: Any = None,
        form: dict[str, str] | None = None,
        extra: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], Any]:
        headers = {"Accept": "application/json", **(extra or {})}
        data = None
        if form is not None:
            data = urllib.parse.urlencode(form).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        target = url if url.startswith("https://") else self.base + url
        request = urllib.request.Request(target, data=data, headers=headers, method=method)
        try:
            with self.opener.open(request, timeout=10) as answer:
                status, got, raw = answer.status, _lower(answer.headers), answer.read()
        except urllib.error.HTTPError as error:
            status, got, raw = error.code, _lower(error.headers), error.read()
            error.close()
        parsed = json.loads(raw, parse_float=Decimal) if raw.strip()[:1] in (b"{", b"[") else raw
        return status, got, parsed

    def get(self, path: str, **query: str) -> Any:
        url = path + ("?" + urllib.parse.urlencode(query) if query else "")
        status, _, parsed = self.call("GET", url)
        assert status == 200, (url, status, parsed)
        return parsed


def _lower(headers: Any) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


def _results(payload: Any) -> list[dict[str, Any]]:
    data = payload["d"]
    return data["results"] if isinstance(data, dict) and "results" in data else data


def _login(plain: Plain) -> dict[str, Any]:
    status, headers, _ = plain.call(
        "GET",
        "/api/oauth2/auth?"
        + urllib.parse.urlencode(
            {
                "client_id": DEFAULT_CLIENT_ID,
                "redirect_uri": REDIRECT,
                "response_type": "code",
                "state": "xyz",
            }
        ),
    )
    assert status == 302
    location = urllib.parse.urlsplit(headers["location"])
    query = urllib.parse.parse_qs(location.query)
    assert query["state"] == ["xyz"]
    status, _, tokens = plain.call(
        "POST",
        "/api/oauth2/token",
        form={
            "grant_type": "authorization_code",
            "code": query["code"][0],
            "redirect_uri": REDIRECT,
            "client_id": DEFAULT_CLIENT_ID,
            "client_secret": DEFAULT_CLIENT_SECRET,
        },
    )
    assert status == 200, tokens
    plain.token = tokens["access_token"]
    return dict(tokens)


def test_oauth_reads_creates_and_paging_over_https_with_only_the_printed_trust(
    running: Running,
) -> None:
    assert running.exact.url.startswith("https://127.0.0.1:")
    plain = Plain(running.exact.url)
    tokens = _login(plain)
    assert tokens["token_type"].lower() == "bearer"

    me = _results(plain.get("/api/v1/current/Me", **{"$select": "CurrentDivision"}))
    assert me[0]["CurrentDivision"] == DIVISION

    # A create, then the look-up by padded code other clients send.
    base = f"/api/v1/{DIVISION}"
    status, _, created = plain.call(
        "POST",
        f"{base}/crm/Accounts",
        body={"Code": "42", "Name": "Plain BV", "Status": "C", "IsSales": True},
    )
    assert status == 201, created
    padded = "42".rjust(18)
    found = _results(
        plain.get(
            f"{base}/crm/Accounts",
            **{"$filter": f"Code eq '{padded}'", "$select": "ID,Code,Name"},
        )
    )
    assert [(row["Code"], row["Name"]) for row in found] == [(padded, "Plain BV")]
    assert set(found[0]) - {"__metadata"} == {"ID", "Code", "Name"}  # $select is honoured

    # Exact refuses an unfiltered list of accounts (mandatory filtering), as the fake does.
    status, _, refused = plain.call("GET", f"{base}/crm/Accounts?$select=ID")
    assert status == 400
    assert "mandatory filtering" in refused["error"]["message"]["value"]

    # Paging: 60 rows a page, __next until the end.
    for number in range(130):
        running.exact.fake.add_customer(DIVISION, f"Lid {number}", code=1000 + number)
    customers = "IsSales eq true"
    page = plain.get(f"{base}/crm/Accounts", **{"$select": "ID,Code", "$filter": customers})
    seen = list(_results(page))
    pages = 1
    while page["d"].get("__next"):
        assert page["d"]["__next"].startswith(running.exact.url)  # back to this server
        status, _, page = plain.call("GET", page["d"]["__next"])
        assert status == 200
        seen.extend(_results(page))
        pages += 1
    assert (len(seen), pages) == (131, 3)
    assert len({row["ID"] for row in seen}) == 131

    top = plain.get(f"{base}/crm/Accounts", **{"$top": "1", "$select": "ID", "$filter": customers})
    assert len(_results(top)) == 1
    bulk = plain.get(f"{base}/bulk/CRM/Accounts", **{"$select": "ID,Code", "$filter": customers})
    assert len(_results(bulk)) == 131
    synced = plain.get(
        f"{base}/sync/CRM/Accounts", **{"$filter": "Timestamp gt 1L", "$select": "ID,Timestamp"}
    )
    assert len(_results(synced)) == 131
    assert all(int(row["Timestamp"]) > 1 for row in _results(synced))

    # A sales entry, and its open item in the receivables list.
    gl = _results(
        plain.get(f"{base}/financial/GLAccounts", **{"$filter": "Code eq '8000'", "$select": "ID"})
    )[0]["ID"]
    status, _, entry = plain.call(
        "POST",
        f"{base}/salesentry/SalesEntries",
        body={
            "Customer": created["d"]["ID"],
            "Journal": "70",
            "YourRef": "PLAIN-1",
            "SalesEntryLines": [
                {"GLAccount": gl, "AmountFC": "100.00", "VATCode": "2", "Description": "x"}
            ],
        },
    )
    assert status == 201, entry
    open_items = _results(
        plain.get(
            f"{base}/read/financial/ReceivablesList",
            **{"$select": "AccountCode,Amount,YourRef"},
        )
    )
    assert [(Decimal(str(item["Amount"])), item["YourRef"]) for item in open_items] == [
        (Decimal("121.00"), "PLAIN-1")
    ]

    # Refresh rotates the refresh token; the old one is refused afterwards.
    form = {
        "grant_type": "refresh_token",
        "refresh_token": tokens["refresh_token"],
        "client_id": DEFAULT_CLIENT_ID,
        "client_secret": DEFAULT_CLIENT_SECRET,
    }
    plain.token = None  # the token endpoint refuses an Authorization header
    status, headers, early = plain.call("POST", "/api/oauth2/token", form=form)
    assert (status, early["error"]) == (400, "access_denied")  # Exact: not before ~10 minutes
    assert headers["reason"].startswith("TooEarlyToRefreshTokens")
    running.exact.fake.clock.advance(600)
    status, _, renewed = plain.call("POST", "/api/oauth2/token", form=form)
    assert status == 200
    assert renewed["refresh_token"] != tokens["refresh_token"]
    status, _, _ = plain.call("POST", "/api/oauth2/token", form=form)
    assert status in (400, 401)


def test_every_source_is_served_over_https_with_the_credentials_it_prints(
    running: Running,
) -> None:
    served = {source.name: source for source in running.sources}
    assert set(served) == {"virtuagym", "coachview", "eduframe", "paynl"}
    for source in served.values():
        assert source.base_url.startswith("https://127.0.0.1:")
        assert f"Fake {source.name} at {source.base_url}" in running.output
        for value in source.credentials.values():
            assert value in running.output  # public test values, printed on purpose

    virtuagym = served["virtuagym"]
    creds = virtuagym.credentials
    query = urllib.parse.urlencode(
        {"api_key": creds["api_key"], "club_secret": creds["club_secret"]}
    )
    members = Plain(virtuagym.base_url).get(f"/club/{creds['club_id']}/member?{query}")
    assert len(members["result"]) == 3  # --seed virtuagym.members=3

    coachview = Plain(served["coachview"].url)
    status, _, token = coachview.call(
        "POST",
        "/auth/connect/token",
        form={"grant_type": "client_credentials", **served["coachview"].credentials},
    )
    assert status == 200
    coachview.token = token["access_token"]
    assert isinstance(coachview.get("/api/v1/Facturen", take="10"), list)

    eduframe = Plain(served["eduframe"].base_url)
    eduframe.token = served["eduframe"].credentials["api_key"]
    assert isinstance(eduframe.get("/invoices", per_page="5"), list)

    pay = served["paynl"].credentials
    basic = base64.b64encode(f"{pay['token_code']}:{pay['api_token']}".encode()).decode()
    status, _, clearings = Plain(served["paynl"].url).call(
        "GET", "/v2/clearings/settlements", extra={"Authorization": f"Basic {basic}"}
    )
    assert status == 200
    assert "settlements" in clearings

    files = sorted(path.name for path in running.files.iterdir())
    assert files == ["facturen.csv", "incasso.xml"]
    assert "SSL_CERT_FILE=" in running.output
    assert "REQUESTS_CA_BUNDLE=" in running.output


@pytest.mark.parametrize(
    ("argv", "key"),
    [
        (["--no-exact"], "--no-exact"),
        (["--source", "virtuagym", "--seed", "virtuagym.nothing=1"], "--seed"),
        (["--source", "virtuagym", "--seed", "coachview.count=1"], "--seed"),
        (["--source", "virtuagym", "--seed", "members"], "--seed"),
    ],
)
def test_bad_fake_server_options_name_the_flag(argv: list[str], key: str) -> None:
    args = build_parser().parse_args(["fake-server", "--port", "0", *argv])
    with pytest.raises(ConfigurationError) as caught:
        command(args, stop=threading.Event())
    assert caught.value.key == key
