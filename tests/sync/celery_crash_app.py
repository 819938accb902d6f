"""A Celery app for tests/sync/test_celery_worker_lost.py, run by a real ``celery worker``.

Everything comes from environment variables the test sets (``EB_*``): the broker, the
served fake Exact and fake Virtuagym, the token and the state file. On the first
attempt (while the file ``EB_CRASH_MARKER`` does not exist yet) the pipeline's Exact
transport ends the pool process right after Exact answered the ``EB_CRASH_AFTER``-th
sales entry POST: the moment when the booking is in Exact but not yet in the state.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import celery
import httpx

from exactbridge.exact import Credentials, ExactClient, MemoryTokenStore, Token
from exactbridge.mapping import BookingConfig
from exactbridge.sources.virtuagym import VirtuagymClient, VirtuagymCredentials, VirtuagymSettings
from exactbridge.sync import InvoicePipeline, SQLiteStateStore, SyncReport, VirtuagymInvoices
from exactbridge.sync.celery import register_sync_task
from exactbridge.testing import DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_REDIRECT_URI
from tests.sync.crashing import WORKER_CONFIG, CrashAfter

ENV = os.environ

app = celery.Celery("exactbridge-crash-test", broker=ENV["EB_BROKER"], backend=ENV["EB_BROKER"])
app.conf.update(
    task_default_queue=ENV["EB_QUEUE"],
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    worker_prefetch_multiplier=1,
    broker_connection_retry_on_startup=True,
)


def _token() -> Token:
    fields = json.loads(ENV["EB_TOKEN"])
    fields["issued_at"] = dt.datetime.fromisoformat(fields["issued_at"])
    return Token(**fields)


class Pipeline:
    def __init__(self, division: int) -> None:
        marker = Path(ENV["EB_CRASH_MARKER"])
        transport: httpx.BaseTransport = httpx.HTTPTransport()
        if not marker.exists():
            marker.write_text("crashed once\n", encoding="utf-8")
            transport = CrashAfter(int(ENV["EB_CRASH_AFTER"]))
        self.store = SQLiteStateStore(ENV["EB_STATE"])
        self.exact = ExactClient(
            division=division,
            credentials=Credentials(DEFAULT_CLIENT_ID, DEFAULT_CLIENT_SECRET, DEFAULT_REDIRECT_URI),
            token_store=MemoryTokenStore(_token()),
            base_url=ENV["EB_EXACT_URL"],
            transport=transport,
        )
        self.source = VirtuagymClient(
            VirtuagymCredentials(**json.loads(ENV["EB_VG_CREDENTIALS"])),
            settings=VirtuagymSettings(base_url=ENV["EB_VG_URL"]),
        )
        rules = BookingConfig.from_mapping(WORKER_CONFIG)
        self.pipeline = InvoicePipeline(
            VirtuagymInvoices(self.source), self.exact, rules, self.store
        )
        self.name = self.pipeline.name

    def run(self) -> SyncReport:
        return self.pipeline.run()

    def __enter__(self) -> Pipeline:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.source.close()
        self.exact.close()
        self.store.close()


sync = register_sync_task(app, lambda division, pipeline: Pipeline(division))
