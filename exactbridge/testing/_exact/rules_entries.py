"""Bookkeeping rules of the fake: entries, lines, receivables, transactions (work in progress)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from exactbridge.testing._exact.rules_common import Row, TableRules

__all__ = ["ENTRY_RULES", "receivables_list_row"]

ENTRY_RULES: dict[str, type[TableRules]] = {}


def receivables_list_row(receivable: Mapping[str, Any]) -> Row:
    """The read/financial/ReceivablesList view of one open receivable."""
    return {
        "HID": receivable.get("_HID"),
        "Id": receivable.get("ID"),
        "AccountId": receivable.get("Account"),
        "AccountCode": receivable.get("AccountCode"),
        "AccountName": receivable.get("AccountName"),
        "Amount": receivable.get("AmountFC"),
        "AmountInTransit": None,
        "CurrencyCode": receivable.get("Currency"),
        "Description": receivable.get("Description"),
        "DueDate": receivable.get("DueDate"),
        "EntryNumber": receivable.get("EntryNumber"),
        "InvoiceDate": receivable.get("InvoiceDate"),
        "InvoiceNumber": receivable.get("InvoiceNumber"),
        "JournalCode": receivable.get("Journal"),
        "JournalDescription": receivable.get("JournalDescription"),
        "YourRef": receivable.get("YourRef"),
        "Notes": None,
    }
