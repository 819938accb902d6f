"""The outcome methods every SQL-backed state store shares.

A store supplies ``_outcome(key, status, **facts)`` (one transaction that reads the
record, applies :func:`~exactbridge.sync.state.outcome_record` and saves it) and
``_with_status(status, source, tenant, kind)``; the public ``mark_*``, ``failed``
and ``pending`` methods of the :class:`~exactbridge.sync.state.StateStore`
protocol are spelled out here once.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any

from exactbridge.sync.state import BookingKey, BookingRecord, BookingStatus

__all__ = ["OutcomeMethods"]


class OutcomeMethods:
    """``mark_booked`` ... ``mark_deleted``, ``failed`` and ``pending`` on two primitives."""

    def _outcome(self, key: BookingKey, target: BookingStatus, **kwargs: Any) -> BookingRecord:
        raise NotImplementedError  # pragma: no cover - every store defines it

    def _with_status(
        self,
        status: BookingStatus,
        source: str | None,
        tenant: str | None,
        kind: str | None,
    ) -> list[BookingRecord]:
        raise NotImplementedError  # pragma: no cover - every store defines it

    def mark_booked(
        self,
        key: BookingKey,
        *,
        exact_id: str | uuid.UUID,
        entry_number: int | None,
        content_hash: str | None,
        now: dt.datetime,
        extra: Mapping[str, str] | None = None,
    ) -> BookingRecord:
        """See :meth:`~exactbridge.sync.state.StateStore.mark_booked`."""
        return self._outcome(
            key,
            BookingStatus.BOOKED,
            exact_id=exact_id,
            entry_number=entry_number,
            content_hash=content_hash,
            now=now,
            extra=extra,
        )

    def mark_failed(
        self,
        key: BookingKey,
        *,
        error: str,
        now: dt.datetime,
        extra: Mapping[str, str] | None = None,
    ) -> BookingRecord:
        """See :meth:`~exactbridge.sync.state.StateStore.mark_failed`."""
        return self._outcome(key, BookingStatus.FAILED, message=error, now=now, extra=extra)

    def mark_skipped(
        self,
        key: BookingKey,
        *,
        now: dt.datetime,
        reason: str | None = None,
        extra: Mapping[str, str] | None = None,
    ) -> BookingRecord:
        """See :meth:`~exactbridge.sync.state.StateStore.mark_skipped`."""
        return self._outcome(key, BookingStatus.SKIPPED, message=reason, now=now, extra=extra)

    def mark_reversed(
        self,
        key: BookingKey,
        *,
        now: dt.datetime,
        extra: Mapping[str, str] | None = None,
    ) -> BookingRecord:
        """See :meth:`~exactbridge.sync.state.StateStore.mark_reversed`."""
        return self._outcome(key, BookingStatus.REVERSED, now=now, extra=extra)

    def mark_deleted(
        self,
        key: BookingKey,
        *,
        now: dt.datetime,
        extra: Mapping[str, str] | None = None,
    ) -> BookingRecord:
        """See :meth:`~exactbridge.sync.state.StateStore.mark_deleted`."""
        return self._outcome(key, BookingStatus.DELETED, now=now, extra=extra)

    def failed(
        self,
        source: str | None = None,
        tenant: str | None = None,
        kind: str | None = None,
    ) -> list[BookingRecord]:
        """See :meth:`~exactbridge.sync.state.StateStore.failed`."""
        return self._with_status(BookingStatus.FAILED, source, tenant, kind)

    def pending(
        self,
        source: str | None = None,
        tenant: str | None = None,
        kind: str | None = None,
    ) -> list[BookingRecord]:
        """See :meth:`~exactbridge.sync.state.StateStore.pending`."""
        return self._with_status(BookingStatus.PENDING, source, tenant, kind)
