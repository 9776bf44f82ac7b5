"""Request validation of the v1 API. Responses are built by payments.representations."""

from __future__ import annotations

from rest_framework import serializers

from payplug.api import StrictBooleanField, StrictCharField, StrictIntegerField, StrictSerializer

from ..models import Card, Customer
from .fields import (
    AddressSerializer,
    CountryField,
    EmailField,
    HttpUrlField,
    JSONObjectField,
    MetadataField,
    OptionalString,
    ShippingSerializer,
)

MIN_AMOUNT = 99
MAX_AMOUNT = 2_000_000
NOT_OFFERED_METHODS = {
    "american_express", "oney_x3_with_fees", "oney_x4_with_fees", "oney_x3_without_fees",
    "oney_x4_without_fees", "bancontact", "apple_pay", "satispay", "scalapay", "ideal", "mybank",
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
