"""``exactbridge login`` end to end against the fake Exact Online served on localhost."""

from __future__ import annotations

import io
import socket
import webbrowser
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from exactbridge.cli import EXIT_OK, EXIT_PARTIAL, EXIT_USAGE, main
from exactbridge.cli._login import CallbackListener, LoginError, code_from_paste
from exactbridge.errors import ConfigurationError
from exactbridge.exact import SQLiteTokenStore
from exactbridge.testing import FakeExactOnline
from exactbridge.testing.server import RunningServer
from tests.cli._support import (
    CANARY_SECRET,
    CLIENT_ID,
    SECRET_ENV,
    exact_section,
    free_port,
    served_fake,
    write_config,
)


class _Browser:
    """Stands in for ``webbrowser.open``: follows Exact's redirect like a browser would."""

    def __init__(self, act: Callable[[str], None] | None = None) -> None:
        self.urls: list[str] = []
        self.codes: list[str] = []
        self.locations: list[str] = []
        self.pages: list[httpx.Response] = []
        self.act = act

    def authorize(self, url: str) -> str:
        """GET the authorization URL at the fake; return where it redirects (with the code)."""
        answer = httpx.get(url, follow_redirects=False)
        assert answer.status_code == 302
        location = answer.headers["Location"]
        self.locations.append(location)
        self.codes.append(parse_qs(urlsplit(location).query)["code"][0])
        return location

    def __call__(self, url: str, *args: object, **kwargs: object) -> bool:
        self.urls.append(url)
        if self.act is not None:
            self.act(url)
        return True

    def follow(self, url: str) -> None:
        self.pages.append(httpx.get(self.authorize(url)))


@pytest.fixture
def redirect_uri() -> str:
    return f"http://127.0.0.1:{free_port()}/callback"


@pytest.fixture
def served(redirect_uri: str) -> Iterator[tuple[FakeExactOnline, RunningServer]]:
    with served_fake(redirect_uri) as pair:
        yield pair


@pytest.fixture
def config(
    tmp_path: Path,
    served: tuple[FakeExactOnline, RunningServer],
    redirect_uri: str,
    monkeypatch: pytest.MonkeyPatch,
) -> Path:
    monkeypatch.setenv(SECRET_ENV, CANARY_SECRET)
    monkeypatch.delenv("EXACTBRIDGE_CONFIG", raising=False)
    _, server = served
    return write_config(
        tmp_path, exact_section(base_url=server.url, redirect_uri=redirect_uri, division=None)
    )


def _saved(tmp_path: Path) -> SQLiteTokenStore | None:
    path = tmp_path / "tokens.sqlite3"
    return SQLiteTokenStore(path) if path.exists() else None


def _assert_no_secrets(text: str, browser: _Browser) -> None:
    assert CANARY_SECRET not in text
    assert browser.codes
    for code in browser.codes:
        assert code not in text


def test_login_receives_the_redirect_exchanges_the_code_and_saves_the_token(
    tmp_path: Path,
    config: Path,
    served: tuple[FakeExactOnline, RunningServer],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fake, server = served
    browser = _Browser()
    browser.act = browser.follow
    monkeypatch.setattr(webbrowser, "open", browser)

    code = main(["login", "--config", str(config)])

    out, err = capsys.readouterr()
    assert code == EXIT_OK, err
    assert len(browser.urls) == 1
    url = urlsplit(browser.urls[0])
    assert f"{url.scheme}://{url.netloc}" == server.url
    assert url.path == "/api/oauth2/auth"
    params = parse_qs(url.query)
    assert params["client_id"] == [CLIENT_ID]
    assert len(params["state"][0]) >= 20
    assert browser.urls[0] in out  # the URL is printed for people without a browser
    assert browser.pages[0].status_code == 200
    assert "authorized" in browser.pages[0].text
    assert fake.count_token_calls("authorization_code") == 1

    store = _saved(tmp_path)
    assert store is not None
    token = store.load()
    assert token is not None
    assert token.generation == 1
    assert "Logged in as Fake User" in out
    assert "Tokens saved in" in out
    assert "exactbridge divisions" in out  # no division configured: a hint
    everything = out + err + repr(store)
    _assert_no_secrets(everything, browser)
    assert token.access_token not in everything
    assert token.refresh_token not in everything


def test_login_with_a_pasted_redirect_address(
    tmp_path: Path,
    config: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    browser = _Browser()
    monkeypatch.setattr(webbrowser, "open", browser)

    class _Stdin:
        def readline(self) -> str:
            return browser.authorize(browser.urls[-1]) + "\n"

    monkeypatch.setattr("sys.stdin", _Stdin())
    code = main(["login", "--config", str(config), "--paste"])
    out, err = capsys.readouterr()
    assert code == EXIT_OK, err
    assert "Paste the address" in err
    saved = _saved(tmp_path)
    assert saved is not None
    assert saved.load() is not None
    assert browser.codes[0] not in out + err


def test_login_with_a_pasted_bare_code_and_no_browser(
    tmp_path: Path,
    config: Path,
    served: tuple[FakeExactOnline, RunningServer],
    redirect_uri: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    fake, _ = served

    def no_browser(url: str) -> bool:
        raise AssertionError("--no-browser must not open a browser")

    monkeypatch.setattr(webbrowser, "open", no_browser)
    auth_code = fake.authorize(CLIENT_ID, redirect_uri=redirect_uri)
    monkeypatch.setattr("sys.stdin", io.StringIO(auth_code + "\n"))
    code = main(["login", "--config", str(config), "--paste", "--no-browser"])
    out, err = capsys.readouterr()
    assert code == EXIT_OK, err
    saved = _saved(tmp_path)
    assert saved is not None
    assert saved.load() is not None
    assert auth_code not in out + err


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("code=stolen&state=forged", "different state"),
        ("code=stolen", "no state"),
        ("error=access_denied&error_description=The+user+said+no", "did not authorize"),
    ],
)
def test_login_refuses_a_forged_or_refused_redirect_and_saves_nothing(
    tmp_path: Path,
    config: Path,
    redirect_uri: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    query: str,
    message: str,
) -> None:
    pages: list[httpx.Response] = []

    def forger(url: str) -> bool:
        pages.append(httpx.get(f"{redirect_uri}?{query}"))
        return True

    monkeypatch.setattr(webbrowser, "open", forger)
    code = main(["login", "--config", str(config)])
    _, err = capsys.readouterr()
    assert code == EXIT_PARTIAL
    assert message in err
    assert "nothing was saved" in err
    assert "Traceback" not in err
    assert pages[0].status_code == 400
    assert _saved(tmp_path) is None


def test_login_reports_a_code_exact_refuses(
    tmp_path: Path,
    config: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("code-that-was-never-issued\n"))
    code = main(["login", "--config", str(config), "--paste", "--no-browser"])
    _, err = capsys.readouterr()
    assert code == EXIT_PARTIAL
    assert "authorization code was refused" in err
    assert "code-that-was-never-issued" not in err
    saved = _saved(tmp_path)
    assert saved is None or saved.load() is None


def test_a_redirect_uri_elsewhere_falls_back_to_pasting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    remote = "https://app.example/exact/callback"
    monkeypatch.setenv(SECRET_ENV, CANARY_SECRET)
    with served_fake(remote) as (fake, server):
        config = write_config(tmp_path, exact_section(base_url=server.url, redirect_uri=remote))
        monkeypatch.setattr(
            "sys.stdin", io.StringIO(fake.authorize(CLIENT_ID, redirect_uri=remote))
        )
        code = main(["login", "--config", str(config), "--no-browser"])
    out, err = capsys.readouterr()
    assert code == EXIT_OK, err
    assert "is not on this computer" in err
    assert "Logged in" in out
    assert "exactbridge divisions" not in out  # a division is configured: no hint


def test_a_busy_port_is_a_usage_error(
    tmp_path: Path,
    config: Path,
    redirect_uri: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(webbrowser, "open", _Browser())
    port = urlsplit(redirect_uri).port
    assert port is not None
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as blocker:
        blocker.bind(("127.0.0.1", port))
        blocker.listen(1)
        code = main(["login", "--config", str(config)])
    _, err = capsys.readouterr()
    assert code == EXIT_USAGE
    assert f"cannot listen on 127.0.0.1 port {port}" in err
    assert "--paste" in err


def test_login_without_the_secret_names_the_variable(
    config: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv(SECRET_ENV)
    monkeypatch.setattr(webbrowser, "open", _Browser())
    code = main(["login", "--config", str(config)])
    _, err = capsys.readouterr()
    assert code == EXIT_USAGE
    assert f"the environment variable {SECRET_ENV} is not set" in err
    assert "exact.client_secret_env" in err


def test_login_rejects_an_unknown_country(
    config: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(webbrowser, "open", _Browser())
    assert main(["login", "--config", str(config), "--country", "xx"]) == EXIT_USAGE
    assert "unknown Exact Online country" in capsys.readouterr().err


def test_the_listener_ignores_other_paths_and_can_use_another_port() -> None:
    port = free_port()
    with CallbackListener("http://localhost:1/cb", state="s-123", port=port) as listener:
        assert listener.port == port
        assert httpx.get(f"http://127.0.0.1:{port}/favicon.ico").status_code == 404
        assert httpx.get(f"http://127.0.0.1:{port}/cb?code=abc&state=s-123").status_code == 200
        assert listener.wait(5) == "abc"
        assert httpx.get(f"http://127.0.0.1:{port}/cb?code=again&state=s-123").status_code == 409


def test_the_listener_gives_up_after_its_timeout() -> None:
    with (
        CallbackListener(f"http://127.0.0.1:{free_port()}/cb", state="s") as listener,
        pytest.raises(LoginError, match="no redirect arrived"),
    ):
        listener.wait(0.01)


def test_the_listener_needs_a_plain_http_loopback_redirect() -> None:
    for uri in ("https://localhost:8765/cb", "http://app.example:8765/cb"):
        with pytest.raises(ConfigurationError) as info:
            CallbackListener(uri, state="s")
        assert info.value.key == "exact.redirect_uri"


def test_code_from_paste_accepts_address_query_or_code() -> None:
    state = "st4te"
    url = f"http://localhost:8765/callback?code=abc%21def&state={state}"
    assert code_from_paste(url, state) == "abc!def"
    assert code_from_paste(f"?code=xyz&state={state}", state) == "xyz"
    assert code_from_paste("  abc%21def  \n", state) == "abc!def"
    with pytest.raises(LoginError, match="nothing was pasted"):
        code_from_paste("\n", state)
    with pytest.raises(LoginError, match="different state"):
        code_from_paste("http://localhost/cb?code=abc&state=other", state)
    with pytest.raises(LoginError, match="no code"):
        code_from_paste(f"http://localhost/cb?state={state}", state)
