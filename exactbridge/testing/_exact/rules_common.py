"""Shared machinery of the fake's domain rules: errors, messages, value coercion, storage.

Nothing here knows HTTP. Rows are plain dicts of Python values (see ``schema.py``);
every write goes through a :class:`Txn`, which keeps an undo log so that a request
that fails half way leaves no trace (Exact validates a whole entry or nothing).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from exactbridge.testing._exact.schema import EdmType, EntitySet, Field

__all__ = [
    "AMSTERDAM",
    "CENT",
    "INDEXED_FIELDS",
    "TIMESTAMP_START",
    "DivisionState",
    "FakeODataError",
    "Problems",
    "Row",
    "TableRules",
    "Txn",
    "blank_row",
    "coerce_value",
    "is_blank",
    "label",
    "local_naive",
    "message",
    "midnight",
    "parse_body",
    "round_cents",
]

Row = dict[str, Any]

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
CENT = Decimal("0.01")

# First value of a division's rowversion counter: real rowversions are large numbers, so
# the usual first sync filter ``Timestamp gt 1L`` finds every row.
TIMESTAMP_START = 1_000_000


class FakeODataError(Exception):
    """An error the fake answers with Exact's error body.

    ``status`` is the HTTP status (Exact reports many business rules as 500),
    ``message`` the text for ``error.message.value`` (several messages joined by CRLF).
    """

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


# -- messages ---------------------------------------------------------------------------

# message id -> (English, Dutch). English is the default (a user with LanguageCode en-GB);
# the Dutch texts are the ones Exact's Dutch users see (reference §3.3).
_MESSAGES: dict[str, tuple[str, str]] = {
    "mandatory": ("Mandatory: {label}", "Verplicht: {label}"),
    "invalid": ("Invalid: {label}", "Ongeldig: {label}"),
    "invalid_reference": ("Invalid reference: {label}", "Ongeldige referentie: {label}"),
    "not_allowed": ("Not allowed: {label}", "Niet toegestaan: {label}"),
    "duplicate": ("Already exists: {label} {value}", "Bestaat al: {label} {value}"),
    "financial_year": (
        "The financial year cannot be changed.",
        "Het boekjaar kan niet worden gewijzigd.",
    ),
    "period_missing": (
        "Invalid: Period {year}/{period} does not exist",
        "Ongeldig: Periode {year}/{period} bestaat niet",
    ),
    "period_closed": (
        "Not allowed: Period {year}/{period} is closed for journal {journal}",
        "Niet toegestaan: Periode {year}/{period} is afgesloten voor dagboek {journal}",
    ),
    "not_balanced": (
        "Invalid: The entry is not in balance (difference {difference})",
        "Ongeldig: De boeking is niet in balans (verschil {difference})",
    ),
    "closing_balance": (
        "Invalid: Closing balance {given} does not equal opening balance plus lines {expected}",
        "Ongeldig: Eindsaldo {given} is niet gelijk aan beginsaldo plus regels {expected}",
    ),
    "matched": (
        "Not allowed: The entry has already been matched with a payment",
        "Niet toegestaan: De boeking is al afgeletterd",
    ),
    "in_use": ("Not allowed: {label} is in use", "Niet toegestaan: {label} is in gebruik"),
    "not_found": (
        "Resource not found for the segment '{segment}'.",
        "Resource not found for the segment '{segment}'.",
    ),
    "duplicate_key": (
        "An entity with key {key} already exists.",
        "An entity with key {key} already exists.",
    ),
}

# field label -> (English, Dutch), used by "Mandatory:", "Invalid:" and friends
_LABELS: dict[str, tuple[str, str]] = {
    "Account": ("Relationship", "Relatie"),
    "Amount": ("Amount", "Bedrag"),
    "Attachment": ("Attachment", "Bijlage"),
    "BankAccount": ("Bank account", "Bankrekening"),
    "Closing balance": ("Closing balance", "Eindsaldo"),
    "Code": ("Code", "Code"),
    "CostCenter": ("Cost center", "Kostenplaats"),
    "CostUnit": ("Cost unit", "Kostendrager"),
    "Country": ("Country", "Land"),
    "Currency": ("Currency", "Valuta"),
    "Customer": ("Customer", "Klant"),
    "Description": ("Description", "Omschrijving"),
    "Document": ("Document", "Document"),
    "FileName": ("File name", "Bestandsnaam"),
    "FirstName": ("First name", "Voornaam"),
    "GLAccount": ("G/L account", "Grootboekrekening"),
    "GLAccountType": ("G/L account type", "Grootboekrekeningtype"),
    "GLToPay": ("VAT to pay", "Af te dragen btw"),
    "Journal": ("Journal", "Dagboek"),
    "JournalCode": ("Journal", "Dagboek"),
    "LastName": ("Last name", "Achternaam"),
    "Lines": ("Lines", "Regels"),
    "Name": ("Name", "Naam"),
    "PaymentCondition": ("Payment condition", "Betalingsconditie"),
    "PaymentServiceProvider": ("Payment service provider", "Payment service provider"),
    "Percentage": ("Percentage", "Percentage"),
    "Reference": ("Reference", "Kenmerk"),
    "Status": ("Status", "Status"),
    "Subject": ("Subject", "Onderwerp"),
    "Type": ("Type", "Type"),
    "VATAmountFC": ("VAT amount", "Btw-bedrag"),
    "VATCode": ("VAT code", "Btw-code"),
    "VATTransactionType": ("VAT transaction type", "Btw-transactiesoort"),
    "BalanceSide": ("Balance side", "Debet/credit"),
    "BalanceType": ("Balance type", "Balanstype"),
    "UseCostcenter": ("Use cost center", "Kostenplaats gebruiken"),
    "UseCostunit": ("Use cost unit", "Kostendrager gebruiken"),
    "BankAccountIncludingMask": ("Bank account", "Bankrekening"),
    "InvoicingMethod": ("Invoicing method", "Factuurmethode"),
    "PaymentMethod": ("Payment method", "Betaalwijze"),
}


def label(name: str, language: str) -> str:
    """The user-facing label of a field (its name when no label is known)."""
    pair = _LABELS.get(name)
    if pair is None:
        return name
    return pair[1] if language == "nl" else pair[0]


def message(language: str, message_id: str, **values: object) -> str:
    """Format one of the fake's messages in ``language`` (``"en"`` or ``"nl"``).

    A ``label`` value that names a field is translated too.

    >>> message("nl", "mandatory", label="Journal")
    'Verplicht: Dagboek'
    """
    english, dutch = _MESSAGES[message_id]
    template = dutch if language == "nl" else english
    if "label" in values:
        values = dict(values, label=label(str(values["label"]), language))
    return template.format(**values)


class Problems:
    """Collects validation messages; :meth:`raise_if_any` joins them with CRLF, as Exact does."""

    def __init__(self, language: str) -> None:
        self.language = language
        self.messages: list[str] = []

    def add(self, message_id: str, **values: object) -> None:
        """Add one message (a repeated message is kept once)."""
        text = message(self.language, message_id, **values)
        if text not in self.messages:
            self.messages.append(text)

    def mandatory(self, field: str) -> None:
        """Add ``Mandatory: <label of field>``."""
        self.add("mandatory", label=field)

    def __bool__(self) -> bool:
        return bool(self.messages)

    def raise_if_any(self, status: int = 500) -> None:
        """Raise one FakeODataError with every collected message, if there are any."""
        if self.messages:
            raise FakeODataError(status, "\r\n".join(self.messages))


# -- values -----------------------------------------------------------------------------


def round_cents(value: Decimal) -> Decimal:
    """Round half-up to cents (``Decimal("0.125")`` -> ``Decimal("0.13")``)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def midnight(day: dt.date) -> dt.datetime:
    """A date as Exact stores it: naive wall-clock midnight."""
    return dt.datetime.combine(day, dt.time())


def local_naive(instant: dt.datetime) -> dt.datetime:
    """Convert an aware instant to naive Amsterdam wall-clock time, as Exact stores it."""
    if instant.tzinfo is None:
        raise ValueError("the fake's clock must return timezone-aware datetimes")
    return instant.astimezone(AMSTERDAM).replace(tzinfo=None)


_INT_RANGES: dict[EdmType, tuple[int, int]] = {
    EdmType.BYTE: (0, 255),
    EdmType.INT16: (-(2**15), 2**15 - 1),
    EdmType.INT32: (-(2**31), 2**31 - 1),
    EdmType.INT64: (-(2**63), 2**63 - 1),
}
_MS_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")
_EPOCH = dt.datetime.combine(dt.date(1970, 1, 1), dt.time())


class _Unconvertible(Exception):
    pass


def _stream_error(type_name: str, field: Field, value: object) -> FakeODataError:
    shown = repr(value) if not isinstance(value, str) else f"'{value}'"
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return FakeODataError(
        400,
        "Error processing request stream. Cannot convert the value "
        f"{shown} of property '{field.name}' specified for type '{type_name}' "
        f"to the expected type '{field.type.value}'.",
    )


def _to_int(value: object) -> int:
    if isinstance(value, bool):
        raise _Unconvertible
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal):
        if value != value.to_integral_value():
            raise _Unconvertible
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        return int(value)
    raise _Unconvertible


def _to_decimal(value: object) -> Decimal:
    if isinstance(value, bool):
        raise _Unconvertible
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise _Unconvertible from None
    else:
        # floats are refused on purpose: the fake's money path is Decimal only
        raise _Unconvertible
    if not result.is_finite():
        raise _Unconvertible
    return result


def _to_datetime(value: object) -> dt.datetime:
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
        return value
    if isinstance(value, dt.date):
        return midnight(value)
    if not isinstance(value, str):
        raise _Unconvertible
    text = value.strip()
    match = _MS_DATE.match(text)
    if match:
        # /Date(ms)/ carries Amsterdam wall-clock time encoded as if it were UTC
        return _EPOCH + dt.timedelta(milliseconds=int(match.group(1)))
    if text.endswith(("Z", "z")):
        text = text[:-1]
        offset_given = False
    else:
        offset_given = bool(re.search(r"[+-]\d{2}:?\d{2}$", text)) and "T" in text
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        raise _Unconvertible from None
    if parsed.tzinfo is not None and offset_given:
        # an explicit offset is honoured; "Z" (or none) means the wall-clock value itself
        parsed = parsed.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return parsed.replace(tzinfo=None)


def _to_guid(value: object) -> uuid.UUID:
    if isinstance(value, uuid.UUID):
        return value
    if not isinstance(value, str):
        raise _Unconvertible
    text = value.strip()
    if text.startswith("guid'") and text.endswith("'"):
        text = text[5:-1]
    try:
        return uuid.UUID(text.strip("{}"))
    except ValueError:
        raise _Unconvertible from None


def _to_binary(value: object) -> bytes:
    if isinstance(value, bytes):
        return value
    if not isinstance(value, str):
        raise _Unconvertible
    try:
        return base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise _Unconvertible from None


def coerce_value(type_name: str, field: Field, value: object) -> Any:
    """Convert one JSON-decoded value to the Python value of ``field``'s Edm type.

    ``None`` stays ``None``. Raises :class:`FakeODataError` (400, Exact's
    request-stream wording) when the value cannot be converted.
    """
    if value is None:
        return None
    kind = field.type
    try:
        if kind is EdmType.STRING:
            if not isinstance(value, str):
                raise _Unconvertible
            return value
        if kind in _INT_RANGES:
            number = _to_int(value)
            low, high = _INT_RANGES[kind]
            if not low <= number <= high:
                raise _Unconvertible
            return number
        if kind is EdmType.DOUBLE:
            return _to_decimal(value)
        if kind is EdmType.BOOLEAN:
            if not isinstance(value, bool):
                raise _Unconvertible
            return value
        if kind is EdmType.GUID:
            return _to_guid(value)
        if kind is EdmType.DATETIME:
            return _to_datetime(value)
        if kind is EdmType.BINARY:
            return _to_binary(value)
    except _Unconvertible:
        raise _stream_error(type_name, field, value) from None
    raise AssertionError(f"unhandled Edm type {kind}")  # pragma: no cover


_TOP_LEVEL = (
    "Error processing request stream. The request should be a valid top-level resource object."
)


def parse_body(
    entity_set: EntitySet, body: object, *, for_update: bool = False
) -> tuple[Row, dict[str, list[Mapping[str, Any]]]]:
    """Split a JSON body into coerced writable values and inline child collections.

    Unknown properties answer 400 with Exact's stream error; read-only properties
    (and POST-only ones on update) are ignored, as Exact ignores them.
    """
    if not isinstance(body, Mapping):
        raise FakeODataError(400, _TOP_LEVEL)
    values: Row = {}
    children: dict[str, list[Mapping[str, Any]]] = {}
    for name, raw in body.items():
        if not isinstance(name, str):
            raise FakeODataError(400, _TOP_LEVEL)
        if name == "__metadata":
            continue
        if name in entity_set.children:
            items = raw.get("results", raw) if isinstance(raw, Mapping) else raw
            if items is None:
                continue
            if not isinstance(items, list) or not all(isinstance(i, Mapping) for i in items):
                raise FakeODataError(400, _TOP_LEVEL)
            if not for_update:
                children[name] = list(items)
            continue
        field = entity_set.fields.get(name)
        if field is None:
            raise FakeODataError(
                400,
                f"Error processing request stream. The property name '{name}' specified for "
                f"type '{entity_set.type_name}' is not valid.",
            )
        if field.read_only or (for_update and field.post_only):
            continue
        values[name] = coerce_value(entity_set.type_name, field, raw)
    return values, children


# -- storage ------------------------------------------------------------------------------


# fields looked up often enough (per posted entry or per read) to deserve an index
INDEXED_FIELDS: tuple[tuple[str, str], ...] = (
    ("SalesEntryLines", "EntryID"),
    ("BankEntryLines", "EntryID"),
    ("GeneralJournalEntryLines", "EntryID"),
    ("TransactionLines", "EntryID"),
    ("Receivables", "TransactionEntryID"),
    ("Receivables", "Account"),
    ("Receivables", "_SettledBy"),
    ("SalesEntries", "EntryNumber"),
    ("BankEntries", "EntryNumber"),
    ("GeneralJournalEntries", "EntryNumber"),
    # natural keys clients filter on (``YourRef eq``, ``Code eq``, ``Subject eq``): the
    # protocol layer reads these buckets instead of the whole table (ExactDomain.pick_rows)
    ("SalesEntries", "YourRef"),
    ("Accounts", "Code"),
    ("Documents", "Subject"),
)


class DivisionState:
    """Everything one administration holds: tables, counters, period locks, file bytes."""

    def __init__(self, code: int, row: Row) -> None:
        self.code = code
        self.row = row  # the system/Divisions row
        self.tables: dict[str, dict[Any, Row]] = {}
        self.counters: dict[str, int] = {"timestamp": TIMESTAMP_START}
        # (financial year, period, journal code or None for every journal)
        self.closed_periods: set[tuple[int, int, str | None]] = set()
        self.attachments: dict[uuid.UUID, bytes] = {}
        # secondary indexes: (table, field) -> value -> keys (insertion-ordered)
        self.indexes: dict[tuple[str, str], dict[Any, dict[Any, None]]] = {
            name: {} for name in INDEXED_FIELDS
        }

    def index_add(self, table: str, key: Any, row: Mapping[str, Any]) -> None:
        """Enter a row into the indexes of its table."""
        for (indexed_table, field), index in self.indexes.items():
            if indexed_table == table:
                index.setdefault(row.get(field), {})[key] = None

    def index_drop(self, table: str, key: Any, row: Mapping[str, Any]) -> None:
        """Remove a row from the indexes of its table."""
        for (indexed_table, field), index in self.indexes.items():
            if indexed_table == table:
                bucket = index.get(row.get(field))
                if bucket is not None:
                    bucket.pop(key, None)
                    if not bucket:
                        del index[row.get(field)]

    def table(self, name: str) -> dict[Any, Row]:
        """The rows of one table by key (created empty on first use)."""
        table = self.tables.get(name)
        if table is None:
            table = self.tables[name] = {}
        return table


class Txn:
    """One request's writes to a division, with an undo log for all-or-nothing semantics."""

    def __init__(
        self,
        state: DivisionState,
        *,
        now: dt.datetime,
        user_id: uuid.UUID,
        user_name: str,
        language: str,
        new_id: Callable[[], uuid.UUID],
        options: Mapping[str, Any],
    ) -> None:
        self.state = state
        self.division = state.code
        self.now = now  # naive Amsterdam wall-clock time
        self.user_id = user_id
        self.user_name = user_name
        self.language = language
        self.new_id = new_id
        self.options = options
        self._undo: list[Callable[[], None]] = []

    # reads
    def table(self, name: str) -> dict[Any, Row]:
        """The rows of one table of this division by key."""
        return self.state.table(name)

    def find(self, table: str, **criteria: object) -> list[Row]:
        """Rows of ``table`` whose fields equal ``criteria`` (indexed where possible)."""
        rows = self.state.table(table)
        if len(criteria) == 1:
            ((field, value),) = criteria.items()
            index = self.state.indexes.get((table, field))
            if index is not None:
                return [rows[key] for key in index.get(value, ())]
        return [row for row in rows.values() if all(row.get(k) == v for k, v in criteria.items())]

    def first(self, table: str, **criteria: object) -> Row | None:
        """The first row :meth:`find` returns, or None."""
        found = self.find(table, **criteria)
        return found[0] if found else None

    def problems(self) -> Problems:
        """A new message collector in this request's language."""
        return Problems(self.language)

    def error(self, message_id: str, status: int = 500, **values: object) -> FakeODataError:
        """A FakeODataError with one formatted message."""
        return FakeODataError(status, message(self.language, message_id, **values))

    # counters
    def next_counter(self, name: str, start: int = 0) -> int:
        """Increase a division counter (undone on rollback) and return its new value."""
        counters = self.state.counters
        had = name in counters
        old = counters.get(name, start)
        counters[name] = old + 1

        def undo() -> None:
            if had:
                counters[name] = old
            else:
                counters.pop(name, None)

        self._undo.append(undo)
        return old + 1

    def peek_counter(self, name: str, start: int = 0) -> int:
        """The current value of a division counter."""
        return self.state.counters.get(name, start)

    def set_counter(self, name: str, value: int) -> None:
        """Set a division counter (undone on rollback)."""
        counters = self.state.counters
        had = name in counters
        old = counters.get(name)

        def undo() -> None:
            if had and old is not None:
                counters[name] = old
            else:
                counters.pop(name, None)

        counters[name] = value
        self._undo.append(undo)

    def _stamp(self) -> int:
        # the division-wide rowversion: one counter that increases on every write
        return self.next_counter("timestamp")

    # writes
    def audit_fields(self) -> Row:
        """Created/Modified/Creator/Modifier/Division values for a new row."""
        return {
            "Created": self.now,
            "Creator": self.user_id,
            "CreatorFullName": self.user_name,
            "Modified": self.now,
            "Modifier": self.user_id,
            "ModifierFullName": self.user_name,
            "Division": self.division,
        }

    def insert(self, table: str, key: Any, row: Row) -> Row:
        """Store a new row under ``key`` and stamp it (a duplicate key is a 500)."""
        rows = self.state.table(table)
        if key in rows:
            raise self.error("duplicate_key", key=key)
        row["Timestamp"] = self._stamp()
        rows[key] = row
        state = self.state
        state.index_add(table, key, row)

        def undo() -> None:
            state.index_drop(table, key, row)
            rows.pop(key, None)

        self._undo.append(undo)
        return row

    def patch(self, table: str, key: Any, changes: Mapping[str, Any], *, touch: bool = True) -> Row:
        """Merge ``changes`` into a row and stamp it (``touch`` also sets Modified)."""
        rows = self.state.table(table)
        row = rows[key]
        before = dict(row)
        state = self.state

        def undo() -> None:
            state.index_drop(table, key, row)
            row.clear()
            row.update(before)
            state.index_add(table, key, row)

        self._undo.append(undo)
        state.index_drop(table, key, row)
        row.update(changes)
        state.index_add(table, key, row)
        if touch:
            row["Modified"] = self.now
            row["Modifier"] = self.user_id
            row["ModifierFullName"] = self.user_name
        row["Timestamp"] = self._stamp()
        return row

    def remove(self, table: str, key: Any, entity_type: int | None = None) -> Row:
        """Delete a row; with ``entity_type`` the deletion is logged for sync/Deleted."""
        rows = self.state.table(table)
        row = rows.pop(key)
        state = self.state
        state.index_drop(table, key, row)

        def undo() -> None:
            rows[key] = row
            state.index_add(table, key, row)

        self._undo.append(undo)
        if entity_type is not None and isinstance(key, uuid.UUID):
            deleted_id = self.new_id()
            self.insert(
                "Deleted",
                deleted_id,
                {
                    "ID": deleted_id,
                    "EntityKey": key,
                    "EntityType": entity_type,
                    "DeletedBy": self.user_id,
                    "DeletedDate": self.now,
                    "Division": self.division,
                },
            )
        return row

    def keep_bytes(self, key: uuid.UUID, data: bytes) -> None:
        """Keep an attachment's file bytes."""
        store = self.state.attachments
        store[key] = data

        def undo() -> None:
            store.pop(key, None)

        self._undo.append(undo)

    def drop_bytes(self, key: uuid.UUID) -> None:
        """Forget an attachment's file bytes."""
        store = self.state.attachments
        if key in store:
            data = store.pop(key)
            self._undo.append(lambda: store.__setitem__(key, data))

    def rollback(self) -> None:
        """Undo every write of this request, newest first."""
        while self._undo:
            self._undo.pop()()


def blank_row(fields: Iterable[str]) -> Row:
    """A row with every field present and null (Exact returns explicit nulls)."""
    return dict.fromkeys(fields)


class TableRules:
    """The rules of one table; the default is a plain table with required fields.

    Subclasses (in ``rules_*.py``) override :meth:`build` to add defaults, derived
    values and validation, and :meth:`change` / :meth:`drop` for PUT and DELETE.
    """

    table: str = ""

    def __init__(self, table: str, entity_set: EntitySet) -> None:
        self.table = table
        self.entity_set = entity_set

    def required_problems(self, tx: Txn, values: Mapping[str, Any], problems: Problems) -> None:
        """Add ``Mandatory:`` problems for required fields missing from a POST."""
        for field in self.entity_set.fields.values():
            if field.required and _blank(values.get(field.name)):
                problems.mandatory(field.name)

    def new_key(self, tx: Txn, values: Mapping[str, Any]) -> Any:
        """The key of a new row: the supplied one (if free) or a new GUID."""
        key_name = self.entity_set.key
        given = values.get(key_name)
        if given is not None:
            if given in tx.table(self.table):
                raise tx.error("duplicate_key", key=f"guid'{given}'")
            return given
        return tx.new_id()

    def build(
        self,
        tx: Txn,
        values: Row,
        children: Mapping[str, list[Mapping[str, Any]]],
    ) -> Row:
        """Validate a POST and store its row (and any rows it implies); return the row."""
        problems = tx.problems()
        self.required_problems(tx, values, problems)
        self.check(tx, values, problems, None)
        problems.raise_if_any()
        return self.store(tx, values)

    def store(self, tx: Txn, values: Row) -> Row:
        """Build the full row from validated values, derive read-only fields, insert it."""
        key = self.new_key(tx, values)
        row = blank_row(self.entity_set.fields)
        row.update(tx.audit_fields())
        row.update(values)
        row[self.entity_set.key] = key
        self.derive(tx, row)
        return tx.insert(self.table, key, row)

    def check(self, tx: Txn, values: Row, problems: Problems, existing: Row | None) -> None:
        """Add the table's business-rule problems for a POST (existing None) or PUT."""

    def derive(self, tx: Txn, row: Row) -> None:
        """Fill read-only derived fields (descriptions, codes) in a row about to be stored."""

    def change(self, tx: Txn, row: Row, values: Row) -> None:
        """Apply a PUT (merge semantics) after validation."""
        merged = dict(row)
        merged.update(values)
        problems = tx.problems()
        for field in self.entity_set.fields.values():
            if field.required and field.name in values and _blank(values[field.name]):
                problems.mandatory(field.name)
        self.check(tx, merged, problems, row)
        problems.raise_if_any()
        self.derive(tx, merged)
        key = row[self.entity_set.key]
        tx.patch(self.table, key, {k: v for k, v in merged.items() if row.get(k) != v})

    def drop(self, tx: Txn, row: Row) -> None:
        """Delete a row (and whatever cascades from it)."""
        from exactbridge.testing._exact.entities_catalog import DELETED_ENTITY_TYPES

        tx.remove(self.table, row[self.entity_set.key], DELETED_ENTITY_TYPES.get(self.table))


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def is_blank(value: object) -> bool:
    """True for ``None`` and empty or all-space strings (Exact treats them as missing)."""
    return _blank(value)
