"""What shoppers see in their language and the merchant's colours: the page language, brand colours.

Amounts are parsed and formatted by payments.amounts.
"""

from __future__ import annotations

import hashlib
import re

from django.utils import translation

SHOPPER_LANGUAGES = ("en", "fr", "it", "es")
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
