"""Money as people read and type it: the one parser and the one formatter of every page, and the
amount limits of every payment.

Display only: money is stored and computed in integer cents; the API never formats amounts
(integer cents on the wire), and CSV files write decimal euros with `decimal_amount`. Hosted
pages, emails and the dashboard (lists, forms, filters, charts) all format with `format_amount` /
`format_money`, read typed amounts with `parse_amount` and put an amount back into a form field
with `amount_for_input`.
"""

from __future__ import annotations

import re
from decimal import Decimal

from django.utils import formats, translation

CURRENCY_SYMBOLS = {"EUR": "€"}

# The amounts a payment may have, in cents, whoever creates it (API, payment link, pay button);
# a merchant's own min_amount/max_amount narrow them.
MIN_AMOUNT = 99
MAX_AMOUNT = 2_000_000


def format_amount(cents: int, currency: str = "EUR", language: str | None = None) -> str:
    """'€1,234.50' in English, '1 234,50 €' in French, '1.234,50 €' in Italian and Spanish."""
    language = (language or translation.get_language() or "en")[:2]
    value = Decimal(int(cents)).scaleb(-2)
    with translation.override(language):
        number = formats.number_format(value, decimal_pos=2, use_l10n=True, force_grouping=True)
    symbol = CURRENCY_SYMBOLS.get(currency, currency)
    if language == "en":
        return f"{symbol}{number}"
    return f"{number}\u00a0{symbol}"


def parse_amount(text: str) -> int | None:
    """A typed amount in euros ('25', '25,5', '25.50', '1 250,00', '1.250,00', '€12') in cents;
    None if unreadable. Shoppers (payment links) and merchants (dashboard forms and filters) alike."""
    cleaned = re.sub(r"[\s\u00a0\u202f€]", "", text or "")
    if not cleaned:
        return None
    match = re.fullmatch(r"(\d{1,7})(?:[.,](\d{1,2}))?", cleaned)
    if not match:
        # Grouped thousands with the other separator: 1.250,00 or 1,250.00
        match = re.fullmatch(r"(\d{1,3}(?:([.,])\d{3})+)(?:(?!\2)[.,](\d{1,2}))?", cleaned)
        if not match:
            return None
        units = re.sub(r"[.,]", "", match.group(1))
        cents = match.group(3) or ""
    else:
        units, cents = match.group(1), match.group(2) or ""
    return int(units) * 100 + int((cents + "00")[:2])


def amount_for_input(cents: int | None) -> str:
    """An amount as it is typed back into a form field or a filter link: no symbol, the active
    language's decimal separator, no decimals for whole euros ('25', '12,50'); `parse_amount` reads it."""
    if cents is None:
        return ""
    value = Decimal(int(cents)).scaleb(-2)
    return formats.number_format(value, decimal_pos=2 if cents % 100 else 0, use_l10n=True)


def format_money(cents: int, currency: str, language: str | None = None) -> str:
    """`format_amount` with the sign in front for negative amounts: '-€12.50', '-12,50 €'."""
    cents = int(cents)
    text = format_amount(abs(cents), currency, language)
    return f"-{text}" if cents < 0 else text


def decimal_amount(cents: int | None) -> Decimal | str:
    """An amount for a CSV file: a decimal number in the currency's unit with a dot, whatever the
    language (Decimal('1234.56'), Decimal('-3.00')), which every spreadsheet and script reads as a
    number (a Decimal, so payplug.spreadsheet keeps a refund's sign); the currency is in its own
    column. '' for no amount."""
    if cents is None:
        return ""
    return Decimal(int(cents)).scaleb(-2)
