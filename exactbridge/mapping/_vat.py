"""VAT: source categories to Exact VAT codes, and exact net/VAT splits.

Rounding rule (one rule, per line): VAT is rounded to cents half away from zero
(``ROUND_HALF_UP``). For an amount including VAT ``g`` at rate ``r``:
``vat = round(g * r / (1 + r))``, ``net = g - vat``. For an amount excluding VAT
``n``: ``vat = round(n * r)``, ``gross = n + vat``. Line amounts with more than two
decimals are first rounded to cents by the same rule. Per-line rounding is what
Exact does for its own sales entry lines, so Exact's VAT report agrees with the
drafts line by line; and the rule is symmetric, so negating a line negates its VAT.
"""

from __future__ import annotations

from decimal import Decimal

from exactbridge.mapping._common import DECIMAL_CONTEXT, check_amount, fail, round_cents, total
from exactbridge.mapping._drafts import VatSplit
from exactbridge.mapping._policies import VatMapping, rate_key
from exactbridge.mapping._reference import ReferenceData, VatCode
from exactbridge.records import AmountBasis, Invoice, InvoiceLine

__all__ = ["split_excluding", "split_including", "split_line", "vat_code_for_line"]

_POLICY = "VatMapping"
_ONE = Decimal(1)


def _check_args(amount: object, rate: object) -> None:
    if type(rate) is not Decimal or not rate.is_finite() or not (0 <= rate < 1):
        fail(None, "rate", _POLICY, rate, "a VAT rate is a fraction from 0 up to 1")
    check_amount(None, "amount", _POLICY, amount)


def _including(gross: Decimal, rate: Decimal) -> VatSplit:
    gross = round_cents(gross)
    if not rate:
        return VatSplit(net=gross, vat=Decimal("0.00"), gross=gross)
    ctx = DECIMAL_CONTEXT
    vat = round_cents(ctx.divide(ctx.multiply(gross, rate), ctx.add(_ONE, rate)))
    return VatSplit(net=ctx.subtract(gross, vat), vat=vat, gross=gross)


def _excluding(net: Decimal, rate: Decimal) -> VatSplit:
    net = round_cents(net)
    if not rate:
        return VatSplit(net=net, vat=Decimal("0.00"), gross=net)
    vat = round_cents(DECIMAL_CONTEXT.multiply(net, rate))
    return VatSplit(net=net, vat=vat, gross=DECIMAL_CONTEXT.add(net, vat))


@total
def split_including(gross: Decimal, rate: Decimal) -> VatSplit:
    """Split an amount including VAT at ``rate`` (a fraction) into net and VAT.

    >>> from decimal import Decimal
    >>> split_including(Decimal("121.00"), Decimal("0.21"))
    VatSplit(net=Decimal('100.00'), vat=Decimal('21.00'), gross=Decimal('121.00'))
    >>> split_including(Decimal("10.00"), Decimal("0.09"))
    VatSplit(net=Decimal('9.17'), vat=Decimal('0.83'), gross=Decimal('10.00'))
    """
    _check_args(gross, rate)
    return _including(gross, rate)


@total
def split_excluding(net: Decimal, rate: Decimal) -> VatSplit:
    """Add VAT at ``rate`` (a fraction) to an amount excluding VAT.

    >>> from decimal import Decimal
    >>> split_excluding(Decimal("9.99"), Decimal("0.21"))
    VatSplit(net=Decimal('9.99'), vat=Decimal('2.10'), gross=Decimal('12.09'))
    """
    _check_args(net, rate)
    return _excluding(net, rate)


def vat_code_for_line(
    invoice: Invoice, line: InvoiceLine, index: int, reference: ReferenceData, mapping: VatMapping
) -> VatCode:
    """The Exact VAT code of a line: by category, then by stated rate, then the default."""
    field = f"lines[{index}].vat_category"
    category = line.vat_category
    code: str | None = None
    if category is not None:
        if not isinstance(category, str):
            fail(invoice, field, f"{_POLICY}.codes", category, "a VAT category is a text")
        code = mapping.code_for_category(category)
        if code is None:
            code = mapping.code_for_percentage_text(category)
    rate = line.vat_rate
    if rate is not None:
        if type(rate) is not Decimal or not rate.is_finite() or not (0 <= rate < 1):
            fail(
                invoice,
                f"lines[{index}].vat_rate",
                _POLICY,
                rate,
                "a VAT rate is a fraction from 0 up to 1",
            )
        if code is None:
            code = mapping.code_for_rate(rate)
    if code is None:
        code = mapping.default_code
    if code is None:
        fail(
            invoice,
            field,
            f"{_POLICY}.codes",
            category if category is not None else rate,
            "no Exact VAT code is mapped to this VAT category or rate",
            fix=f'add {category if category is not None else rate!s} = "<Exact VAT code>" to '
            'vat.codes, or set vat.default_code = "<Exact VAT code>"',
        )
    vat_code = reference.vat_code(code)
    if vat_code is None:
        fail(
            invoice,
            field,
            f"{_POLICY}.codes",
            code,
            f"VAT code {code!r} does not exist in the division",
            fix=f"map the category or rate to a VAT code of the division in vat.codes "
            f"(not {code!r}), or create VAT code {code!r} in Exact",
        )
    if not vat_code.sales_allowed:
        fail(
            invoice,
            field,
            f"{_POLICY}.codes",
            code,
            f"VAT code {code!r} is blocked or for purchases only",
            fix="map the category or rate to a sales VAT code in vat.codes",
        )
    if mapping.check_rate and rate is not None and rate_key(rate) != rate_key(vat_code.percentage):
        fail(
            invoice,
            f"lines[{index}].vat_rate",
            f"{_POLICY}.check_rate",
            rate,
            f"the line's VAT rate differs from VAT code {code!r} ({vat_code.percentage})",
            fix="map this rate to the VAT code with the same percentage in vat.codes, or set "
            "vat.check_rate = false to book with the code's own rate",
        )
    return vat_code


def split_line(invoice: Invoice, line: InvoiceLine, index: int, rate: Decimal) -> VatSplit:
    """Split a line's amount into net and VAT under the rounding rule."""
    amount = check_amount(invoice, f"lines[{index}].amount", _POLICY, line.amount)
    if line.amount_basis is AmountBasis.INCLUDING_VAT:
        return _including(amount, rate)
    if line.amount_basis is AmountBasis.EXCLUDING_VAT:
        return _excluding(amount, rate)
    fail(
        invoice,
        f"lines[{index}].amount_basis",
        _POLICY,
        line.amount_basis,
        "expected an AmountBasis",
    )
