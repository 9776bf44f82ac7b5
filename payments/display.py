"""What shoppers see, formatted for their language: amounts, the page language, brand colours.

Display only: money is stored and computed in integer cents. The dashboard formats amounts with
models.format_money, which calls format_amount below for the active language; the API never
formats amounts (integer cents on the wire).
"""

from __future__ import annotations

import hashlib
import re
from decimal import Decimal

from django.utils import formats, translation

SHOPPER_LANGUAGES = ("en", "fr", "it", "es")
CURRENCY_SYMBOLS = {"EUR": "€"}
DEFAULT_BRAND_COLOR = "#1f5fbf"
_HEX_COLOR = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")


def shopper_language(request, *wanted: str | None) -> str:
    """The first supported language among `wanted` (billing language, ...), else the browser's."""
    for code in wanted:
        if not isinstance(code, str):
            continue
        code = code.strip().lower()[:2]
        if code in SHOPPER_LANGUAGES:
            return code
    browser = translation.get_language_from_request(request) if request is not None else None
    browser = (browser or "")[:2]
    return browser if browser in SHOPPER_LANGUAGES else "en"


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
    """A shopper-typed amount ('25', '25,5', '25.50', '1 250,00', '€12') in cents; None if unreadable."""
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
    """An amount as a shopper would type it back (no symbol, locale's decimal separator)."""
    if cents is None:
        return ""
    value = Decimal(int(cents)).scaleb(-2)
    return formats.number_format(value, decimal_pos=2 if cents % 100 else 0, use_l10n=True)


# --- brand colours --------------------------------------------------------------------------------


def brand_color(value: str | None) -> str:
    """The merchant's colour as #rrggbb, or our default when it is not a plain hex colour."""
    value = (value or "").strip()
    if not _HEX_COLOR.match(value):
        return DEFAULT_BRAND_COLOR
    if len(value) == 4:
        value = "#" + "".join(c * 2 for c in value[1:])
    return value.lower()


def _rgb(color: str) -> tuple[int, int, int]:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


def _luminance(color: str) -> float:
    def channel(c: int) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in _rgb(color))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def _darken(color: str, factor: float) -> str:
    return "#" + "".join(f"{int(c * factor):02x}" for c in _rgb(color))


def brand_palette(value: str | None) -> dict[str, str]:
    """Colours derived from the merchant's one colour, each readable (WCAG AA, 4.5:1):

    accent: button background; on_accent: text on it (white or near black, whichever contrasts
    more); ink: the colour darkened until links and outlines on white reach 4.5:1.
    """
    accent = brand_color(value)
    on_accent = "#ffffff" if contrast(accent, "#ffffff") >= contrast(accent, "#111827") else "#111827"
    ink, factor = accent, 1.0
    while contrast(ink, "#ffffff") < 4.5 and factor > 0:
        factor -= 0.05
        ink = _darken(accent, max(factor, 0))
    return {"accent": accent, "on_accent": on_accent, "ink": ink}


def brand_version(value: str | None) -> str:
    """Cache-busting version of the per-merchant stylesheet: changes when the colour does."""
    return hashlib.sha256(brand_color(value).encode()).hexdigest()[:10]
