"""Rules of the fake's master data (work in progress)."""

from __future__ import annotations

import datetime as dt

from exactbridge.testing._exact.rules_common import Row, TableRules, Txn, midnight

__all__ = ["MASTER_RULES", "add_financial_year"]


class AccountRules(TableRules):
    def derive(self, tx: Txn, row: Row) -> None:
        if not row.get("Code"):
            highest = 0
            for other in tx.table("Accounts").values():
                code = str(other.get("Code") or "").strip()
                if code.isdigit():
                    highest = max(highest, int(code))
            row["Code"] = str(highest + 1).rjust(18)
        else:
            row["Code"] = str(row["Code"]).strip().rjust(18)
        if row.get("Country"):
            row["Country"] = str(row["Country"]).strip().upper().ljust(3)
        row.setdefault("Type", "A")
        if row.get("Type") is None:
            row["Type"] = "A"


MASTER_RULES: dict[str, type[TableRules]] = {"Accounts": AccountRules}


def _month_start(year: int, month0: int) -> dt.datetime:
    return midnight(dt.date(year + month0 // 12, month0 % 12 + 1, 1))


def add_financial_year(tx: Txn, year: int, *, start_month: int = 1) -> None:
    """Insert the 12 monthly FinancialPeriods rows of financial ``year``.

    The year is named after the calendar year it starts in: with ``start_month=7``,
    financial year 2025 runs from 1 July 2025 to 30 June 2026.
    """
    for period in range(1, 13):
        month0 = start_month - 1 + period - 1
        start = _month_start(year, month0)
        end = _month_start(year, month0 + 1) - dt.timedelta(days=1)
        key = tx.new_id()
        row = {"ID": key, "FinYear": year, "FinPeriod": period, "StartDate": start, "EndDate": end}
        row.update(tx.audit_fields())
        tx.insert("FinancialPeriods", key, row)
