"""``exactbridge login``: authorize the app with Exact Online and keep its tokens.

The OAuth2 authorization-code flow, for a person at a terminal:

1. exactbridge prints the authorization URL (with a random ``state``) and opens
   it in the browser (``--no-browser`` only prints it);
2. the person logs in to Exact Online and allows the app; Exact redirects the
   browser to the app's ``redirect_uri`` with a ``code`` and the same ``state``;
3. a small listener on ``127.0.0.1`` (the port of ``redirect_uri``, or
   ``--port``) receives that redirect and checks the ``state``; with ``--paste``
   (or a ``redirect_uri`` that is not on this computer) the person pastes the
   address the browser was sent to, or just the code;
4. the code is exchanged for tokens, which are saved in the token store
   (``exact.token_store``), and ``current/Me`` is read to show who logged in.

Codes, tokens and the client secret are never printed or logged; the listener
logs nothing.
"""

from __future__ import annotations

import argparse
import html
import ipaddress
import secrets
import socket
import sys
import threading
import webbrowser
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, TextIO
from urllib.parse import parse_qs, unquote, urlsplit

import attrs
import httpx

from exactbridge.cli._args import add_config_option, port, positive
from exactbridge.cli._config import (
    ExactSettings,
    config_path,
    load_config,
    make_credentials,
    make_token_store,
)
from exactbridge.cli._output import note
from exactbridge.clock import Clock
from exactbridge.errors import AuthError, ConfigurationError, TokenEndpointError
from exactbridge.exact import Credentials, ExactClient, Me, authorization_url

__all__ = [
    "CallbackListener",
    "LoginError",
    "LoginResult",
    "code_from_paste",
    "command",
    "register",
]

_DEFAULT_TIMEOUT = 300

_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>exactbridge</title></head>
<body style="font-family: sans-serif; margin: 3em;">
<h1>{title}</h1><p>{text}</p></body></html>
"""


class LoginError(AuthError):
    """The authorization did not complete: refused, a wrong ``state``, no code, or no redirect.

    Nothing is saved when this is raised; run ``exactbridge login`` again.
    """


@attrs.frozen
class LoginResult:
    """What a completed login did: the token store it saved to and who logged in."""

    token_store: str
    user: str | None
    current_division: int | None


def register(commands: Any) -> None:
    """Add the ``login`` subcommand to ``commands`` (an argparse subparsers action)."""
    parser: argparse.ArgumentParser = commands.add_parser(
        "login",
        help="authorize exactbridge with Exact Online (OAuth2) and keep the tokens",
        description=(
            "Open Exact Online's authorization page, receive the redirect on a local "
            "listener (or a pasted URL or code), exchange the code for tokens and save "
            "them in the token store of the configuration file."
        ),
    )
    add_config_option(parser)
    parser.add_argument(
        "--country",
        metavar="CODE",
        help="the Exact Online site to log in to (nl, be, de, uk, fr, es, us); "
        "default: exact.country of the configuration file",
    )
    parser.add_argument(
        "--no-browser",
        action="store_true",
        help="only print the authorization URL; do not open a browser",
    )
    parser.add_argument(
        "--port",
        type=port,
        metavar="P",
        help="listen for the redirect on this port (default: the port of exact.redirect_uri)",
    )
    parser.add_argument(
        "--paste",
        action="store_true",
        help="do not listen: paste the address Exact redirected to (or just the code)",
    )
    parser.add_argument(
        "--force-login",
        action="store_true",
        help="make Exact show its login screen even if the browser is still logged in",
    )
    parser.add_argument(
        "--timeout",
        type=positive,
        default=_DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"how long to wait for the redirect (default {_DEFAULT_TIMEOUT})",
    )


# ------------------------------------------------------------------- reading the code


def _refusal(params: Mapping[str, list[str]]) -> LoginError:
    error = params.get("error", [""])[0]
    description = params.get("error_description", [""])[0]
    said = f": {description}" if description else ""
    return LoginError(f"Exact Online did not authorize the app ({error}{said}); nothing was saved")


def _code_from_params(params: Mapping[str, list[str]], expected_state: str, where: str) -> str:
    if "error" in params:
        raise _refusal(params)
    state = params.get("state", [""])[0]
    if not secrets.compare_digest(state.encode(), expected_state.encode()):
        raise LoginError(
            f"the {where} carries {'a different' if state else 'no'} state parameter: it does "
            "not belong to this login (a stale or forged redirect); nothing was saved"
        )
    code = params.get("code", [""])[0]
    if not code:
        raise LoginError(f"the {where} has no code parameter; nothing was saved")
    return code


def code_from_paste(text: str, expected_state: str) -> str:
    """The authorization code from what a person pasted.

    Accepted: the whole address Exact redirected to (its ``state`` must match
    ``expected_state``), its query part (``code=...&state=...``), or the bare code
    (percent-encoding, as a browser's address bar shows it, is undone).
    """
    text = text.strip()
    if not text:
        raise LoginError("nothing was pasted; nothing was saved")
    if "://" in text or "=" in text:
        query = urlsplit(text).query if "://" in text else text.lstrip("?")
        return _code_from_params(parse_qs(query), expected_state, "pasted address")
    return unquote(text)


@attrs.define
class _Outcome:
    code: str | None = attrs.field(default=None, repr=False)
    error: LoginError | None = None


class _Server(HTTPServer):
    def __init__(
        self, address: tuple[str, int], family: socket.AddressFamily, path: str, state: str
    ) -> None:
        self.address_family = family
        super().__init__(address, _Handler)
        self.callback_path = path
        self.expected_state = state
        self.outcome: _Outcome | None = None
        self.done = threading.Event()


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "exactbridge-login"

    def _page(self, status: int, title: str, text: str) -> None:
        body = _PAGE.format(title=html.escape(title), text=html.escape(text)).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        """Receive the redirect: check the path and state, keep the code."""
        parts = urlsplit(self.path)
        if parts.path != self.server.callback_path:
            self._page(404, "Not found", "This is exactbridge's login listener.")
            return
        if self.server.done.is_set():
            self._page(409, "Already done", "This login has already finished.")
            return
        try:
            code = _code_from_params(parse_qs(parts.query), self.server.expected_state, "redirect")
        except LoginError as exc:
            self.server.outcome = _Outcome(error=exc)
            self._page(400, "Login failed", f"{exc}. You can close this window.")
        else:
            self.server.outcome = _Outcome(code=code)
            self._page(
                200,
                "exactbridge is authorized",
                "You can close this window and return to the terminal.",
            )
        self.server.done.set()

    def log_message(self, format: str, *args: object) -> None:
        """Log nothing: the request line would contain the authorization code."""


def _loopback_family(host: str) -> socket.AddressFamily | None:
    if host == "localhost":
        return socket.AF_INET
    try:
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None
    if not address.is_loopback:
        return None
    return socket.AF_INET6 if address.version == 6 else socket.AF_INET


class CallbackListener:
    """A one-shot HTTP listener for the OAuth2 redirect on this computer.

    ``redirect_uri`` must be ``http://`` on a loopback host (``localhost``,
    ``127.0.0.1``, ``[::1]``); it listens on that port (or ``port``) until one
    request to the redirect's path arrives. Use :meth:`wait` to get the code::

        with CallbackListener("http://localhost:8765/callback", state=state) as listener:
            webbrowser.open(url)
            code = listener.wait(timeout=300)
    """

    def __init__(self, redirect_uri: str, *, state: str, port: int | None = None) -> None:
        parts = urlsplit(redirect_uri)
        family = _loopback_family(parts.hostname or "") if parts.scheme == "http" else None
        if family is None:
            raise ConfigurationError(
                f"{redirect_uri!r} is not a plain http:// address on this computer, so the "
                "redirect cannot be received here",
                key="exact.redirect_uri",
                expected="http://localhost:<port>/<path> (or use 'exactbridge login --paste')",
            )
        host = "::1" if family == socket.AF_INET6 else "127.0.0.1"
        listen_port = port if port is not None else (parts.port or 80)
        try:
            self._server = _Server((host, listen_port), family, parts.path or "/", state)
        except OSError as exc:
            raise ConfigurationError(
                f"cannot listen on {host} port {listen_port} ({exc.strerror or exc})",
                key="--port",
                expected="a free port matching exact.redirect_uri "
                "(or use 'exactbridge login --paste')",
            ) from exc
        self.port = int(self._server.server_address[1])
        self.url = f"http://{'[::1]' if host == '::1' else host}:{self.port}{parts.path or '/'}"
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            args=(0.05,),
            name="exactbridge-login-listener",
            daemon=True,
        )
        self._thread.start()

    def wait(self, timeout: float) -> str:
        """Wait up to ``timeout`` seconds for the redirect; return its code or raise LoginError."""
        if not self._server.done.wait(timeout):
            raise LoginError(
                f"no redirect arrived at {self.url} within {timeout:g} s; nothing was saved "
                "(run 'exactbridge login' again, or use --paste)"
            )
        outcome = self._server.outcome
        if outcome is None or outcome.code is None:
            raise (
                outcome.error
                if outcome is not None and outcome.error
                else LoginError("the redirect carried no code; nothing was saved")
            )
        return outcome.code

    def close(self) -> None:
        """Stop listening and free the port."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> CallbackListener:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"CallbackListener(url={self.url!r})"


# --------------------------------------------------------------------------- command


def _open(url: str) -> None:
    try:
        opened = webbrowser.open(url)
    except webbrowser.Error:
        opened = False
    if not opened:
        note("Could not open a browser: open the address above yourself.")


def _who(me: Me) -> str | None:
    name = me.full_name or me.user_name
    if name and me.email and me.email != name:
        return f"{name} <{me.email}>"
    return name or me.email


def _exchange(
    settings: ExactSettings,
    credentials: Credentials,
    code: str,
    *,
    transport: httpx.BaseTransport | None,
    clock: Clock | None,
) -> LoginResult:
    store = make_token_store(settings)
    with ExactClient(
        credentials=credentials,
        token_store=store,
        country=settings.country,
        base_url=settings.base_url,
        transport=transport,
        clock=clock,
    ) as exact:
        try:
            exact.exchange_code(code)
        except TokenEndpointError as exc:
            if exc.error != "invalid_client" and exc.status != 401:
                raise
            raise LoginError(
                f"Exact refused the app's credentials ({exc.error or exc.status}): check "
                f"exact.client_id ({settings.client_id}) in {settings.file.name} against the "
                "app's Client ID in the Exact App Center, and that the environment variable "
                f"exact.client_secret_env names ({settings.client_secret_env}) holds that "
                "app's Client secret"
            ) from exc
        print(f"Tokens saved in {store.path} [{store.name}].")
        me = exact.me()
    return LoginResult(
        token_store=str(store.path), user=_who(me), current_division=me.current_division
    )


def command(
    args: argparse.Namespace,
    *,
    stdin: TextIO | None = None,
    transport: httpx.BaseTransport | None = None,
    clock: Clock | None = None,
) -> int:
    """Run ``exactbridge login``; ``stdin``, ``transport`` and ``clock`` are test seams."""
    config = load_config(config_path(args.config))
    settings = config.require_exact()
    if args.country:
        settings = settings.with_country(args.country)
    credentials = make_credentials(settings)
    state = secrets.token_urlsafe(24)
    url = authorization_url(
        credentials, base_url=settings.site_url, state=state, force_login=args.force_login
    )
    paste = args.paste
    listener: CallbackListener | None = None
    if not paste:
        try:
            listener = CallbackListener(settings.redirect_uri, state=state, port=args.port)
        except ConfigurationError as exc:
            if args.port is not None or exc.key != "exact.redirect_uri":
                raise
            note(f"{settings.redirect_uri} is not on this computer: paste the redirect instead.")
            paste = True
    try:
        print("Authorize exactbridge with Exact Online at:")
        print(f"  {url}", flush=True)
        if not args.no_browser:
            _open(url)
        if listener is not None:
            note(
                f"Waiting for Exact to redirect to {listener.url} "
                f"(up to {args.timeout} s; Ctrl-C to stop)..."
            )
            code = listener.wait(args.timeout)
        else:
            note("Paste the address Exact redirected your browser to (or just the code):")
            source = stdin if stdin is not None else sys.stdin
            code = code_from_paste(source.readline(), state)
    finally:
        if listener is not None:
            listener.close()
    result = _exchange(settings, credentials, code, transport=transport, clock=clock)
    who = f" as {result.user}" if result.user else ""
    print(f"Logged in{who}.")
    if settings.division is None:
        current = result.current_division
        print(
            f"{config.path.name} sets no exact.division: commands will use Exact's current "
            f"division{f' ({current})' if current is not None else ''}. "
            "Run 'exactbridge divisions' to choose one."
        )
    return 0
