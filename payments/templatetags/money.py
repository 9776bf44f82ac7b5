"""`{{ cents|money }}`: integer cents shown as an amount (display only; signed)."""

from django import template

register = template.Library()


@register.filter
def money(cents, currency="EUR"):
    if cents is None or cents == "":
        return ""
    cents = int(cents)
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{cents // 100:,}.{cents % 100:02d} {currency}"


@register.filter
def bps_percent(bps):
    bps = int(bps or 0)
    return f"{bps // 100}.{bps % 100:02d} %"
