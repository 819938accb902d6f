"""What the sync engine remembers: booking records, cursors and run history.

The engine never writes to Exact Online without first writing down what it is
about to do. This module defines the vocabulary for that memory and the
:class:`StateStore` protocol every store implements:

- :class:`BookingKey` names one source record (source system, tenant, source id,
  kind); :class:`BookingRecord` says what happened to it in Exact.
- :class:`BookingStatus` is the record's place in a small state machine. The rules
  live in :func:`check_transition` and are shared by every store, so the in-memory
  and the SQLite store cannot disagree::

      (no record) ──record_intent──> PENDING ──mark_booked──> BOOKED
                                       │  ╰────mark_reversed──> REVERSED
                                       ╰──mark_failed──> FAILED ──record_intent──> PENDING ...

  An intent (PENDING) is written, durably, before every Exact write. A PENDING
  record found at the start of a run means a write whose outcome is unknown: the
  engine looks the entry up in Exact by its natural key (journal + ``YourRef``)
  before it writes again.
- :class:`RunRecord` is one run of one pipeline; cursors are small named strings
  per pipeline (a timestamp, a page token) that a pipeline reads and advances.

:class:`MemoryStateStore` keeps everything in dictionaries (tests, notebooks);
:class:`exactbridge.sync.sqlite_store.SQLiteStateStore` is the durable default.

Times are always passed in (``now=``, an aware datetime); no store reads a clock.
"""

from __future__ import annotations

import datetime as dt
import enum
import threading
import types
import uuid
from collections.abc import Iterable, Mapping
from typing import Any, Protocol, runtime_checkable

import attrs

from exactbridge.errors import ConfigurationError, SyncError

__all__ = [
    "KNOWN_KINDS",
    "BookingKey",
    "BookingRecord",
    "BookingStatus",
    "MemoryStateStore",
    "RunRecord",
    "RunStatus",
    "StateStore",
    "check_transition",
    "finished_run",
    "intent_record",
    "outcome_record",
]

#: The kinds of source record the engine books (``BookingKey.kind``). Other
#: non-empty strings are accepted too, so a host can track its own kinds.
KNOWN_KINDS: frozenset[str] = frozenset({"invoice", "payout", "mandate", "account"})


def _non_empty_str(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if not isinstance(value, str) or not value:
        raise ConfigurationError(
            f"got {value!r}",
            key=f"{type(instance).__name__}.{attribute.name}",
            expected="a non-empty string",
        )


def _optional_str(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and not isinstance(value, str):
        raise ConfigurationError(
            f"got {value!r}",
            key=f"{type(instance).__name__}.{attribute.name}",
            expected="a string or None",
        )


def _count(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigurationError(
            f"got {value!r}",
            key=f"{type(instance).__name__}.{attribute.name}",
            expected="a non-negative integer",
        )


def _optional_int(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise ConfigurationError(
            f"got {value!r}",
            key=f"{type(instance).__name__}.{attribute.name}",
            expected="an integer or None",
        )


def _utc(value: object, *, key: str) -> dt.datetime:
    """Return ``value`` as an aware UTC datetime, or raise naming ``key``."""
    if not isinstance(value, dt.datetime) or value.utcoffset() is None:
        raise ConfigurationError(
            f"got {value!r}", key=key, expected="a timezone-aware datetime (UTC)"
        )
    return value.astimezone(dt.timezone.utc)


def _aware(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is None and attribute.name == "finished_at":
        return
    _utc(value, key=f"{type(instance).__name__}.{attribute.name}")


def _to_utc(value: object) -> Any:
    # Converter run before the validator: leave bad values alone for it to report.
    if isinstance(value, dt.datetime) and value.utcoffset() is not None:
        return value.astimezone(dt.timezone.utc)
    return value


def _optional_to_utc(value: object) -> Any:
    return None if value is None else _to_utc(value)


def _frozen_extra(value: object) -> Mapping[str, str]:
    if not isinstance(value, Mapping):
        raise ConfigurationError(
            f"got {value!r}", key="BookingRecord.extra", expected="a mapping of str to str"
        )
    copied = dict(value)
    for k, v in copied.items():
        if not isinstance(k, str) or not isinstance(v, str):
            raise ConfigurationError(
                f"entry {k!r}: {v!r}",
                key="BookingRecord.extra",
                expected="string keys and string values",
            )
    return types.MappingProxyType(copied)


@attrs.frozen
class BookingKey:
    """The identity of one source record in the state store.

    ``source`` is the source system (``"virtuagym"``, ``"eduframe"``, ``"paynl"``...),
    ``tenant`` the club, institute or merchant inside it (several tenants can share
    one store and one Exact division), ``source_id`` the record's id in that system
    (always a string: ``"42"``, never ``42``, so ids of every system compare the same
    way) and ``kind`` what it is: ``"invoice"`` (default), ``"payout"``,
    ``"mandate"`` or ``"account"`` (see :data:`KNOWN_KINDS`). Example::

        key = BookingKey("virtuagym", "club-12", "INV-2024-0042")
    """

    source: str = attrs.field(validator=_non_empty_str)
    tenant: str = attrs.field(validator=_non_empty_str)
    source_id: str = attrs.field(validator=_non_empty_str)
    kind: str = attrs.field(default="invoice", validator=_non_empty_str)

    def __str__(self) -> str:
        return f"{self.source}/{self.tenant}/{self.kind}/{self.source_id}"


class BookingStatus(str, enum.Enum):
    """Where a source record stands in Exact Online.

    The values are the lower-case names; they are what the SQLite store writes.
    """

    PENDING = "pending"
    """An Exact write was decided and recorded, its outcome is not (yet) known."""
    BOOKED = "booked"
    """Exact holds the entry (``exact_id``); its content matches ``content_hash``."""
    FAILED = "failed"
    """The last attempt failed (``last_error``); the next run retries it."""
    SKIPPED = "skipped"
    """Deliberately not booked (by policy: zero amount, before the sync-from date...)."""
    REVERSED = "reversed"
    """The booked entry was cancelled in Exact with a reversing (credit) entry."""
    DELETED = "deleted"
    """The source record was deleted or cancelled and nothing of it is booked in Exact."""


_ANY_ORIGIN: frozenset[BookingStatus | None] = frozenset({None, *BookingStatus})

#: For each target status, the statuses (``None`` = no record yet) it may follow.
_ALLOWED_FROM: Mapping[BookingStatus, frozenset[BookingStatus | None]] = types.MappingProxyType(
    {
        # A write may be intended from any state: first booking, retry after a
        # failure, update or reversal of a booked entry, rebooking after a reversal.
        BookingStatus.PENDING: _ANY_ORIGIN,
        # Outcomes of an Exact write exist only for a recorded intent.
        BookingStatus.BOOKED: frozenset({BookingStatus.PENDING}),
        BookingStatus.REVERSED: frozenset({BookingStatus.PENDING}),
        # A failure can happen at any stage (mapping before any write, or the write).
        BookingStatus.FAILED: _ANY_ORIGIN,
        # Skipping or forgetting a record is only allowed while nothing of it is
        # (known to be) booked; a booked entry must first be reversed in Exact.
        BookingStatus.SKIPPED: frozenset(
            {None, BookingStatus.PENDING, BookingStatus.FAILED, BookingStatus.SKIPPED}
        ),
        BookingStatus.DELETED: frozenset(
            {
                None,
                BookingStatus.PENDING,
                BookingStatus.FAILED,
                BookingStatus.SKIPPED,
                BookingStatus.REVERSED,
                BookingStatus.DELETED,
            }
        ),
    }
)


def check_transition(key: BookingKey, current: BookingStatus | None, target: BookingStatus) -> None:
    """Raise :class:`~exactbridge.errors.SyncError` unless ``current -> target`` is allowed.

    ``current`` is ``None`` when the store has no record for ``key`` yet. The rules:

    ========  =======================================================================
    target    allowed from
    ========  =======================================================================
    PENDING   anything (first write, retry, update or reversal, rebooking)
    BOOKED    PENDING only: an outcome needs a recorded intent
    REVERSED  PENDING only: the reversing entry is itself a write
    FAILED    anything (``exact_id`` of an earlier booking is kept)
    SKIPPED   no record, PENDING, FAILED, SKIPPED
    DELETED   no record, PENDING, FAILED, SKIPPED, REVERSED, DELETED
    ========  =======================================================================

    Example::

        check_transition(key, BookingStatus.BOOKED, BookingStatus.PENDING)  # fine: an update
        check_transition(key, None, BookingStatus.BOOKED)                   # SyncError
    """
    if current not in _ALLOWED_FROM[target]:
        origin = "no record" if current is None else current.name
        raise SyncError(
            f"booking {key}: cannot go from {origin} to {target.name} "
            f"(allowed from: {_describe(_ALLOWED_FROM[target])})"
        )


def _describe(origins: frozenset[BookingStatus | None]) -> str:
    names = ["no record" if o is None else o.name for o in origins]
    return ", ".join(sorted(names))


@attrs.frozen
class BookingRecord:
    """What the store knows about one source record (see :class:`BookingKey`).

    - ``status``: see :class:`BookingStatus`.
    - ``exact_id``: the Exact entry's id (``EntryID`` GUID) of the last known
      booking, kept through later updates, failures and reversals; ``None`` until a
      booking succeeded. For ``kind="account"`` it is the Exact account id.
    - ``entry_number``: Exact's entry number of that booking, when known.
    - ``your_ref`` and ``journal``: the natural key the entry carries in Exact, as
      written with the last intent; the engine finds an entry of unknown outcome
      by them.
    - ``content_hash``: hash of the source version last written (or being written).
    - ``attempts``: how many write intents were ever recorded for this key.
    - ``last_error``: the error of the last failure or the reason of a skip;
      cleared by a booking, a reversal or a deletion.
    - ``created_at`` / ``updated_at``: aware UTC datetimes.
    - ``extra``: small string facts the engine wants to remember next to the
      record (the Exact account id of the party, the id of a reversing entry...).
      Read-only; the ``extra=`` argument of the store's methods merges into it.
    """

    key: BookingKey
    status: BookingStatus
    exact_id: str | None = attrs.field(validator=_optional_str)
    entry_number: int | None = attrs.field(validator=_optional_int)
    your_ref: str | None = attrs.field(validator=_optional_str)
    journal: str | None = attrs.field(validator=_optional_str)
    content_hash: str | None = attrs.field(validator=_optional_str)
    attempts: int = attrs.field(validator=_count)
    last_error: str | None = attrs.field(validator=_optional_str)
    created_at: dt.datetime = attrs.field(converter=_to_utc, validator=_aware)
    updated_at: dt.datetime = attrs.field(converter=_to_utc, validator=_aware)
    extra: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen_extra, hash=False)

    @property
    def is_booked(self) -> bool:
        """True when the record's entry is in Exact (status BOOKED)."""
        return self.status is BookingStatus.BOOKED


class RunStatus(str, enum.Enum):
    """How a pipeline run ended (or that it has not ended yet)."""

    RUNNING = "running"
    """Started and not finished; after a crash a run stays RUNNING in the history."""
    SUCCEEDED = "succeeded"
    """Finished; every record was booked, updated, reversed or skipped."""
    PARTIAL = "partial"
    """Finished, but some records failed; they are retried on the next run."""
    STOPPED = "stopped"
    """Ended early but cleanly (e.g. Exact's daily limit); the next run resumes."""
    FAILED = "failed"
    """Aborted by an error that was not about one record (configuration, auth...)."""


@attrs.frozen
class RunRecord:
    """One run of one pipeline, as kept in the run history.

    ``run_id`` is assigned by the store (increasing). The counts say how many
    records the run booked, updated, reversed, skipped and failed;
    ``exact_calls`` how many Exact Online calls it made; ``notes`` is free text
    for people (why a run stopped, for instance).
    """

    run_id: int = attrs.field(validator=_count)
    pipeline: str = attrs.field(validator=_non_empty_str)
    started_at: dt.datetime = attrs.field(converter=_to_utc, validator=_aware)
    finished_at: dt.datetime | None = attrs.field(converter=_optional_to_utc, validator=_aware)
    status: RunStatus
    booked: int = attrs.field(default=0, validator=_count)
    updated: int = attrs.field(default=0, validator=_count)
    reversed: int = attrs.field(default=0, validator=_count)
    skipped: int = attrs.field(default=0, validator=_count)
    failed: int = attrs.field(default=0, validator=_count)
    exact_calls: int = attrs.field(default=0, validator=_count)
    notes: str = attrs.field(default="", validator=attrs.validators.instance_of(str))

    @property
    def duration(self) -> dt.timedelta | None:
        """``finished_at - started_at``, or ``None`` while the run is RUNNING."""
        return None if self.finished_at is None else self.finished_at - self.started_at


@runtime_checkable
class StateStore(Protocol):
    """The sync engine's memory. Implementations: :class:`MemoryStateStore`,
    :class:`~exactbridge.sync.sqlite_store.SQLiteStateStore`.

    The contract (checked for every implementation by one shared test suite):

    - Every method that changes a booking record validates the transition with
      :func:`check_transition` and raises :class:`~exactbridge.errors.SyncError` for
      an illegal one, leaving the record unchanged. It returns the new record.
    - :meth:`record_intent` is durable before it returns: once it returned, a
      crash of the process (for durable stores: of the machine) cannot lose it.
    - ``now`` is an aware datetime; it is stored in UTC. Stores read no clock.
    - ``extra=`` merges string facts into :attr:`BookingRecord.extra` (a later value
      for the same name wins).
    - Problems of the storage itself (corruption, a locked database, a closed
      store) raise :class:`~exactbridge.errors.SyncError`; arguments of the wrong
      kind raise :class:`~exactbridge.errors.ConfigurationError`.
    - Stores are safe to use from several threads.
    """

    def get(self, key: BookingKey) -> BookingRecord | None:
        """Return the record for ``key``, or ``None`` if the store has none."""
        ...

    def get_many(self, keys: Iterable[BookingKey]) -> dict[BookingKey, BookingRecord]:
        """Return the records of those ``keys`` that have one, in one read.

        Keys without a record are absent from the result. The engine reads a
        whole batch of source records at once with this.
        """
        ...

    def record_intent(
        self,
        key: BookingKey,
        *,
        content_hash: str | None,
        your_ref: str | None,
        journal: str | None,
        now: dt.datetime,
        extra: Mapping[str, str] | None = None,
    ) -> BookingRecord:
        """Record, durably, that an Exact write for ``key`` is about to happen.

        The record becomes PENDING with ``attempts`` one higher, and remembers
        the entry's natural key (``journal`` + ``your_ref``) and the
        ``content_hash`` of the version being written. Call it before each
        write; after a crash, :meth:`pending` lists what to resolve.
        """
        ...

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
        """The intended write succeeded: Exact holds entry ``exact_id`` (PENDING -> BOOKED).

        ``exact_id`` may be given as a :class:`uuid.UUID` (as the Exact client's
        models carry it); it is stored as its canonical lower-case string.
        """
        ...

    def mark_failed(
        self,
        key: BookingKey,
        *,
        error: str,
        now: dt.datetime,
        extra: Mapping[str, str] | None = None,
    ) -> BookingRecord:
        """Record a failure with its reason; :meth:`failed` returns it for the next run."""
        ...

    def mark_skipped(
        self,
        key: BookingKey,
        *,
        now: dt.datetime,
        reason: str | None = None,
        extra: Mapping[str, str] | None = None,
    ) -> BookingRecord:
        """Record that the source record is deliberately not booked (``reason`` kept)."""
        ...

    def mark_reversed(
        self,
        key: BookingKey,
        *,
        now: dt.datetime,
        extra: Mapping[str, str] | None = None,
    ) -> BookingRecord:
        """The intended reversing (credit) entry was booked (PENDING -> REVERSED)."""
        ...

    def mark_deleted(
        self,
        key: BookingKey,
        *,
        now: dt.datetime,
        extra: Mapping[str, str] | None = None,
    ) -> BookingRecord:
        """The source record is gone and nothing of it is booked in Exact."""
        ...

    def failed(
        self,
        source: str | None = None,
        tenant: str | None = None,
        kind: str | None = None,
    ) -> list[BookingRecord]:
        """FAILED records (what the next run retries), oldest update first, optionally filtered."""
        ...

    def pending(
        self,
        source: str | None = None,
        tenant: str | None = None,
        kind: str | None = None,
    ) -> list[BookingRecord]:
        """PENDING records: intents without an outcome, oldest update first.

        The engine resolves each one by a natural-key lookup in Exact before it
        writes that record again.
        """
        ...

    def get_cursor(self, pipeline: str, name: str) -> str | None:
        """Return the cursor ``name`` of ``pipeline``, or ``None`` if it was never set."""
        ...

    def set_cursor(self, pipeline: str, name: str, value: str | None, *, now: dt.datetime) -> None:
        """Set (or, with ``value=None``, remove) the cursor ``name`` of ``pipeline``."""
        ...

    def start_run(self, pipeline: str, *, now: dt.datetime) -> RunRecord:
        """Add a RUNNING run of ``pipeline`` to the history and return it."""
        ...

    def finish_run(
        self,
        run: RunRecord,
        *,
        status: RunStatus,
        now: dt.datetime,
        booked: int = 0,
        updated: int = 0,
        reversed: int = 0,
        skipped: int = 0,
        failed: int = 0,
        exact_calls: int = 0,
        notes: str = "",
    ) -> RunRecord:
        """Close a RUNNING run with its outcome and counts; return the finished record.

        Finishing a run twice, or with ``status=RUNNING``, raises ``SyncError``.
        """
        ...

    def recent_runs(self, pipeline: str | None = None, limit: int = 20) -> list[RunRecord]:
        """The latest runs (of one pipeline, or of all), newest first."""
        ...

    def close(self) -> None:
        """Release the store's resources; later calls raise ``SyncError``. Idempotent."""
        ...


# --- the rules, shared by every store ---------------------------------------------------


def _check_key(key: object) -> BookingKey:
    if not isinstance(key, BookingKey):
        raise ConfigurationError(f"got {key!r}", key="key", expected="a BookingKey")
    return key


def _check_text(value: object, name: str, *, optional: bool = False) -> None:
    if optional and value is None:
        return
    if not isinstance(value, str) or not value:
        raise ConfigurationError(
            f"got {value!r}",
            key=name,
            expected="a non-empty string or None" if optional else "a non-empty string",
        )


def _merged(current: BookingRecord | None, extra: Mapping[str, str] | None) -> dict[str, str]:
    merged = dict(current.extra) if current is not None else {}
    if extra is not None:
        if not isinstance(extra, Mapping):
            raise ConfigurationError(
                f"got {extra!r}", key="extra", expected="a mapping of str to str"
            )
        merged.update(extra)
    return merged


def _transition(
    key: BookingKey,
    current: BookingRecord | None,
    target: BookingStatus,
    *,
    now: dt.datetime,
    extra: Mapping[str, str] | None,
    **changes: Any,
) -> BookingRecord:
    """The new record for ``key`` after moving it to ``target`` (pure; validates)."""
    _check_key(key)
    when = _utc(now, key="now")
    check_transition(key, None if current is None else current.status, target)
    if current is None:
        fields: dict[str, Any] = {
            "exact_id": None,
            "entry_number": None,
            "your_ref": None,
            "journal": None,
            "content_hash": None,
            "attempts": 0,
            "last_error": None,
            "created_at": when,
        }
    else:
        fields = {
            "exact_id": current.exact_id,
            "entry_number": current.entry_number,
            "your_ref": current.your_ref,
            "journal": current.journal,
            "content_hash": current.content_hash,
            "attempts": current.attempts,
            "last_error": current.last_error,
            "created_at": current.created_at,
        }
    fields.update(changes)
    if target is BookingStatus.PENDING:
        fields["attempts"] += 1
    return BookingRecord(
        key=key,
        status=target,
        updated_at=when,
        extra=_merged(current, extra),
        **fields,
    )


def intent_record(
    key: BookingKey,
    current: BookingRecord | None,
    *,
    content_hash: str | None,
    your_ref: str | None,
    journal: str | None,
    now: dt.datetime,
    extra: Mapping[str, str] | None = None,
) -> BookingRecord:
    """The record :meth:`StateStore.record_intent` stores (pure; for store implementers)."""
    _check_text(content_hash, "content_hash", optional=True)
    _check_text(your_ref, "your_ref", optional=True)
    _check_text(journal, "journal", optional=True)
    return _transition(
        key,
        current,
        BookingStatus.PENDING,
        now=now,
        extra=extra,
        content_hash=content_hash,
        your_ref=your_ref,
        journal=journal,
    )


def outcome_record(
    key: BookingKey,
    current: BookingRecord | None,
    target: BookingStatus,
    *,
    now: dt.datetime,
    extra: Mapping[str, str] | None = None,
    exact_id: str | uuid.UUID | None = None,
    entry_number: int | None = None,
    content_hash: str | None = None,
    message: str | None = None,
) -> BookingRecord:
    """The record a ``mark_*`` method stores (pure; for store implementers).

    ``target`` is BOOKED (needs ``exact_id``), FAILED (needs ``message``, the
    error), SKIPPED (``message`` is the optional reason), REVERSED or DELETED.
    """
    changes: dict[str, Any] = {}
    if target is BookingStatus.BOOKED:
        if isinstance(exact_id, uuid.UUID):
            exact_id = str(exact_id)
        _check_text(exact_id, "exact_id")
        _check_text(content_hash, "content_hash", optional=True)
        if entry_number is not None and (
            isinstance(entry_number, bool) or not isinstance(entry_number, int)
        ):
            raise ConfigurationError(
                f"got {entry_number!r}", key="entry_number", expected="an integer or None"
            )
        changes = {
            "exact_id": exact_id,
            "entry_number": entry_number,
            "content_hash": content_hash,
            "last_error": None,
        }
    elif target is BookingStatus.FAILED:
        _check_text(message, "error")
        changes = {"last_error": message}
    elif target is BookingStatus.SKIPPED:
        _check_text(message, "reason", optional=True)
        changes = {"last_error": message}
    elif target in (BookingStatus.REVERSED, BookingStatus.DELETED):
        changes = {"last_error": None}
    else:
        raise ConfigurationError(
            f"got {target!r}", key="target", expected="an outcome status, not PENDING"
        )
    return _transition(key, current, target, now=now, extra=extra, **changes)


def _check_name(pipeline: object, name: str = "pipeline") -> str:
    """Validate a pipeline or cursor name (non-empty string); return it."""
    _check_text(pipeline, name)
    assert isinstance(pipeline, str)
    return pipeline


def finished_run(
    run: RunRecord,
    stored: RunRecord | None,
    *,
    status: RunStatus,
    now: dt.datetime,
    booked: int,
    updated: int,
    reversed: int,
    skipped: int,
    failed: int,
    exact_calls: int,
    notes: str,
) -> RunRecord:
    """The record :meth:`StateStore.finish_run` stores (pure; for store implementers)."""
    if not isinstance(run, RunRecord):
        raise ConfigurationError(f"got {run!r}", key="run", expected="a RunRecord")
    if not isinstance(status, RunStatus):
        raise ConfigurationError(f"got {status!r}", key="status", expected="a RunStatus")
    if stored is None or stored.pipeline != run.pipeline:
        raise SyncError(f"run {run.run_id} of pipeline {run.pipeline!r} is not in this store")
    if status is RunStatus.RUNNING:
        raise SyncError(f"run {run.run_id}: a run cannot finish with status RUNNING")
    if stored.status is not RunStatus.RUNNING:
        raise SyncError(
            f"run {run.run_id} of pipeline {stored.pipeline!r} already finished "
            f"({stored.status.name})"
        )
    return attrs.evolve(
        stored,
        finished_at=_utc(now, key="now"),
        status=status,
        booked=booked,
        updated=updated,
        reversed=reversed,
        skipped=skipped,
        failed=failed,
        exact_calls=exact_calls,
        notes=notes,
    )


def _check_limit(limit: object) -> int:
    """Validate ``recent_runs``' limit (a positive integer); return it."""
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise ConfigurationError(f"got {limit!r}", key="limit", expected="a positive integer")
    return limit


def _matches(
    record: BookingRecord, source: str | None, tenant: str | None, kind: str | None
) -> bool:
    k = record.key
    return (
        (source is None or k.source == source)
        and (tenant is None or k.tenant == tenant)
        and (kind is None or k.kind == kind)
    )


def _order(record: BookingRecord) -> tuple[dt.datetime, str, str, str, str]:
    k = record.key
    return (record.updated_at, k.source, k.tenant, k.kind, k.source_id)


class OutcomeMethods:
    """``mark_booked`` ... ``mark_deleted``, ``failed`` and ``pending`` on two primitives.

    A store supplies ``_outcome(key, status, **facts)`` (one atomic step that reads the
    record, applies :func:`outcome_record` and saves it) and ``_with_status(status,
    source, tenant, kind)``; every store here (memory, SQLite, PostgreSQL) inherits the
    public methods of the protocol from this one class.
    """

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
        """See :meth:`StateStore.mark_booked`."""
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
        """See :meth:`StateStore.mark_failed`."""
        return self._outcome(key, BookingStatus.FAILED, message=error, now=now, extra=extra)

    def mark_skipped(
        self,
        key: BookingKey,
        *,
        now: dt.datetime,
        reason: str | None = None,
        extra: Mapping[str, str] | None = None,
    ) -> BookingRecord:
        """See :meth:`StateStore.mark_skipped`."""
        return self._outcome(key, BookingStatus.SKIPPED, message=reason, now=now, extra=extra)

    def mark_reversed(
        self,
        key: BookingKey,
        *,
        now: dt.datetime,
        extra: Mapping[str, str] | None = None,
    ) -> BookingRecord:
        """See :meth:`StateStore.mark_reversed`."""
        return self._outcome(key, BookingStatus.REVERSED, now=now, extra=extra)

    def mark_deleted(
        self,
        key: BookingKey,
        *,
        now: dt.datetime,
        extra: Mapping[str, str] | None = None,
    ) -> BookingRecord:
        """See :meth:`StateStore.mark_deleted`."""
        return self._outcome(key, BookingStatus.DELETED, now=now, extra=extra)

    def failed(
        self,
        source: str | None = None,
        tenant: str | None = None,
        kind: str | None = None,
    ) -> list[BookingRecord]:
        """See :meth:`StateStore.failed`."""
        return self._with_status(BookingStatus.FAILED, source, tenant, kind)

    def pending(
        self,
        source: str | None = None,
        tenant: str | None = None,
        kind: str | None = None,
    ) -> list[BookingRecord]:
        """See :meth:`StateStore.pending`."""
        return self._with_status(BookingStatus.PENDING, source, tenant, kind)


class MemoryStateStore(OutcomeMethods):
    """A :class:`StateStore` in dictionaries: for tests, notebooks and dry runs.

    Nothing survives the process ("durable" means: stored before the method
    returns). Thread-safe. Example::

        store = MemoryStateStore()
        key = BookingKey("virtuagym", "club-12", "INV-7")
        store.record_intent(key, content_hash="h1", your_ref="INV-7", journal="70", now=now)
        store.mark_booked(key, exact_id="5c1e...", entry_number=700001, content_hash="h1", now=now)
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._records: dict[BookingKey, BookingRecord] = {}
        self._cursors: dict[tuple[str, str], str] = {}
        self._runs: dict[int, RunRecord] = {}
        self._closed = False
        # Used by exactbridge.sync.locks.RunLock for in-process run locks.
        self._run_locks: dict[str, threading.Lock] = {}

    def _open(self) -> None:
        if self._closed:
            raise SyncError("the MemoryStateStore is closed")

    def __enter__(self) -> MemoryStateStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def get(self, key: BookingKey) -> BookingRecord | None:
        """See :meth:`StateStore.get`."""
        _check_key(key)
        with self._lock:
            self._open()
            return self._records.get(key)

    def get_many(self, keys: Iterable[BookingKey]) -> dict[BookingKey, BookingRecord]:
        """See :meth:`StateStore.get_many`."""
        wanted = [_check_key(k) for k in keys]
        with self._lock:
            self._open()
            return {k: self._records[k] for k in wanted if k in self._records}

    def _store(self, record: BookingRecord) -> BookingRecord:
        self._records[record.key] = record
        return record

    def record_intent(
        self,
        key: BookingKey,
        *,
        content_hash: str | None,
        your_ref: str | None,
        journal: str | None,
        now: dt.datetime,
        extra: Mapping[str, str] | None = None,
    ) -> BookingRecord:
        """See :meth:`StateStore.record_intent`."""
        with self._lock:
            self._open()
            return self._store(
                intent_record(
                    key,
                    self._records.get(key),
                    content_hash=content_hash,
                    your_ref=your_ref,
                    journal=journal,
                    now=now,
                    extra=extra,
                )
            )

    def _outcome(self, key: BookingKey, target: BookingStatus, **kwargs: Any) -> BookingRecord:
        with self._lock:
            self._open()
            return self._store(outcome_record(key, self._records.get(key), target, **kwargs))

    def _with_status(
        self,
        status: BookingStatus,
        source: str | None,
        tenant: str | None,
        kind: str | None,
    ) -> list[BookingRecord]:
        with self._lock:
            self._open()
            found = [
                r
                for r in self._records.values()
                if r.status is status and _matches(r, source, tenant, kind)
            ]
        return sorted(found, key=_order)

    def get_cursor(self, pipeline: str, name: str) -> str | None:
        """See :meth:`StateStore.get_cursor`."""
        _check_name(pipeline)
        _check_name(name, "name")
        with self._lock:
            self._open()
            return self._cursors.get((pipeline, name))

    def set_cursor(self, pipeline: str, name: str, value: str | None, *, now: dt.datetime) -> None:
        """See :meth:`StateStore.set_cursor`."""
        _check_name(pipeline)
        _check_name(name, "name")
        _check_cursor_value(value)
        _utc(now, key="now")
        with self._lock:
            self._open()
            if value is None:
                self._cursors.pop((pipeline, name), None)
            else:
                self._cursors[(pipeline, name)] = value

    def start_run(self, pipeline: str, *, now: dt.datetime) -> RunRecord:
        """See :meth:`StateStore.start_run`."""
        _check_name(pipeline)
        when = _utc(now, key="now")
        with self._lock:
            self._open()
            run_id = max(self._runs, default=0) + 1
            run = RunRecord(
                run_id=run_id,
                pipeline=pipeline,
                started_at=when,
                finished_at=None,
                status=RunStatus.RUNNING,
            )
            self._runs[run_id] = run
            return run

    def finish_run(
        self,
        run: RunRecord,
        *,
        status: RunStatus,
        now: dt.datetime,
        booked: int = 0,
        updated: int = 0,
        reversed: int = 0,
        skipped: int = 0,
        failed: int = 0,
        exact_calls: int = 0,
        notes: str = "",
    ) -> RunRecord:
        """See :meth:`StateStore.finish_run`."""
        with self._lock:
            self._open()
            candidate: object = run
            stored = self._runs.get(run.run_id) if isinstance(candidate, RunRecord) else None
            done = finished_run(
                run,
                stored,
                status=status,
                now=now,
                booked=booked,
                updated=updated,
                reversed=reversed,
                skipped=skipped,
                failed=failed,
                exact_calls=exact_calls,
                notes=notes,
            )
            self._runs[done.run_id] = done
            return done

    def recent_runs(self, pipeline: str | None = None, limit: int = 20) -> list[RunRecord]:
        """See :meth:`StateStore.recent_runs`."""
        if pipeline is not None:
            _check_name(pipeline)
        _check_limit(limit)
        with self._lock:
            self._open()
            runs = [r for r in self._runs.values() if pipeline is None or r.pipeline == pipeline]
        runs.sort(key=lambda r: r.run_id, reverse=True)
        return runs[:limit]

    def close(self) -> None:
        """See :meth:`StateStore.close`."""
        with self._lock:
            self._closed = True

    def __repr__(self) -> str:
        return f"MemoryStateStore(records={len(self._records)}, runs={len(self._runs)})"


def _check_cursor_value(value: object) -> None:
    if value is not None and not isinstance(value, str):
        raise ConfigurationError(f"got {value!r}", key="value", expected="a string or None")
