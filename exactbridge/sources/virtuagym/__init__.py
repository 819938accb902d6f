"""Virtuagym source connector: API v1 clients, the vendor's models and the adapter.

::

    from exactbridge.sources.virtuagym import (
        VirtuagymAdapter, VirtuagymClient, VirtuagymCredentials,
    )

    creds = VirtuagymCredentials(club_id=8633, api_key="...", club_secret="...")
    with VirtuagymClient(creds) as client:
        members = client.members().all()
        adapter = VirtuagymAdapter(
            members=members, club_taxes=client.club_taxes().all(), club_id=creds.club_id
        )
        listing = client.invoices()
        records, bad = adapter.adapt_all(listing)
        bad += listing.errors

See ``docs/sources/virtuagym.md`` for what to configure.
"""

from __future__ import annotations

from exactbridge.sources.virtuagym.adapter import (
    VirtuagymAdapter,
    VirtuagymAdapterConfig,
    adapt_invoice,
    adapt_member,
    invoice_date,
)
from exactbridge.sources.virtuagym.client import (
    DEFAULT_BASE_URL,
    AsyncInvoiceListing,
    AsyncMemberListing,
    AsyncVirtuagymClient,
    InvoiceListing,
    InvoiceStats,
    MemberListing,
    MemberStats,
    VirtuagymAPIError,
    VirtuagymClient,
    VirtuagymCredentials,
    VirtuagymSettings,
    invoice_changed,
)
from exactbridge.sources.virtuagym.models import (
    SOURCE,
    ClubTax,
    IncomeCategory,
    InvoiceRow,
    Member,
    PaidStatus,
    TimestampUnit,
    VirtuagymInvoice,
    unix_to_datetime,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "SOURCE",
    "AsyncInvoiceListing",
    "AsyncMemberListing",
    "AsyncVirtuagymClient",
    "ClubTax",
    "IncomeCategory",
    "InvoiceListing",
    "InvoiceRow",
    "InvoiceStats",
    "Member",
    "MemberListing",
    "MemberStats",
    "PaidStatus",
    "TimestampUnit",
    "VirtuagymAPIError",
    "VirtuagymAdapter",
    "VirtuagymAdapterConfig",
    "VirtuagymClient",
    "VirtuagymCredentials",
    "VirtuagymInvoice",
    "VirtuagymSettings",
    "adapt_invoice",
    "adapt_member",
    "invoice_changed",
    "invoice_date",
    "unix_to_datetime",
]
