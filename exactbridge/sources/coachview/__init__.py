"""Coachview connector: OAuth2 client-credentials clients, typed models and the invoice adapter.

See :mod:`.client` for auth, paging, filters and the daily limit; :mod:`.models` for
the (partly UNVERIFIED) Dutch field names; :mod:`.adapter` for the canonical records.
"""

from __future__ import annotations

from .adapter import ATTRIBUTE_KEYS, STATUS_MAP, debtor_to_party, invoice_to_record
from .client import (
    DEFAULT_SCOPES,
    HOSTS,
    AsyncCoachviewClient,
    CoachviewClient,
    CoachviewEndpoints,
    CoachviewRateLimitError,
    InvoiceBundle,
    RateLimitState,
    parse_rate_limit,
    where_changed_between,
    where_equals,
    where_in,
)
from .models import (
    SOURCE,
    CvAddress,
    CvCompany,
    CvDebtor,
    CvInvoice,
    CvInvoiceLine,
    CvPerson,
    is_guid,
    parse_company,
    parse_debtor,
    parse_invoice,
    parse_person,
)

__all__ = [
    "ATTRIBUTE_KEYS",
    "DEFAULT_SCOPES",
    "HOSTS",
    "SOURCE",
    "STATUS_MAP",
    "AsyncCoachviewClient",
    "CoachviewClient",
    "CoachviewEndpoints",
    "CoachviewRateLimitError",
    "CvAddress",
    "CvCompany",
    "CvDebtor",
    "CvInvoice",
    "CvInvoiceLine",
    "CvPerson",
    "InvoiceBundle",
    "RateLimitState",
    "debtor_to_party",
    "invoice_to_record",
    "is_guid",
    "parse_company",
    "parse_debtor",
    "parse_invoice",
    "parse_person",
    "parse_rate_limit",
    "where_changed_between",
    "where_equals",
    "where_in",
]
