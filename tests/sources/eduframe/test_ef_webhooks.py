"""Eduframe webhooks: both payload shapes, verification of token, educator, tenant, events."""

from __future__ import annotations

import pytest

from exactbridge.errors import SourceRecordError
from exactbridge.sources.eduframe import (
    WebhookVerificationError,
    WebhookVerifier,
    parse_webhook,
)
from exactbridge.testing.clock import FakeClock
from exactbridge.testing.eduframe import FakeEduframe


@pytest.mark.parametrize("shape", ["docs", "spec"])
def test_both_payload_shapes_parse(shape):
    fake = FakeEduframe(clock=FakeClock())
    note = parse_webhook(fake.webhook_payload("invoice.updated", 42, shape=shape))
    assert (note.event, note.entity_type, note.entity_id) == ("invoice.updated", "invoice", 42)
    assert (note.educator, note.tenant_id) == ("demo-academy", "4711")
    assert note.invoice_id == 42
    assert note.action == "updated"
    assert note.is_deletion is False


def test_deletion_and_payment_events():
    deleted = parse_webhook({"event": "invoice.deleted", "entity_id": "5"})
    assert deleted.is_deletion is True
    assert deleted.entity_id == 5
    payment = parse_webhook({"event": "payment.created", "event_data": {"id": 8}})
    assert (payment.entity_type, payment.entity_id, payment.invoice_id) == ("payment", 8, None)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"not json", "<body>"),
        (b"[1, 2]", "<body>"),
        (b'{"entity_id": 1}', "event"),
        (b'{"event": "invoice.created", "entity_id": "abc"}', "entity_id"),
        (b'{"event": "invoice.created", "event_data": "x"}', "event_data"),
    ],
)
def test_malformed_payloads_are_typed_errors(body, field):
    with pytest.raises(SourceRecordError) as info:
        parse_webhook(body)
    assert (info.value.record_id, info.value.field) == ("webhook", field)


def test_verifier_checks_token_educator_tenant_and_events():
    fake = FakeEduframe(clock=FakeClock())
    body = fake.webhook_payload("invoice.created", 3)
    canary = "CANARY-WEBHOOK-TOKEN"
    verifier = WebhookVerifier(token=canary, educator="demo-academy", tenant_id="4711")
    assert canary not in repr(verifier)
    assert verifier.verify(body, query={"token": canary}).entity_id == 3
    assert verifier.verify(body, headers={"x-webhook-token": canary}).entity_id == 3
    with pytest.raises(WebhookVerificationError) as info:
        verifier.verify(body, query={"token": "wrong"})
    assert canary not in str(info.value)
    with pytest.raises(WebhookVerificationError):
        verifier.verify(body)
    with pytest.raises(WebhookVerificationError):
        WebhookVerifier(educator="other").verify(body)
    with pytest.raises(WebhookVerificationError):
        WebhookVerifier(tenant_id="1").verify(body)
    with pytest.raises(WebhookVerificationError):
        WebhookVerifier().verify(fake.webhook_payload("course.updated", 1))
    assert (
        WebhookVerifier(events=("*",)).verify(fake.webhook_payload("course.updated", 1)).entity_id
        == 1
    )
