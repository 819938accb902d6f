"""Typed sync and async clients for Coachview's REST API.

* **Auth**: OAuth2 client credentials. ``POST {host}/auth/connect/token`` with
  ``grant_type=client_credentials``, ``client_id``, ``client_secret`` and the
  space-separated ``scope`` (``api`` plus ``<Entity>.Lezen`` per entity read) gives an
  ``access_token`` and its lifetime ``expires_in`` (15 min, 1 h or 8 h, chosen per
  client). The token is renewed ``refresh_margin`` seconds before it expires (by the
  injected :class:`~exactbridge.clock.Clock`) and once more if the API answers 401.
  The client secret and tokens never appear in a ``repr``, log line or error.
* **Hosts**: ``environment="production"`` (``https://secure.coachview.net``) or
  ``"training"`` (``https://training.coachview.net``), or any ``base_url``.
* **Paging**: ``skip``/``take`` (``take`` = ``page_size``, 100 by default); a page
  shorter than ``take`` is the last.
* **Filters**: ``where=`` expressions (:func:`where_equals`, :func:`where_in`,
  :func:`where_changed_between`). Incremental reads use the audit trail:
  ``where=audittrail.gewijzigddatumtijd=<from>,<to>`` with ``dd-mm-yyyy`` dates (the
  form Coachview's documentation shows; the exact grammar is UNVERIFIED). The range
  is whole days, so :meth:`CoachviewClient.list_invoices` also drops records whose
  ``changed_at`` lies before ``changed_from``.
* **Rate limit**: 5,000 requests a day. Every answer's ``X-Rate-Limit-Limit``,
  ``X-Rate-Limit-Remaining`` and ``X-Rate-Limit-Reset`` headers are kept in
  :attr:`CoachviewClient.rate_limit`; when the day is used up the client waits for
  the reset if that is within ``max_wait`` seconds and otherwise raises
  :class:`CoachviewRateLimitError` with ``reset_at`` instead of spending a request on
  a certain 429. The reset header's format is UNVERIFIED: epoch seconds or
  milliseconds, a number of seconds from now, or an ISO date-time are all accepted.
* **Retries**: GETs on connection errors and 5xx (through
  :mod:`exactbridge.sources._http`); a 429 is not retried blindly.

Endpoint paths live in :class:`CoachviewEndpoints`. The invoice, debtor, company and
person paths (``/api/v1/Facturen``, ``Debiteuren``, ``Bedrijven``, ``Personen``) are
UNVERIFIED (reference 3.3): change them there if your tenant's swagger differs.

Example::

    with CoachviewClient(client_id, client_secret, environment="training") as cv:
        listing = cv.list_invoice_bundles(changed_from=dt.date(2026, 1, 1))
        invoices = [invoice_to_record(b.invoice, b.debtor, company=b.company,
                                      person=b.person) for b in listing]
        listing.errors   # bad records, each naming record id and field
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any, Literal, TypeVar

import attrs
import httpx

from exactbridge.clock import Clock, SystemClock
from exactbridge.errors import ConfigurationError, SourceAPIError, SourceRecordError
from exactbridge.sources._http import (
    DEFAULT_RETRYABLE_STATUSES,
    AsyncHttpSession,
    AsyncListing,
    HttpSession,
    Listing,
    RetryPolicy,
    SourceRateLimitError,
    exclusive_transport,
    read_json,
)

from .models import (
    SOURCE,
    CvCompany,
    CvDebtor,
    CvInvoice,
    CvPerson,
    is_guid,
    parse_company,
    parse_debtor,
    parse_invoice,
    parse_person,
)

__all__ = [
    "DEFAULT_SCOPES",
    "HOSTS",
    "AsyncCoachviewClient",
    "CoachviewClient",
    "CoachviewEndpoints",
    "CoachviewRateLimitError",
    "InvoiceBundle",
    "RateLimitState",
    "parse_rate_limit",
    "where_changed_between",
    "where_equals",
    "where_in",
]

T = TypeVar("T")

HOSTS: Mapping[str, str] = {
    "production": "https://secure.coachview.net",
    "training": "https://training.coachview.net",
}
#: Scopes for reading what the invoice adapter needs.
DEFAULT_SCOPES = ("api", "Facturen.Lezen", "Debiteuren.Lezen", "Bedrijven.Lezen", "Personen.Lezen")
_ID_CHUNK = 50


class CoachviewRateLimitError(SourceRateLimitError):
    """The daily request budget is used up; ``reset_at`` (aware UTC) says when it renews."""

    def __init__(self, message: str, *, reset_at: dt.datetime | None, url: str = "") -> None:
        self.reset_at = reset_at
        when = f" (resets at {reset_at.isoformat()})" if reset_at else ""
        super().__init__(message + when, source=SOURCE, status=429, method="GET", url=url)


@attrs.frozen
class CoachviewEndpoints:
    """Every Coachview path and parameter name the client uses (UNVERIFIED ones marked)."""

    token: str = "/auth/connect/token"
    invoices: str = "/api/v1/Facturen"  # UNVERIFIED
    debtors: str = "/api/v1/Debiteuren"  # UNVERIFIED
    companies: str = "/api/v1/Bedrijven"  # UNVERIFIED
    persons: str = "/api/v1/Personen"  # UNVERIFIED
    changed_field: str = "audittrail.gewijzigddatumtijd"
    where_date_format: str = "%d-%m-%Y"  # UNVERIFIED (dd-mm-yyyy as in the docs)


@attrs.frozen
class RateLimitState:
    """What the last answer's ``X-Rate-Limit-*`` headers said."""

    limit: int | None = None
    remaining: int | None = None
    reset_at: dt.datetime | None = None


@attrs.frozen
class InvoiceBundle:
    """An invoice with the debtor and the company or person behind it."""

    invoice: CvInvoice
    debtor: CvDebtor
    company: CvCompany | None = None
    person: CvPerson | None = None


@attrs.define
class _Token:
    value: str = attrs.field(repr=False)
    expires_at: dt.datetime


# --------------------------------------------------------------------------- pure helpers


def where_equals(field: str, value: str) -> str:
    """``field=value`` (e.g. ``where_equals("code", "ABC")``)."""
    return f"{field}={value}"


def where_in(field: str, values: Iterable[str]) -> str:
    """``field=v1,v2,v3``: any of several values."""
    return f"{field}={','.join(values)}"


def where_changed_between(
    start: dt.date,
    end: dt.date,
    *,
    field: str = "audittrail.gewijzigddatumtijd",
    date_format: str = "%d-%m-%Y",
) -> str:
    """The audit-trail range filter: created or changed on ``start`` .. ``end`` (whole days).

    >>> where_changed_between(dt.date(2021, 6, 9), dt.date(2021, 6, 10))
    'audittrail.gewijzigddatumtijd=09-06-2021,10-06-2021'
    """
    return f"{field}={start.strftime(date_format)},{end.strftime(date_format)}"


def parse_rate_limit(headers: Mapping[str, str], now: dt.datetime) -> RateLimitState | None:
    """Read ``X-Rate-Limit-*`` headers; ``None`` when the answer carries none."""
    lowered = {k.lower(): v for k, v in headers.items()}

    def number(name: str) -> int | None:
        raw = lowered.get(name, "").strip()
        return int(raw) if raw.isdigit() else None

    limit = number("x-rate-limit-limit")
    remaining = number("x-rate-limit-remaining")
    raw_reset = lowered.get("x-rate-limit-reset", "").strip()
    if limit is None and remaining is None and not raw_reset:
        return None
    reset_at: dt.datetime | None = None
    if raw_reset:
        try:
            value = Decimal(raw_reset)
        except ArithmeticError:
            value = None
        if value is not None and value.is_finite():
            if value >= 10**12:
                reset_at = dt.datetime.fromtimestamp(float(value) / 1000, tz=dt.timezone.utc)
            elif value >= 10**9:
                reset_at = dt.datetime.fromtimestamp(float(value), tz=dt.timezone.utc)
            else:
                reset_at = now + dt.timedelta(seconds=float(value))
        else:
            try:
                parsed = dt.datetime.fromisoformat(raw_reset.replace("Z", "+00:00"))
            except ValueError:
                parsed = None
            if parsed is not None:
                reset_at = parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)
    return RateLimitState(limit=limit, remaining=remaining, reset_at=reset_at)


def _day_of(moment: dt.date | dt.datetime) -> dt.date:
    return moment.date() if isinstance(moment, dt.datetime) else moment


def _keep_changed(invoice: CvInvoice, changed_from: dt.date | dt.datetime | None) -> bool:
    if not isinstance(changed_from, dt.datetime) or invoice.changed_at is None:
        return True
    start = changed_from if changed_from.tzinfo else changed_from.replace(tzinfo=dt.timezone.utc)
    return invoice.changed_at >= start


def _parse_page(payload: Any, url: str) -> list[Any]:
    if not isinstance(payload, list):
        raise SourceAPIError(
            "the answer is not a JSON array", source=SOURCE, status=200, method="GET", url=url
        )
    return payload


def _parse_each(items: list[Any], parse: Callable[[Any], T]) -> Iterator[T | SourceRecordError]:
    for item in items:
        try:
            yield parse(item)
        except SourceRecordError as exc:
            yield exc


def _chunks(ids: Sequence[str]) -> Iterator[list[str]]:
    unique = list(dict.fromkeys(ids))
    for start in range(0, len(unique), _ID_CHUNK):
        yield unique[start : start + _ID_CHUNK]


def _bundle(
    invoice: CvInvoice,
    debtors: Mapping[str, CvDebtor],
    companies: Mapping[str, CvCompany],
    persons: Mapping[str, CvPerson],
) -> InvoiceBundle | SourceRecordError:
    debtor = debtors.get(invoice.debtor_id)
    if debtor is None:
        return SourceRecordError(
            "the invoice's debtor was not found (or could not be read)",
            source=SOURCE,
            record_id=invoice.id,
            field="debiteurId",
            expected="an existing debtor",
            value=invoice.debtor_id,
        )
    return InvoiceBundle(
        invoice=invoice,
        debtor=debtor,
        company=companies.get(debtor.company_id) if debtor.company_id else None,
        person=persons.get(debtor.person_id) if debtor.person_id else None,
    )


class _CoachviewBase:
    """Configuration, token and rate-limit state shared by the sync and async clients."""

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        *,
        scopes: Sequence[str],
        environment: Literal["production", "training"],
        base_url: str | None,
        endpoints: CoachviewEndpoints | None,
        clock: Clock | None,
        retry: RetryPolicy | None,
        page_size: int,
        refresh_margin: float,
        max_wait: float,
    ) -> None:
        if not client_id:
            raise ConfigurationError("the client id is empty", key="client_id")
        if not client_secret:
            raise ConfigurationError("the client secret is empty", key="client_secret")
        if environment not in HOSTS:
            raise ConfigurationError(
                f"unknown environment {environment!r}",
                key="environment",
                expected="production or training",
            )
        if not 1 <= page_size <= 1000:
            raise ConfigurationError("page size out of range", key="page_size", expected="1-1000")
        self.client_id = client_id
        self._client_secret = client_secret
        self.scopes = tuple(scopes)
        self.base_url = (base_url or HOSTS[environment]).rstrip("/")
        self.endpoints = endpoints or CoachviewEndpoints()
        self.clock: Clock = clock or SystemClock()
        self.retry = retry or RetryPolicy(retry_statuses=DEFAULT_RETRYABLE_STATUSES - {429})
        self.page_size = page_size
        self.refresh_margin = refresh_margin
        self.max_wait = max_wait
        #: What the latest ``X-Rate-Limit-*`` headers said.
        self.rate_limit = RateLimitState()
        #: Token requests made so far.
        self.token_requests = 0
        self._token: _Token | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(client_id={self.client_id!r}, base_url={self.base_url!r})"

    # -- token
    def _token_valid(self) -> bool:
        return self._token is not None and self.clock.now() < self._token.expires_at

    def _token_form(self) -> dict[str, str]:
        return {
            "grant_type": "client_credentials",
            "client_id": self.client_id,
            "client_secret": self._client_secret,
            "scope": " ".join(self.scopes),
        }

    def _accept_token(self, response: httpx.Response) -> str:
        url = self.base_url + self.endpoints.token
        if response.status_code != 200:
            code = ""
            try:
                body = json.loads(response.content)
                if isinstance(body, dict) and isinstance(body.get("error"), str):
                    code = f": {body['error'][:60]}"
            except ValueError:
                pass
            raise SourceAPIError(
                f"the token endpoint refused the client credentials{code}",
                source=SOURCE,
                status=response.status_code,
                method="POST",
                url=url,
            )
        try:
            body = json.loads(response.content)
        except ValueError:
            body = None
        token = body.get("access_token") if isinstance(body, dict) else None
        lifetime = body.get("expires_in") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise SourceAPIError(
                "the token answer has no access_token",
                source=SOURCE,
                status=200,
                method="POST",
                url=url,
            )
        if isinstance(lifetime, bool) or not isinstance(lifetime, int) or lifetime <= 0:
            raise SourceAPIError(
                "the token answer has no usable expires_in",
                source=SOURCE,
                status=200,
                method="POST",
                url=url,
            )
        margin = min(self.refresh_margin, lifetime / 2)
        self._token = _Token(token, self.clock.now() + dt.timedelta(seconds=lifetime - margin))
        self.token_requests += 1
        return token

    def _token_transport_error(self, exc: Exception) -> SourceAPIError:
        return SourceAPIError(
            f"no answer from the token endpoint ({type(exc).__name__})",
            source=SOURCE,
            method="POST",
            url=self.base_url + self.endpoints.token,
        )

    # -- rate limit
    def _budget_wait(self) -> float:
        """Seconds to wait before the next request; raises when the wait is too long."""
        state = self.rate_limit
        if state.remaining is None or state.remaining > 0:
            return 0.0
        if state.reset_at is None:
            raise CoachviewRateLimitError("the daily request limit is used up", reset_at=None)
        wait = (state.reset_at - self.clock.now()).total_seconds()
        if wait <= 0:
            return 0.0
        if wait > self.max_wait:
            raise CoachviewRateLimitError(
                "the daily request limit is used up", reset_at=state.reset_at
            )
        return wait

    def _note(self, response: httpx.Response) -> None:
        state = parse_rate_limit(response.headers, self.clock.now())
        if state is not None:
            self.rate_limit = state

    def _params(self, where: str | None, skip: int) -> dict[str, str]:
        params = {"skip": str(skip), "take": str(self.page_size)}
        if where:
            params["where"] = where
        return params

    def _changed_where(
        self, changed_from: dt.date | dt.datetime | None, changed_to: dt.date | dt.datetime | None
    ) -> str | None:
        if changed_from is None and changed_to is None:
            return None
        start = _day_of(changed_from) if changed_from is not None else dt.date(2000, 1, 1)
        end = _day_of(changed_to) if changed_to is not None else _day_of(self.clock.now())
        return where_changed_between(
            start,
            end,
            field=self.endpoints.changed_field,
            date_format=self.endpoints.where_date_format,
        )

    @staticmethod
    def _ids_where(ids: Sequence[str]) -> str:
        bad = [i for i in ids if not is_guid(i)]
        if bad:
            raise ConfigurationError(f"not a GUID: {bad[0]!r}", key="ids", expected="GUIDs")
        return where_in("id", ids)


class CoachviewClient(_CoachviewBase):
    """Synchronous Coachview client; ``transport`` plugs in a fake (``fake.transport()``).

    ``http_client`` is your own ``httpx.Client`` instead of ``transport`` (proxies, TLS
    verification, limits, event hooks); the token and API requests go through it and
    :meth:`close` leaves it open.
    """

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        *,
        scopes: Sequence[str] = DEFAULT_SCOPES,
        environment: Literal["production", "training"] = "production",
        base_url: str | None = None,
        endpoints: CoachviewEndpoints | None = None,
        transport: httpx.BaseTransport | None = None,
        http_client: httpx.Client | None = None,
        clock: Clock | None = None,
        retry: RetryPolicy | None = None,
        page_size: int = 100,
        refresh_margin: float = 60.0,
        max_wait: float = 0.0,
    ) -> None:
        super().__init__(
            client_id,
            client_secret,
            scopes=scopes,
            environment=environment,
            base_url=base_url,
            endpoints=endpoints,
            clock=clock,
            retry=retry,
            page_size=page_size,
            refresh_margin=refresh_margin,
            max_wait=max_wait,
        )
        exclusive_transport(transport, http_client)
        self._transport = transport
        self._http_client = http_client
        self._auth_client = http_client or httpx.Client(transport=transport, timeout=30.0)
        self._session: HttpSession | None = None
        self._calls_before = 0

    @property
    def calls(self) -> int:
        """API requests sent so far (token requests not included)."""
        return self._calls_before + (self._session.calls if self._session else 0)

    def close(self) -> None:
        """Close the connection pools (not that of an ``http_client`` you passed)."""
        if self._http_client is None:
            self._auth_client.close()
        if self._session is not None:
            self._session.close()

    def __enter__(self) -> CoachviewClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _fresh_session(self, force: bool = False) -> HttpSession:
        if self._session is not None and self._token_valid() and not force:
            return self._session
        try:
            response = self._auth_client.post(
                self.base_url + self.endpoints.token, data=self._token_form()
            )
        except httpx.HTTPError as exc:
            raise self._token_transport_error(exc) from exc
        token = self._accept_token(response)
        if self._session is not None:
            self._calls_before += self._session.calls
            self._session.close()
        self._session = HttpSession(
            SOURCE,
            base_url=self.base_url,
            transport=self._transport,
            http_client=self._http_client,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            clock=self.clock,
            retry=self.retry,
        )
        return self._session

    def _get(self, path: str, params: Mapping[str, str]) -> Any:
        wait = self._budget_wait()
        if wait > 0:
            self.clock.sleep(wait)
        session = self._fresh_session()
        try:
            response = session.get(path, params=params)
        except SourceRateLimitError as exc:
            raise CoachviewRateLimitError(
                "the daily request limit is used up",
                reset_at=self.rate_limit.reset_at,
                url=exc.url,
            ) from exc
        except SourceAPIError as exc:
            if exc.status != 401:
                raise
            session = self._fresh_session(force=True)
            response = session.get(path, params=params)
        self._note(response)
        url = session.redact(response.request.url)
        return read_json(response, source=SOURCE, url=url)

    def _pages(self, path: str, where: str | None) -> Iterator[list[Any]]:
        skip = 0
        while True:
            page = self._get(path, self._params(where, skip))
            yield _parse_page(page, self.base_url + path)
            if len(page) < self.page_size:
                return
            skip += self.page_size

    def _listing(
        self, path: str, where: str | None, parse: Callable[[Any], T]
    ) -> Iterator[T | SourceRecordError]:
        for page in self._pages(path, where):
            yield from _parse_each(page, parse)

    def list_invoices(
        self,
        *,
        changed_from: dt.date | dt.datetime | None = None,
        changed_to: dt.date | dt.datetime | None = None,
        where: str | None = None,
    ) -> Listing[CvInvoice]:
        """Invoices, all or those created or changed in a range (audit trail); or any ``where``."""
        condition = where or self._changed_where(changed_from, changed_to)

        def items() -> Iterator[CvInvoice | SourceRecordError]:
            for item in self._listing(self.endpoints.invoices, condition, parse_invoice):
                if isinstance(item, SourceRecordError) or _keep_changed(item, changed_from):
                    yield item

        return Listing(items())

    def list_debtors(
        self, *, ids: Sequence[str] | None = None, where: str | None = None
    ) -> Listing[CvDebtor]:
        """Debtors, by id (in batches of 50 per request) or by ``where``."""
        return Listing(self._by_ids(self.endpoints.debtors, ids, where, parse_debtor))

    def list_companies(
        self, *, ids: Sequence[str] | None = None, where: str | None = None
    ) -> Listing[CvCompany]:
        """Companies, by id or by ``where``."""
        return Listing(self._by_ids(self.endpoints.companies, ids, where, parse_company))

    def list_persons(
        self, *, ids: Sequence[str] | None = None, where: str | None = None
    ) -> Listing[CvPerson]:
        """Persons, by id or by ``where``."""
        return Listing(self._by_ids(self.endpoints.persons, ids, where, parse_person))

    def _by_ids(
        self, path: str, ids: Sequence[str] | None, where: str | None, parse: Callable[[Any], T]
    ) -> Iterator[T | SourceRecordError]:
        if ids is None:
            yield from self._listing(path, where, parse)
            return
        conditions = [self._ids_where(chunk) for chunk in _chunks(ids)]
        for condition in conditions:
            yield from self._listing(path, condition, parse)

    def list_invoice_bundles(
        self,
        *,
        changed_from: dt.date | dt.datetime | None = None,
        changed_to: dt.date | dt.datetime | None = None,
        where: str | None = None,
    ) -> Listing[InvoiceBundle]:
        """Invoices with their debtors, companies and persons, fetched in bulk per page."""
        condition = where or self._changed_where(changed_from, changed_to)

        def items() -> Iterator[InvoiceBundle | SourceRecordError]:
            for page in self._pages(self.endpoints.invoices, condition):
                invoices: list[CvInvoice] = []
                for item in _parse_each(page, parse_invoice):
                    if isinstance(item, SourceRecordError):
                        yield item
                    elif _keep_changed(item, changed_from):
                        invoices.append(item)
                debtors = self.list_debtors(ids=[i.debtor_id for i in invoices])
                by_id = {d.id: d for d in debtors}
                yield from debtors.errors
                companies = self.list_companies(
                    ids=[d.company_id for d in by_id.values() if d.company_id]
                )
                company_by_id = {c.id: c for c in companies}
                yield from companies.errors
                persons = self.list_persons(
                    ids=[d.person_id for d in by_id.values() if d.person_id]
                )
                person_by_id = {p.id: p for p in persons}
                yield from persons.errors
                for invoice in invoices:
                    yield _bundle(invoice, by_id, company_by_id, person_by_id)

        return Listing(items())


class AsyncCoachviewClient(_CoachviewBase):
    """The asynchronous twin of :class:`CoachviewClient`: same arguments and methods."""

    def __init__(
        self,
        client_id: str,
        client_secret: str,
        *,
        scopes: Sequence[str] = DEFAULT_SCOPES,
        environment: Literal["production", "training"] = "production",
        base_url: str | None = None,
        endpoints: CoachviewEndpoints | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        http_client: httpx.AsyncClient | None = None,
        clock: Clock | None = None,
        retry: RetryPolicy | None = None,
        page_size: int = 100,
        refresh_margin: float = 60.0,
        max_wait: float = 0.0,
    ) -> None:
        super().__init__(
            client_id,
            client_secret,
            scopes=scopes,
            environment=environment,
            base_url=base_url,
            endpoints=endpoints,
            clock=clock,
            retry=retry,
            page_size=page_size,
            refresh_margin=refresh_margin,
            max_wait=max_wait,
        )
        exclusive_transport(transport, http_client)
        self._transport = transport
        self._http_client = http_client
        self._auth_client = http_client or httpx.AsyncClient(transport=transport, timeout=30.0)
        self._session: AsyncHttpSession | None = None
        self._calls_before = 0

    @property
    def calls(self) -> int:
        """API requests sent so far (token requests not included)."""
        return self._calls_before + (self._session.calls if self._session else 0)

    async def aclose(self) -> None:
        """Close the connection pools (not that of an ``http_client`` you passed)."""
        if self._http_client is None:
            await self._auth_client.aclose()
        if self._session is not None:
            await self._session.aclose()

    async def __aenter__(self) -> AsyncCoachviewClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def _fresh_session(self, force: bool = False) -> AsyncHttpSession:
        if self._session is not None and self._token_valid() and not force:
            return self._session
        try:
            response = await self._auth_client.post(
                self.base_url + self.endpoints.token, data=self._token_form()
            )
        except httpx.HTTPError as exc:
            raise self._token_transport_error(exc) from exc
        token = self._accept_token(response)
        if self._session is not None:
            self._calls_before += self._session.calls
            await self._session.aclose()
        self._session = AsyncHttpSession(
            SOURCE,
            base_url=self.base_url,
            transport=self._transport,
            http_client=self._http_client,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            clock=self.clock,
            retry=self.retry,
        )
        return self._session

    async def _get(self, path: str, params: Mapping[str, str]) -> Any:
        wait = self._budget_wait()
        if wait > 0:
            await self.clock.asleep(wait)
        session = await self._fresh_session()
        try:
            response = await session.get(path, params=params)
        except SourceRateLimitError as exc:
            raise CoachviewRateLimitError(
                "the daily request limit is used up",
                reset_at=self.rate_limit.reset_at,
                url=exc.url,
            ) from exc
        except SourceAPIError as exc:
            if exc.status != 401:
                raise
            session = await self._fresh_session(force=True)
            response = await session.get(path, params=params)
        self._note(response)
        url = session.redact(response.request.url)
        return read_json(response, source=SOURCE, url=url)

    async def _pages(self, path: str, where: str | None) -> AsyncIterator[list[Any]]:
        skip = 0
        while True:
            page = await self._get(path, self._params(where, skip))
            yield _parse_page(page, self.base_url + path)
            if len(page) < self.page_size:
                return
            skip += self.page_size

    async def _listing(
        self, path: str, where: str | None, parse: Callable[[Any], T]
    ) -> AsyncIterator[T | SourceRecordError]:
        async for page in self._pages(path, where):
            for item in _parse_each(page, parse):
                yield item

    def list_invoices(
        self,
        *,
        changed_from: dt.date | dt.datetime | None = None,
        changed_to: dt.date | dt.datetime | None = None,
        where: str | None = None,
    ) -> AsyncListing[CvInvoice]:
        """Invoices, all or those created or changed in a range (audit trail); or any ``where``."""
        condition = where or self._changed_where(changed_from, changed_to)

        async def items() -> AsyncIterator[CvInvoice | SourceRecordError]:
            async for item in self._listing(self.endpoints.invoices, condition, parse_invoice):
                if isinstance(item, SourceRecordError) or _keep_changed(item, changed_from):
                    yield item

        return AsyncListing(items())

    def list_debtors(
        self, *, ids: Sequence[str] | None = None, where: str | None = None
    ) -> AsyncListing[CvDebtor]:
        """Debtors, by id (in batches of 50 per request) or by ``where``."""
        return AsyncListing(self._by_ids(self.endpoints.debtors, ids, where, parse_debtor))

    def list_companies(
        self, *, ids: Sequence[str] | None = None, where: str | None = None
    ) -> AsyncListing[CvCompany]:
        """Companies, by id or by ``where``."""
        return AsyncListing(self._by_ids(self.endpoints.companies, ids, where, parse_company))

    def list_persons(
        self, *, ids: Sequence[str] | None = None, where: str | None = None
    ) -> AsyncListing[CvPerson]:
        """Persons, by id or by ``where``."""
        return AsyncListing(self._by_ids(self.endpoints.persons, ids, where, parse_person))

    async def _by_ids(
        self, path: str, ids: Sequence[str] | None, where: str | None, parse: Callable[[Any], T]
    ) -> AsyncIterator[T | SourceRecordError]:
        if ids is None:
            async for item in self._listing(path, where, parse):
                yield item
            return
        conditions = [self._ids_where(chunk) for chunk in _chunks(ids)]
        for condition in conditions:
            async for item in self._listing(path, condition, parse):
                yield item

    def list_invoice_bundles(
        self,
        *,
        changed_from: dt.date | dt.datetime | None = None,
        changed_to: dt.date | dt.datetime | None = None,
        where: str | None = None,
    ) -> AsyncListing[InvoiceBundle]:
        """Invoices with their debtors, companies and persons, fetched in bulk per page."""
        condition = where or self._changed_where(changed_from, changed_to)

        async def items() -> AsyncIterator[InvoiceBundle | SourceRecordError]:
            async for page in self._pages(self.endpoints.invoices, condition):
                invoices: list[CvInvoice] = []
                for item in _parse_each(page, parse_invoice):
                    if isinstance(item, SourceRecordError):
                        yield item
                    elif _keep_changed(item, changed_from):
                        invoices.append(item)
                debtors = self.list_debtors(ids=[i.debtor_id for i in invoices])
                by_id = {d.id: d for d in await debtors.all()}
                for error in debtors.errors:
                    yield error
                companies = self.list_companies(
                    ids=[d.company_id for d in by_id.values() if d.company_id]
                )
                company_by_id = {c.id: c for c in await companies.all()}
                for error in companies.errors:
                    yield error
                persons = self.list_persons(
                    ids=[d.person_id for d in by_id.values() if d.person_id]
                )
                person_by_id = {p.id: p for p in await persons.all()}
                for error in persons.errors:
                    yield error
                for invoice in invoices:
                    yield _bundle(invoice, by_id, company_by_id, person_by_id)

        return AsyncListing(items())
