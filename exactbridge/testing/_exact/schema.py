"""Entity-set descriptions of the fake Exact Online (the contract between its two layers).

The fake has two layers that are written independently of the client:

* the *domain* (``domain.py``, ``seeds.py``, this module): divisions, tables of rows,
  validation and bookkeeping rules, with rows held as Python values;
* the *protocol* (``fake.py``, ``router.py``, ``odata.py``, ``wire.py``, ``oauth.py``,
  ``limits.py``): HTTP, OAuth, OData query options, envelopes, rate limits, faults.

Row values are Python objects: ``str``, ``int``, ``bool``, ``decimal.Decimal``,
``datetime.datetime`` (naive, Amsterdam wall-clock time, as Exact stores it),
``uuid.UUID``, ``bytes`` (Binary) or ``None``. Child collections are not stored in
the parent row; they are reached through :attr:`EntitySet.children`.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping

import attrs

__all__ = ["EdmType", "EntitySet", "Field", "SetKind"]


class EdmType(enum.Enum):
    """The OData (Edm) type of a property, which decides parsing and literal typing."""

    STRING = "Edm.String"
    INT16 = "Edm.Int16"
    INT32 = "Edm.Int32"
    INT64 = "Edm.Int64"
    BYTE = "Edm.Byte"
    DOUBLE = "Edm.Double"
    BOOLEAN = "Edm.Boolean"
    GUID = "Edm.Guid"
    DATETIME = "Edm.DateTime"
    BINARY = "Edm.Binary"


class SetKind(enum.Enum):
    """What kind of endpoint an entity set is; decides page size and query rules."""

    CRUD = "crud"  # 60 rows per page
    BULK = "bulk"  # 1000 rows per page, $select mandatory
    SYNC = "sync"  # 1000 rows per page, only Timestamp in $filter
    READ = "read"  # read/... and other GET-only services


@attrs.frozen
class Field:
    """One property of an entity."""

    name: str
    type: EdmType
    required: bool = False  # must be present (non-null) in a POST body
    read_only: bool = False  # ignored when present in a POST or PUT body
    post_only: bool = False  # may be set on POST but not changed by PUT


@attrs.frozen
class EntitySet:
    """One endpoint of the fake: path, key, fields, verbs and query rules.

    ``table`` names the underlying table; the CRUD, bulk and sync endpoints of the
    same entity share one table (``crm/Accounts``, ``bulk/CRM/Accounts`` and
    ``sync/CRM/Accounts`` all read table ``"Accounts"``).
    """

    path: str  # canonical path below /api/v1/{division}/, e.g. "salesentry/SalesEntries"
    table: str
    key: str  # key property name, e.g. "EntryID"
    type_name: str  # __metadata.type, e.g. "Exact.Web.Api.Models.SalesEntry"
    fields: Mapping[str, Field]
    verbs: frozenset[str] = frozenset({"GET"})
    kind: SetKind = SetKind.CRUD
    # navigation property -> canonical path of the child entity set
    children: Mapping[str, str] = attrs.field(factory=dict)
    # fields of which at least one must appear in $filter on a list GET (mandatory filtering)
    mandatory_filter_fields: frozenset[str] | None = None
    # a list GET needs $select or $top=1 ("Please add a $select or a $top=1 statement...")
    requires_select_or_top: bool = False
    # division-less endpoint such as current/Me
    division_scoped: bool = True

    @property
    def page_size(self) -> int:
        return 1000 if self.kind in (SetKind.BULK, SetKind.SYNC) else 60
