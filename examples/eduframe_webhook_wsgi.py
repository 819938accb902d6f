"""Embedding exactbridge in a web app: Eduframe's webhook books the invoice it names.

Eduframe's Exact Online plugin books an invoice "on creation of an invoice and on
every change of the invoice after". A host application gets the same by letting
Eduframe notify it: this is a small standard-library WSGI app (``wsgiref``, no
framework) with one endpoint, ``POST /webhooks/eduframe``, that

1. verifies the notification with ``WebhookVerifier``: the secret token in the
   URL the webhook was registered with, the educator and tenant, the event;
2. reads the notified invoice from Eduframe *by id* with the app's own
   credentials (a notification carries no amounts, and is only a hint);
3. books it through the same ``InvoicePipeline`` (same name, same state store,
   same rules) that the scheduled run uses, holding that pipeline's ``RunLock``:
   two webhooks, or a webhook and the scheduled run, never book at once, and an
   invoice is booked once whoever sees it first.

Run as a script it serves on 127.0.0.1 on a free port in a thread, posts one
notification to itself (and one forged one), prints the answers and the booked
entry, and stops. ``--serve`` keeps it running for trying it by hand with curl.
Everything runs on the fakes: no credentials, no network beyond localhost.

    python examples/eduframe_webhook_wsgi.py
    python examples/eduframe_webhook_wsgi.py --serve --port 8080
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import tempfile
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from exactbridge.clock import Clock
from exactbridge.errors import SourceRecordError
from exactbridge.exact import ExactClient, P
from exactbridge.mapping import BookingConfig, LedgerMapping, VatMapping
from exactbridge.records import Invoice
from exactbridge.sources.eduframe import (
    EduframeClient,
    WebhookNotification,
    WebhookVerificationError,
    WebhookVerifier,
)
from exactbridge.sync import (
    InvoicePipeline,
    PipelineBusyError,
    RunLock,
    SourceBatch,
    SQLiteStateStore,
    StateStore,
    SyncSettings,
    run_locked,
)
from exactbridge.sync.connectors import EduframeInvoices
from exactbridge.testing import FakeClock, FakeEduframe, FakeExactOnline

log = logging.getLogger("eduframe-webhooks")

DIVISION = 1001
TENANT = "demo-academy"
#: The one pipeline that books this institute's invoices: the scheduled full run and
#: every webhook use this name, so they share cursor, run history and run lock.
PIPELINE = "eduframe-demo-academy-invoices"
#: The secret in the URL the webhook is registered with in Eduframe. Eduframe
#: documents no signature for its webhooks, so this token is what proves a call
#: comes from the registration (keep it out of logs: see QuietHandler).
WEBHOOK_TOKEN = "example-webhook-token-7f3a9c"  # real apps: a long random secret from config
MAX_BODY = 1_000_000  # bytes; a notification is a few hundred

StartResponse = Callable[..., Any]


# -- the source: only the notified invoice ---------------------------------------------


class NotifiedInvoices:
    """An ``InvoiceSource`` that reads only the invoices a webhook named.

    Why this and not ``pipeline.retry()``: ``retry()`` re-reads only invoices that
    failed or stayed unresolved before; a new invoice is neither. And not a full
    ``pipeline.run()``: Eduframe has no "changed since" filter, so that lists every
    invoice (fine every few hours, wasteful per notification).

    ``fetch`` reads the ids through ``EduframeInvoices.fetch_ids`` (one
    ``GET /invoices/{id}`` each, plus the lookups the adapter needs) and hands the
    stored cursor back unchanged, so the scheduled full run still finds deleted
    invoices by comparing its listings. ``source`` and ``tenant`` are those of the
    wrapped source: the booking keys are the same, so an invoice booked here is
    "unchanged" for the scheduled run, and the other way round.
    """

    def __init__(self, invoices: EduframeInvoices, ids: Sequence[str]) -> None:
        self.invoices = invoices
        self.source = invoices.source
        self.tenant = invoices.tenant
        self.ids = tuple(ids)

    def fetch(self, cursor: str | None) -> SourceBatch:
        """The notified invoices; the cursor goes back as it came."""
        batch = self.invoices.fetch_ids(self.ids)
        return SourceBatch(invoices=batch.invoices, errors=batch.errors, cursor=cursor)

    def fetch_ids(self, source_ids: Sequence[str]) -> SourceBatch:
        """Invoices the pipeline retries (failed or unresolved before), by id."""
        return self.invoices.fetch_ids(source_ids)

    def pdf(self, invoice: Invoice) -> bytes | None:
        """The invoice's PDF from Eduframe."""
        return self.invoices.pdf(invoice)


# -- the WSGI application ----------------------------------------------------------------


class EduframeWebhookApp:
    """``POST /webhooks/eduframe``: verify, then book the notified invoice.

    Answers: 200 with the run's report when a run happened (a record that failed
    is in the report, remembered in the store and retried by the next run); 202
    for a notification with nothing to book now; 400 for a malformed body; 403 for
    one that fails verification; 411/413 for a missing or oversized body; 503 with
    ``Retry-After`` while another run holds the pipeline's lock (the scheduled run
    books whatever a missed webhook named).
    """

    def __init__(
        self,
        *,
        verifier: WebhookVerifier,
        invoices: EduframeInvoices,
        exact: ExactClient,
        config: BookingConfig,
        store: StateStore,
        settings: SyncSettings,
        clock: Clock | None = None,
    ) -> None:
        self.verifier = verifier
        self.invoices = invoices
        self.exact = exact
        self.config = config
        self.store = store
        self.settings = settings
        self.clock = clock

    def pipeline(self, ids: Sequence[str]) -> InvoicePipeline:
        """The institute's invoice pipeline, reading only ``ids``."""
        return InvoicePipeline(
            NotifiedInvoices(self.invoices, ids),
            self.exact,
            self.config,
            self.store,
            settings=self.settings,
            name=PIPELINE,
            clock=self.clock,
        )

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """The WSGI entry point."""
        if environ.get("PATH_INFO") != "/webhooks/eduframe":
            return _answer(start_response, 404, {"error": "not found"})
        if environ.get("REQUEST_METHOD") != "POST":
            return _answer(start_response, 405, {"error": "POST only"}, [("Allow", "POST")])
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = -1
        if length <= 0:
            return _answer(start_response, 411, {"error": "a body with a Content-Length"})
        if length > MAX_BODY:
            return _answer(start_response, 413, {"error": "body too large"})
        body = environ["wsgi.input"].read(length)
        query = {
            key: values[0]
            for key, values in urllib.parse.parse_qs(environ.get("QUERY_STRING", "")).items()
        }
        headers = {
            key[5:].replace("_", "-"): value
            for key, value in environ.items()
            if key.startswith("HTTP_") and isinstance(value, str)
        }
        try:
            note = self.verifier.verify(body, query=query, headers=headers)
        except WebhookVerificationError as exc:
            log.warning("refused a webhook: %s", exc)
            return _answer(start_response, 403, {"error": "verification failed"})
        except SourceRecordError as exc:
            return _answer(start_response, 400, {"error": str(exc)})
        return self.handle(note, start_response)

    def handle(self, note: WebhookNotification, start_response: StartResponse) -> Iterable[bytes]:
        """Act on a verified notification."""
        answer: dict[str, Any] = {"event": note.event, "invoice": note.invoice_id}
        if note.invoice_id is None:
            # payment.* and account.* events: a payment changes nothing that is booked
            # (only the open amount), an account change reaches Exact with the
            # account's next invoice.
            return _answer(start_response, 202, {**answer, "status": "nothing to book"})
        if note.is_deletion:
            # A deleted invoice cannot be read by id any more; the scheduled full run
            # confirms the deletion (Eduframe answers 404) and reverses the entry.
            return _answer(start_response, 202, {**answer, "status": "left to the scheduled run"})
        try:
            # run_locked takes the pipeline's RunLock (a file lock next to the state
            # database) and raises PipelineBusyError at once if someone holds it.
            report = run_locked(self.pipeline([str(note.invoice_id)]))
        except PipelineBusyError:
            return _answer(
                start_response, 503, {**answer, "status": "busy"}, [("Retry-After", "30")]
            )
        except Exception:  # one bad request must never take the web app down
            log.exception("booking invoice %s failed", note.invoice_id)
            return _answer(start_response, 500, {**answer, "status": "error"})
        answer.update(
            status=report.status.value,
            counts={key: value for key, value in report.counts().items() if value},
            results=report.rows(),
        )
        return _answer(start_response, 200, answer)


def _answer(
    start_response: StartResponse,
    status: int,
    data: dict[str, Any],
    extra: Sequence[tuple[str, str]] = (),
) -> list[bytes]:
    """A JSON answer."""
    reasons = {200: "OK", 202: "Accepted", 400: "Bad Request", 403: "Forbidden"}
    reasons.update({404: "Not Found", 405: "Method Not Allowed", 411: "Length Required"})
    reasons.update({413: "Payload Too Large"})
    reasons.update({500: "Internal Server Error", 503: "Service Unavailable"})
    body = json.dumps(data, indent=2, default=str).encode("utf-8")
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    start_response(f"{status} {reasons[status]}", [*headers, *extra])
    return [body]


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    """One thread per request (so concurrent webhooks really meet at the run lock)."""

    daemon_threads = False  # server_close() waits for requests in progress


class QuietHandler(WSGIRequestHandler):
    """Logs method, path and status only: the query string holds the webhook token."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        """One line per request, without the query string."""
        path = urllib.parse.urlsplit(self.path).path
        log.info("%s %s %s", self.command, path, code)

    def log_message(self, format: str, *args: Any) -> None:
        """Other messages of the base class name the request line: keep them out."""
        log.debug("request handler message suppressed")


# -- set-up on the fakes ---------------------------------------------------------------------


def seed_institute(clock: FakeClock) -> tuple[FakeEduframe, int]:
    """An institute with one student and one just-opened invoice; returns its id."""
    eduframe = FakeEduframe(clock=clock)  # educator "demo-academy", tenant_id "4711"
    vat = eduframe.add_invoice_vat("21% btw", "21.0")
    ann = eduframe.add_account("Ann de Vries", email="ann@example.nl")
    invoice = eduframe.add_invoice(
        ann["id"],
        [{"name": "Workshop Excel", "units": 1, "unit_price": "350", "invoice_vat_id": vat["id"]}],
        description="Inschrijving Workshop Excel",
        open_on=dt.date(2025, 5, 12),
    )
    return eduframe, invoice["id"]


def booking_rules() -> BookingConfig:
    """The institute's rules (see eduframe_to_exact.py for every plugin setting)."""
    return BookingConfig(
        sales_journal="70",  # "Journal code"
        vat=VatMapping(codes={"1": "2"}),  # Eduframe VAT id 1 (21 %) -> Exact code 2
        ledger=LedgerMapping(default_account="8000"),  # "Ledger code"
    )


def post(url: str, body: bytes) -> tuple[int, str]:
    """POST ``body`` to ``url`` (localhost) and return the status and the answer."""
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    # No proxy for our own server, whatever the environment says.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.read().decode("utf-8")


def show_entry(exact: ExactClient, your_ref: str) -> None:
    """Print the sales entry booked for an invoice, read back from Exact."""
    for entry in exact.sales_entries.iterate(filter=P("YourRef") == your_ref):
        print(
            f"booked entry {entry.entry_number} in journal {entry.journal}: "
            f"{entry.customer_name}, {entry.amount_fc} EUR (YourRef {entry.your_ref})"
        )


def main(argv: Sequence[str] | None = None) -> int:
    """Serve, notify, show, stop (or ``--serve``: serve until Ctrl-C)."""
    parser = argparse.ArgumentParser(description="Eduframe webhook -> Exact Online (WSGI)")
    parser.add_argument("--serve", action="store_true", help="serve until Ctrl-C")
    parser.add_argument("--port", type=int, default=8080, help="port for --serve")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="[log] %(message)s")
    if args.serve:  # one line per request and per run; httpx's per-call lines stay out
        for name in (log.name, "exactbridge"):
            logging.getLogger(name).setLevel(logging.INFO)

    clock = FakeClock(dt.datetime(2025, 5, 12, 9, 0, tzinfo=dt.timezone.utc))
    eduframe, invoice_id = seed_institute(clock)
    fake_exact = FakeExactOnline(clock=clock)
    fake_exact.add_division(DIVISION, template="nl")
    with (
        tempfile.TemporaryDirectory(prefix="exactbridge-example-") as folder,
        EduframeClient(eduframe.credentials, transport=eduframe.transport(), clock=clock) as ef,
        fake_exact.client(DIVISION) as exact,
        fake_exact.client(DIVISION) as reader,  # for reading back, outside the app
        SQLiteStateStore(Path(folder) / "state.sqlite3") as store,
    ):
        app = EduframeWebhookApp(
            verifier=WebhookVerifier(
                token=WEBHOOK_TOKEN, educator=eduframe.educator, tenant_id=eduframe.tenant_id
            ),
            invoices=EduframeInvoices(ef, tenant=TENANT),
            exact=exact,
            config=booking_rules(),
            store=store,
            settings=SyncSettings(sync_from=dt.date(2025, 1, 1)),
            clock=clock,
        )
        port = args.port if args.serve else 0  # 0: any free port
        server = make_server(
            "127.0.0.1", port, app, server_class=ThreadingWSGIServer, handler_class=QuietHandler
        )
        url = f"http://127.0.0.1:{server.server_port}/webhooks/eduframe?token={WEBHOOK_TOKEN}"
        if args.serve:
            return serve(server, url, eduframe, invoice_id)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
        thread.start()
        try:
            # What Eduframe posts when the invoice is opened (its "docs" payload shape).
            payload = eduframe.webhook_payload("invoice.updated", invoice_id)
            print(f"POST /webhooks/eduframe {payload.decode()}")
            status, answer = post(url, payload)
            print(f"HTTP {status}\n{answer}")
            show_entry(reader, str(eduframe.invoices[invoice_id]["number"]))

            # The same body without the secret token: refused before anything is read.
            forged_url = url.split("?", 1)[0] + "?token=guessed"
            forged_status, _ = post(forged_url, payload)
            print(f"forged notification refused: HTTP {forged_status}")

            # Eduframe may notify twice (opened, then saved again): nothing is booked twice.
            again, answer = post(url, payload)
            counts = json.loads(answer).get("counts", {})
            print(f"the same notification again: HTTP {again}, {counts}")

            # While another run holds the pipeline's lock (here: as if the scheduled
            # run were booking right now), a webhook books nothing and says so.
            with RunLock(store, PIPELINE):
                busy, _ = post(url, payload)
            print(f"while another run holds the run lock: HTTP {busy}")
        finally:
            server.shutdown()
            server.server_close()
            thread.join()
    entries = fake_exact.count("POST", "salesentry/SalesEntries")
    print(f"sales entries posted to the fake administration: {entries}")
    ok = (status, forged_status, again, busy) == (200, 403, 200, 503)
    return 0 if ok and entries == 1 else 1


def serve(server: WSGIServer, url: str, eduframe: FakeEduframe, invoice_id: int) -> int:
    """Serve until Ctrl-C, with a curl command to try."""
    payload = eduframe.webhook_payload("invoice.updated", invoice_id).decode()
    print(f"serving on {url.split('?', 1)[0]} (Ctrl-C to stop); try:")
    print(f"  curl -s -X POST '{url}' -H 'Content-Type: application/json' -d '{payload}'")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print()
    finally:
        server.server_close()
    return 0


# Real clients instead of the fakes -------------------------------------------------
#
# In a real app the objects above are made once at start-up, from configuration:
#
#     ef = EduframeClient(EduframeCredentials(api_key=os.environ["EDUFRAME_API_KEY"]))
#     exact = ExactClient(division=..., country="nl", credentials=Credentials(...),
#                         token_store=SQLiteTokenStore("tokens.sqlite3"))
#     store = SQLiteStateStore()                     # shared with the scheduled run
#     verifier = WebhookVerifier(token=os.environ["EDUFRAME_WEBHOOK_TOKEN"],
#                                educator="your-educator-slug")
#
# Register ``https://your.host/webhooks/eduframe?token=<that token>`` as the webhook
# in Eduframe (HTTPS only: the token travels in the URL), serve the app with any
# WSGI server (gunicorn, uwsgi, mod_wsgi) and keep the scheduled full run
# (``InvoicePipeline(EduframeInvoices(ef, tenant=TENANT), ..., name=PIPELINE)``
# every few hours): it books what a missed or refused webhook named, and reverses
# deleted invoices. Both hold the same RunLock, across processes, so they never
# book at the same moment. With several app servers on several machines, the lock
# file must be on one local disk: run the bookings in one worker (a job queue).

if __name__ == "__main__":
    raise SystemExit(main())
