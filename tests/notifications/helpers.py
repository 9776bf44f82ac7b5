"""Helpers of the notification tests."""

from django.db import transaction

from notifications import services
from notifications.models import Event


def record_event(merchant, *, type="payment.paid", is_live=False, ipn_url=None, payload=None, object_id=None):
    """An event as payments.services publishes it (inside the changing transaction)."""
    from payplug.ids import new_id

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
        return services.publish(
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
    services.dispatch(event.pk)
    event.refresh_from_db()
    return event


def login(client, user, merchant=None, live=False):
    """Log `user` in to the dashboard (second factor passed when they have one), in a mode."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from merchants.middleware import SESSION_LIVE, SESSION_MERCHANT

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
