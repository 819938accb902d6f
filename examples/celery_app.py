"""Book every club from Celery: one task per (division, pipeline), beat schedules, webhooks.

A vendor with many clubs, each its own Exact division, lets the job engine its web app
already runs do the scheduling. This file is that Celery app:

- ``build_pipeline(division, pipeline)`` is the host's factory: it knows each club's
  source credentials, booking rules and state store, and returns a pipeline that
  closes what it opened (here on fakes; see the bottom of the file for real ones);
- ``sync`` is the task (:func:`exactbridge.sync.celery.register_sync_task`): it runs a
  pipeline under its run lock, holds back while the division's Exact budget is used
  up, and retries at Exact's reset, after a busy lock or after an outage;
- ``app.conf.beat_schedule`` runs every club every two hours and once a night;
- ``on_webhook`` is what a webhook view calls: a burst of them costs one run.

Run it here, with an in-memory broker and a worker thread (no servers needed)::

    python examples/celery_app.py

In production, point it at your broker and start a worker with beat::

    CELERY_BROKER_URL=redis://localhost:6379/0 celery -A celery_app worker --beat
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
import threading
from decimal import Decimal
from pathlib import Path

import celery

from exactbridge.exact import RateLimiter
from exactbridge.mapping import BookingConfig
from exactbridge.sources.virtuagym import VirtuagymClient
from exactbridge.sync import (
    InvoicePipeline,
    SQLiteStateStore,
    StateStore,
    SyncReport,
    VirtuagymInvoices,
)
from exactbridge.sync.celery import beat_schedule, enqueue_sync, register_sync_task
from exactbridge.testing import FakeClock, FakeExactOnline
from exactbridge.testing.virtuagym import FakeVirtuagym

# -- the Celery app -------------------------------------------------------------------------

app = celery.Celery(
    "clubs",
    broker=os.environ.get("CELERY_BROKER_URL", "memory://"),
    backend=os.environ.get("CELERY_RESULT_BACKEND", "cache+memory://"),
)
app.conf.update(
    timezone="Europe/Amsterdam",  # the nightly run is at 02:30 Amsterdam time
    task_serializer="json",
    accept_content=["json"],
    worker_prefetch_multiplier=1,  # one long run per worker slot at a time
    worker_hijack_root_logger=False,
)

# -- the host's world: clubs, their Exact divisions, their state --------------------------
# On the fakes here. A real host reads this from its own database.

CLUBS = {1001: "Sportschool De Berg", 1002: "Zwemclub Golf", 1003: "Yoga Noord"}
PIPELINE = "virtuagym"
RULES = BookingConfig.from_mapping(
    {
        "sales_journal": "70",
        "debtor": {"guest_debtor_code": "1"},
        "vat": {"codes": {"1": "2", "2": "1", "0": "0"}},
        "ledger": {"default_account": "8000", "by_vat_category": {"2": "8010"}},
        "numbering": {"enabled": False},
    }
)
clock = FakeClock(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.timezone.utc))
exact = FakeExactOnline(clock=clock)
clubs: dict[int, FakeVirtuagym] = {}
state_dir = Path(tempfile.mkdtemp(prefix="exactbridge-celery-"))
# One rate limiter for every client of this process: the task reads the budget it
# keeps. Several machines share one PostgresRateLimiter instead (same interface).
budget = RateLimiter()
_seed_lock = threading.Lock()


def seed() -> None:
    """Three clubs with a few members and membership invoices each."""
    for division in CLUBS:
        exact.add_division(division, template="nl", customers=["Kassaverkoop"])
        club = FakeVirtuagym(club_id=division, clock=clock)
        for number in range(division - 1000 + 1):
            member = club.add_member(firstname="Lid", lastname=f"{division}-{number}")
            add_membership(club, member["member_id"], "39.95")
        clubs[division] = club


def add_membership(club: FakeVirtuagym, member_id: int, price: str) -> None:
    row = {"name": "Abonnement maart", "price": Decimal(price), "tax": 2}
    club.add_invoice(member_id=member_id, invoice_date=dt.date(2026, 3, 1), rows=[row])


class ClubPipeline:
    """The pipeline of one division, closing its clients and store when the run is over."""

    def __init__(self, division: int) -> None:
        club = clubs[division]
        self.store: StateStore = SQLiteStateStore(state_dir / f"{division}-{PIPELINE}.sqlite3")
        self._exact = exact.client(division, rate_limiter=budget)
        self._source = VirtuagymClient(club.credentials, transport=club.transport(), clock=clock)
        self._pipeline = InvoicePipeline(
            VirtuagymInvoices(self._source), self._exact, RULES, self.store, clock=clock
        )
        self.name = self._pipeline.name

    def run(self) -> SyncReport:
        return self._pipeline.run()

    def __enter__(self) -> ClubPipeline:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._source.close()
        self._exact.close()
        self.store.close()


def build_pipeline(division: int, pipeline: str) -> ClubPipeline:
    """The factory the task calls: (division, pipeline name) -> a runnable pipeline."""
    if division not in CLUBS or pipeline != PIPELINE:
        raise LookupError(f"no pipeline {pipeline!r} for division {division}")
    # The fake clock moves only when told: let a second pass between a request and its
    # run, as real time does (a webhook is covered by a run that started after it).
    clock.advance(1)
    return ClubPipeline(division)


seed()

# -- the task, its schedule and the webhook entry point -----------------------------------

sync = register_sync_task(app, build_pipeline, budget=budget, clock=clock, busy_retry_seconds=2)
app.conf.beat_schedule = beat_schedule(
    CLUBS, [PIPELINE], every=dt.timedelta(hours=2), nightly_at=dt.time(2, 30)
)


def on_webhook(division: int) -> celery.result.AsyncResult:
    """A webhook view calls this: runs the division soon; a burst costs one run."""
    return enqueue_sync(sync, division, PIPELINE, countdown=0.5, clock=clock)


# -- run it here ----------------------------------------------------------------------------


def main() -> None:
    from celery.contrib.testing.worker import start_worker

    print("beat entries:")
    for name, entry in sorted(app.conf.beat_schedule.items()):
        print(f"  {name}: {entry['schedule']}")
    with start_worker(app, pool="threads", concurrency=3, perform_ping_check=False):
        print("== the scheduled runs: every club is booked")
        results = [sync.delay(division, PIPELINE) for division in CLUBS]
        for result in results:
            summary = result.get(timeout=60)
            print(
                f"  division {summary['division']}: {summary['status']}, "
                f"booked {summary['counts']['booked']}"
            )
        print("== a burst of three webhooks after one new invoice in division 1002")
        clock.advance(60)
        add_membership(clubs[1002], next(iter(clubs[1002].members)), "59.95")
        burst = [on_webhook(1002) for _ in range(3)]
        summaries = [result.get(timeout=60) for result in burst]
        booked = sum(summary["counts"].get("booked", 0) for summary in summaries)
        print(f"  booked {booked} in {sum(s['status'] != 'covered' for s in summaries)} run(s)")
    print("== what Exact holds")
    for division in CLUBS:
        with exact.client(division) as books:
            entries = list(books.sales_entries.iterate())
        total = sum((entry.amount_fc for entry in entries), Decimal(0))
        print(f"  division {division}: {len(entries)} sales entries, {total} EUR")
    shutil.rmtree(state_dir, ignore_errors=True)


if __name__ == "__main__":
    main()

# -- with a real club and a real administration -------------------------------------------
# build_pipeline would read the club's settings from the host's database and return
#   InvoicePipeline(VirtuagymInvoices(VirtuagymClient(VirtuagymCredentials(...))),
#                   ExactClient(division=division, credentials=..., token_store=
#                               PostgresTokenStore(conninfo, name=app_name),
#                               rate_limiter=limiter),
#                   rules, PostgresStateStore(conninfo, schema=f"club_{division}"))
# with one PostgresRateLimiter(conninfo, app=client_id) per worker process, passed to
# register_sync_task(app, build_pipeline, budget=limiter) too.
