"""The Exact Online side of a run: reference data read once, drafts turned into writes.

:class:`DivisionSession` is created once per pipeline run. It reads the
division's lookup tables the first time they are needed (GL accounts and customer
accounts through the ``bulk/`` endpoints, 1,000 rows per call), remembers the
accounts the run creates, and translates mapping drafts (which hold codes) into the
Exact client's write models (which hold GUIDs). Every pipeline shares it, so the
rules for that translation exist once.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from exactbridge.codes import strip_code
from exactbridge.errors import MappingError
from exactbridge.exact import (
    ExactClient,
    NewAccount,
    NewBankEntry,
    NewBankEntryLine,
    NewSalesEntry,
    NewSalesEntryLine,
)
from exactbridge.mapping import (
    AccountDraft,
    BankEntryDraft,
    FinancialPeriod,
    GLAccount,
    Journal,
    KnownAccount,
    PaymentCondition,
    ReferenceData,
    SalesEntryDraft,
    VatCode,
    VatTransactionType,
    VatType,
)

__all__ = ["ACCOUNT_FIELDS", "DivisionSession", "account_fields", "new_account"]

#: The account fields the debtor rules need, read through ``bulk/CRM/Accounts``.
ACCOUNT_FIELDS = (
    "ID",
    "Code",
    "Name",
    "Email",
    "VATNumber",
    "IsSales",
    "IsSupplier",
    "Blocked",
)
_GL_FIELDS = ("ID", "Code", "Type", "Description")


def _text(value: object, default: str) -> str:
    if value is None:
        return default
    return str(getattr(value, "value", value))


def new_account(draft: AccountDraft) -> NewAccount:
    """The ``crm/Accounts`` body of a customer to create (status ``C``, a sales relation)."""
    return NewAccount(
        name=draft.name,
        code=strip_code(draft.code) if draft.code else None,
        status="C",
        is_sales=True,
        email=draft.email,
        phone=draft.phone,
        vat_number=draft.vat_number,
        chamber_of_commerce=draft.chamber_of_commerce,
        address_line1=draft.address_line1,
        address_line2=draft.address_line2,
        postcode=draft.postcode,
        city=draft.city,
        state=draft.state,
        country=draft.country.strip() if draft.country else None,
        language=draft.language,
    )


def account_fields(draft: AccountDraft) -> dict[str, Any]:
    """The fields an update of an existing customer writes (only those with a value).

    The code is never changed: it is how the customer is found again.
    """
    fields: dict[str, Any] = {
        "name": draft.name,
        "email": draft.email,
        "phone": draft.phone,
        "vat_number": draft.vat_number,
        "chamber_of_commerce": draft.chamber_of_commerce,
        "address_line1": draft.address_line1,
        "address_line2": draft.address_line2,
        "postcode": draft.postcode,
        "city": draft.city,
        "state": draft.state,
        "country": draft.country.strip() if draft.country else None,
    }
    return {name: value for name, value in fields.items() if value not in (None, "")}


class DivisionSession:
    """One run's view of one Exact division (see the module docstring).

    ``with_accounts`` decides whether :meth:`reference` includes the customer
    accounts (the invoice pipelines need them; a payout pipeline only needs GL
    accounts and journals); ``with_payment_conditions`` whether it reads the payment
    conditions (only when a ``payment_terms`` policy sends them: one call saved).
    """

    def __init__(
        self,
        exact: ExactClient,
        *,
        with_accounts: bool = True,
        with_payment_conditions: bool = False,
    ) -> None:
        self.exact = exact
        self._with_accounts = with_accounts
        self._with_payment_conditions = with_payment_conditions
        self._reference: ReferenceData | None = None
        self._gl_ids: dict[str, uuid.UUID] = {}
        self._created: dict[str, KnownAccount] = {}
        self._created_by_code: dict[str, KnownAccount] = {}
        self._cost_centers: frozenset[str] | None = None
        self._cost_units: frozenset[str] | None = None
        self._projects: dict[str, uuid.UUID] | None = None

    # -- reference data ----------------------------------------------------------------

    @property
    def loaded(self) -> bool:
        """Whether the reference data was read in this run."""
        return self._reference is not None

    def reference(self) -> ReferenceData:
        """GL accounts, VAT codes, journals, periods (and accounts), read on first use."""
        if self._reference is None:
            self._reference = self._read_reference()
            self._gl_ids = {
                gl.code: uuid.UUID(gl.id) for gl in self._reference.gl_accounts if gl.id
            }
        return self._reference

    def _read_reference(self) -> ReferenceData:
        exact = self.exact
        gl_accounts = [
            GLAccount(row.code, int(row.type), row.description or "", id=str(row.id))
            for row in exact.gl_accounts.iter_bulk(select=_GL_FIELDS)
            if row.code and row.type is not None
        ]
        vat_codes = [
            VatCode(
                row.code,
                row.percentage,
                type=VatType(_text(row.type, "E")),
                transaction_type=VatTransactionType(_text(row.vat_transaction_type, "B")),
                blocked=bool(row.is_blocked),
                description=row.description or "",
            )
            for row in exact.vat_codes.iterate()
            if row.code and row.percentage is not None
        ]
        journals = [
            Journal(row.code, int(row.type), row.description or "")
            for row in exact.journals.iterate()
            if row.code and row.type is not None
        ]
        periods = [
            FinancialPeriod(row.fin_year, row.fin_period, row.start_date, row.end_date)
            for row in exact.financial_periods.iterate()
            if row.fin_year and row.fin_period and row.start_date and row.end_date
        ]
        accounts: list[KnownAccount] = []
        if self._with_accounts:
            accounts = [
                KnownAccount(
                    str(row.id),
                    code=row.code or None,
                    name=row.name or "",
                    email=row.email,
                    vat_number=row.vat_number,
                    is_customer=bool(row.is_sales),
                    is_supplier=bool(row.is_supplier),
                    blocked=bool(row.blocked),
                )
                for row in exact.accounts.iter_bulk(select=ACCOUNT_FIELDS)
            ]
        conditions: list[PaymentCondition] = []
        if self._with_payment_conditions:
            conditions = [
                PaymentCondition(
                    row.code,
                    row.description or "",
                    payment_method=_text(row.payment_method, "B"),
                    payment_days=row.payment_days or 0,
                )
                for row in exact.payment_conditions.iterate()
                if row.code
            ]
        # ``converter=tuple`` fields read as Iterable[...] to mypy's attrs plugin; the
        # (correctly typed) lists go in as keyword arguments.
        tables: dict[str, Any] = {
            "gl_accounts": gl_accounts,
            "vat_codes": vat_codes,
            "journals": journals,
            "periods": periods,
            "accounts": accounts,
            "payment_conditions": conditions,
        }
        return ReferenceData(**tables)

    # -- accounts ----------------------------------------------------------------------

    def remember_account(self, account: KnownAccount) -> None:
        """An account this run created (mapping's reference data predates it)."""
        self._created[account.id] = account
        if account.code:
            self._created_by_code[account.code] = account

    def created_account(
        self, *, account_id: str | None = None, code: str | None = None
    ) -> KnownAccount | None:
        """An account created earlier in this run, by id or (unpadded) code."""
        if account_id is not None and account_id in self._created:
            return self._created[account_id]
        if code is not None:
            return self._created_by_code.get(strip_code(code))
        return None

    def account_exists(self, account_id: str) -> bool:
        """Whether the division (as read this run, plus what the run created) has the id."""
        if account_id in self._created:
            return True
        return self.reference().account_by_id(account_id) is not None

    # -- cost centers and units --------------------------------------------------------

    def check_cost_codes(self, record: object, draft: SalesEntryDraft) -> None:
        """Refuse a draft whose cost center or cost unit the division does not have.

        The lists are read once, and only when a draft uses them, so a clear error
        names the record and the code instead of Exact's generic refusal.
        """
        for index, line in enumerate(draft.lines):
            if line.cost_center is not None:
                if self._cost_centers is None:
                    self._cost_centers = frozenset(
                        row.code for row in self.exact.cost_centers.iterate() if row.code
                    )
                if line.cost_center not in self._cost_centers:
                    raise MappingError(
                        f"cost center {line.cost_center!r} does not exist in the division",
                        record_id=_record_id(record),
                        field=f"lines[{index}].cost_center",
                        policy="LedgerMapping.cost_center",
                        value=line.cost_center,
                        fix=f"create cost center {line.cost_center!r} in Exact, or map the "
                        "line to an existing one in the ledger tables "
                        "(or ledger.send_cost_center = false)",
                    )
            if line.cost_unit is not None:
                if self._cost_units is None:
                    self._cost_units = frozenset(
                        row.code for row in self.exact.cost_units.iterate() if row.code
                    )
                if line.cost_unit not in self._cost_units:
                    raise MappingError(
                        f"cost unit {line.cost_unit!r} does not exist in the division",
                        record_id=_record_id(record),
                        field=f"lines[{index}].cost_unit",
                        policy="LedgerMapping.cost_unit",
                        value=line.cost_unit,
                        fix=f"create cost unit {line.cost_unit!r} in Exact, or map the "
                        "line to an existing one in the ledger tables "
                        "(or ledger.send_cost_unit = false)",
                    )

            if line.project_code is not None:
                self.project_id(line.project_code, record=record, field=f"lines[{index}].project")

    def project_id(self, code: str, *, record: object = None, field: str = "project") -> uuid.UUID:
        """The GUID of project ``code`` (read once per run; a MappingError if unknown)."""
        if self._projects is None:
            self._projects = {
                row.code.strip(): row.id
                for row in self.exact.projects.iterate(select=["ID", "Code"])
                if row.code and row.id
            }
        try:
            return self._projects[code]
        except KeyError:
            raise MappingError(
                f"project {code!r} does not exist in the division",
                record_id=_record_id(record),
                field=field,
                policy="LedgerMapping.project_attribute",
                value=code,
                fix=f"create project {code!r} in Exact, or set ledger.project_attribute to "
                "the invoice field that holds Exact's project codes (or leave it unset)",
            ) from None

    # -- drafts to write models --------------------------------------------------------

    def gl_id(self, code: str, *, record: object = None, field: str = "gl_account") -> uuid.UUID:
        """The GUID of GL account ``code`` (a MappingError if the division lacks it)."""
        self.reference()
        try:
            return self._gl_ids[code]
        except KeyError:
            raise MappingError(
                f"GL account {code!r} does not exist in the division",
                record_id=_record_id(record),
                field=field,
                policy="LedgerMapping",
                value=code,
                fix=f"create GL account {code!r} in Exact, or map to an existing account "
                "in the ledger or payments settings",
            ) from None

    def sales_lines(
        self, draft: SalesEntryDraft, *, negate: bool = False
    ) -> list[NewSalesEntryLine]:
        """The draft's lines as write models (amounts negated for a reversal)."""
        sign = Decimal(-1) if negate else Decimal(1)
        return [
            NewSalesEntryLine(
                gl_account=self.gl_id(line.gl_account, record=draft.your_ref),
                amount_fc=sign * line.amount_fc,
                vat_code=line.vat_code,
                vat_amount_fc=sign * line.vat_amount,
                vat_percentage=line.vat_percentage,
                description=line.description or None,
                quantity=line.quantity,
                cost_center=line.cost_center,
                cost_unit=line.cost_unit,
                project=None
                if line.project_code is None
                else self.project_id(line.project_code, record=draft.your_ref),
                from_date=line.date_from,
                to_date=line.date_to,
            )
            for line in draft.lines
        ]

    def sales_entry(
        self,
        draft: SalesEntryDraft,
        customer: uuid.UUID,
        *,
        your_ref: str | None = None,
        entry_number: int | None = None,
        document: uuid.UUID | None = None,
    ) -> NewSalesEntry:
        """The ``salesentry/SalesEntries`` body of a draft, lines inline (one POST)."""
        return NewSalesEntry(
            customer=customer,
            journal=draft.journal,
            type=int(draft.type.value),
            lines=self.sales_lines(draft),
            entry_date=draft.entry_date,
            reporting_year=draft.reporting_year,
            reporting_period=draft.reporting_period,
            description=draft.description,
            your_ref=your_ref if your_ref is not None else draft.your_ref,
            entry_number=entry_number,
            due_date=draft.due_date,
            payment_reference=draft.payment_reference,
            payment_condition=draft.payment_condition,
            currency=draft.currency,
            document=document,
        )

    def reversal_entry(
        self,
        booked: Iterable[dict[str, Any]],
        *,
        customer: uuid.UUID,
        journal: str,
        your_ref: str,
        entry_date: dt.date,
        period: FinancialPeriod,
        description: str,
    ) -> NewSalesEntry:
        """A sales entry cancelling ``booked`` (the entry's lines as Exact holds them)."""
        lines = [
            NewSalesEntryLine(
                gl_account=uuid.UUID(str(row["GLAccount"])),
                amount_fc=-Decimal(str(row.get("AmountFC") or 0)),
                vat_code=str(row["VATCode"]).strip() if row.get("VATCode") else None,
                vat_amount_fc=-Decimal(str(row.get("VATAmountFC") or 0)),
                description=row.get("Description") or None,
                cost_center=row.get("CostCenter") or None,
                cost_unit=row.get("CostUnit") or None,
                project=uuid.UUID(str(row["Project"])) if row.get("Project") else None,
            )
            for row in booked
        ]
        return NewSalesEntry(
            customer=customer,
            journal=journal,
            lines=lines,
            entry_date=entry_date,
            reporting_year=period.year,
            reporting_period=period.period,
            description=description,
            your_ref=your_ref,
        )

    def entry_gross(self, lines: Iterable[NewSalesEntryLine]) -> Decimal:
        """The amount including VAT of sales entry lines (``AmountFC`` is gross already
        on a line whose VAT code is an including one)."""
        reference = self.reference()
        total = Decimal(0)
        for line in lines:
            code = reference.vat_code(line.vat_code) if line.vat_code else None
            total += line.amount_fc
            if code is None or code.type is not VatType.INCLUDING:
                total += line.vat_amount_fc or Decimal(0)
        return total

    def bank_entry(self, draft: BankEntryDraft, *, record: object = None) -> NewBankEntry:
        """The ``financialtransaction/BankEntries`` body of a payout draft, lines inline."""
        lines = []
        for index, line in enumerate(draft.all_lines):
            account: uuid.UUID | None = None
            if line.account_id is not None:
                account = uuid.UUID(line.account_id)
            elif line.account_code is not None:
                known = self.reference().account_by_code(strip_code(line.account_code))
                if known is None:
                    raise MappingError(
                        f"customer {line.account_code.strip()!r} does not exist in the division",
                        record_id=_record_id(record),
                        field=f"lines[{index}].account_code",
                        policy="PaymentMatchingPolicy",
                        value=line.account_code,
                        fix=f"create customer {line.account_code.strip()!r} in Exact, or set "
                        'payments.unmatched = "unassigned_account"',
                    )
                account = uuid.UUID(known.id)
            lines.append(
                NewBankEntryLine(
                    gl_account=self.gl_id(
                        line.gl_account, record=record, field=f"lines[{index}].gl_account"
                    ),
                    amount_fc=line.amount,
                    date=line.date,
                    description=line.description or None,
                    account=account,
                    our_ref=line.our_ref,
                )
            )
        return NewBankEntry(
            journal_code=draft.journal_code,
            lines=lines,
            currency=draft.currency,
            financial_year=draft.financial_year,
            financial_period=draft.financial_period,
        )


def _record_id(record: object) -> str:
    if record is None:
        return "<run>"
    if isinstance(record, str):
        return record
    source_id = getattr(record, "source_id", None)
    return str(source_id) if source_id is not None else repr(record)
