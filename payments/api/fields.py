"""Field types of the v1 API (spec §6): metadata, URLs, addresses, country and language codes."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pycountry
from django.core.validators import EmailValidator
from rest_framework import serializers

from payplug.api import StrictBooleanField, StrictCharField, StrictSerializer

COUNTRIES = frozenset(country.alpha_2 for country in pycountry.countries)
LANGUAGES = frozenset(lang.alpha_2 for lang in pycountry.languages if hasattr(lang, "alpha_2"))
E164 = re.compile(r"^\+[0-9]{8,15}$")


class MetadataField(serializers.Field):
    """Flat JSON object: ≤ 20 keys of 1-40 chars; values string ≤ 500, number, boolean or null."""

    default_error_messages = {"invalid": "must be a JSON object."}

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            self.fail("invalid")
        if len(data) > 20:
            raise serializers.ValidationError("must have at most 20 keys.")
        for key, value in data.items():
            if not 1 <= len(key) <= 40:
                raise serializers.ValidationError("keys must be 1 to 40 characters long.")
            if isinstance(value, (dict, list)):
                raise serializers.ValidationError(f"{key}: nested objects and arrays are not allowed.")
            if isinstance(value, str) and len(value) > 500:
                raise serializers.ValidationError(f"{key}: string values are limited to 500 characters.")
            if isinstance(value, float) and value != value:  # NaN cannot be stored or returned as JSON
                raise serializers.ValidationError(f"{key}: must be a finite number.")
            if isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**63:
                # MySQL's JSON would keep a larger integer only as an approximate float
                raise serializers.ValidationError(f"{key}: integers must fit in 64 bits.")
        return data

    def to_representation(self, value):
        return value


class JSONObjectField(serializers.Field):
    default_error_messages = {"invalid": "must be a JSON object."}

    def __init__(self, *args, max_bytes=16 * 1024, **kwargs):
        self.max_bytes = max_bytes
        super().__init__(*args, **kwargs)

    def to_internal_value(self, data):
        import json

        if not isinstance(data, dict):
            self.fail("invalid")
        if len(json.dumps(data).encode()) > self.max_bytes:
            raise serializers.ValidationError(f"must be at most {self.max_bytes // 1024} KiB.")
        return data

    def to_representation(self, value):
        return value


class HttpUrlField(StrictCharField):
    """Absolute http(s) URL, ≤ 2048 characters, no credentials (spec §6.3)."""

    def __init__(self, *args, https_only_in_live=False, **kwargs):
        self.https_only_in_live = https_only_in_live
        kwargs.setdefault("max_length", 2048)
        super().__init__(*args, **kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        try:
            parts = urlsplit(value)
        except ValueError as exc:
            raise serializers.ValidationError("must be an absolute http or https URL.") from exc
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise serializers.ValidationError("must be an absolute http or https URL.")
        if parts.username or parts.password:
            raise serializers.ValidationError("must not contain credentials.")
        if any(ch.isspace() for ch in value):
            raise serializers.ValidationError("must not contain spaces.")
        if self.https_only_in_live and self.context.get("is_live") and parts.scheme != "https":
            raise serializers.ValidationError("must be an https URL in live mode.")
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


class CountryField(OptionalString):
    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if value is not None and value not in COUNTRIES:
            raise serializers.ValidationError("must be an ISO 3166-1 alpha-2 code.")
        return value


class LanguageField(OptionalString):
    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if value is not None and value not in LANGUAGES:
            raise serializers.ValidationError("must be an ISO 639-1 code in lower case.")
        return value


class PhoneField(OptionalString):
    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if value is not None and not E164.match(value):
            raise serializers.ValidationError("must be an E.164 number ('+' then 8 to 15 digits).")
        return value


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


class ChoiceString(OptionalString):
    def __init__(self, choices, *args, **kwargs):
        self.allowed = tuple(choices)
        super().__init__(*args, **kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if value is not None and value not in self.allowed:
            raise serializers.ValidationError("must be one of: " + ", ".join(self.allowed) + ".")
        return value


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
    "ChoiceString",
    "CountryField",
    "EmailField",
    "HttpUrlField",
    "JSONObjectField",
    "MetadataField",
    "OptionalString",
    "ShippingSerializer",
    "StrictBooleanField",
]
