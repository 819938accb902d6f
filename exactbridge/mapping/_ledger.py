"""Revenue accounts: the GL account, cost center and cost unit of each invoice line."""

from __future__ import annotations

from exactbridge.mapping._common import fail, setting, total
from exactbridge.mapping._policies import LedgerMapping, LedgerSource, LedgerTarget, category_key
from exactbridge.mapping._reference import (
    SALES_LINE_FORBIDDEN_GL_TYPES,
    CostUsage,
    ReferenceData,
)
from exactbridge.records import Invoice, InvoiceLine

__all__ = ["ledger_for_line", "resolve_ledger"]

_POLICY = "LedgerMapping"

_TABLE_NAMES = {
    LedgerSource.COURSE_EDITION: "by_course_edition",
    LedgerSource.COURSE_TEMPLATE: "by_course_template",
    LedgerSource.PRODUCT: "by_product",
    LedgerSource.INCOME_CATEGORY: "by_income_category",
    LedgerSource.VAT_CATEGORY: "by_vat_category",
}


def _line_key(line: InvoiceLine, source: LedgerSource) -> object:
    if source is LedgerSource.LINE:
        return None
    if source is LedgerSource.COURSE_EDITION:
        return line.course_edition
    if source is LedgerSource.COURSE_TEMPLATE:
        return line.course_template
    if source is LedgerSource.PRODUCT:
        return line.product
    if source is LedgerSource.INCOME_CATEGORY:
        return line.income_category
    return line.vat_category


def _own(invoice: Invoice, line: InvoiceLine, index: int, name: str) -> str | None:
    """The line's own ``name`` code, stripped (``None`` when blank)."""
    value: object = getattr(line, name)
    if value is None:
        return None
    if not isinstance(value, str):
        fail(invoice, f"lines[{index}].{name}", _POLICY, value, "expected a text")
    return value.strip() or None


def resolve_ledger(
    invoice: Invoice,
    line: InvoiceLine,
    index: int,
    reference: ReferenceData,
    mapping: LedgerMapping,
) -> tuple[str, str | None, str | None]:
    """Unwrapped :func:`ledger_for_line`: ``(gl_account, cost_center, cost_unit)``."""
    gl_account: str | None = None
    cost_center: str | None = None
    cost_unit: str | None = None
    gl_field = "ledger.default_account"
    gl_policy = f"{_POLICY}.default_account"
    discount = line.is_discount is True
    if discount and mapping.discount_account is not None:
        gl_account = mapping.discount_account
        gl_field, gl_policy = f"lines[{index}].is_discount", f"{_POLICY}.discount_account"
    for source, table in mapping.tables:
        if source is LedgerSource.LINE:
            own_gl = _own(invoice, line, index, "ledger_account")
            if gl_account is None and own_gl is not None:
                gl_account = own_gl
                gl_field = gl_policy = f"lines[{index}].ledger_account"
            if cost_center is None:
                cost_center = _own(invoice, line, index, "cost_center")
            if cost_unit is None:
                cost_unit = _own(invoice, line, index, "cost_unit")
            continue
        key = _line_key(line, source)
        if key is None:
            continue
        if not isinstance(key, str):
            fail(invoice, f"lines[{index}].{source.value}", _POLICY, key, "expected a text")
        target = table.get(category_key(key))
        if target is None:
            continue
        if gl_account is None and target.gl_account is not None:
            gl_account = target.gl_account
            gl_field = f"lines[{index}].{source.value}"
            gl_policy = f"{_POLICY}.{_TABLE_NAMES[source]}"
        if cost_center is None:
            cost_center = target.cost_center
        if cost_unit is None:
            cost_unit = target.cost_unit
    if gl_account is None:
        gl_account = mapping.default_account
    if gl_account is None:
        fail(
            invoice,
            f"lines[{index}]",
            f"{_POLICY}.default_account",
            None,
            "no GL account is mapped to this line and no default revenue account is set",
            fix='set ledger.default_account = "<revenue GL code, e.g. 8000>", or map this '
            "line's product, category or edition in the ledger tables",
        )
    if cost_center is None:
        cost_center = mapping.default_cost_center
    if cost_unit is None:
        cost_unit = mapping.default_cost_unit
    if discount or not mapping.send_cost_center:
        cost_center = None
    if discount or not mapping.send_cost_unit:
        cost_unit = None

    account = reference.gl_account(gl_account)
    if account is None:
        fail(
            invoice,
            gl_field,
            gl_policy,
            gl_account,
            f"GL account {gl_account!r} does not exist in the division",
            fix=f"create GL account {gl_account!r} in Exact, or set {setting(gl_policy)} "
            "to an existing revenue account",
        )
    if account.blocked:
        fail(
            invoice,
            gl_field,
            gl_policy,
            gl_account,
            f"GL account {gl_account!r} is blocked",
            fix=f"unblock GL account {gl_account!r} in Exact, or set {setting(gl_policy)} "
            "to another revenue account",
        )
    if account.type in SALES_LINE_FORBIDDEN_GL_TYPES:
        fail(
            invoice,
            gl_field,
            gl_policy,
            gl_account,
            f"GL account {gl_account!r} has type {account.type}, "
            "which Exact refuses on a sales line",
            fix=f"set {setting(gl_policy)} to a revenue (profit and loss) account",
        )
    if account.use_cost_center is CostUsage.NOT_ALLOWED:
        cost_center = None
    elif account.use_cost_center is CostUsage.MANDATORY and cost_center is None:
        fail(
            invoice,
            f"lines[{index}]",
            f"{_POLICY}.send_cost_center" if not mapping.send_cost_center else _POLICY,
            gl_account,
            f"GL account {gl_account!r} requires a cost center and none applies to this line",
            fix="set ledger.send_cost_center = true and ledger.default_cost_center = "
            '"<cost center code>" (or map one per product, category or edition)',
        )
    if account.use_cost_unit is CostUsage.NOT_ALLOWED:
        cost_unit = None
    elif account.use_cost_unit is CostUsage.MANDATORY and cost_unit is None:
        fail(
            invoice,
            f"lines[{index}]",
            f"{_POLICY}.send_cost_unit" if not mapping.send_cost_unit else _POLICY,
            gl_account,
            f"GL account {gl_account!r} requires a cost unit and none applies to this line",
            fix="set ledger.send_cost_unit = true and ledger.default_cost_unit = "
            '"<cost unit code>" (or map one per product, category or edition)',
        )
    return gl_account, cost_center, cost_unit


@total
def ledger_for_line(
    invoice: Invoice,
    line: InvoiceLine,
    reference: ReferenceData,
    mapping: LedgerMapping,
    *,
    index: int = 0,
) -> LedgerTarget:
    """The GL account, cost center and cost unit of one line of ``invoice``.

    The mapping's tables are tried in order (course edition -> course template ->
    product -> income category -> VAT category by default); for each of the three
    values the first table that fills it in wins, then the defaults. Discount lines
    never carry a cost center or cost unit (Eduframe: "No cost center or cost unit is
    assigned to this line"). The GL account must exist in the division, be unblocked
    and be of a type Exact accepts on a sales line; its cost center and cost unit
    settings (mandatory, not allowed) are honoured. ``index`` is the line's position,
    used to name the field in errors.
    """
    gl_account, cost_center, cost_unit = resolve_ledger(invoice, line, index, reference, mapping)
    return LedgerTarget(gl_account=gl_account, cost_center=cost_center, cost_unit=cost_unit)
