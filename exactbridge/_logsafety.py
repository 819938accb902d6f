"""Keep secrets out of log lines, including the lines other libraries write.

httpx logs every request at INFO (``HTTP Request: GET https://...?api_key=...``), and
Virtuagym's API key and club secret travel in the query string. Our own code logs
URLs through :func:`exactbridge.sources._http.redact_url`, but a host app that sets
``logging.basicConfig(level=logging.INFO)`` also sees httpx's lines. Every client of
exactbridge calls :func:`install` when it is made: it puts one
:class:`RedactingFilter` on the loggers of httpx and httpcore (and on exactbridge's
own), which rewrites a record's message before any handler sees it.

What is redacted, wherever it appears in a message:

* the value of a query or form parameter whose name says it is a secret
  (``api_key``, ``club_secret``, ``client_secret``, ``access_token``,
  ``refresh_token``, ``token``, ``password``, ``code`` ...), in ``a=b`` form;
* the credentials after ``Bearer`` and ``Basic``;
* JSON-style ``"access_token": "..."`` pairs of the same names.

A filter on a logger applies only to records created on that very logger, not to
those of its children, so the filter goes on each logger httpx and httpcore use.
"""

from __future__ import annotations

import logging
import re
import threading

__all__ = [
    "PROTECTED_LOGGERS",
    "REDACTED",
    "SECRET_NAMES",
    "RedactingFilter",
    "install",
    "redact_text",
]

#: What a secret's value is replaced with.
REDACTED = "[redacted]"

#: Parameter names whose values never reach a log line (compared case-insensitively).
SECRET_NAMES = (
    "api_key",
    "apikey",
    "club_secret",
    "client_secret",
    "secret",
    "access_token",
    "refresh_token",
    "id_token",
    "token",
    "api_token",
    "password",
    "code",
    "service_secret",
)

#: The loggers the filter is installed on. httpcore names one logger per module.
PROTECTED_LOGGERS = (
    "httpx",
    "httpcore",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
    "exactbridge",
    "exactbridge.exact",
    "exactbridge.auth",
    "exactbridge.sync",
    "exactbridge.sources",
    "exactbridge.sources.clubassistent",
    "exactbridge.cli",
)

_NAMES = "|".join(re.escape(name) for name in SECRET_NAMES)
# name=value in a query string or form body; the value ends at &, whitespace or a quote.
_PAIR = re.compile(rf"(?i)(?<![A-Za-z0-9_])((?:{_NAMES})=)[^&\s\"'<>]+")
# "name": "value" in JSON (or name: 'value' in a repr)
_JSON = re.compile(rf"(?i)([\"']?(?:{_NAMES})[\"']?\s*:\s*[\"'])[^\"']+")
_SCHEME = re.compile(r"(?i)\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+")


def redact_text(text: str) -> str:
    """``text`` with every secret value in it replaced by :data:`REDACTED`.

    >>> redact_text("GET https://api.virtuagym.com/api/v1/club/1/member?api_key=K&page=2")
    'GET https://api.virtuagym.com/api/v1/club/1/member?api_key=[redacted]&page=2'
    >>> redact_text("Authorization: Bearer abc.def")
    'Authorization: Bearer [redacted]'
    """
    text = _PAIR.sub(rf"\g<1>{REDACTED}", text)
    text = _JSON.sub(rf"\g<1>{REDACTED}", text)
    return _SCHEME.sub(rf"\g<1> {REDACTED}", text)


class RedactingFilter(logging.Filter):
    """Rewrites a record's message with :func:`redact_text`; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is the logging module's to report
            return True
        cleaned = redact_text(message)
        if cleaned != message:
            record.msg = cleaned
            record.args = None
        return True


_FILTER = RedactingFilter()
_LOCK = threading.Lock()


def install() -> None:
    """Put the redacting filter on :data:`PROTECTED_LOGGERS` (once; cheap to call again)."""
    with _LOCK:
        for name in PROTECTED_LOGGERS:
            logger = logging.getLogger(name)
            if _FILTER not in logger.filters:
                logger.addFilter(_FILTER)
