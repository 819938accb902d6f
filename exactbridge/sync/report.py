"""What a pipeline run did: :class:`SyncReport` and its :class:`RecordResult` rows.

A report is plain data (frozen attrs classes) so a host can log it, store it, turn
it into JSON (:meth:`SyncReport.as_dict`) or a table (:meth:`SyncReport.rows`, one
dict per record, ready for ``pandas.DataFrame``). A dry run (``preview``) returns
the same report with ``dry_run=True``: its actions say what *would* happen, and
each row carries the draft that would have been sent.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import attrs

from exactbridge.mapping import BankEntryDraft, SalesEntryDraft
from exactbridge.sync.state import RunStatus

__all__ = ["Action", "RecordResult", "SyncReport"]


class Action(str, enum.Enum):
    """What a run did (or, in a dry run, would do) with one source record."""

    BOOKED = "booked"
    """A new Exact entry (or mandate) was created."""
    UPDATED = "updated"
    """The booked entry was changed in place (header and lines) to the new version."""
    REVERSED = "reversed"
    """The booked entry was cancelled with a reversing entry (and, for a changed
    record, the new version booked: see :attr:`RecordResult.rebooked`)."""
    SKIPPED = "skipped"
    """Deliberately not booked (policy: before the sync-from date, nothing to book,
    a filtered revenue group, a cancelled record never booked...)."""
    FAILED = "failed"
    """Not booked; the reason is recorded and the next run retries it."""

    def describe(self, dry_run: bool = False) -> str:
        """The action as a report says it: ``"booked"``, or ``"would book"`` in a dry run.

        >>> Action.BOOKED.describe(), Action.BOOKED.describe(dry_run=True)
        ('booked', 'would book')
        """
        if not dry_run:
            return self.value
        return (
            "would "
            + {
                "booked": "book",
                "updated": "update",
                "reversed": "reverse",
                "skipped": "skip",
                "failed": "fail",
            }[self.value]
        )


@attrs.frozen
class RecordResult:
    """One source record in a :class:`SyncReport`.

    ``record_id`` is the source system's id, ``label`` a human name (the invoice
    number), ``exact_id``/``entry_number`` the Exact entry it is booked as (when
    known), ``amount`` the amount booked (incl. VAT; a payout's total), ``reason``
    why it failed or was skipped, ``draft`` the mapped draft (always set in a dry
    run when mapping succeeded) and ``rebooked`` whether a reversal was followed by
    booking the new version.
    """

    record_id: str
    action: Action
    label: str = ""
    source: str = ""
    reason: str | None = None
    exact_id: str | None = None
    entry_number: int | None = None
    amount: Decimal | None = None
    draft: SalesEntryDraft | BankEntryDraft | None = attrs.field(default=None, eq=False, repr=False)
    rebooked: bool = False

    def as_dict(self) -> dict[str, Any]:
        """The row as JSON-ready values (the amount as a decimal string)."""
        return {
            "record_id": self.record_id,
            "label": self.label,
            "source": self.source,
            "action": self.action.value,
            "reason": self.reason,
            "exact_id": self.exact_id,
            "entry_number": self.entry_number,
            "amount": None if self.amount is None else str(self.amount),
            "rebooked": self.rebooked,
        }


def _results(action: Action) -> property:
    def getter(self: SyncReport) -> tuple[RecordResult, ...]:
        return tuple(r for r in self.results if r.action is action)

    getter.__doc__ = f"The records whose action is {action.name}."
    return property(getter)


@attrs.frozen
class SyncReport:
    """The outcome of one pipeline run (``pipeline.run()`` or ``pipeline.preview()``).

    - ``pipeline``: the pipeline's name; ``dry_run``: nothing was written to Exact.
    - ``status``: :class:`~exactbridge.sync.RunStatus` (SUCCEEDED, PARTIAL when some
      records failed, STOPPED when the run ended early but cleanly, e.g. on Exact's
      daily limit, FAILED when a problem that is not about one record ended it).
    - ``results``: one :class:`RecordResult` per record the run acted on; the
      properties :attr:`booked`, :attr:`updated`, :attr:`reversed`,
      :attr:`skipped` and :attr:`failed` filter them.
    - ``unchanged``: records read again that were already booked as they are.
    - ``accounts_created`` / ``accounts_updated``: customers written in Exact.
    - ``exact_calls``: every Exact Online API call of the run, reads included.
    - ``notes``: why the run stopped or failed, for people.
    - ``run_id``: the run's number in the state store's history (``None`` for a
      dry run, which leaves no history).
    - ``error``: the exception that stopped or failed the run, if one did.
    """

    pipeline: str
    status: RunStatus
    started_at: dt.datetime
    finished_at: dt.datetime
    results: tuple[RecordResult, ...] = ()
    dry_run: bool = False
    unchanged: int = 0
    accounts_created: int = 0
    accounts_updated: int = 0
    exact_calls: int = 0
    notes: str = ""
    run_id: int | None = None
    error: Exception | None = attrs.field(default=None, eq=False, repr=False)

    booked = _results(Action.BOOKED)
    updated = _results(Action.UPDATED)
    reversed = _results(Action.REVERSED)
    skipped = _results(Action.SKIPPED)
    failed = _results(Action.FAILED)

    @property
    def duration(self) -> dt.timedelta:
        """How long the run took (on the pipeline's clock)."""
        return self.finished_at - self.started_at

    @property
    def ok(self) -> bool:
        """True when nothing failed and the run was not stopped early."""
        return self.status is RunStatus.SUCCEEDED

    @property
    def calls_per_booking(self) -> Decimal | None:
        """Exact calls per booked, updated or reversed record (two decimals), if any."""
        written = len(self.booked) + len(self.updated) + len(self.reversed)
        if not written:
            return None
        return (Decimal(self.exact_calls) / Decimal(written)).quantize(Decimal("0.01"))

    def counts(self) -> dict[str, int]:
        """The number of records per action, plus ``unchanged``."""
        counts = {action.value: 0 for action in Action}
        for result in self.results:
            counts[result.action.value] += 1
        counts["unchanged"] = self.unchanged
        return counts

    def rows(self) -> list[dict[str, Any]]:
        """One JSON-ready dict per record (e.g. ``pandas.DataFrame(report.rows())``)."""
        return [result.as_dict() for result in self.results]

    def as_dict(self) -> dict[str, Any]:
        """The whole report as JSON-ready values."""
        ratio = self.calls_per_booking
        return {
            "pipeline": self.pipeline,
            "run_id": self.run_id,
            "dry_run": self.dry_run,
            "status": self.status.value,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat(),
            "duration_seconds": _whole_seconds(self.duration),
            "counts": self.counts(),
            "accounts_created": self.accounts_created,
            "accounts_updated": self.accounts_updated,
            "exact_calls": self.exact_calls,
            "calls_per_booking": None if ratio is None else str(ratio),
            "notes": self.notes,
            "results": self.rows(),
        }

    def lines(self) -> Iterator[str]:
        """A short human-readable summary, line by line (failures with their reasons)."""
        counts = self.counts()
        width = 13 if self.dry_run else 10
        yield f"{self.pipeline}: {self.status.value}" + (" (dry run)" if self.dry_run else "")
        for action in Action:
            yield f"  {action.describe(self.dry_run):<{width}} {counts[action.value]:>6}"
        yield f"  {'unchanged':<{width}} {self.unchanged:>6}"
        if self.dry_run:
            yield (
                f"  accounts: would create {self.accounts_created}, "
                f"would update {self.accounts_updated}"
            )
        else:
            yield f"  accounts created {self.accounts_created}, updated {self.accounts_updated}"
        yield f"  Exact calls {self.exact_calls}"
        if self.notes:
            yield f"  note: {self.notes}"
        for result in self.failed:
            failed = "WOULD FAIL" if self.dry_run else "FAILED"
            yield f"  {failed} {result.label or result.record_id}: {result.reason}"


def _whole_seconds(value: dt.timedelta) -> str:
    """A duration as whole seconds in a string (``"95"``): half a second rounds up."""
    return str(value.days * 86400 + value.seconds + (1 if value.microseconds >= 500_000 else 0))
