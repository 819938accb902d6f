"""``FakeExactOnline``: a stateful, in-memory Exact Online for tests.

Plug it in at the httpx transport seam so the real client code runs::

    >>> import httpx
    >>> fake = FakeExactOnline()
    >>> fake.add_division(123, template="nl")
    >>> grant = fake.issue_tokens()
    >>> http = httpx.Client(transport=fake.transport(), base_url=fake.base_url,
    ...     headers={"Authorization": f"Bearer {grant.access_token}",
    ...              "Accept": "application/json"})
    >>> page = http.get("/api/v1/123/financial/Journals").json()
    >>> sorted(row["Code"] for row in page["d"]["results"])[:2]
    ['20', '25']

See ``docs/testing-exact.md`` for everything it reproduces.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any

import httpx

from exactbridge.errors import ConfigurationError
from exactbridge.testing._exact.domain import ExactDomain
from exactbridge.testing._exact.faults import CallRecord, Fault, FaultRule, TokenCall
from exactbridge.testing._exact.oauth import TokenGrant
from exactbridge.testing._exact.router import Backend
from exactbridge.testing._exact.seeds import seed_division
from exactbridge.testing.clock import FakeClock

__all__ = [
    "DEFAULT_CLIENT_ID",
    "DEFAULT_CLIENT_SECRET",
    "DEFAULT_REDIRECT_URI",
    "FakeExactAsyncTransport",
    "FakeExactOnline",
    "FakeExactTransport",
]

#: The app every ``FakeExactOnline`` has registered from the start.
DEFAULT_CLIENT_ID = "00000000-0000-4000-8000-00000000e4ac"
DEFAULT_CLIENT_SECRET = "fake-exact-client-secret"
DEFAULT_REDIRECT_URI = "http://localhost:8765/callback"

_KEY_ONLY_POST_TABLES = frozenset({"Accounts", "Contacts"})


def _non_negative(name: str, value: int) -> int:
    if isinstance(value, bool) or value < 0:
        raise ConfigurationError(f"{name} must be an integer >= 0, got {value!r}", key=name)
    return value


def _post_status(value: int) -> int:
    if value not in (200, 201):
        raise ConfigurationError(
            f"post_status must be 200 or 201, got {value!r}", key="post_status"
        )
    return value


class FakeExactTransport(httpx.BaseTransport):
    """A synchronous httpx transport answered by a :class:`FakeExactOnline`."""

    def __init__(self, backend: Backend) -> None:
        self._backend = backend

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.read()
        return self._backend.handle(request)


class FakeExactAsyncTransport(httpx.AsyncBaseTransport):
    """An asynchronous httpx transport answered by a :class:`FakeExactOnline`."""

    def __init__(self, backend: Backend) -> None:
        self._backend = backend

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        return self._backend.handle(request)


class FakeExactOnline:
    """An in-memory Exact Online: OAuth, divisions, entities, limits, faults, call log.

    Arguments:
        clock: the simulated time (a new :class:`FakeClock` by default). Pass the same
            clock to the client under test so token lifetimes and rate-limit windows
            line up.
        base_url: the country site the fake pretends to be; ``__next`` and
            ``__metadata.uri`` use the origin of each request, so they follow whatever
            URL the client used (e.g. the local server's).
        minutely_limit, daily_limit: calls per division per minute / per UTC day.
        error_budget: 400/401/403/404 answers allowed per endpoint per hour before the
            endpoint is blocked for an hour (answered with 403).
        post_status: status of a successful POST (201, or 200 as some recordings show).
        bare_list_for_small_top: answer ``{"d":[...]}`` for ``$top`` <= 60 without
            ``$inlinecount`` (as Exact does); ``False`` always uses ``d.results``.
        domain: an :class:`ExactDomain` to use instead of a new one (advanced).
        domain_options: keyword options for the new :class:`ExactDomain`, e.g.
            ``{"language": "nl"}`` for Dutch validation messages.
    """

    def __init__(
        self,
        *,
        clock: FakeClock | None = None,
        base_url: str = "https://start.exactonline.nl",
        minutely_limit: int = 60,
        daily_limit: int = 5000,
        error_budget: int = 10,
        post_status: int = 201,
        bare_list_for_small_top: bool = True,
        domain: ExactDomain | None = None,
        domain_options: Mapping[str, Any] | None = None,
    ) -> None:
        _post_status(post_status)
        for name, value in (
            ("minutely_limit", minutely_limit),
            ("daily_limit", daily_limit),
            ("error_budget", error_budget),
        ):
            _non_negative(name, value)
        self.clock = clock if clock is not None else FakeClock()
        self.base_url = base_url.rstrip("/")
        self._backend = Backend(
            clock=self.clock,
            domain=(
                domain
                if domain is not None
                else ExactDomain(
                    self.clock.now, **{"base_url": self.base_url, **(domain_options or {})}
                )
            ),
            minutely_limit=minutely_limit,
            daily_limit=daily_limit,
            error_budget=error_budget,
            post_status=post_status,
            bare_list_for_small_top=bare_list_for_small_top,
            key_only_post_tables=_KEY_ONLY_POST_TABLES,
        )
        self._register_default_app()

    def _register_default_app(self) -> None:
        self._backend.oauth.register_app(
            DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_REDIRECT_URI
        )

    def __repr__(self) -> str:
        return (
            f"FakeExactOnline(base_url={self.base_url!r}, divisions={self.domain.divisions()!r}, "
            f"calls={len(self._backend.calls)})"
        )

    # -- state --------------------------------------------------------------------------
    @property
    def domain(self) -> ExactDomain:
        """The domain layer: divisions, tables and rules (read rows here in assertions)."""
        return self._backend.domain

    @property
    def backend(self) -> Backend:
        """The request handler behind the transports and the HTTP server."""
        return self._backend

    def add_division(self, code: int, *, template: str | None = "nl", **options: Any) -> None:
        """Create division ``code``; seed it from a template (``"nl"``, ``"be"``) or leave it empty.

        ``options`` go to the seed helper (e.g. a non-calendar financial year) or, with
        ``template=None``, to ``ExactDomain.add_division`` (``description``, ``country``).
        """
        with self._backend.lock:
            if template is None:
                self.domain.add_division(code, **options)
                return
            seed_division(self.domain, code, template=template, **options)

    def add_customer(
        self,
        division: int,
        name: str,
        *,
        code: str | int | None = None,
        email: str | None = None,
        vat_number: str | None = None,
        blocked: bool = False,
        **fields: Any,
    ) -> uuid.UUID:
        """Create a customer account in ``division`` as a POST to ``crm/Accounts`` would.

        ``code`` is the debtor number as you would type it (``42`` or ``"CV00042"``);
        Exact stores it by its own rule (numeric codes right-aligned to 18 characters),
        and so does the fake. ``fields`` are further ``Account`` properties by their
        Exact names (``City="Utrecht"``, ``Country="NL"``). Returns the account's ID.
        The row goes through the same validation as an API call: bad data raises
        :class:`~exactbridge.testing.FakeODataError` with the message Exact would give.
        """
        row: dict[str, Any] = {"Name": name, "Status": "C", "IsSales": True, **fields}
        if code is not None:
            row["Code"] = str(code)
        if email is not None:
            row["Email"] = email
        if vat_number is not None:
            row["VATNumber"] = vat_number
        if blocked:
            row["Blocked"] = True
        accounts = self.domain.entity_set("crm/Accounts")
        assert accounts is not None  # part of the fake's model
        with self._backend.lock:
            created = self.domain.create(division, accounts, row)
        account_id: uuid.UUID = created["ID"]
        return account_id

    def reset(self) -> None:
        """Back to a blank fake: no divisions or rows, tokens, counters, faults or calls.

        The default app stays registered; the clock is not moved.
        """
        with self._backend.lock:
            self.domain.reset()
            self._backend.oauth.reset()
            self._backend.limiter.reset()
            self._backend.budget.reset()
            self._backend.faults.clear()
            self._backend.calls.clear()
            self._backend.token_calls.clear()
            self._register_default_app()

    def clear_calls(self) -> None:
        """Forget the call log and token-call log only (state and counters stay)."""
        with self._backend.lock:
            self._backend.calls.clear()
            self._backend.token_calls.clear()

    # -- OAuth --------------------------------------------------------------------------
    def register_app(self, client_id: str, client_secret: str, redirect_uri: str) -> None:
        """Register an app (client id, secret, exact redirect URI) as the App Center would."""
        with self._backend.lock:
            self._backend.oauth.register_app(client_id, client_secret, redirect_uri)

    def authorize(
        self, client_id: str = DEFAULT_CLIENT_ID, *, redirect_uri: str, state: str | None = None
    ) -> str:
        """Simulate the user's consent and return the authorization code (valid 3 minutes).

        ``state`` is accepted for symmetry with the browser flow (``GET /api/oauth2/auth``
        echoes it in the redirect); the code itself does not depend on it.
        """
        from exactbridge.testing._exact.oauth import OAuthError

        with self._backend.lock:
            try:
                return self._backend.oauth.authorize(client_id, redirect_uri)
            except OAuthError as exc:
                raise ConfigurationError(exc.message, key="client_id/redirect_uri") from None

    def issue_tokens(self, client_id: str = DEFAULT_CLIENT_ID) -> TokenGrant:
        """Issue a valid access/refresh token pair without the browser flow."""
        with self._backend.lock:
            return self._backend.oauth.issue_tokens(client_id)

    # -- transports -----------------------------------------------------------------------
    def transport(self) -> httpx.BaseTransport:
        """An httpx transport for ``httpx.Client(transport=...)``."""
        return FakeExactTransport(self._backend)

    def async_transport(self) -> httpx.AsyncBaseTransport:
        """An httpx transport for ``httpx.AsyncClient(transport=...)``."""
        return FakeExactAsyncTransport(self._backend)

    # -- ready-made clients ----------------------------------------------------------------
    def _client_options(self, division: int, options: Mapping[str, Any]) -> dict[str, Any]:
        from exactbridge.exact import Credentials, MemoryTokenStore, RetryPolicy, Token

        grant = self.issue_tokens(DEFAULT_CLIENT_ID)
        token = Token(
            access_token=grant.access_token,
            refresh_token=grant.refresh_token,
            issued_at=grant.issued_at,
            expires_in=int(grant.expires_in),
        )
        kwargs: dict[str, Any] = {
            "division": division,
            "credentials": Credentials(
                DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_REDIRECT_URI
            ),
            "token_store": MemoryTokenStore(token),
            "base_url": self.base_url,
            "clock": self.clock,
            # Deterministic backoff: waits are simulated on the fake clock anyway.
            "retry": RetryPolicy(jitter=lambda ceiling: ceiling),
        }
        kwargs.update(options)
        return kwargs

    def client(self, division: int, **options: Any) -> Any:
        """A real :class:`~exactbridge.exact.ExactClient` wired to this fake.

        It holds a freshly issued token for the default app, runs on the fake's clock
        (so rate-limit waits and backoff cost no real time) and takes any other
        client option as a keyword (``retry=``, ``rate_limiter=``...). With
        ``http_client=`` (your own ``httpx.Client``, its transport wired to
        :meth:`transport`) the fake's transport is not added.
        """
        from exactbridge.exact import ExactClient

        if "http_client" not in options:
            options.setdefault("transport", self.transport())
        return ExactClient(**self._client_options(division, options))

    def async_client(self, division: int, **options: Any) -> Any:
        """A real :class:`~exactbridge.exact.AsyncExactClient` wired to this fake."""
        from exactbridge.exact import AsyncExactClient

        if "http_client" not in options:
            options.setdefault("transport", self.async_transport())
        return AsyncExactClient(**self._client_options(division, options))

    def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer one request directly (the transports call this)."""
        request.read()
        return self._backend.handle(request)

    # -- faults ---------------------------------------------------------------------------
    def fail_next(
        self,
        kind: Fault,
        *,
        times: int = 1,
        method: str | None = None,
        path: str | None = None,
        status: int | None = None,
    ) -> None:
        """Make the next ``times`` requests matching ``method``/``path`` fail with ``kind``.

        ``path`` matches when it occurs in the URL path (case-insensitive), e.g.
        ``"salesentry/SalesEntries"`` or ``"/api/oauth2/token"``. ``status`` picks 500
        (default) or 503 for :attr:`Fault.SERVER_ERROR`.
        """
        if times < 1:
            raise ConfigurationError(f"times must be >= 1, got {times!r}", key="times")
        if status is not None and (kind is not Fault.SERVER_ERROR or status not in (500, 503)):
            raise ConfigurationError(
                "status applies to Fault.SERVER_ERROR only", key="status", expected="500 or 503"
            )
        self._backend.add_fault(FaultRule(kind, times, method, path, status))

    # -- observability --------------------------------------------------------------------
    @property
    def calls(self) -> list[CallRecord]:
        """Every request answered so far, oldest first (a copy)."""
        with self._backend.lock:
            return list(self._backend.calls)

    @property
    def token_calls(self) -> int:
        """How many times the token endpoint was called (any grant type, any outcome)."""
        with self._backend.lock:
            return len(self._backend.token_calls)

    @property
    def token_log(self) -> list[TokenCall]:
        """Every call of the token endpoint (grant type, status, time), oldest first."""
        with self._backend.lock:
            return list(self._backend.token_calls)

    def count(self, method: str | None = None, path: str | None = None) -> int:
        """How many requests matched ``method`` and ``path`` (substring of the URL path)."""
        with self._backend.lock:
            return sum(
                1
                for call in self._backend.calls
                if (method is None or call.method == method.upper())
                and (path is None or path.lower() in call.path.lower())
            )

    def count_token_calls(self, grant_type: str | None = None) -> int:
        """How many token-endpoint calls were made (optionally of one grant type)."""
        with self._backend.lock:
            return sum(
                1
                for call in self._backend.token_calls
                if grant_type is None or call.grant_type == grant_type
            )

    def counters(self) -> dict[tuple[str, str], int]:
        """Requests per ``(method, endpoint)``, e.g. ``("POST", "salesentry/SalesEntries")``."""
        out: dict[tuple[str, str], int] = {}
        with self._backend.lock:
            for call in self._backend.calls:
                key = (call.method, call.endpoint)
                out[key] = out.get(key, 0) + 1
        return out

    def rate_limit_used(self, division: int) -> tuple[int, int]:
        """Calls counted for ``division`` in the current (minute, UTC day) windows."""
        with self._backend.lock:
            return self._backend.limiter.used(division, self.clock.now())

    # -- settings that tests may change on the fly --------------------------------------
    @property
    def minutely_limit(self) -> int:
        """Calls per division per minute (settable)."""
        return self._backend.limiter.minutely

    @minutely_limit.setter
    def minutely_limit(self, value: int) -> None:
        with self._backend.lock:
            self._backend.limiter.minutely = _non_negative("minutely_limit", value)

    @property
    def daily_limit(self) -> int:
        """Calls per division per UTC day (settable)."""
        return self._backend.limiter.daily

    @daily_limit.setter
    def daily_limit(self, value: int) -> None:
        with self._backend.lock:
            self._backend.limiter.daily = _non_negative("daily_limit", value)

    @property
    def error_budget(self) -> int:
        """Errors allowed per endpoint per hour before a one-hour block (settable)."""
        return self._backend.budget.budget

    @error_budget.setter
    def error_budget(self, value: int) -> None:
        with self._backend.lock:
            self._backend.budget.budget = _non_negative("error_budget", value)

    @property
    def post_status(self) -> int:
        """Status of a successful POST: 201 or 200 (settable)."""
        return self._backend.post_status

    @post_status.setter
    def post_status(self, value: int) -> None:
        with self._backend.lock:
            self._backend.post_status = _post_status(value)

    @property
    def bare_list_for_small_top(self) -> bool:
        """Whether ``$top`` <= 60 answers ``{"d":[...]}`` (settable)."""
        return self._backend.bare_list_for_small_top

    @bare_list_for_small_top.setter
    def bare_list_for_small_top(self, value: bool) -> None:
        with self._backend.lock:
            self._backend.bare_list_for_small_top = bool(value)

    def now(self) -> dt.datetime:
        """The fake's current time (shortcut for ``fake.clock.now()``)."""
        return self.clock.now()
