"""The Exact Online entities the client knows, described as data.

One :class:`ResourceSpec` per entity: its path below ``/api/v1/{division}/``, the
read and write models, the key, the allowed verbs, the page size and the query rules
Exact enforces (mandatory ``$filter``, ``$select`` or ``$top`` required), plus the
matching ``bulk/`` and ``sync/`` endpoints. The client builds one generic typed service
per spec; nothing else in the client hard-codes an entity.

>>> RESOURCES["sales_entries"].path
'salesentry/SalesEntries'
>>> RESOURCES["sales_entries"].children
{'SalesEntryLines': 'sales_entry_lines'}
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

import attrs

from exactbridge.errors import ConfigurationError
from exactbridge.exact import models as m

__all__ = [
    "BULK_PAGE_SIZE",
    "PAGE_SIZE",
    "RESOURCES",
    "SYNC_PAGE_SIZE",
    "ResourceSpec",
    "resource_for_model",
]

#: Rows per page of the normal (CRUD) endpoints.
PAGE_SIZE = 60
#: Rows per page of the ``bulk/`` endpoints.
BULK_PAGE_SIZE = 1000
#: Rows per page of the ``sync/`` endpoints.
SYNC_PAGE_SIZE = 1000

_VERBS = frozenset({"GET", "POST", "PUT", "DELETE"})
_KEY_KINDS = frozenset({"guid", "int", "int64"})


def _check_verbs(_instance: object, _attribute: object, value: frozenset[str]) -> None:
    if not value or not value <= _VERBS:
        raise ConfigurationError(
            f"verbs must be a non-empty subset of {sorted(_VERBS)}, got {value!r}"
        )


def _check_key_kind(_instance: object, _attribute: object, value: str) -> None:
    if value not in _KEY_KINDS:
        raise ConfigurationError(f"key_kind must be one of {sorted(_KEY_KINDS)}, got {value!r}")


@attrs.frozen
class ResourceSpec:
    """How one Exact entity is reached and what it allows.

    * ``name``: the client's name for it (``client.sales_entries``);
    * ``path``: below ``/api/v1/{division}/`` (``"salesentry/SalesEntries"``), or below
      ``/api/v1/`` when ``division_scoped`` is false (``current/Me``);
    * ``model`` / ``new_model``: the read model and the POST model (``None`` if the
      entity cannot be created);
    * ``key`` / ``key_kind``: the key property and its literal kind (``"guid"``,
      ``"int"`` or ``"int64"``) for ``Entity(guid'...')`` paths;
    * ``verbs``: the HTTP methods Exact allows;
    * ``page_size``: rows per page Exact returns;
    * ``mandatory_filter``: a list GET must carry a ``$filter`` (``crm/Accounts``);
    * ``requires_select_or_top``: a list GET needs ``$select`` or ``$top=1``;
    * ``bulk_path`` / ``sync_path``: the ``bulk/`` (1000 rows, ``$select`` required)
      and ``sync/`` (``Timestamp`` cursor) endpoints of the same entity, if any;
    * ``children``: navigation property -> name of the child spec
      (``{"SalesEntryLines": "sales_entry_lines"}``).
    """

    name: str
    path: str
    model: type[m.ExactModel]
    key: str
    key_kind: str = attrs.field(default="guid", validator=_check_key_kind)
    new_model: type[m.WriteModel] | None = None
    verbs: frozenset[str] = attrs.field(default=frozenset({"GET"}), validator=_check_verbs)
    page_size: int = PAGE_SIZE
    mandatory_filter: bool = False
    requires_select_or_top: bool = False
    bulk_path: str | None = None
    sync_path: str | None = None
    children: Mapping[str, str] = attrs.field(factory=dict, hash=False)
    division_scoped: bool = True

    def allows(self, verb: str) -> bool:
        """Whether Exact accepts this HTTP method on the entity."""
        return verb.upper() in self.verbs


_ALL = frozenset({"GET", "POST", "PUT", "DELETE"})
_GP = frozenset({"GET", "POST"})
_GPD = frozenset({"GET", "POST", "DELETE"})
_GU = frozenset({"GET", "PUT"})
_G = frozenset({"GET"})

_SPECS = (
    ResourceSpec(
        "accounts",
        "crm/Accounts",
        m.Account,
        "ID",
        new_model=m.NewAccount,
        verbs=_ALL,
        mandatory_filter=True,
        bulk_path="bulk/CRM/Accounts",
        sync_path="sync/CRM/Accounts",
        children={"BankAccounts": "bank_accounts"},
    ),
    ResourceSpec(
        "bank_accounts",
        "crm/BankAccounts",
        m.BankAccount,
        "ID",
        new_model=m.NewBankAccount,
        verbs=_ALL,
    ),
    ResourceSpec(
        "contacts",
        "crm/Contacts",
        m.Contact,
        "ID",
        new_model=m.NewContact,
        verbs=_ALL,
        bulk_path="bulk/CRM/Contacts",
        sync_path="sync/CRM/Contacts",
    ),
    ResourceSpec(
        "sales_entries",
        "salesentry/SalesEntries",
        m.SalesEntry,
        "EntryID",
        new_model=m.NewSalesEntry,
        verbs=_ALL,
        children={"SalesEntryLines": "sales_entry_lines"},
    ),
    ResourceSpec(
        "sales_entry_lines",
        "salesentry/SalesEntryLines",
        m.SalesEntryLine,
        "ID",
        new_model=m.NewSalesEntryLine,
        verbs=_ALL,
    ),
    ResourceSpec(
        "journals",
        "financial/Journals",
        m.Journal,
        "ID",
        new_model=m.NewJournal,
        verbs=_ALL,
    ),
    ResourceSpec("vat_codes", "vat/VATCodes", m.VATCode, "ID", verbs=_ALL),
    ResourceSpec(
        "gl_accounts",
        "financial/GLAccounts",
        m.GLAccount,
        "ID",
        verbs=_ALL,
        bulk_path="bulk/Financial/GLAccounts",
        sync_path="sync/Financial/GLAccounts",
    ),
    ResourceSpec("financial_periods", "financial/FinancialPeriods", m.FinancialPeriod, "ID"),
    ResourceSpec(
        "cost_centers",
        "hrm/Costcenters",
        m.CostCenter,
        "ID",
        new_model=m.NewCostCenter,
        verbs=_ALL,
    ),
    ResourceSpec(
        "cost_units",
        "hrm/Costunits",
        m.CostUnit,
        "ID",
        new_model=m.NewCostUnit,
        verbs=_ALL,
    ),
    ResourceSpec(
        "documents",
        "documents/Documents",
        m.Document,
        "ID",
        new_model=m.NewDocument,
        verbs=_ALL,
        bulk_path="bulk/Documents/Documents",
        sync_path="sync/Documents/Documents",
    ),
    ResourceSpec(
        "document_attachments",
        "documents/DocumentAttachments",
        m.DocumentAttachment,
        "ID",
        new_model=m.NewDocumentAttachment,
        verbs=_GPD,
        bulk_path="bulk/Documents/DocumentAttachments",
        sync_path="sync/Documents/DocumentAttachments",
    ),
    ResourceSpec(
        "bank_entries",
        "financialtransaction/BankEntries",
        m.BankEntry,
        "EntryID",
        new_model=m.NewBankEntry,
        verbs=_GPD,
        children={"BankEntryLines": "bank_entry_lines"},
    ),
    ResourceSpec(
        "bank_entry_lines",
        "financialtransaction/BankEntryLines",
        m.BankEntryLine,
        "ID",
        new_model=m.NewBankEntryLine,
        verbs=_GP,
    ),
    ResourceSpec(
        "general_journal_entries",
        "generaljournalentry/GeneralJournalEntries",
        m.GeneralJournalEntry,
        "EntryID",
        new_model=m.NewGeneralJournalEntry,
        verbs=_GPD,
        requires_select_or_top=True,
        children={"GeneralJournalEntryLines": "general_journal_entry_lines"},
    ),
    ResourceSpec(
        "general_journal_entry_lines",
        "generaljournalentry/GeneralJournalEntryLines",
        m.GeneralJournalEntryLine,
        "ID",
        new_model=m.NewGeneralJournalEntryLine,
        verbs=_GP,
    ),
    ResourceSpec(
        "receivables_list",
        "read/financial/ReceivablesList",
        m.ReceivablesListItem,
        "HID",
        key_kind="int64",
    ),
    ResourceSpec(
        "receivables",
        "cashflow/Receivables",
        m.Receivable,
        "ID",
        verbs=_GU,
        bulk_path="bulk/Cashflow/Receivables",
    ),
    ResourceSpec(
        "payment_conditions", "cashflow/PaymentConditions", m.PaymentCondition, "ID", verbs=_GP
    ),
    ResourceSpec("projects", "project/Projects", m.Project, "ID"),
    ResourceSpec(
        "direct_debit_mandates",
        "cashflow/DirectDebitMandates",
        m.DirectDebitMandate,
        "ID",
        new_model=m.NewDirectDebitMandate,
        verbs=_ALL,
        requires_select_or_top=True,
    ),
    ResourceSpec(
        "transaction_lines",
        "financialtransaction/TransactionLines",
        m.TransactionLine,
        "ID",
        bulk_path="bulk/Financial/TransactionLines",
        sync_path="sync/Financial/TransactionLines",
    ),
    # Exact also allows DELETE on system/Divisions; the SDK deliberately offers only GET.
    ResourceSpec("divisions", "system/Divisions", m.Division, "Code", key_kind="int"),
    ResourceSpec("me", "current/Me", m.Me, "UserID", division_scoped=False),
    ResourceSpec(
        "deleted",
        "sync/Deleted",
        m.DeletedRecord,
        "ID",
        page_size=SYNC_PAGE_SIZE,
        sync_path="sync/Deleted",
    ),
)

#: Every entity the client knows, by the client's name for it.
RESOURCES: Mapping[str, ResourceSpec] = MappingProxyType({spec.name: spec for spec in _SPECS})


def resource_for_model(model: type) -> ResourceSpec:
    """The spec whose read or write model is ``model`` (``KeyError`` if none)."""
    for spec in _SPECS:
        if spec.model is model or spec.new_model is model:
            return spec
    raise KeyError(getattr(model, "__name__", repr(model)))
