"""What the crash tests share: a transport that ends its process at the worst moment,
and the booking rules of their small worker pipelines."""

from __future__ import annotations

import os
from typing import Any

import httpx

#: The booking rules of the crash tests' pipelines (one Virtuagym member, 21 % VAT lines).
WORKER_CONFIG: dict[str, Any] = {
    "sales_journal": "70",
    "vat": {"codes": {"1": "2", "2": "1", "0": "0"}},
    "ledger": {"default_account": "8000"},
    "numbering": {"enabled": False},
}


class CrashAfter(httpx.HTTPTransport):
    """Ends the process (exit code 137) right after Exact answered the ``n``-th sales
    entry POST, before the worker could record the outcome: the worst moment for a crash."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.left = n

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if request.method == "POST" and request.url.path.endswith("salesentry/SalesEntries"):
            response.read()
            self.left -= 1
            if self.left == 0:
                os._exit(137)
        return response
