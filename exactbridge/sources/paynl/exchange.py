"""Pay.'s exchange (webhook) calls: a parser for every variant and a signature verifier.

Pay. calls the merchant's *exchange URL* when a transaction changes (reference 4.5).
The legacy variants send flat fields (``action``, ``order_id``, ``amount`` in decimal
euros, ``extra1..3``, ``info``, ``ip_address``) as a query string (``TXT_GET``), a
form body (``TXT_POST``) or JSON (``JSON_GET``/``JSON_POST``); the receiver answers
``TRUE|...`` (:func:`exchange_response`) and should then re-read the transaction's
status rather than trust the call. The newer ``SIGNED_JSON_POST`` sends the whole
transaction object, signed with the service secret.

What the reference says about signing: only that the signed variant is "signed with
the service secret". How exactly is UNVERIFIED; the default here follows Pay.'s own
``paynl/request-signing`` package: headers ``Signature``, ``Signature-KeyID``,
``Signature-Method`` (``HMAC``) and ``Signature-Algorithm`` (``sha256``...), with
``Signature = hex(hash_alg(key_id + ":" + secret + ":" + body))``. Because that is an
inference, :class:`SignatureVerifier` is configurable: header names, algorithm, and
``scheme="hmac"`` for a plain HMAC of the body with the secret.

Example::

    verifier = SignatureVerifier(key_id="SL-1234-5678", secret=service_secret)
    verifier.require(body, request.headers)          # raises ExchangeSignatureError
    call = parse_exchange(body, content_type=request.headers["content-type"])
    if call.status and call.status.is_paid: ...
"""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.parse
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import Any, Literal

import attrs

from exactbridge.errors import SourceError, SourceRecordError

from .models import SOURCE, PayStatus, Transaction, parse_transaction, status_for_code

__all__ = [
    "ExchangeCall",
    "ExchangeSignatureError",
    "SignatureVerifier",
    "exchange_response",
    "parse_exchange",
]

_LEGACY_ACTIONS = {
    "new_ppt": PayStatus.PAID,
    "pending": PayStatus.PENDING,
    "cancel": PayStatus.CANCEL,
    "refund:add": PayStatus.REFUND,
    "refund:received": PayStatus.REFUND,
    "chargeback": PayStatus.CHARGEBACK,
}


class ExchangeSignatureError(SourceError):
    """An exchange call's signature is missing or wrong (the call must be ignored)."""


def _frozen(value: Mapping[str, str] | None) -> Mapping[str, str]:
    return MappingProxyType(dict(value or {}))


@attrs.frozen
class ExchangeCall:
    """One parsed exchange call.

    ``status`` is derived from the legacy ``action`` or from the signed transaction's
    status; ``amount`` is in euros as a Decimal (legacy calls send euros, the signed
    transaction cents). ``fields`` keeps every flat field as received.
    """

    variant: Literal["legacy", "signed"]
    action: str | None
    order_id: str | None
    status: PayStatus | None
    amount: Decimal | None = None
    reference: str | None = None
    extra: tuple[str | None, str | None, str | None] = (None, None, None)
    info: str | None = None
    ip_address: str | None = None
    transaction: Transaction | None = None
    fields: Mapping[str, str] = attrs.field(factory=dict, converter=_frozen)


def exchange_response(ok: bool = True, message: str = "") -> str:
    """The body Pay. expects in answer: ``TRUE|message`` or ``FALSE|message``."""
    return f"{'TRUE' if ok else 'FALSE'}|{message}"


def _error(record: str, field: str, message: str, expected: str, value: Any) -> SourceRecordError:
    return SourceRecordError(
        message, source=SOURCE, record_id=record, field=field, expected=expected, value=value
    )


def parse_exchange(
    body: bytes,
    *,
    content_type: str = "",
    query: str | Mapping[str, str] | None = None,
) -> ExchangeCall:
    """Parse an exchange call of any variant into an :class:`ExchangeCall`.

    ``body`` is the raw request body (``b""`` for ``TXT_GET``), ``query`` the query
    string or its parsed mapping. Raises :class:`~exactbridge.errors.SourceRecordError`
    naming the field when the call is malformed.
    """
    fields: dict[str, str] = {}
    if isinstance(query, str):
        fields.update(urllib.parse.parse_qsl(query.lstrip("?"), keep_blank_values=True))
    elif query is not None:
        fields.update({str(k): str(v) for k, v in query.items()})
    kind = content_type.split(";", 1)[0].strip().lower()
    if body.strip():
        if kind == "application/json" or body.lstrip()[:1] in (b"{", b"["):
            try:
                data = json.loads(body, parse_float=Decimal)
            except (ValueError, UnicodeDecodeError):
                raise _error("exchange", "<body>", "not JSON", "a JSON object", body[:40]) from None
            if not isinstance(data, dict):
                raise _error("exchange", "<body>", "not an object", "a JSON object", type(data))
            if isinstance(data.get("object"), dict) or (
                "id" in data and isinstance(data.get("status"), dict)
            ):
                return _signed(data)
            fields.update({str(k): "" if v is None else str(v) for k, v in data.items()})
        else:
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError:
                raise _error(
                    "exchange", "<body>", "not UTF-8", "a form-encoded body", body[:40]
                ) from None
            fields.update(urllib.parse.parse_qsl(text, keep_blank_values=True))
    order_id = fields.get("order_id") or None
    record = order_id or "exchange"
    action = fields.get("action") or None
    if action is None:
        raise _error(record, "action", "missing", "an action such as new_ppt", None)
    amount = None
    raw_amount = fields.get("amount")
    if raw_amount:
        try:
            amount = Decimal(raw_amount)
        except InvalidOperation:
            amount = None
        if amount is None or not amount.is_finite():
            raise _error(record, "amount", "not a decimal", "euros such as 9.99", raw_amount)
    status = _LEGACY_ACTIONS.get(action.lower(), PayStatus.UNKNOWN)
    return ExchangeCall(
        variant="legacy",
        action=action,
        order_id=order_id,
        status=status,
        amount=amount,
        reference=fields.get("reference") or None,
        extra=(
            fields.get("extra1") or None,
            fields.get("extra2") or None,
            fields.get("extra3") or None,
        ),
        info=fields.get("info") or None,
        ip_address=fields.get("ip_address") or None,
        fields=fields,
    )


def _signed(data: dict[str, Any]) -> ExchangeCall:
    body = data.get("object") if isinstance(data.get("object"), dict) else data
    transaction = parse_transaction(body)
    action = data.get("action") if isinstance(data.get("action"), str) else None
    status = (
        transaction.status
        if transaction.status_code is None
        else status_for_code(transaction.status_code)
    )
    return ExchangeCall(
        variant="signed",
        action=action,
        order_id=transaction.order_id or transaction.id,
        status=status,
        amount=transaction.amount,
        reference=transaction.reference,
        transaction=transaction,
    )


@attrs.frozen
class SignatureVerifier:
    """Checks the signature of a ``SIGNED_JSON_POST`` exchange call.

    ``scheme="paynl-request-signing"`` (default): ``hex(hash(key_id:secret:body))``
    with the algorithm named in the ``Signature-Algorithm`` header (falling back to
    ``algorithm``), as Pay.'s ``request-signing`` package does; ``scheme="hmac"``:
    ``hex(HMAC(secret, body))``. The secret never appears in ``repr``. Comparison is
    constant-time. ``allowed_algorithms`` stops a caller from downgrading to a weak
    hash through the header.
    """

    key_id: str
    secret: str = attrs.field(repr=False)
    scheme: Literal["paynl-request-signing", "hmac"] = "paynl-request-signing"
    algorithm: str = "sha256"
    allowed_algorithms: frozenset[str] = frozenset({"sha256", "sha384", "sha512"})
    signature_header: str = "Signature"
    key_id_header: str = "Signature-KeyID"
    algorithm_header: str = "Signature-Algorithm"

    def sign(self, body: bytes, algorithm: str | None = None) -> str:
        """The signature this verifier expects for ``body`` (fakes and tests use it)."""
        name = (algorithm or self.algorithm).lower()
        if name not in self.allowed_algorithms:
            raise ExchangeSignatureError(f"signature algorithm {name!r} is not allowed")
        if self.scheme == "hmac":
            return hmac.new(self.secret.encode(), body, name).hexdigest()
        material = self.key_id.encode() + b":" + self.secret.encode() + b":" + body
        return hashlib.new(name, material).hexdigest()

    def verify(self, body: bytes, headers: Mapping[str, str]) -> bool:
        """Whether the headers carry a valid signature of ``body`` for this key."""
        try:
            self.require(body, headers)
        except ExchangeSignatureError:
            return False
        return True

    def require(self, body: bytes, headers: Mapping[str, str]) -> None:
        """Raise :class:`ExchangeSignatureError` unless the signature is valid."""
        lowered = {k.lower(): v for k, v in headers.items()}
        given = lowered.get(self.signature_header.lower())
        if not given:
            raise ExchangeSignatureError(f"the {self.signature_header} header is missing")
        key = lowered.get(self.key_id_header.lower())
        if self.scheme == "paynl-request-signing" and key is not None and key != self.key_id:
            raise ExchangeSignatureError(f"signed with another key ({key!r})")
        algorithm = lowered.get(self.algorithm_header.lower()) or self.algorithm
        expected = self.sign(body, algorithm)
        if not hmac.compare_digest(expected.encode(), given.strip().lower().encode()):
            raise ExchangeSignatureError("the signature does not match the body")
