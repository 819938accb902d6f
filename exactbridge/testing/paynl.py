"""A stateful fake of Pay.'s REST API at the httpx transport seam.

``FakePay`` serves the endpoints :class:`~exactbridge.sources.paynl.PayClient` uses,
with its own encoding (it shares no parsing code with the client) and the same
UNVERIFIED assumptions the connector documents: settlements at
``/v2/clearings/settlements`` (``page``, ``limit`` <= 10, ``settlementDate[gte|gt|lte|lt|eq]``,
``turnoverGroup[eq]``), records at ``/v2/clearings/{clearing id or settlement code}/records``
(``limit`` <= 10,000, array key ``records``), transactions at ``/v2/transactions/{id}``;
amounts ``{"value": cents, "currency": "EUR"}`` everywhere.

It checks HTTP Basic auth (``AT-\\d{4}-\\d{4}`` + API token, or the service id +
secret), logs every call, injects faults (``fail_next``), seeds realistic data at
scale (``seed``) and takes hostile raw records (``add_raw_record``). It also builds
exchange calls, signed the way the connector assumes (``exchange_call``).

Example::

    fake = FakePay()
    fake.seed(settlements=3, transactions=100)
    client = PayClient(fake.token_code, fake.api_token, transport=fake.transport())
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import random
import re
import urllib.parse
from collections.abc import Callable, Mapping
from typing import Any

import attrs
import httpx

__all__ = ["FakeCall", "FakePay", "FakePayTransaction"]

_AT = re.compile(r"^AT-\d{4}-\d{4}$")
_GROUPS = (("CT-1111-2222", "Webshop"), ("CT-3333-4444", "Contributie"))


@attrs.define
class FakePayTransaction:
    """A transaction as the fake stores it (amounts in cents, as Pay. keeps them)."""

    id: str
    order_id: str
    reference: str
    amount_cents: int
    costs_cents: int = 0
    costs_vat_cents: int = 0
    status_code: int = 100
    type: str = "PAYMENT"
    group: str = "CT-1111-2222"
    description: str = ""
    customer_name: str | None = None
    customer_iban: str | None = None
    completed_at: dt.datetime = dt.datetime(2026, 1, 5, 12, 0, tzinfo=dt.timezone.utc)
    payment_method: str = "iDEAL"


@attrs.define
class _FakeSettlement:
    code: str
    date: dt.date
    clearing_id: str
    transactions: list[FakePayTransaction]
    raw_records: list[Any] = attrs.field(factory=list)
    raw_override: dict[str, Any] | None = None


@attrs.frozen
class FakeCall:
    """One request the fake answered: method, path, query parameters, status."""

    method: str
    path: str
    params: Mapping[str, str]
    status: int


@attrs.define
class _Fault:
    status: int
    times: int
    path_contains: str | None
    headers: dict[str, str]


def _money(cents: int) -> dict[str, Any]:
    return {"value": cents, "currency": "EUR"}


class FakePay:
    """Stateful fake of Pay.'s settlement, clearing-record and transaction endpoints."""

    def __init__(
        self,
        *,
        token_code: str = "AT-1234-5678",
        api_token: str = "f" * 40,
        service_id: str = "SL-1234-5678",
        service_secret: str = "s" * 40,
    ) -> None:
        self.token_code = token_code
        self.api_token = api_token
        self.service_id = service_id
        self.service_secret = service_secret
        self.settlements: dict[str, _FakeSettlement] = {}
        self.transactions: dict[str, FakePayTransaction] = {}
        self.raw_settlements: list[Any] = []
        self.calls: list[FakeCall] = []
        self._faults: list[_Fault] = []
        self._counter = 0

    def __repr__(self) -> str:
        return f"FakePay({len(self.settlements)} settlements)"

    # ------------------------------------------------------------------ seeding

    def add_settlement(
        self,
        transactions: list[FakePayTransaction],
        *,
        date: dt.date = dt.date(2026, 1, 6),
        code: str | None = None,
    ) -> str:
        """Add a settlement holding ``transactions`` in one clearing; returns its code."""
        self._counter += 1
        code = code or f"S{self._counter:03d}-{self._counter * 7 % 10000:04d}"
        self.settlements[code] = _FakeSettlement(
            code=code,
            date=date,
            clearing_id=f"CLEARING-{date:%Y%m%d}-{self._counter:05d}",
            transactions=transactions,
        )
        for tx in transactions:
            self.transactions[tx.id] = tx
        return code

    def seed(
        self,
        *,
        settlements: int,
        transactions: int,
        start: dt.date = dt.date(2026, 1, 1),
        seed: int = 0,
        refund_share: float = 0.03,
    ) -> list[str]:
        """Add ``settlements`` settlements (one a day) of ``transactions`` transactions each."""
        rng = random.Random(seed)
        codes = []
        for s in range(settlements):
            day = start + dt.timedelta(days=s)
            txs = []
            for t in range(transactions):
                n = s * transactions + t + 1
                refund = rng.random() < refund_share
                cents = rng.randint(500, 50_000)
                costs = 29 + cents // 100
                group, _ = _GROUPS[n % len(_GROUPS)]
                txs.append(
                    FakePayTransaction(
                        id=f"EX-{n:04d}-{n * 13 % 10000:04d}-{n % 9973:04d}",
                        order_id=f"{n:08d}X{n % 97:02d}",
                        reference=f"F{2026_000000 + n}",
                        amount_cents=-cents // 4 if refund else cents,
                        costs_cents=0 if refund else costs,
                        costs_vat_cents=0 if refund else costs * 21 // 121,
                        status_code=-81 if refund else 100,
                        type="REFUND" if refund else "PAYMENT",
                        group=group,
                        description=f"Order {n}",
                        customer_name=f"Klant {n}",
                        customer_iban=f"NL{n % 89 + 10:02d}INGB{n:010d}",
                        completed_at=dt.datetime.combine(
                            day - dt.timedelta(days=1), dt.time(10, 0), tzinfo=dt.timezone.utc
                        ),
                    )
                )
            codes.append(self.add_settlement(txs, date=day))
        return codes

    def add_raw_record(self, settlement_code: str, record: Any) -> None:
        """Add a record served verbatim in the settlement's records (hostile input)."""
        self.settlements[settlement_code].raw_records.append(record)

    def add_raw_settlement(self, settlement: Any) -> None:
        """Add a settlement object served verbatim (hostile input)."""
        self.raw_settlements.append(settlement)

    def fail_next(
        self,
        status: int,
        *,
        times: int = 1,
        path_contains: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Answer the next ``times`` matching requests with ``status``."""
        self._faults.append(_Fault(status, times, path_contains, dict(headers or {})))

    # ------------------------------------------------------------------ transports

    def transport(self) -> httpx.MockTransport:
        """A transport for ``httpx.Client`` / :class:`PayClient`."""
        return httpx.MockTransport(self.handle)

    def async_transport(self) -> httpx.MockTransport:
        """A transport for ``httpx.AsyncClient`` / :class:`AsyncPayClient`."""
        return httpx.MockTransport(self.handle)

    # ------------------------------------------------------------------ encoding

    def _settlement_json(self, s: _FakeSettlement) -> dict[str, Any]:
        if s.raw_override is not None:
            return s.raw_override
        lines: list[dict[str, Any]] = []
        by_group: dict[str, list[FakePayTransaction]] = {}
        for tx in s.transactions:
            by_group.setdefault(tx.group, []).append(tx)
        total = 0
        for index, (group, txs) in enumerate(sorted(by_group.items())):
            gross = sum(t.amount_cents for t in txs)
            costs = sum(t.costs_cents for t in txs)
            name = dict(_GROUPS).get(group, group)
            for kind, cents in (("transactions", gross), ("costs", -costs)):
                if cents == 0:
                    continue
                total += cents
                lines.append(
                    {
                        "code": f"FT-{index:04d}-{len(lines):04d}-{s.date:%m%d}",
                        "clearingDate": s.date.isoformat(),
                        "settlementDate": s.date.isoformat(),
                        "valueDate": s.date.isoformat(),
                        "state": "PROCESSED",
                        "turnoverGroup": {"code": group, "name": name},
                        "clearingLineType": {
                            "id": 1 if kind == "transactions" else 2,
                            "name": kind,
                            "direction": "CREDIT" if cents >= 0 else "DEBIT",
                            "collecting": False,
                        },
                        "amount": _money(abs(cents)),
                        "merchant": {
                            "code": "M-1234-5678",
                            "name": "Sportclub",
                            "contractPackage": "Basic",
                        },
                        "transactions": len(txs),
                        "uniquePayers": len({t.customer_iban for t in txs}),
                    }
                )
        return {
            "code": s.code,
            "description": f"Settlement {s.code}",
            "settlementDate": s.date.isoformat(),
            "confirmationDate": s.date.isoformat(),
            "amount": _money(max(total, 0)),
            "baseAccountIban": "NL12RABO0123456789",
            "clearingAccount": {
                "method": "iban",
                "iban": {"iban": "NL12RABO0123456789", "bic": "RABONL2U", "owner": "Sportclub"},
            },
            "clearings": [{"clearingId": s.clearing_id, "clearingLines": lines}],
        }

    @staticmethod
    def _record_json(tx: FakePayTransaction) -> dict[str, Any]:
        action = {100: "PAID", -81: "REFUND", -70: "CHARGEBACK"}.get(tx.status_code, "PENDING")
        return {
            "id": tx.id,
            "orderId": tx.order_id,
            "reference": tx.reference,
            "description": tx.description,
            "type": tx.type,
            "status": {"code": tx.status_code, "action": action},
            "amount": _money(tx.amount_cents),
            "costs": _money(tx.costs_cents),
            "costsVat": _money(tx.costs_vat_cents),
            "paymentMethod": {"id": 10, "name": tx.payment_method},
            "turnoverGroup": {"code": tx.group, "name": dict(_GROUPS).get(tx.group, tx.group)},
            "customer": {"name": tx.customer_name, "iban": tx.customer_iban},
            "createdAt": (tx.completed_at - dt.timedelta(minutes=3)).isoformat(),
            "completedAt": tx.completed_at.isoformat(),
        }

    def transaction_json(self, tx: FakePayTransaction) -> dict[str, Any]:
        """The order object of ``tx`` as ``GET /v2/transactions/{id}`` serves it."""
        body = self._record_json(tx)
        return {
            "id": tx.id,
            "orderId": tx.order_id,
            "serviceId": self.service_id,
            "description": tx.description,
            "reference": tx.reference,
            "status": body["status"],
            "amount": _money(tx.amount_cents),
            "amountRefunded": _money(0),
            "createdAt": body["createdAt"],
            "completedAt": body["completedAt"],
            "payments": [{"paymentMethod": {"id": 10}, "customerName": tx.customer_name}],
        }

    # ------------------------------------------------------------------ exchange

    def exchange_call(
        self,
        transaction_id: str,
        *,
        signed: bool = True,
        algorithm: str = "sha256",
        tamper: bool = False,
    ) -> tuple[bytes, dict[str, str]]:
        """Body and headers of an exchange call for a known transaction.

        ``signed=True`` builds a ``SIGNED_JSON_POST`` call signed as the connector
        assumes (``hex(hash(SL-code:secret:body))`` with ``Signature*`` headers);
        ``signed=False`` a legacy ``TXT_POST`` form body. ``tamper`` changes the body
        after signing.
        """
        tx = self.transactions[transaction_id]
        if not signed:
            form = {
                "action": "new_ppt" if tx.status_code == 100 else "refund:add",
                "order_id": tx.order_id,
                "amount": _euros(tx.amount_cents),
                "extra1": tx.reference,
                "ip_address": "203.0.113.7",
            }
            return urllib.parse.urlencode(form).encode(), {
                "Content-Type": "application/x-www-form-urlencoded"
            }
        body = json.dumps({"action": "status", "object": self.transaction_json(tx)}).encode()
        material = f"{self.service_id}:{self.service_secret}:".encode() + body
        signature = hashlib.new(algorithm, material).hexdigest()
        if tamper:
            body = body.replace(b'"value": ', b'"value": 1', 1)
        return body, {
            "Content-Type": "application/json",
            "Signature": signature,
            "Signature-KeyID": self.service_id,
            "Signature-Method": "HMAC",
            "Signature-Algorithm": algorithm,
        }

    # ------------------------------------------------------------------ routing

    def _auth_ok(self, request: httpx.Request, *, service: bool) -> bool:
        header = request.headers.get("authorization", "")
        if not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        if _AT.match(user) and user == self.token_code and password == self.api_token:
            return True
        return service and user == self.service_id and password == self.service_secret

    def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer one request (the transports call this)."""
        path = request.url.path
        params = dict(request.url.params)
        response = self._route(request, path, params)
        self.calls.append(FakeCall(request.method, path, params, response.status_code))
        return response

    def _route(self, request: httpx.Request, path: str, params: dict[str, str]) -> httpx.Response:
        for fault in self._faults:
            if fault.times > 0 and (fault.path_contains is None or fault.path_contains in path):
                fault.times -= 1
                return httpx.Response(
                    fault.status, json={"message": "injected fault"}, headers=fault.headers
                )
        if request.method != "GET":
            return _error(405, "method not allowed")
        routes: list[tuple[re.Pattern[str], Callable[..., httpx.Response], bool]] = [
            (re.compile(r"^/v2/clearings/settlements$"), self._settlements, False),
            (re.compile(r"^/v2/clearings/([^/]+)/records$"), self._records, False),
            (re.compile(r"^/v2/transactions/([^/]+)$"), self._transaction, True),
        ]
        for pattern, handler, service in routes:
            match = pattern.match(path)
            if match:
                if not self._auth_ok(request, service=service):
                    return _error(401, "Invalid credentials")
                return handler(params, *match.groups())
        return _error(404, "not found")

    def _page(
        self,
        params: dict[str, str],
        items: list[Any],
        key: str,
        cap: int,
        encode: Callable[[Any], Any] = lambda item: item,
    ) -> httpx.Response:
        try:
            page = int(params.get("page", "1"))
            limit = int(params.get("limit", str(cap)))
        except ValueError:
            return _error(400, "page and limit must be integers")
        if page < 1 or not 0 < limit <= cap:
            return _error(400, f"limit must be 1..{cap}")
        pages = max(1, -(-len(items) // limit))
        chunk = [encode(item) for item in items[(page - 1) * limit : page * limit]]
        return _json(
            200,
            {
                "total": len(items),
                "count": len(chunk),
                "pages": pages,
                key: chunk,
                "_links": {
                    "first": f"?page=1&limit={limit}",
                    "last": f"?page={pages}&limit={limit}",
                },
            },
        )

    def _settlements(self, params: dict[str, str]) -> httpx.Response:
        chosen = list(self.settlements.values())
        tests: tuple[tuple[str, Callable[[dt.date, dt.date], bool]], ...] = (
            ("gte", lambda a, b: a >= b),
            ("gt", lambda a, b: a > b),
            ("lte", lambda a, b: a <= b),
            ("lt", lambda a, b: a < b),
            ("eq", lambda a, b: a == b),
        )
        for op, test in tests:
            raw = params.get(f"settlementDate[{op}]")
            if raw is not None:
                try:
                    bound = dt.date.fromisoformat(raw)
                except ValueError:
                    return _error(400, "settlementDate must be YYYY-MM-DD")
                chosen = [s for s in chosen if test(s.date, bound)]
        group = params.get("turnoverGroup[eq]")
        if group is not None:
            chosen = [s for s in chosen if any(t.group == group for t in s.transactions)]
        items: list[Any] = [*chosen, *self.raw_settlements]
        return self._page(params, items, "settlements", 10, self._encode_settlement)

    def _encode_settlement(self, item: Any) -> Any:
        return self._settlement_json(item) if isinstance(item, _FakeSettlement) else item

    def _records(self, params: dict[str, str], key: str) -> httpx.Response:
        found = self.settlements.get(key) or next(
            (s for s in self.settlements.values() if s.clearing_id == key), None
        )
        if found is None:
            return _error(404, f"no clearing or settlement {key}")
        items = [self._record_json(t) for t in found.transactions] + list(found.raw_records)
        return self._page(params, items, "records", 10_000)

    def _transaction(self, params: dict[str, str], transaction_id: str) -> httpx.Response:
        tx = self.transactions.get(transaction_id)
        if tx is None:
            return _error(404, "transaction not found")
        return _json(200, self.transaction_json(tx))


def _euros(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


def _json(status: int, body: Any) -> httpx.Response:
    return httpx.Response(
        status, content=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )


def _error(status: int, message: str) -> httpx.Response:
    return _json(status, {"code": status, "message": message})
