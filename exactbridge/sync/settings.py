"""Pipeline settings: the seed options about *what* gets synchronised and *when*.

The booking rules themselves (debtors, periods, VAT, ledgers, numbering...) are the
:class:`~exactbridge.mapping.BookingConfig`; these are the engine's own options:
"sync from date" (and an end date for one-off exports), "export existing invoices"
(backfill), what to do when a booked invoice changes or disappears in the source, and
whether to attach its PDF.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from typing import Any

import attrs

from exactbridge.errors import ConfigurationError

__all__ = ["ChangePolicy", "DeletePolicy", "SyncSettings"]


class ChangePolicy(str, enum.Enum):
    """What happens when a booked source invoice changes (its content hash differs)."""

    UPDATE = "update"
    """Change the Exact entry in place (header, then lines: new ones added before the
    old ones are deleted); when Exact refuses (closed period, processed entry),
    reverse it with a credit entry and book the new version."""
    REVERSE = "reverse"
    """Always reverse the booked entry and book the new version (a full audit trail)."""
    IGNORE = "ignore"
    """Leave the booked entry as it is; the change is reported as skipped."""


class DeletePolicy(str, enum.Enum):
    """What happens when a booked source invoice is deleted or cancelled."""

    REVERSE = "reverse"
    """Book a reversing (credit) entry that cancels the booked one."""
    IGNORE = "ignore"
    """Leave the booked entry; the deletion is reported as skipped."""


def _enum(kind: type[enum.Enum], key: str, value: object) -> Any:
    if isinstance(value, kind):
        return value
    try:
        return kind(value)
    except ValueError:
        options = ", ".join(repr(member.value) for member in kind)
        raise ConfigurationError(f"got {value!r}", key=key, expected=f"one of {options}") from None


def _change_policy(value: object) -> ChangePolicy:
    result: ChangePolicy = _enum(ChangePolicy, "sync.on_change", value)
    return result


def _delete_policy(value: object) -> DeletePolicy:
    result: DeletePolicy = _enum(DeletePolicy, "sync.on_delete", value)
    return result


def _date_setting(key: str, value: object) -> dt.date | None:
    if value is None or (isinstance(value, dt.date) and not isinstance(value, dt.datetime)):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise ConfigurationError(f"got {value!r}", key=key, expected="a date such as 2025-01-01")


def _sync_from(value: object) -> dt.date | None:
    return _date_setting("sync.sync_from", value)


def _sync_until(value: object) -> dt.date | None:
    return _date_setting("sync.sync_until", value)


def _until_after_from(instance: SyncSettings, attribute: Any, value: dt.date | None) -> None:
    if value is not None and instance.sync_from is not None and value < instance.sync_from:
        raise ConfigurationError(
            f"{value} is before sync_from {instance.sync_from}",
            key="sync.sync_until",
            expected=f"a date on or after {instance.sync_from}",
        )


def _flag(key: str) -> Any:
    def check(instance: object, attribute: attrs.Attribute[Any], value: object) -> None:
        if not isinstance(value, bool):
            raise ConfigurationError(f"got {value!r}", key=key, expected="true or false")

    return check


@attrs.frozen
class SyncSettings:
    """The engine's options for one pipeline.

    - ``sync_from``: invoices dated before this day are not booked (the seeds'
      "sync from date"); ``None``: no lower bound.
    - ``sync_until``: the last day to book, for a one-off export of a date range
      (``sync_from`` to ``sync_until``, both included). Invoices and payouts dated
      later are reported as skipped but *not* recorded in the state store, and the
      run keeps the source's cursor where it was, so a later run without the bound
      still reads and books them. Changes to what is booked already are handled as
      always, whatever their date. ``None``: no upper bound.
    - ``backfill``: "export existing invoices". ``False`` books only invoices dated
      on or after the pipeline's first run (remembered in the state store), so
      switching an integration on does not push years of history into Exact.
    - ``on_change``: :class:`ChangePolicy` (default: update in place, else reverse
      and rebook).
    - ``on_delete``: :class:`DeletePolicy` (default: reverse).
    - ``attach_pdf``: attach the invoice PDF (from the source, or the pipeline's
      ``pdf_renderer``) to the sales entry as an Exact document.

    >>> settings = SyncSettings.from_mapping({"sync_from": "2025-01-01", "on_change": "reverse"})
    >>> settings.sync_from, settings.on_change.value, settings.backfill
    (datetime.date(2025, 1, 1), 'reverse', True)
    """

    sync_from: dt.date | None = attrs.field(default=None, converter=_sync_from)
    sync_until: dt.date | None = attrs.field(
        default=None, converter=_sync_until, validator=_until_after_from
    )
    backfill: bool = attrs.field(default=True, validator=_flag("sync.backfill"))
    on_change: ChangePolicy = attrs.field(default=ChangePolicy.UPDATE, converter=_change_policy)
    on_delete: DeletePolicy = attrs.field(default=DeletePolicy.REVERSE, converter=_delete_policy)
    attach_pdf: bool = attrs.field(default=False, validator=_flag("sync.attach_pdf"))

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> SyncSettings:
        """Build settings from a parsed TOML table; unknown keys are refused by name."""
        if not isinstance(data, Mapping):
            raise ConfigurationError(f"got {data!r}", key="sync", expected="a table")
        known = {field.name for field in attrs.fields(cls)}
        for name in data:
            if name not in known:
                raise ConfigurationError(
                    f"unknown setting {name!r}",
                    key=f"sync.{name}",
                    expected="one of " + ", ".join(sorted(known)),
                )
        return cls(**dict(data))
