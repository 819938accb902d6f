"""The Exact client's shared, I/O-free core.

Both shells (:class:`~exactbridge.exact.AsyncExactClient` and the generated
:class:`~exactbridge.exact.ExactClient`) build requests and judge answers only
through these functions, so the two behave the same by construction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import attrs
import httpx

from exactbridge.errors import (
    APIError,
    ConfigurationError,
    MinutelyRateLimitError,
    OutcomeUnknownError,
    RequestTimeout,
    TransportError,
)
from exactbridge.exact import _envelope
from exactbridge.exact._ratelimit import RateBudget
from exactbridge.exact._retry import RetryPolicy

__all__ = ["ClientSettings", "Outcome", "judge_response", "judge_transport_error"]

DEFAULT_HEADERS = {
    "Accept": "application/json",
    "Prefer": "return=representation",
    "User-Agent": "exactbridge",
}


@attrs.frozen
class ClientSettings:
    """Everything a client shell needs besides its HTTP client."""

    base_url: str
    division: int | None
    retry: RetryPolicy
    limiter: RateBudget

    @property
    def api_root(self) -> str:
        return f"{self.base_url}/api/v1"

    def require_division(self, division: int | None) -> int:
        chosen = self.division if division is None else division
        if chosen is None:
            raise ConfigurationError(
                "this call needs a division; pass division= to the client",
                key="division",
                expected="the Exact division code (an integer, see client.divisions())",
            )
        return chosen

    def url(self, path: str, *, division: int | None, division_scoped: bool = True) -> str:
        """Absolute URL of ``path`` (``"crm/Accounts"``) below the division."""
        if path.startswith(("http://", "https://")):
            return path
        path = path.lstrip("/")
        if not division_scoped:
            return f"{self.api_root}/{path}"
        return f"{self.api_root}/{self.require_division(division)}/{path}"

    def build_request(
        self,
        method: str,
        url: str,
        *,
        params: Sequence[tuple[str, str]] | None = None,
        body: Any = None,
    ) -> httpx.Request:
        headers = dict(DEFAULT_HEADERS)
        if url.endswith("/$count"):
            # Exact answers $count with a bare number, not JSON (as the .NET SDK does).
            del headers["Accept"]
        content: bytes | None = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            content = _envelope.dumps(body)
        return httpx.Request(
            method, url, params=list(params) if params else None, headers=headers, content=content
        )


@attrs.frozen
class Outcome:
    """What the shell does next with an answer: return it, wait and resend, or raise."""

    payload: Any = None
    wait: float | None = None
    error: Exception | None = None


def _request_target(request: httpx.Request) -> tuple[str, str]:
    url = request.url.copy_with(query=None)
    return request.method, str(url)


def judge_response(
    settings: ClientSettings,
    request: httpx.Request,
    response_status: int,
    headers: httpx.Headers,
    content: bytes,
    *,
    division: int | None,
    attempt: int,
    rate_limit_waits: int,
    now: dt.datetime,
    expect_json: bool = True,
) -> Outcome:
    """Decide what an answer means: a payload, a wait-and-resend, or an error."""
    method, url = _request_target(request)
    settings.limiter.record(division, headers)
    if response_status < 400:
        if response_status == 204 or not content.strip():
            return Outcome(payload=None)
        if not expect_json:
            return Outcome(payload=content.decode("utf-8", errors="replace").strip())
        try:
            return Outcome(
                payload=_envelope.check_json(
                    response_status, headers, content, method=method, url=url
                )
            )
        except APIError as exc:
            wait = settings.retry.retry_server_error(method, 503, attempt)
            return Outcome(wait=wait, error=exc) if wait is not None else Outcome(error=exc)
    error = _envelope.parse_error(
        status=response_status, content=content, headers=headers, method=method, url=url
    )
    if response_status == 429:
        wait = settings.limiter.wait_after_429(division, headers, now)
        if wait is None:
            return Outcome(error=error)
        if (
            not settings.retry.wait_for_minutely_limit
            or rate_limit_waits >= settings.retry.max_rate_limit_waits
        ):
            reset = now + dt.timedelta(seconds=wait)
            return Outcome(
                error=MinutelyRateLimitError(
                    error.message or "the minutely rate limit is used up",
                    status=429,
                    method=method,
                    url=url,
                    body=error.body,
                    reset_at=reset,
                )
            )
        return Outcome(wait=wait, error=error)
    if response_status >= 500:
        wait = settings.retry.retry_server_error(method, response_status, attempt)
        return Outcome(wait=wait, error=error)
    return Outcome(error=error)


def judge_transport_error(
    settings: ClientSettings, request: httpx.Request, exc: httpx.TransportError, *, attempt: int
) -> Outcome:
    """Decide what a failed exchange means.

    A connection that was never made sent nothing, so the request is safe to resend
    (reads only: the policy is conservative). Anything else for a write means its
    outcome is unknown.
    """
    method, url = _request_target(request)
    wait = settings.retry.retry_transport_error(method, attempt)
    never_sent = isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout))
    if method.upper() not in ("GET", "HEAD") and not never_sent:
        error: Exception = OutcomeUnknownError(
            f"no answer to a {method} after it was sent ({type(exc).__name__}); it may or may not "
            "have been processed: look the record up before writing it again",
            method=method,
            url=url,
        )
    elif isinstance(exc, httpx.TimeoutException):
        error = RequestTimeout(f"timed out ({type(exc).__name__})", method=method, url=url)
    else:
        error = TransportError(f"connection failed ({type(exc).__name__})", method=method, url=url)
    return Outcome(wait=wait, error=error)
