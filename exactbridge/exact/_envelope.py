"""Exact Online response bodies: JSON, envelopes, error bodies and dates (pure, no I/O).

Exact speaks OData v2 "verbose" JSON. A collection arrives as
``{"d": {"results": [...], "__next": "<url>"}}`` (``__next`` only when there is a
next page, ``__count`` with ``$inlinecount``), sometimes as a bare ``{"d": [...]}``;
a single entity as ``{"d": {...}}``. Errors arrive as
``{"error": {"code": "", "message": {"lang": "", "value": "<text>"}}}`` (the token
endpoint uses ``{"error": ..., "error_description": ...}``), sometimes with an empty
body (429) and, during maintenance, as an HTML page served with status 200.

Money never passes through ``float``: :func:`loads` parses JSON numbers with a
fraction as :class:`decimal.Decimal` and :func:`dumps` writes a ``Decimal`` with its
exact digits.

Dates: Exact sends ``/Date(<ms>)/`` where the milliseconds encode **Amsterdam
wall-clock time as if it were UTC**. :func:`parse_odata_datetime` returns an aware
datetime in ``Europe/Amsterdam`` with that wall-clock time:

>>> parse_odata_datetime("/Date(1782405060220)/")
datetime.datetime(2026, 6, 25, 16, 31, 0, 220000, tzinfo=zoneinfo.ZoneInfo(key='Europe/Amsterdam'))
>>> parse_odata_date("/Date(1782345600000)/")
datetime.date(2026, 6, 25)
"""

from __future__ import annotations

import base64
import binascii
import datetime as _dt
import decimal
import html
import http
import json
import re
import urllib.parse
from collections.abc import Mapping
from typing import Any

import attrs
from dateutil import parser as _dateparser

from exactbridge.errors import (
    APIError,
    ConfigurationError,
    DailyRateLimitError,
    DecodeError,
    MinutelyRateLimitError,
    RateLimitError,
    ServiceUnavailableError,
    api_error_class,
)
from exactbridge.exact._odata import AMSTERDAM

__all__ = [
    "Page",
    "b64decode",
    "b64encode",
    "check_json",
    "dumps",
    "epoch_ms_to_utc",
    "format_date",
    "format_datetime",
    "is_json_response",
    "loads",
    "parse_collection",
    "parse_error",
    "parse_odata_date",
    "parse_odata_datetime",
    "parse_single",
]

_MAX_BODY = 4000  # characters of an error body kept on the exception


# --------------------------------------------------------------------------- JSON


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def loads(content: bytes | str) -> Any:
    """Parse a JSON body; numbers with a fraction or exponent become ``Decimal``.

    Integers stay ``int``. ``NaN``/``Infinity`` and malformed text raise
    :class:`~exactbridge.errors.DecodeError`.

    >>> loads(b'{"AmountFC": 0.1, "Quantity": 2}')
    {'AmountFC': Decimal('0.1'), 'Quantity': 2}
    """
    try:
        return json.loads(content, parse_float=decimal.Decimal, parse_constant=_reject_constant)
    except (ValueError, TypeError, RecursionError) as exc:
        raise DecodeError(
            f"the body is not valid JSON ({exc})",
            entity="response",
            value=_preview(content),
            expected="a JSON document",
        ) from None


def _preview(content: bytes | str, limit: int = 200) -> str:
    text = content.decode("utf-8", "replace") if isinstance(content, bytes) else content
    return text[:limit]


def _dump_into(obj: object, out: list[str], path: str) -> None:
    if obj is None:
        out.append("null")
    elif obj is True:
        out.append("true")
    elif obj is False:
        out.append("false")
    elif isinstance(obj, str):
        out.append(json.dumps(obj, ensure_ascii=False))
    elif isinstance(obj, int):
        out.append(str(int(obj)))
    elif isinstance(obj, decimal.Decimal):
        if not obj.is_finite():
            raise ConfigurationError(
                f"cannot send {obj!r} to Exact Online",
                key=path or None,
                expected="a finite Decimal",
            )
        out.append(format(obj, "f"))
    elif isinstance(obj, Mapping):
        out.append("{")
        first = True
        for key, value in obj.items():
            if not isinstance(key, str):
                raise ConfigurationError(
                    f"JSON object keys must be text, got {key!r}", key=path or None
                )
            if not first:
                out.append(",")
            first = False
            out.append(json.dumps(key, ensure_ascii=False))
            out.append(":")
            _dump_into(value, out, f"{path}.{key}" if path else key)
        out.append("}")
    elif isinstance(obj, (list, tuple)):
        out.append("[")
        for index, value in enumerate(obj):
            if index:
                out.append(",")
            _dump_into(value, out, f"{path}[{index}]")
        out.append("]")
    elif isinstance(obj, float):
        raise ConfigurationError(
            f"refusing to send the float {obj!r}: amounts must be exact",
            key=path or None,
            expected="decimal.Decimal",
        )
    else:
        raise ConfigurationError(
            f"cannot send a {type(obj).__name__} value as JSON",
            key=path or None,
            expected="str, int, bool, None, Decimal, list or dict",
        )


def dumps(obj: object) -> bytes:
    """Serialise a request body to compact UTF-8 JSON.

    ``Decimal`` is written with its exact digits (never through ``float``); ``float``
    and any other type raise :class:`~exactbridge.errors.ConfigurationError` naming
    the path of the offending value.

    >>> dumps({"AmountFC": decimal.Decimal("41.98"), "Lines": [1, None, True]})
    b'{"AmountFC":41.98,"Lines":[1,null,true]}'
    """
    out: list[str] = []
    _dump_into(obj, out, "")
    return "".join(out).encode("utf-8")


def b64encode(data: bytes) -> str:
    """Base64 text for an ``Edm.Binary`` property (a file attachment)."""
    return base64.b64encode(data).decode("ascii")


def b64decode(text: str) -> bytes:
    """Bytes from an ``Edm.Binary`` property; raises ``ValueError`` on bad base64."""
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError) as exc:
        raise ValueError(f"not valid base64 ({exc})") from None


# --------------------------------------------------------------------------- envelopes


@attrs.frozen
class Page:
    """One page of a collection: its rows, the verbatim ``__next`` URL and ``__count``."""

    rows: list[dict[str, Any]]
    next_url: str | None = None
    count: int | None = None


def _envelope_error(message: str, payload: object, expected: str) -> DecodeError:
    return DecodeError(message, entity="response", value=_preview(repr(payload)), expected=expected)


def _rows(items: object, payload: object) -> list[dict[str, Any]]:
    if not isinstance(items, list):
        raise _envelope_error("'results' is not a list", payload, "a JSON array of rows")
    for index, row in enumerate(items):
        if not isinstance(row, dict):
            raise _envelope_error(f"row {index} is not an object", payload, "a JSON object")
    return items


def _count(value: object, payload: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    raise _envelope_error("'__count' is not a number", payload, "an integer or digit string")


def parse_collection(payload: object) -> Page:
    """Read a collection response in any of Exact's three shapes.

    * ``{"d": {"results": [...], "__next": "...", "__count": "12"}}``;
    * ``{"d": [...]}`` (a bare list: no next page);
    * ``{"d": {...entity...}}``: a single entity, returned as a page of one row.

    >>> parse_collection({"d": {"results": [{"ID": 1}], "__next": "https://x/?$skiptoken=1"}})
    Page(rows=[{'ID': 1}], next_url='https://x/?$skiptoken=1', count=None)
    >>> parse_collection({"d": [{"ID": 1}]}).rows
    [{'ID': 1}]
    """
    if not isinstance(payload, dict) or "d" not in payload:
        raise _envelope_error("no 'd' envelope in the response", payload, '{"d": ...}')
    body = payload["d"]
    if isinstance(body, list):
        return Page(rows=_rows(body, payload))
    if not isinstance(body, dict):
        raise _envelope_error("'d' is neither an object nor a list", payload, '{"d": {...}}')
    if "results" in body:
        next_url = body.get("__next")
        if next_url is not None and not isinstance(next_url, str):
            raise _envelope_error("'__next' is not a URL", payload, "a string")
        return Page(
            rows=_rows(body["results"], payload),
            next_url=next_url or None,
            count=_count(body.get("__count"), payload),
        )
    if not body:
        return Page(rows=[])
    return Page(rows=[body])


def parse_single(payload: object) -> dict[str, Any]:
    """Read a single-entity response (GET by key, POST result, ``current/Me``).

    Accepts ``{"d": {...}}``, ``{"d": {"results": [row]}}`` and ``{"d": [row]}``;
    anything else (no row, several rows, no envelope) raises
    :class:`~exactbridge.errors.DecodeError`.

    >>> parse_single({"d": {"results": [{"CurrentDivision": 124132}]}})
    {'CurrentDivision': 124132}
    """
    if not isinstance(payload, dict) or "d" not in payload:
        raise _envelope_error("no 'd' envelope in the response", payload, '{"d": {...}}')
    body = payload["d"]
    rows: list[dict[str, Any]]
    if isinstance(body, dict) and "results" in body:
        rows = _rows(body["results"], payload)
    elif isinstance(body, list):
        rows = _rows(body, payload)
    elif isinstance(body, dict) and body:
        return body
    else:
        raise _envelope_error("'d' holds no entity", payload, "one entity object")
    if len(rows) != 1:
        raise _envelope_error(
            f"expected exactly one entity, got {len(rows)}", payload, "one entity object"
        )
    return rows[0]


# --------------------------------------------------------------------------- errors


def _lower_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {str(key).lower(): str(value) for key, value in headers.items()}


def is_json_response(headers: Mapping[str, str], content: bytes) -> bool:
    """Whether a response body is JSON (not Exact's HTML maintenance page).

    The ``Content-Type`` must mention JSON or be absent, and the body must start with
    ``{`` or ``[``.
    """
    content_type = _lower_headers(headers).get("content-type", "")
    if content_type and "json" not in content_type:
        return False
    start = content.lstrip()[:1]
    return start in (b"{", b"[")


_SECRET_QUERY_KEYS = frozenset(
    {"access_token", "refresh_token", "code", "client_secret", "token", "id_token"}
)
_SECRET_BODY_RE = re.compile(
    r'("(?:access_token|refresh_token|client_secret|code|id_token)"\s*:\s*")[^"]*(")'
)


def _safe_url(url: str) -> str:
    """The URL with credential-like query parameters masked."""
    try:
        parts = urllib.parse.urlsplit(url)
    except ValueError:
        return url
    if not parts.query:
        return url
    pairs = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    if not any(key.lower() in _SECRET_QUERY_KEYS for key, _ in pairs):
        return url
    masked = [(k, "***" if k.lower() in _SECRET_QUERY_KEYS else v) for k, v in pairs]
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(masked)))


def _safe_body(text: str) -> str:
    return _SECRET_BODY_RE.sub(r"\1***\2", text)[:_MAX_BODY]


def _title_of(text: str) -> str:
    match = re.search(r"<title[^>]*>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
    if match:
        return " ".join(html.unescape(match.group(1)).split())
    return ""


def _message_from_json(payload: object) -> str | None:
    if not isinstance(payload, dict):
        return None
    error = payload.get("error")
    if isinstance(error, dict):
        message = error.get("message")
        if isinstance(message, dict):
            value = message.get("value")
            if isinstance(value, str):
                return value
        if isinstance(message, str):
            return message
        code = error.get("code")
        if isinstance(code, str) and code:
            return code
        return ""
    if isinstance(error, str):
        description = payload.get("error_description")
        if isinstance(description, str) and description:
            return f"{error}: {description}"
        return error
    message = payload.get("message") or payload.get("Message")
    if isinstance(message, str):
        return message
    return None


def epoch_ms_to_utc(value: str | int) -> _dt.datetime | None:
    """An ``X-RateLimit-*Reset`` header (UTC epoch milliseconds) as an aware UTC datetime.

    Returns ``None`` for a value that is not a number. Values small enough to be
    seconds (10 digits) are read as seconds.

    >>> epoch_ms_to_utc("1638489600000")
    datetime.datetime(2021, 12, 3, 0, 0, tzinfo=datetime.timezone.utc)
    """
    try:
        number = int(str(value).strip())
    except ValueError:
        return None
    if number < 0:
        return None
    seconds = number / 1000 if number >= 100_000_000_000 else float(number)
    try:
        return _dt.datetime.fromtimestamp(seconds, tz=_dt.timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None


def _int_header(lowered: Mapping[str, str], name: str) -> int | None:
    value = lowered.get(name)
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        return None


def _rate_limit_class(lowered: Mapping[str, str]) -> tuple[type[RateLimitError], str]:
    """Which limit a 429 is about, and the header holding its reset time."""
    daily_remaining = _int_header(lowered, "x-ratelimit-remaining")
    has_daily = daily_remaining is not None or "x-ratelimit-reset" in lowered
    has_minutely = any(key.startswith("x-ratelimit-minutely-") for key in lowered)
    if has_daily and (daily_remaining == 0 or not has_minutely):
        return DailyRateLimitError, "x-ratelimit-reset"
    return MinutelyRateLimitError, "x-ratelimit-minutely-reset"


def parse_error(
    *,
    status: int,
    content: bytes,
    headers: Mapping[str, str],
    method: str,
    url: str,
) -> APIError:
    """Build the typed error for an error response (it is returned, not raised).

    The class comes from :func:`~exactbridge.errors.api_error_class`; the message is
    Exact's ``error.message.value`` (kept as sent: several lines, localized) or the
    token endpoint's ``error: error_description``; the ``Reason`` header is attached.
    A non-JSON body (Exact's HTML maintenance page) with status 200 or 5xx gives a
    :class:`~exactbridge.errors.ServiceUnavailableError`. A 429 becomes a
    :class:`~exactbridge.errors.DailyRateLimitError` when the daily headers say the
    day is used up (or only they are present), else a
    :class:`~exactbridge.errors.MinutelyRateLimitError`, with ``reset_at`` from the
    matching ``X-RateLimit-*Reset`` header. Request headers are never looked at, so
    the ``Authorization`` header cannot leak; token-like values in the URL or body
    are masked.
    """
    lowered = _lower_headers(headers)
    reason = lowered.get("reason") or None
    safe_url = _safe_url(url)
    text = content.decode("utf-8", "replace")
    body = _safe_body(text)
    cls: type[APIError] = api_error_class(status)
    message: str | None
    if not text.strip():
        message = _phrase(status)
    elif is_json_response(headers, content):
        try:
            message = _message_from_json(loads(content))
        except DecodeError:
            message = None
        if message is None:
            message = _phrase(status)
    else:
        title = _title_of(text)
        if status == 200 or status >= 500:
            cls = ServiceUnavailableError
            message = "Exact Online answered with a non-JSON page (maintenance or outage)"
            if title:
                message += f": {title}"
        else:
            message = title or " ".join(text.split())[:200]
    if status == 429:
        rate_cls, reset_header = _rate_limit_class(lowered)
        reset_value = lowered.get(reset_header)
        reset_at = epoch_ms_to_utc(reset_value) if reset_value is not None else None
        return rate_cls(
            message,
            status=status,
            method=method,
            url=safe_url,
            body=body,
            reason=reason,
            reset_at=reset_at,
        )
    return cls(message, status=status, method=method, url=safe_url, body=body, reason=reason)


def _phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ""


def check_json(
    status: int,
    headers: Mapping[str, str],
    content: bytes,
    *,
    method: str,
    url: str,
) -> Any:
    """Parse a successful response body, refusing anything that is not JSON.

    Exact serves its maintenance page as HTML with status 200; that (and a body that
    is not valid JSON, e.g. cut off) raises
    :class:`~exactbridge.errors.ServiceUnavailableError`, a retryable error.
    """
    text = content.decode("utf-8", "replace")
    if is_json_response(headers, content):
        try:
            return loads(content)
        except DecodeError:
            problem = "a body that is not valid JSON (cut off?)"
    else:
        problem = "a non-JSON page (maintenance or outage)"
        title = _title_of(text)
        if title:
            problem += f": {title}"
    raise ServiceUnavailableError(
        f"Exact Online answered with {problem}",
        status=status,
        method=method,
        url=_safe_url(url),
        body=_safe_body(text),
        reason=_lower_headers(headers).get("reason") or None,
    )


# --------------------------------------------------------------------------- dates

_MS_DATE_RE = re.compile(r"^/Date\((-?\d+)(?:([+-])(\d{2})(\d{2}))?\)/$")
# naive on purpose: Exact encodes wall-clock time, not an instant
_EPOCH = _dt.datetime(1970, 1, 1)  # noqa: DTZ001


def _wall_clock_from_ms(ms: int) -> _dt.datetime:
    return _EPOCH + _dt.timedelta(milliseconds=ms)


def parse_odata_datetime(text: str) -> _dt.datetime:
    """Parse an Exact date-time into an aware ``Europe/Amsterdam`` datetime.

    * ``/Date(ms)/`` and ``/Date(ms+0000)/``: the milliseconds are Amsterdam
      wall-clock time encoded as UTC, so the result keeps that wall-clock time;
    * ``/Date(ms+hhmm)/`` with a non-zero offset follows the Microsoft JSON rule
      (milliseconds are a true UTC instant) and is converted to Amsterdam;
    * ISO text: without an offset it is Amsterdam wall-clock time (as
      ``current/Me``'s ``ServerTime``); with one it is converted to Amsterdam.

    Raises ``ValueError`` for anything else.

    >>> parse_odata_datetime("2026-06-25T16:16:40").isoformat()
    '2026-06-25T16:16:40+02:00'
    """
    if not isinstance(text, str):
        raise ValueError(f"expected a date-time string, got {type(text).__name__}")
    match = _MS_DATE_RE.match(text.strip())
    try:
        if match:
            ms = int(match.group(1))
            sign, hh, mm = match.group(2), match.group(3), match.group(4)
            wall = _wall_clock_from_ms(ms)
            if sign is None or (hh == "00" and mm == "00"):
                return wall.replace(tzinfo=AMSTERDAM)
            return wall.replace(tzinfo=_dt.timezone.utc).astimezone(AMSTERDAM)
        parsed = _dateparser.isoparse(text.strip())
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"{text!r} is not an OData date-time ({exc})") from None
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        return parsed.replace(tzinfo=AMSTERDAM)
    return parsed.astimezone(AMSTERDAM)


def parse_odata_date(text: str) -> _dt.date:
    """Parse an Exact date (``/Date(ms)/`` at midnight, or ISO text) into a ``date``.

    The calendar date is taken as written (the wall-clock date); no time zone
    conversion happens. Raises ``ValueError`` for anything else.

    >>> parse_odata_date("2024-08-12T00:00:00Z")
    datetime.date(2024, 8, 12)
    """
    if not isinstance(text, str):
        raise ValueError(f"expected a date string, got {type(text).__name__}")
    match = _MS_DATE_RE.match(text.strip())
    try:
        if match:
            return _wall_clock_from_ms(int(match.group(1))).date()
        return _dateparser.isoparse(text.strip()).date()
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"{text!r} is not an OData date ({exc})") from None


def format_date(value: _dt.date) -> str:
    """``YYYY-MM-DD`` for a ``date`` sent to Exact (a ``datetime`` is refused).

    >>> format_date(_dt.date(2026, 6, 25))
    '2026-06-25'
    """
    if isinstance(value, _dt.datetime) or not isinstance(value, _dt.date):
        raise ConfigurationError(
            f"expected a date, got {value!r}", expected="datetime.date (not datetime)"
        )
    return value.isoformat()


def format_datetime(value: _dt.datetime) -> str:
    """ISO text in Amsterdam wall-clock time without an offset, as Exact expects.

    The value must be aware (naive datetimes are refused: their meaning is unclear).

    >>> format_datetime(_dt.datetime(2026, 6, 25, 14, 31, tzinfo=_dt.timezone.utc))
    '2026-06-25T16:31:00'
    """
    checked: object = value
    if (
        not isinstance(checked, _dt.datetime)
        or checked.tzinfo is None
        or checked.utcoffset() is None
    ):
        raise ConfigurationError(
            f"expected an aware datetime, got {value!r}",
            expected="a timezone-aware datetime.datetime",
        )
    local = value.astimezone(AMSTERDAM).replace(tzinfo=None)
    text = local.strftime("%Y-%m-%dT%H:%M:%S")
    if local.microsecond:
        text += f".{local.microsecond:06d}".rstrip("0")
    return text
