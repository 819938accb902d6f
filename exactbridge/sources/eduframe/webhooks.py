"""Eduframe webhook notifications: a parser for both payload shapes and a verifier.

Eduframe posts a *thin* notification when something changes (``invoice.created``,
``invoice.updated``, ``invoice.deleted``, ``payment.*``, ``account.*``...). Two shapes
are documented:

* docs: ``{"event", "educator", "entity_id", "tenant_id", "entity_type"}``;
* newer spec: ``{"tenant_id", "educator", "event", "event_data": {...}}`` where
  ``event_data`` carries the entity's ``id``.

:func:`parse_webhook` accepts both and returns a :class:`WebhookNotification`.

**What can be verified.** Eduframe documents no signature or shared-secret header
for webhooks (UNCERTAIN in our reference), so a payload cannot be authenticated
cryptographically. :class:`WebhookVerifier` therefore checks what *can* be checked:

1. a secret token you put in the webhook URL when registering it
   (``https://host/hooks/eduframe?token=...``) or that a proxy adds as a header,
   compared in constant time;
2. the ``educator`` slug and/or ``tenant_id`` you expect;
3. the event against an allow-list (by default every ``invoice.*``, ``payment.*`` and
   ``account.*`` event).

Whatever passes is still only a hint: the notification carries no amounts, so the
host app must fetch the entity by id with its own credentials
(``EduframeClient.invoice(n.entity_id)``); a forged notification can at worst cause
one extra read. This is how a host app syncs "on creation and on every change".
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Collection, Mapping
from typing import Any

import attrs

from exactbridge.errors import SourceError, SourceRecordError
from exactbridge.sources.eduframe.models import SOURCE

__all__ = [
    "DEFAULT_EVENTS",
    "WebhookNotification",
    "WebhookVerificationError",
    "WebhookVerifier",
    "parse_webhook",
]

#: Event families accepted by default (``*`` matches any action).
DEFAULT_EVENTS = ("invoice.*", "payment.*", "account.*")

_RECORD = "webhook"


class WebhookVerificationError(SourceError):
    """A webhook notification failed verification (bad token, educator, tenant or event)."""


@attrs.frozen
class WebhookNotification:
    """One parsed notification.

    ``entity_type`` is taken from the payload or from the event's prefix
    (``invoice.updated`` -> ``invoice``); ``action`` is the event's suffix.
    """

    event: str
    entity_type: str
    entity_id: int | None
    educator: str | None = None
    tenant_id: str | None = None
    event_data: Mapping[str, Any] = attrs.field(factory=dict, repr=False)

    @property
    def action(self) -> str:
        """``created``, ``updated``, ``deleted``..."""
        return self.event.split(".", 1)[1] if "." in self.event else self.event

    @property
    def is_deletion(self) -> bool:
        """Whether the entity was deleted (nothing to fetch)."""
        return self.action == "deleted"

    @property
    def invoice_id(self) -> int | None:
        """The invoice to (re)sync for an ``invoice.*`` event, else ``None``.

        For ``payment.*`` events fetch the payment first: it names its invoice.
        """
        return self.entity_id if self.entity_type == "invoice" else None


def _field_error(message: str, field: str, expected: str, value: Any) -> SourceRecordError:
    return SourceRecordError(
        message, source=SOURCE, record_id=_RECORD, field=field, expected=expected, value=value
    )


def _as_id(value: Any, field: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    raise _field_error("wrong type", field, "an integer id", value)


def parse_webhook(payload: bytes | str | Mapping[str, Any]) -> WebhookNotification:
    """Parse a notification body (raw bytes, text or decoded JSON), either shape.

    Raises :class:`~exactbridge.errors.SourceRecordError` (record ``webhook``) naming
    the field when the payload is not a notification.

    >>> note = parse_webhook(b'{"event": "invoice.updated", "entity_id": 12}')
    >>> note.entity_type, note.entity_id, note.action
    ('invoice', 12, 'updated')
    """
    data: Any = payload
    if isinstance(payload, (bytes, str)):
        if len(payload) > 1_000_000:
            raise _field_error("the payload is too large", "<body>", "at most 1 MB", len(payload))
        try:
            data = json.loads(payload)
        except (ValueError, UnicodeDecodeError) as exc:
            raise _field_error("not JSON", "<body>", "a JSON object", str(payload)[:40]) from exc
    if not isinstance(data, Mapping):
        raise _field_error("not an object", "<body>", "a JSON object", type(data).__name__)
    event = data.get("event")
    if not isinstance(event, str) or not event.strip():
        raise _field_error("missing", "event", "an event name such as invoice.updated", event)
    event_data = data.get("event_data")
    if event_data is not None and not isinstance(event_data, Mapping):
        raise _field_error("wrong type", "event_data", "an object", event_data)
    entity_id = _as_id(data.get("entity_id"), "entity_id")
    if entity_id is None and event_data is not None:
        entity_id = _as_id(event_data.get("id", event_data.get("entity_id")), "event_data.id")
    entity_type = data.get("entity_type")
    if entity_type is not None and not isinstance(entity_type, str):
        raise _field_error("wrong type", "entity_type", "a string", entity_type)
    if not entity_type:
        entity_type = event.split(".", 1)[0]
    educator = data.get("educator")
    tenant = data.get("tenant_id")
    return WebhookNotification(
        event=event.strip(),
        entity_type=str(entity_type).strip().lower().replace("::", "_"),
        entity_id=entity_id,
        educator=str(educator) if educator is not None else None,
        tenant_id=str(tenant) if tenant is not None else None,
        event_data=dict(event_data or {}),
    )


def _event_allowed(event: str, patterns: Collection[str]) -> bool:
    for pattern in patterns:
        if pattern == event or pattern == "*":
            return True
        if pattern.endswith(".*") and event.startswith(pattern[:-1]):
            return True
    return False


@attrs.frozen
class WebhookVerifier:
    """Checks a notification before the host app acts on it (see the module docs).

    ``token`` is the secret embedded in the registered webhook URL (query parameter
    ``token_param``) or sent by a proxy in header ``token_header``; ``None`` skips the
    check. ``educator`` / ``tenant_id`` must match when given. ``events`` is the
    allow-list (``"invoice.*"`` style patterns).

    >>> verifier = WebhookVerifier(token="s3cret", educator="demo")
    >>> "s3cret" in repr(verifier)
    False
    """

    token: str | None = attrs.field(default=None, repr=False)
    educator: str | None = None
    tenant_id: str | None = None
    events: tuple[str, ...] = attrs.field(default=DEFAULT_EVENTS, converter=tuple)
    token_param: str = "token"
    token_header: str = "X-Webhook-Token"

    def verify(
        self,
        body: bytes | str | Mapping[str, Any],
        *,
        query: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> WebhookNotification:
        """Verify and parse one delivery; raise :class:`WebhookVerificationError` if it fails.

        ``query`` are the request's query parameters, ``headers`` its headers
        (case-insensitive lookup). A malformed body raises ``SourceRecordError``.
        """
        if self.token is not None:
            presented = None
            if query is not None:
                presented = query.get(self.token_param)
            if presented is None and headers is not None:
                wanted = self.token_header.lower()
                for key, value in headers.items():
                    if key.lower() == wanted:
                        presented = value
                        break
            if presented is None or not hmac.compare_digest(
                presented.encode("utf-8"), self.token.encode("utf-8")
            ):
                raise WebhookVerificationError("eduframe webhook: missing or wrong token")
        notification = parse_webhook(body)
        if self.educator is not None and notification.educator != self.educator:
            raise WebhookVerificationError(
                f"eduframe webhook: unexpected educator {notification.educator!r}"
            )
        if self.tenant_id is not None and notification.tenant_id != str(self.tenant_id):
            raise WebhookVerificationError(
                f"eduframe webhook: unexpected tenant {notification.tenant_id!r}"
            )
        if not _event_allowed(notification.event, self.events):
            raise WebhookVerificationError(
                f"eduframe webhook: event {notification.event!r} is not accepted"
            )
        return notification
