"""Eduframe Admin API clients (sync :class:`EduframeClient`, async :class:`AsyncEduframeClient`).

Both have the same methods; paging and error rules are pure code shared by the two.

* **Auth:** ``Authorization: Bearer <api key>``; the key never appears in a ``repr``,
  a log line or an error message.
* **Lists** are bare JSON arrays; the next page's URL comes in the ``Link`` header
  (``rel="next"``, a ``cursor`` parameter). ``per_page`` is at most 100 (the default
  here). A next link pointing to another host is refused, so the token never leaves
  Eduframe's API.
* **Rate limit:** 500 requests per 5 minutes per token. Requests are paced on the
  injected clock; a 429 is retried after its ``Retry-After`` seconds.
* **Money** is decimal strings, kept exact; statuses concept/open/paid/expired.
* **PDF:** ``GET /invoices/{id}/pdf`` answers ``{"data": "<base64>"}``;
  :meth:`EduframeClient.invoice_pdf` returns the decoded bytes (an older API version
  answered with the PDF itself, which is accepted too).

Example::

    from exactbridge.sources.eduframe import EduframeClient, EduframeCredentials

    with EduframeClient(EduframeCredentials(api_key="...")) as client:
        listing = client.invoices(status=["open", "paid"])
        for invoice in listing:
            ...
        listing.errors  # malformed invoices, each naming the invoice and the field
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any, TypeVar

import attrs
import httpx

from exactbridge.clock import Clock, SystemClock
from exactbridge.errors import ConfigurationError, SourceAPIError, SourceRecordError
from exactbridge.sources._http import (
    AsyncHttpSession,
    AsyncListing,
    HttpSession,
    Listing,
    Pacer,
    RetryPolicy,
    read_json,
)
from exactbridge.sources.eduframe.models import (
    SOURCE,
    Account,
    CatalogVariant,
    Course,
    DiscountCode,
    EduframeInvoice,
    InvoiceVat,
    Order,
    Payment,
    PlannedCourse,
    User,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "AsyncEduframeClient",
    "EduframeClient",
    "EduframeCredentials",
    "EduframeSettings",
]

#: Eduframe's API root.
DEFAULT_BASE_URL = "https://api.eduframe.nl/api/v1"

T = TypeVar("T")


@attrs.frozen
class EduframeCredentials:
    """An Eduframe API key (created from a user's profile; it has that user's rights).

    >>> EduframeCredentials(api_key="secret")
    EduframeCredentials()
    """

    api_key: str = attrs.field(repr=False)

    @api_key.validator
    def _check(self, attribute: Any, value: Any) -> None:
        if not isinstance(value, str) or not value.strip():
            raise ConfigurationError("must be a non-empty string", key="api_key")


@attrs.frozen
class EduframeSettings:
    """Tunable behaviour of the Eduframe clients.

    * ``per_page``: records per page, 1..100 (Eduframe's maximum, the default here).
    * ``requests_per_window`` / ``window_seconds``: pacing budget (500 per 300 s).
    * ``max_page_records``: records read from one page at most; an oversized page's
      rest is reported as one :class:`~exactbridge.errors.SourceRecordError`.
    * ``max_pages``: a safety stop for a server that never ends a listing.
    """

    base_url: str = DEFAULT_BASE_URL
    per_page: int = attrs.field(default=100)
    requests_per_window: int = attrs.field(default=500, validator=attrs.validators.ge(1))
    window_seconds: float = attrs.field(default=300.0, validator=attrs.validators.gt(0))
    max_page_records: int = attrs.field(default=1000, validator=attrs.validators.ge(1))
    max_pages: int = attrs.field(default=100_000, validator=attrs.validators.ge(1))

    @per_page.validator
    def _check_per_page(self, attribute: Any, value: Any) -> None:
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 100:
            raise ConfigurationError("must be between 1 and 100", key="per_page")


def _describe(response: httpx.Response) -> str:
    """Eduframe's error body ``{code, message, errors}`` as one line."""
    try:
        payload = json.loads(response.content)
    except ValueError:
        return ""
    if not isinstance(payload, Mapping):
        return ""
    message = str(payload.get("message") or "")[:300]
    errors = payload.get("errors")
    if isinstance(errors, Mapping) and errors:
        details = "; ".join(f"{key}: {value}" for key, value in list(errors.items())[:5])
        message = f"{message} ({details[:300]})" if message else details[:300]
    return message


def _decode(factory: Callable[[Any], T], raw: Any) -> T | SourceRecordError:
    try:
        return factory(raw)
    except SourceRecordError as exc:
        return exc


class _CursorPager:
    """State of one ``Link``-header listing: the next URL and how to decode a page."""

    def __init__(
        self,
        base_url: str,
        path: str,
        params: dict[str, Any],
        factory: Callable[[Any], Any],
        settings: EduframeSettings,
    ):
        self.base = httpx.URL(base_url)
        self.first: tuple[str, dict[str, Any]] | None = (path, params)
        self.next_url: str | None = None
        self.factory = factory
        self.settings = settings
        self.pages = 0
        self.label = path.strip("/")

    @property
    def done(self) -> bool:
        return self.first is None and self.next_url is None

    def _check_next(self, url: str, method: str, current: str) -> str:
        target = httpx.URL(url) if "://" in url else self.base.join(url)
        same_origin = (target.scheme, target.host, target.port) == (
            self.base.scheme,
            self.base.host,
            self.base.port,
        )
        if not same_origin or not target.path.startswith(self.base.path.rstrip("/") + "/"):
            raise SourceAPIError(
                "the next-page link points outside the API; refusing to follow it",
                source=SOURCE,
                method=method,
                url=current,
            )
        return str(target)

    def items(self, response: httpx.Response, url: str) -> Iterator[Any]:
        self.pages += 1
        payload = read_json(response, source=SOURCE, url=url, parse_float=Decimal)
        method = response.request.method
        try:
            links = response.links
        except Exception:  # a malformed Link header ends the listing, reported below
            links = {}
        following = links.get("next", {}).get("url")
        self.next_url = self._check_next(following, method, url) if following else None
        if self.next_url == url or self.pages >= self.settings.max_pages:
            self.next_url = None
        label = f"{self.label} page {self.pages}"
        if not isinstance(payload, list):
            yield SourceRecordError(
                "the page is not a JSON array",
                source=SOURCE,
                record_id=label,
                field="<page>",
                expected="an array of records",
                value=type(payload).__name__,
            )
            return
        limit = self.settings.max_page_records
        for raw in payload[:limit]:
            yield _decode(self.factory, raw)
        if len(payload) > limit:
            yield SourceRecordError(
                f"the page holds {len(payload)} records; only the first {limit} were read",
                source=SOURCE,
                record_id=label,
                field="<page>",
                expected=f"at most {limit} records per page",
                value=len(payload),
            )


def _invoice_filters(
    status: Sequence[str] | str | None, account_id: int | None, order_id: int | None
) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if status is not None:
        values = [status] if isinstance(status, str) else list(status)
        allowed = {"concept", "open", "paid", "expired"}
        for value in values:
            if value not in allowed:
                raise ConfigurationError(
                    f"unknown invoice status {value!r}",
                    key="status",
                    expected="concept | open | paid | expired",
                )
        params["status[]"] = values
    if account_id is not None:
        params["account_id"] = int(account_id)
    if order_id is not None:
        params["order_id"] = int(order_id)
    return params


def _pdf_bytes(response: httpx.Response, invoice_id: int, url: str) -> bytes:
    content_type = response.headers.get("Content-Type", "")
    if content_type.startswith("application/pdf"):
        return response.content
    payload = read_json(response, source=SOURCE, url=url)
    record = f"invoice {invoice_id}"
    data = payload.get("data") if isinstance(payload, Mapping) else None
    if not isinstance(data, str) or not data:
        raise SourceRecordError(
            "no PDF data in the answer",
            source=SOURCE,
            record_id=record,
            field="data",
            expected="a base64 string",
            value=type(data).__name__,
        )
    try:
        pdf = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SourceRecordError(
            "not valid base64",
            source=SOURCE,
            record_id=record,
            field="data",
            expected="a base64 string",
            value=data[:20],
        ) from exc
    if not pdf.startswith(b"%PDF"):
        raise SourceRecordError(
            "the decoded data is not a PDF",
            source=SOURCE,
            record_id=record,
            field="data",
            expected="a PDF document",
            value=pdf[:8],
        )
    return pdf


class _ClientBase:
    """Everything the two clients share apart from I/O."""

    def __init__(
        self,
        credentials: EduframeCredentials,
        settings: EduframeSettings | None,
        clock: Clock | None,
        retry: RetryPolicy | None,
        pacer: Pacer | None,
    ):
        if not isinstance(credentials, EduframeCredentials):
            raise ConfigurationError(
                "expected EduframeCredentials", key="credentials", expected="EduframeCredentials"
            )
        self.credentials = credentials
        self.settings = settings or EduframeSettings()
        self.clock: Clock = clock or SystemClock()
        self.retry = retry or RetryPolicy(attempts=5, backoff=2.0, max_backoff=120.0)
        self.pacer = pacer or Pacer(
            self.settings.requests_per_window, self.settings.window_seconds, clock=self.clock
        )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.settings.base_url!r})"

    def _session_kwargs(self) -> dict[str, Any]:
        return {
            "base_url": self.settings.base_url,
            "headers": {
                "Authorization": f"Bearer {self.credentials.api_key}",
                "Accept": "application/json",
            },
            "clock": self.clock,
            "retry": self.retry,
            "pacer": self.pacer,
            "describe_error": _describe,
        }

    def _pager(
        self, path: str, params: Mapping[str, Any] | None, factory: Callable[[Any], Any]
    ) -> _CursorPager:
        query = dict(params or {})
        query["per_page"] = self.settings.per_page
        return _CursorPager(self.settings.base_url, path, query, factory, self.settings)


# The read-only resources every client offers: (method name, path, model).
_RESOURCES: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "accounts": ("/accounts", Account.from_json),
    "users": ("/users", User.from_json),
    "invoice_vats": ("/invoice_vats", InvoiceVat.from_json),
    "courses": ("/courses", Course.from_json),
    "planned_courses": ("/planned_courses", PlannedCourse.from_json),
    "catalog_variants": ("/catalog/variants", CatalogVariant.from_json),
    "orders": ("/orders", Order.from_json),
    "discount_codes": ("/discount_codes", DiscountCode.from_json),
}


class EduframeClient(_ClientBase):
    """Synchronous Eduframe client.

    ``transport`` is an optional ``httpx.BaseTransport`` (``FakeEduframe().transport()``
    in tests); ``clock`` drives pacing and backoff; ``session.calls`` counts requests.
    Every listing method returns a :class:`~exactbridge.sources._http.Listing`.
    ``http_client`` is your own ``httpx.Client`` instead (proxies, TLS verification,
    limits, event hooks); requests go through it and closing this client leaves it open.
    """

    def __init__(
        self,
        credentials: EduframeCredentials,
        *,
        transport: httpx.BaseTransport | None = None,
        http_client: httpx.Client | None = None,
        settings: EduframeSettings | None = None,
        clock: Clock | None = None,
        retry: RetryPolicy | None = None,
        pacer: Pacer | None = None,
    ):
        super().__init__(credentials, settings, clock, retry, pacer)
        self.session = HttpSession(
            SOURCE, transport=transport, http_client=http_client, **self._session_kwargs()
        )

    def close(self) -> None:
        """Release the connection pool."""
        self.session.close()

    def __enter__(self) -> EduframeClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _walk(self, pager: _CursorPager) -> Iterator[Any]:
        while not pager.done:
            if pager.first is not None:
                path, params = pager.first
                pager.first = None
                response = self.session.get(path, params=params)
            else:
                assert pager.next_url is not None
                response = self.session.get(pager.next_url)
            yield from pager.items(response, self.session.redact(response.request.url))

    def _list(self, name: str, params: Mapping[str, Any] | None = None) -> Listing[Any]:
        path, factory = _RESOURCES[name]
        return Listing(self._walk(self._pager(path, params, factory)))

    def _one(self, path: str, factory: Callable[[Any], T]) -> T:
        response = self.session.get(path)
        url = self.session.redact(response.request.url)
        return factory(read_json(response, source=SOURCE, url=url))

    def invoices(
        self,
        *,
        status: Sequence[str] | str | None = None,
        account_id: int | None = None,
        order_id: int | None = None,
    ) -> Listing[EduframeInvoice]:
        """Invoices with their items, optionally filtered by status, account or order."""
        params = _invoice_filters(status, account_id, order_id)
        return Listing(self._walk(self._pager("/invoices", params, EduframeInvoice.from_json)))

    def invoice(self, invoice_id: int) -> EduframeInvoice:
        """One invoice with its items."""
        return self._one(f"/invoices/{int(invoice_id)}", EduframeInvoice.from_json)

    def invoice_pdf(self, invoice_id: int) -> bytes:
        """The invoice as PDF bytes (decoded from the base64 ``data`` of the answer)."""
        response = self.session.get(f"/invoices/{int(invoice_id)}/pdf")
        return _pdf_bytes(response, int(invoice_id), self.session.redact(response.request.url))

    def invoice_payments(self, invoice_id: int) -> Listing[Payment]:
        """The payments of one invoice."""
        path = f"/invoices/{int(invoice_id)}/payments"
        return Listing(self._walk(self._pager(path, None, Payment.from_json)))

    def payment(self, payment_id: int) -> Payment:
        """One payment."""
        return self._one(f"/payments/{int(payment_id)}", Payment.from_json)

    def account(self, account_id: int) -> Account:
        """One account with its address and custom fields."""
        return self._one(f"/accounts/{int(account_id)}", Account.from_json)

    def accounts(self) -> Listing[Account]:
        """All accounts (with address and custom fields)."""
        return self._list("accounts")

    def users(self) -> Listing[User]:
        """All users."""
        return self._list("users")

    def invoice_vats(self) -> Listing[InvoiceVat]:
        """The educator's VAT codes."""
        return self._list("invoice_vats")

    def courses(self) -> Listing[Course]:
        """Course templates."""
        return self._list("courses")

    def planned_courses(self) -> Listing[PlannedCourse]:
        """Course editions."""
        return self._list("planned_courses")

    def catalog_variants(self) -> Listing[CatalogVariant]:
        """Catalog variants (what invoice items point to)."""
        return self._list("catalog_variants")

    def orders(self) -> Listing[Order]:
        """Orders (with their discount codes)."""
        return self._list("orders")

    def order(self, order_id: int) -> Order:
        """One order."""
        return self._one(f"/orders/{int(order_id)}", Order.from_json)

    def discount_codes(self) -> Listing[DiscountCode]:
        """Discount codes."""
        return self._list("discount_codes")


class AsyncEduframeClient(_ClientBase):
    """Asynchronous twin of :class:`EduframeClient` (``await`` single reads, ``async for``
    listings)."""

    def __init__(
        self,
        credentials: EduframeCredentials,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        http_client: httpx.AsyncClient | None = None,
        settings: EduframeSettings | None = None,
        clock: Clock | None = None,
        retry: RetryPolicy | None = None,
        pacer: Pacer | None = None,
    ):
        super().__init__(credentials, settings, clock, retry, pacer)
        self.session = AsyncHttpSession(
            SOURCE, transport=transport, http_client=http_client, **self._session_kwargs()
        )

    async def aclose(self) -> None:
        """Release the connection pool."""
        await self.session.aclose()

    async def __aenter__(self) -> AsyncEduframeClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def _walk(self, pager: _CursorPager) -> AsyncIterator[Any]:
        while not pager.done:
            if pager.first is not None:
                path, params = pager.first
                pager.first = None
                response = await self.session.get(path, params=params)
            else:
                assert pager.next_url is not None
                response = await self.session.get(pager.next_url)
            for item in pager.items(response, self.session.redact(response.request.url)):
                yield item

    def _list(self, name: str, params: Mapping[str, Any] | None = None) -> AsyncListing[Any]:
        path, factory = _RESOURCES[name]
        return AsyncListing(self._walk(self._pager(path, params, factory)))

    async def _one(self, path: str, factory: Callable[[Any], T]) -> T:
        response = await self.session.get(path)
        url = self.session.redact(response.request.url)
        return factory(read_json(response, source=SOURCE, url=url))

    def invoices(
        self,
        *,
        status: Sequence[str] | str | None = None,
        account_id: int | None = None,
        order_id: int | None = None,
    ) -> AsyncListing[EduframeInvoice]:
        """See :meth:`EduframeClient.invoices`."""
        params = _invoice_filters(status, account_id, order_id)
        return AsyncListing(self._walk(self._pager("/invoices", params, EduframeInvoice.from_json)))

    async def invoice(self, invoice_id: int) -> EduframeInvoice:
        """See :meth:`EduframeClient.invoice`."""
        return await self._one(f"/invoices/{int(invoice_id)}", EduframeInvoice.from_json)

    async def invoice_pdf(self, invoice_id: int) -> bytes:
        """See :meth:`EduframeClient.invoice_pdf`."""
        response = await self.session.get(f"/invoices/{int(invoice_id)}/pdf")
        return _pdf_bytes(response, int(invoice_id), self.session.redact(response.request.url))

    def invoice_payments(self, invoice_id: int) -> AsyncListing[Payment]:
        """See :meth:`EduframeClient.invoice_payments`."""
        path = f"/invoices/{int(invoice_id)}/payments"
        return AsyncListing(self._walk(self._pager(path, None, Payment.from_json)))

    async def payment(self, payment_id: int) -> Payment:
        """See :meth:`EduframeClient.payment`."""
        return await self._one(f"/payments/{int(payment_id)}", Payment.from_json)

    async def account(self, account_id: int) -> Account:
        """See :meth:`EduframeClient.account`."""
        return await self._one(f"/accounts/{int(account_id)}", Account.from_json)

    def accounts(self) -> AsyncListing[Account]:
        """See :meth:`EduframeClient.accounts`."""
        return self._list("accounts")

    def users(self) -> AsyncListing[User]:
        """See :meth:`EduframeClient.users`."""
        return self._list("users")

    def invoice_vats(self) -> AsyncListing[InvoiceVat]:
        """See :meth:`EduframeClient.invoice_vats`."""
        return self._list("invoice_vats")

    def courses(self) -> AsyncListing[Course]:
        """See :meth:`EduframeClient.courses`."""
        return self._list("courses")

    def planned_courses(self) -> AsyncListing[PlannedCourse]:
        """See :meth:`EduframeClient.planned_courses`."""
        return self._list("planned_courses")

    def catalog_variants(self) -> AsyncListing[CatalogVariant]:
        """See :meth:`EduframeClient.catalog_variants`."""
        return self._list("catalog_variants")

    def orders(self) -> AsyncListing[Order]:
        """See :meth:`EduframeClient.orders`."""
        return self._list("orders")

    async def order(self, order_id: int) -> Order:
        """See :meth:`EduframeClient.order`."""
        return await self._one(f"/orders/{int(order_id)}", Order.from_json)

    def discount_codes(self) -> AsyncListing[DiscountCode]:
        """See :meth:`EduframeClient.discount_codes`."""
        return self._list("discount_codes")
