"""A payment's state change as an event: one definition for the state machine (payments.services)
and the money rooms below it (payments.money.disputes), which may not import services."""

from __future__ import annotations

from notifications.services.outbox import publish
from payments import representations
from payments.models import Payment


def publish_payment(p: Payment, event_type: str, *, ipn: bool) -> None:
    """Publish `event_type` with the payment object, in the caller's transaction; `ipn` also sends
    it to the payment's notification_url (spec §9)."""
    publish(
        merchant=p.merchant,
        is_live=p.is_live,
        type=event_type,
        object_type="payment",
        object_id=p.public_id,
        payload=representations.payment(p),
        ipn_url=p.notification_url if ipn else None,
    )
