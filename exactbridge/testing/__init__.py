"""Public, supported fakes for test suites: a stateful fake Exact Online and a fake clock.

Plug the fakes in at the httpx transport seam so the real client code runs::

    from exactbridge.testing import FakeExactOnline

    fake = FakeExactOnline()
    fake.add_division(123, template="nl")
    transport = fake.transport()          # or fake.async_transport()

Opt-in pytest fixtures: ``pytest_plugins = ["exactbridge.testing.pytest_plugin"]``.
"""

from __future__ import annotations

from exactbridge.testing._exact.domain import FakeODataError
from exactbridge.testing._exact.fake import (
    DEFAULT_CLIENT_ID,
    DEFAULT_CLIENT_SECRET,
    DEFAULT_REDIRECT_URI,
    FakeExactOnline,
)
from exactbridge.testing._exact.faults import CallRecord, Fault, TokenCall
from exactbridge.testing._exact.oauth import TokenGrant
from exactbridge.testing.clock import FakeClock

__all__ = [
    "DEFAULT_CLIENT_ID",
    "DEFAULT_CLIENT_SECRET",
    "DEFAULT_REDIRECT_URI",
    "CallRecord",
    "FakeClock",
    "FakeExactOnline",
    "FakeODataError",
    "Fault",
    "TokenCall",
    "TokenGrant",
]
