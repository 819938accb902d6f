"""Debtor resolution: which Exact customer an invoice is booked on."""

from __future__ import annotations

from exactbridge.codes import ACCOUNT_CODE_LENGTH, pad_account_code, pad_country_code
from exactbridge.errors import ConfigurationError
from exactbridge.mapping._common import fail, setting, total
from exactbridge.mapping._drafts import AccountDraft, DebtorAction, DebtorDecision
from exactbridge.mapping._policies import CodeSource, DebtorPolicy
from exactbridge.mapping._reference import KnownAccount, ReferenceData
from exactbridge.records import Invoice, Party, PartyKind

__all__ = ["candidate_code", "resolve_debtor"]

_POLICY = "DebtorPolicy"


def _clean(value: object) -> str | None:
    if isinstance(value, str):
        text = value.strip()
        return text or None
    return None


def candidate_code(party: Party, policy: DebtorPolicy) -> tuple[str, CodeSource] | None:
    """The unpadded debtor code the policy derives from ``party``, and its source.

    The code sources are tried in order; the first that gives a value wins. The
    prefix is put in front only when the internal number is used.

    >>> from exactbridge.records import Party
    >>> party = Party("coachview", "7", "Ann", internal_number="00042", external_number="")
    >>> candidate_code(party, DebtorPolicy(prefix="9"))
    ('900042', <CodeSource.INTERNAL_NUMBER: 'internal_number'>)
    """
    for source in policy.code_sources:
        if source is CodeSource.INTERNAL_NUMBER:
            value = _clean(party.internal_number)
            if value is not None:
                return policy.prefix + value, source
        elif source is CodeSource.EXTERNAL_NUMBER:
            value = _clean(party.external_number)
            if value is not None:
                return value, source
        else:
            extern_ids = party.extern_ids
            value = _clean(extern_ids.get(policy.extern_source or "")) if extern_ids else None
            if value is not None:
                return value, source
    return None


def _field_for(source: CodeSource, policy: DebtorPolicy) -> str:
    if source is CodeSource.INTERNAL_NUMBER:
        return "party.internal_number"
    if source is CodeSource.EXTERNAL_NUMBER:
        return "party.external_number"
    return f"party.extern_ids[{policy.extern_source!r}]"


def _check_customer(
    invoice: Invoice, account: KnownAccount, policy: DebtorPolicy, field: str, value: object
) -> None:
    if account.blocked:
        fail(
            invoice,
            field,
            _POLICY,
            value,
            f"Exact account {account.id} is blocked",
            fix="unblock the account in Exact, or link the customer to another account",
        )
    if policy.refuse_supplier_codes and account.is_supplier and not account.is_customer:
        fail(
            invoice,
            field,
            f"{_POLICY}.refuse_supplier_codes",
            value,
            f"code {account.code!r} belongs to a supplier, not a customer",
            fix="set debtor.refuse_supplier_codes = false to book on the account anyway, "
            "or give the customer a number that is not a supplier's",
        )


def _single(
    invoice: Invoice, accounts: tuple[KnownAccount, ...], field: str, value: object
) -> KnownAccount | None:
    if not accounts:
        return None
    if len(accounts) > 1:
        fail(
            invoice,
            field,
            _POLICY,
            value,
            f"{len(accounts)} Exact accounts share this value",
            fix=f"set debtor.match_by_{field.removeprefix('party.')} = false, or merge the "
            "duplicate accounts in Exact, or link the customer to one (exact_account_id)",
        )
    return accounts[0]


def account_draft(
    invoice: Invoice, party: Party, code: str | None, account_id: str | None
) -> AccountDraft:
    """The account data exactbridge writes for ``party`` (create or overwrite)."""
    raw_name: object = party.name
    name = raw_name.strip() if isinstance(raw_name, str) else ""
    if not name or not name.isprintable():
        fail(invoice, "party.name", _POLICY, party.name, "a customer needs a printable name")
    address = party.address
    country = None
    if address is not None and address.country:
        try:
            country = pad_country_code(address.country)
        except ConfigurationError:
            fail(
                invoice,
                "party.address.country",
                _POLICY,
                address.country,
                "not an ISO 3166-1 alpha-2 code",
            )
    return AccountDraft(
        name=name,
        code=code,
        id=account_id,
        email=_clean(party.email),
        phone=_clean(party.phone),
        vat_number=_clean(party.vat_number),
        chamber_of_commerce=_clean(party.chamber_of_commerce),
        address_line1=_clean(address.line1) if address else None,
        address_line2=_clean(address.line2) if address else None,
        postcode=_clean(address.postcode) if address else None,
        city=_clean(address.city) if address else None,
        state=_clean(address.state) if address else None,
        country=country,
        language=_clean(party.language),
        is_organisation=party.kind is PartyKind.ORGANISATION,
    )


def guest_debtor(
    invoice: Invoice, reference: ReferenceData, code: str, field: str, policy: str
) -> KnownAccount:
    """The known account a fixed debtor code (guest, collective, standard) points to."""
    account = reference.account_by_code(code)
    if account is None:
        fail(
            invoice,
            field,
            policy,
            code,
            f"debtor {code!r} is not an account of the division",
            fix=f"create customer {code!r} in the Exact division, or set {setting(policy)} "
            "to the code of an existing customer",
        )
    return account


def _resolve(invoice: Invoice, reference: ReferenceData, policy: DebtorPolicy) -> DebtorDecision:
    party = invoice.party
    if party is None:
        guest_code = policy.guest_debtor_code
        if guest_code is None:
            fail(
                invoice,
                "party",
                f"{_POLICY}.guest_debtor_code",
                None,
                "the invoice has no customer and no debtor number for guest orders is set",
                fix='set debtor.guest_debtor_code = "<code of an Exact customer for guests>"',
            )
        account = guest_debtor(
            invoice, reference, guest_code, "party", f"{_POLICY}.guest_debtor_code"
        )
        _check_customer(invoice, account, policy, "party", guest_code)
        return DebtorDecision(
            DebtorAction.GUEST,
            account_id=account.id,
            code=pad_account_code(guest_code),
            matched_by="guest",
        )
    if not isinstance(party, Party):
        fail(invoice, "party", _POLICY, party, "expected a Party")

    candidate = candidate_code(party, policy)
    code: str | None = None
    source: CodeSource | None = None
    if candidate is not None:
        code, source = candidate
        field = _field_for(source, policy)
        if len(code) > ACCOUNT_CODE_LENGTH:
            fail(
                invoice,
                field,
                f"{_POLICY}.code_sources",
                code,
                f"a debtor code has at most {ACCOUNT_CODE_LENGTH} characters",
                fix=f"shorten {field} in the source (with debtor.prefix: a shorter prefix), "
                "or choose another field in debtor.code_sources",
            )
        if not code.isprintable() or any(ch.isspace() for ch in code):
            fail(
                invoice,
                field,
                f"{_POLICY}.code_sources",
                code,
                "a debtor code cannot contain spaces or control characters",
                fix=f"correct {field} in the source, or choose another field in "
                "debtor.code_sources",
            )

    matched: KnownAccount | None = None
    matched_by = ""
    field = "party"
    value: object = None
    linked = _clean(party.exact_account_id)
    if linked is not None:
        matched = reference.account_by_id(linked)
        matched_by, field, value = "linked_id", "party.exact_account_id", linked
    if matched is None and code is not None and source is not None:
        matched = reference.account_by_code(code)
        matched_by, field, value = "code", _field_for(source, policy), code
    if matched is None and policy.match_by_email and _clean(party.email):
        matched = _single(
            invoice, reference.accounts_by_email(party.email or ""), "party.email", party.email
        )
        matched_by, field, value = "email", "party.email", party.email
    if matched is None and policy.match_by_vat_number and _clean(party.vat_number):
        matched = _single(
            invoice,
            reference.accounts_by_vat_number(party.vat_number or ""),
            "party.vat_number",
            party.vat_number,
        )
        matched_by, field, value = "vat_number", "party.vat_number", party.vat_number

    code_source = source.value if source is not None else None
    if matched is not None:
        _check_customer(invoice, matched, policy, field, value)
        padded = pad_account_code(matched.code) if matched.code else None
        if policy.overwrite_existing:
            draft = account_draft(invoice, party, padded, matched.id)
            return DebtorDecision(
                DebtorAction.UPDATE,
                account_id=matched.id,
                code=padded,
                account=draft,
                matched_by=matched_by,
                code_source=code_source,
            )
        return DebtorDecision(
            DebtorAction.EXISTING,
            account_id=matched.id,
            code=padded,
            matched_by=matched_by,
            code_source=code_source,
        )
    if not policy.create_missing:
        fail(
            invoice,
            "party",
            f"{_POLICY}.create_missing",
            code,
            "no existing Exact account matches the customer and creating accounts is switched off",
            fix="set debtor.create_missing = true, or create the customer in Exact first",
        )
    if code is None and not policy.let_exact_number:
        tried = ", ".join(_field_for(option, policy) for option in policy.code_sources)
        fail(
            invoice,
            tried,
            f"{_POLICY}.code_sources",
            None,
            f"the debtor has no debtor number in any configured option ({tried}) and "
            "matched no existing customer",
            fix="fill one of those fields in the source, add a code source that the debtor "
            "has to debtor.code_sources, or set debtor.let_exact_number = true to let Exact "
            "number new customers",
        )
    padded = pad_account_code(code) if code is not None else None
    draft = account_draft(invoice, party, padded, None)
    return DebtorDecision(DebtorAction.CREATE, code=padded, account=draft, code_source=code_source)


@total
def resolve_debtor(
    invoice: Invoice, reference: ReferenceData, policy: DebtorPolicy
) -> DebtorDecision:
    """Decide which Exact customer ``invoice`` is booked on.

    In order: an invoice without a party goes to the guest debtor; a party linked to
    a known account (``exact_account_id``) uses it; otherwise the candidate code
    (code sources in order, prefix on the internal number only) is looked up, then
    the e-mail address and the VAT number (each switchable). A match is kept as it
    is, or overwritten with the source's data when ``overwrite_existing`` is on; no
    match creates an account with the candidate code (right-aligned to 18
    characters) when ``create_missing`` is on; with no candidate code either, the
    invoice fails unless ``let_exact_number`` lets Exact number the new customer. A
    match on a supplier-only relation is refused. Anything else raises
    :class:`~exactbridge.errors.MappingError`.
    """
    return _resolve(invoice, reference, policy)
