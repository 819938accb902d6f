"""The exceptions exactbridge raises, in one tree.

Every exception that crosses exactbridge's public boundary is an
:class:`ExactBridgeError`; no bare ``httpx``, ``cattrs`` or ``sqlite3`` exception
escapes (they are chained as ``__cause__`` instead)::

    ExactBridgeError
    ├── ConfigurationError            bad arguments or configuration (names the key path)
    ├── TransportError                the request did not get an HTTP answer
    │   ├── RequestTimeout            ... because it timed out before it was sent completely
    │   └── OutcomeUnknownError       a write was sent, no answer came: it may or may not be booked
    ├── APIError                      Exact Online answered with an error
    │   ├── BadRequestError           400
    │   ├── AuthenticationError       401 (after the one refresh the client tries)
    │   ├── PermissionDeniedError     403
    │   ├── NotFoundError             404
    │   ├── MethodNotAllowedError     405
    │   ├── RateLimitError            429 or a limit known to be used up
    │   │   ├── MinutelyRateLimitError    the minute is used up and waiting is not allowed
    │   │   └── DailyRateLimitError       the day is used up: ``reset_at`` says when to come back
    │   ├── ServerError               5xx (Exact also reports many business rules as 500)
    │   └── ServiceUnavailableError   a non-JSON answer (the maintenance page, served as 200)
    ├── AuthError                     OAuth2 problems
    │   ├── AuthorizationRequiredError    no usable refresh token: a person must authorize again
    │   ├── RefreshTooEarlyError      Exact refused a refresh within 570 s of the last one
    │   ├── TokenEndpointError        any other refusal of the token endpoint
    │   └── TokenStoreError           a token store could not be read or written
    │       └── TokenConflictError    a compare-and-swap save lost against another writer
    ├── DecodeError                   a payload did not have the shape its model needs
    ├── MappingError                  a record cannot be mapped under the configured policies
    ├── SourceError                   base of the source connectors' errors
    │   ├── SourceAPIError            a source system answered with an error
    │   ├── SourceRecordError         one record of a source is malformed (names record and field)
    │   └── SourceFileError           a file export is malformed (names file, line and column)
    └── SyncError                     the sync engine could not complete a step

Messages never contain secrets: tokens, client secrets, authorization codes and API
keys are kept out of every message and ``repr`` (tests check this with canary values).
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

__all__ = [
    "APIError",
    "AuthError",
    "AuthenticationError",
    "AuthorizationRequiredError",
    "BadRequestError",
    "ConfigurationError",
    "DailyRateLimitError",
    "DecodeError",
    "ExactBridgeError",
    "MappingError",
    "MethodNotAllowedError",
    "MinutelyRateLimitError",
    "NotFoundError",
    "OutcomeUnknownError",
    "PermissionDeniedError",
    "RateLimitError",
    "RefreshTooEarlyError",
    "RequestTimeout",
    "ServerError",
    "ServiceUnavailableError",
    "SourceAPIError",
    "SourceError",
    "SourceFileError",
    "SourceRecordError",
    "StateTargetError",
    "SyncError",
    "TokenConflictError",
    "TokenEndpointError",
    "TokenStoreError",
    "TransportError",
    "api_error_class",
]


class ExactBridgeError(Exception):
    """Root of every exception exactbridge raises on purpose."""


class ConfigurationError(ExactBridgeError, ValueError):
    """An argument or configuration value is not acceptable.

    ``key`` is the dotted path of the offending key where there is one
    (``"debtor.prefix"``), ``expected`` says what would have been accepted.
    """

    def __init__(self, message: str, *, key: str | None = None, expected: str | None = None):
        self.key = key
        self.expected = expected
        parts = [message]
        if key is not None:
            parts.insert(0, f"{key}:")
        if expected is not None:
            parts.append(f"(expected {expected})")
        super().__init__(" ".join(parts))


class TransportError(ExactBridgeError):
    """The request got no HTTP answer (connection refused, reset, DNS, TLS...)."""

    def __init__(self, message: str, *, method: str, url: str):
        self.method = method
        self.url = url
        super().__init__(f"{message} ({method} {url})")


class RequestTimeout(TransportError):
    """The request timed out."""


class OutcomeUnknownError(TransportError):
    """A write was sent but no answer arrived, so it may or may not have taken effect.

    exactbridge never repeats such a write blindly: look the record up by its natural
    key (the sync engine does this with the entry's ``YourRef``) before writing again.
    """


class APIError(ExactBridgeError):
    """Exact Online answered with an error status.

    ``message`` is Exact's own text (``error.message.value``; it may hold several
    lines and may be localized, e.g. Dutch ``Verplicht: ...``), ``reason`` the
    ``Reason`` header where Exact sends one. ``method`` and ``url`` identify the
    request; the raw body is kept in ``body`` for diagnosis.
    """

    status: int | None

    def __init__(
        self,
        message: str,
        *,
        status: int | None,
        method: str,
        url: str,
        body: str = "",
        reason: str | None = None,
    ):
        self.status = status
        self.message = message
        self.method = method
        self.url = url
        self.body = body
        self.reason = reason
        prefix = f"HTTP {status}" if status is not None else "Exact Online"
        text = f"{prefix} from {method} {url}"
        if message:
            text += f": {message}"
        if reason:
            text += f" [{reason}]"
        super().__init__(text)

    @property
    def messages(self) -> list[str]:
        """Exact's message split into its separate lines (Exact joins several with CRLF)."""
        return [line.strip() for line in self.message.splitlines() if line.strip()]


class BadRequestError(APIError):
    """HTTP 400: malformed request, unknown property, query rule or validation failure."""


class AuthenticationError(APIError):
    """HTTP 401: the access token was not accepted, even after one refresh."""


class PermissionDeniedError(APIError):
    """HTTP 403: the user has no rights for this endpoint or division."""


class NotFoundError(APIError):
    """HTTP 404: unknown endpoint or entity."""


class MethodNotAllowedError(APIError):
    """HTTP 405: the endpoint does not support this method."""


class RateLimitError(APIError):
    """A rate limit is used up. ``reset_at`` (aware UTC) says when it frees up, if known."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None,
        method: str,
        url: str,
        body: str = "",
        reason: str | None = None,
        reset_at: _dt.datetime | None = None,
    ):
        self.reset_at = reset_at
        if reset_at is not None:
            message = (
                f"{message} (resets at {reset_at.isoformat()})"
                if message
                else (f"resets at {reset_at.isoformat()}")
            )
        super().__init__(message, status=status, method=method, url=url, body=body, reason=reason)


class MinutelyRateLimitError(RateLimitError):
    """The minutely limit is used up and the client was not allowed to wait for it."""


class DailyRateLimitError(RateLimitError):
    """The daily limit of this division is used up; nothing more can be done until ``reset_at``."""


class ServerError(APIError):
    """HTTP 5xx. Exact reports many business-rule failures as 500 with a readable message."""


class ServiceUnavailableError(APIError):
    """Exact answered with something that is not JSON (its maintenance page comes as 200)."""


class AuthError(ExactBridgeError):
    """Base of the OAuth2 errors."""


class AuthorizationRequiredError(AuthError):
    """There is no usable refresh token: someone must authorize the app again.

    Raised when the store is empty, when the refresh token expired (about 30 days
    unused) or was revoked, and when Exact says an old refresh token was used and no
    newer one can be found in the token store.
    """


class RefreshTooEarlyError(AuthError):
    """Exact refused a refresh because the access token is less than 570 s old."""


class TokenEndpointError(AuthError):
    """The token endpoint refused a request. ``error`` is its OAuth2 error code."""

    def __init__(self, message: str, *, status: int, error: str, description: str = ""):
        self.status = status
        self.error = error
        self.description = description
        super().__init__(message)


class TokenStoreError(AuthError):
    """A token store could not be read or written."""


class TokenConflictError(TokenStoreError):
    """A compare-and-swap save failed: another writer saved a newer generation first."""


class DecodeError(ExactBridgeError):
    """A payload did not have the shape its model needs.

    ``entity`` names the model, ``field`` the offending field (if known), ``value``
    what was found and ``expected`` what would have been accepted.
    """

    def __init__(
        self,
        message: str,
        *,
        entity: str,
        field: str | None = None,
        value: Any = None,
        expected: str | None = None,
    ):
        self.entity = entity
        self.field = field
        self.value = value
        self.expected = expected
        where = f"{entity}.{field}" if field else entity
        text = f"{where}: {message}"
        if expected is not None:
            text += f" (expected {expected}, got {value!r})"
        super().__init__(text)


class MappingError(ExactBridgeError):
    """A record cannot be mapped to an Exact draft under the configured policies.

    Always names the source record (``source`` system and ``record_id``), the
    ``field`` that failed, the ``policy`` that decided and the offending ``value``.
    ``fix`` says what makes the record book: the setting to change with the value
    to use (as a key under ``[booking]`` of ``exactbridge.toml``, which is also the
    attribute path on :class:`~exactbridge.mapping.BookingConfig`), or what to
    correct in the source when no setting can help.
    """

    def __init__(
        self,
        message: str,
        *,
        record_id: str,
        field: str,
        policy: str,
        value: Any = None,
        source: str | None = None,
        fix: str | None = None,
    ):
        self.record_id = record_id
        self.field = field
        self.policy = policy
        self.value = value
        self.source = source
        self.fix = fix
        who = f"{source}:{record_id}" if source else record_id
        hint = f"; to fix: {fix}" if fix else ""
        super().__init__(
            f"record {who}, field {field!r}, policy {policy}: {message} (value: {value!r}){hint}"
        )


class SourceError(ExactBridgeError):
    """Base of the errors raised by the source connectors (``exactbridge.sources``)."""


class SourceAPIError(SourceError):
    """A source system answered with an error. ``source`` names the system."""

    def __init__(
        self,
        message: str,
        *,
        source: str,
        status: int | None = None,
        method: str = "",
        url: str = "",
    ):
        self.source = source
        self.status = status
        self.method = method
        self.url = url
        where = f" ({method} {url})" if method else ""
        code = f"HTTP {status} " if status is not None else ""
        super().__init__(f"{source}: {code}{message}{where}")


class SourceRecordError(SourceError):
    """One record from a source is malformed; names the record, the field and what was expected."""

    def __init__(
        self,
        message: str,
        *,
        source: str,
        record_id: str,
        field: str,
        expected: str,
        value: Any = None,
    ):
        self.source = source
        self.record_id = record_id
        self.field = field
        self.expected = expected
        self.value = value
        super().__init__(
            f"{source} record {record_id}, field {field!r}: {message} "
            f"(expected {expected}, got {value!r})"
        )


class SourceFileError(SourceError):
    """A file export is malformed; names the file, the line and (where known) the column."""

    def __init__(
        self,
        message: str,
        *,
        file: str,
        line: int | None = None,
        column: int | str | None = None,
    ):
        self.file = file
        self.line = line
        self.column = column
        where = file
        if line is not None:
            where += f", line {line}"
        if column is not None:
            where += f", column {column}"
        super().__init__(f"{where}: {message}")


class SyncError(ExactBridgeError):
    """The sync engine could not complete a step."""


class StateTargetError(SyncError, ConfigurationError):
    """A state store that belongs to one Exact division was used with another.

    ``stored`` and ``wanted`` are the two Exact targets (``"<base url>#<division>"``);
    nothing was read or written. Give each division its own state file.
    """

    def __init__(self, *, stored: str, wanted: str, pipeline: str) -> None:
        self.stored = stored
        self.wanted = wanted
        self.pipeline = pipeline
        ExactBridgeError.__init__(
            self,
            f"pipeline {pipeline}: this state store holds the bookings of {stored}, not of "
            f"{wanted}; nothing was booked. Give each division its own state file "
            "([state] path in exactbridge.toml, or leave it out: the default differs per "
            "configuration and division)",
        )
        self.key = "state.path"
        self.expected = "a state file of this division"


_STATUS_CLASSES: dict[int, type[APIError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    405: MethodNotAllowedError,
    429: RateLimitError,
}


def api_error_class(status: int) -> type[APIError]:
    """Return the :class:`APIError` subclass for an HTTP status (the one place this is decided)."""
    if status in _STATUS_CLASSES:
        return _STATUS_CLASSES[status]
    if status >= 500:
        return ServerError
    return APIError
