"""Eduframe source connector: API clients, the vendor's models, the adapter and webhooks.

::

    from exactbridge.sources.eduframe import (
        EduframeAdapter, EduframeClient, EduframeCredentials,
    )

    with EduframeClient(EduframeCredentials(api_key="...")) as client:
        adapter = EduframeAdapter(
            accounts=client.accounts(),
            invoice_vats=client.invoice_vats(),
            catalog_variants=client.catalog_variants(),
            planned_courses=client.planned_courses(),
            courses=client.courses(),
        )
        listing = client.invoices(status=["open", "paid", "expired"])
        records, bad = adapter.adapt_all(listing)
        bad += listing.errors

See ``docs/sources/eduframe.md`` for what to configure.
"""

from __future__ import annotations

from exactbridge.sources.eduframe.adapter import (
    EduframeAdapter,
    EduframeAdapterConfig,
    adapt_account,
    normalize_vat_number,
)
from exactbridge.sources.eduframe.client import (
    DEFAULT_BASE_URL,
    AsyncEduframeClient,
    EduframeClient,
    EduframeCredentials,
    EduframeSettings,
)
from exactbridge.sources.eduframe.models import (
    SOURCE,
    Account,
    AccountType,
    CatalogVariant,
    Course,
    DiscountCode,
    EduframeAddress,
    EduframeInvoice,
    EduframeInvoiceStatus,
    InvoiceItem,
    InvoiceVat,
    Order,
    Payment,
    PlannedCourse,
    User,
)
from exactbridge.sources.eduframe.webhooks import (
    DEFAULT_EVENTS,
    WebhookNotification,
    WebhookVerificationError,
    WebhookVerifier,
    parse_webhook,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_EVENTS",
    "SOURCE",
    "Account",
    "AccountType",
    "AsyncEduframeClient",
    "CatalogVariant",
    "Course",
    "DiscountCode",
    "EduframeAdapter",
    "EduframeAdapterConfig",
    "EduframeAddress",
    "EduframeClient",
    "EduframeCredentials",
    "EduframeInvoice",
    "EduframeInvoiceStatus",
    "EduframeSettings",
    "InvoiceItem",
    "InvoiceVat",
    "Order",
    "Payment",
    "PlannedCourse",
    "User",
    "WebhookNotification",
    "WebhookVerificationError",
    "WebhookVerifier",
    "adapt_account",
    "normalize_vat_number",
    "parse_webhook",
]
