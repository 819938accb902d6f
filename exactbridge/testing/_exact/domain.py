"""The fake Exact Online's domain layer: divisions, tables, validation, bookkeeping.

:class:`ExactDomain` holds every division's rows as Python values and applies Exact's
rules on writes; the protocol layer (router, OData, envelopes) calls only the methods
declared here. Entity by entity, ``docs/testing-exact-entities.md`` lists the fields,
verbs and rules the fake supports.

>>> import datetime as dt
>>> domain = ExactDomain(now=lambda: dt.datetime(2025, 3, 1, 9, tzinfo=dt.timezone.utc))
>>> domain.add_division(1001, description="Gym BV")
>>> accounts = domain.entity_set("crm/Accounts")
>>> row = domain.create(1001, accounts, {"Name": "Jan Jansen"})
>>> row["Code"]
'                 1'
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from exactbridge.testing._exact.entities_catalog import CHILD_LINKS, build_catalog
from exactbridge.testing._exact.rules_common import (
    DivisionState,
    FakeODataError,
    TableRules,
    Txn,
    local_naive,
    message,
    midnight,
    parse_body,
)
from exactbridge.testing._exact.rules_entries import ENTRY_RULES, receivables_list_row
from exactbridge.testing._exact.rules_master import MASTER_RULES, add_financial_year
from exactbridge.testing._exact.schema import EntitySet

__all__ = ["ExactDomain", "FakeODataError"]

_COUNTRY_CURRENCY = {"NL": "EUR", "BE": "EUR", "DE": "EUR", "FR": "EUR", "ES": "EUR", "GB": "GBP"}
_LEGISLATION = {"NL": "1", "BE": "2", "DE": "4", "GB": "8", "ES": "64", "FR": "128"}
# tables whose rows are built on every read rather than stored (served as built)
_COMPUTED = frozenset({"Me", "Divisions"})


class ExactDomain:
    """All state of the fake's administrations (divisions) and their rules.

    ``now`` returns the fake's current time (aware UTC); the domain converts it to
    Amsterdam wall-clock time for ``Created``/``Modified`` and uses it for ``Timestamp``.

    Options (keyword-only):

    * ``language``: ``"en"`` (default) or ``"nl"``: the language of validation messages
      (``Mandatory: Journal`` / ``Verplicht: Dagboek``);
    * ``receipt_sign``: ``1`` (default) or ``-1``: the sign a customer receipt has on a
      bank entry line. With ``1`` a line amount is money in (bank side) and
      ``opening + sum(lines) = closing``; with ``-1`` a line carries the counter
      account's sign (crediting the debtor is negative) and ``opening - sum(lines) =
      closing``. Exact's real convention is not documented (reference §5.10);
    * ``sales_entry_type``: ``"as_posted"`` (default) or ``"by_sign"``: whether a
      sales entry keeps the ``Type`` (20 entry, 21 credit note) it was posted with, or
      Exact derives it from the sign of the total (a negative total becomes 21). Not
      documented either (reference, SalesEntries: UNCERTAIN); an entry posted without
      a ``Type`` gets it from its sign in both modes;
    * ``account_code_alignment``: ``"all"`` (default) or ``"numeric"``: whether an
      account ``Code`` with letters (``CV00042``) is right-aligned to 18 characters like
      a numeric one, or stored as given. Numeric codes are always right-aligned (that
      part is documented); the rest is not (reference, Accounts: Code);
    * ``base_url``: the host used in attachment ``Url`` values;
    * ``new_id``: the GUID factory (``uuid.uuid4``), injectable for reproducible ids.
    """

    def __init__(
        self,
        now: Callable[[], dt.datetime],
        *,
        language: str = "en",
        receipt_sign: int = 1,
        sales_entry_type: str = "as_posted",
        account_code_alignment: str = "all",
        base_url: str = "https://start.exactonline.nl",
        new_id: Callable[[], uuid.UUID] = uuid.uuid4,
    ) -> None:
        if language not in ("en", "nl"):
            raise ValueError(f"language must be 'en' or 'nl', not {language!r}")
        if receipt_sign not in (1, -1):
            raise ValueError(f"receipt_sign must be 1 or -1, not {receipt_sign!r}")
        if sales_entry_type not in ("as_posted", "by_sign"):
            raise ValueError(
                f"sales_entry_type must be 'as_posted' or 'by_sign', not {sales_entry_type!r}"
            )
        self.sales_entry_type = sales_entry_type
        if account_code_alignment not in ("all", "numeric"):
            raise ValueError(
                f"account_code_alignment must be 'all' or 'numeric', not {account_code_alignment!r}"
            )
        self.account_code_alignment = account_code_alignment
        self._now = now
        self.language = language
        self.receipt_sign = receipt_sign
        self.base_url = base_url.rstrip("/")
        self._new_id = new_id
        self._sets = build_catalog()
        self._by_path = {s.path.lower(): s for s in self._sets}
        self._rules: dict[str, TableRules] = {}
        rule_classes: dict[str, type[TableRules]] = {**MASTER_RULES, **ENTRY_RULES}
        for entity_set in self._sets:
            if entity_set.table in self._rules or "POST" not in entity_set.verbs:
                continue
            cls = rule_classes.get(entity_set.table, TableRules)
            self._rules[entity_set.table] = cls(entity_set.table, entity_set)
        for entity_set in self._sets:  # GET/PUT-only tables still get rules for PUT/DELETE
            if entity_set.table not in self._rules and entity_set.kind.value == "crud":
                cls = rule_classes.get(entity_set.table, TableRules)
                self._rules[entity_set.table] = cls(entity_set.table, entity_set)
        self.user_id = uuid.UUID("6a1c2b3d-0000-4000-8000-00000000e1a7")
        self.user_name = "Fake User"
        self.user_email = "fake.user@example.invalid"
        self._divisions: dict[int, DivisionState] = {}
        self._current: int | None = None

    # -- options --------------------------------------------------------------------
    @property
    def options(self) -> dict[str, Any]:
        """The options the rules read (receipt sign, sales entry type, base URL)."""
        return {
            "receipt_sign": self.receipt_sign,
            "sales_entry_type": self.sales_entry_type,
            "account_code_alignment": self.account_code_alignment,
            "base_url": self.base_url,
        }

    # -- registry -------------------------------------------------------------------
    def entity_set(self, path: str) -> EntitySet | None:
        """Look an entity set up by its path below the division (case-insensitive)."""
        return self._by_path.get(path.strip("/").lower())

    def entity_sets(self) -> Iterable[EntitySet]:
        """Every entity set the fake serves, in catalogue order."""
        return list(self._sets)

    def _set(self, path: str) -> EntitySet:
        entity_set = self.entity_set(path)
        if entity_set is None:  # pragma: no cover - catalogue paths are fixed
            raise KeyError(path)
        return entity_set

    # -- divisions ------------------------------------------------------------------
    def add_division(self, code: int, *, description: str = "", country: str = "NL") -> None:
        """Create an empty division (use ``seeds.seed_division`` for a realistic one)."""
        if isinstance(code, bool) or code <= 0:
            raise ValueError(f"a division code is a positive int, not {code!r}")
        if code in self._divisions:
            raise ValueError(f"division {code} already exists")
        country_code = country.strip().upper()
        if len(country_code) != 2 or not country_code.isalpha():
            raise ValueError(f"country must be an ISO alpha-2 code, not {country!r}")
        now = local_naive(self._now())
        row: dict[str, Any] = {
            "Code": code,
            "Description": description or f"Division {code}",
            "Country": country_code.ljust(3),
            "Currency": _COUNTRY_CURRENCY.get(country_code, "EUR"),
            "Legislation": _LEGISLATION.get(country_code, "1"),
            "Hid": str(len(self._divisions) + 1),
            "Status": 1,
            "StartDate": midnight(dt.date(now.year, 1, 1)),
            "DivisionMoveDate": None,
            "IsMainDivision": not self._divisions,
            "Current": False,
            "Customer": uuid.uuid5(uuid.NAMESPACE_OID, f"exactbridge-division-{code}"),
            "VATNumber": None,
            "Created": now,
            "Modified": now,
        }
        self._divisions[code] = DivisionState(code, row)
        if self._current is None:
            self._current = code

    def has_division(self, code: int) -> bool:
        """Whether a division with this code exists."""
        return code in self._divisions

    def divisions(self) -> list[int]:
        """The codes of every division, in creation order."""
        return list(self._divisions)

    def division_currency(self, code: int) -> str:
        """The division's currency code (``EUR``)."""
        return str(self._state(code).row["Currency"])

    def division_country(self, code: int) -> str:
        """The division's ISO country code, unpadded (``NL``)."""
        return str(self._state(code).row["Country"]).strip()

    def reset(self) -> None:
        """Forget every division and row."""
        self._divisions.clear()
        self._current = None

    def _state(self, division: int) -> DivisionState:
        state = self._divisions.get(division)
        if state is None:
            raise FakeODataError(
                403 if division else 404,
                f"Forbidden - division {division} does not exist or is not accessible",
            )
        self._current = division
        return state

    def _txn(self, division: int) -> Txn:
        return Txn(
            self._state(division),
            now=local_naive(self._now()),
            user_id=self.user_id,
            user_name=self.user_name,
            language=self.language,
            new_id=self._new_id,
            options=self.options,
        )

    # -- data -------------------------------------------------------------------------
    def rows(self, division: int, entity_set: EntitySet) -> list[dict[str, Any]]:
        """All rows of the set in creation order, as copies the caller may change.

        Every row is copied; to read part of a large table use :meth:`pick_rows`.
        """
        rows = self._read(division, entity_set, None)
        if entity_set.table in _COMPUTED:  # built afresh for every call
            return [dict(row) for row in rows]
        return [_project(row, entity_set) for row in rows]

    def pick_rows(
        self,
        division: int,
        entity_set: EntitySet,
        choose: Callable[[Sequence[Mapping[str, Any]]], Iterable[Mapping[str, Any]]],
        *,
        equal: Mapping[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        """Lend the set's rows to ``choose`` and return copies of the rows it picks.

        This is the protocol layer's read path: ``choose`` filters, orders and pages (or
        only counts) the rows, and only what it returns is copied, so reading a page of a
        large table costs one pass over it instead of a copy of every row.

        ``choose`` gets the stored rows themselves, in creation order, for the length of
        the call: it must read them with ``row.get(name)`` for the set's fields only (a
        row may hold more keys, internal ones or another set's fields on the same table;
        a missing field is null) and must never change them. The copies it gets back
        hold exactly the set's fields, like :meth:`rows`.

        ``equal`` (field -> value) is a hint taken from the caller's filter: when one of
        the fields is indexed for the table, ``choose`` only gets the rows holding that
        value, in no promised order. The hint only narrows; ``choose`` still filters.

        >>> import datetime as dt
        >>> domain = ExactDomain(now=lambda: dt.datetime(2025, 3, 1, tzinfo=dt.timezone.utc))
        >>> domain.add_division(1)
        >>> accounts = domain.entity_set("crm/Accounts")
        >>> for name in ("Ann", "Bob"):
        ...     _ = domain.create(1, accounts, {"Name": name})
        >>> [row["Name"] for row in domain.pick_rows(1, accounts, lambda rows: rows[-1:])]
        ['Bob']

        A subclass that overrides :meth:`rows` but not this method (a stand-in domain in
        tests) is read through its ``rows``.
        """
        if type(self).rows is not ExactDomain.rows:
            return [dict(row) for row in choose(self.rows(division, entity_set))]
        chosen = choose(self._read(division, entity_set, equal))
        if entity_set.table in _COMPUTED:
            return [dict(row) for row in chosen]
        return [_project(row, entity_set) for row in chosen]

    def _read(
        self, division: int, entity_set: EntitySet, equal: Mapping[str, Any] | None
    ) -> list[dict[str, Any]]:
        """The stored rows themselves, or computed ones (Me, Divisions, ReceivablesList).

        Never hand these out: callers get copies (:func:`_project`).
        """
        if entity_set.table == "Me":
            return [self.current_user()]
        if entity_set.table == "Divisions":
            self._state(division)
            return [self._division_row(code) for code in self._divisions]
        state = self._state(division)
        if entity_set.table == "ReceivablesList":
            return [
                receivables_list_row(row)
                for row in state.table("Receivables").values()
                if row.get("Status") == 20
            ]
        table = state.table(entity_set.table)
        if equal:
            bucket = _narrowest(state, entity_set.table, equal)
            if bucket is not None:
                return [table[key] for key in bucket]
        return list(table.values())

    def get(self, division: int, entity_set: EntitySet, key: uuid.UUID | int) -> dict[str, Any]:
        """One row by key, as a copy the caller may change; FakeODataError(404) if absent."""
        for row in self._raw_lookup(division, entity_set, key):
            return row
        raise FakeODataError(
            404,
            message(self.language, "not_found", segment=entity_set.path.rsplit("/", 1)[-1]),
        )

    def _raw_lookup(
        self, division: int, entity_set: EntitySet, key: uuid.UUID | int
    ) -> list[dict[str, Any]]:
        """The row with this key, projected on the set's fields ([] if there is none)."""
        if entity_set.table in _COMPUTED:
            return [
                dict(row)
                for row in self._read(division, entity_set, None)
                if row.get(entity_set.key) == key
            ]
        state = self._state(division)
        if entity_set.table == "ReceivablesList":  # keyed by the receivable's HID
            return [
                _project(receivables_list_row(row), entity_set)
                for row in state.table("Receivables").values()
                if row.get("_HID") == key and row.get("Status") == 20
            ]
        row = state.table(entity_set.table).get(key)
        return [] if row is None else [_project(row, entity_set)]

    def children(
        self, division: int, entity_set: EntitySet, key: uuid.UUID | int, navigation: str
    ) -> list[dict[str, Any]]:
        """Child rows of one parent through a navigation property (e.g. SalesEntryLines)."""
        if navigation not in entity_set.children:
            raise FakeODataError(
                400,
                f"Resource not found for the segment '{navigation}'.",
            )
        self.get(division, entity_set, key)
        child_set = self._set(entity_set.children[navigation])
        child_table, foreign_key = CHILD_LINKS[(entity_set.table, navigation)]
        state = self._state(division)
        table = state.table(child_table)
        index = state.indexes.get((child_table, foreign_key))
        rows: list[Mapping[str, Any]] | None = None
        if index is not None:
            rows = [table[child] for child in index.get(key, ())]
            numbers = {row.get("LineNumber") or 0 for row in rows}
            if len(numbers) < len(rows):
                # equal line numbers keep creation order, which an index bucket may not
                rows = None
        if rows is None:
            rows = [row for row in table.values() if row.get(foreign_key) == key]
        rows.sort(key=lambda r: r.get("LineNumber") or 0)
        return [_project(row, child_set) for row in rows]

    def create(
        self, division: int, entity_set: EntitySet, body: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Validate and store a POST body (JSON-decoded, numbers as Decimal); return the row."""
        rules = self._writable(division, entity_set, "POST")
        values, children = parse_body(entity_set, body)
        tx = self._txn(division)
        try:
            row = rules.build(tx, values, children)
        except BaseException:
            tx.rollback()
            raise
        return _project(row, entity_set)

    def update(
        self, division: int, entity_set: EntitySet, key: uuid.UUID | int, body: Mapping[str, Any]
    ) -> None:
        """Merge a PUT body into a row (validated)."""
        rules = self._writable(division, entity_set, "PUT")
        values, _ = parse_body(entity_set, body, for_update=True)
        self.get(division, entity_set, key)
        tx = self._txn(division)
        row = tx.table(entity_set.table)[key]
        try:
            rules.change(tx, row, values)
        except BaseException:
            tx.rollback()
            raise

    def delete(self, division: int, entity_set: EntitySet, key: uuid.UUID | int) -> None:
        """Delete a row and whatever cascades from it; deletions are logged for sync/Deleted."""
        rules = self._writable(division, entity_set, "DELETE")
        self.get(division, entity_set, key)
        tx = self._txn(division)
        row = tx.table(entity_set.table)[key]
        try:
            rules.drop(tx, row)
        except BaseException:
            tx.rollback()
            raise

    def _writable(self, division: int, entity_set: EntitySet, verb: str) -> TableRules:
        self._state(division)
        rules = self._rules.get(entity_set.table)
        if verb not in entity_set.verbs or rules is None:
            raise FakeODataError(405, f"The method '{verb}' is not allowed for this resource.")
        return rules

    def current_user(self) -> dict[str, Any]:
        """The row served by current/Me (its CurrentDivision is the last used division)."""
        now = self._now()
        local = local_naive(now)
        offset = int((local - now.replace(tzinfo=None)).total_seconds())
        current = self._current
        customer_name = None
        if current is not None:
            customer_name = str(self._divisions[current].row["Description"])
        nl = self.language == "nl"
        return {
            "UserID": self.user_id,
            "CurrentDivision": current,
            "AccountingDivision": current,
            "DivisionCustomer": (
                self._divisions[current].row["Customer"] if current is not None else None
            ),
            "DivisionCustomerCode": "1".rjust(18) if current is not None else None,
            "DivisionCustomerName": customer_name,
            "DivisionCustomerVatNumber": None,
            "Email": self.user_email,
            "FullName": self.user_name,
            "FirstName": "Fake",
            "LastName": "User",
            "UserName": self.user_email,
            "LanguageCode": "nl-NL" if nl else "en-GB",
            "Language": "NL" if nl else "EN",
            "Legislation": "1",
            "ServerTime": local.isoformat(timespec="seconds"),
            "ServerUtcOffset": offset,
            "PackageCode": "ACC",
            "CustomerCode": "1".rjust(18),
            "IsClientUser": False,
        }

    def _division_row(self, code: int) -> dict[str, Any]:
        row = dict(self._divisions[code].row)
        row["Current"] = code == self._current
        return row

    # -- extras for seeds and tests -----------------------------------------------------
    def add_financial_year(self, division: int, year: int, *, start_month: int = 1) -> None:
        """Create the 12 monthly periods of financial ``year`` (starting in ``start_month``).

        FinancialPeriods are GET-only in the API; this is the fake's way to create them.
        A year whose periods overlap existing ones is refused.
        """
        tx = self._txn(division)
        try:
            add_financial_year(tx, year, start_month=start_month)
        except BaseException:
            tx.rollback()
            raise

    def close_period(
        self, division: int, year: int, period: int, *, journal: str | None = None
    ) -> None:
        """Close a period for one journal (code) or, with ``journal=None``, for every journal."""
        self._state(division).closed_periods.add((year, period, _journal_key(journal)))

    def open_period(
        self, division: int, year: int, period: int, *, journal: str | None = None
    ) -> None:
        """Undo :meth:`close_period` for the same arguments."""
        self._state(division).closed_periods.discard((year, period, _journal_key(journal)))

    def attachment_bytes(self, division: int, attachment_id: uuid.UUID) -> bytes | None:
        """The stored file of a document attachment (what its ``Url`` downloads)."""
        return self._state(division).attachments.get(attachment_id)


def _narrowest(state: DivisionState, table: str, equal: Mapping[str, Any]) -> Iterable[Any] | None:
    """Keys of the smallest index bucket among the ``equal`` hints (None: no index fits)."""
    best: dict[Any, None] | None = None
    for field, value in equal.items():
        index = state.indexes.get((table, field))
        if index is None or value is None:
            continue
        try:
            bucket = index.get(value)
        except TypeError:  # an unhashable value cannot be in an index
            continue
        if bucket is None:
            return ()
        if best is None or len(bucket) < len(best):
            best = bucket
    return best


def _journal_key(journal: str | None) -> str | None:
    return None if journal is None else journal.strip()


def _project(row: Mapping[str, Any], entity_set: EntitySet) -> dict[str, Any]:
    return {name: row.get(name) for name in entity_set.fields}
