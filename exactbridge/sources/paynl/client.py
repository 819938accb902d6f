"""Typed sync and async clients for Pay. (pay.nl): settlements, clearing records, transactions.

Auth is HTTP Basic with the token code (``AT-xxxx-xxxx``) as user name and the API
token as password; the transaction endpoints also take the service id
(``SL-xxxx-xxxx``) and service secret, used when given (reference section 4.1).
Neither the token nor the secret ever appears in a ``repr``, a log line or an error.

Every path and query-parameter name lives in :class:`PayEndpoints` (the field names in
:mod:`.models`). Several are UNVERIFIED (reference sections 4.4 and 8): the REST paths
of ``Clearings:Settlements`` and ``Clearings:Records``, the operator syntax of the
``settlementDate`` filter (assumed ``settlementDate[gte]=YYYY-MM-DD``) and the key of
the records array (assumed ``records``). They are the documented defaults here, used
by :class:`exactbridge.testing.paynl.FakePay` too, and can be changed without code
changes by passing your own :class:`PayEndpoints`.

Incremental reads: :meth:`PayClient.list_settlements` with ``settled_from`` (the last
run's date); then :meth:`PayClient.list_clearing_records` per settlement code, or
:meth:`PayClient.list_settlement_bundles` for both at once.

Example::

    with PayClient("AT-1234-5678", token) as pay:
        bundles = pay.list_settlement_bundles(settled_from=dt.date(2026, 1, 1))
        for bundle in bundles:
            payout = settlement_to_payout(bundle)
        bundles.errors  # settlements that could not be read, with record and field
"""

from __future__ import annotations

import base64
import datetime as dt
import re
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from typing import Any, TypeVar

import attrs
import httpx

from exactbridge.clock import Clock
from exactbridge.errors import ConfigurationError, SourceAPIError, SourceRecordError
from exactbridge.sources._http import (
    AsyncHttpSession,
    AsyncListing,
    HttpSession,
    Listing,
    RetryPolicy,
    read_json,
)

from .models import (
    SOURCE,
    ClearingRecord,
    Settlement,
    Transaction,
    parse_clearing_record,
    parse_settlement,
    parse_transaction,
)

__all__ = [
    "AsyncPayClient",
    "PayClient",
    "PayEndpoints",
    "SettlementBundle",
]

T = TypeVar("T")

_TOKEN_CODE = re.compile(r"^AT-\d{4}-\d{4}$")
_SERVICE_ID = re.compile(r"^SL-\d{4}-\d{4}$")


@attrs.frozen
class PayEndpoints:
    """Every Pay. path and parameter name the client uses (UNVERIFIED ones marked).

    ``settlements`` and ``clearing_records`` (UNVERIFIED paths), ``records_key``
    (UNVERIFIED array key), ``date_filter`` (UNVERIFIED operator syntax; ``{op}`` is
    ``gte``/``lte``), page sizes within Pay.'s documented caps (settlements 10,
    records 10,000).
    """

    base_url: str = "https://rest.pay.nl"
    settlements: str = "/v2/clearings/settlements"
    clearing_records: str = "/v2/clearings/{clearing}/records"
    transaction: str = "/v2/transactions/{transaction_id}"
    settlements_key: str = "settlements"
    records_key: str = "records"
    date_filter: str = "settlementDate[{op}]"
    turnover_group_filter: str = "turnoverGroup[eq]"
    page_param: str = "page"
    limit_param: str = "limit"
    settlements_page_size: int = attrs.field(
        default=10, validator=attrs.validators.in_(range(1, 11))
    )
    records_page_size: int = attrs.field(
        default=1000, validator=attrs.validators.in_(range(1, 10_001))
    )


@attrs.frozen
class SettlementBundle:
    """A settlement with the records (transactions) of all its clearings.

    ``errors`` holds the records that could not be read; a bundle with errors is
    incomplete and the adapter refuses to turn it into a payout.
    """

    settlement: Settlement
    records: tuple[ClearingRecord, ...]
    errors: tuple[SourceRecordError, ...] = ()


def _basic(user: str, password: str) -> str:
    raw = f"{user}:{password}".encode()
    return "Basic " + base64.b64encode(raw).decode("ascii")


def _check_credentials(
    token_code: str, api_token: str, service_id: str | None, service_secret: str | None
) -> None:
    if not _TOKEN_CODE.match(token_code):
        raise ConfigurationError(
            "the token code is not an AT-code", key="token_code", expected="AT-1234-5678"
        )
    if not api_token:
        raise ConfigurationError("the API token is empty", key="api_token")
    if (service_id is None) != (service_secret is None):
        raise ConfigurationError(
            "give both the service id and the service secret, or neither", key="service_id"
        )
    if service_id is not None and not _SERVICE_ID.match(service_id):
        raise ConfigurationError(
            "the service id is not an SL-code", key="service_id", expected="SL-1234-5678"
        )


def _settlement_params(
    endpoints: PayEndpoints,
    page: int,
    settled_from: dt.date | None,
    settled_to: dt.date | None,
    turnover_group: str | None,
) -> dict[str, str]:
    params = {
        endpoints.page_param: str(page),
        endpoints.limit_param: str(endpoints.settlements_page_size),
    }
    if settled_from is not None:
        params[endpoints.date_filter.format(op="gte")] = settled_from.isoformat()
    if settled_to is not None:
        params[endpoints.date_filter.format(op="lte")] = settled_to.isoformat()
    if turnover_group is not None:
        params[endpoints.turnover_group_filter] = turnover_group
    return params


def _page_items(
    payload: Any, key: str, response: httpx.Response, url: str
) -> tuple[list[Any], int]:
    """The items of one page and the number of pages; a malformed envelope is an API error."""
    if not isinstance(payload, Mapping) or not isinstance(payload.get(key), list):
        raise SourceAPIError(
            f"the answer has no {key!r} array",
            source=SOURCE,
            status=response.status_code,
            method="GET",
            url=url,
        )
    pages = payload.get("pages")
    if isinstance(pages, bool) or not isinstance(pages, int):
        pages = 1
    return list(payload[key]), pages


def _parse_each(items: list[Any], parse: Callable[[Any], T]) -> Iterator[T | SourceRecordError]:
    for item in items:
        try:
            yield parse(item)
        except SourceRecordError as exc:
            yield exc


class _PayBase:
    """Configuration shared by :class:`PayClient` and :class:`AsyncPayClient`."""

    def __init__(
        self,
        token_code: str,
        api_token: str,
        *,
        service_id: str | None,
        service_secret: str | None,
        endpoints: PayEndpoints | None,
    ) -> None:
        _check_credentials(token_code, api_token, service_id, service_secret)
        self.token_code = token_code
        self.service_id = service_id
        self.endpoints = endpoints or PayEndpoints()
        self._token_auth = _basic(token_code, api_token)
        self._service_auth = (
            _basic(service_id, service_secret)
            if service_id is not None and service_secret is not None
            else None
        )

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(token_code={self.token_code!r}, "
            f"service_id={self.service_id!r}, base_url={self.endpoints.base_url!r})"
        )

    def _records_path(self, clearing: str) -> str:
        if not clearing or "/" in clearing:
            raise ConfigurationError(
                "not a clearing id or settlement code", key="clearing", expected="e.g. SK6Y-7PBP"
            )
        return self.endpoints.clearing_records.format(clearing=clearing)

    def _transaction_path(self, transaction_id: str) -> str:
        if not transaction_id or "/" in transaction_id:
            raise ConfigurationError("not a transaction id", key="transaction_id")
        return self.endpoints.transaction.format(transaction_id=transaction_id)


class PayClient(_PayBase):
    """Synchronous Pay. client. ``transport`` plugs in a fake (``FakePay().transport()``).

    ``http_client`` is your own ``httpx.Client`` instead (proxies, TLS verification,
    limits, event hooks); requests go through it and closing this client leaves it open.

    Example::

        pay = PayClient("AT-1234-5678", api_token, transport=fake.transport())
        settlements = pay.list_settlements(settled_from=dt.date(2026, 1, 1)).all()
    """

    def __init__(
        self,
        token_code: str,
        api_token: str,
        *,
        service_id: str | None = None,
        service_secret: str | None = None,
        endpoints: PayEndpoints | None = None,
        transport: httpx.BaseTransport | None = None,
        http_client: httpx.Client | None = None,
        clock: Clock | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        super().__init__(
            token_code,
            api_token,
            service_id=service_id,
            service_secret=service_secret,
            endpoints=endpoints,
        )
        self._session = HttpSession(
            SOURCE,
            base_url=self.endpoints.base_url,
            transport=transport,
            http_client=http_client,
            headers={"Authorization": self._token_auth, "Accept": "application/json"},
            clock=clock,
            retry=retry,
        )
        self._service_session = (
            HttpSession(
                SOURCE,
                base_url=self.endpoints.base_url,
                transport=transport,
                http_client=http_client,
                headers={"Authorization": self._service_auth, "Accept": "application/json"},
                clock=clock,
                retry=retry,
            )
            if self._service_auth is not None
            else None
        )

    @property
    def calls(self) -> int:
        """HTTP requests sent so far (retries included)."""
        extra = self._service_session.calls if self._service_session else 0
        return self._session.calls + extra

    def close(self) -> None:
        """Close the connection pools."""
        self._session.close()
        if self._service_session is not None:
            self._service_session.close()

    def __enter__(self) -> PayClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _get_json(self, session: HttpSession, path: str, params: Mapping[str, str]) -> Any:
        response = session.get(path, params=params)
        return read_json(response, source=SOURCE, url=session.redact(response.request.url))

    def _pages(
        self, path: str, key: str, params: Callable[[int], dict[str, str]]
    ) -> Iterator[list[Any]]:
        page = 1
        while True:
            response = self._session.get(path, params=params(page))
            url = self._session.redact(response.request.url)
            items, pages = _page_items(
                read_json(response, source=SOURCE, url=url), key, response, url
            )
            yield items
            if page >= pages or not items:
                return
            page += 1

    def list_settlements(
        self,
        *,
        settled_from: dt.date | None = None,
        settled_to: dt.date | None = None,
        turnover_group: str | None = None,
    ) -> Listing[Settlement]:
        """Settlements, oldest page first, filtered by settlement date and revenue group."""
        ep = self.endpoints

        def items() -> Iterator[Settlement | SourceRecordError]:
            for page in self._pages(
                ep.settlements,
                ep.settlements_key,
                lambda n: _settlement_params(ep, n, settled_from, settled_to, turnover_group),
            ):
                yield from _parse_each(page, parse_settlement)

        return Listing(items())

    def list_clearing_records(self, clearing: str) -> Listing[ClearingRecord]:
        """The transactions of one clearing, by clearing id or settlement code."""
        ep = self.endpoints
        path = self._records_path(clearing)

        def items() -> Iterator[ClearingRecord | SourceRecordError]:
            for page in self._pages(
                path,
                ep.records_key,
                lambda n: {ep.page_param: str(n), ep.limit_param: str(ep.records_page_size)},
            ):
                yield from _parse_each(page, parse_clearing_record)

        return Listing(items())

    def list_settlement_bundles(
        self,
        *,
        settled_from: dt.date | None = None,
        settled_to: dt.date | None = None,
        turnover_group: str | None = None,
    ) -> Listing[SettlementBundle]:
        """Settlements with their records (one records listing per settlement code)."""

        def items() -> Iterator[SettlementBundle | SourceRecordError]:
            settlements = self.list_settlements(
                settled_from=settled_from, settled_to=settled_to, turnover_group=turnover_group
            )
            for settlement in settlements:
                records = self.list_clearing_records(settlement.code)
                good = tuple(records)
                yield SettlementBundle(settlement, good, tuple(records.errors))
            yield from settlements.errors

        return Listing(items())

    def get_transaction(self, transaction_id: str) -> Transaction:
        """One transaction (order) with its status; uses the service credentials when given."""
        session = self._service_session or self._session
        return parse_transaction(
            self._get_json(session, self._transaction_path(transaction_id), {})
        )


class AsyncPayClient(_PayBase):
    """The asynchronous twin of :class:`PayClient`: same arguments, same methods, awaited."""

    def __init__(
        self,
        token_code: str,
        api_token: str,
        *,
        service_id: str | None = None,
        service_secret: str | None = None,
        endpoints: PayEndpoints | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        http_client: httpx.AsyncClient | None = None,
        clock: Clock | None = None,
        retry: RetryPolicy | None = None,
    ) -> None:
        super().__init__(
            token_code,
            api_token,
            service_id=service_id,
            service_secret=service_secret,
            endpoints=endpoints,
        )
        self._session = AsyncHttpSession(
            SOURCE,
            base_url=self.endpoints.base_url,
            transport=transport,
            http_client=http_client,
            headers={"Authorization": self._token_auth, "Accept": "application/json"},
            clock=clock,
            retry=retry,
        )
        self._service_session = (
            AsyncHttpSession(
                SOURCE,
                base_url=self.endpoints.base_url,
                transport=transport,
                http_client=http_client,
                headers={"Authorization": self._service_auth, "Accept": "application/json"},
                clock=clock,
                retry=retry,
            )
            if self._service_auth is not None
            else None
        )

    @property
    def calls(self) -> int:
        """HTTP requests sent so far (retries included)."""
        extra = self._service_session.calls if self._service_session else 0
        return self._session.calls + extra

    async def aclose(self) -> None:
        """Close the connection pools."""
        await self._session.aclose()
        if self._service_session is not None:
            await self._service_session.aclose()

    async def __aenter__(self) -> AsyncPayClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def _pages(
        self, path: str, key: str, params: Callable[[int], dict[str, str]]
    ) -> AsyncIterator[list[Any]]:
        page = 1
        while True:
            response = await self._session.get(path, params=params(page))
            url = self._session.redact(response.request.url)
            items, pages = _page_items(
                read_json(response, source=SOURCE, url=url), key, response, url
            )
            yield items
            if page >= pages or not items:
                return
            page += 1

    def list_settlements(
        self,
        *,
        settled_from: dt.date | None = None,
        settled_to: dt.date | None = None,
        turnover_group: str | None = None,
    ) -> AsyncListing[Settlement]:
        """Settlements, oldest page first, filtered by settlement date and revenue group."""
        ep = self.endpoints

        async def items() -> AsyncIterator[Settlement | SourceRecordError]:
            async for page in self._pages(
                ep.settlements,
                ep.settlements_key,
                lambda n: _settlement_params(ep, n, settled_from, settled_to, turnover_group),
            ):
                for item in _parse_each(page, parse_settlement):
                    yield item

        return AsyncListing(items())

    def list_clearing_records(self, clearing: str) -> AsyncListing[ClearingRecord]:
        """The transactions of one clearing, by clearing id or settlement code."""
        ep = self.endpoints
        path = self._records_path(clearing)

        async def items() -> AsyncIterator[ClearingRecord | SourceRecordError]:
            async for page in self._pages(
                path,
                ep.records_key,
                lambda n: {ep.page_param: str(n), ep.limit_param: str(ep.records_page_size)},
            ):
                for item in _parse_each(page, parse_clearing_record):
                    yield item

        return AsyncListing(items())

    def list_settlement_bundles(
        self,
        *,
        settled_from: dt.date | None = None,
        settled_to: dt.date | None = None,
        turnover_group: str | None = None,
    ) -> AsyncListing[SettlementBundle]:
        """Settlements with their records (one records listing per settlement code)."""

        async def items() -> AsyncIterator[SettlementBundle | SourceRecordError]:
            settlements = self.list_settlements(
                settled_from=settled_from, settled_to=settled_to, turnover_group=turnover_group
            )
            async for settlement in settlements:
                records = self.list_clearing_records(settlement.code)
                good = tuple(await records.all())
                yield SettlementBundle(settlement, good, tuple(records.errors))
            for error in settlements.errors:
                yield error

        return AsyncListing(items())

    async def get_transaction(self, transaction_id: str) -> Transaction:
        """One transaction (order) with its status; uses the service credentials when given."""
        session = self._service_session or self._session
        response = await session.get(self._transaction_path(transaction_id))
        url = session.redact(response.request.url)
        return parse_transaction(read_json(response, source=SOURCE, url=url))
