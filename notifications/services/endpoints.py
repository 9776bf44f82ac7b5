"""Where merchants are told: webhook endpoints and the signing secrets of webhooks and IPN.

The dashboard creates, edits, rotates, disables and enables endpoints here. An endpoint whose
attempts have all failed for DISABLE_AFTER is disabled by `track_endpoint_health` and its admins
are emailed. Secrets are returned in clear only when created or rotated (`notifications.signing`
encrypts them at rest).
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from notifications import signing
from notifications.models import IpnSecret, WebhookEndpoint
from notifications.services.emails import email_endpoint_disabled

logger = logging.getLogger(__name__)

# An endpoint whose attempts have all failed for this long is disabled and its admins told.
DISABLE_AFTER = timedelta(days=3)


def ipn_secret(merchant_id: int, is_live: bool) -> IpnSecret:
    """The merchant's IPN secret for the mode, created on first use."""
    secret = IpnSecret.objects.filter(merchant_id=merchant_id, is_live=is_live).first()
    if secret is not None:
        return secret
    secret = IpnSecret(merchant_id=merchant_id, is_live=is_live)
    signing.set_secret(secret, signing.new_secret(), keep_previous=False)
    try:
        with transaction.atomic():
            secret.save()
    except IntegrityError:  # created concurrently by another worker
        return IpnSecret.objects.get(merchant_id=merchant_id, is_live=is_live)
    return secret


def track_endpoint_health(endpoint: WebhookEndpoint, succeeded: bool) -> None:
    """After each attempt of a webhook: a success clears `failing_since`; failures for
    DISABLE_AFTER disable the endpoint and email its admins."""
    now = timezone.now()
    if succeeded:
        WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=False).update(failing_since=None)
        return
    WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=True).update(failing_since=now)
    disabled = WebhookEndpoint.objects.filter(
        pk=endpoint.pk, is_enabled=True, failing_since__lte=now - DISABLE_AFTER
    ).update(is_enabled=False, disabled_at=now, disabled_reason=WebhookEndpoint.DisabledReason.FAILING)
    if disabled:
        endpoint.refresh_from_db()
        logger.warning(
            "webhook endpoint %s disabled after failing since %s", endpoint.public_id, endpoint.failing_since
        )
        email_endpoint_disabled(endpoint)


def create_endpoint(
    merchant, is_live: bool, *, url: str, event_types: list[str], description: str = "", created_by=None
) -> tuple[WebhookEndpoint, str]:
    """A new endpoint and its signing secret, returned in clear this once."""
    endpoint = WebhookEndpoint(
        merchant=merchant,
        is_live=is_live,
        url=url,
        event_types=sorted(set(event_types)),
        description=description,
        created_by=created_by,
    )
    secret = signing.new_secret()
    signing.set_secret(endpoint, secret, keep_previous=False)
    endpoint.save()
    return endpoint, secret


def update_endpoint(endpoint: WebhookEndpoint, *, event_types: list[str], description: str) -> WebhookEndpoint:
    with transaction.atomic():
        locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        locked.event_types = sorted(set(event_types))
        locked.description = description
        locked.save(update_fields=["event_types", "description"])
    return locked


def rotate_endpoint_secret(endpoint: WebhookEndpoint) -> str:
    """A new secret; the old one keeps signing (second v1) for 24 h. Returns the new one in clear."""
    with transaction.atomic():
        locked = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
        secret = signing.new_secret()
        signing.set_secret(locked, secret, keep_previous=True)
        locked.save()
    return secret


def rotate_ipn_secret(merchant, is_live: bool) -> str:
    with transaction.atomic():
        ipn_secret(merchant.pk, is_live)
        locked = IpnSecret.objects.select_for_update().get(merchant=merchant, is_live=is_live)
        secret = signing.new_secret()
        signing.set_secret(locked, secret, keep_previous=True)
        locked.save()
    return secret


def disable_endpoint(endpoint: WebhookEndpoint) -> None:
    WebhookEndpoint.objects.filter(pk=endpoint.pk, is_enabled=True).update(
        is_enabled=False, disabled_at=timezone.now(), disabled_reason=WebhookEndpoint.DisabledReason.BY_USER
    )


def enable_endpoint(endpoint: WebhookEndpoint) -> None:
    WebhookEndpoint.objects.filter(pk=endpoint.pk, is_enabled=False).update(
        is_enabled=True, disabled_at=None, disabled_reason="", failing_since=None
    )
