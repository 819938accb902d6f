"""A stateful fake of Coachview's REST API at the httpx transport seam.

``FakeCoachview`` has its own encoding (it shares no code with the client) and follows
the connector's documented assumptions: OAuth2 client credentials at
``/auth/connect/token`` (scopes ``api`` + ``<Entity>.Lezen``, ``expires_in`` per
client), bare JSON arrays from ``/api/v1/Facturen``, ``Debiteuren``, ``Bedrijven`` and
``Personen`` (UNVERIFIED paths and Dutch camelCase fields as in
``exactbridge.sources.coachview.models``), ``skip``/``take`` paging, ``where=``
expressions (``field=value``, ``field=v1,v2``, ``field>value``, ``field<value`` and
``audittrail.gewijzigddatumtijd=dd-mm-yyyy,dd-mm-yyyy``; field names are matched
case-insensitively, dotted names reach into nested objects), and a budget of 5,000
requests per 24 hours with ``X-Rate-Limit-Limit``/``-Remaining``/``-Reset`` (epoch
seconds) on every API answer and 429 once it is used up. Token requests do not count
against the budget (UNVERIFIED).

Tokens expire by the injected clock; faults can be injected (``fail_next``), every call
is logged (``calls``), hostile raw records can be served (``add_raw``), and
``seed_invoices`` builds thousands of realistic invoices with debtors, companies and
persons.

Example::

    fake = FakeCoachview(clock=clock)
    fake.add_client("my-id", "my-secret")
    fake.seed_invoices(250)
    client = CoachviewClient("my-id", "my-secret", transport=fake.transport(), clock=clock)
"""

from __future__ import annotations

import datetime as dt
import json
import random
import re
import secrets
import urllib.parse
import uuid
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

import attrs
import httpx

from exactbridge.clock import Clock, SystemClock

__all__ = ["FakeCoachview", "FakeCoachviewCall"]

_ENTITIES = {
    "facturen": "Facturen",
    "debiteuren": "Debiteuren",
    "bedrijven": "Bedrijven",
    "personen": "Personen",
}
_DAY = dt.timedelta(days=1)


@attrs.frozen
class FakeCoachviewCall:
    """One request the fake answered."""

    method: str
    path: str
    params: Mapping[str, str]
    status: int


@attrs.define
class _Client:
    secret: str = attrs.field(repr=False)
    scopes: frozenset[str]
    lifetime: int


@attrs.define
class _Token:
    client_id: str
    scopes: frozenset[str]
    expires_at: dt.datetime


@attrs.define
class _Fault:
    status: int
    times: int
    path_contains: str | None


_MARK = "@@decimal@@"
_MARKED = re.compile(r'"@@decimal@@(-?[0-9]+(?:\.[0-9]+)?)@@decimal@@"')


def _dumps(value: Any) -> bytes:
    """JSON with Decimals written as exact number literals (the fake's own encoder)."""

    def walk(v: Any) -> Any:
        if isinstance(v, Decimal):
            return f"{_MARK}{format(v, 'f')}{_MARK}"
        if isinstance(v, dict):
            return {k: walk(x) for k, x in v.items()}
        if isinstance(v, list):
            return [walk(x) for x in v]
        return v

    return _MARKED.sub(r"\1", json.dumps(walk(value))).encode()


class FakeCoachview:
    """Stateful fake of the Coachview endpoints the connector reads."""

    DAILY_LIMIT = 5000

    def __init__(self, *, clock: Clock | None = None, daily_limit: int = DAILY_LIMIT) -> None:
        self.clock: Clock = clock or SystemClock()
        self.daily_limit = daily_limit
        self.clients: dict[str, _Client] = {}
        self.tokens: dict[str, _Token] = {}
        self.entities: dict[str, list[dict[str, Any]]] = {k: [] for k in _ENTITIES}
        self.raw: dict[str, list[Any]] = {k: [] for k in _ENTITIES}
        self.calls: list[FakeCoachviewCall] = []
        self.token_calls = 0
        self._faults: list[_Fault] = []
        self._window_start: dt.datetime | None = None
        self._used = 0

    def __repr__(self) -> str:
        sizes = ", ".join(f"{k}={len(v)}" for k, v in self.entities.items())
        return f"FakeCoachview({sizes})"

    # ------------------------------------------------------------------ set-up

    def add_client(
        self,
        client_id: str,
        client_secret: str,
        *,
        scopes: tuple[str, ...] | None = None,
        lifetime: int = 3600,
    ) -> None:
        """Register an API client (Coachview's "Autorisatie" page); lifetime 900/3600/28800."""
        if scopes is None:
            scopes = ("api", *(f"{name}.Lezen" for name in _ENTITIES.values()))
        self.clients[client_id] = _Client(client_secret, frozenset(scopes), lifetime)

    def fail_next(self, status: int, *, times: int = 1, path_contains: str | None = None) -> None:
        """Answer the next ``times`` matching API requests with ``status``."""
        self._faults.append(_Fault(status, times, path_contains))

    def add_raw(self, entity: str, record: Any) -> None:
        """Serve ``record`` verbatim at the end of ``entity``'s listing (hostile input)."""
        self.raw[entity.lower()].append(record)

    def add(self, entity: str, record: dict[str, Any]) -> dict[str, Any]:
        """Store one record (wire shape) of ``entity`` (``"Facturen"``...)."""
        self.entities[entity.lower()].append(record)
        return record

    def seed_invoices(
        self,
        count: int,
        *,
        seed: int = 0,
        start: dt.date = dt.date(2026, 1, 5),
        lines: int = 3,
        credit_share: float = 0.05,
        extern_source: str = "ExactOnline",
    ) -> list[dict[str, Any]]:
        """Add ``count`` invoices (one debtor per 4 invoices, half companies, half persons)."""
        rng = random.Random(seed)
        made = []
        debtor: dict[str, Any] = {}
        for n in range(count):
            if n % 4 == 0:
                debtor = self._seed_debtor(rng, len(self.entities["debiteuren"]) + 1, extern_source)
            day = start + dt.timedelta(days=n % 300)
            sign = -1 if rng.random() < credit_share else 1
            rows: list[dict[str, Any]] = []
            amounts: list[tuple[Decimal, Decimal]] = []
            for i in range(lines):
                price = Decimal(rng.randint(5_000, 150_000)).scaleb(-2) * sign
                qty = Decimal(rng.randint(1, 3))
                pct = Decimal(rng.choice(("21", "9", "0")))
                amounts.append((price * qty, pct))
                rows.append(
                    {
                        "id": str(uuid.UUID(int=rng.getrandbits(128))),
                        "omschrijving": f"Training module {i + 1}",
                        "aantal": qty,
                        "prijsPerStuk": price,
                        "bedragExclBtw": price * qty,
                        "btwPercentage": pct,
                        "btwCode": {"21": "VH", "9": "VL", "0": "V0"}[str(pct)],
                        "grootboekrekening": "8000",
                        "kostenplaats": "KP01",
                        "opleidingCode": f"OPL-{n % 50:03d}",
                        "opleidingssoortCode": f"SOORT-{n % 7}",
                    }
                )
            excl = sum((r["bedragExclBtw"] for r in rows), Decimal(0))
            vat = sum(
                (
                    (r["bedragExclBtw"] * r["btwPercentage"] / 100).quantize(Decimal("0.01"))
                    for r in rows
                ),
                Decimal(0),
            )
            changed = dt.datetime.combine(day, dt.time(9, 30)) + dt.timedelta(minutes=n % 600)
            made.append(
                self.add(
                    "Facturen",
                    {
                        "id": str(uuid.UUID(int=rng.getrandbits(128))),
                        "factuurnummer": f"{n + 1:05d}",
                        "factuurdatum": day.isoformat(),
                        "vervaldatum": (day + 30 * _DAY).isoformat(),
                        "referentieNr": f"FREF-{n + 1}",
                        "omschrijving": f"Opleiding {n % 50}",
                        "valuta": "EUR",
                        "totaalExclBtw": excl,
                        "totaalBtw": vat,
                        "totaalInclBtw": excl + vat,
                        "debiteurId": debtor["id"],
                        "aanvraagId": str(uuid.UUID(int=rng.getrandbits(128))),
                        "aanvraagnummer": f"A{n + 1:06d}",
                        "referentieNrKlant": f"PO-{n + 1}",
                        "opleidingCode": f"OPL-{n % 50:03d}",
                        "opleidingssoortCode": f"SOORT-{n % 7}",
                        "orderStartdatum": (day + 7 * _DAY).isoformat() + "T00:00:00",
                        "orderEinddatum": (day + 37 * _DAY).isoformat(),
                        "factuurstatus": "Definitief",
                        "audittrail": {
                            "aangemaaktDatumTijd": changed.isoformat(),
                            "gewijzigdDatumTijd": changed.isoformat(),
                        },
                        "factuurregels": rows,
                    },
                )
            )
        return made

    def _seed_debtor(self, rng: random.Random, n: int, extern_source: str) -> dict[str, Any]:
        address = {
            "adres1": f"Kerkstraat {n}",
            "adres2": None,
            "adres3": None,
            "adres4": None,
            "postcode": f"{1000 + n % 8999} AB",
            "plaats": "Utrecht",
            "landCode": "NL",
        }
        company_id = person_id = None
        if n % 2:
            company_id = str(uuid.UUID(int=rng.getrandbits(128)))
            self.add(
                "Bedrijven",
                {
                    "id": company_id,
                    "naam": f"Bedrijf {n} B.V.",
                    "emailadres": f"info@bedrijf{n}.nl",
                    "telefoonnummer": "030-1234567",
                    "kvkNummer": f"{30000000 + n}",
                    "externId": f"EX{n:05d}" if n % 3 else None,
                    "externSource": extern_source if n % 3 else None,
                    "adres": address,
                    "factuurAdres": address,
                },
            )
        else:
            person_id = str(uuid.UUID(int=rng.getrandbits(128)))
            self.add(
                "Personen",
                {
                    "id": person_id,
                    "voorletters": "J.",
                    "voornaam": "Jan",
                    "tussenvoegsels": "van",
                    "achternaam": f"Dijk{n}",
                    "emailadres": f"jan{n}@example.nl",
                    "telefoonnummer": None,
                    "externId": f"EX{n:05d}" if n % 3 else None,
                    "externSource": extern_source if n % 3 else None,
                    "adres": address,
                    "factuurAdres": None,
                },
            )
        return self.add(
            "Debiteuren",
            {
                "id": str(uuid.UUID(int=rng.getrandbits(128))),
                "debiteurnummer": f"{n:05d}",
                "debiteurnummerExtern": f"E{n:04d}" if n % 5 == 0 else None,
                "naam": None,
                "bedrijfId": company_id,
                "persoonId": person_id,
                "particulier": person_id is not None,
                "btwNummer": f"NL{n:09d}B01" if company_id else None,
                "iban": "NL91ABNA0417164300",
                "bicCode": "ABNANL2A",
                "naamRekeninghouder": "Rekeninghouder",
                "emailadresAnders": None,
                "factuurAdres": None,
            },
        )

    # ------------------------------------------------------------------ transports

    def transport(self) -> httpx.MockTransport:
        """A transport for ``httpx.Client`` / :class:`CoachviewClient`."""
        return httpx.MockTransport(self.handle)

    def async_transport(self) -> httpx.MockTransport:
        """A transport for ``httpx.AsyncClient`` / :class:`AsyncCoachviewClient`."""
        return httpx.MockTransport(self.handle)

    @property
    def remaining(self) -> int:
        """Requests left in the current 24-hour window."""
        self._roll_window()
        return self.daily_limit - self._used

    def _roll_window(self) -> None:
        now = self.clock.now()
        if self._window_start is None or now >= self._window_start + _DAY:
            self._window_start = now
            self._used = 0

    # ------------------------------------------------------------------ handling

    def handle(self, request: httpx.Request) -> httpx.Response:
        """Answer one request (the transports call this)."""
        path = request.url.path
        params = dict(request.url.params)
        if request.method == "POST" and path == "/auth/connect/token":
            self.token_calls += 1
            response = self._token(request)
        else:
            response = self._api(request, path, params)
        self.calls.append(FakeCoachviewCall(request.method, path, params, response.status_code))
        return response

    def _token(self, request: httpx.Request) -> httpx.Response:
        form = dict(urllib.parse.parse_qsl(request.content.decode("utf-8", "replace")))
        if form.get("grant_type") != "client_credentials":
            return _json(400, {"error": "unsupported_grant_type"})
        client = self.clients.get(form.get("client_id", ""))
        if client is None or not secrets.compare_digest(
            client.secret, form.get("client_secret", "")
        ):
            return _json(400, {"error": "invalid_client"})
        asked = frozenset(form.get("scope", "").split())
        if not asked <= client.scopes:
            return _json(400, {"error": "invalid_scope"})
        token = secrets.token_urlsafe(24)
        self.tokens[token] = _Token(
            form["client_id"], asked, self.clock.now() + dt.timedelta(seconds=client.lifetime)
        )
        return _json(
            200,
            {
                "access_token": token,
                "expires_in": client.lifetime,
                "token_type": "Bearer",
                "scope": " ".join(sorted(asked)),
            },
        )

    def _rate_headers(self) -> dict[str, str]:
        assert self._window_start is not None
        reset = int((self._window_start + _DAY).timestamp())
        return {
            "X-Rate-Limit-Limit": str(self.daily_limit),
            "X-Rate-Limit-Remaining": str(max(self.daily_limit - self._used, 0)),
            "X-Rate-Limit-Reset": str(reset),
        }

    def _api(self, request: httpx.Request, path: str, params: dict[str, str]) -> httpx.Response:
        self._roll_window()
        if self._used >= self.daily_limit:
            return _json(429, {"message": "Rate limit exceeded"}, self._rate_headers())
        self._used += 1
        headers = self._rate_headers()
        for fault in self._faults:
            if fault.times > 0 and (fault.path_contains is None or fault.path_contains in path):
                fault.times -= 1
                return _json(fault.status, {"message": "injected fault"}, headers)
        auth = request.headers.get("authorization", "")
        token = self.tokens.get(auth[7:]) if auth.startswith("Bearer ") else None
        if token is None or self.clock.now() >= token.expires_at:
            return _json(401, {"message": "Unauthorized"}, headers)
        parts = path.strip("/").split("/")
        if len(parts) != 3 or parts[:2] != ["api", "v1"] or parts[2].lower() not in _ENTITIES:
            return _json(404, {"message": "Not found"}, headers)
        entity = parts[2].lower()
        if f"{_ENTITIES[entity]}.Lezen" not in token.scopes:
            return _json(403, {"message": "Forbidden: missing scope"}, headers)
        try:
            skip = int(params.get("skip", "0"))
            take = int(params.get("take", "100"))
        except ValueError:
            return _json(400, {"message": "skip and take must be integers"}, headers)
        if skip < 0 or not 0 < take <= 1000:
            return _json(400, {"message": "take must be 1..1000"}, headers)
        try:
            predicate = _compile_where(params.get("where"))
            rows = [r for r in self.entities[entity] if predicate(r)]
        except ValueError as exc:
            return _json(400, {"message": str(exc)}, headers)
        rows = rows + self.raw[entity]
        return _json(200, rows[skip : skip + take], headers)


def _lookup(record: Any, dotted: str) -> Any:
    value = record
    for part in dotted.split("."):
        if not isinstance(value, dict):
            return None
        match = next((k for k in value if k.lower() == part.lower()), None)
        if match is None:
            return None
        value = value[match]
    return value


def _as_day(text: str) -> dt.date:
    try:
        day, month, year = text.strip().replace(".", "-").split("-")
        return dt.date(int(year), int(month), int(day))
    except ValueError:
        raise ValueError(f"bad date {text!r}: expected dd-mm-yyyy") from None


def _compile_where(where: str | None) -> Callable[[dict[str, Any]], bool]:
    """Parse a ``where`` expression once into a record predicate (ValueError if bad)."""
    if not where:
        return lambda record: True
    for op in ("=", ">", "<"):
        if op in where:
            field, _, value = where.partition(op)
            break
    else:
        raise ValueError(f"cannot parse where {where!r}")
    field = field.strip()
    if field.lower() == "audittrail.gewijzigddatumtijd":
        if op == "=":
            bounds = value.split(",")
            if len(bounds) != 2:
                raise ValueError("a date range needs two dates")
            low, high = _as_day(bounds[0]), _as_day(bounds[1])
        else:
            bound = _as_day(value)
            low, high = (bound + _DAY, dt.date.max) if op == ">" else (dt.date.min, bound - _DAY)

        def in_range(record: dict[str, Any]) -> bool:
            actual = _lookup(record, field)
            if actual is None:
                return False
            return low <= dt.datetime.fromisoformat(str(actual)).date() <= high

        return in_range
    if op != "=":
        raise ValueError(f"{op} is only supported on dates")
    wanted = {v.strip().lower() for v in value.split(",")}

    def equals(record: dict[str, Any]) -> bool:
        actual = _lookup(record, field)
        return actual is not None and str(actual).lower() in wanted

    return equals


def _json(status: int, body: Any, headers: Mapping[str, str] | None = None) -> httpx.Response:
    return httpx.Response(
        status,
        content=_dumps(body),
        headers={"Content-Type": "application/json", **(headers or {})},
    )
