"""OAuth2 for Exact Online: the authorization-code flow, token refresh and token stores.

Exact's rules, all encoded here:

* an access token lives 600 s; Exact refuses a refresh before 570 s after the
  previous token was issued, so a token is refreshed only in its last 30 s (or
  after it expired), or once after an unexpected 401;
* every refresh rotates the refresh token, and the old one stops working at once
  (re-using it gives 401 ``unauthorized_client`` "Old refresh token used.");
* the rotated pair is saved to the :class:`TokenStore` *before* the new access
  token is used, and only one worker refreshes at a time: others wait on the
  store's refresh lock, re-read the store and adopt the token the winner saved;
* an unused refresh token expires after about 30 days; then, or when it was
  revoked, :class:`~exactbridge.errors.AuthorizationRequiredError` says that a
  person must authorize the app again.

The token HTTP exchanges are sans-I/O generators (:func:`exchange_code_flow`,
:func:`refresh_flow`) that yield an :class:`httpx.Request` and receive the read
:class:`httpx.Response`; :class:`ExactAuth` (an :class:`httpx.Auth`) drives them for
both the sync and the async httpx client. Tokens, codes and the client secret
never appear in a ``repr``, a log line or an exception message.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import enum
import ipaddress
import json
import logging
import threading
import weakref
from collections.abc import AsyncGenerator, Generator, Mapping, Sequence
from types import MappingProxyType
from typing import Any, TypeVar
from urllib.parse import urlsplit

import attrs
import httpx
from oauthlib.oauth2 import WebApplicationClient

from exactbridge import _logsafety
from exactbridge.clock import Clock, SystemClock
from exactbridge.errors import (
    AuthorizationRequiredError,
    ConfigurationError,
    ExactBridgeError,
    RefreshTooEarlyError,
    TokenConflictError,
    TokenEndpointError,
)
from exactbridge.exact._tokenstores import (
    ACCESS_TOKEN_LIFETIME,
    REFRESH_NOT_BEFORE,
    FileTokenStore,
    MemoryTokenStore,
    SQLiteTokenStore,
    Token,
    TokenStore,
)

__all__ = [
    "ACCESS_TOKEN_LIFETIME",
    "COUNTRY_BASE_URLS",
    "REFRESH_NOT_BEFORE",
    "Credentials",
    "ExactAuth",
    "FileTokenStore",
    "MemoryTokenStore",
    "OldRefreshTokenError",
    "SQLiteTokenStore",
    "Token",
    "TokenStore",
    "authorization_url",
    "base_url_for_country",
    "exchange_code_flow",
    "refresh_flow",
]

_log = logging.getLogger("exactbridge.auth")

T = TypeVar("T")

#: The Exact Online site of each country (a company lives on exactly one of them).
COUNTRY_BASE_URLS: Mapping[str, str] = MappingProxyType(
    {
        "nl": "https://start.exactonline.nl",
        "be": "https://start.exactonline.be",
        "de": "https://start.exactonline.de",
        "uk": "https://start.exactonline.co.uk",
        "us": "https://start.exactonline.com",
        "es": "https://start.exactonline.es",
        "fr": "https://start.exactonline.fr",
    }
)

_AUTH_PATH = "/api/oauth2/auth"
_TOKEN_PATH = "/api/oauth2/token"


def base_url_for_country(country: str) -> str:
    """Return the Exact Online site for a country code (case-insensitive).

    >>> base_url_for_country("uk")
    'https://start.exactonline.co.uk'
    """
    value: object = country
    key = value.strip().lower() if isinstance(value, str) else None
    if key is not None and key in COUNTRY_BASE_URLS:
        return COUNTRY_BASE_URLS[key]
    raise ConfigurationError(
        f"unknown Exact Online country {country!r}",
        key="country",
        expected="one of " + ", ".join(sorted(COUNTRY_BASE_URLS)),
    )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _root_url(base_url: str) -> str:
    """Validate a site URL: https, or plain http to a loopback host (local fakes)."""
    if not isinstance(base_url, str):
        raise ConfigurationError(
            f"got {type(base_url).__name__}", key="base_url", expected="a URL string"
        )
    root = base_url.strip().rstrip("/")
    parts = urlsplit(root)
    if parts.scheme == "https" and parts.hostname:
        return root
    if parts.scheme == "http" and parts.hostname and _is_loopback(parts.hostname):
        return root
    raise ConfigurationError(
        f"{base_url!r} is not usable for OAuth2",
        key="base_url",
        expected="an https:// URL (plain http only for localhost)",
    )


def _non_empty_str(_instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(
            "must be a non-empty string",
            key=f"Credentials.{attribute.name}",
            expected="a non-empty string",
        )


@attrs.frozen
class Credentials:
    """An app's registration in the Exact App Center.

    ``redirect_uri`` must match the registration exactly. The secret stays out of
    ``repr``::

        >>> Credentials("8d1a7f0e-0000", "s3cret", "https://app.example/callback")
        Credentials(client_id='8d1a7f0e-0000', redirect_uri='https://app.example/callback')
    """

    client_id: str = attrs.field(validator=_non_empty_str)
    client_secret: str = attrs.field(repr=False, validator=_non_empty_str)
    redirect_uri: str = attrs.field(validator=_non_empty_str)


class OldRefreshTokenError(AuthorizationRequiredError):
    """Exact says the refresh token was already used ("Old refresh token used.").

    :class:`ExactAuth` handles this itself by adopting the newer token another
    worker saved; it reaches you only when the store holds nothing newer.
    """


def authorization_url(
    credentials: Credentials,
    *,
    base_url: str,
    state: str | None = None,
    force_login: bool = False,
) -> str:
    """Return the URL to send a person to so they can authorize the app.

    Exact redirects back to ``credentials.redirect_uri`` with ``code`` and the
    ``state`` you passed (check it to stop cross-site request forgery).
    ``force_login`` asks Exact to show its login screen even when the browser
    still has a session, so a different user can log in.

    >>> url = authorization_url(
    ...     Credentials("abc", "secret", "https://app.example/cb"),
    ...     base_url="https://start.exactonline.nl",
    ...     state="xyz",
    ... )
    >>> url.split("?")[0]
    'https://start.exactonline.nl/api/oauth2/auth'
    """
    root = _root_url(base_url)
    endpoint = root + _AUTH_PATH
    # oauthlib insists on https; a loopback http fake is built as https and switched back.
    plain_http = endpoint.startswith("http://")
    if plain_http:
        endpoint = "https://" + endpoint[len("http://") :]
    extra: dict[str, str] = {"force_login": "1"} if force_login else {}
    url: str = WebApplicationClient(credentials.client_id).prepare_request_uri(
        endpoint, redirect_uri=credentials.redirect_uri, state=state, **extra
    )
    if plain_http:
        url = "http://" + url[len("https://") :]
    return url


# ----------------------------------------------------------------------- sans-I/O flows

TokenFlow = Generator[httpx.Request, httpx.Response, Token]


def _token_request(root: str, body: str) -> httpx.Request:
    # Form-encoded, and deliberately without an Authorization header: Exact answers
    # 401 when one is sent to the token endpoint.
    return httpx.Request(
        "POST",
        root + _TOKEN_PATH,
        content=body.encode("ascii"),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
        },
    )


def _scrub(text: str, secrets: Sequence[str]) -> str:
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    if len(text) > 300:
        text = text[:300] + "..."
    return text


def _json_object(response: httpx.Response) -> dict[str, Any] | None:
    try:
        data = json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) else None


def _parse_expires_in(value: object) -> int:
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, int):
        seconds = value
    elif isinstance(value, str) and value.strip().isdigit():
        seconds = int(value.strip())
    else:
        raise ValueError
    if seconds <= 0:
        raise ValueError
    return seconds


def _read_token(
    response: httpx.Response, *, grant: str, secrets: Sequence[str], clock: Clock
) -> Token:
    """Turn the token endpoint's answer into a :class:`Token` or the right typed error."""
    status = response.status_code
    data = _json_object(response)
    if 200 <= status < 300:
        if data is None:
            raise TokenEndpointError(
                f"the token endpoint answered HTTP {status} without a JSON object",
                status=status,
                error="invalid_response",
            )
        access, refresh = data.get("access_token"), data.get("refresh_token")
        missing = [
            name
            for name, value in (("access_token", access), ("refresh_token", refresh))
            if not isinstance(value, str) or not value
        ]
        if missing:
            raise TokenEndpointError(
                f"the token endpoint's answer has no usable {' or '.join(missing)}",
                status=status,
                error="invalid_response",
            )
        token_type = data.get("token_type", "bearer")
        if not isinstance(token_type, str) or token_type.lower() != "bearer":
            raise TokenEndpointError(
                f"the token endpoint returned token_type {token_type!r}, expected 'bearer'",
                status=status,
                error="invalid_response",
            )
        raw_expires = data.get("expires_in", ACCESS_TOKEN_LIFETIME)
        try:
            expires_in = _parse_expires_in(raw_expires)
        except ValueError:
            raise TokenEndpointError(
                "the token endpoint returned an unusable expires_in "
                f"({type(raw_expires).__name__}), expected a positive number of seconds",
                status=status,
                error="invalid_response",
            ) from None
        return Token(str(access), str(refresh), clock.now(), expires_in)

    error = data.get("error") if data is not None else None
    error = error if isinstance(error, str) else ""
    raw_description = data.get("error_description") if data is not None else None
    description = _scrub(raw_description if isinstance(raw_description, str) else "", secrets)
    reason = _scrub(response.headers.get("Reason", ""), secrets)
    said = f": {description}" if description else ""

    if "TooEarlyToRefreshTokens" in reason or (
        error == "access_denied" and "not expired" in description.lower()
    ):
        raise RefreshTooEarlyError(
            "Exact refused to refresh the access token: a token may be refreshed only "
            f"{REFRESH_NOT_BEFORE} s after the previous one was issued (HTTP {status}{said})"
        )
    if error == "unauthorized_client" and "old refresh token" in description.lower():
        raise OldRefreshTokenError(
            "Exact says this refresh token was already used (Old refresh token used.); "
            "another worker refreshed without saving to the shared token store, so the "
            "app must be authorized again"
        )
    if (
        grant == "refresh_token"
        and status in (400, 401)
        and (
            error == "invalid_grant"
            or (
                error == "invalid_request"
                and any(w in description.lower() for w in ("expired", "revoked", "refresh token"))
            )
        )
    ):
        raise AuthorizationRequiredError(
            "the refresh token was refused (it expires after about 30 days without use, "
            f"or was revoked){said}; authorize the app again to get new tokens"
        )
    if (
        grant == "authorization_code"
        and status == 400
        and error
        in (
            "invalid_grant",
            "invalid_request",
        )
    ):
        raise AuthorizationRequiredError(
            "the authorization code was refused (a code works once, for a few minutes, and "
            f"only with the registered redirect_uri){said}; authorize the app again"
        )
    if data is None:
        raise TokenEndpointError(
            f"the token endpoint answered HTTP {status} with a body that is not JSON",
            status=status,
            error="",
        )
    raise TokenEndpointError(
        f"the token endpoint refused the {grant} request: HTTP {status} "
        f"{error or '(no error code)'}{said}",
        status=status,
        error=error,
        description=description,
    )


def exchange_code_flow(
    credentials: Credentials, *, base_url: str, code: str, clock: Clock
) -> TokenFlow:
    """Trade an authorization code for a token pair (sans-I/O).

    The generator yields the token request and expects the *read* response back;
    it returns a :class:`Token` (generation 0: the store numbers it when saving).
    Drive it with any HTTP client::

        flow = exchange_code_flow(credentials, base_url=url, code=code, clock=clock)
        request = next(flow)
        try:
            while True:
                request = flow.send(http_client.send(request))
        except StopIteration as done:
            token = done.value
    """
    root = _root_url(base_url)
    code_value: object = code
    if not isinstance(code_value, str) or not code_value:
        raise ConfigurationError(
            "the authorization code is empty", key="code", expected="the code from the redirect"
        )
    body = WebApplicationClient(credentials.client_id).prepare_request_body(
        code=code,
        redirect_uri=credentials.redirect_uri,
        client_secret=credentials.client_secret,
        include_client_id=True,
    )
    response = yield _token_request(root, body)
    token = _read_token(
        response,
        grant="authorization_code",
        secrets=(code, credentials.client_secret),
        clock=clock,
    )
    _log.info("obtained Exact Online tokens from an authorization code")
    return token


def refresh_flow(
    credentials: Credentials, *, base_url: str, token: Token, clock: Clock
) -> TokenFlow:
    """Refresh ``token`` (sans-I/O); returns the rotated pair with ``token.generation``.

    Errors: :class:`~exactbridge.errors.RefreshTooEarlyError` (within 570 s),
    :class:`OldRefreshTokenError` (refresh token already used),
    :class:`~exactbridge.errors.AuthorizationRequiredError` (expired or revoked) and
    :class:`~exactbridge.errors.TokenEndpointError` (anything else). This does not
    save anything; :class:`ExactAuth` saves the result before using it.
    """
    root = _root_url(base_url)
    body = WebApplicationClient(credentials.client_id).prepare_refresh_body(
        refresh_token=token.refresh_token,
        client_id=credentials.client_id,
        client_secret=credentials.client_secret,
    )
    response = yield _token_request(root, body)
    fresh = _read_token(
        response,
        grant="refresh_token",
        secrets=(token.refresh_token, token.access_token, credentials.client_secret),
        clock=clock,
    )
    return attrs.evolve(fresh, generation=token.generation)


# ------------------------------------------------------------------ the httpx.Auth driver


@attrs.frozen
class _Send:
    request: httpx.Request
    read: bool


@attrs.frozen
class _Save:
    token: Token
    expected_generation: int | None


class _Op(enum.Enum):
    LOAD = "load"
    LOCK = "lock"
    UNLOCK = "unlock"


_Effect = _Send | _Save | _Op
_Core = Generator[_Effect, Any, T]


def _as_effects(flow: TokenFlow) -> _Core[Token]:
    """Run a token flow inside the effect protocol (its responses are read first)."""
    request = next(flow)
    while True:
        response = yield _Send(request, read=True)
        try:
            request = flow.send(response)
        except StopIteration as done:
            result: Token = done.value
            return result


def _differs(a: Token, b: Token) -> bool:
    return a.generation != b.generation or a.access_token != b.access_token


def _bearer(request: httpx.Request, token: Token) -> None:
    request.headers["Authorization"] = f"Bearer {token.access_token}"


async def _enter_in_thread(manager: contextlib.AbstractContextManager[None]) -> None:
    """Enter a blocking context manager without blocking the event loop.

    A dedicated thread waits for the lock (so waiting never uses up the default
    executor); if the waiting task is cancelled, the lock is released as soon as
    the thread gets it.
    """
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()

    def deliver(error: BaseException | None) -> None:
        if done.cancelled():
            if error is None:
                manager.__exit__(None, None, None)
        elif error is None:
            done.set_result(None)
        else:
            done.set_exception(error)

    def wait_for_lock() -> None:
        try:
            manager.__enter__()
        except BaseException as exc:
            error: BaseException | None = exc
        else:
            error = None
        try:
            loop.call_soon_threadsafe(deliver, error)
        except RuntimeError:  # the loop is closed: nobody will use the lock
            if error is None:
                manager.__exit__(None, None, None)

    threading.Thread(target=wait_for_lock, name="exactbridge-token-lock", daemon=True).start()
    await done


class ExactAuth(httpx.Auth):
    """httpx authentication for Exact Online that follows Exact's token rules.

    Give it to an :class:`httpx.Client` or :class:`httpx.AsyncClient` (the
    exactbridge clients do this for you)::

        auth = ExactAuth(credentials, FileTokenStore("tokens.json"),
                         base_url=base_url_for_country("nl"))
        with httpx.Client(auth=auth) as http:
            http.get("https://start.exactonline.nl/api/v1/current/Me")

    Per request: the token comes from memory (loaded from the store the first
    time). In the last 30 s of its life, or once expired, the token is refreshed
    under the store's refresh lock: the store is re-read inside the lock and a
    token that another worker (thread, task or process) saved meanwhile is adopted
    instead of refreshing again. A refreshed pair is saved (compare-and-swap on the
    generation) before its access token is used. After an unexpected 401 the store
    is re-read (a newer token is adopted) or the token is refreshed once, and the
    request is retried once; never more.

    In async code, tasks of one event loop queue on an :class:`asyncio.Lock` and
    the store's lock is taken in a helper thread, so the loop never blocks on it;
    store reads and writes run in :func:`asyncio.to_thread`.
    """

    def __init__(
        self,
        credentials: Credentials,
        store: TokenStore,
        *,
        base_url: str,
        clock: Clock | None = None,
    ) -> None:
        _logsafety.install()
        if not isinstance(credentials, Credentials):
            raise ConfigurationError(
                f"got {type(credentials).__name__}",
                key="credentials",
                expected="an exactbridge Credentials",
            )
        if not isinstance(store, TokenStore):
            raise ConfigurationError(
                f"got {type(store).__name__}",
                key="token_store",
                expected="a TokenStore (load, save, refresh_lock)",
            )
        self._credentials = credentials
        self._store = store
        self._root = _root_url(base_url)
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._token: Token | None = None
        # Generation whose refresh Exact refused as too early: use it until it expires.
        self._refused_generation: int | None = None
        self._loop_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )
        self._loop_locks_guard = threading.Lock()

    def __repr__(self) -> str:
        return f"ExactAuth(client_id={self._credentials.client_id!r}, store={self._store!r})"

    @property
    def store(self) -> TokenStore:
        """The token store this auth reads and saves."""
        return self._store

    @property
    def token(self) -> Token | None:
        """The token this auth uses now (``None`` before the first request or exchange)."""
        return self._token

    def authorization_url(self, *, state: str | None = None, force_login: bool = False) -> str:
        """Shortcut for :func:`authorization_url` with this auth's credentials and site."""
        return authorization_url(
            self._credentials, base_url=self._root, state=state, force_login=force_login
        )

    # -- the shared logic, written once as effects ------------------------------------
    def _adopt(self, token: Token, why: str) -> Token:
        _log.info(
            "adopting Exact Online token generation %d saved by another worker (%s)",
            token.generation,
            why,
        )
        self._token = token
        return token

    def _refresh_locked(self, stale: Token, now: dt.datetime, *, after_401: bool) -> _Core[Token]:
        """Inside the refresh lock: adopt what others saved, or refresh and save."""
        stored = yield _Op.LOAD
        if stored is None:
            raise AuthorizationRequiredError(
                "the token store is empty; authorize the app (authorization code flow) first"
            )
        good_enough = (not stored.is_expired(now)) if after_401 else (not stored.may_refresh(now))
        if _differs(stored, stale) and good_enough:
            return self._adopt(stored, "found after waiting for the refresh lock")
        _log.info(
            "refreshing the Exact Online access token (generation %d, issued %s, %s)",
            stored.generation,
            stored.issued_at.isoformat(),
            "after an unexpected 401" if after_401 else "in its last 30 s or expired",
        )
        try:
            fresh = yield from _as_effects(
                refresh_flow(
                    self._credentials, base_url=self._root, token=stored, clock=self._clock
                )
            )
        except OldRefreshTokenError:
            latest = yield _Op.LOAD
            if latest is not None and _differs(latest, stored):
                return self._adopt(latest, "after Exact said the refresh token was used")
            _log.error("Exact rejected the stored refresh token as already used")
            raise
        try:
            saved: Token = yield _Save(fresh, stored.generation)
        except TokenConflictError:
            latest = yield _Op.LOAD
            if latest is not None and latest.refresh_token != stored.refresh_token:
                _log.warning(
                    "the token store changed during a refresh without its lock; "
                    "keeping the stored generation %d",
                    latest.generation,
                )
                return self._adopt(latest, "a writer that did not take the refresh lock")
            saved = yield _Save(fresh, None)
        _log.info(
            "saved the rotated Exact Online token as generation %d (refreshable from %s)",
            saved.generation,
            saved.refreshable_at.isoformat(),
        )
        self._token = saved
        self._refused_generation = None
        return saved

    def _single_flight(self, stale: Token, now: dt.datetime, *, after_401: bool) -> _Core[Token]:
        yield _Op.LOCK
        try:
            token = yield from self._refresh_locked(stale, now, after_401=after_401)
        except ExactBridgeError:
            yield _Op.UNLOCK
            raise
        yield _Op.UNLOCK
        return token

    def _usable_token(self) -> _Core[Token]:
        now = self._clock.now()
        token = self._token
        if token is None:
            token = yield _Op.LOAD
            if token is None:
                raise AuthorizationRequiredError(
                    "the token store is empty; authorize the app (authorization code flow) first"
                )
            self._token = token
        if not token.may_refresh(now):
            return token
        if self._refused_generation == token.generation and not token.is_expired(now):
            return token
        # Cheap look first: another worker may have refreshed already.
        stored = yield _Op.LOAD
        if stored is not None and _differs(stored, token) and not stored.may_refresh(now):
            return self._adopt(stored, "already refreshed")
        try:
            return (yield from self._single_flight(token, now, after_401=False))
        except RefreshTooEarlyError:
            if token.is_expired(now):
                raise
            _log.warning(
                "Exact refused an early refresh of generation %d; using it until it expires",
                token.generation,
            )
            self._refused_generation = token.generation
            return token

    def _after_401(self, used: Token) -> _Core[Token]:
        now = self._clock.now()
        stored = yield _Op.LOAD
        if stored is None:
            raise AuthorizationRequiredError(
                "the token store is empty; authorize the app (authorization code flow) first"
            )
        if _differs(stored, used) and not stored.is_expired(now):
            return self._adopt(stored, "after a 401")
        return (yield from self._single_flight(used, now, after_401=True))

    def _request_core(self, request: httpx.Request) -> _Core[None]:
        token = yield from self._usable_token()
        _bearer(request, token)
        response: httpx.Response = yield _Send(request, read=False)
        if response.status_code != 401:
            return None
        _log.info(
            "Exact answered 401 to %s %s with token generation %d; trying once more",
            request.method,
            request.url.path,
            token.generation,
        )
        token = yield from self._after_401(token)
        _bearer(request, token)
        yield _Send(request, read=False)
        return None

    def _exchange_core(self, code: str) -> _Core[Token]:
        fresh = yield from _as_effects(
            exchange_code_flow(self._credentials, base_url=self._root, code=code, clock=self._clock)
        )
        saved: Token = yield _Save(fresh, None)
        self._token = saved
        self._refused_generation = None
        _log.info("saved the new Exact Online token as generation %d", saved.generation)
        return saved

    # -- drivers ----------------------------------------------------------------------
    def _run_sync(self, core: _Core[T]) -> Generator[httpx.Request, httpx.Response, T]:
        held: contextlib.AbstractContextManager[None] | None = None
        value: Any = None
        error: ExactBridgeError | None = None
        try:
            while True:
                try:
                    effect = core.throw(error) if error is not None else core.send(value)
                except StopIteration as done:
                    result: T = done.value
                    return result
                value, error = None, None
                if isinstance(effect, _Send):
                    response = yield effect.request
                    if effect.read:
                        response.read()
                    value = response
                    continue
                try:
                    if isinstance(effect, _Save):
                        value = self._store.save(
                            effect.token, expected_generation=effect.expected_generation
                        )
                    elif effect is _Op.LOAD:
                        value = self._store.load()
                    elif effect is _Op.LOCK:
                        manager = self._store.refresh_lock()
                        manager.__enter__()
                        held = manager
                    else:
                        releasing, held = held, None
                        if releasing is not None:
                            releasing.__exit__(None, None, None)
                except ExactBridgeError as exc:
                    error = exc
        finally:
            core.close()
            if held is not None:
                held.__exit__(None, None, None)

    def _loop_lock(self) -> asyncio.Lock:
        loop = asyncio.get_running_loop()
        with self._loop_locks_guard:
            lock = self._loop_locks.get(loop)
            if lock is None:
                lock = self._loop_locks[loop] = asyncio.Lock()
            return lock

    async def _run_async(
        self, core: _Core[T], box: list[T]
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        held: contextlib.AbstractContextManager[None] | None = None
        loop_lock: asyncio.Lock | None = None
        value: Any = None
        error: ExactBridgeError | None = None
        try:
            while True:
                try:
                    effect = core.throw(error) if error is not None else core.send(value)
                except StopIteration as done:
                    box.append(done.value)
                    return
                value, error = None, None
                if isinstance(effect, _Send):
                    response = yield effect.request
                    if effect.read:
                        await response.aread()
                    value = response
                    continue
                try:
                    if isinstance(effect, _Save):
                        value = await asyncio.to_thread(
                            self._store.save,
                            effect.token,
                            expected_generation=effect.expected_generation,
                        )
                    elif effect is _Op.LOAD:
                        value = await asyncio.to_thread(self._store.load)
                    elif effect is _Op.LOCK:
                        lock = self._loop_lock()
                        await lock.acquire()
                        try:
                            manager = self._store.refresh_lock()
                            await _enter_in_thread(manager)
                        except BaseException:
                            lock.release()
                            raise
                        held, loop_lock = manager, lock
                    else:
                        releasing, held = held, None
                        lock_to_free, loop_lock = loop_lock, None
                        try:
                            if releasing is not None:
                                releasing.__exit__(None, None, None)
                        finally:
                            if lock_to_free is not None:
                                lock_to_free.release()
                except ExactBridgeError as exc:
                    error = exc
        finally:
            core.close()
            try:
                if held is not None:
                    held.__exit__(None, None, None)
            finally:
                if loop_lock is not None:
                    loop_lock.release()

    # -- httpx.Auth -------------------------------------------------------------------
    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        """Authenticate ``request`` for a sync :class:`httpx.Client` (see the class docs)."""
        request.read()  # a retry after a 401 must be able to send the body again
        yield from self._run_sync(self._request_core(request))

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """Authenticate ``request`` for an :class:`httpx.AsyncClient` (see the class docs)."""
        await request.aread()
        box: list[None] = []
        flow = self._run_async(self._request_core(request), box)
        try:
            response: httpx.Response | None = None
            request_out = await flow.__anext__()
            while True:
                response = yield request_out
                try:
                    request_out = await flow.asend(response)
                except StopAsyncIteration:
                    return
        finally:
            await flow.aclose()

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Not used: httpx calls :meth:`sync_auth_flow` / :meth:`async_auth_flow`."""
        raise NotImplementedError("ExactAuth drives its own sync and async flows")

    # -- the authorization code exchange ----------------------------------------------
    def exchange_code_flow(self, code: str) -> TokenFlow:
        """Trade ``code`` for tokens and save them in the store (sans-I/O generator).

        Send each yielded request *without* this auth and pass the read response
        back; the generator's return value is the saved :class:`Token`. Sync::

            flow = auth.exchange_code_flow(code)
            request = next(flow)
            while True:
                response = client.send(request, auth=None)
                try:
                    request = flow.send(response)
                except StopIteration as done:
                    token = done.value
                    break

        Async: the same loop with ``response = await client.send(request, auth=None)``
        (and ``await response.aread()`` when streaming). The save runs synchronously
        inside ``flow.send``; :meth:`aexchange_code` keeps it off the event loop.
        """
        return self._run_sync(self._exchange_core(code))

    def exchange_code(self, client: httpx.Client, code: str) -> Token:
        """Trade ``code`` for tokens with ``client`` and save them; returns the saved token."""
        flow = self.exchange_code_flow(code)
        request = next(flow)
        while True:
            response = client.send(request, auth=None)
            try:
                request = flow.send(response)
            except StopIteration as done:
                token: Token = done.value
                return token

    async def aexchange_code(self, client: httpx.AsyncClient, code: str) -> Token:
        """Async :meth:`exchange_code`: the store is written in a worker thread."""
        box: list[Token] = []
        flow = self._run_async(self._exchange_core(code), box)
        try:
            request = await flow.__anext__()
            while True:
                response = await client.send(request, auth=None)
                try:
                    request = await flow.asend(response)
                except StopAsyncIteration:
                    break
        finally:
            await flow.aclose()
        return box[0]
