"""Validation of an organisation's profile: registration and VAT numbers, IBAN, descriptor.

Each `clean_*` helper returns the normalised value we store (compact numbers, upper-case
prefixes) or raises a Django `ValidationError` whose message is safe to show next to the field.
The national rules come from python-stdnum and schwifty; we only choose which of their
validators apply to each country.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from schwifty import IBAN
from schwifty.exceptions import SchwiftyException
from stdnum.be import vat as be_vat
from stdnum.de import handelsregisternummer, stnr
from stdnum.es import nif as es_nif
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.fr import siren, siret
from stdnum.it import codicefiscale, iva
from stdnum.util import clean as stdnum_clean

# Countries where merchants may be established. Adding one means adding its rules below.
COUNTRY_CHOICES = [
    ("FR", _("France")),
    ("IT", _("Italy")),
    ("ES", _("Spain")),
    ("BE", _("Belgium")),
    ("DE", _("Germany")),
]
SUPPORTED_COUNTRIES = frozenset(code for code, _label in COUNTRY_CHOICES)

# For each country, the identifiers accepted as a registration number, tried in order.
_REGISTRATION_VALIDATORS: dict[str, tuple[Callable[[str], str], ...]] = {
    "FR": (siren.validate, siret.validate),
    # A codice fiscale of 11 digits is the partita IVA of a company; 16 characters, a person's.
    "IT": (iva.validate, codicefiscale.validate),
    # NIF covers the DNI of residents, the NIE of foreigners and the CIF of legal entities.
    "ES": (es_nif.validate,),
    # The enterprise number (numéro d'entreprise / ondernemingsnummer) is the Belgian VAT number.
    "BE": (be_vat.validate,),
    "DE": (handelsregisternummer.validate, stnr.validate),
}

_REGISTRATION_ERRORS = {
    "FR": _("Enter a valid SIREN (9 digits) or SIRET (14 digits)."),
    "IT": _("Enter a valid partita IVA or codice fiscale."),
    "ES": _("Enter a valid NIF, CIF or NIE."),
    "BE": _("Enter a valid Belgian enterprise number."),
    "DE": _("Enter a valid Handelsregisternummer (e.g. “Berlin HRB 12345”) or Steuernummer."),
}

DESCRIPTOR_MIN_LENGTH = 5
DESCRIPTOR_MAX_LENGTH = 22
_DESCRIPTOR_ALLOWED = re.compile(r"^[A-Za-z0-9 .\-]+$")
_HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")

LOGO_MAX_BYTES = 512 * 1024
LOGO_MAX_PIXELS = 4096
LOGO_FORMATS = frozenset({"PNG", "JPEG"})


def _unsupported_country() -> ValidationError:
    return ValidationError(_("Choose a supported country first."), code="country")


def clean_registration_number(country: str, value: str) -> str:
    """The compact registration number, validated with the rules of `country`."""
    validators = _REGISTRATION_VALIDATORS.get(country)
    if validators is None:
        raise _unsupported_country()
    value = value.strip()
    for validate in validators:
        try:
            return validate(value)
        except StdnumError:
            continue
    raise ValidationError(_REGISTRATION_ERRORS[country], code="invalid")


def clean_vat_number(country: str, value: str) -> str:
    """The compact EU VAT number with its country prefix; it must belong to `country`."""
    if country not in SUPPORTED_COUNTRIES:
        raise _unsupported_country()
    number = stdnum_clean(value, " -./,").upper().strip()
    if number[:2].isdigit():
        # Accept the national part alone (what is printed on many invoices) and add the prefix.
        number = country + number
    if number[:2] != country:
        raise ValidationError(
            _("This VAT number is not from the country of the organisation (it must start with %(prefix)s).")
            % {"prefix": country},
            code="country",
        )
    try:
        return eu_vat.validate(number)
    except StdnumError:
        raise ValidationError(_("Enter a valid VAT number."), code="invalid") from None


def clean_iban(value: str) -> tuple[str, str]:
    """(compact IBAN, BIC or "") for a payout account in the SEPA zone."""
    try:
        iban = IBAN(value, validate_bban=True)
    except SchwiftyException:
        raise ValidationError(_("Enter a valid IBAN."), code="invalid") from None
    if not iban.in_sepa_zone:
        raise ValidationError(_("Payouts are made by SEPA transfer: use an account in the SEPA zone."), code="sepa")
    bic = iban.bic
    return iban.compact, str(bic) if bic else ""


def validate_https_url(value: str) -> None:
    if not value.lower().startswith("https://"):
        raise ValidationError(_("Enter an address that starts with https://."), code="https")


def clean_statement_descriptor(value: str) -> str:
    """What shoppers see on their card statement: 5-22 Latin letters, digits, spaces, dots, hyphens."""
    value = " ".join(value.split())
    if not DESCRIPTOR_MIN_LENGTH <= len(value) <= DESCRIPTOR_MAX_LENGTH:
        raise ValidationError(
            _("Use between %(min)d and %(max)d characters.")
            % {"min": DESCRIPTOR_MIN_LENGTH, "max": DESCRIPTOR_MAX_LENGTH},
            code="length",
        )
    if not _DESCRIPTOR_ALLOWED.match(value):
        raise ValidationError(
            _("Use only Latin letters without accents, digits, spaces, dots and hyphens."), code="characters"
        )
    if not any(char.isalpha() for char in value):
        raise ValidationError(_("Include at least one letter."), code="letter")
    return value


def clean_brand_color(value: str) -> str:
    value = value.strip()
    if not _HEX_COLOUR.match(value):
        raise ValidationError(_("Enter a colour as #rrggbb."), code="invalid")
    return value.lower()


def validate_logo(uploaded) -> None:
    """A PNG or JPEG image of at most 512 KB; `uploaded` comes from forms.ImageField."""
    if uploaded.size > LOGO_MAX_BYTES:
        raise ValidationError(_("The logo must be 512 KB or smaller."), code="size")
    image = getattr(uploaded, "image", None)
    # SVG is refused on purpose: it can carry scripts and would be served from our domain.
    if image is None or image.format not in LOGO_FORMATS:
        raise ValidationError(_("Upload a PNG or JPEG image."), code="format")
    width, height = image.size
    if width > LOGO_MAX_PIXELS or height > LOGO_MAX_PIXELS:
        raise ValidationError(
            _("The logo must be at most %(max)d pixels wide and high.") % {"max": LOGO_MAX_PIXELS}, code="dimensions"
        )
