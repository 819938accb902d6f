"""Virtuagym API v1 clients (sync :class:`VirtuagymClient`, async :class:`AsyncVirtuagymClient`).

Both have the same methods and semantics; the paging and envelope rules below are
pure code shared by the two.

Virtuagym's quirks, handled here:

* **Credentials** per club: ``club_id`` in the path, ``api_key`` and ``club_secret``
  (the "Club key" of *System settings > Company information > Advanced*) as query
  parameters. They never appear in a ``repr``, a log line or an error message.
* **Errors as HTTP 200.** Virtuagym answers most errors with HTTP 200 and a flat body
  ``{"statuscode": 420, "statusmessage": ...}`` (or ``{"status": {...}, "errors": [...]}``);
  these raise :class:`VirtuagymAPIError`.
* **Euro floats** are decoded with ``parse_float=Decimal``: ``12.1`` becomes
  ``Decimal("12.1")`` without passing through a binary float.
* **Invoices** are listed page by page (500 per page, no "changed since" filter):
  :meth:`VirtuagymClient.invoices` walks every page; pass ``known`` (guid -> last seen
  ``timestamp_edit``) to get only new and changed invoices. Concept invoices (``id``
  0) are skipped unless asked for.
* **Members** are listed with a ``sync_from`` cursor (milliseconds) that repeats rows
  at page boundaries; the listing drops the repeats.
* **Rate limit:** 500 requests per hour. Requests are paced on the injected clock,
  and a throttled answer (HTTP 429/421, or status 421 inside a 200 body; the code is
  not documented reliably, so it is configurable) is retried with backoff.

Example::

    from exactbridge.sources.virtuagym import VirtuagymClient, VirtuagymCredentials

    creds = VirtuagymCredentials(club_id=8633, api_key="...", club_secret="...")
    with VirtuagymClient(creds) as client:
        listing = client.invoices()
        for invoice in listing:
            ...
        listing.errors  # malformed invoices, each naming the guid and the field
"""

from __future__ import annotations

import datetime as dt
import json
import re
import urllib.parse
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
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
from exactbridge.sources.virtuagym.models import (
    SOURCE,
    ClubTax,
    IncomeCategory,
    Member,
    TimestampUnit,
    VirtuagymInvoice,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "AsyncInvoiceListing",
    "AsyncMemberListing",
    "AsyncVirtuagymClient",
    "InvoiceListing",
    "InvoiceStats",
    "MemberListing",
    "MemberStats",
    "VirtuagymAPIError",
    "VirtuagymClient",
    "VirtuagymCredentials",
    "VirtuagymSettings",
    "invoice_changed",
]

#: Virtuagym's API v1 root.
DEFAULT_BASE_URL = "https://api.virtuagym.com/api/v1"

T = TypeVar("T")


def _int_set(values: Iterable[int]) -> frozenset[int]:
    return frozenset(values)


class VirtuagymAPIError(SourceAPIError):
    """Virtuagym reported an error, usually as HTTP 200 with ``statuscode`` 420 in the body.

    ``statuscode`` and ``statusmessage`` are Virtuagym's own; ``errors`` lists the
    validation messages of the ``{"status": ..., "errors": [...]}`` shape.
    """

    def __init__(
        self,
        message: str,
        *,
        statuscode: int | None,
        method: str,
        url: str,
        errors: tuple[str, ...] = (),
    ):
        self.statuscode = statuscode
        self.statusmessage = message
        self.errors = errors
        text = message or "error"
        if errors:
            text += ": " + "; ".join(errors)
        super().__init__(text, source=SOURCE, status=statuscode, method=method, url=url)


@attrs.frozen
class VirtuagymCredentials:
    """The credentials of one club (each club needs its own).

    ``api_key`` and ``club_secret`` (the "Club key") are kept out of ``repr``.

    >>> VirtuagymCredentials(club_id=8633, api_key="k", club_secret="s")
    VirtuagymCredentials(club_id=8633)
    """

    club_id: int = attrs.field()
    api_key: str = attrs.field(repr=False)
    club_secret: str = attrs.field(repr=False)

    @club_id.validator
    def _check_club_id(self, attribute: Any, value: Any) -> None:
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise ConfigurationError("must be a positive integer", key="club_id")

    @api_key.validator
    def _check_api_key(self, attribute: Any, value: Any) -> None:
        if not isinstance(value, str) or not value:
            raise ConfigurationError("must be a non-empty string", key="api_key")

    @club_secret.validator
    def _check_club_secret(self, attribute: Any, value: Any) -> None:
        if not isinstance(value, str) or not value:
            raise ConfigurationError("must be a non-empty string", key="club_secret")

    @classmethod
    def from_club_secret(
        cls, api_key: str, club_secret: str, *, club_id: int | None = None
    ) -> VirtuagymCredentials:
        """Build credentials, taking the club id from the club secret when not given.

        UNVERIFIED: a third-party help page says the club id is the first group of
        digits of the club secret. Pass ``club_id`` explicitly whenever you know it.
        """
        if club_id is None:
            match = re.match(r"\s*(\d+)", club_secret or "")
            if match is None:
                raise ConfigurationError(
                    "cannot derive the club id from the club secret; pass club_id",
                    key="club_id",
                )
            club_id = int(match.group(1))
        return cls(club_id=club_id, api_key=api_key, club_secret=club_secret)


@attrs.frozen
class VirtuagymSettings:
    """Tunable behaviour of the Virtuagym clients (the defaults follow Virtuagym's docs).

    * ``requests_per_hour``: pacing budget (Virtuagym allows 500 per hour per key).
    * ``throttle_statuses``: codes read as "too many requests" and retried, both as HTTP
      status and as ``statuscode`` inside a 200 body. UNCERTAIN in the docs: 421 is
      reported by one source; 429 is always included.
    * ``invoice_timestamps`` / ``member_timestamps``: units of the unix timestamps
      (documented: seconds for invoices, milliseconds for members).
    * ``max_page_records``: records read from one page at most; the rest of an
      oversized page is reported as one :class:`~exactbridge.errors.SourceRecordError`.
    * ``max_pages``: a safety stop for a server that never ends a listing.
    """

    base_url: str = DEFAULT_BASE_URL
    requests_per_hour: int = attrs.field(default=500, validator=attrs.validators.ge(1))
    throttle_statuses: frozenset[int] = attrs.field(
        default=frozenset({421, 429}), converter=_int_set
    )
    invoice_timestamps: TimestampUnit = TimestampUnit.SECONDS
    member_timestamps: TimestampUnit = TimestampUnit.MILLISECONDS
    max_page_records: int = attrs.field(default=5000, validator=attrs.validators.ge(1))
    max_pages: int = attrs.field(default=100_000, validator=attrs.validators.ge(1))


def _default_retry() -> RetryPolicy:
    # Throttling on a budget of 500 per hour calls for patience rather than hammering.
    return RetryPolicy(attempts=5, backoff=30.0, max_backoff=900.0)


def invoice_changed(invoice: VirtuagymInvoice, known: Mapping[str, dt.datetime]) -> bool:
    """Whether ``invoice`` is new, or edited after ``known[guid]`` (its last ``timestamp_edit``).

    An invoice without ``timestamp_edit`` always counts as changed.
    """
    seen = known.get(invoice.guid)
    if seen is None or invoice.timestamp_edit is None:
        return True
    return invoice.timestamp_edit > seen


# -- pure envelope and paging rules (shared by the sync and async clients) ------------------


def _throttled_body(statuses: frozenset[int]) -> Callable[[httpx.Response], bool]:
    def check(response: httpx.Response) -> bool:
        content = response.content
        # Error envelopes are tiny; never re-parse a full page just to look for one.
        if len(content) > 4096 or b"statuscode" not in content:
            return False
        try:
            payload = json.loads(content)
        except ValueError:
            return False
        code = _statuscode(payload)
        return code in statuses

    return check


def _statuscode(payload: Any) -> int | None:
    if not isinstance(payload, Mapping):
        return None
    holder = payload.get("status") if isinstance(payload.get("status"), Mapping) else payload
    code = holder.get("statuscode") if isinstance(holder, Mapping) else None
    if isinstance(code, bool):
        return None
    if isinstance(code, int):
        return code
    if isinstance(code, str) and code.strip().isdigit():
        return int(code)
    return None


def _parse_envelope(payload: Any, *, method: str, url: str) -> tuple[Mapping[str, Any], Any]:
    """Split a v1 answer into (status, result); raise ``VirtuagymAPIError`` for error shapes."""
    if not isinstance(payload, Mapping):
        raise VirtuagymAPIError(
            "the answer is not a Virtuagym envelope", statuscode=None, method=method, url=url
        )
    status = payload.get("status")
    if not isinstance(status, Mapping):
        status = payload  # the flat error shape {statuscode, statusmessage}
    code = _statuscode(payload)
    raw_errors = payload.get("errors")
    errors: tuple[str, ...] = ()
    if isinstance(raw_errors, list):
        errors = tuple(str(item)[:200] for item in raw_errors)
    elif isinstance(raw_errors, Mapping):
        errors = tuple(f"{key}: {value}"[:200] for key, value in raw_errors.items())
    message = status.get("statusmessage")
    message_text = str(message)[:500] if message is not None else ""
    if code is None or code != 200 or errors:
        if code is None and not errors and ("result" in payload or "results" in payload):
            code = 200  # a success envelope without a status code: accept it
        else:
            raise VirtuagymAPIError(
                message_text, statuscode=code, method=method, url=url, errors=errors
            )
    result = payload.get("result", payload.get("results"))
    return status, result


def _next_invoice_page(status: Mapping[str, Any], page: int) -> int | None:
    """The next page number, from ``next_page`` (a plain int) or ``total_pages``."""
    raw = status.get("next_page")
    candidate: int | None = None
    if isinstance(raw, int) and not isinstance(raw, bool):
        candidate = raw
    elif isinstance(raw, str) and raw.strip().isdigit():
        candidate = int(raw)
    if candidate is not None:
        return candidate if candidate > page else None
    total = status.get("total_pages")
    if isinstance(total, int) and not isinstance(total, bool) and page < total:
        return page + 1
    return None


def _next_member_params(
    status: Mapping[str, Any], current: Mapping[str, str]
) -> dict[str, str] | None:
    """The query of the next member page from ``next_page`` (``"sync_from=...&from_id=..."``)."""
    remaining = status.get("results_remaining")
    if isinstance(remaining, int) and not isinstance(remaining, bool) and remaining <= 0:
        return None
    raw = status.get("next_page")
    if not isinstance(raw, str) or not raw.strip():
        return None
    text = raw.strip()
    if "?" in text:
        text = text.split("?", 1)[1]
    pairs = urllib.parse.parse_qsl(text, keep_blank_values=False)
    params = {key: value for key, value in pairs if key in ("sync_from", "from_id")}
    if not params:
        return None
    merged = {key: value for key, value in current.items() if key not in ("sync_from", "from_id")}
    merged.update(params)
    return merged


def _page_items(
    result: Any, *, page_label: str, limit: int
) -> tuple[list[Any], SourceRecordError | None]:
    if result is None:
        return [], None
    if isinstance(result, Mapping):
        result = [result]
    if not isinstance(result, list):
        return [], SourceRecordError(
            "the page's result is not a list",
            source=SOURCE,
            record_id=page_label,
            field="result",
            expected="an array of records",
            value=type(result).__name__,
        )
    if len(result) > limit:
        error = SourceRecordError(
            f"the page holds {len(result)} records; only the first {limit} were read",
            source=SOURCE,
            record_id=page_label,
            field="result",
            expected=f"at most {limit} records per page",
            value=len(result),
        )
        return result[:limit], error
    return result, None


def _decode(factory: Callable[[Any], T], raw: Any) -> T | SourceRecordError:
    try:
        return factory(raw)
    except SourceRecordError as exc:
        return exc


class _InvoicePager:
    """Page state of an invoice listing; feeds pages in and yields records out."""

    def __init__(
        self,
        settings: VirtuagymSettings,
        *,
        include_concepts: bool,
        known: Mapping[str, dt.datetime] | None,
        listing_stats: InvoiceStats,
    ):
        self.settings = settings
        self.include_concepts = include_concepts
        self.known = known
        self.stats = listing_stats
        self.page: int | None = 1

    def items(
        self, payload: Any, method: str, url: str
    ) -> Iterator[VirtuagymInvoice | SourceRecordError]:
        assert self.page is not None
        page = self.page
        status, result = _parse_envelope(payload, method=method, url=url)
        self.stats.pages += 1
        rows, error = _page_items(
            result, page_label=f"invoices page {page}", limit=self.settings.max_page_records
        )
        self.page = _next_invoice_page(status, page)
        if self.stats.pages >= self.settings.max_pages:
            self.page = None
        unit = self.settings.invoice_timestamps
        for raw in rows:
            item = _decode(lambda data: VirtuagymInvoice.from_json(data, unit=unit), raw)
            if isinstance(item, VirtuagymInvoice):
                if item.is_concept_invoice and not self.include_concepts:
                    self.stats.skipped_concepts += 1
                    continue
                if self.known is not None and not invoice_changed(item, self.known):
                    self.stats.unchanged += 1
                    continue
            yield item
        if error is not None:
            yield error


class _MemberPager:
    """Cursor state of a member listing, with the de-duplication of repeated rows."""

    def __init__(self, settings: VirtuagymSettings, params: dict[str, str], stats: MemberStats):
        self.settings = settings
        self.params: dict[str, str] | None = params
        self.stats = stats
        self._seen: dict[int, dt.datetime | None] = {}

    def items(self, payload: Any, method: str, url: str) -> Iterator[Member | SourceRecordError]:
        assert self.params is not None
        current = self.params
        status, result = _parse_envelope(payload, method=method, url=url)
        self.stats.pages += 1
        rows, error = _page_items(
            result,
            page_label=f"members page {self.stats.pages}",
            limit=self.settings.max_page_records,
        )
        following = _next_member_params(status, current)
        if following == current:
            raise VirtuagymAPIError(
                "the member cursor did not advance", statuscode=None, method=method, url=url
            )
        if self.stats.pages >= self.settings.max_pages:
            following = None
        self.params = following
        unit = self.settings.member_timestamps
        for raw in rows:
            item = _decode(lambda data: Member.from_json(data, unit=unit), raw)
            if isinstance(item, Member):
                edit = item.timestamp_edit
                if item.member_id in self._seen:
                    previous = self._seen[item.member_id]
                    if previous is None or edit is None or edit <= previous:
                        self.stats.duplicates += 1
                        continue
                self._seen[item.member_id] = edit
                if edit is not None and (self.stats.cursor is None or edit > self.stats.cursor):
                    self.stats.cursor = edit
            yield item
        if error is not None:
            yield error


@attrs.define
class InvoiceStats:
    """Counters of an invoice listing (filled while it is read)."""

    pages: int = 0
    skipped_concepts: int = 0
    unchanged: int = 0


@attrs.define
class MemberStats:
    """Counters of a member listing. ``cursor`` is the newest ``timestamp_edit`` seen:
    pass it as ``sync_from`` next time (Virtuagym's filter is inclusive, the repeat is
    harmless)."""

    pages: int = 0
    duplicates: int = 0
    cursor: dt.datetime | None = None


class InvoiceListing(Listing[VirtuagymInvoice]):
    """An invoice listing; ``stats`` counts pages, skipped concepts and unchanged invoices."""

    def __init__(self, items: Iterator[VirtuagymInvoice | SourceRecordError], stats: InvoiceStats):
        super().__init__(items)
        self.stats = stats


class MemberListing(Listing[Member]):
    """A member listing; ``stats`` holds the dropped repeats and the next ``sync_from``."""

    def __init__(self, items: Iterator[Member | SourceRecordError], stats: MemberStats):
        super().__init__(items)
        self.stats = stats


class AsyncInvoiceListing(AsyncListing[VirtuagymInvoice]):
    """Async twin of :class:`InvoiceListing`."""

    def __init__(
        self, items: AsyncIterator[VirtuagymInvoice | SourceRecordError], stats: InvoiceStats
    ):
        super().__init__(items)
        self.stats = stats


class AsyncMemberListing(AsyncListing[Member]):
    """Async twin of :class:`MemberListing`."""

    def __init__(self, items: AsyncIterator[Member | SourceRecordError], stats: MemberStats):
        super().__init__(items)
        self.stats = stats


def _ms(value: dt.datetime | int) -> str:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ConfigurationError("sync_from must be timezone-aware", key="sync_from")
        return str(int(value.timestamp() * 1000))
    return str(int(value))


def _single(result: Any, *, what: str, method: str, url: str) -> Any:
    # Members come as a one-element array, invoices as a bare object.
    if isinstance(result, list):
        if len(result) != 1:
            raise VirtuagymAPIError(
                f"expected one {what}, got {len(result)}", statuscode=None, method=method, url=url
            )
        return result[0]
    return result


class _ClientBase:
    """Everything the two clients share apart from I/O."""

    def __init__(
        self,
        credentials: VirtuagymCredentials,
        settings: VirtuagymSettings | None,
        clock: Clock | None,
        retry: RetryPolicy | None,
        pacer: Pacer | None,
    ):
        if not isinstance(credentials, VirtuagymCredentials):
            raise ConfigurationError(
                "expected VirtuagymCredentials", key="credentials", expected="VirtuagymCredentials"
            )
        self.credentials = credentials
        self.settings = settings or VirtuagymSettings()
        self.clock: Clock = clock or SystemClock()
        base_retry = retry or _default_retry()
        self.retry = attrs.evolve(
            base_retry, retry_statuses=base_retry.retry_statuses | self.settings.throttle_statuses
        )
        self.pacer = pacer or Pacer(self.settings.requests_per_hour, 3600.0, clock=self.clock)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(club_id={self.credentials.club_id})"

    @property
    def club_id(self) -> int:
        """The club this client reads."""
        return self.credentials.club_id

    def _path(self, tail: str) -> str:
        return f"/club/{self.credentials.club_id}/{tail}"

    def _auth(self, params: Mapping[str, str | int] | None = None) -> dict[str, str | int]:
        merged: dict[str, str | int] = dict(params or {})
        merged["api_key"] = self.credentials.api_key
        merged["club_secret"] = self.credentials.club_secret
        return merged

    def _session_kwargs(self) -> dict[str, Any]:
        return {
            "base_url": self.settings.base_url,
            "clock": self.clock,
            "retry": self.retry,
            "pacer": self.pacer,
            "redact_params": ("api_key", "club_secret"),
            "retry_response": _throttled_body(self.settings.throttle_statuses),
        }

    def _decode_body(self, response: httpx.Response, redacted_url: str) -> Any:
        return read_json(response, source=SOURCE, url=redacted_url, parse_float=Decimal)

    def _invoice_pager(
        self, include_concepts: bool, known: Mapping[str, dt.datetime] | None
    ) -> _InvoicePager:
        return _InvoicePager(
            self.settings,
            include_concepts=include_concepts,
            known=known,
            listing_stats=InvoiceStats(),
        )

    def _member_pager(
        self, sync_from: dt.datetime | int | None, with_memberships: bool
    ) -> _MemberPager:
        params: dict[str, str] = {}
        if sync_from is not None:
            params["sync_from"] = _ms(sync_from)
        if with_memberships:
            params["with"] = "memberships"
        return _MemberPager(self.settings, params, MemberStats())


class VirtuagymClient(_ClientBase):
    """Synchronous Virtuagym v1 client for one club.

    ``transport`` is an optional ``httpx.BaseTransport`` (for instance
    ``FakeVirtuagym().transport()`` in tests). ``clock`` drives pacing and backoff.
    ``session.calls`` counts the HTTP requests sent.
    ``http_client`` is your own ``httpx.Client`` instead (proxies, TLS verification,
    limits, event hooks); requests go through it and closing this client leaves it open.
    """

    def __init__(
        self,
        credentials: VirtuagymCredentials,
        *,
        transport: httpx.BaseTransport | None = None,
        http_client: httpx.Client | None = None,
        settings: VirtuagymSettings | None = None,
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

    def __enter__(self) -> VirtuagymClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _get(self, tail: str, params: Mapping[str, str | int] | None = None) -> tuple[Any, str]:
        response = self.session.get(self._path(tail), params=self._auth(params))
        url = self.session.redact(response.request.url)
        return self._decode_body(response, url), url

    def invoices(
        self,
        *,
        include_concepts: bool = False,
        known: Mapping[str, dt.datetime] | None = None,
    ) -> InvoiceListing:
        """All invoices (page by page, 500 per page), or only new/changed ones given ``known``.

        ``known`` maps an invoice ``guid`` to the ``timestamp_edit`` seen last time;
        unchanged invoices are then left out (every page is still read: Virtuagym has
        no "changed since" filter). Concept invoices (``id`` 0) are skipped unless
        ``include_concepts``. Malformed invoices end up in ``listing.errors``.
        """
        pager = self._invoice_pager(include_concepts, known)

        def generate() -> Iterator[VirtuagymInvoice | SourceRecordError]:
            while pager.page is not None:
                payload, url = self._get("invoices", {"page": pager.page})
                yield from pager.items(payload, "GET", url)

        return InvoiceListing(generate(), pager.stats)

    def invoice(self, guid: str) -> VirtuagymInvoice:
        """One invoice by its ``guid`` (Virtuagym does not resolve the numeric id)."""
        payload, url = self._get(f"invoices/{urllib.parse.quote(guid, safe='')}")
        _, result = _parse_envelope(payload, method="GET", url=url)
        data = _single(result, what="invoice", method="GET", url=url)
        return VirtuagymInvoice.from_json(data, unit=self.settings.invoice_timestamps)

    def members(
        self, *, sync_from: dt.datetime | int | None = None, with_memberships: bool = False
    ) -> MemberListing:
        """Members edited since ``sync_from`` (aware datetime or unix ms), repeats dropped.

        Follows Virtuagym's ``next_page`` cursor; rows repeated at page boundaries are
        left out (a later, newer version of a member is kept). ``listing.stats.cursor``
        is the value to pass as ``sync_from`` next time.
        """
        pager = self._member_pager(sync_from, with_memberships)

        def generate() -> Iterator[Member | SourceRecordError]:
            while pager.params is not None:
                payload, url = self._get("member", dict(pager.params))
                yield from pager.items(payload, "GET", url)

        return MemberListing(generate(), pager.stats)

    def member(self, member_id: int) -> Member:
        """One member by ``member_id``."""
        payload, url = self._get(f"member/{int(member_id)}")
        _, result = _parse_envelope(payload, method="GET", url=url)
        data = _single(result, what="member", method="GET", url=url)
        return Member.from_json(data, unit=self.settings.member_timestamps)

    def club_taxes(self) -> Listing[ClubTax]:
        """The club's VAT categories (``/club-taxes``, not paginated)."""
        payload, url = self._get("club-taxes")
        return Listing(_flat_items(payload, url, ClubTax.from_json, "club-taxes", self.settings))

    def income_categories(self) -> Listing[IncomeCategory]:
        """The club's income categories (``/income-categories``, not paginated)."""
        payload, url = self._get("income-categories")
        return Listing(
            _flat_items(payload, url, IncomeCategory.from_json, "income-categories", self.settings)
        )


class AsyncVirtuagymClient(_ClientBase):
    """Asynchronous twin of :class:`VirtuagymClient` (same methods; ``await`` single reads,
    ``async for`` listings)."""

    def __init__(
        self,
        credentials: VirtuagymCredentials,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        http_client: httpx.AsyncClient | None = None,
        settings: VirtuagymSettings | None = None,
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

    async def __aenter__(self) -> AsyncVirtuagymClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def _get(
        self, tail: str, params: Mapping[str, str | int] | None = None
    ) -> tuple[Any, str]:
        response = await self.session.get(self._path(tail), params=self._auth(params))
        url = self.session.redact(response.request.url)
        return self._decode_body(response, url), url

    def invoices(
        self,
        *,
        include_concepts: bool = False,
        known: Mapping[str, dt.datetime] | None = None,
    ) -> AsyncInvoiceListing:
        """See :meth:`VirtuagymClient.invoices`."""
        pager = self._invoice_pager(include_concepts, known)

        async def generate() -> AsyncIterator[VirtuagymInvoice | SourceRecordError]:
            while pager.page is not None:
                payload, url = await self._get("invoices", {"page": pager.page})
                for item in pager.items(payload, "GET", url):
                    yield item

        return AsyncInvoiceListing(generate(), pager.stats)

    async def invoice(self, guid: str) -> VirtuagymInvoice:
        """See :meth:`VirtuagymClient.invoice`."""
        payload, url = await self._get(f"invoices/{urllib.parse.quote(guid, safe='')}")
        _, result = _parse_envelope(payload, method="GET", url=url)
        data = _single(result, what="invoice", method="GET", url=url)
        return VirtuagymInvoice.from_json(data, unit=self.settings.invoice_timestamps)

    def members(
        self, *, sync_from: dt.datetime | int | None = None, with_memberships: bool = False
    ) -> AsyncMemberListing:
        """See :meth:`VirtuagymClient.members`."""
        pager = self._member_pager(sync_from, with_memberships)

        async def generate() -> AsyncIterator[Member | SourceRecordError]:
            while pager.params is not None:
                payload, url = await self._get("member", dict(pager.params))
                for item in pager.items(payload, "GET", url):
                    yield item

        return AsyncMemberListing(generate(), pager.stats)

    async def member(self, member_id: int) -> Member:
        """See :meth:`VirtuagymClient.member`."""
        payload, url = await self._get(f"member/{int(member_id)}")
        _, result = _parse_envelope(payload, method="GET", url=url)
        data = _single(result, what="member", method="GET", url=url)
        return Member.from_json(data, unit=self.settings.member_timestamps)

    async def club_taxes(self) -> Listing[ClubTax]:
        """See :meth:`VirtuagymClient.club_taxes` (read at once; the list is small)."""
        payload, url = await self._get("club-taxes")
        return Listing(_flat_items(payload, url, ClubTax.from_json, "club-taxes", self.settings))

    async def income_categories(self) -> Listing[IncomeCategory]:
        """See :meth:`VirtuagymClient.income_categories`."""
        payload, url = await self._get("income-categories")
        return Listing(
            _flat_items(payload, url, IncomeCategory.from_json, "income-categories", self.settings)
        )


def _flat_items(
    payload: Any,
    url: str,
    factory: Callable[[Any], T],
    label: str,
    settings: VirtuagymSettings,
) -> Iterator[T | SourceRecordError]:
    _, result = _parse_envelope(payload, method="GET", url=url)
    rows, error = _page_items(result, page_label=label, limit=settings.max_page_records)
    items = [_decode(factory, raw) for raw in rows]
    if error is not None:
        items.append(error)
    return iter(items)
