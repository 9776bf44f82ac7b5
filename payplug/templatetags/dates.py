"""Dates in templates, one format per language, in the organisation's time zone (payplug.dates).

A builtin of every template (settings.TEMPLATES), so no `{% load %}` is needed:

    {{ payment.created_at|local_datetime }}                 3 Dec 2026, 14:05 / 3 déc. 2026 14:05
    {{ payout.payout_date|local_date }}                     3 Dec 2026
    {{ payment.paid_at|local_datetime:merchant.time_zone }} emails, rendered outside a request
    <time datetime="{{ payment.created_at|iso_utc }}">      for machines: ISO 8601, UTC
"""

from datetime import UTC, date, datetime

from django import template

from payplug import dates

register = template.Library()


@register.filter
def local_datetime(value, zone_name=None):
    return dates.format_datetime(value, zone_name or None)


@register.filter
def local_date(value, zone_name=None):
    return dates.format_date(value, zone_name or None)


@register.filter
def iso_utc(value):
    """For machines (`<time datetime="...">`): ISO 8601 in UTC, '2026-12-03T13:05:00+00:00'."""
    if not isinstance(value, datetime):
        return value.isoformat() if isinstance(value, date) else ""
    return value.astimezone(UTC).isoformat()
