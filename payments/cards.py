"""Card number checks shared by the hosted page and the services: Luhn, brand, expiry."""

from __future__ import annotations

import re

from django.utils import timezone

from payplug.logging import luhn_valid

# Accepted for every merchant. American Express only for a merchant who turned it on in Settings
# (Merchant.accepts_american_express): see accepted_brands().
ACCEPTED_BRANDS = ("Visa", "Mastercard", "Maestro", "CB")
AMERICAN_EXPRESS = "American Express"

_BRANDS = [
    # (brand, prefix regex, lengths)
    ("American Express", re.compile(r"^3[47]"), (15,)),
    ("Diners Club", re.compile(r"^3(?:0[0-5]|[689])"), (14, 16, 19)),
    ("JCB", re.compile(r"^35(?:2[89]|[3-8])"), (16, 17, 18, 19)),
    ("Discover", re.compile(r"^6(?:011|5|4[4-9])"), (16, 19)),
    ("Visa", re.compile(r"^4"), (13, 16, 19)),
    ("Mastercard", re.compile(r"^(?:5[1-5]|2(?:2[2-9][1-9]|2[3-9]\d|[3-6]\d\d|7[01]\d|720))"), (16,)),
    ("Maestro", re.compile(r"^(?:5[06-9]|6\d)"), tuple(range(12, 20))),
]


def normalize_number(raw: str) -> str:
    return re.sub(r"[\s-]", "", raw or "")


def detect_brand(number: str) -> str | None:
    for brand, pattern, _lengths in _BRANDS:
        if pattern.match(number):
            return brand
    return None


def accepted_brands(merchant=None) -> tuple[str, ...]:
    """The brands this merchant accepts. Without a merchant: the brands every merchant accepts."""
    if merchant is not None and merchant.accepts_american_express:
        return (*ACCEPTED_BRANDS, AMERICAN_EXPRESS)
    return ACCEPTED_BRANDS


def is_accepted(brand: str | None, merchant=None) -> bool:
    """Whether `merchant` takes cards of `brand`. Pass the merchant: without one, American Express,
    which each merchant enables on its own, is refused."""
    return brand in accepted_brands(merchant)


def number_error(number: str) -> str | None:
    """Why a number cannot be a card (form error), or None."""
    if not number.isdigit():
        return "digits"
    if not 12 <= len(number) <= 19:
        return "length"
    if not luhn_valid(number):
        return "luhn"
    brand = detect_brand(number)
    if brand:
        lengths = next(lengths for name, _pattern, lengths in _BRANDS if name == brand)
        if len(number) not in lengths:
            return "length"
    return None


def is_expired(exp_month: int, exp_year: int, today=None) -> bool:
    today = today or timezone.now().date()
    return (exp_year, exp_month) < (today.year, today.month)


def parse_expiry(text: str) -> tuple[int, int] | None:
    """'12/29', '12 / 2029', '1229' -> (12, 2029)."""
    match = re.fullmatch(r"\s*(\d{1,2})\s*/?\s*(\d{2}|\d{4})\s*", text or "")
    if not match:
        return None
    month, year = int(match.group(1)), int(match.group(2))
    if year < 100:
        year += 2000
    if not 1 <= month <= 12:
        return None
    return month, year


# valid_cvc's brand when the number is not known (not a valid card number): 3 or 4 digits.
ANY_BRAND = "*"


def cvc_length(brand: str | None) -> int:
    """Digits of the security code: 4 (on the front) for American Express, 3 (on the back) otherwise."""
    return 4 if brand == AMERICAN_EXPRESS else 3


def valid_cvc(cvc: str, brand: str | None) -> bool:
    if brand == ANY_BRAND:
        return bool(re.fullmatch(r"\d{3,4}", cvc or ""))
    return bool(re.fullmatch(rf"\d{{{cvc_length(brand)}}}", cvc or ""))
