"""exactbridge: book gym, sports-club and education sales and payments into Exact Online."""

from __future__ import annotations

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

__all__ = [
    "APIError",
    "AuthError",
    "AuthorizationRequiredError",
    "Clock",
    "ConfigurationError",
    "DailyRateLimitError",
    "DecodeError",
    "ExactBridgeError",
    "MappingError",
    "OutcomeUnknownError",
    "RateLimitError",
    "SourceError",
    "SyncError",
    "SystemClock",
    "TransportError",
    "__version__",
]
