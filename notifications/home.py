"""The notifications part of the dashboard home's "Needs attention" (registered in
notifications/apps.py with merchants.home): webhook endpoints that fail, or were disabled for it."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from merchants.home import Attention
from notifications.models import WebhookEndpoint
from notifications.services.endpoints import DISABLE_AFTER
from payplug import dates

LISTED = 5
# An endpoint disabled for failing stays on the home page this long (or until enabled again).
DISABLED_SHOWN_FOR = timedelta(days=7)


def failing_endpoint_items(dashboard) -> list[Attention]:
    """Endpoints failing now, and those recently disabled after failing (one query)."""
    now = timezone.now()
    endpoints = (
        WebhookEndpoint.objects.filter(merchant=dashboard.merchant, is_live=dashboard.is_live)
        .filter(
            Q(is_enabled=True, failing_since__isnull=False)
            | Q(
                is_enabled=False,
                disabled_reason=WebhookEndpoint.DisabledReason.FAILING,
                disabled_at__gte=now - DISABLED_SHOWN_FOR,
            )
        )
        .order_by("failing_since", "pk")[:LISTED]
    )
    items = []
    for endpoint in endpoints:
        url = reverse("dashboard:webhook", args=[endpoint.public_id])
        if endpoint.is_enabled:
            items.append(
                Attention(
                    title=_("Webhook endpoint %(url)s has been failing since %(since)s")
                    % {"url": endpoint.url, "since": dates.format_datetime(endpoint.failing_since)},
                    url=url,
                    detail=_(
                        "Check what your server answers in the delivery log: after %(days)d days of failures "
                        "the endpoint is disabled."
                    )
                    % {"days": DISABLE_AFTER.days},
                    due_at=endpoint.failing_since + DISABLE_AFTER,
                    severity="danger",
                )
            )
        else:
            items.append(
                Attention(
                    title=_("Webhook endpoint %(url)s was disabled after failing") % {"url": endpoint.url},
                    url=url,
                    detail=_("It receives no events: fix your server, then enable it again and resend what it missed."),
                    severity="danger",
                )
            )
    return items
