"""Request validation of the v1 API. Responses are built by payments.representations."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import EmailValidator
from rest_framework import serializers

from payments.amounts import MAX_AMOUNT, MIN_AMOUNT
from payments.api.fields import (
    AddressSerializer,
    CheckedString,
    CountryField,
    EmailField,
    HttpUrlField,
    JSONObjectField,
    MetadataField,
    OptionalString,
    ShippingSerializer,
    metadata_problem,
    url_problem,
)
from payments.models import Card, Customer
from payplug.api import StrictBooleanField, StrictCharField, StrictIntegerField, StrictSerializer

NOT_OFFERED_METHODS = {
    "american_express",
    "oney_x3_with_fees",
    "oney_x4_with_fees",
    "oney_x3_without_fees",
    "oney_x4_without_fees",
    "bancontact",
    "apple_pay",
    "satispay",
    "scalapay",
    "ideal",
    "mybank",
}


class HostedPaymentSerializer(StrictSerializer):
    return_url = HttpUrlField(required=False)
    cancel_url = HttpUrlField(required=False, allow_null=True)
    sent_by = OptionalString()

    def validate_sent_by(self, value):
        if value is None:
            return None
        if value == "SMS":
            raise serializers.ValidationError("SMS is not offered; use EMAIL.")
        if value != "EMAIL":
            raise serializers.ValidationError("must be EMAIL or null.")
        return value


class PaymentCreateSerializer(StrictSerializer):
    amount = StrictIntegerField(required=False)
    authorized_amount = StrictIntegerField(required=False)
    auto_capture = StrictBooleanField(required=False)
    currency = StrictCharField()
    billing = AddressSerializer(required=False, required_names=True)
    customer = AddressSerializer(required=False, required_names=True)  # legacy alias of billing
    shipping = ShippingSerializer(required=False, allow_null=True)
    hosted_payment = HostedPaymentSerializer(required=False)
    notification_url = HttpUrlField(required=False, allow_null=True, https_only_in_live=True)
    metadata = MetadataField(required=False)
    description = StrictCharField(required=False, allow_null=True, allow_blank=True, max_length=255)
    save_card = StrictBooleanField(required=False)
    allow_save_card = StrictBooleanField(required=False)
    force_3ds = StrictBooleanField(required=False)
    payment_method = StrictCharField(required=False, allow_null=True)
    initiator = StrictCharField(required=False, allow_null=True)
    customer_id = StrictCharField(required=False, allow_null=True)
    payment_context = JSONObjectField(required=False, allow_null=True)
    integration = serializers.JSONField(required=False)

    def _bounds(self):
        merchant = self.context["merchant"]
        return max(MIN_AMOUNT, merchant.min_amount), min(MAX_AMOUNT, merchant.max_amount)

    def _check_amount(self, value):
        low, high = self._bounds()
        if not low <= value <= high:
            raise serializers.ValidationError(f"must be between {low} and {high} cents.")
        return value

    def validate_amount(self, value):
        return self._check_amount(value)

    def validate_authorized_amount(self, value):
        return self._check_amount(value)

    def validate_currency(self, value):
        if value != "EUR":
            raise serializers.ValidationError("only EUR is supported.")
        return value

    def validate_integration(self, value):
        raise serializers.ValidationError("integrated payments (hosted fields) are not offered.")

    def validate_initiator(self, value):
        if value is not None and value not in ("PAYER", "MERCHANT"):
            raise serializers.ValidationError("must be PAYER or MERCHANT.")
        return value

    def validate_payment_method(self, value):
        if value is None:
            return None
        if value in NOT_OFFERED_METHODS or not value.startswith("card_"):
            raise serializers.ValidationError("only saved cards (card_...) are accepted.")
        merchant, is_live = self.context["merchant"], self.context["is_live"]
        card = Card.objects.for_tenant(merchant, is_live).alive().filter(public_id=value).first()
        if card is None or card.is_expired():
            raise serializers.ValidationError("no usable saved card with this id.")
        return card

    def validate_customer_id(self, value):
        if value is None:
            return None
        merchant, is_live = self.context["merchant"], self.context["is_live"]
        customer = Customer.objects.for_tenant(merchant, is_live).alive().filter(public_id=value).first()
        if customer is None:
            raise serializers.ValidationError("no such customer.")
        return customer

    def validate(self, attrs):
        errors = {}
        has_amount, has_authorized = "amount" in attrs, "authorized_amount" in attrs
        if has_amount == has_authorized:
            errors["amount"] = "exactly one of amount and authorized_amount is required."
        if attrs.get("auto_capture") and not has_authorized:
            errors["auto_capture"] = "is only allowed with authorized_amount."
        if "billing" not in attrs and "customer" in attrs:
            attrs["billing"] = attrs["customer"]
        attrs.pop("customer", None)
        if "billing" not in attrs:
            errors["billing"] = "is required."
        method = attrs.get("payment_method")
        if method is not None:
            if not attrs.get("initiator"):
                errors["initiator"] = "is required with payment_method."
            for name in ("save_card", "allow_save_card"):
                if attrs.get(name):
                    errors[name] = "is not allowed with payment_method."
        else:
            if attrs.get("initiator") == "MERCHANT":
                errors["initiator"] = "MERCHANT needs a saved card in payment_method."
            if not (attrs.get("hosted_payment") or {}).get("return_url"):
                errors["hosted_payment"] = {"return_url": "is required."}
        if attrs.get("save_card") and attrs.get("allow_save_card"):
            errors["allow_save_card"] = "is not allowed together with save_card."
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class PaymentUpdateSerializer(StrictSerializer):
    abort = StrictBooleanField(required=False)
    aborted = StrictBooleanField(required=False)
    captured = StrictBooleanField(required=False)

    def validate(self, attrs):
        actions = [name for name, value in attrs.items() if value is True]
        if len(attrs) != 1 or len(actions) != 1:
            raise serializers.ValidationError(
                {"non_field_errors": 'the body must hold exactly one action: {"abort": true} or {"captured": true}.'}
            )
        return {"action": "capture" if actions[0] == "captured" else "abort"}


class RefundCreateSerializer(StrictSerializer):
    amount = StrictIntegerField(required=False)
    metadata = MetadataField(required=False)

    def validate_amount(self, value):
        if value <= 0:
            raise serializers.ValidationError("must be a positive integer (cents).")
        return value


class CustomerSerializer(StrictSerializer):
    email = EmailField()
    first_name = OptionalString(max_length=100)
    last_name = OptionalString(max_length=100)
    address1 = OptionalString(max_length=255)
    address2 = OptionalString(max_length=255)
    postcode = OptionalString(max_length=16)
    city = OptionalString(max_length=100)
    country = CountryField()
    metadata = MetadataField(required=False)


class CardAttachSerializer(StrictSerializer):
    card = StrictCharField()
    metadata = MetadataField(required=False)


# --- The fast path of POST /v1/payments ------------------------------------------------------
#
# PaymentCreateSerializer is the definition of a valid payment. Run through DRF, its forty-odd
# fields cost more CPU than the rest of the request together (bench/README.md), so the common
# case, a well-formed hosted-page payment, is recognised by the plain function below, which
# returns exactly what the serializer would. Anything it is not sure about (a field it does not
# handle, a value that needs trimming, any error) returns None and goes through the serializer,
# which therefore writes every error message. tests/payments/api/test_create_fast_path.py checks
# with generated bodies that whatever this accepts, the serializer accepts with the same result.


def _address_rules(serializer_class) -> dict:
    """field name -> (max_length or None, `accepts` or None): the address fields' own rules."""
    rules = {}
    for name, field in serializer_class._declared_fields.items():
        if isinstance(field, OptionalString):
            rules[name] = (field.max_length, field.accepts if isinstance(field, CheckedString) else None)
    return rules


_BILLING_RULES = _address_rules(AddressSerializer)
_SHIPPING_RULES = _address_rules(ShippingSerializer)
_FAST_TOP_LEVEL = frozenset(
    {
        "amount",
        "authorized_amount",
        "auto_capture",
        "currency",
        "billing",
        "shipping",
        "hosted_payment",
        "notification_url",
        "metadata",
        "description",
        "save_card",
        "allow_save_card",
        "force_3ds",
    }
)
_BOOLEANS = ("auto_capture", "save_card", "allow_save_card", "force_3ds")
_email_validator = EmailValidator()


def _plain_string(value, max_length: int | None) -> bool:
    """A string the serializer keeps as it is: not blank, no surrounding space, no NUL, short enough."""
    if type(value) is not str or value == "" or (max_length is not None and len(value) > max_length):
        return False
    return value.strip() == value and "\x00" not in value


def _fast_url(value, https_only: bool) -> bool:
    return _plain_string(value, 2048) and url_problem(value, https_only) is None


def _fast_address(data, rules: dict, required_names: bool) -> dict | None:
    if type(data) is not dict:
        return None
    out = {}
    for name, value in data.items():
        rule = rules.get(name)
        if rule is None:
            return None
        out[name] = value
        if value is None:
            continue
        max_length, accepts = rule
        if not _plain_string(value, max_length) or (accepts is not None and not accepts(value)):
            return None
    email = out.get("email")
    if email is not None:
        try:
            _email_validator(email)
        except DjangoValidationError:
            return None
    if required_names and not (out.get("first_name") and out.get("last_name") and email):
        return None
    return out


def fast_payment_create(data, merchant, is_live: bool) -> dict | None:
    """PaymentCreateSerializer's validated data for a common, valid body; None for anything else."""
    if type(data) is not dict or not data.keys() <= _FAST_TOP_LEVEL:
        return None
    out = {}
    has_amount, has_authorized = "amount" in data, "authorized_amount" in data
    if has_amount == has_authorized:
        return None
    name = "amount" if has_amount else "authorized_amount"
    amount = data[name]
    low, high = max(MIN_AMOUNT, merchant.min_amount), min(MAX_AMOUNT, merchant.max_amount)
    if type(amount) is not int or not low <= amount <= high:
        return None
    out[name] = amount
    if data.get("currency") != "EUR":
        return None
    out["currency"] = "EUR"
    for flag in _BOOLEANS:
        if flag in data:
            if type(data[flag]) is not bool:
                return None
            out[flag] = data[flag]
    if out.get("auto_capture") and not has_authorized:
        return None
    if out.get("save_card") and out.get("allow_save_card"):
        return None
    billing = _fast_address(data.get("billing"), _BILLING_RULES, required_names=True)
    if billing is None:
        return None
    out["billing"] = billing
    if "shipping" in data:
        shipping = data["shipping"]
        if shipping is not None:
            shipping = _fast_address(shipping, _SHIPPING_RULES, required_names=False)
            if shipping is None:
                return None
        out["shipping"] = shipping
    hosted = data.get("hosted_payment")
    if type(hosted) is not dict or not hosted.keys() <= {"return_url", "cancel_url"}:
        return None
    if not _fast_url(hosted.get("return_url"), https_only=False):
        return None
    out_hosted = {"return_url": hosted["return_url"]}
    if "cancel_url" in hosted:
        cancel = hosted["cancel_url"]
        if cancel is not None and not _fast_url(cancel, https_only=False):
            return None
        out_hosted["cancel_url"] = cancel
    out["hosted_payment"] = out_hosted
    if "notification_url" in data:
        url = data["notification_url"]
        if url is not None and not _fast_url(url, https_only=is_live):
            return None
        out["notification_url"] = url
    if "metadata" in data:
        metadata = data["metadata"]
        if type(metadata) is not dict or metadata_problem(metadata) is not None:
            return None
        out["metadata"] = metadata
    if "description" in data:
        description = data["description"]
        if description is not None and not _plain_string(description, 255):
            return None
        out["description"] = description
    return out
