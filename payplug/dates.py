"""Dates as people read them: one format per language, in the organisation's time zone.

The formats are the platform's own (payplug/formats/<language>/formats.py, FORMAT_MODULE_PATH):
'3 Dec 2026, 14:05' in English, '3 déc. 2026 14:05' in French, '3 dic 2026, 14:05' in Italian
and Spanish. The time zone is the organisation's (merchants.Merchant.time_zone, activated for
dashboard requests by merchants.middleware), or the one given. Templates use the
`local_datetime` / `local_date` filters (payplug.templatetags.dates, a builtin of every template);
Python code writing for people (the dashboard's CSV) calls these functions.

Machines keep their formats: the API's integer timestamps, ISO 8601 in `datetime=""` attributes
and in the CSV columns named `..._utc`.
"""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime, tzinfo
from functools import lru_cache

from django.core.exceptions import ValidationError
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

DEFAULT_TIME_ZONE = "Europe/Paris"


@lru_cache(maxsize=1)
def available_time_zones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def time_zone_choices() -> list[tuple[str, str]]:
    """Every IANA zone, sorted, for a select: ('Europe/Paris', 'Europe/Paris')."""
    return [(name, name.replace("_", " ")) for name in sorted(available_time_zones())]


def validate_time_zone(name: str) -> None:
    if name not in available_time_zones():
        raise ValidationError(
            _("Choose a time zone from the list, e.g. Europe/Paris."), code="invalid_time_zone", params={"value": name}
        )


def zone(name: str | None = None) -> tzinfo:
    """The named zone when it is known, else the active one (the organisation's on dashboard pages)."""
    if name and name in available_time_zones():
        return zoneinfo.ZoneInfo(name)
    return timezone.get_current_timezone()


def _local(value: datetime, zone_name: str | None) -> datetime:
    if timezone.is_naive(value):
        value = value.replace(tzinfo=UTC)
    return timezone.localtime(value, zone(zone_name))


def format_datetime(value, zone_name: str | None = None) -> str:
    """'3 Dec 2026, 14:05' in the active language; a date alone as format_date; '' for nothing."""
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):
        return formats.date_format(_local(value, zone_name), "DATETIME_FORMAT")
    if isinstance(value, date):
        return formats.date_format(value, "DATE_FORMAT")
    return str(value)


def format_date(value, zone_name: str | None = None) -> str:
    """'3 Dec 2026': the day of a date, or of a moment in the time zone."""
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):
        value = _local(value, zone_name).date()
    if isinstance(value, date):
        return formats.date_format(value, "DATE_FORMAT")
    return str(value)


def format_month_day(value: date) -> str:
    """'3 Dec': a chart's axis."""
    return formats.date_format(value, "MONTH_DAY_FORMAT")


def iso_utc(value: datetime | None) -> str:
    """'2026-12-03T13:05:00Z': for machines (CSV columns named `..._utc`)."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else ""
