"""A stateful fake of Eduframe's Admin API, plugged in at the httpx transport seam.

It keeps an institute's accounts, users, VAT codes, course templates and editions,
catalog variants, orders, discount codes, invoices and payments in memory and answers
the way Eduframe does (``shared/reference/sources.md`` section 2):

* ``Authorization: Bearer <key>`` required (401 ``{code, message}`` otherwise);
* lists are bare JSON arrays with an RFC 5988 ``Link`` header whose ``rel="next"`` URL
  carries a base64 JSON ``cursor`` (``{"id": 50}``); ``per_page`` default 25, max 100;
* decimal **strings** for money (``"121.00"``), ISO-8601 timestamps, ``date`` fields;
* the invoice life cycle concept -> open (``number``, ``opened_at``,
  ``expiration_date`` assigned) -> paid / expired, ``total_open`` shrinking as
  payments post;
* ``GET /invoices/{id}/pdf`` answers ``{"data": "<base64 PDF>"}`` (``pdf_mode="binary"``
  serves the PDF itself, as an older API version did);
* 429 with ``Retry-After`` when more than ``requests_per_window`` requests arrive in
  ``window_seconds`` (optional), or on demand through :meth:`FakeEduframe.fail_next`;
* webhook payloads in both documented shapes (:meth:`FakeEduframe.webhook_payload`).

Its JSON is its own; it shares no parsing code with the client::

    fake = FakeEduframe()
    fake.seed_institute(invoices=500)
    client = EduframeClient(fake.credentials, transport=fake.transport())
"""

from __future__ import annotations

import base64
import bisect
import datetime as dt
import enum
import json
import random
import urllib.parse
from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import attrs
import httpx

from exactbridge.clock import Clock
from exactbridge.sources.eduframe.client import EduframeCredentials
from exactbridge.testing.clock import FakeClock

__all__ = [
    "EduframeCall",
    "EduframeFault",
    "EduframeSeedSummary",
    "FakeEduframe",
]

_CENT = Decimal("0.01")
_BASE = "https://api.eduframe.nl/api/v1"


class EduframeFault(enum.Enum):
    """What goes wrong with the next matching request (see :meth:`FakeEduframe.fail_next`).

    * ``TOO_MANY_REQUESTS``: 429 with ``Retry-After: 30``;
    * ``SERVER_ERROR``: 500 with ``{code, message}``;
    * ``CONNECTION_ERROR``: ``httpx.ConnectError`` is raised;
    * ``GARBAGE``: 200 with a body that is not JSON;
    * ``FOREIGN_LINK``: a normal page whose ``Link`` next URL points to another host.
    """

    TOO_MANY_REQUESTS = "too_many_requests"
    SERVER_ERROR = "server_error"
    CONNECTION_ERROR = "connection_error"
    GARBAGE = "garbage"
    FOREIGN_LINK = "foreign_link"


@attrs.frozen
class EduframeCall:
    """One request the fake received (the bearer token is never recorded)."""

    method: str
    path: str
    query: str
    status: int | None
    at: dt.datetime
    authorized: bool


@attrs.define
class _FaultRule:
    kind: EduframeFault
    remaining: int
    path: str | None


@attrs.frozen
class EduframeSeedSummary:
    """What :meth:`FakeEduframe.seed_institute` created."""

    accounts: int
    business_accounts: int
    courses: int
    editions: int
    invoices: int
    discounted_invoices: int
    statuses: Mapping[str, int]


def _money(value: Decimal) -> str:
    return str(value.quantize(_CENT, rounding=ROUND_HALF_UP))


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{moment.microsecond // 1000:03d}Z"
    )


def _minimal_pdf(text: str) -> bytes:
    body = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode("latin-1", "replace")
    return b"%PDF-1.4\n" + body + b"\n%%EOF\n"


# Resource path -> table attribute name.
_TABLES = {
    "accounts": "accounts",
    "users": "users",
    "invoice_vats": "invoice_vats",
    "courses": "courses",
    "planned_courses": "planned_courses",
    "catalog/variants": "variants",
    "orders": "orders",
    "discount_codes": "discount_codes",
    "invoices": "invoices",
    "payments": "payments",
}


class FakeEduframe:
    """An in-memory Eduframe institute reachable through :meth:`transport`."""

    def __init__(
        self,
        *,
        api_key: str = "fake-eduframe-api-key",
        clock: Clock | None = None,
        educator: str = "demo-academy",
        tenant_id: str = "4711",
        requests_per_window: int | None = None,
        window_seconds: float = 300.0,
        retry_after: int = 30,
        pdf_mode: str = "json",
        base_url: str = _BASE,
    ):
        if pdf_mode not in ("json", "binary"):
            raise ValueError("pdf_mode must be 'json' or 'binary'")
        self._api_key = api_key
        self.clock: Clock = clock or FakeClock()
        self.educator = educator
        self.tenant_id = tenant_id
        self.requests_per_window = requests_per_window
        self.window_seconds = window_seconds
        self.retry_after = retry_after
        self.pdf_mode = pdf_mode
        self.base_url = base_url.rstrip("/")
        self._base_path = httpx.URL(self.base_url).path.rstrip("/")
        self.accounts: dict[int, dict[str, Any]] = {}
        self.users: dict[int, dict[str, Any]] = {}
        self.invoice_vats: dict[int, dict[str, Any]] = {}
        self.courses: dict[int, dict[str, Any]] = {}
        self.planned_courses: dict[int, dict[str, Any]] = {}
        self.variants: dict[int, dict[str, Any]] = {}
        self.orders: dict[int, dict[str, Any]] = {}
        self.discount_codes: dict[int, dict[str, Any]] = {}
        self.invoices: dict[int, dict[str, Any]] = {}
        self.payments: dict[int, dict[str, Any]] = {}
        #: Raw JSON values listed after the invoices (hostile payloads for tests).
        self.raw_invoices: list[Any] = []
        #: Every request received, in order.
        self.calls: list[EduframeCall] = []
        self._faults: list[_FaultRule] = []
        self._served: list[dt.datetime] = []
        self._ids: dict[str, int] = {}
        self._invoice_seq = 0
        self._paid: dict[int, Decimal] = {}
        self._rng = random.Random(0)

    def __repr__(self) -> str:
        return f"FakeEduframe(educator={self.educator!r}, invoices={len(self.invoices)})"

    # -- plumbing ------------------------------------------------------------------------
    @property
    def credentials(self) -> EduframeCredentials:
        """Credentials the fake accepts."""
        return EduframeCredentials(api_key=self._api_key)

    def transport(self) -> httpx.MockTransport:
        """An httpx transport answering from this fake (for ``httpx.Client``)."""
        return httpx.MockTransport(self.handle)

    def async_transport(self) -> httpx.MockTransport:
        """An httpx transport answering from this fake (for ``httpx.AsyncClient``)."""
        return httpx.MockTransport(self.handle)

    def fail_next(self, fault: EduframeFault, *, times: int = 1, path: str | None = None) -> None:
        """Make the next ``times`` requests (whose path contains ``path``, if given) fail."""
        self._faults.append(_FaultRule(fault, times, path))

    def calls_to(self, fragment: str) -> list[EduframeCall]:
        """The logged calls whose path contains ``fragment``."""
        return [call for call in self.calls if fragment in call.path]

    def _next_id(self, table: str) -> int:
        self._ids[table] = self._ids.get(table, 0) + 1
        return self._ids[table]

    def _stamp(self) -> str:
        return _iso(self.clock.now())

    # -- state helpers -------------------------------------------------------------------
    def add_invoice_vat(
        self, name: str, percentage: str, *, has_vat: bool = True
    ) -> dict[str, Any]:
        """Add a VAT code (``percentage`` as text, e.g. ``"21.0"``)."""
        vat_id = self._next_id("vat")
        vat = {"id": vat_id, "name": name, "percentage": percentage, "has_vat": has_vat}
        self.invoice_vats[vat_id] = vat
        return vat

    def add_account(
        self,
        name: str,
        *,
        account_type: str = "personal",
        email: str | None = None,
        address: Mapping[str, Any] | None = None,
        custom: Mapping[str, Any] | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """Add an account (address and custom fields included, as the API returns them).

        ``account_type`` is Eduframe's ``"personal"`` or ``"business"``; anything else is
        refused here (``ValueError``), as Eduframe would never send it. To test how a
        client copes with a malformed account, put one in ``accounts`` by hand.
        """
        if account_type not in ("personal", "business"):
            raise ValueError(
                f"account_type {account_type!r} is not Eduframe's (expected personal or business)"
            )
        account_id = self._next_id("account")
        now = self._stamp()
        account: dict[str, Any] = {
            "id": account_id,
            "name": name,
            "email": email,
            "phone": None,
            "account_type": account_type,
            "label_ids": [],
            "slug": name.lower().replace(" ", "-"),
            "users_count": 1,
            "visible": True,
            "created_at": now,
            "updated_at": now,
            "address": dict(address) if address is not None else None,
            "custom": dict(custom or {}),
        }
        account.update(fields)
        self.accounts[account_id] = account
        return account

    def add_course(self, name: str, code: str) -> dict[str, Any]:
        """Add a course template."""
        course_id = self._next_id("course")
        course = {
            "id": course_id,
            "name": name,
            "code": code,
            "slug": code.lower(),
            "category_id": 1,
            "cost_scheme": "student",
            "starting_price": None,
        }
        self.courses[course_id] = course
        return course

    def add_edition(
        self, course_id: int, start: dt.date, end: dt.date, cost: str
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """Add a course edition (planned course) and its catalog variant."""
        edition_id = self._next_id("edition")
        edition = {
            "id": edition_id,
            "course_id": course_id,
            "type": "FixedPlannedCourse",
            "status": "planned",
            "start_date": start.isoformat(),
            "end_date": end.isoformat(),
            "cost": cost,
            "cost_multiplier": "1.0",
            "currency": "EUR",
            "min_participants": 4,
            "max_participants": 16,
        }
        self.planned_courses[edition_id] = edition
        variant_id = self._next_id("variant")
        variant = {
            "id": variant_id,
            "product_id": course_id,
            "variantable_type": "PlannedCourse",
            "variantable_id": edition_id,
            "sku": f"PC-{edition_id}",
            "cost": cost,
            "currency": "EUR",
        }
        self.variants[variant_id] = variant
        return edition, variant

    def add_discount_code(self, code: str, discount_type: str, amount: int) -> dict[str, Any]:
        """Add a discount code (``amount`` a JSON number, as Eduframe sends it)."""
        code_id = self._next_id("code")
        record = {
            "id": code_id,
            "name": code.title(),
            "discount_code": code,
            "discount_type": discount_type,
            "amount": amount,
            "max_usage": None,
            "usage_count": 0,
            "start_date": "2024-01-01",
            "expiration_date": None,
        }
        self.discount_codes[code_id] = record
        return record

    def add_order(
        self,
        account_id: int,
        *,
        variant_id: int | None = None,
        discount_code: str | None = None,
        total_discount: Decimal = Decimal(0),
    ) -> dict[str, Any]:
        """Add an order (sign-up), possibly with a discount code."""
        order_id = self._next_id("order")
        order = {
            "id": order_id,
            "number": 5000 + order_id,
            "status": "active",
            "account_id": account_id,
            "catalog_variant_id": variant_id,
            "discount_code": discount_code,
            "total_discount": _money(total_discount),
            "origin": "signup",
            "created_at": self._stamp(),
            "updated_at": self._stamp(),
        }
        self.orders[order_id] = order
        return order

    def add_invoice(
        self,
        account_id: int,
        items: Iterable[Mapping[str, Any]],
        *,
        order_id: int | None = None,
        description: str = "",
        feature: str | None = None,
        open_on: dt.date | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """Add a concept invoice; ``items`` need ``name``, ``units``, ``unit_price`` (text or
        Decimal) and ``invoice_vat_id``, optionally ``catalog_variant_id``. With
        ``open_on`` the invoice is opened at once (number and dates assigned)."""
        invoice_id = self._next_id("invoice")
        account = self.accounts[account_id]
        built = []
        for item in items:
            built.append(
                {
                    "id": self._next_id("item"),
                    "name": item["name"],
                    "units": int(item.get("units", 1)),
                    "unit_price": _money(Decimal(str(item["unit_price"]))),
                    "invoice_vat_id": item.get("invoice_vat_id"),
                    "catalog_variant_id": item.get("catalog_variant_id"),
                    "created_at": self._stamp(),
                    "updated_at": self._stamp(),
                }
            )
        invoice: dict[str, Any] = {
            "id": invoice_id,
            "number": None,
            "number_int": None,
            "reference_id": f"{self._rng.randrange(10**15, 10**16)}",
            "status": "concept",
            "opened_at": None,
            "expiration_date": None,
            "description": description,
            "feature": feature,
            "footnote": None,
            "account_id": account_id,
            "account_name": account["name"],
            "order_id": order_id,
            "order_number": self.orders[order_id]["number"] if order_id in self.orders else None,
            "currency": "EUR",
            "pdf_url": f"/invoices/{invoice_id}/pdf",
            "xml_url": f"/invoices/{invoice_id}/xml",
            "created_at": self._stamp(),
            "updated_at": self._stamp(),
            "invoice_items": built,
        }
        invoice.update(fields)
        self.invoices[invoice_id] = invoice
        self._recompute(invoice)
        if open_on is not None:
            self.open_invoice(invoice_id, on=open_on)
        return invoice

    def _recompute(self, invoice: dict[str, Any]) -> None:
        excl = Decimal(0)
        incl = Decimal(0)
        for item in invoice["invoice_items"]:
            line = Decimal(item["unit_price"]) * item["units"]
            vat = self.invoice_vats.get(item["invoice_vat_id"] or -1)
            rate = Decimal(vat["percentage"]) / 100 if vat and vat["has_vat"] else Decimal(0)
            excl += line
            incl += (line * (1 + rate)).quantize(_CENT, rounding=ROUND_HALF_UP)
        paid = self._paid.get(invoice["id"], Decimal(0))
        invoice["total_excl"] = _money(excl)
        invoice["total_incl"] = _money(incl)
        invoice["total_open"] = _money(incl - paid)

    def open_invoice(self, invoice_id: int, *, on: dt.date | None = None, days: int = 30) -> None:
        """concept -> open: assign the number, ``opened_at`` and ``expiration_date``."""
        invoice = self.invoices[invoice_id]
        if invoice["status"] != "concept":
            return
        self._invoice_seq += 1
        day = on or self.clock.now().date()
        invoice["number"] = f"{day.year}{self._invoice_seq:06d}"
        invoice["number_int"] = int(invoice["number"])
        invoice["status"] = "open"
        invoice["opened_at"] = day.isoformat()
        invoice["expiration_date"] = (day + dt.timedelta(days=days)).isoformat()
        invoice["updated_at"] = self._stamp()

    def pay_invoice(
        self, invoice_id: int, amount: str | None = None, *, on: dt.date | None = None
    ) -> dict[str, Any]:
        """Post a payment (default: the open amount); a fully paid invoice becomes ``paid``."""
        invoice = self.invoices[invoice_id]
        value = Decimal(amount) if amount is not None else Decimal(invoice["total_open"])
        payment_id = self._next_id("payment")
        payment = {
            "id": payment_id,
            "invoice_id": invoice_id,
            "amount": _money(value),
            "currency": "EUR",
            "payment_method_id": 1,
            "status": "paid",
            "gateway_id": None,
            "date": (on or self.clock.now().date()).isoformat(),
        }
        self.payments[payment_id] = payment
        self._paid[invoice_id] = self._paid.get(invoice_id, Decimal(0)) + value.quantize(_CENT)
        self._recompute(invoice)
        if Decimal(invoice["total_open"]) <= 0:
            invoice["status"] = "paid"
        invoice["updated_at"] = self._stamp()
        return payment

    def expire_invoice(self, invoice_id: int) -> None:
        """open -> expired."""
        invoice = self.invoices[invoice_id]
        invoice["status"] = "expired"
        invoice["updated_at"] = self._stamp()

    def webhook_payload(self, event: str, entity_id: int, *, shape: str = "docs") -> bytes:
        """A notification body as Eduframe posts it, in the ``"docs"`` or ``"spec"`` shape."""
        if shape == "docs":
            body: dict[str, Any] = {
                "event": event,
                "educator": self.educator,
                "entity_id": entity_id,
                "tenant_id": self.tenant_id,
                "entity_type": event.split(".", 1)[0],
            }
        elif shape == "spec":
            body = {
                "tenant_id": self.tenant_id,
                "educator": self.educator,
                "event": event,
                "event_data": {"id": entity_id},
            }
        else:
            raise ValueError("shape must be 'docs' or 'spec'")
        return json.dumps(body).encode()

    def seed_institute(
        self,
        *,
        courses: int = 12,
        editions_per_course: int = 4,
        accounts: int = 600,
        invoices: int = 2000,
        start: dt.date = dt.date(2025, 1, 6),
        seed: int = 1,
    ) -> EduframeSeedSummary:
        """A training institute: VAT codes (21 %, exempt, 9 %), course templates with
        editions and catalog variants, discount codes, business accounts (with a
        country-prefixed VAT number in custom field ``vat_number`` and a billing address)
        and personal accounts, orders and invoices in every status, some with a discount
        item. Deterministic for a given ``seed``.
        """
        rng = random.Random(seed)
        self._rng = random.Random(seed + 1)
        vat21 = self.add_invoice_vat("21% btw", "21.0")
        exempt = self.add_invoice_vat("Vrijgesteld van btw", "0.0", has_vat=False)
        self.add_invoice_vat("9% btw", "9.0")
        topics = ["Excel", "Projectmanagement", "Leiderschap", "Boekhouden", "Python", "Agile"]
        editions: list[tuple[dict[str, Any], dict[str, Any]]] = []
        for index in range(courses):
            course = self.add_course(
                f"{topics[index % len(topics)]} {index + 1}", f"CRS-{index + 1:03d}"
            )
            for number in range(editions_per_course):
                begin = start + dt.timedelta(days=28 * number + index)
                cost = rng.choice(["495.00", "895.00", "1250.00", "249.50"])
                editions.append(
                    self.add_edition(course["id"], begin, begin + dt.timedelta(days=14), cost)
                )
        codes = [
            self.add_discount_code("VROEGBOEK", "fixed", 50),
            self.add_discount_code("ALUMNI10", "percentage", 10),
        ]
        countries = [("NL", "NL{0:09d}B01"), ("BE", "BE0{0:09d}"), ("DE", "DE{0:09d}")]
        business = 0
        for index in range(accounts):
            if index % 3 == 0:
                country, pattern = countries[index % len(countries)]
                self.add_account(
                    f"Organisatie {index} B.V.",
                    account_type="business",
                    email=f"finance{index}@org{index}.example",
                    address={
                        "addressee": "Crediteurenadministratie",
                        "address": f"Kerkstraat {index % 200 + 1}",
                        "address_line2": None,
                        "postal_code": "3511 AB",
                        "city": "Utrecht",
                        "country": country,
                        "state_province": None,
                    },
                    custom={
                        "vat_number": pattern.format(100000000 + index)[: len(pattern.format(0))]
                    },
                )
                business += 1
            else:
                self.add_account(
                    f"Student {index}",
                    email=f"student{index}@mail.example",
                    address={
                        "addressee": None,
                        "address": f"Dorpsweg {index % 90 + 1}",
                        "address_line2": None,
                        "postal_code": "1234 AB",
                        "city": "Amersfoort",
                        "country": "NL",
                        "state_province": None,
                    },
                )
        statuses = {"concept": 0, "open": 0, "paid": 0, "expired": 0}
        discounted = 0
        account_ids = list(self.accounts)
        for index in range(invoices):
            account_id = rng.choice(account_ids)
            edition, variant = rng.choice(editions)
            units = rng.choice([1, 1, 1, 2, 3])
            exempt_course = rng.random() < 0.6
            items: list[dict[str, Any]] = [
                {
                    "name": f"Cursus {self.courses[edition['course_id']]['name']}",
                    "units": units,
                    "unit_price": edition["cost"],
                    "invoice_vat_id": exempt["id"] if exempt_course else vat21["id"],
                    "catalog_variant_id": variant["id"],
                }
            ]
            if rng.random() < 0.3:
                items.append(
                    {
                        "name": "Lesmateriaal",
                        "units": units,
                        "unit_price": "39.95",
                        "invoice_vat_id": vat21["id"],
                    }
                )
            code = None
            discount = Decimal(0)
            if rng.random() < 0.15:
                code = rng.choice(codes)
                discount = (
                    Decimal(50)
                    if code["discount_type"] == "fixed"
                    else (Decimal(edition["cost"]) * units / 10).quantize(_CENT)
                )
                items.append(
                    {
                        "name": f"Korting {code['discount_code']}",
                        "units": 1,
                        "unit_price": -discount,
                        "invoice_vat_id": items[0]["invoice_vat_id"],
                    }
                )
                discounted += 1
            order = self.add_order(
                account_id,
                variant_id=variant["id"],
                discount_code=code["discount_code"] if code else None,
                total_discount=discount,
            )
            day = start + dt.timedelta(days=index * 365 // max(invoices, 1))
            roll = rng.random()
            invoice = self.add_invoice(
                account_id,
                items,
                order_id=order["id"],
                description=f"Inschrijving {items[0]['name']}",
                feature=f"Ordernummer {order['number']}",
                open_on=None if roll < 0.03 else day,
            )
            if roll < 0.03:
                statuses["concept"] += 1
            elif roll < 0.65:
                self.pay_invoice(invoice["id"], on=day + dt.timedelta(days=rng.randrange(1, 30)))
                statuses["paid"] += 1
            elif roll < 0.72:
                self.expire_invoice(invoice["id"])
                statuses["expired"] += 1
            else:
                statuses["open"] += 1
        return EduframeSeedSummary(
            accounts=accounts,
            business_accounts=business,
            courses=courses,
            editions=len(editions),
            invoices=invoices,
            discounted_invoices=discounted,
            statuses=statuses,
        )

    # -- request handling ------------------------------------------------------------------
    def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer one request (the transport's handler)."""
        path = request.url.path
        authorized = request.headers.get("Authorization") == f"Bearer {self._api_key}"
        fault = self._take_fault(path)
        if fault is EduframeFault.CONNECTION_ERROR:
            self._log(request, None, authorized)
            raise httpx.ConnectError("fake connection refused", request=request)
        status, body, headers = self._answer(request, authorized, fault)
        self._log(request, status, authorized)
        if isinstance(body, bytes):
            return httpx.Response(status, content=body, headers=headers)
        content = json.dumps(body, separators=(",", ":")).encode()
        return httpx.Response(
            status, content=content, headers={**headers, "Content-Type": "application/json"}
        )

    def _log(self, request: httpx.Request, status: int | None, authorized: bool) -> None:
        self.calls.append(
            EduframeCall(
                method=request.method,
                path=request.url.path,
                query=request.url.query.decode(),
                status=status,
                at=self.clock.now(),
                authorized=authorized,
            )
        )

    def _take_fault(self, path: str) -> EduframeFault | None:
        for rule in self._faults:
            if rule.remaining > 0 and (rule.path is None or rule.path in path):
                rule.remaining -= 1
                return rule.kind
        return None

    def _rate_limited(self) -> bool:
        if self.requests_per_window is None:
            return False
        now = self.clock.now()
        horizon = now - dt.timedelta(seconds=self.window_seconds)
        self._served = [at for at in self._served if at > horizon]
        if len(self._served) >= self.requests_per_window:
            return True
        self._served.append(now)
        return False

    @staticmethod
    def _error(code: int, message: str) -> tuple[int, Any, dict[str, str]]:
        return code, {"code": code, "message": message, "errors": {}}, {}

    def _answer(
        self, request: httpx.Request, authorized: bool, fault: EduframeFault | None
    ) -> tuple[int, Any, dict[str, str]]:
        if fault is EduframeFault.TOO_MANY_REQUESTS or (authorized and self._rate_limited()):
            code, body, _ = self._error(429, "Too many requests were made")
            return code, body, {"Retry-After": str(self.retry_after)}
        if fault is EduframeFault.SERVER_ERROR:
            return self._error(500, "Internal server error")
        if fault is EduframeFault.GARBAGE:
            return 200, b"<!doctype html><title>Maintenance</title>", {"Content-Type": "text/html"}
        if not authorized:
            return self._error(401, "Unauthorized")
        if request.method != "GET":
            return self._error(405, "Method not supported by the fake")
        path = request.url.path
        if not path.startswith(self._base_path + "/"):
            return self._error(404, "Not found")
        tail = path[len(self._base_path) + 1 :].strip("/")
        params = request.url.params
        if tail in _TABLES:
            return self._list(tail, params, foreign=fault is EduframeFault.FOREIGN_LINK)
        parts = tail.split("/")
        if len(parts) == 3 and parts[0] == "invoices" and parts[2] == "pdf" and parts[1].isdigit():
            return self._pdf(int(parts[1]))
        if (
            len(parts) == 3
            and parts[0] == "invoices"
            and parts[2] == "payments"
            and parts[1].isdigit()
        ):
            if int(parts[1]) not in self.invoices:
                return self._error(404, "Not found")
            return self._list(
                tail,
                params,
                rows=[p for p in self.payments.values() if p["invoice_id"] == int(parts[1])],
            )
        resource, _, key = tail.rpartition("/")
        if resource in _TABLES and key.isdigit():
            record = getattr(self, _TABLES[resource]).get(int(key))
            if record is None:
                return self._error(404, "Not found")
            return 200, record, {}
        return self._error(404, "Not found")

    def _pdf(self, invoice_id: int) -> tuple[int, Any, dict[str, str]]:
        invoice = self.invoices.get(invoice_id)
        if invoice is None:
            return self._error(404, "Not found")
        pdf = _minimal_pdf(f"Invoice {invoice['number'] or 'concept'} {invoice['total_incl']}")
        if self.pdf_mode == "binary":
            return 200, pdf, {"Content-Type": "application/pdf"}
        return 200, {"data": base64.b64encode(pdf).decode("ascii")}, {}

    def _list(
        self,
        tail: str,
        params: httpx.QueryParams,
        *,
        rows: list[Any] | None = None,
        foreign: bool = False,
    ) -> tuple[int, Any, dict[str, str]]:
        raw_per_page = params.get("per_page", "25")
        per_page = min(100, max(1, int(raw_per_page))) if raw_per_page.isdigit() else 25
        after = 0
        cursor = params.get("cursor")
        if cursor:
            try:
                decoded = json.loads(base64.urlsafe_b64decode(cursor.encode() + b"==="))
                after = int(decoded["id"])
            except (ValueError, KeyError, TypeError):
                return self._error(400, "Invalid cursor")
        if rows is None:
            rows = list(getattr(self, _TABLES[tail]).values())
        if tail == "invoices":
            wanted = params.get_list("status[]")
            if wanted:
                rows = [row for row in rows if row["status"] in wanted]
            for key in ("account_id", "order_id"):
                if params.get(key):
                    rows = [row for row in rows if str(row.get(key)) == params[key]]
        keyed = [(int(row["id"]), row) for row in rows]
        if any(keyed[i][0] > keyed[i + 1][0] for i in range(len(keyed) - 1)):
            keyed.sort(key=lambda pair: pair[0])
        if tail == "invoices" and self.raw_invoices:
            # hostile rows are listed after the real ones; the cursor walks them by position
            top = keyed[-1][0] if keyed else 0
            keyed += [(top + index + 1, raw) for index, raw in enumerate(self.raw_invoices)]
        position = bisect.bisect_right([key for key, _ in keyed], after)
        remaining = keyed[position:]
        page = [row for _, row in remaining[:per_page]]
        headers: dict[str, str] = {}
        if len(remaining) > per_page and page:
            last = remaining[per_page - 1][0]
            token = base64.urlsafe_b64encode(json.dumps({"id": last}).encode()).decode().rstrip("=")
            query = [(k, v) for k, v in params.multi_items() if k not in ("cursor", "per_page")]
            query += [("cursor", token), ("per_page", str(per_page))]
            base = "https://evil.example/api/v1" if foreign else self.base_url
            url = f"{base}/{tail}?{urllib.parse.urlencode(query)}"
            headers["Link"] = f'<{url}>; rel="next"'
        return 200, page, headers
