"""Entry numbers (Int32, composed from numeric prefixes) and entry descriptions."""

from __future__ import annotations

from exactbridge.mapping._common import check_text, fail, render, total
from exactbridge.mapping._policies import NonNumericNumber, NumberingPolicy
from exactbridge.records import Invoice

__all__ = ["INT32_MAX", "compose_entry_number", "describe_invoice", "entry_number"]

#: Exact's entry numbers are Int32: 1 up to this.
INT32_MAX = 2_147_483_647

_POLICY = "NumberingPolicy"


def _digits(text: str) -> bool:
    return text.isascii() and text.isdigit()


def compose_entry_number(invoice: Invoice, policy: NumberingPolicy) -> int | None:
    """Unwrapped :func:`entry_number`, for use inside other mapping functions."""
    if not policy.enabled:
        return None
    number = check_text(invoice, "number", _POLICY, invoice.number)
    if not _digits(number):
        if policy.non_numeric is NonNumericNumber.LET_EXACT_NUMBER:
            return None
        if policy.non_numeric is NonNumericNumber.DIGITS_ONLY:
            number = "".join(ch for ch in number if ch.isascii() and ch.isdigit())
            if not number:
                fail(
                    invoice,
                    "number",
                    f"{_POLICY}.non_numeric",
                    invoice.number,
                    "the number holds no digits",
                    fix='set numbering.non_numeric = "let_exact_number" '
                    "(Exact numbers the entry; the source number goes to YourRef)",
                )
        else:
            fail(
                invoice,
                "number",
                f"{_POLICY}.non_numeric",
                invoice.number,
                "an Exact entry number must be a number",
                fix='set numbering.non_numeric = "let_exact_number" (the default: Exact '
                'numbers the entry, the source number goes to YourRef) or "digits_only"',
            )
    tenant = invoice.tenant
    tenant_text = ""
    if "{tenant}" in policy.template:
        if not isinstance(tenant, str) or not _digits(tenant.strip()):
            fail(
                invoice,
                "tenant",
                f"{_POLICY}.template",
                tenant,
                "the club id must be a number to prefix it",
                fix='remove {tenant} from numbering.template, e.g. "{prefix}{number}"',
            )
        tenant_text = tenant.strip()
    year = invoice.invoice_date.year
    composed = render(
        policy.template,
        {
            "prefix": policy.prefix,
            "tenant": tenant_text,
            "number": number.zfill(policy.number_width),
            "year": f"{year:04d}",
            "yy": f"{year % 100:02d}",
        },
    )
    if not _digits(composed):
        fail(
            invoice,
            "number",
            f"{_POLICY}.template",
            composed,
            "the composed entry number is not a number",
            fix='set numbering.template to digits and fields only, e.g. "{prefix}{number}"',
        )
    value = int(composed)
    if not 1 <= value <= INT32_MAX:
        fail(
            invoice,
            "number",
            f"{_POLICY}.template",
            composed,
            f"the entry number must lie between 1 and {INT32_MAX} (Exact's Int32)",
            fix="shorten numbering.prefix or numbering.number_width, or set "
            "numbering.enabled = false to let Exact number the entries",
        )
    return value


@total
def entry_number(invoice: Invoice, policy: NumberingPolicy) -> int | None:
    """The Exact entry number of ``invoice``: the policy's template read as a number.

    ``None`` means Exact numbers the entry itself (numbering switched off, or a
    non-numeric source number with ``non_numeric = "let_exact_number"``).

    >>> import datetime as dt
    >>> from exactbridge.records import Invoice
    >>> invoice = Invoice("coachview", "1", "00042", dt.date(2024, 5, 1), lines=())
    >>> entry_number(invoice, NumberingPolicy(prefix="2018"))
    201800042
    """
    return compose_entry_number(invoice, policy)


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""


def describe_invoice(invoice: Invoice, template: str, credited_invoice: str = "") -> str:
    """Fill a description template with the invoice's values."""
    party = invoice.party
    values = {
        "number": _text(invoice.number),
        "party_name": _text(party.name) if party is not None else "",
        "description": _text(invoice.description),
        "reference": _text(invoice.reference),
        "feature": _text(invoice.feature_text),
        "tenant": _text(invoice.tenant),
        "source": _text(invoice.source),
        "invoice_date": invoice.invoice_date.isoformat(),
        "credited_invoice": credited_invoice,
    }
    return " ".join(render(template, values).split())
