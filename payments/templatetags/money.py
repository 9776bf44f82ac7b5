"""Amounts in dashboard templates, formatted for the active language (display only).

`{{ cents|money }}` shows integer cents as '€1,234.56' in English and '1 234,56 €' in French,
with the same formatter as the hosted payment pages (payments.amounts.format_amount, through
payments.amounts.format_money). `{{ bps|bps_percent }}` shows basis points as '1.40 %' / '1,40 %'.
"""

from decimal import Decimal

from django import template
from django.utils import formats

from payments.amounts import format_money

register = template.Library()


@register.filter
def money(cents, currency="EUR"):
    if cents is None or cents == "":
        return ""
    return format_money(int(cents), currency)


@register.filter
def bps_percent(bps):
    value = Decimal(int(bps or 0)).scaleb(-2)
    return f"{formats.number_format(value, decimal_pos=2, use_l10n=True)} %"
