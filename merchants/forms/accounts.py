"""Forms of the account pages: sign-up, login, two-factor, onboarding and the organisation profile.

Forms only parse and validate; views hand the cleaned data to a service (merchants.services, or
merchants.services.accounts for the user's own account). No form here saves a Merchant itself.
"""

from __future__ import annotations

import re
import secrets

from django import forms
from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm
from django.core.cache import cache
from django.db import transaction
from django.template.loader import render_to_string
from django.utils.translation import get_language_info
from django.utils.translation import gettext_lazy as _
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from merchants import validators
from merchants.models import Merchant, User
from payplug import dates

PASSWORD_RESET_COOLDOWN_SECONDS = 120
INVALID_CODE = _("This code is not valid. Check the time on your phone and try the next code.")
TOO_MANY_CODES = _("Too many wrong codes: wait a few seconds, then try again.")


def _attrs(autocomplete: str, **extra) -> dict:
    return {"autocomplete": autocomplete, **extra}


class SignupForm(forms.Form):
    email = forms.EmailField(
        label=_("Email"),
        max_length=254,
        widget=forms.EmailInput(attrs=_attrs("email", autofocus=True, spellcheck="false")),
    )
    full_name = forms.CharField(label=_("Full name"), max_length=150, widget=forms.TextInput(attrs=_attrs("name")))
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs=_attrs("new-password")),
        help_text=_("At least 10 characters; not only digits, not a common password."),
    )

    def clean_email(self) -> str:
        # Whether the address already has an account is not said here (nor anywhere in the
        # answer): the view sends its owner an email instead.
        return User.objects.normalize_email(self.cleaned_data["email"]).strip().lower()

    def clean_full_name(self) -> str:
        return " ".join(self.cleaned_data["full_name"].split())

    def clean(self):
        cleaned = super().clean()
        password = cleaned.get("password")
        if password:
            # Validate against the would-be user so that "password similar to your email" is caught.
            candidate = User(email=cleaned.get("email", ""), full_name=cleaned.get("full_name", ""))
            try:
                password_validation.validate_password(password, candidate)
            except forms.ValidationError as error:
                self.add_error("password", error)
        return cleaned


class LoginForm(AuthenticationForm):
    """Email and password. The email field is named `username`, the field django-axes watches."""

    username = forms.EmailField(
        label=_("Email"),
        max_length=254,
        widget=forms.EmailInput(attrs=_attrs("email", autofocus=True, spellcheck="false")),
    )
    password = forms.CharField(
        label=_("Password"), strip=False, widget=forms.PasswordInput(attrs=_attrs("current-password"))
    )

    error_messages = {
        "invalid_login": _("The email or the password is not correct."),
        "inactive": _("This account is disabled."),
    }

    def clean_username(self) -> str:
        # One spelling per person, so that lockouts count "Alice@x" and "alice@x" together.
        return self.cleaned_data["username"].strip().lower()


class OtpCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=16,
        widget=forms.TextInput(attrs=_attrs("one-time-code", autofocus=True, spellcheck="false")),
        help_text=_("The 6-digit code from your authenticator app, or one of your backup codes."),
    )

    def clean_code(self) -> str:
        return normalise_code(self.cleaned_data["code"])


def normalise_code(value: str) -> str:
    return re.sub(r"[\s-]", "", value).lower()


def verify_second_factor(user: User, code: str) -> tuple[Device | None, bool]:
    """(the confirmed device that accepts `code`, or None; whether a device refused to try).

    Six digits go to the authenticator app, anything else to the backup codes, so that a
    mistyped code only counts against one device's throttle. django-otp throttles each device
    with an exponential back-off and refuses a TOTP code that was already used.
    """
    code = normalise_code(code)
    model = TOTPDevice if code.isdigit() and len(code) == 6 else StaticDevice
    throttled = False
    with transaction.atomic():
        for device in model.objects.devices_for_user(user, confirmed=True).select_for_update().order_by("pk"):
            allowed, _details = device.verify_is_allowed()
            if not allowed:
                throttled = True
                continue
            if device.verify_token(code):
                return device, False
    return None, throttled


def _language_choices() -> list[tuple[str, str]]:
    # Each language in its own name ("Français", "Italiano"), as in the language switcher.
    return [(code, get_language_info(code)["name_local"].capitalize()) for code, _name in settings.LANGUAGES]


class LanguageForm(forms.Form):
    """The user's language: the dashboard's pages and the emails they receive."""

    language = forms.ChoiceField(
        label=_("Language"),
        choices=_language_choices,
        help_text=_("The language of the dashboard and of the emails we send you."),
    )


class EnableTwoFactorForm(forms.Form):
    code = forms.CharField(
        label=_("Code from the app"),
        max_length=10,
        widget=forms.TextInput(attrs=_attrs("one-time-code", inputmode="numeric", spellcheck="false")),
    )

    def clean_code(self) -> str:
        code = normalise_code(self.cleaned_data["code"])
        if not (code.isdigit() and len(code) == 6):
            raise forms.ValidationError(_("Enter the 6 digits shown in your app."), code="format")
        return code


class DisableTwoFactorForm(forms.Form):
    """Turning 2FA off needs proof of presence: a current code or the account password."""

    code = forms.CharField(
        label=_("A current code or a backup code"),
        required=False,
        max_length=16,
        widget=forms.TextInput(attrs=_attrs("one-time-code", spellcheck="false")),
    )
    password = forms.CharField(
        label=_("Or your password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs=_attrs("current-password")),
    )

    def __init__(self, *args, user: User, **kwargs):
        self.user = user
        self.device = None
        super().__init__(*args, **kwargs)

    def clean(self):
        cleaned = super().clean()
        code = normalise_code(cleaned.get("code") or "")
        password = cleaned.get("password") or ""
        if not code and not password:
            raise forms.ValidationError(_("Enter a code or your password."), code="required")
        if code:
            self.device, throttled = verify_second_factor(self.user, code)
            if self.device is None:
                message = TOO_MANY_CODES if throttled else INVALID_CODE
                self.add_error("code", forms.ValidationError(message, code="invalid"))
        elif not self.user.check_password(password):
            self.add_error("password", forms.ValidationError(_("The password is not correct."), code="invalid"))
        return cleaned


class OrganisationForm(forms.Form):
    name = forms.CharField(
        label=_("Organisation name"),
        max_length=120,
        widget=forms.TextInput(attrs=_attrs("organization", autofocus=True)),
        help_text=_("The name of your shop, company or association. You can change it later."),
    )

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise forms.ValidationError(_("Enter a name."), code="required")
        return name


class OrganisationProfileForm(forms.Form):
    """The organisation profile needed for live mode. Every value is normalised before saving."""

    name = forms.CharField(
        label=_("Organisation name"), max_length=120, widget=forms.TextInput(attrs=_attrs("organization"))
    )
    legal_form = forms.ChoiceField(label=_("Legal form"), choices=[("", _("Choose…")), *Merchant.LegalForm.choices])
    country = forms.ChoiceField(
        label=_("Country"),
        choices=[("", _("Choose…")), *validators.COUNTRY_CHOICES],
        widget=forms.Select(attrs=_attrs("country")),
        help_text=_("Where the organisation is registered."),
    )
    registration_number = forms.CharField(
        label=_("Registration number"),
        max_length=60,
        widget=forms.TextInput(attrs=_attrs("off", spellcheck="false")),
        help_text=_(
            "France: SIREN or SIRET. Italy: partita IVA or codice fiscale. Spain: NIF, CIF or NIE. "
            "Belgium: enterprise number. Germany: Handelsregisternummer or Steuernummer."
        ),
    )
    vat_number = forms.CharField(
        label=_("VAT number"),
        max_length=30,
        required=False,
        widget=forms.TextInput(attrs=_attrs("off", spellcheck="false")),
        help_text=_("Required for companies, e.g. FR40303265045."),
    )
    iban = forms.CharField(
        label=_("Payout IBAN"),
        max_length=50,
        widget=forms.TextInput(attrs=_attrs("off", spellcheck="false")),
        help_text=_("The bank account that receives your payouts (SEPA zone)."),
    )
    website = forms.URLField(
        label=_("Website"),
        max_length=200,
        assume_scheme="https",
        validators=[validators.validate_https_url],
        widget=forms.URLInput(attrs=_attrs("url", placeholder="https://")),
    )
    support_email = forms.EmailField(
        label=_("Support email"),
        max_length=254,
        widget=forms.EmailInput(attrs=_attrs("email")),
        help_text=_("Shown to shoppers on receipts and payment pages."),
    )
    statement_descriptor = forms.CharField(
        label=_("Statement descriptor"),
        max_length=40,
        widget=forms.TextInput(attrs=_attrs("off")),
        help_text=_(
            "What shoppers see on their bank statement: 5 to 22 Latin letters, digits, spaces, dots or hyphens."
        ),
    )
    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        choices=dates.time_zone_choices,
        initial=dates.DEFAULT_TIME_ZONE,
        required=False,
        help_text=_("Every date of the dashboard, its exports and its emails is shown in this time zone."),
    )

    FIELDS = (
        "name",
        "legal_form",
        "country",
        "registration_number",
        "vat_number",
        "iban",
        "website",
        "support_email",
        "statement_descriptor",
        "time_zone",
    )

    @classmethod
    def initial_for(cls, merchant: Merchant) -> dict:
        return {name: getattr(merchant, name) for name in cls.FIELDS}

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        if not name:
            raise forms.ValidationError(_("Enter a name."), code="required")
        return name

    def clean_iban(self) -> str:
        iban, bic = validators.clean_iban(self.cleaned_data["iban"])
        self.cleaned_data["bic"] = bic
        return iban

    def clean_support_email(self) -> str:
        return self.cleaned_data["support_email"].strip().lower()

    def clean_statement_descriptor(self) -> str:
        return validators.clean_statement_descriptor(self.cleaned_data["statement_descriptor"])

    def clean_time_zone(self) -> str:
        return self.cleaned_data["time_zone"] or dates.DEFAULT_TIME_ZONE

    def clean(self):
        cleaned = super().clean()
        country = cleaned.get("country")
        if not country:
            # The country field has its own error; numbers cannot be checked without it.
            return cleaned
        if cleaned.get("registration_number"):
            try:
                cleaned["registration_number"] = validators.clean_registration_number(
                    country, cleaned["registration_number"]
                )
            except forms.ValidationError as error:
                self.add_error("registration_number", error)
            else:
                if len(cleaned["registration_number"]) > Merchant._meta.get_field("registration_number").max_length:
                    self.add_error("registration_number", _("This registration number is too long."))
        vat_number = (cleaned.get("vat_number") or "").strip()
        if vat_number:
            try:
                cleaned["vat_number"] = validators.clean_vat_number(country, vat_number)
            except forms.ValidationError as error:
                self.add_error("vat_number", error)
        elif cleaned.get("legal_form") == Merchant.LegalForm.COMPANY:
            self.add_error("vat_number", forms.ValidationError(_("A company needs a VAT number."), code="required"))
        return cleaned

    def changes(self) -> dict:
        """The cleaned values keyed by Merchant field, for merchants.services.organisations.update_profile."""
        changes = {name: self.cleaned_data[name] for name in self.FIELDS}
        changes["bic"] = self.cleaned_data.get("bic", "")
        return changes


class LogoInput(forms.ClearableFileInput):
    """The logo field: a preview of the current logo, a file input and a labelled "Remove the logo"
    checkbox (templates/widgets/logo_input.html), instead of Django's "Currently: … Clear Change:"."""

    template_name = "widgets/logo_input.html"

    def render(self, name, value, attrs=None, renderer=None):
        # The project's template engine (templates/ and the i18n tags), not the form renderer's.
        return render_to_string(self.template_name, self.get_context(name, value, attrs))  # a SafeString


class BrandingForm(forms.Form):
    brand_name = forms.CharField(
        label=_("Name shown to shoppers"),
        max_length=60,
        required=False,
        widget=forms.TextInput(attrs=_attrs("organization")),
        help_text=_("Leave empty to show the organisation name."),
    )
    brand_color = forms.CharField(
        label=_("Brand colour"),
        max_length=7,
        widget=forms.TextInput(attrs=_attrs("off", type="color")),
        help_text=_("Used for buttons on your payment pages (#rrggbb)."),
    )
    logo = forms.ImageField(
        label=_("Logo"),
        required=False,
        widget=LogoInput(attrs={"accept": "image/png,image/jpeg"}),
        help_text=_("PNG or JPEG, 512 KB and 4096 by 4096 pixels at most."),
    )

    def clean_brand_name(self) -> str:
        return " ".join(self.cleaned_data["brand_name"].split())

    def clean_brand_color(self) -> str:
        return validators.clean_brand_color(self.cleaned_data["brand_color"])

    def clean_logo(self):
        logo = self.cleaned_data.get("logo")
        # None: nothing uploaded; False: "clear" ticked; a stored FieldFile: unchanged.
        if logo and hasattr(logo, "content_type"):
            validators.validate_logo(logo)
            extension = "png" if logo.image.format == "PNG" else "jpg"
            # Never keep the uploader's file name: it is user input and ends up in a URL.
            logo.name = f"{secrets.token_hex(8)}.{extension}"
        return logo

    def changes(self) -> dict:
        changes = {"brand_name": self.cleaned_data["brand_name"], "brand_color": self.cleaned_data["brand_color"]}
        logo = self.cleaned_data.get("logo")
        if logo is False:
            changes["logo"] = ""
        elif logo and hasattr(logo, "content_type"):
            changes["logo"] = logo
        return changes


class PaymentMethodsForm(forms.Form):
    """The card brands the merchant takes besides those every merchant takes (Visa, Mastercard,
    Maestro, CB)."""

    FIELDS = ("accepts_american_express",)

    accepts_american_express = forms.BooleanField(
        label=_("Accept American Express"),
        required=False,
        help_text=_(
            "Your payment pages then take American Express cards, whose security code has 4 digits, "
            "on the front. Otherwise they are refused as a card brand that is not accepted."
        ),
    )

    @classmethod
    def initial_for(cls, merchant: Merchant) -> dict:
        return {name: getattr(merchant, name) for name in cls.FIELDS}

    def changes(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.FIELDS}


class ThrottledPasswordResetForm(PasswordResetForm):
    """Django's reset form, sending at most one email per account every two minutes.

    The page answers the same either way, so neither the throttle nor an unknown address is
    revealed to whoever fills the form.
    """

    def get_users(self, email):
        # Emails are stored in lower case; on MySQL's binary collation iexact would be case-sensitive.
        for user in super().get_users(email.strip().lower()):
            if cache.add(f"password-reset-sent:{user.pk}", 1, PASSWORD_RESET_COOLDOWN_SECONDS):
                yield user
