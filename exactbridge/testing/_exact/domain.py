"""The fake Exact Online's domain layer: divisions, tables, validation, bookkeeping.

INTERFACE STUB written by the lead; the domain helper replaces the bodies. The protocol
layer calls only what is declared here.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from exactbridge.testing._exact.schema import EntitySet

__all__ = ["ExactDomain", "FakeODataError"]


class FakeODataError(Exception):
    """An error the fake answers with Exact's error body.

    ``status`` is the HTTP status (Exact reports many business rules as 500),
    ``message`` the text for ``error.message.value`` (several messages joined by CRLF).
    """

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class ExactDomain:
    """All state of the fake's administrations (divisions) and their rules.

    ``now`` returns the fake's current time (aware UTC); the domain converts it to
    Amsterdam wall-clock time for ``Created``/``Modified`` and uses it for ``Timestamp``.
    """

    def __init__(self, now: Callable[[], dt.datetime]) -> None:
        raise NotImplementedError

    # -- registry -------------------------------------------------------------------
    def entity_set(self, path: str) -> EntitySet | None:
        """Look an entity set up by its path below the division (case-insensitive)."""
        raise NotImplementedError

    def entity_sets(self) -> Iterable[EntitySet]:
        raise NotImplementedError

    # -- divisions ------------------------------------------------------------------
    def add_division(self, code: int, *, description: str = "", country: str = "NL") -> None:
        raise NotImplementedError

    def has_division(self, code: int) -> bool:
        raise NotImplementedError

    def divisions(self) -> list[int]:
        raise NotImplementedError

    def reset(self) -> None:
        """Forget every division and row."""
        raise NotImplementedError

    # -- data -------------------------------------------------------------------------
    def rows(self, division: int, entity_set: EntitySet) -> list[dict[str, Any]]:
        """All rows of the set in key/creation order (copies; the protocol filters and pages)."""
        raise NotImplementedError

    def get(self, division: int, entity_set: EntitySet, key: uuid.UUID | int) -> dict[str, Any]:
        """One row by key; FakeODataError(404) if absent."""
        raise NotImplementedError

    def children(
        self, division: int, entity_set: EntitySet, key: uuid.UUID | int, navigation: str
    ) -> list[dict[str, Any]]:
        """Child rows of one parent through a navigation property (e.g. SalesEntryLines)."""
        raise NotImplementedError

    def create(
        self, division: int, entity_set: EntitySet, body: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Validate and store a POST body (JSON-decoded, numbers as Decimal); return the row."""
        raise NotImplementedError

    def update(
        self, division: int, entity_set: EntitySet, key: uuid.UUID | int, body: Mapping[str, Any]
    ) -> None:
        """Merge a PUT body into a row (validated)."""
        raise NotImplementedError

    def delete(self, division: int, entity_set: EntitySet, key: uuid.UUID | int) -> None:
        raise NotImplementedError

    def current_user(self) -> dict[str, Any]:
        """The row served by current/Me (its CurrentDivision is the last used division)."""
        raise NotImplementedError
