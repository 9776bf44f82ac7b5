"""What people see in their language: the shopper's page language, the merchant's brand colours,
and the words the dashboard uses for stored codes (attempt results, sources, failure codes).

Amounts are parsed and formatted by payments.amounts.
"""

from __future__ import annotations

import hashlib
import re

from django.utils import translation
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

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


# --- stored codes in the merchant's words --------------------------------------------------------

# PaymentAttempt.Status values: what happened to one try with one card.
ATTEMPT_RESULTS = {
    "awaiting_3ds": _("Waiting for 3-D Secure"),
    "processing": _("Processing"),
    "unknown": _("Waiting for the bank's answer"),
    "authorized": _("Authorised"),
    "failed": _("Failed"),
    "voided": _("Cancelled, not charged"),
    "captured": _("Paid"),
}
# Payment.source values: where the payment was created.
SOURCES = {
    "api": _("API (your website or app)"),
    "link": _("Payment link"),
    "button": _("Pay button"),
    "dashboard": _("Dashboard"),
    "demo": _("Demo data"),
}
# Payment and attempt failure codes (spec §7.4), as the merchant reads them.
FAILURES = {
    "card_declined": _("Card declined"),
    "processing_error": _("Technical error at the bank"),
    "3ds_declined": _("3-D Secure authentication failed"),
    "incorrect_number": _("Incorrect card number"),
    "fraud_suspected": _("Refused by the fraud checks"),
    "method_unsupported": _("Card brand not accepted"),
    "timeout": _("Not completed in time"),
    "aborted": _("Cancelled"),
    "insufficient_funds": _("Insufficient funds"),
    "card_scheme_mismatch": _("Card brand does not match the number"),
    "card_expiration_date_prior_to_last_installment_date": _("The card expires before the last instalment"),
}
# Words of the acquirer's English message that say why a card was declined.
DECLINE_REASONS = {
    "insufficient funds": _("insufficient funds"),
    "lost or stolen": _("card reported lost or stolen"),
    "expired": _("card expired"),
    "security code": _("wrong security code"),
    "expiry date": _("wrong expiry date"),
    "spending limit": _("spending limit reached"),
    "suspected fraud": _("suspected fraud"),
    "restricted": _("card restricted"),
    "requires 3-d secure": _("3-D Secure required"),
}


def _humanize(code: str) -> str:
    """Last resort for a code we have no words for: "some_code" -> "Some code"."""
    text = str(code or "").replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def attempt_result(status: str | None) -> str:
    return ATTEMPT_RESULTS.get(status or "") or _humanize(status or "")


def source_label(source: str | None) -> str:
    return SOURCES.get(source or "") or _humanize(source or "")


def failure_label(code: str | None, message: str | None = "") -> str:
    """The failure in the merchant's words, with the decline reason when the message gives one:
    "Card declined (insufficient funds)"."""
    if not code:
        return ""
    label = FAILURES.get(code) or _humanize(code)
    lowered = (message or "").lower()
    for words, reason in DECLINE_REASONS.items():
        if words in lowered:
            return f"{label} ({reason})"
    return str(label)


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


def readable_text_on(background: str) -> str:
    """White or near black text, whichever contrasts more; pure black when neither reaches 4.5:1
    (mid colours such as #ff0000 or #7f7f7f: black or white on any colour reaches at least 4.58:1)."""
    background = brand_color(background)
    light, dark = contrast(background, "#ffffff"), contrast(background, "#111827")
    if max(light, dark) >= 4.5:
        return "#ffffff" if light >= dark else "#111827"
    return "#ffffff" if light >= contrast(background, "#000000") else "#000000"


def brand_palette(value: str | None) -> dict[str, str]:
    """Colours derived from the merchant's one colour, each readable (WCAG AA, 4.5:1):

    accent: button background; on_accent: text on it (white or near black, whichever contrasts
    more); ink: the colour darkened until links and outlines on white reach 4.5:1.
    """
    accent = brand_color(value)
    on_accent = readable_text_on(accent)
    ink, factor = accent, 1.0
    while contrast(ink, "#ffffff") < 4.5 and factor > 0:
        factor -= 0.05
        ink = _darken(accent, max(factor, 0))
    return {"accent": accent, "on_accent": on_accent, "ink": ink}


def brand_version(value: str | None) -> str:
    """Cache-busting version of the per-merchant stylesheet: changes when the colour does."""
    return hashlib.sha256(brand_color(value).encode()).hexdigest()[:10]


def interval_text(interval: str, count: int) -> str:
    """'every month', 'every 3 months', 'every year' in the active language (a subscription's rhythm)."""
    if interval == "year":
        if count == 1:
            return gettext("every year")
        return ngettext("every %(n)d year", "every %(n)d years", count) % {"n": count}
    if count == 1:
        return gettext("every month")
    return ngettext("every %(n)d month", "every %(n)d months", count) % {"n": count}
