"""A small HTTP helper shared by the source connectors (Virtuagym, Eduframe, Coachview, Pay.).

It knows nothing about Exact Online. What it does, in one place for every source:

* **Retries with backoff.** :class:`RetryPolicy` decides whether and how long to wait
  after a failed attempt. By default only reads (``GET``/``HEAD``) are retried on
  connection errors, timeouts, 429 and 5xx; the random part of the backoff ("full
  jitter") lives in one replaceable callable, so tests are deterministic.
* **Retry-After.** A ``Retry-After`` header (seconds or an HTTP date) on a 429/503 is
  honoured instead of the backoff; a wait longer than ``RetryPolicy.max_retry_after``
  raises :class:`SourceRateLimitError` at once rather than blocking for hours.
* **Pacing.** :class:`Pacer` keeps a client under *N requests per window* (Virtuagym:
  500 per hour; Eduframe: 500 per 5 minutes) by sleeping on the injected
  :class:`~exactbridge.clock.Clock` before a request would exceed the budget.
* **Errors.** Every failure leaves as a :class:`~exactbridge.errors.SourceAPIError`
  (never a bare ``httpx`` exception); URLs in messages have secret query parameters
  (``api_key``, ``club_secret``...) replaced by ``***``.
* **Records.** :class:`RecordReader` reads typed fields from one JSON object and raises
  :class:`~exactbridge.errors.SourceRecordError` naming the record and the field.
* **Listings.** :class:`Listing` / :class:`AsyncListing` wrap a stream of records in
  which malformed records arrive as :class:`~exactbridge.errors.SourceRecordError`
  values: iterating yields the good records, the bad ones are collected in
  ``listing.errors``, so one hostile record never ends a listing.

The sync :class:`HttpSession` and the async :class:`AsyncHttpSession` have the same
surface and share the pure decision functions::

    from exactbridge.sources._http import HttpSession, Pacer, RetryPolicy

    session = HttpSession(
        "virtuagym",
        base_url="https://api.virtuagym.com/api/v1",
        pacer=Pacer(500, 3600.0, clock=clock),
        redact_params=("api_key", "club_secret"),
        clock=clock,
    )
    response = session.get("/club/1/invoices", params={"page": 1})
    session.calls  # HTTP requests actually sent, retries included
"""

from __future__ import annotations

import collections
import datetime as dt
import email.utils
import json
import logging
import random
import threading
from collections.abc import (
    AsyncIterator,
    Callable,
    Collection,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from decimal import Decimal
from typing import Any, Generic, TypeVar

import attrs
import httpx

from exactbridge import _logsafety
from exactbridge.clock import Clock, SystemClock
from exactbridge.errors import ConfigurationError, SourceAPIError, SourceRecordError

_log = logging.getLogger("exactbridge.sources")

__all__ = [
    "DEFAULT_RETRYABLE_STATUSES",
    "NO_RETRIES",
    "AsyncHttpSession",
    "AsyncListing",
    "HttpSession",
    "Listing",
    "Pacer",
    "RecordReader",
    "RetryPolicy",
    "SourceRateLimitError",
    "full_jitter",
    "no_jitter",
    "parse_retry_after",
    "read_json",
    "redact_url",
]

T = TypeVar("T")

#: Statuses retried by default: rate limited, and the transient server errors.
DEFAULT_RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})

Params = Mapping[str, str | int | Sequence[str]]


def _int_set(values: Iterable[int]) -> frozenset[int]:
    return frozenset(values)


def _upper_set(values: Iterable[str]) -> frozenset[str]:
    return frozenset(value.upper() for value in values)


def full_jitter(ceiling: float) -> float:
    """Return a random wait between 0 and ``ceiling`` (the default jitter)."""
    # Spreading retries needs no cryptographic randomness.
    return random.uniform(0.0, ceiling)


def no_jitter(ceiling: float) -> float:
    """Return ``ceiling`` unchanged: deterministic backoff for tests."""
    return ceiling


class SourceRateLimitError(SourceAPIError):
    """A source refused a request for too many requests and the wait was not allowed.

    ``retry_after`` is the wait in seconds the source asked for, if it said.
    """

    def __init__(
        self,
        message: str,
        *,
        source: str,
        status: int | None = None,
        method: str = "",
        url: str = "",
        retry_after: float | None = None,
    ):
        self.retry_after = retry_after
        if retry_after is not None:
            message = f"{message} (retry after {retry_after:g} s)"
        super().__init__(message, source=source, status=status, method=method, url=url)


@attrs.frozen
class RetryPolicy:
    """How often and how patiently a source client retries.

    ``attempts`` counts the first try (4 means up to three retries). ``backoff`` is
    the first wait in seconds, doubled each retry up to ``max_backoff``; ``jitter``
    maps that ceiling to the actual wait (:func:`full_jitter` by default,
    :func:`no_jitter` in tests). ``retry_statuses`` are the HTTP statuses worth
    another try; ``retry_methods`` the methods that may be repeated (writes are not:
    their outcome would be unknown). A ``Retry-After`` above ``max_retry_after``
    seconds raises :class:`SourceRateLimitError` instead of waiting.

    >>> RetryPolicy(jitter=no_jitter).backoff_for(3)
    4.0
    """

    attempts: int = attrs.field(default=4, validator=attrs.validators.ge(1))
    backoff: float = attrs.field(default=1.0, validator=attrs.validators.ge(0))
    max_backoff: float = attrs.field(default=60.0, validator=attrs.validators.ge(0))
    jitter: Callable[[float], float] = attrs.field(default=full_jitter, eq=False, repr=False)
    retry_statuses: frozenset[int] = attrs.field(
        default=DEFAULT_RETRYABLE_STATUSES, converter=_int_set
    )
    retry_methods: frozenset[str] = attrs.field(
        default=frozenset({"GET", "HEAD"}), converter=_upper_set
    )
    max_retry_after: float = attrs.field(default=3600.0, validator=attrs.validators.ge(0))

    def backoff_for(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        ceiling = min(self.max_backoff, self.backoff * (2 ** (attempt - 1)))
        return max(0.0, min(self.jitter(ceiling), self.max_backoff))

    def may_retry(self, method: str, attempt: int) -> bool:
        """Whether attempt number ``attempt`` of ``method`` may be followed by another."""
        return method.upper() in self.retry_methods and attempt < self.attempts


#: Never retry: for tests that count calls.
NO_RETRIES = RetryPolicy(attempts=1, backoff=0.0, max_backoff=0.0, jitter=no_jitter)


def parse_retry_after(value: str | None, now: dt.datetime) -> float | None:
    """Seconds to wait according to a ``Retry-After`` header value, or ``None``.

    Accepts delta-seconds (``"30"``) and an HTTP date; a date in the past gives 0.

    >>> import datetime as dt
    >>> parse_retry_after("30", dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc))
    30.0
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if seconds == seconds else None  # NaN check
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return max(0.0, (when - now).total_seconds())


def redact_url(url: httpx.URL | str, secret_params: Collection[str]) -> str:
    """Return ``url`` as text with the values of ``secret_params`` replaced by ``***``.

    >>> redact_url("https://x.test/a?api_key=abc&page=2", ["api_key"])
    'https://x.test/a?api_key=***&page=2'
    """
    parsed = httpx.URL(str(url))
    if not secret_params or not parsed.query:
        return str(parsed)
    lowered = {name.lower() for name in secret_params}
    pairs = [
        (key, "***" if key.lower() in lowered else value)
        for key, value in parsed.params.multi_items()
    ]
    # Build the query by hand so "***" stays readable (no percent-encoding).
    query = "&".join(f"{key}={value}" for key, value in pairs)
    return str(parsed.copy_with(query=None)) + "?" + query


def read_json(
    response: httpx.Response,
    *,
    source: str,
    url: str | None = None,
    parse_float: Callable[[str], Any] = Decimal,
) -> Any:
    """Decode a response body as JSON with exact decimals; raise ``SourceAPIError`` if it is not.

    JSON numbers with a fraction become :class:`decimal.Decimal` (never ``float``).
    ``url`` is the (redacted) URL to name in the error message.
    """
    try:
        return json.loads(response.content, parse_float=parse_float)
    except (ValueError, UnicodeDecodeError) as exc:
        raise SourceAPIError(
            "the answer is not valid JSON",
            source=source,
            status=response.status_code,
            method=response.request.method,
            url=url if url is not None else str(response.request.url.copy_with(query=None)),
        ) from exc


class Pacer:
    """Keeps requests under ``max_requests`` per sliding ``window`` seconds.

    Call :meth:`delay` to learn how long to wait before the next request and
    :meth:`record` when it is sent (the sessions do both). :meth:`pause_until`
    makes every later request wait until an instant (a source's ``Retry-After``).
    Thread-safe; one pacer may be shared by several clients using the same key.

    >>> from exactbridge.clock import SystemClock
    >>> pacer = Pacer(500, 3600.0, clock=SystemClock())
    >>> pacer.delay()
    0.0
    """

    def __init__(self, max_requests: int, window: float, *, clock: Clock | None = None):
        if max_requests < 1 or window <= 0:
            raise ValueError("Pacer needs max_requests >= 1 and window > 0")
        self.max_requests = max_requests
        self.window = float(window)
        self._clock: Clock = clock or SystemClock()
        self._sent: collections.deque[dt.datetime] = collections.deque()
        self._paused_until: dt.datetime | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Pacer({self.max_requests} per {self.window:g} s)"

    def delay(self) -> float:
        """Seconds to wait before the next request may be sent (0 when it may go now)."""
        now = self._clock.now()
        with self._lock:
            horizon = now - dt.timedelta(seconds=self.window)
            while self._sent and self._sent[0] <= horizon:
                self._sent.popleft()
            wait = 0.0
            if len(self._sent) >= self.max_requests:
                oldest = self._sent[len(self._sent) - self.max_requests]
                wait = (oldest - horizon).total_seconds()
            if self._paused_until is not None:
                wait = max(wait, (self._paused_until - now).total_seconds())
            return max(0.0, wait)

    def record(self) -> None:
        """Note that a request is being sent now."""
        now = self._clock.now()
        with self._lock:
            self._sent.append(now)

    def pause_until(self, when: dt.datetime) -> None:
        """Hold every request until ``when`` (aware UTC)."""
        with self._lock:
            if self._paused_until is None or when > self._paused_until:
                self._paused_until = when


@attrs.frozen
class _Decision:
    """What to do after one attempt: ``wait`` seconds and retry, or stop."""

    retry: bool
    wait: float = 0.0
    retry_after: float | None = None


def _decide_response(
    policy: RetryPolicy,
    response: httpx.Response,
    attempt: int,
    now: dt.datetime,
    extra_retry: bool,
) -> _Decision:
    method = response.request.method
    retryable = extra_retry or response.status_code in policy.retry_statuses
    if not retryable:
        return _Decision(retry=False)
    retry_after = parse_retry_after(response.headers.get("Retry-After"), now)
    if not policy.may_retry(method, attempt) and not (
        # A 429 was not processed at all, so any method may try again.
        response.status_code == 429 and attempt < policy.attempts
    ):
        return _Decision(retry=False, retry_after=retry_after)
    if retry_after is not None:
        if retry_after > policy.max_retry_after:
            return _Decision(retry=False, retry_after=retry_after)
        return _Decision(retry=True, wait=retry_after, retry_after=retry_after)
    return _Decision(retry=True, wait=policy.backoff_for(attempt))


class _SessionBase:
    """State and pure steps shared by the sync and async sessions."""

    def __init__(
        self,
        source: str,
        *,
        base_url: str,
        headers: Mapping[str, str] | None,
        clock: Clock | None,
        retry: RetryPolicy | None,
        pacer: Pacer | None,
        redact_params: Collection[str],
        retry_response: Callable[[httpx.Response], bool] | None,
        timeout: float,
        describe_error: Callable[[httpx.Response], str] | None = None,
    ):
        _logsafety.install()
        self.source = source
        self._describe_error = describe_error
        self.base_url = base_url.rstrip("/")
        self.clock: Clock = clock or SystemClock()
        self.retry = retry or RetryPolicy()
        self.pacer = pacer
        self.redact_params = tuple(redact_params)
        self._retry_response = retry_response
        self._headers = dict(headers or {})
        self._timeout = timeout
        #: HTTP requests sent so far (retries included).
        self.calls = 0

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.source!r}, base_url={self.base_url!r})"

    def url_for(self, path_or_url: str) -> str:
        """Join a path onto the base URL; absolute URLs are returned unchanged."""
        if path_or_url.startswith(("http://", "https://")):
            return path_or_url
        return f"{self.base_url}/{path_or_url.lstrip('/')}"

    def _announce(self, method: str, url: str, why: str, wait: float) -> None:
        """Say at INFO what a wait is for and until when (never with the query string)."""
        if wait <= 0:
            return
        until = self.clock.now() + dt.timedelta(seconds=wait)
        _log.info(
            "%s %s %s: %s; waiting %.1f s until %s UTC",
            self.source,
            method,
            httpx.URL(url).path,
            why,
            wait,
            until.astimezone(dt.timezone.utc).strftime("%H:%M:%S"),
        )

    def redact(self, url: httpx.URL | str) -> str:
        """The URL as text with secret query parameters masked."""
        return redact_url(url, self.redact_params)

    def _decide(self, response: httpx.Response, attempt: int) -> _Decision:
        extra = False
        if self._retry_response is not None and response.status_code < 400:
            extra = self._retry_response(response)
        return _decide_response(self.retry, response, attempt, self.clock.now(), extra)

    def _note_retry_after(self, seconds: float | None) -> None:
        if seconds is not None and self.pacer is not None:
            self.pacer.pause_until(self.clock.now() + dt.timedelta(seconds=seconds))

    def _final_error(self, response: httpx.Response, decision: _Decision) -> SourceAPIError:
        url = self.redact(response.request.url)
        method = response.request.method
        status = response.status_code
        if status == 429 or decision.retry_after is not None:
            return SourceRateLimitError(
                "too many requests",
                source=self.source,
                status=status,
                method=method,
                url=url,
                retry_after=decision.retry_after,
            )
        message = _short_reason(response)
        if self._describe_error is not None:
            try:
                message = self._describe_error(response) or message
            except Exception:  # a describer must never hide the real error
                message = _short_reason(response)
        return SourceAPIError(message, source=self.source, status=status, method=method, url=url)

    def _transport_error(self, method: str, url: str, exc: Exception) -> SourceAPIError:
        return SourceAPIError(
            f"no answer ({type(exc).__name__})",
            source=self.source,
            status=None,
            method=method,
            url=self.redact(url),
        )


def exclusive_transport(transport: object, http_client: object) -> None:
    """Refuse a transport and an http_client together: the client already has one."""
    if transport is not None and http_client is not None:
        raise ConfigurationError(
            "pass either http_client or transport, not both",
            key="transport",
            expected="the transport set on the httpx client you pass",
        )


def _short_reason(response: httpx.Response) -> str:
    reason = response.reason_phrase or "error"
    return f"the request failed ({reason})"


class HttpSession(_SessionBase):
    """Synchronous HTTP with pacing, retries and error wrapping for one source.

    ``transport`` is any ``httpx.BaseTransport`` (a fake's, in tests); ``http_client``
    is your own ``httpx.Client`` instead (proxies, TLS verification, limits, event hooks;
    its timeout applies and the session does not close it); ``headers`` are
    sent with every request (put the bearer token here: it never appears in an error).
    ``retry_response`` may flag a successful-looking answer as retryable (Virtuagym
    reports throttling inside a 200 body); ``describe_error`` turns an error answer
    into the message of the raised error (the vendor's own text). :meth:`request`
    returns the final ``httpx.Response`` when its status is below 400, else raises
    ``SourceAPIError``.
    """

    def __init__(
        self,
        source: str,
        *,
        base_url: str,
        transport: httpx.BaseTransport | None = None,
        http_client: httpx.Client | None = None,
        headers: Mapping[str, str] | None = None,
        clock: Clock | None = None,
        retry: RetryPolicy | None = None,
        pacer: Pacer | None = None,
        redact_params: Collection[str] = (),
        retry_response: Callable[[httpx.Response], bool] | None = None,
        timeout: float = 30.0,
        describe_error: Callable[[httpx.Response], str] | None = None,
    ):
        super().__init__(
            source,
            base_url=base_url,
            headers=headers,
            clock=clock,
            retry=retry,
            pacer=pacer,
            redact_params=redact_params,
            retry_response=retry_response,
            timeout=timeout,
            describe_error=describe_error,
        )
        exclusive_transport(transport, http_client)
        self._owns_client = http_client is None
        self._client = (
            http_client
            if http_client is not None
            else httpx.Client(transport=transport, timeout=timeout)
        )

    def close(self) -> None:
        """Close the underlying connection pool (not that of an ``http_client`` you passed)."""
        if self._owns_client:
            self._client.close()

    def __enter__(self) -> HttpSession:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def get(self, path_or_url: str, *, params: Params | None = None) -> httpx.Response:
        """Send a GET (see :meth:`request`)."""
        return self.request("GET", path_or_url, params=params)

    def request(
        self,
        method: str,
        path_or_url: str,
        *,
        params: Params | None = None,
        json_body: Any = None,
    ) -> httpx.Response:
        """Send a request, pacing and retrying as configured; return the final answer."""
        url = self.url_for(path_or_url)
        attempt = 0
        while True:
            attempt += 1
            if self.pacer is not None:
                wait = self.pacer.delay()
                if wait > 0:
                    self._announce(method, url, "pacing to the source's request limit", wait)
                    self.clock.sleep(wait)
                self.pacer.record()
            self.calls += 1
            try:
                response = self._client.request(
                    method, url, params=params, json=json_body, headers=self._headers
                )
            except httpx.HTTPError as exc:
                if self.retry.may_retry(method, attempt):
                    backoff = self.retry.backoff_for(attempt)
                    self._announce(
                        method,
                        url,
                        f"{type(exc).__name__}, retry {attempt}/{self.retry.attempts - 1}",
                        backoff,
                    )
                    self.clock.sleep(backoff)
                    continue
                raise self._transport_error(method, url, exc) from exc
            except (ValueError, TypeError) as exc:  # httpx rejects a malformed URL or param
                raise self._transport_error(method, url, exc) from exc
            decision = self._decide(response, attempt)
            if decision.retry:
                self._note_retry_after(decision.retry_after)
                self._announce(
                    method, url, f"answered {response.status_code}, retrying", decision.wait
                )
                self.clock.sleep(decision.wait)
                continue
            if response.status_code >= 400 or decision.retry_after is not None:
                raise self._final_error(response, decision)
            return response


class AsyncHttpSession(_SessionBase):
    """The asynchronous twin of :class:`HttpSession` (same arguments, ``await`` the calls)."""

    def __init__(
        self,
        source: str,
        *,
        base_url: str,
        transport: httpx.AsyncBaseTransport | None = None,
        http_client: httpx.AsyncClient | None = None,
        headers: Mapping[str, str] | None = None,
        clock: Clock | None = None,
        retry: RetryPolicy | None = None,
        pacer: Pacer | None = None,
        redact_params: Collection[str] = (),
        retry_response: Callable[[httpx.Response], bool] | None = None,
        timeout: float = 30.0,
        describe_error: Callable[[httpx.Response], str] | None = None,
    ):
        super().__init__(
            source,
            base_url=base_url,
            headers=headers,
            clock=clock,
            retry=retry,
            pacer=pacer,
            redact_params=redact_params,
            retry_response=retry_response,
            timeout=timeout,
            describe_error=describe_error,
        )
        exclusive_transport(transport, http_client)
        self._owns_client = http_client is None
        self._client = (
            http_client
            if http_client is not None
            else httpx.AsyncClient(transport=transport, timeout=timeout)
        )

    async def aclose(self) -> None:
        """Close the underlying connection pool (not that of an ``http_client`` you passed)."""
        if self._owns_client:
            await self._client.aclose()

    async def __aenter__(self) -> AsyncHttpSession:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def get(self, path_or_url: str, *, params: Params | None = None) -> httpx.Response:
        """Send a GET (see :meth:`request`)."""
        return await self.request("GET", path_or_url, params=params)

    async def request(
        self,
        method: str,
        path_or_url: str,
        *,
        params: Params | None = None,
        json_body: Any = None,
    ) -> httpx.Response:
        """Send a request, pacing and retrying as configured; return the final answer."""
        url = self.url_for(path_or_url)
        attempt = 0
        while True:
            attempt += 1
            if self.pacer is not None:
                wait = self.pacer.delay()
                if wait > 0:
                    self._announce(method, url, "pacing to the source's request limit", wait)
                    await self.clock.asleep(wait)
                self.pacer.record()
            self.calls += 1
            try:
                response = await self._client.request(
                    method, url, params=params, json=json_body, headers=self._headers
                )
            except httpx.HTTPError as exc:
                if self.retry.may_retry(method, attempt):
                    backoff = self.retry.backoff_for(attempt)
                    self._announce(
                        method,
                        url,
                        f"{type(exc).__name__}, retry {attempt}/{self.retry.attempts - 1}",
                        backoff,
                    )
                    await self.clock.asleep(backoff)
                    continue
                raise self._transport_error(method, url, exc) from exc
            except (ValueError, TypeError) as exc:
                raise self._transport_error(method, url, exc) from exc
            decision = self._decide(response, attempt)
            if decision.retry:
                self._note_retry_after(decision.retry_after)
                self._announce(
                    method, url, f"answered {response.status_code}, retrying", decision.wait
                )
                await self.clock.asleep(decision.wait)
                continue
            if response.status_code >= 400 or decision.retry_after is not None:
                raise self._final_error(response, decision)
            return response


class Listing(Generic[T]):
    """The records of a listing, read lazily; malformed records are collected, not raised.

    Iterate it for the good records; afterwards ``errors`` holds one
    :class:`~exactbridge.errors.SourceRecordError` per record that could not be read
    (naming the record and the field). A listing can be iterated once.
    API errors (the source refused a page) still raise :class:`SourceAPIError`.

    >>> listing = Listing(iter([1, 2]))
    >>> list(listing), listing.errors
    ([1, 2], [])
    """

    def __init__(self, items: Iterator[T | SourceRecordError]):
        self._items = items
        #: Records that could not be read, in the order met.
        self.errors: list[SourceRecordError] = []

    def __iter__(self) -> Iterator[T]:
        for item in self._items:
            if isinstance(item, SourceRecordError):
                self.errors.append(item)
            else:
                yield item

    def all(self) -> list[T]:
        """Read every record into a list (errors end up in ``errors``)."""
        return list(self)


class AsyncListing(Generic[T]):
    """The asynchronous twin of :class:`Listing`: ``async for`` it, then look at ``errors``."""

    def __init__(self, items: AsyncIterator[T | SourceRecordError]):
        self._items = items
        #: Records that could not be read, in the order met.
        self.errors: list[SourceRecordError] = []

    async def __aiter__(self) -> AsyncIterator[T]:
        async for item in self._items:
            if isinstance(item, SourceRecordError):
                self.errors.append(item)
            else:
                yield item

    async def all(self) -> list[T]:
        """Read every record into a list (errors end up in ``errors``)."""
        return [item async for item in self]


def _shown(value: Any) -> Any:
    """A value fit for an error message: long texts and containers are cut short."""
    text = repr(value)
    if len(text) > 80:
        return text[:77] + "..."
    return value


class RecordReader:
    """Reads typed fields out of one decoded JSON object, raising ``SourceRecordError``.

    Every failure names the source, the record (``record_id``), the field and what was
    expected, so a listing can collect it and go on with the next record. Integers
    given as numeric strings are accepted (sources mix both); ``bool`` is never taken
    for a number; a ``float`` is refused for money (decode JSON with
    ``parse_float=Decimal``). Each reader has a required form (``integer``) and an
    optional form (``opt_integer``, ``None`` when absent or ``null``).

    >>> reader = RecordReader("demo", {"id": "7", "price": Decimal("9.95")}, id_field="id")
    >>> reader.record_id, reader.integer("id"), reader.decimal("price")
    ('7', 7, Decimal('9.95'))
    """

    def __init__(
        self,
        source: str,
        data: Any,
        *,
        id_field: str | None = None,
        record_id: str | None = None,
        prefix: str = "",
    ):
        self.source = source
        self.prefix = prefix
        if record_id is None:
            record_id = "?"
            if isinstance(data, Mapping) and id_field is not None:
                raw = data.get(id_field)
                if isinstance(raw, (str, int)) and not isinstance(raw, bool) and str(raw):
                    record_id = str(raw)[:80]
        self.record_id = record_id
        if not isinstance(data, Mapping):
            raise self.error("", "the record is not a JSON object", "an object", data)
        self.data: Mapping[str, Any] = data

    def error(self, field: str, message: str, expected: str, value: Any) -> SourceRecordError:
        """Build the typed error for ``field`` (prefixed with the reader's path)."""
        name = f"{self.prefix}{field}" if field else (self.prefix.rstrip(".") or "<record>")
        return SourceRecordError(
            message,
            source=self.source,
            record_id=self.record_id,
            field=name,
            expected=expected,
            value=_shown(value),
        )

    def has(self, field: str) -> bool:
        """Whether ``field`` is present and not ``null``."""
        return self.data.get(field) is not None

    def _required(self, field: str, expected: str) -> Any:
        value = self.data.get(field)
        if value is None:
            raise self.error(field, "missing", expected, value)
        return value

    # -- integers ---------------------------------------------------------------------
    def _to_int(self, field: str, value: Any) -> int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, Decimal) and value.is_finite() and value == int(value):
            return int(value)
        if isinstance(value, str):
            text = value.strip()
            if text.lstrip("-").isdigit() and len(text) < 40:
                return int(text)
        raise self.error(field, "wrong type", "an integer", value)

    def integer(self, field: str) -> int:
        """A required integer (``int`` or a numeric string)."""
        return self._to_int(field, self._required(field, "an integer"))

    def opt_integer(self, field: str) -> int | None:
        """An optional integer."""
        value = self.data.get(field)
        return None if value is None or value == "" else self._to_int(field, value)

    # -- text -------------------------------------------------------------------------
    def _to_text(self, field: str, value: Any, coerce: bool) -> str:
        if isinstance(value, str):
            return value
        if coerce and isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        raise self.error(field, "wrong type", "a string", value)

    def text(self, field: str, *, coerce: bool = False) -> str:
        """A required string; with ``coerce`` an integer is accepted and turned into text."""
        return self._to_text(field, self._required(field, "a string"), coerce)

    def opt_text(self, field: str, *, coerce: bool = False) -> str | None:
        """An optional string."""
        value = self.data.get(field)
        return None if value is None else self._to_text(field, value, coerce)

    # -- decimals ---------------------------------------------------------------------
    def _to_decimal(self, field: str, value: Any) -> Decimal:
        if isinstance(value, Decimal):
            if value.is_finite():
                return value
            raise self.error(field, "not a finite number", "a decimal number", value)
        if isinstance(value, int) and not isinstance(value, bool):
            return Decimal(value)
        if isinstance(value, str) and len(value) < 60:
            try:
                result = Decimal(value.strip())
            except ArithmeticError:
                result = None
            if result is not None and result.is_finite():
                return result
            raise self.error(field, "not a decimal number", "a decimal number", value)
        raise self.error(field, "wrong type", "a decimal number", value)

    def decimal(self, field: str) -> Decimal:
        """A required exact :class:`~decimal.Decimal` (JSON number or decimal string)."""
        return self._to_decimal(field, self._required(field, "a decimal number"))

    def opt_decimal(self, field: str) -> Decimal | None:
        """An optional decimal (an empty string counts as absent)."""
        value = self.data.get(field)
        return None if value is None or value == "" else self._to_decimal(field, value)

    # -- booleans ---------------------------------------------------------------------
    def flag(self, field: str, *, default: bool | None = None) -> bool:
        """A boolean (also 0/1 and "0"/"1"/"true"/"false"); ``default`` when absent.

        Without a ``default`` the field is required.
        """
        value = self.data.get(field)
        if value is None:
            if default is None:
                raise self.error(field, "missing", "a boolean", value)
            return default
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.strip().lower() in ("0", "1", "true", "false"):
            return value.strip().lower() in ("1", "true")
        raise self.error(field, "wrong type", "a boolean", value)

    # -- dates and times --------------------------------------------------------------
    def _to_date(self, field: str, value: Any) -> dt.date:
        if isinstance(value, str) and len(value) == 10:
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                pass
        raise self.error(field, "not a date", "a date YYYY-MM-DD", value)

    def date(self, field: str) -> dt.date:
        """A required calendar date ``YYYY-MM-DD``."""
        return self._to_date(field, self._required(field, "a date YYYY-MM-DD"))

    def opt_date(self, field: str) -> dt.date | None:
        """An optional date (an empty string and ``0000-00-00`` count as absent)."""
        value = self.data.get(field)
        if value is None or value in ("", "0000-00-00"):
            return None
        return self._to_date(field, value)

    def _to_datetime(self, field: str, value: Any) -> dt.datetime:
        if isinstance(value, str) and 10 <= len(value) <= 40:
            text = value.strip()
            if text.endswith(("Z", "z")):
                text = text[:-1] + "+00:00"
            try:
                parsed = dt.datetime.fromisoformat(text)
            except ValueError:
                parsed = None
            if parsed is not None:
                if parsed.tzinfo is None:
                    parsed = parsed.replace(tzinfo=dt.timezone.utc)
                return parsed
        raise self.error(field, "not a timestamp", "an ISO-8601 timestamp", value)

    def datetime(self, field: str) -> dt.datetime:
        """A required aware datetime from ISO-8601 text (naive values count as UTC)."""
        return self._to_datetime(field, self._required(field, "an ISO-8601 timestamp"))

    def opt_datetime(self, field: str) -> dt.datetime | None:
        """An optional ISO-8601 datetime."""
        value = self.data.get(field)
        return None if value is None or value == "" else self._to_datetime(field, value)

    # -- containers -------------------------------------------------------------------
    def array(self, field: str, *, required: bool = True) -> list[Any]:
        """A JSON array; ``[]`` when absent and not ``required``."""
        value = self.data.get(field)
        if value is None:
            if required:
                raise self.error(field, "missing", "an array", value)
            return []
        if isinstance(value, list):
            return value
        raise self.error(field, "wrong type", "an array", value)

    def opt_object(self, field: str) -> Mapping[str, Any] | None:
        """An optional JSON object."""
        value = self.data.get(field)
        if value is None:
            return None
        if isinstance(value, Mapping):
            return value
        raise self.error(field, "wrong type", "an object", value)

    def extras(self, known: Collection[str]) -> dict[str, Any]:
        """The fields not in ``known``: unknown fields are kept aside, never an error."""
        return {key: value for key, value in self.data.items() if key not in known}

    def child(self, data: Any, prefix: str) -> RecordReader:
        """A reader for a nested object whose errors still name this record."""
        return RecordReader(
            self.source, data, record_id=self.record_id, prefix=self.prefix + prefix
        )
