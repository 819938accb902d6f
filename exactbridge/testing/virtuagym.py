"""A stateful fake of Virtuagym's API v1, plugged in at the httpx transport seam.

The fake keeps clubs' members, invoices, club taxes and income categories in memory
and answers the way Virtuagym does (see ``shared/reference/sources.md`` section 1):

* errors as **HTTP 200** with a flat ``{"statuscode": 420, "statusmessage": ...}`` body;
* euro amounts as JSON **floats** (``95.05``, whole amounts as ``115``);
* invoice timestamps in **seconds** (invoice date = local midnight Europe/Amsterdam),
  member timestamps in **milliseconds**;
* invoices listed **500 per page** (``status.next_page`` a plain int, ``total_pages``),
  ``sync_from`` ignored there; single invoices only by ``guid`` (a numeric id gives 420);
* members listed with an **inclusive** ``sync_from`` cursor that repeats the last row of a
  page on the next page (``member_cursor="inclusive"``), or an exact one
  (``member_cursor="exact"``, adds ``from_id``);
* concept invoices with ``id`` 0, discounts as negative rows, deleted invoices flagged,
  member-less guest invoices, ids sometimes sent as strings (``mixed_types=True``);
* optional enforcement of 500 requests per hour (``requests_per_hour``): a throttled
  request gets status 421 in a 200 body (``throttle_mode="body"``) or HTTP 421/429
  (``throttle_mode="http"``), since the real code is not documented reliably.

The fake encodes its own JSON and shares no parsing code with the client::

    fake = FakeVirtuagym()
    fake.seed_gym(members=200, months=3)
    client = VirtuagymClient(fake.credentials, transport=fake.transport())
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import random
import urllib.parse
import uuid
import zoneinfo
from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import attrs
import httpx

from exactbridge.clock import Clock
from exactbridge.sources.virtuagym.client import VirtuagymCredentials
from exactbridge.testing.clock import FakeClock

__all__ = [
    "FakeVirtuagym",
    "VirtuagymCall",
    "VirtuagymFault",
    "VirtuagymSeedSummary",
]

_AMS = zoneinfo.ZoneInfo("Europe/Amsterdam")
_CENT = Decimal("0.01")


class VirtuagymFault(enum.Enum):
    """What goes wrong with the next matching request (see :meth:`FakeVirtuagym.fail_next`).

    * ``ERROR_420``: HTTP 200 with ``{"statuscode": 420, ...}``;
    * ``VALIDATION``: HTTP 200 with ``{"status": {"statuscode": 420}, "errors": [...]}``;
    * ``THROTTLE``: a throttle answer in the fake's ``throttle_mode``;
    * ``SERVER_ERROR``: HTTP 500 with an HTML body;
    * ``TOO_MANY_REQUESTS``: HTTP 429 with ``Retry-After: 60``;
    * ``CONNECTION_ERROR``: ``httpx.ConnectError`` is raised;
    * ``GARBAGE``: HTTP 200 with a body that is not JSON.
    """

    ERROR_420 = "error_420"
    VALIDATION = "validation"
    THROTTLE = "throttle"
    SERVER_ERROR = "server_error"
    TOO_MANY_REQUESTS = "too_many_requests"
    CONNECTION_ERROR = "connection_error"
    GARBAGE = "garbage"


@attrs.frozen
class VirtuagymCall:
    """One request the fake received: method, path, query without secrets, answer code.

    ``status`` is the HTTP status (``None`` for a raised transport error) and
    ``statuscode`` Virtuagym's body status code.
    """

    method: str
    path: str
    params: Mapping[str, str]
    status: int | None
    statuscode: int | None
    at: dt.datetime


@attrs.define
class _FaultRule:
    kind: VirtuagymFault
    remaining: int
    path: str | None


@attrs.frozen
class VirtuagymSeedSummary:
    """What :meth:`FakeVirtuagym.seed_gym` created."""

    members: int
    invoices: int
    concept_invoices: int
    credit_invoices: int
    guest_invoices: int
    deleted_invoices: int
    discount_rows: int


def _money(value: Decimal) -> Any:
    """Virtuagym's float encoding: whole euros as ints, others as floats (shortest repr)."""
    if value == value.to_integral_value():
        return int(value)
    return float(value)


def _local_midnight_seconds(day: dt.date) -> int:
    midnight = dt.datetime(day.year, day.month, day.day, tzinfo=_AMS)
    return int(midnight.timestamp())


def _guid(rng: random.Random) -> str:
    return uuid.UUID(int=rng.getrandbits(128), version=4).hex + f"{rng.getrandbits(16):04x}"


class FakeVirtuagym:
    """An in-memory Virtuagym for one club, reachable through :meth:`transport`.

    ``api_key`` and ``club_secret`` are the credentials it accepts (wrong ones get a
    420 answer). ``clock`` drives timestamps and the optional rate limit.
    """

    def __init__(
        self,
        *,
        club_id: int = 8633,
        api_key: str = "fake-virtuagym-api-key",
        club_secret: str = "8633-fake-club-secret",
        clock: Clock | None = None,
        invoices_per_page: int = 500,
        members_per_page: int = 500,
        member_cursor: str = "inclusive",
        requests_per_hour: int | None = None,
        throttle_mode: str = "body",
        throttle_status: int = 421,
        mixed_types: bool = False,
        taxes_key: str = "result",
    ):
        if member_cursor not in ("inclusive", "exact"):
            raise ValueError("member_cursor must be 'inclusive' or 'exact'")
        if throttle_mode not in ("body", "http"):
            raise ValueError("throttle_mode must be 'body' or 'http'")
        self.club_id = club_id
        self._api_key = api_key
        self._club_secret = club_secret
        self.clock: Clock = clock or FakeClock()
        self.invoices_per_page = invoices_per_page
        self.members_per_page = members_per_page
        self.member_cursor = member_cursor
        self.requests_per_hour = requests_per_hour
        self.throttle_mode = throttle_mode
        self.throttle_status = throttle_status
        self.mixed_types = mixed_types
        self.taxes_key = taxes_key
        #: Members by ``member_id`` (Virtuagym's own JSON shape; amounts as Decimal).
        self.members: dict[int, dict[str, Any]] = {}
        #: Invoices in listing order (``guid`` -> JSON shape).
        self.invoices: dict[str, dict[str, Any]] = {}
        #: Raw JSON values served as extra invoices (hostile payloads for tests).
        self.raw_invoices: list[Any] = []
        self.taxes: list[dict[str, Any]] = []
        self.income_categories: list[dict[str, Any]] = []
        #: Every request received, in order.
        self.calls: list[VirtuagymCall] = []
        self._faults: list[_FaultRule] = []
        self._served: list[dt.datetime] = []
        self._next_invoice_id = 1000
        self._next_member_id = 100_000
        self._rng = random.Random(0)
        self.add_default_taxes()

    def __repr__(self) -> str:
        return (
            f"FakeVirtuagym(club_id={self.club_id}, members={len(self.members)}, "
            f"invoices={len(self.invoices)})"
        )

    # -- plumbing ------------------------------------------------------------------
    @property
    def credentials(self) -> VirtuagymCredentials:
        """Credentials the fake accepts, for building a client."""
        return VirtuagymCredentials(
            club_id=self.club_id, api_key=self._api_key, club_secret=self._club_secret
        )

    def transport(self) -> httpx.MockTransport:
        """An httpx transport answering from this fake (for ``httpx.Client``)."""
        return httpx.MockTransport(self.handle)

    def async_transport(self) -> httpx.MockTransport:
        """An httpx transport answering from this fake (for ``httpx.AsyncClient``)."""
        return httpx.MockTransport(self.handle)

    def fail_next(self, fault: VirtuagymFault, *, times: int = 1, path: str | None = None) -> None:
        """Make the next ``times`` requests (whose path contains ``path``, if given) fail."""
        self._faults.append(_FaultRule(fault, times, path))

    def calls_to(self, fragment: str) -> list[VirtuagymCall]:
        """The logged calls whose path contains ``fragment``."""
        return [call for call in self.calls if fragment in call.path]

    # -- state helpers ---------------------------------------------------------------
    def add_default_taxes(self) -> None:
        """Dutch rates: "No tax" (0), "BTW 21%" (1), "BTW 9%" (2); and four income categories."""
        self.taxes = [
            {
                "tax_id": "0a1b2c3d-0000-4000-8000-000000000000",
                "club_tax_id": 0,
                "tax_name": "No tax",
                "tax_perc": "0.00",
                "date_from": "2010-01-01",
            },
            {
                "tax_id": "0a1b2c3d-0000-4000-8000-000000000021",
                "club_tax_id": 1,
                "tax_name": "BTW 21%",
                "tax_perc": "21.00",
                "date_from": "2010-01-01",
            },
            {
                "tax_id": "0a1b2c3d-0000-4000-8000-000000000009",
                "club_tax_id": 2,
                "tax_name": "BTW 9%",
                "tax_perc": "9.00",
                "date_from": "2019-01-01",
            },
        ]
        names = [("membership", "Membership"), ("pt", "Personal training")]
        names += [("retail", "Retail"), ("other", "Other")]
        self.income_categories = [
            {
                "income_category_id": f"7e0c5a11-0000-4000-8000-00000000000{index}",
                "income_category_name": label,
                "name_id": key,
                "default_tax_id": None,
            }
            for index, (key, label) in enumerate(names)
        ]

    def _tax(self, club_tax_id: int) -> dict[str, Any]:
        for tax in self.taxes:
            if tax["club_tax_id"] == club_tax_id:
                return tax
        raise KeyError(club_tax_id)

    def add_member(
        self,
        *,
        member_id: int | None = None,
        firstname: str = "Sam",
        lastname: str = "de Vries",
        email: str | None = None,
        edited_at: dt.datetime | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """Add (or replace) a member; ``edited_at`` becomes ``timestamp_edit`` (ms)."""
        if member_id is None:
            self._next_member_id += 1
            member_id = self._next_member_id
        edited = edited_at or self.clock.now()
        member: dict[str, Any] = {
            "member_id": member_id,
            "club_id": self.club_id,
            "club_member_id": f"M{member_id}",
            "external_id": None,
            "firstname": firstname,
            "lastname": lastname,
            "email": email if email is not None else f"member{member_id}@example.org",
            "active": True,
            "gender": "u",
            "lang": "nl",
            "street": "Stationsstraat 1",
            "street_extra": "",
            "zip": "1011AB",
            "place": "Amsterdam",
            "country": "NL",
            "phone": "",
            "mobile": "0612345678",
            "member_since": int(edited.timestamp() * 1000),
            "timestamp_edit": int(edited.timestamp() * 1000),
        }
        member.update(fields)
        self.members[member_id] = member
        return member

    def touch_member(self, member_id: int, when: dt.datetime | None = None, **fields: Any) -> None:
        """Change a member and move its ``timestamp_edit`` to ``when`` (default: now)."""
        member = self.members[member_id]
        member.update(fields)
        member["timestamp_edit"] = int((when or self.clock.now()).timestamp() * 1000)

    def add_invoice(
        self,
        *,
        member_id: int | None,
        invoice_date: dt.date,
        rows: Iterable[Mapping[str, Any]],
        concept: bool = False,
        deleted: bool = False,
        paid: bool = False,
        name: str | None = None,
        related_invoice: str | None = None,
        edited_at: dt.datetime | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """Add an invoice. Each row needs ``name``, ``price`` (incl VAT, Decimal or str)
        and ``tax`` (a ``club_tax_id``); optional ``count``, ``income_category``,
        ``start_period``, ``end_period`` (dates). Amounts excl VAT and VAT are derived.
        """
        edited = edited_at or self.clock.now()
        stamp = int(edited.timestamp())
        day = _local_midnight_seconds(invoice_date)
        guid = _guid(self._rng)
        if concept:
            number = 0
        else:
            self._next_invoice_id += 1
            number = self._next_invoice_id
        built_rows = []
        total = Decimal(0)
        total_ex = Decimal(0)
        for position, row in enumerate(rows, start=1):
            price = Decimal(str(row["price"]))
            tax = self._tax(int(row.get("tax", 1)))
            rate = Decimal(tax["tax_perc"]) / 100
            ex = (price / (1 + rate)).quantize(_CENT, rounding=ROUND_HALF_UP)
            total += price
            total_ex += ex
            built: dict[str, Any] = {
                "guid": _guid(self._rng),
                "product_name": row["name"],
                "product_desc": row.get("desc", ""),
                "product_count": row.get("count", 1),
                "price": price,
                "price_ex_vat": ex,
                "vat": price - ex,
                "currency": "EUR",
                "deleted": deleted,
                "is_concept": concept,
                "income_category": row.get("income_category", "other"),
                "position": position,
                "origin": row.get("origin", "membership"),
                "timestamp": day,
                "timestamp_edit": stamp,
                "timestamp_created": stamp,
                "club_tax_id": tax["club_tax_id"],
                "club_tax_name": tax["tax_name"],
                "club_tax_perc": Decimal(tax["tax_perc"]),
            }
            for key in ("start_period", "end_period"):
                if row.get(key) is not None:
                    built[key] = row[key].isoformat()
            built_rows.append(built)
        invoice: dict[str, Any] = {
            "guid": guid,
            "id": number,
            "club_id": self.club_id,
            "member_id": member_id,
            "name": name or ", ".join(row["product_name"] for row in built_rows),
            "desc": " ",
            "price": total,
            "price_ex_vat": total_ex,
            "currency": "EUR",
            "payment_method": "directdebit_NL" if member_id else "cash",
            "paid": paid,
            "paid_status": 2 if paid else 0,
            "amount_due": Decimal(0) if paid else total,
            "is_concept": concept,
            "deleted": deleted,
            "timestamp": day,
            "timestamp_edit": stamp,
            "timestamp_created": stamp,
            "timestamp_paid": stamp if paid else None,
            "rows": built_rows,
        }
        if related_invoice is not None:
            invoice["invoice_related_invoice"] = related_invoice
        if member_id is None:
            invoice.pop("member_id")
        invoice.update(fields)
        self.invoices[guid] = invoice
        return invoice

    def edit_invoice(self, guid: str, when: dt.datetime | None = None, **fields: Any) -> None:
        """Change an invoice and move its ``timestamp_edit`` (seconds) to ``when``."""
        invoice = self.invoices[guid]
        invoice.update(fields)
        invoice["timestamp_edit"] = int((when or self.clock.now()).timestamp())

    def seed_gym(
        self,
        *,
        members: int = 2000,
        months: int = 12,
        start: dt.date = dt.date(2025, 1, 1),
        seed: int = 1,
    ) -> VirtuagymSeedSummary:
        """Fill the club with a realistic year: members on monthly memberships (9 % VAT),
        personal-training and retail rows (21 %), student discounts as negative rows,
        some credit invoices, guest (member-less) retail sales, a few concept and
        deleted invoices. Deterministic for a given ``seed``.
        """
        rng = random.Random(seed)
        self._rng = random.Random(seed + 1)
        first_names = ["Sam", "Noah", "Emma", "Lotte", "Daan", "Sophie", "Bram", "Julia", "Sem"]
        last_names = ["de Vries", "Jansen", "Bakker", "Visser", "Smit", "Meijer", "de Boer"]
        plans = [
            ("Basic 12 mnd", Decimal("24.95")),
            ("Onbeperkt 12 mnd", Decimal("39.95")),
            ("Premium", Decimal("54.50")),
        ]
        base_edit = self.clock.now() - dt.timedelta(days=400)
        new_members = []
        for index in range(members):
            edited = base_edit + dt.timedelta(seconds=37 * index + 1)
            member = self.add_member(
                firstname=rng.choice(first_names),
                lastname=rng.choice(last_names),
                edited_at=edited,
            )
            new_members.append(member["member_id"])
        counts = {"invoices": 0, "concept": 0, "credit": 0, "guest": 0, "deleted": 0, "discount": 0}
        month_start = start
        for month in range(months):
            period_start = month_start
            next_month = (period_start.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
            period_end = next_month - dt.timedelta(days=1)
            edited_at = dt.datetime(
                period_start.year, period_start.month, period_start.day, 6, tzinfo=dt.timezone.utc
            )
            for member_id in new_members:
                plan, price = plans[member_id % len(plans)]
                rows: list[dict[str, Any]] = [
                    {
                        "name": f"{plan} ({period_start} - {period_end})",
                        "price": price,
                        "tax": 2,
                        "income_category": "membership",
                        "start_period": period_start,
                        "end_period": period_end,
                    }
                ]
                if member_id % 7 == 0:
                    rows.append(
                        {
                            "name": "Studentenkorting",
                            "price": Decimal("-5.00"),
                            "tax": 2,
                            "income_category": "membership",
                            "start_period": period_start,
                            "end_period": period_end,
                        }
                    )
                    counts["discount"] += 1
                if rng.random() < 0.08:
                    rows.append(
                        {
                            "name": "Personal training",
                            "price": Decimal("45.00"),
                            "tax": 1,
                            "income_category": "pt",
                        }
                    )
                concept = month == months - 1 and rng.random() < 0.01
                deleted = not concept and rng.random() < 0.003
                invoice = self.add_invoice(
                    member_id=member_id,
                    invoice_date=period_start,
                    rows=rows,
                    concept=concept,
                    deleted=deleted,
                    paid=rng.random() < 0.9,
                    edited_at=edited_at,
                )
                counts["invoices"] += 1
                counts["concept"] += concept
                counts["deleted"] += deleted
                if not concept and rng.random() < 0.01:
                    credit_rows = [{**row, "price": -Decimal(str(row["price"]))} for row in rows]
                    self.add_invoice(
                        member_id=member_id,
                        invoice_date=period_start + dt.timedelta(days=10),
                        rows=credit_rows,
                        related_invoice=invoice["guid"],
                        edited_at=edited_at + dt.timedelta(days=10),
                    )
                    counts["invoices"] += 1
                    counts["credit"] += 1
            for _ in range(max(1, members // 40)):
                day = period_start + dt.timedelta(days=rng.randrange(0, 28))
                self.add_invoice(
                    member_id=None,
                    invoice_date=day,
                    rows=[
                        {"name": "Dagpas", "price": Decimal("12.50"), "tax": 2},
                        {
                            "name": "Sportdrank",
                            "price": Decimal("2.75"),
                            "tax": 2,
                            "income_category": "retail",
                        },
                    ],
                    paid=True,
                    edited_at=edited_at,
                )
                counts["invoices"] += 1
                counts["guest"] += 1
            month_start = next_month
        return VirtuagymSeedSummary(
            members=len(new_members),
            invoices=counts["invoices"],
            concept_invoices=counts["concept"],
            credit_invoices=counts["credit"],
            guest_invoices=counts["guest"],
            deleted_invoices=counts["deleted"],
            discount_rows=counts["discount"],
        )

    # -- encoding (the fake's own, independent of the client) ----------------------------
    def _encode(self, value: Any, *, top: bool = False) -> Any:
        if isinstance(value, Decimal):
            return _money(value)
        if isinstance(value, dict):
            return {key: self._encode(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self._encode(item) for item in value]
        return value

    def _maybe_mixed(self, record: dict[str, Any]) -> dict[str, Any]:
        if not self.mixed_types:
            return record
        out = dict(record)
        for key in ("member_id", "club_id"):
            if isinstance(out.get(key), int) and out[key] % 2 == 1:
                out[key] = str(out[key])
        return out

    def _now_ms(self) -> int:
        return int(self.clock.now().timestamp() * 1000)

    def _ok(self, result: Any, **status: Any) -> tuple[int, Any, dict[str, str]]:
        envelope = {
            "status": {
                "statuscode": 200,
                "statusmessage": "Everything OK",
                "result_count": len(result) if isinstance(result, list) else 1,
                "timestamp": self._now_ms(),
                **status,
            },
            "result": result,
        }
        return 200, envelope, {}

    def _error(self, message: str, code: int = 420) -> tuple[int, Any, dict[str, str]]:
        return 200, {"statuscode": code, "statusmessage": message, "timestamp": self._now_ms()}, {}

    def _throttle(self) -> tuple[int, Any, dict[str, str]]:
        message = "You have requested this resource too many times"
        if self.throttle_mode == "http":
            body = {"statuscode": self.throttle_status, "statusmessage": message}
            return self.throttle_status, body, {"Retry-After": "60"}
        return self._error(message, self.throttle_status)

    # -- request handling -------------------------------------------------------------
    def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer one request (the transport's handler)."""
        params = dict(request.url.params.multi_items())
        safe = {k: v for k, v in params.items() if k not in ("api_key", "club_secret")}
        path = request.url.path
        fault = self._take_fault(path)
        if fault is VirtuagymFault.CONNECTION_ERROR:
            self._log(request, safe, None, None)
            raise httpx.ConnectError("fake connection refused", request=request)
        status, body, headers = self._answer(request, path, params, fault)
        code = None
        if isinstance(body, dict):
            holder = body.get("status", body)
            if isinstance(holder, dict):
                code = holder.get("statuscode")
        self._log(request, safe, status, code)
        if isinstance(body, bytes):
            return httpx.Response(status, content=body, headers=headers)
        content = json.dumps(self._encode(body), separators=(",", ":")).encode()
        headers = {**headers, "Content-Type": "application/json"}
        return httpx.Response(status, content=content, headers=headers)

    def _log(
        self, request: httpx.Request, safe: dict[str, str], status: int | None, code: Any
    ) -> None:
        self.calls.append(
            VirtuagymCall(
                method=request.method,
                path=request.url.path,
                params=safe,
                status=status,
                statuscode=code if isinstance(code, int) else None,
                at=self.clock.now(),
            )
        )

    def _take_fault(self, path: str) -> VirtuagymFault | None:
        for rule in self._faults:
            if rule.remaining > 0 and (rule.path is None or rule.path in path):
                rule.remaining -= 1
                return rule.kind
        return None

    def _rate_limited(self) -> bool:
        if self.requests_per_hour is None:
            return False
        now = self.clock.now()
        horizon = now - dt.timedelta(hours=1)
        self._served = [at for at in self._served if at > horizon]
        if len(self._served) >= self.requests_per_hour:
            return True
        self._served.append(now)
        return False

    def _answer(
        self,
        request: httpx.Request,
        path: str,
        params: dict[str, str],
        fault: VirtuagymFault | None,
    ) -> tuple[int, Any, dict[str, str]]:
        if fault is VirtuagymFault.SERVER_ERROR:
            return 500, b"<html><body>Internal Server Error</body></html>", {}
        if fault is VirtuagymFault.TOO_MANY_REQUESTS:
            return (
                429,
                {"statuscode": 429, "statusmessage": "Too many requests"},
                {"Retry-After": "60"},
            )
        if fault is VirtuagymFault.GARBAGE:
            return 200, b"<html>maintenance</html>", {}
        if fault is VirtuagymFault.THROTTLE or self._rate_limited():
            return self._throttle()
        if fault is VirtuagymFault.ERROR_420:
            return self._error("Something was not found")
        if fault is VirtuagymFault.VALIDATION:
            body = {
                "status": {"statuscode": 420, "statusmessage": "Validation failed"},
                "errors": ["Parameter member_id is mandatory. Null or empty given."],
            }
            return 200, body, {}
        if params.get("api_key") != self._api_key or params.get("club_secret") != self._club_secret:
            return self._error("Invalid API key or club secret")
        prefix = "/api/v1/club/"
        if not path.startswith(prefix):
            return 404, b"Not Found", {}
        parts = [part for part in path[len(prefix) :].split("/") if part]
        if not parts or parts[0] != str(self.club_id):
            return self._error("Club not found or no access to this club")
        if request.method != "GET":
            return self._error("Method not supported by the fake")
        tail = parts[1:]
        if tail == ["invoices"]:
            return self._list_invoices(params)
        if len(tail) == 2 and tail[0] == "invoices":
            invoice = self.invoices.get(urllib.parse.unquote(tail[1]))
            if invoice is None:
                return self._error("Invoice not found")
            return self._ok(self._maybe_mixed(invoice))
        if tail == ["member"]:
            return self._list_members(params)
        if len(tail) == 2 and tail[0] == "member":
            member = self.members.get(int(tail[1])) if tail[1].isdigit() else None
            if member is None:
                return self._error(f"No member found in this club with id: {tail[1]}")
            return self._ok([self._maybe_mixed(member)])
        if tail == ["club-taxes"]:
            status, body, headers = self._ok(self.taxes)
            if self.taxes_key != "result":
                body[self.taxes_key] = body.pop("result")
            return status, body, headers
        if tail == ["income-categories"]:
            return self._ok(self.income_categories)
        return self._error("Unknown resource")

    def _list_invoices(self, params: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        raw_page = params.get("page", "1")
        page = int(raw_page) if raw_page.isdigit() and int(raw_page) > 0 else 1
        everything: list[Any] = [self._maybe_mixed(inv) for inv in self.invoices.values()]
        everything.extend(self.raw_invoices)
        size = self.invoices_per_page
        total_pages = max(1, -(-len(everything) // size))
        chunk = everything[(page - 1) * size : page * size]
        remaining = max(0, len(everything) - page * size)
        status: dict[str, Any] = {"results_remaining": remaining, "total_pages": total_pages}
        if page < total_pages:
            status["next_page"] = page + 1
        return self._ok(chunk, **status)

    def _list_members(self, params: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        raw = params.get("sync_from", "0")
        sync_from = int(raw) if raw.isdigit() else 0
        raw_id = params.get("from_id", "")
        from_id = int(raw_id) if raw_id.isdigit() else None
        ordered = sorted(
            self.members.values(), key=lambda m: (int(m["timestamp_edit"]), int(m["member_id"]))
        )
        selected = []
        for member in ordered:
            stamp = int(member["timestamp_edit"])
            if stamp < sync_from:
                continue
            if from_id is not None and stamp == sync_from and int(member["member_id"]) <= from_id:
                continue
            selected.append(member)
        chunk = selected[: self.members_per_page]
        remaining = len(selected) - len(chunk)
        status: dict[str, Any] = {"results_remaining": remaining}
        if remaining > 0 and chunk:
            last = chunk[-1]
            cursor = f"sync_from={last['timestamp_edit']}"
            if self.member_cursor == "exact":
                cursor += f"&from_id={last['member_id']}"
            status["next_page"] = cursor
        return self._ok([self._maybe_mixed(m) for m in chunk], **status)
