"""A real ``celery worker`` (prefork pool) loses its pool process in the middle of a run.

The pool process dies right after Exact booked the third of eight invoices, before the
state store could record it. With ``acks_late`` and ``reject_on_worker_lost`` the message
goes back to the queue, a new pool process runs the task again, and Exact ends up with
exactly one entry per invoice; the third is found by its YourRef, not posted again.
The worker is a subprocess on the test Redis; the fakes are served from this process.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import uuid
from decimal import Decimal
from pathlib import Path

import pytest

pytest.importorskip("celery", reason="not run: Celery is not installed (exactbridge[celery])")

import celery

from exactbridge.sync import SQLiteStateStore
from exactbridge.testing import DEFAULT_CLIENT_ID, FakeClock, FakeExactOnline
from exactbridge.testing.server import serve
from exactbridge.testing.virtuagym import FakeVirtuagym

pytestmark = [pytest.mark.celery, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
DIVISION = 1001
INVOICES = 8
WAIT = 90.0


@pytest.fixture
def fakes() -> tuple[FakeExactOnline, FakeVirtuagym]:
    clock = FakeClock(dt.datetime.now(dt.timezone.utc))
    exact = FakeExactOnline(clock=clock, minutely_limit=10_000, daily_limit=100_000)
    exact.add_division(DIVISION, template="nl")
    club = FakeVirtuagym(clock=clock)
    member = club.add_member(firstname="Ann", lastname="Smit")
    for day in range(1, INVOICES + 1):
        row = {"name": f"Les {day}", "price": Decimal("12.10"), "tax": 1}
        club.add_invoice(
            member_id=member["member_id"], invoice_date=dt.date(2026, 2, day), rows=[row]
        )
    return exact, club


def test_a_lost_pool_process_is_delivered_again_and_books_each_invoice_once(
    redis_url: str, fakes: tuple[FakeExactOnline, FakeVirtuagym], tmp_path: Path
):
    exact, club = fakes
    queue = f"exactbridge-crash-{uuid.uuid4().hex[:10]}"
    grant = exact.issue_tokens(DEFAULT_CLIENT_ID)
    creds = club.credentials
    with serve(exact) as exact_server, serve(club) as club_server:
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "EB_BROKER": redis_url,
            "EB_QUEUE": queue,
            "EB_EXACT_URL": exact_server.url,
            "EB_VG_URL": club_server.url + "/api/v1",
            "EB_VG_CREDENTIALS": json.dumps(
                {
                    "club_id": creds.club_id,
                    "api_key": creds.api_key,
                    "club_secret": creds.club_secret,
                }
            ),
            "EB_TOKEN": json.dumps(
                {
                    "access_token": grant.access_token,
                    "refresh_token": grant.refresh_token,
                    "issued_at": grant.issued_at.isoformat(),
                    "expires_in": int(grant.expires_in),
                }
            ),
            "EB_STATE": str(tmp_path / "state.sqlite3"),
            "EB_CRASH_MARKER": str(tmp_path / "crashed"),
            "EB_CRASH_AFTER": "3",
        }
        worker = subprocess.Popen(
            [
                *(sys.executable, "-m", "celery", "-A", "tests.sync.celery_crash_app", "worker"),
                *("--pool", "prefork", "--concurrency", "1", "--queues", queue),
                *("--without-gossip", "--without-mingle", "--without-heartbeat"),
                *("--loglevel", "INFO", "--hostname", f"{queue}@localhost"),
            ],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        sender = celery.Celery("exactbridge-crash-sender", broker=redis_url, backend=redis_url)
        try:
            result = sender.send_task("exactbridge.sync", args=(DIVISION, "virtuagym"), queue=queue)
            summary = result.get(timeout=WAIT)
        finally:
            worker.terminate()
            try:
                log, _ = worker.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                worker.kill()
                log, _ = worker.communicate()
            sender.close()

    assert (tmp_path / "crashed").exists(), log
    # The pool process was lost (exit code 137) and the task ran again.
    assert "WorkerLostError" in log, log
    assert summary["status"] == "succeeded", log
    assert summary["counts"]["booked"] == INVOICES - 3  # the first three were booked before
    refs = [entry.your_ref for entry in exact.client(DIVISION).sales_entries.iterate()]
    assert len(refs) == INVOICES
    assert len(set(refs)) == INVOICES  # none twice, none lost
    # The third was in Exact when the process died: looked up, not posted again.
    assert exact.count("POST", "salesentry/SalesEntries") == INVOICES
    with SQLiteStateStore(tmp_path / "state.sqlite3") as store:
        assert store.pending() == []
        assert [run.status.value for run in store.recent_runs()][:1] == ["succeeded"]
