"""The state store's value types and the pure transition rules."""

from __future__ import annotations

import datetime as dt

import attrs
import pytest

from exactbridge.errors import ConfigurationError, SyncError
from exactbridge.sync import locks, sqlite_store, state
from exactbridge.sync.state import (
    KNOWN_KINDS,
    BookingKey,
    BookingStatus,
    RunRecord,
    RunStatus,
    check_transition,
    intent_record,
    outcome_record,
)

UTC = dt.timezone.utc
T0 = dt.datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
KEY = BookingKey("eduframe", "inst-3", "880")


def test_booking_key_defaults_equality_and_text():
    assert KEY.kind == "invoice"
    assert BookingKey("eduframe", "inst-3", "880", "invoice") == KEY
    assert BookingKey("eduframe", "inst-3", "880", "payout") != KEY
    assert len({KEY, BookingKey("eduframe", "inst-3", "880")}) == 1
    assert str(KEY) == "eduframe/inst-3/invoice/880"
    assert {"invoice", "payout", "mandate", "account"} == KNOWN_KINDS
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        KEY.source_id = "881"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("field", "args"),
    [
        ("source", ("", "t", "1")),
        ("tenant", ("s", None, "1")),
        ("source_id", ("s", "t", 1)),
        ("kind", ("s", "t", "1", "")),
    ],
)
def test_booking_key_fields_must_be_non_empty_strings(field, args):
    with pytest.raises(ConfigurationError, match=rf"BookingKey\.{field}"):
        BookingKey(*args)


def test_booking_records_are_frozen_hashable_values():
    record = intent_record(
        KEY, None, content_hash="h", your_ref="880", journal="70", now=T0, extra={"a": "1"}
    )
    same = intent_record(
        KEY, None, content_hash="h", your_ref="880", journal="70", now=T0, extra={"a": "1"}
    )
    assert record == same
    assert hash(record) == hash(same)
    assert record != attrs.evolve(record, extra={"a": "2"})
    with pytest.raises(TypeError):
        record.extra["a"] = "2"  # type: ignore[index]
    with pytest.raises(ConfigurationError, match="extra"):
        attrs.evolve(record, extra={"a": 1})
    with pytest.raises(ConfigurationError, match="attempts"):
        attrs.evolve(record, attempts=-1)
    with pytest.raises(ConfigurationError, match="updated_at"):
        attrs.evolve(record, updated_at=dt.datetime(2026, 3, 1))


def test_pure_rules_do_not_change_their_input():
    pending = intent_record(KEY, None, content_hash="h", your_ref="880", journal="70", now=T0)
    later = T0 + dt.timedelta(hours=1)
    booked = outcome_record(
        KEY, pending, BookingStatus.BOOKED, now=later, exact_id="g", entry_number=5
    )
    assert pending.status is BookingStatus.PENDING
    assert (booked.status, booked.exact_id, booked.created_at, booked.updated_at) == (
        BookingStatus.BOOKED,
        "g",
        T0,
        later,
    )
    with pytest.raises(ConfigurationError, match="outcome status"):
        outcome_record(KEY, pending, BookingStatus.PENDING, now=later)


def test_transition_errors_name_the_record_and_what_is_allowed():
    with pytest.raises(SyncError) as info:
        check_transition(KEY, BookingStatus.BOOKED, BookingStatus.SKIPPED)
    text = str(info.value)
    assert "eduframe/inst-3/invoice/880" in text
    assert "BOOKED to SKIPPED" in text
    assert "allowed from: FAILED, PENDING, SKIPPED, no record" in text
    check_transition(KEY, BookingStatus.BOOKED, BookingStatus.PENDING)


def test_run_record_validation_and_duration():
    run = RunRecord(
        run_id=1,
        pipeline="vg",
        started_at=T0,
        finished_at=T0 + dt.timedelta(seconds=90),
        status=RunStatus.SUCCEEDED,
        booked=3,
    )
    assert run.duration == dt.timedelta(seconds=90)
    with pytest.raises(ConfigurationError, match=r"RunRecord\.failed"):
        attrs.evolve(run, failed=-1)
    with pytest.raises(ConfigurationError, match=r"RunRecord\.started_at"):
        attrs.evolve(run, started_at=dt.datetime(2026, 1, 1))
    with pytest.raises(ConfigurationError, match=r"RunRecord\.pipeline"):
        attrs.evolve(run, pipeline="")


def test_status_values_are_stable_strings():
    # These strings are stored in databases: changing one needs a migration.
    assert [s.value for s in BookingStatus] == [
        "pending",
        "booked",
        "failed",
        "skipped",
        "reversed",
        "deleted",
    ]
    assert [s.value for s in RunStatus] == [
        "running",
        "succeeded",
        "partial",
        "stopped",
        "failed",
    ]


@pytest.mark.parametrize("module", [state, sqlite_store, locks])
def test_public_names_exist_and_are_documented(module):
    for name in module.__all__:
        obj = getattr(module, name)
        if callable(obj):
            assert obj.__doc__, f"{module.__name__}.{name} has no docstring"
