"""exactbridge: book gym, sports-club and education sales and payments into Exact Online.

The most used names are importable from here. The Exact client names (``ExactClient``,
``AsyncExactClient``, ``Credentials``, the token stores, ``P``) load on first use, so
``import exactbridge.mapping`` or ``exactbridge.records`` never pulls in httpx.

>>> import exactbridge
>>> exactbridge.ExactClient.__name__
'ExactClient'
"""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING, Any

from exactbridge._version import __version__
from exactbridge.clock import Clock, SystemClock
from exactbridge.errors import (
    APIError,
    AuthError,
    AuthorizationRequiredError,
    ConfigurationError,
    DailyRateLimitError,
    DecodeError,
    ExactBridgeError,
    MappingError,
    OutcomeUnknownError,
    RateLimitError,
    SourceError,
    SyncError,
    TransportError,
)
from exactbridge.records import (
    Fee,
    Invoice,
    InvoiceLine,
    Mandate,
    Party,
    Payment,
    Payout,
)

if TYPE_CHECKING:
    from exactbridge.exact import (
        AsyncExactClient,
        Credentials,
        ExactClient,
        FileTokenStore,
        MemoryTokenStore,
        P,
        SQLiteTokenStore,
        Token,
        TokenStore,
    )

_LAZY = dict.fromkeys(
    (
        "AsyncExactClient",
        "Credentials",
        "ExactClient",
        "FileTokenStore",
        "MemoryTokenStore",
        "P",
        "SQLiteTokenStore",
        "Token",
        "TokenStore",
    ),
    "exactbridge.exact",
)

# A library configures no logging output of its own: the host decides (see logging's
# "Configuring Logging for a Library"). Loggers: exactbridge.sync, exactbridge.exact...
logging.getLogger("exactbridge").addHandler(logging.NullHandler())

__all__ = [
    "APIError",
    "AsyncExactClient",
    "AuthError",
    "AuthorizationRequiredError",
    "Clock",
    "ConfigurationError",
    "Credentials",
    "DailyRateLimitError",
    "DecodeError",
    "ExactBridgeError",
    "ExactClient",
    "Fee",
    "FileTokenStore",
    "Invoice",
    "InvoiceLine",
    "Mandate",
    "MappingError",
    "MemoryTokenStore",
    "OutcomeUnknownError",
    "P",
    "Party",
    "Payment",
    "Payout",
    "RateLimitError",
    "SQLiteTokenStore",
    "SourceError",
    "SyncError",
    "SystemClock",
    "Token",
    "TokenStore",
    "TransportError",
    "__version__",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'exactbridge' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
