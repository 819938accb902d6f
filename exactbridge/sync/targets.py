"""Which Exact administration a state store belongs to, and the guard that keeps it so.

A state store remembers what was booked *where*: "invoice 42 is entry 7001" is true
in one Exact division of one Exact site, and false in every other. Before this
guard, pointing a store at another division (the fake-server rehearsal invites it:
the pasted ``[exact]`` section changes, the state file does not) made a sync report
"succeeded", every record "unchanged", and book nothing.

Now every pipeline run checks the store's *Exact target*, ``"<base url>#<division>"``:

* a store that has none yet (new, or written by an exactbridge before this guard)
  takes the target of its first run; a store's earlier records are then taken to
  belong to that target, which is logged at WARNING when it holds runs already;
* a store whose target is another one refuses the run with
  :class:`~exactbridge.errors.StateTargetError` before anything is read or written,
  naming both targets and the fix (one state file per division: ``[state] path``,
  or the CLI's default path, which differs per configuration file and division).

The target is kept as a cursor of the reserved pipeline name :data:`TARGET_PIPELINE`,
so every :class:`~exactbridge.sync.StateStore` carries it without a schema change,
and no record is rewritten or lost. A preview checks the target but never sets it.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING

from exactbridge.errors import StateTargetError

if TYPE_CHECKING:
    from exactbridge.exact import ExactClient
    from exactbridge.sync.state import StateStore

__all__ = ["TARGET_CURSOR", "TARGET_PIPELINE", "check_target", "exact_target", "store_target"]

#: The reserved pipeline name under which a store keeps its Exact target.
TARGET_PIPELINE = "exactbridge"
#: The cursor name of the Exact target.
TARGET_CURSOR = "exact-target"

log = logging.getLogger("exactbridge.sync")


def exact_target(exact: ExactClient) -> str:
    """The Exact target of a client: ``"<base url>#<division>"``.

    >>> from exactbridge.testing import FakeExactOnline
    >>> fake = FakeExactOnline()
    >>> fake.add_division(123, template=None)
    >>> exact_target(fake.client(123))
    'https://start.exactonline.nl#123'
    """
    return f"{exact.base_url.rstrip('/')}#{exact.division}"


def store_target(store: StateStore) -> str | None:
    """The Exact target ``store`` belongs to, or ``None`` when no run has set it."""
    return store.get_cursor(TARGET_PIPELINE, TARGET_CURSOR)


def check_target(
    store: StateStore, target: str, *, pipeline: str, now: dt.datetime, claim: bool = True
) -> None:
    """Refuse ``store`` if it belongs to another target; with ``claim``, take an unset one.

    Raises :class:`~exactbridge.errors.StateTargetError` on a mismatch.
    """
    current = store_target(store)
    if current == target:
        return
    if current is not None:
        raise StateTargetError(stored=current, wanted=target, pipeline=pipeline)
    if not claim:
        return
    earlier = store.recent_runs(limit=1)
    store.set_cursor(TARGET_PIPELINE, TARGET_CURSOR, target, now=now)
    if earlier:
        log.warning(
            "state store: its earlier records (written before exactbridge kept the Exact "
            "target) are taken to belong to %s; if they were booked elsewhere, give this "
            "division its own state file",
            target,
        )
    else:
        log.info("state store: belongs to %s from now on", target)
