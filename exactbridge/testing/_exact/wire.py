"""Wire format of the fake Exact Online: JSON out and in, dates, error bodies.

Written independently of the client's parsing code on purpose (a bug shared by the
client and its fake would pass every test).

Output rules (reference §2.5):

* ``datetime`` values are naive Amsterdam wall-clock times; they go out as
  ``"/Date(<ms>)/"`` computed as if that wall-clock time were UTC;
* ``Decimal`` goes out as a JSON number with exactly its own digits (never via float);
* ``UUID`` as a lower-case string, ``bytes`` as base64, ``date`` as midnight.
"""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import json
import uuid
from collections.abc import Mapping
from typing import Any

__all__ = [
    "JSON_CONTENT_TYPE",
    "WireError",
    "date_literal",
    "dumps",
    "error_body",
    "loads_object",
    "ms_date",
    "token_error_body",
]

JSON_CONTENT_TYPE = "application/json; charset=utf-8"

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc).replace(tzinfo=None)

STREAM_ERROR = (
    "Error processing request stream. The request should be a valid top-level resource object."
)


class WireError(Exception):
    """A request body that cannot be read; answered with 400 by the router."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def ms_date(value: dt.datetime | dt.date) -> str:
    """Encode a wall-clock datetime (or a date, as midnight) as Exact's ``/Date(ms)/``.

    >>> ms_date(dt.datetime(2026, 6, 25, 16, 31))
    '/Date(1782405060000)/'
    """
    if not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time())
    if value.tzinfo is not None:
        # An aware value should not reach the wire; treat its wall clock as the value.
        value = value.replace(tzinfo=None)
    delta = value - _EPOCH
    millis = (delta.days * 86_400 + delta.seconds) * 1000 + delta.microseconds // 1000
    return f"/Date({millis})/"


def date_literal(value: dt.datetime) -> str:
    """The ``datetime'...'`` OData literal body for a wall-clock time (milliseconds kept)."""
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond:
        text += f".{value.microsecond // 1000:03d}"
    return text


def _decimal_text(value: decimal.Decimal) -> str:
    if not value.is_finite():
        raise ValueError(f"cannot encode the non-finite Decimal {value!r} as JSON")
    text = str(value)
    if "E" in text and value.as_tuple().exponent > 0:  # type: ignore[operator]
        text = format(value, "f")
    return text


def _encode(value: Any, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        out.append(json.dumps(value, ensure_ascii=False))
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, decimal.Decimal):
        out.append(_decimal_text(value))
    elif isinstance(value, float):
        # Only Edm.Double values that a domain kept as float; never money.
        out.append(json.dumps(value))
    elif isinstance(value, dt.datetime | dt.date):
        out.append(json.dumps(ms_date(value)))
    elif isinstance(value, uuid.UUID):
        out.append(f'"{value}"')
    elif isinstance(value, bytes | bytearray):
        out.append(json.dumps(base64.b64encode(bytes(value)).decode("ascii")))
    elif isinstance(value, Mapping):
        out.append("{")
        first = True
        for key, item in value.items():
            if not first:
                out.append(",")
            first = False
            out.append(json.dumps(str(key), ensure_ascii=False))
            out.append(":")
            _encode(item, out)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _encode(item, out)
        out.append("]")
    else:
        raise TypeError(f"the fake cannot encode a {type(value).__name__} value on the wire")


def dumps(value: Any) -> bytes:
    """Encode a JSON document with Exact's value rules (see the module docstring).

    >>> dumps({"Amount": decimal.Decimal("50.80"), "When": dt.date(2026, 6, 25)})
    b'{"Amount":50.80,"When":"/Date(1782345600000)/"}'
    """
    out: list[str] = []
    _encode(value, out)
    return "".join(out).encode("utf-8")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def loads_object(body: bytes) -> dict[str, Any]:
    """Decode a request body that must be one JSON object; numbers become Decimal/int.

    Anything else (invalid JSON, an array, a string...) raises :class:`WireError` with
    Exact's stream-error text.
    """
    try:
        text = body.decode("utf-8-sig")
        value = json.loads(text, parse_float=decimal.Decimal, parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError) as exc:
        raise WireError(STREAM_ERROR) from exc
    if not isinstance(value, dict):
        raise WireError(STREAM_ERROR)
    return value


def error_body(message: str) -> bytes:
    """Exact's OData error body: ``{"error":{"code":"","message":{"lang":"","value":...}}}``."""
    return dumps({"error": {"code": "", "message": {"lang": "", "value": message}}})


def token_error_body(error: str, description: str) -> bytes:
    """The token endpoint's error body: ``{"error":...,"error_description":...}``."""
    return dumps({"error": error, "error_description": description})
