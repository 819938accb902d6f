"""OAuth2 of the fake Exact Online: apps, authorization codes, access and refresh tokens.

Exact's rules as the reference records them (§1.2-1.4), modelled strictly:

* authorization codes are single use and valid for 3 minutes; the token request must
  repeat the ``redirect_uri`` exactly;
* access tokens live 600 s (``expires_in`` is sent as the *string* ``"600"``);
* a refresh is refused until 570 s after the current access token of that grant was
  issued: 400 ``access_denied`` plus a ``Reason: TooEarlyToRefreshTokens: ...`` header;
* refresh tokens rotate: each one works once; using it again gives 401
  ``unauthorized_client`` / ``Old refresh token used.`` (the strict rule; Exact's
  reported grace period is not modelled);
* a refresh token unused for 30 days expires (400 ``invalid_request``);
* the token endpoint refuses requests that carry an ``Authorization`` header (401).
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Mapping

import attrs

from exactbridge.errors import ConfigurationError
from exactbridge.testing._exact.wire import dumps, token_error_body

__all__ = [
    "ACCESS_TOKEN_SECONDS",
    "AUTH_CODE_SECONDS",
    "REFRESH_NOT_BEFORE_SECONDS",
    "REFRESH_TOKEN_DAYS",
    "OAuthError",
    "OAuthServer",
    "TokenGrant",
    "TokenReply",
]

ACCESS_TOKEN_SECONDS = 600
REFRESH_NOT_BEFORE_SECONDS = 570
AUTH_CODE_SECONDS = 180
REFRESH_TOKEN_DAYS = 30

TOO_EARLY = "Rate limit exceeded: access_token not expired"


class OAuthError(Exception):
    """A refused authorization request (unknown app, wrong redirect URI...)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@attrs.frozen
class TokenGrant:
    """A pair of tokens issued by the fake, as the token endpoint would return them.

    The tokens are secrets and stay out of ``repr``.
    """

    access_token: str = attrs.field(repr=False)
    refresh_token: str = attrs.field(repr=False)
    issued_at: dt.datetime
    expires_in: int = ACCESS_TOKEN_SECONDS

    @property
    def expires_at(self) -> dt.datetime:
        """When the access token stops working (aware UTC)."""
        return self.issued_at + dt.timedelta(seconds=self.expires_in)


@attrs.frozen
class TokenReply:
    """What the token endpoint answers: status, JSON body and extra headers."""

    status: int
    body: bytes = attrs.field(repr=False)
    headers: Mapping[str, str] = attrs.field(factory=dict)
    grant_type: str = ""


@attrs.frozen
class _App:
    client_id: str
    client_secret: str = attrs.field(repr=False)
    redirect_uri: str


@attrs.define
class _Code:
    client_id: str
    redirect_uri: str
    issued_at: dt.datetime
    used: bool = False


@attrs.define
class _Chain:
    """One consent: the tokens descending from one authorization."""

    client_id: str
    access_issued_at: dt.datetime


@attrs.define
class _Refresh:
    chain: _Chain
    issued_at: dt.datetime
    used: bool = False


@attrs.frozen
class _Access:
    client_id: str
    issued_at: dt.datetime


def _norm_client_id(client_id: str) -> str:
    return client_id.strip().strip("{}").lower()


def _us_time(value: dt.datetime) -> str:
    """Format like Exact's message: ``10/11/2022 9:18:20 PM`` (UTC)."""
    hour = value.hour % 12 or 12
    half = "AM" if value.hour < 12 else "PM"
    return (
        f"{value.month}/{value.day}/{value.year} {hour}:{value.minute:02d}:{value.second:02d}"
        f" {half}"
    )


class OAuthServer:
    """State and rules of Exact's two OAuth endpoints (not thread-safe on its own)."""

    def __init__(self, now: Callable[[], dt.datetime]) -> None:
        self._now = now
        self.reset()

    def reset(self) -> None:
        """Forget every app, code and token."""
        self._apps: dict[str, _App] = {}
        self._codes: dict[str, _Code] = {}
        self._refresh: dict[str, _Refresh] = {}
        self._access: dict[str, _Access] = {}

    # -- apps and consent -----------------------------------------------------------
    def register_app(self, client_id: str, client_secret: str, redirect_uri: str) -> None:
        """Register (or replace) an App Center registration."""
        if not client_id or not redirect_uri:
            raise ConfigurationError("register_app needs a client_id and a redirect_uri")
        key = _norm_client_id(client_id)
        self._apps[key] = _App(key, client_secret, redirect_uri)

    def _app(self, client_id: str) -> _App | None:
        return self._apps.get(_norm_client_id(client_id))

    def authorize(self, client_id: str, redirect_uri: str) -> str:
        """Simulate the user's consent; return a fresh authorization code."""
        app = self._app(client_id)
        if app is None:
            raise OAuthError("Unknown client_id: the app is not registered.")
        if redirect_uri != app.redirect_uri:
            raise OAuthError("The redirect_uri does not match the registration of the app.")
        code = "code-" + secrets.token_urlsafe(24)
        self._codes[code] = _Code(app.client_id, redirect_uri, self._now())
        return code

    def issue_tokens(self, client_id: str) -> TokenGrant:
        """Issue a valid token pair for a registered app without the browser flow."""
        app = self._app(client_id)
        if app is None:
            raise ConfigurationError(
                f"issue_tokens: client_id {client_id!r} is not registered with the fake",
                expected="a client_id passed to register_app() earlier",
            )
        now = self._now()
        return self._new_pair(_Chain(app.client_id, now), now)

    def _new_pair(self, chain: _Chain, now: dt.datetime) -> TokenGrant:
        access = "eyFAKE." + secrets.token_urlsafe(32)
        refresh = "__1P!I" + secrets.token_urlsafe(32)
        chain.access_issued_at = now
        self._access[access] = _Access(chain.client_id, now)
        self._refresh[refresh] = _Refresh(chain, now)
        return TokenGrant(access, refresh, now, ACCESS_TOKEN_SECONDS)

    # -- API side ---------------------------------------------------------------------
    def access_token_valid(self, token: str) -> bool:
        """True if ``token`` was issued by this fake and is younger than 600 s."""
        record = self._access.get(token)
        if record is None:
            return False
        age = (self._now() - record.issued_at).total_seconds()
        return 0 <= age < ACCESS_TOKEN_SECONDS

    # -- token endpoint ---------------------------------------------------------------
    def token_request(self, form: Mapping[str, str], *, authorization_header: bool) -> TokenReply:
        """Answer one ``POST /api/oauth2/token`` (``form`` is the decoded body)."""
        grant_type = form.get("grant_type", "")
        if authorization_header:
            return self._error(
                401,
                "invalid_client",
                "The token endpoint does not accept an Authorization header; "
                "send client_id and client_secret in the form body.",
                grant_type,
            )
        app = self._app(form.get("client_id", ""))
        if app is None or not secrets.compare_digest(
            app.client_secret.encode(), form.get("client_secret", "").encode()
        ):
            return self._error(401, "invalid_client", "Invalid client credentials.", grant_type)
        if grant_type == "authorization_code":
            return self._exchange_code(app, form)
        if grant_type == "refresh_token":
            return self._refresh_tokens(app, form)
        return self._error(
            400, "unsupported_grant_type", "The grant_type is not supported.", grant_type
        )

    def _exchange_code(self, app: _App, form: Mapping[str, str]) -> TokenReply:
        kind = "authorization_code"
        code = self._codes.get(form.get("code", ""))
        now = self._now()
        if code is None or code.used or code.client_id != app.client_id:
            return self._error(400, "invalid_grant", "The authorization code is invalid.", kind)
        code.used = True
        if (now - code.issued_at).total_seconds() > AUTH_CODE_SECONDS:
            return self._error(400, "invalid_grant", "The authorization code has expired.", kind)
        if form.get("redirect_uri", "") != code.redirect_uri:
            return self._error(
                400, "invalid_grant", "The redirect_uri does not match the authorization.", kind
            )
        return self._success(self._new_pair(_Chain(app.client_id, now), now), kind)

    def _refresh_tokens(self, app: _App, form: Mapping[str, str]) -> TokenReply:
        kind = "refresh_token"
        record = self._refresh.get(form.get("refresh_token", ""))
        now = self._now()
        if record is None or record.chain.client_id != app.client_id:
            return self._error(400, "invalid_grant", "The refresh token is invalid.", kind)
        if record.used:
            return self._error(401, "unauthorized_client", "Old refresh token used.", kind)
        expires_at = record.issued_at + dt.timedelta(days=REFRESH_TOKEN_DAYS)
        if now >= expires_at:
            return self._error(
                400,
                "invalid_request",
                f"The refresh token expired at {_us_time(expires_at)} and it is now "
                f"{_us_time(now)}.",
                kind,
            )
        age = (now - record.chain.access_issued_at).total_seconds()
        if age < REFRESH_NOT_BEFORE_SECONDS:
            reply = self._error(400, "access_denied", TOO_EARLY, kind)
            return attrs.evolve(reply, headers={"Reason": f"TooEarlyToRefreshTokens: {TOO_EARLY}"})
        record.used = True
        return self._success(self._new_pair(record.chain, now), kind)

    @staticmethod
    def _success(grant: TokenGrant, kind: str) -> TokenReply:
        body = dumps(
            {
                "access_token": grant.access_token,
                "token_type": "bearer",
                "expires_in": str(grant.expires_in),
                "refresh_token": grant.refresh_token,
            }
        )
        return TokenReply(200, body, {"Cache-Control": "no-store"}, kind)

    @staticmethod
    def _error(status: int, error: str, description: str, kind: str) -> TokenReply:
        return TokenReply(status, token_error_body(error, description), {}, kind)
