"""Faults the fake Exact Online injects on demand, and the call log it keeps."""

from __future__ import annotations

import datetime as dt
import enum

import attrs

__all__ = ["CallRecord", "Fault", "FaultRule", "TokenCall"]


class Fault(enum.Enum):
    """What goes wrong with a matching request (see ``FakeExactOnline.fail_next``).

    * ``SERVER_ERROR``: HTTP 500 with Exact's generic error text (or 503 with
      ``status=503``), nothing is applied;
    * ``RATE_LIMIT``: HTTP 429 with the three minutely headers and remaining 0;
    * ``TIMEOUT``: ``httpx.ReadTimeout`` is raised, nothing is applied;
    * ``CONNECTION_ERROR``: ``httpx.ConnectError`` is raised, nothing is applied;
    * ``LOST_RESPONSE``: the request *is* processed (a write is committed), then
      ``httpx.ReadTimeout`` is raised so the caller never sees the answer;
    * ``MAINTENANCE``: HTTP 200 with an HTML maintenance page instead of JSON.
    """

    SERVER_ERROR = "server_error"
    RATE_LIMIT = "rate_limit"
    TIMEOUT = "timeout"
    CONNECTION_ERROR = "connection_error"
    LOST_RESPONSE = "lost_response"
    MAINTENANCE = "maintenance"


@attrs.define
class FaultRule:
    """A pending fault: applies to the next ``remaining`` matching requests."""

    kind: Fault
    remaining: int
    method: str | None = None
    path: str | None = None
    status: int | None = None

    def matches(self, method: str, path: str) -> bool:
        """True if a request with this method and URL path is affected."""
        if self.method is not None and self.method.upper() != method.upper():
            return False
        return self.path is None or self.path.lower() in path.lower()


@attrs.frozen
class CallRecord:
    """One request the fake answered (or failed on purpose).

    ``path`` is the URL path (``/api/v1/123/crm/Accounts``), ``query`` the raw query
    string, ``endpoint`` the canonical endpoint (``crm/Accounts``, ``current/Me``,
    ``oauth2/token``...), ``status`` the HTTP status or ``None`` when the fault raised
    a transport error, ``at`` the fake time.
    """

    method: str
    path: str
    query: str
    status: int | None
    division: int | None
    at: dt.datetime
    endpoint: str = ""
    fault: Fault | None = None


@attrs.frozen
class TokenCall:
    """One call of the token endpoint: its grant type and status."""

    grant_type: str
    status: int
    at: dt.datetime
