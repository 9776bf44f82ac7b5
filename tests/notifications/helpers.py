"""Helpers of the notification tests."""

import json
import time

from django.db import transaction
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from merchants.middleware import SESSION_LIVE, SESSION_MERCHANT
from merchants.models import Merchant
from notifications.models import Event, WebhookEndpoint
from notifications.services.delivery import dispatch
from notifications.services.endpoints import create_endpoint
from notifications.services.outbox import publish
from payplug.ids import new_id
from tests import factories


def record_event(merchant, *, type="payment.paid", is_live=False, ipn_url=None, payload=None, object_id=None):
    """An event as payments.services publishes it (inside the changing transaction)."""
    object_id = object_id or new_id("pay")
    payload = payload or {
        "id": object_id,
        "object": "payment",
        "is_live": is_live,
        "amount": 3300,
        "currency": "EUR",
        "is_paid": type == "payment.paid",
        "metadata": {"order_id": "42", "note": "crème brûlée"},
        "notification": {"url": ipn_url, "response_code": None},
    }
    with transaction.atomic():
        return publish(
            merchant=merchant,
            is_live=is_live,
            type=type,
            object_type=payload.get("object", "payment"),
            object_id=object_id,
            payload=payload,
            ipn_url=ipn_url,
        )


def dispatched(event: Event) -> Event:
    """Run the fan-out as the `dispatch_event` task does (the test database never commits, so
    on_commit hooks do not fire by themselves)."""
    dispatch(event.pk)
    event.refresh_from_db()
    return event


def login(client, user, merchant=None, live=False):
    """Log `user` in to the dashboard (second factor passed when they have one), in a mode."""
    client.force_login(user)
    session = client.session
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is not None:
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    if merchant is not None:
        session[SESSION_MERCHANT] = merchant.pk
    session[SESSION_LIVE] = live
    session.save()
    return client


def publish_burst(count: int, interval: float, ipn_url: str, webhook_url: str | None) -> None:
    """The body of `e2e_publisher` (its own process): `count` events the way payments publishes
    them, one every `interval` seconds, each in its own transaction; prints one JSON line per
    event published: {"event": "evt_...", "object": "pay_..."}."""
    merchant = Merchant.objects.filter(name="E2E Shop").first() or factories.merchant("E2E Shop")
    if webhook_url and not WebhookEndpoint.objects.filter(merchant=merchant, url=webhook_url).exists():
        create_endpoint(merchant, False, url=webhook_url, event_types=["payment.paid"])
    for _ in range(count):
        object_id = new_id("pay")
        with transaction.atomic():
            event = publish(
                merchant=merchant,
                is_live=False,
                type="payment.paid",
                object_type="payment",
                object_id=object_id,
                payload={"id": object_id, "object": "payment", "is_live": False, "amount": 1000},
                ipn_url=ipn_url,
            )
        print(json.dumps({"event": event.public_id, "object": object_id}), flush=True)
        time.sleep(interval)
