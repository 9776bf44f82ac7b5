"""Field types of the v1 API (spec §6): metadata, URLs, addresses, country and language codes."""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

import pycountry
from django.core.validators import EmailValidator
from rest_framework import serializers

from payplug.api import StrictBooleanField, StrictCharField, StrictSerializer

COUNTRIES = frozenset(country.alpha_2 for country in pycountry.countries)
LANGUAGES = frozenset(lang.alpha_2 for lang in pycountry.languages if hasattr(lang, "alpha_2"))
E164 = re.compile(r"^\+[0-9]{8,15}$")


def metadata_problem(data: dict) -> str | None:
    """What is wrong with a metadata object, or None (spec §6.2)."""
    if len(data) > 20:
        return "must have at most 20 keys."
    for key, value in data.items():
        if not 1 <= len(key) <= 40:
            return "keys must be 1 to 40 characters long."
        if isinstance(value, (dict, list)):
            return f"{key}: nested objects and arrays are not allowed."
        if isinstance(value, str) and len(value) > 500:
            return f"{key}: string values are limited to 500 characters."
        if isinstance(value, float) and value != value:  # NaN cannot be stored or returned as JSON
            return f"{key}: must be a finite number."
        if isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**63:
            # MySQL's JSON would keep a larger integer only as an approximate float
            return f"{key}: integers must fit in 64 bits."
    return None


class MetadataField(serializers.Field):
    """Flat JSON object: ≤ 20 keys of 1-40 chars; values string ≤ 500, number, boolean or null."""

    default_error_messages = {"invalid": "must be a JSON object."}

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            self.fail("invalid")
        problem = metadata_problem(data)
        if problem:
            raise serializers.ValidationError(problem)
        return data

    def to_representation(self, value):
        return value


class JSONObjectField(serializers.Field):
    default_error_messages = {"invalid": "must be a JSON object."}

    def __init__(self, *args, max_bytes=16 * 1024, **kwargs):
        self.max_bytes = max_bytes
        super().__init__(*args, **kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            self.fail("invalid")
        if len(json.dumps(data).encode()) > self.max_bytes:
            raise serializers.ValidationError(f"must be at most {self.max_bytes // 1024} KiB.")
        return data

    def to_representation(self, value):
        return value


def url_problem(value: str, https_only: bool = False) -> str | None:
    """What is wrong with an absolute http(s) URL, or None (spec §6.3)."""
    try:
        parts = urlsplit(value)
    except ValueError:
        return "must be an absolute http or https URL."
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "must be an absolute http or https URL."
    if parts.username or parts.password:
        return "must not contain credentials."
    if any(ch.isspace() for ch in value):
        return "must not contain spaces."
    if https_only and parts.scheme != "https":
        return "must be an https URL in live mode."
    return None


class HttpUrlField(StrictCharField):
    """Absolute http(s) URL, ≤ 2048 characters, no credentials (spec §6.3)."""

    def __init__(self, *args, https_only_in_live=False, **kwargs):
        self.https_only_in_live = https_only_in_live
        kwargs.setdefault("max_length", 2048)
        super().__init__(*args, **kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        problem = url_problem(value, https_only=self.https_only_in_live and bool(self.context.get("is_live")))
        if problem:
            raise serializers.ValidationError(problem)
        return value


class OptionalString(StrictCharField):
    """Optional string: null and "" are both stored as null (spec §6.4)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_null", True)
        kwargs.setdefault("allow_blank", True)
        super().__init__(*args, **kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        return value or None

    def run_validation(self, data=serializers.empty):
        if isinstance(data, str) and data.strip() == "":
            return None
        return super().run_validation(data)


class CheckedString(OptionalString):
    """An optional string that `accepts` must approve once trimmed; `message` otherwise."""

    message = "is invalid."

    def accepts(self, value: str) -> bool:
        raise NotImplementedError

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if value is not None and not self.accepts(value):
            raise serializers.ValidationError(self.message)
        return value


class CountryField(CheckedString):
    message = "must be an ISO 3166-1 alpha-2 code."

    def accepts(self, value: str) -> bool:
        return value in COUNTRIES


class LanguageField(CheckedString):
    message = "must be an ISO 639-1 code in lower case."

    def accepts(self, value: str) -> bool:
        return value in LANGUAGES


class PhoneField(CheckedString):
    message = "must be an E.164 number ('+' then 8 to 15 digits)."

    def accepts(self, value: str) -> bool:
        return bool(E164.match(value))


class EmailField(StrictCharField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("max_length", 255)
        super().__init__(*args, **kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        try:
            EmailValidator()(value)
        except Exception as exc:
            raise serializers.ValidationError("must be a valid email address.") from exc
        return value


class ChoiceString(CheckedString):
    def __init__(self, choices, *args, **kwargs):
        self.allowed = tuple(choices)
        self.message = "must be one of: " + ", ".join(self.allowed) + "."
        super().__init__(*args, **kwargs)

    def accepts(self, value: str) -> bool:
        return value in self.allowed


class AddressSerializer(StrictSerializer):
    title = ChoiceString(["mr", "mrs", "miss"])
    first_name = OptionalString(max_length=100)
    last_name = OptionalString(max_length=100)
    email = OptionalString(max_length=255)
    company_name = OptionalString(max_length=100)
    mobile_phone_number = PhoneField()
    landline_phone_number = PhoneField()
    address1 = OptionalString(max_length=255)
    address2 = OptionalString(max_length=255)
    postcode = OptionalString(max_length=16)
    city = OptionalString(max_length=100)
    state = OptionalString(max_length=100)
    country = CountryField()
    language = LanguageField()

    def __init__(self, *args, required_names=False, **kwargs):
        self.required_names = required_names
        super().__init__(*args, **kwargs)

    def validate(self, attrs):
        errors = {}
        if attrs.get("email") is not None:
            try:
                EmailValidator()(attrs["email"])
            except Exception:
                errors["email"] = "must be a valid email address."
        if self.required_names:
            for name in ("first_name", "last_name", "email"):
                if not attrs.get(name):
                    errors.setdefault(name, "is required.")
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class ShippingSerializer(AddressSerializer):
    delivery_type = ChoiceString(
        ["BILLING", "VERIFIED", "NEW", "SHIP_TO_STORE", "DIGITAL_GOODS", "TRAVEL_OR_EVENT", "OTHER"]
    )


__all__ = [
    "AddressSerializer",
    "CheckedString",
    "ChoiceString",
    "CountryField",
    "EmailField",
    "HttpUrlField",
    "JSONObjectField",
    "MetadataField",
    "OptionalString",
    "ShippingSerializer",
    "StrictBooleanField",
    "metadata_problem",
    "url_problem",
]
