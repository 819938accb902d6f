"""Pay. (pay.nl) connector: settlements, clearing records, transactions and exchange calls.

See :mod:`.client` for auth and the (partly UNVERIFIED) endpoints, :mod:`.models` for
the money rules, :mod:`.exchange` for webhooks and :mod:`.adapter` for payouts.
"""

from __future__ import annotations

from .adapter import record_to_payment, settlement_to_payout, split_by_revenue_group
from .client import AsyncPayClient, PayClient, PayEndpoints, SettlementBundle
from .exchange import (
    ExchangeCall,
    ExchangeSignatureError,
    SignatureVerifier,
    exchange_response,
    parse_exchange,
)
from .models import (
    REFUND_STATUS_CODES,
    SOURCE,
    STATUS_CODES,
    Clearing,
    ClearingLine,
    ClearingRecord,
    Direction,
    PayStatus,
    Settlement,
    Transaction,
    TurnoverGroup,
    parse_clearing_record,
    parse_settlement,
    parse_transaction,
    status_for_code,
)

__all__ = [
    "REFUND_STATUS_CODES",
    "SOURCE",
    "STATUS_CODES",
    "AsyncPayClient",
    "Clearing",
    "ClearingLine",
    "ClearingRecord",
    "Direction",
    "ExchangeCall",
    "ExchangeSignatureError",
    "PayClient",
    "PayEndpoints",
    "PayStatus",
    "Settlement",
    "SettlementBundle",
    "SignatureVerifier",
    "Transaction",
    "TurnoverGroup",
    "exchange_response",
    "parse_clearing_record",
    "parse_exchange",
    "parse_settlement",
    "parse_transaction",
    "record_to_payment",
    "settlement_to_payout",
    "split_by_revenue_group",
    "status_for_code",
]
