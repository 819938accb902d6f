"""The asynchronous Exact Online client (async source of truth).

The synchronous :class:`~exactbridge.exact.ExactClient` in ``exactbridge/exact/_sync/``
is generated from this file by ``.ci/unasync.py``; edit this one and run the script.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any, TypeVar

import httpx

from exactbridge import _logsafety
from exactbridge.clock import Clock, SystemClock
from exactbridge.errors import ConfigurationError
from exactbridge.exact import _envelope, _serde
from exactbridge.exact._async.service import (
    AsyncAccountService,
    AsyncReadService,
    AsyncResourceService,
    AsyncSalesEntryService,
)
from exactbridge.exact._core import ClientSettings, judge_response, judge_transport_error
from exactbridge.exact._ratelimit import RateBudget, RateLimiter
from exactbridge.exact._resources import RESOURCES, ResourceSpec
from exactbridge.exact._retry import RetryPolicy
from exactbridge.exact.auth import (
    Credentials,
    ExactAuth,
    Token,
    TokenStore,
    authorization_url,
    base_url_for_country,
)
from exactbridge.exact.models import (
    Account,
    BankAccount,
    BankEntry,
    Contact,
    CostCenter,
    CostUnit,
    DeletedRecord,
    DirectDebitMandate,
    Division,
    Document,
    DocumentAttachment,
    FinancialPeriod,
    GeneralJournalEntry,
    GLAccount,
    Journal,
    Me,
    NewAccount,
    NewBankAccount,
    NewBankEntry,
    NewContact,
    NewCostCenter,
    NewCostUnit,
    NewDirectDebitMandate,
    NewDocument,
    NewDocumentAttachment,
    NewGeneralJournalEntry,
    NewSalesEntry,
    NewSalesEntryLine,
    PaymentCondition,
    Project,
    Receivable,
    ReceivablesListItem,
    SalesEntry,
    SalesEntryLine,
    TransactionLine,
    VATCode,
)

__all__ = ["AsyncExactClient"]

S = TypeVar("S", bound=AsyncReadService[Any])

logger = logging.getLogger("exactbridge.exact")


class AsyncExactClient:
    """An asynchronous Exact Online client for one app and (usually) one division.

    ::

        async with AsyncExactClient(division=123, credentials=creds, token_store=store) as exact:
            async for account in exact.accounts.iterate(filter=P("Name") == "Gym"):
                print(account.code, account.name)

    ``division`` is required for every division-scoped call; exactbridge never
    falls back to Exact's "current division", which follows whatever company the
    user last opened in the web UI. ``country`` picks the Exact site (nl, be, de,
    uk, us, es, fr); ``base_url`` overrides it. ``transport`` is the httpx seam
    the fakes in :mod:`exactbridge.testing` plug into. ``clock`` drives token
    expiry, rate-limit waits and backoff.

    ``http_client`` is your own :class:`httpx.AsyncClient` for proxies, TLS
    verification, connection limits, timeouts and event hooks. exactbridge sends
    every request through it with its own authentication, URL and headers (headers
    set on your client are added where exactbridge sets none), never follows a
    redirect, and does not close it: you opened it, you close it. It excludes
    ``transport`` and ``timeout``, which belong to the client you pass.
    """

    def __init__(
        self,
        *,
        division: int | None = None,
        credentials: Credentials,
        token_store: TokenStore,
        country: str = "nl",
        base_url: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock | None = None,
        retry: RetryPolicy | None = None,
        rate_limiter: RateBudget | None = None,
        timeout: float | None = None,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        if division is not None and not _is_plain_int(division):
            raise ConfigurationError(
                f"division must be an integer, not {type(division).__name__}",
                key="division",
                expected="the Exact division code, e.g. 1234567",
            )
        _logsafety.install()
        root = (base_url or base_url_for_country(country)).rstrip("/")
        self._clock: Clock = clock or SystemClock()
        self._settings = ClientSettings(
            base_url=root,
            division=division,
            retry=retry or RetryPolicy(),
            limiter=rate_limiter if rate_limiter is not None else RateLimiter(),
        )
        self._credentials = credentials
        self._store = token_store
        self._auth = ExactAuth(credentials, token_store, base_url=root, clock=self._clock)
        if http_client is not None:
            if transport is not None or timeout is not None:
                given = "transport" if transport is not None else "timeout"
                raise ConfigurationError(
                    f"pass either http_client or {given}, not both",
                    key=given,
                    expected="set the transport or timeout on the httpx client you pass",
                )
            self._http = http_client
            self._owns_http = False
            self._extra_headers = dict(http_client.headers)
        else:
            self._http = httpx.AsyncClient(
                transport=transport,
                timeout=60.0 if timeout is None else timeout,
                follow_redirects=False,
            )
            self._owns_http = True
            self._extra_headers = {}
        self._calls = 0
        self._services: dict[str, AsyncReadService[Any]] = {}

    # -- lifecycle --------------------------------------------------------------------
    async def __aenter__(self) -> AsyncExactClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the underlying connections (not those of an ``http_client`` you passed)."""
        if self._owns_http:
            await self._http.aclose()

    def __repr__(self) -> str:
        return f"<AsyncExactClient {self._settings.base_url} division={self._settings.division}>"

    @property
    def division(self) -> int | None:
        """The division this client writes to and reads from."""
        return self._settings.division

    @property
    def base_url(self) -> str:
        return self._settings.base_url

    @property
    def calls(self) -> int:
        """API calls this client has sent (each attempt counts; token calls do not)."""
        return self._calls

    @property
    def rate_limiter(self) -> RateBudget:
        return self._settings.limiter

    # -- OAuth ------------------------------------------------------------------------
    def authorization_url(self, *, state: str | None = None, force_login: bool = False) -> str:
        """The URL to send a person to so they can authorize this app."""
        return authorization_url(
            self._credentials,
            base_url=self._settings.base_url,
            state=state,
            force_login=force_login,
        )

    async def exchange_code(self, code: str) -> Token:
        """Trade the ``code`` from the redirect for tokens and save them in the token store."""
        return await self._auth.aexchange_code(self._http, code)

    # -- discovery --------------------------------------------------------------------
    async def me(self) -> Me:
        """The authorized user (``current/Me``). Its ``current_division`` is for discovery only."""
        return await self.current_user.get_me()

    async def divisions(self) -> list[Division]:
        """The divisions the user may access (``system/Divisions``).

        Exact puts a division in this URL too; without a configured division the
        user's current division is used for this one read.
        """
        division = self._settings.division
        if division is None:
            division = (await self.me()).current_division
        return [
            _serde.structure(Division, row)
            async for row in self._iterate_rows(
                "system/Divisions", [], division=division, division_scoped=True
            )
        ]

    # -- services ---------------------------------------------------------------------
    def _spec(self, name: str) -> ResourceSpec:
        return RESOURCES[name]

    def _service(self, name: str, kind: type[S]) -> S:
        """The one service object per resource, created on first use."""
        service = self._services.get(name)
        if not isinstance(service, kind):
            service = kind(self, RESOURCES[name])
            self._services[name] = service
        return service

    @property
    def accounts(self) -> AsyncAccountService[Account, NewAccount]:
        """``crm/Accounts``: customers and suppliers."""
        return self._service("accounts", AsyncAccountService)

    @property
    def bank_accounts(self) -> AsyncResourceService[BankAccount, NewBankAccount]:
        """``crm/BankAccounts``."""
        return self._service("bank_accounts", AsyncResourceService)

    @property
    def contacts(self) -> AsyncResourceService[Contact, NewContact]:
        """``crm/Contacts``."""
        return self._service("contacts", AsyncResourceService)

    @property
    def sales_entries(self) -> AsyncSalesEntryService[SalesEntry, NewSalesEntry]:
        """``salesentry/SalesEntries`` with lines inline on create."""
        return self._service("sales_entries", AsyncSalesEntryService)

    @property
    def sales_entry_lines(self) -> AsyncResourceService[SalesEntryLine, NewSalesEntryLine]:
        """``salesentry/SalesEntryLines``."""
        return self._service("sales_entry_lines", AsyncResourceService)

    @property
    def journals(self) -> AsyncReadService[Journal]:
        """``financial/Journals``."""
        return self._service("journals", AsyncReadService)

    @property
    def vat_codes(self) -> AsyncReadService[VATCode]:
        """``vat/VATCodes``."""
        return self._service("vat_codes", AsyncReadService)

    @property
    def gl_accounts(self) -> AsyncReadService[GLAccount]:
        """``financial/GLAccounts``."""
        return self._service("gl_accounts", AsyncReadService)

    @property
    def financial_periods(self) -> AsyncReadService[FinancialPeriod]:
        """``financial/FinancialPeriods``."""
        return self._service("financial_periods", AsyncReadService)

    @property
    def projects(self) -> AsyncReadService[Project]:
        """``project/Projects`` (read only here)."""
        return self._service("projects", AsyncReadService)

    @property
    def cost_centers(self) -> AsyncResourceService[CostCenter, NewCostCenter]:
        """``hrm/Costcenters``."""
        return self._service("cost_centers", AsyncResourceService)

    @property
    def cost_units(self) -> AsyncResourceService[CostUnit, NewCostUnit]:
        """``hrm/Costunits``."""
        return self._service("cost_units", AsyncResourceService)

    @property
    def documents(self) -> AsyncResourceService[Document, NewDocument]:
        """``documents/Documents``."""
        return self._service("documents", AsyncResourceService)

    @property
    def document_attachments(
        self,
    ) -> AsyncResourceService[DocumentAttachment, NewDocumentAttachment]:
        """``documents/DocumentAttachments`` (file bytes travel base64-encoded)."""
        return self._service("document_attachments", AsyncResourceService)

    @property
    def bank_entries(self) -> AsyncResourceService[BankEntry, NewBankEntry]:
        """``financialtransaction/BankEntries`` with lines inline on create."""
        return self._service("bank_entries", AsyncResourceService)

    @property
    def general_journal_entries(
        self,
    ) -> AsyncResourceService[GeneralJournalEntry, NewGeneralJournalEntry]:
        """``generaljournalentry/GeneralJournalEntries`` with lines inline on create."""
        return self._service("general_journal_entries", AsyncResourceService)

    @property
    def receivables_list(self) -> AsyncReadService[ReceivablesListItem]:
        """``read/financial/ReceivablesList``: open receivables, one row per open term."""
        return self._service("receivables_list", AsyncReadService)

    @property
    def receivables(self) -> AsyncReadService[Receivable]:
        """``cashflow/Receivables``."""
        return self._service("receivables", AsyncReadService)

    @property
    def payment_conditions(self) -> AsyncReadService[PaymentCondition]:
        """``cashflow/PaymentConditions``."""
        return self._service("payment_conditions", AsyncReadService)

    @property
    def direct_debit_mandates(
        self,
    ) -> AsyncResourceService[DirectDebitMandate, NewDirectDebitMandate]:
        """``cashflow/DirectDebitMandates``."""
        return self._service("direct_debit_mandates", AsyncResourceService)

    @property
    def transaction_lines(self) -> AsyncReadService[TransactionLine]:
        """``financialtransaction/TransactionLines`` (and ``sync/Financial/TransactionLines``)."""
        return self._service("transaction_lines", AsyncReadService)

    @property
    def deleted(self) -> AsyncReadService[DeletedRecord]:
        """``sync/Deleted``: what was deleted, by Timestamp cursor (use ``iter_sync``)."""
        return self._service("deleted", AsyncReadService)

    @property
    def current_user(self) -> AsyncCurrentUser:
        return AsyncCurrentUser(self)

    @property
    def raw(self) -> AsyncRawService:
        """Any other endpoint, as plain JSON (``client.raw.get("logistics/Items", ...)``)."""
        return AsyncRawService(self)

    # -- the request loop -------------------------------------------------------------
    async def _request_json(
        self,
        method: str,
        path: str,
        *,
        params: Sequence[tuple[str, str]] | None = None,
        body: Any = None,
        division: int | None = None,
        division_scoped: bool = True,
        expect_json: bool = True,
    ) -> Any:
        scoped_division = self._settings.require_division(division) if division_scoped else None
        url = self._settings.url(path, division=scoped_division, division_scoped=division_scoped)
        return await self._send(
            method,
            url,
            params=params,
            body=body,
            division=scoped_division,
            expect_json=expect_json,
        )

    async def _send(
        self,
        method: str,
        url: str,
        *,
        params: Sequence[tuple[str, str]] | None,
        body: Any,
        division: int | None,
        expect_json: bool = True,
    ) -> Any:
        settings = self._settings
        attempt = 0
        rate_limit_waits = 0
        while True:
            attempt += 1
            request = self._prepare(settings.build_request(method, url, params=params, body=body))
            # Ask until the budget grants the call: a shared budget may be spent again
            # by other workers while this one waited for the reset.
            while (
                wait := settings.limiter.reserve(
                    division,
                    self._clock.now(),
                    method=method,
                    url=str(request.url.copy_with(query=None)),
                )
            ) > 0:
                logger.info(
                    "Exact rate limit: the minutely budget of division %s is spent; "
                    "waiting %.1f s until %s UTC",
                    division,
                    wait,
                    _until(self._clock.now(), wait),
                )
                await self._clock.asleep(wait)
            self._calls += 1
            try:
                response = await self._http.send(request, auth=self._auth, follow_redirects=False)
                content = await response.aread()
            except httpx.TransportError as exc:
                outcome = judge_transport_error(settings, request, exc, attempt=attempt)
                if outcome.wait is None:
                    assert outcome.error is not None
                    raise outcome.error from exc
                logger.info(
                    "Exact %s %s failed (%s), attempt %d; retrying in %.1f s, at %s UTC",
                    method,
                    request.url.copy_with(query=None),
                    type(exc).__name__,
                    attempt,
                    outcome.wait,
                    _until(self._clock.now(), outcome.wait),
                )
                await self._clock.asleep(outcome.wait)
                continue
            outcome = judge_response(
                settings,
                request,
                response.status_code,
                response.headers,
                content,
                division=division,
                attempt=attempt,
                rate_limit_waits=rate_limit_waits,
                now=self._clock.now(),
                expect_json=expect_json,
            )
            if outcome.error is None:
                return outcome.payload
            if outcome.wait is None:
                raise outcome.error
            if response.status_code == 429:
                rate_limit_waits += 1
                attempt -= 1  # a rate-limit wait is not a failed attempt
            logger.info(
                "Exact %s %s answered %s%s; retrying in %.1f s, at %s UTC",
                method,
                request.url.copy_with(query=None),
                response.status_code,
                " (rate limit)" if response.status_code == 429 else f", attempt {attempt}",
                outcome.wait,
                _until(self._clock.now(), outcome.wait),
            )
            await self._clock.asleep(outcome.wait)

    def _prepare(self, request: httpx.Request) -> httpx.Request:
        """Give a request built outside the httpx client that client's timeout and headers."""
        request.extensions["timeout"] = self._http.timeout.as_dict()
        for name, value in self._extra_headers.items():
            if name not in request.headers:
                request.headers[name] = value
        return request

    async def _iterate_rows(
        self,
        path: str,
        params: Sequence[tuple[str, str]],
        *,
        division: int | None = None,
        division_scoped: bool = True,
    ) -> AsyncIterator[dict[str, Any]]:
        """Rows of a collection, page by page, following ``__next`` verbatim."""
        scoped_division = self._settings.require_division(division) if division_scoped else None
        url = self._settings.url(path, division=scoped_division, division_scoped=division_scoped)
        page_params: Sequence[tuple[str, str]] | None = params
        while True:
            payload = await self._send(
                "GET", url, params=page_params, body=None, division=scoped_division
            )
            page = _envelope.parse_collection(payload)
            for row in page.rows:
                yield row
            if not page.next_url:
                return
            url = page.next_url
            page_params = None


def _is_plain_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class AsyncCurrentUser:
    """``current/Me``, the one endpoint without a division."""

    def __init__(self, client: AsyncExactClient) -> None:
        self._client = client

    async def get_me(self) -> Me:
        payload = await self._client._request_json("GET", "current/Me", division_scoped=False)
        return _serde.structure(Me, _envelope.parse_single(payload))


class AsyncRawService:
    """Plain-JSON access to endpoints exactbridge has no typed resource for.

    Paths are relative to the division (``"logistics/Items"``); answers are the
    decoded JSON (numbers as :class:`~decimal.Decimal`), rate limits and retries
    apply as for every other call.
    """

    def __init__(self, client: AsyncExactClient) -> None:
        self._client = client

    async def get(self, path: str, *, params: Sequence[tuple[str, str]] | None = None) -> Any:
        """One GET; returns the decoded JSON as Exact sent it."""
        return await self._client._request_json("GET", path, params=params)

    async def iterate(
        self, path: str, *, params: Sequence[tuple[str, str]] | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        """Every row of a collection, following ``__next`` links."""
        async for row in self._client._iterate_rows(path, list(params or [])):
            yield row

    async def post(self, path: str, body: Any) -> Any:
        """One POST; returns the decoded entity."""
        return await self._client._request_json("POST", path, body=body)

    async def put(self, path: str, body: Any) -> None:
        """One PUT (Exact answers 204 without a body)."""
        await self._client._request_json("PUT", path, body=body)

    async def delete(self, path: str) -> None:
        """One DELETE."""
        await self._client._request_json("DELETE", path)


def _until(now: dt.datetime, wait: float) -> str:
    """The UTC wall-clock time ``wait`` seconds after ``now``, as ``HH:MM:SS``."""
    return (now + dt.timedelta(seconds=wait)).astimezone(dt.timezone.utc).strftime("%H:%M:%S")
