"""Payments (spec §7): the `Payment` component, the create and update bodies, the examples."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample
from rest_framework import serializers

from payments.api import fields as api_fields
from payments.api.schema.common import (
    CARD_BRANDS,
    COUNTRY_PATTERN,
    Constant,
    Enum,
    Pattern,
    ResponseObject,
    enum_ref,
    id_field,
    list_of,
    nullable_id_field,
    path_parameter,
    set_property,
)

FAILURE_CODES = [
    "card_declined",
    "processing_error",
    "3ds_declined",
    "incorrect_number",
    "fraud_suspected",
    "method_unsupported",
    "timeout",
    "aborted",
    "insufficient_funds",
    "card_scheme_mismatch",
    "card_expiration_date_prior_to_last_installment_date",
]


class Address(ResponseObject):
    """An address exactly as stored: every key present, null when unset."""

    title = serializers.CharField(allow_null=True)
    first_name = serializers.CharField(allow_null=True)
    last_name = serializers.CharField(allow_null=True)
    email = serializers.CharField(allow_null=True)
    company_name = serializers.CharField(allow_null=True)
    mobile_phone_number = serializers.CharField(allow_null=True)
    landline_phone_number = serializers.CharField(allow_null=True)
    address1 = serializers.CharField(allow_null=True)
    address2 = serializers.CharField(allow_null=True)
    postcode = serializers.CharField(allow_null=True)
    city = serializers.CharField(allow_null=True)
    state = serializers.CharField(allow_null=True)
    country = serializers.CharField(allow_null=True)
    language = serializers.CharField(allow_null=True)

    class Meta:
        ref_name = "Address"


class ShippingAddressOut(Address):
    """A shipping address exactly as stored: every key present, null when unset."""

    delivery_type = serializers.CharField(allow_null=True)

    class Meta:
        ref_name = "ShippingAddress"


class PaymentCard(ResponseObject):
    """The card used by a payment: every field null until a card was used."""

    id = nullable_id_field("card")
    last4 = Pattern("^[0-9]{4}$", allow_null=True)
    country = Pattern(COUNTRY_PATTERN, allow_null=True)
    exp_month = serializers.IntegerField(allow_null=True, min_value=1, max_value=12)
    exp_year = serializers.IntegerField(allow_null=True, min_value=1000, max_value=9999)
    brand = Enum(CARD_BRANDS, allow_null=True)
    metadata = api_fields.MetadataField(allow_null=True)


class Authorization(ResponseObject):
    """Deferred payments: the authorization a capture collects."""

    authorized_amount = serializers.IntegerField(min_value=0)
    authorized_at = serializers.IntegerField(allow_null=True)
    expires_at = serializers.IntegerField(allow_null=True)


class HostedPayment(ResponseObject):
    payment_url = serializers.URLField(allow_null=True)
    return_url = serializers.CharField(allow_null=True)
    cancel_url = serializers.CharField(allow_null=True)
    paid_at = serializers.IntegerField(allow_null=True)
    sent_by = Enum(["EMAIL"], allow_null=True)


class Notification(ResponseObject):
    url = serializers.CharField(allow_null=True)
    response_code = serializers.IntegerField(allow_null=True)


class Failure(ResponseObject):
    code = Enum(FAILURE_CODES, "FailureCode", "PayPlug failure code (spec §7.4).")
    message = serializers.CharField(allow_blank=True)


class Dispute(ResponseObject):
    amount = serializers.IntegerField()
    reason = serializers.CharField()
    created_at = serializers.IntegerField()


class Payment(ResponseObject):
    """A payment (spec §7.1). Timestamps are Unix seconds, amounts are cents."""

    id = id_field("pay")
    object = Constant("payment", "PaymentObjectType")
    is_live = serializers.BooleanField()
    amount = serializers.IntegerField(min_value=0)
    amount_refunded = serializers.IntegerField(min_value=0)
    currency = Enum(["EUR"])
    created_at = serializers.IntegerField()
    is_paid = serializers.BooleanField()
    paid_at = serializers.IntegerField(allow_null=True)
    is_refunded = serializers.BooleanField()
    is_3ds = serializers.BooleanField()
    save_card = serializers.BooleanField()
    allow_save_card = serializers.BooleanField()
    refundable_after = serializers.IntegerField(allow_null=True)
    refundable_until = serializers.IntegerField(allow_null=True)
    authorization = Authorization(allow_null=True)
    card = PaymentCard()
    billing = Address()
    shipping = ShippingAddressOut(allow_null=True)
    hosted_payment = HostedPayment()
    notification = Notification()
    failure = Failure(allow_null=True)
    description = serializers.CharField(allow_null=True)
    metadata = api_fields.MetadataField()
    payment_method = serializers.CharField(allow_null=True, help_text="Always null (Oney payments only).")
    installment_plan_id = Pattern(
        "^inst_[0-9A-Za-z]+$",
        allow_null=True,
        help_text="The installment plan (`inst_...`) this payment pays an installment of, else null.",
    )
    customer_id = nullable_id_field("cus")
    payment_context = api_fields.JSONObjectField(allow_null=True)
    dispute = Dispute(allow_null=True)


PaymentList = list_of(Payment, "PaymentList")
PAYMENT_ID = path_parameter("payment_id", "pay", "payment")


# --- request bodies -------------------------------------------------------------------------------


def _payment_create(schema, serializer, registry):
    schema["properties"].pop("integration", None)  # always refused: integrated payments are not offered
    props = schema["properties"]
    for name in ("amount", "authorized_amount"):
        set_property(schema, name, minimum=99, maximum=2_000_000)
    set_property(
        schema,
        "amount",
        description="Cents, 99 to 2 000 000 (a merchant's settings may narrow the range). "
        "Exactly one of `amount` and `authorized_amount`.",
    )
    set_property(
        schema, "authorized_amount", description="Cents; makes a deferred-capture payment (capture with PATCH)."
    )
    props["currency"] = {"type": "string", "enum": ["EUR"]}
    set_property(schema, "auto_capture", description="Only with `authorized_amount`: capture as soon as authorized.")
    set_property(
        schema, "billing", description="The payer's address; `first_name`, `last_name` and `email` are required."
    )
    set_property(schema, "customer", description="Legacy alias of `billing`, used only when `billing` is absent.")
    set_property(schema, "shipping", description="Optional delivery address.")
    set_property(schema, "hosted_payment", description="Required with `return_url` unless `payment_method` is given.")
    set_property(schema, "notification_url", description="Where notifications (IPN) are posted; https in live mode.")
    set_property(schema, "save_card", description="Save the card entered on the hosted page if the payment succeeds.")
    set_property(schema, "allow_save_card", description='Offer a "remember my card" box; not with `save_card: true`.')
    set_property(schema, "force_3ds", description="Always run a 3-D Secure challenge on the hosted page.")
    props["payment_method"].update(
        pattern="^card_[0-9A-Za-z]+$", description="A saved card `card_...` of this merchant and mode: one-click."
    )
    props["initiator"] = {
        "type": "string",
        "enum": ["PAYER", "MERCHANT", None],
        "nullable": True,
        "description": "`PAYER` (shopper present) or `MERCHANT`; required with `payment_method`, "
        "`MERCHANT` only with it.",
    }
    props["customer_id"].update(
        pattern="^cus_[0-9A-Za-z]+$",
        description="A customer `cus_...`: a card saved by this payment is attached to it.",
    )
    set_property(schema, "payment_context", description="Cart data, stored and echoed (at most 16 KiB).")
    schema["required"] = sorted(set(schema.get("required", [])) | {"currency"})
    schema["oneOf"] = [{"required": ["amount"]}, {"required": ["authorized_amount"]}]
    schema["allOf"] = [
        {"anyOf": [{"required": ["billing"]}, {"required": ["customer"]}]},
        {
            "anyOf": [
                {"required": ["payment_method"], "properties": {"payment_method": {"type": "string"}}},
                {"required": ["hosted_payment"], "properties": {"hosted_payment": {"required": ["return_url"]}}},
            ]
        },
    ]
    schema["description"] = (
        "Exactly one of `amount` (immediate capture) and `authorized_amount` (deferred capture); `billing` "
        "(or its legacy alias `customer`); `hosted_payment.return_url` unless `payment_method` pays with a "
        "saved card (one-click)."
    )


def _hosted_payment(schema, serializer, registry):
    schema["properties"]["sent_by"] = {
        "type": "string",
        "enum": ["EMAIL", "", None],
        "nullable": True,
        "description": "`EMAIL` mails the payment page to `billing.email`; `SMS` is not offered.",
    }
    set_property(schema, "return_url", description="Where the shopper goes after paying.")
    set_property(schema, "cancel_url", description="Where the page's cancel link goes (default: `return_url`).")


def _payment_update(schema, serializer, registry):
    for name, text in (
        ("abort", "Abort (Python SDK spelling)."),
        ("aborted", "Abort (PHP SDK spelling)."),
        ("captured", "Capture an authorized deferred payment."),
    ):
        schema["properties"][name] = {"allOf": [enum_ref(registry, "ActionFlag", [True])], "description": text}
    schema["minProperties"] = 1
    schema["maxProperties"] = 1
    schema["description"] = (
        'Exactly one action: `{"abort": true}` (or `{"aborted": true}`) aborts a payment that is not paid; '
        '`{"captured": true}` captures an authorized deferred payment.'
    )


REQUEST_TWEAKS = {
    "PaymentCreateSerializer": _payment_create,
    "HostedPaymentSerializer": _hosted_payment,
    "PaymentUpdateSerializer": _payment_update,
}


# --- examples ---------------------------------------------------------------------------------------

BILLING_EXAMPLE = {
    "title": "mrs",
    "first_name": "Jeanne",
    "last_name": "Martin",
    "email": "jeanne.martin@example.org",
    "address1": "12 rue des Lilas",
    "postcode": "75011",
    "city": "Paris",
    "country": "FR",
    "language": "fr",
}

PAYMENT_CREATE_EXAMPLES = [
    OpenApiExample(
        "Hosted payment",
        request_only=True,
        value={
            "amount": 3300,
            "currency": "EUR",
            "billing": BILLING_EXAMPLE,
            "hosted_payment": {
                "return_url": "https://shop.example.org/ok?order=42",
                "cancel_url": "https://shop.example.org/cancel?order=42",
            },
            "notification_url": "https://shop.example.org/ipn",
            "metadata": {"order_id": "42"},
        },
    ),
    OpenApiExample(
        "Deferred capture",
        request_only=True,
        value={
            "authorized_amount": 5000,
            "currency": "EUR",
            "billing": BILLING_EXAMPLE,
            "hosted_payment": {"return_url": "https://shop.example.org/ok?order=43"},
        },
    ),
]

PAYMENT_EXAMPLE = OpenApiExample(
    "Paid payment",
    response_only=True,
    status_codes=["200", "201"],
    value={
        "id": "pay_2m7QbVx0LrT5cKzA9eWq4N",
        "object": "payment",
        "is_live": False,
        "amount": 3300,
        "amount_refunded": 0,
        "currency": "EUR",
        "created_at": 1795512600,
        "is_paid": True,
        "paid_at": 1795512695,
        "is_refunded": False,
        "is_3ds": False,
        "save_card": False,
        "allow_save_card": False,
        "refundable_after": 1795512695,
        "refundable_until": 1829640695,
        "authorization": None,
        "card": {
            "id": None,
            "last4": "4242",
            "country": "FR",
            "exp_month": 12,
            "exp_year": 2030,
            "brand": "Visa",
            "metadata": None,
        },
        "billing": {
            "title": "mrs",
            "first_name": "Jeanne",
            "last_name": "Martin",
            "company_name": None,
            "email": "jeanne.martin@example.org",
            "mobile_phone_number": None,
            "landline_phone_number": None,
            "address1": "12 rue des Lilas",
            "address2": None,
            "postcode": "75011",
            "city": "Paris",
            "state": None,
            "country": "FR",
            "language": "fr",
        },
        "shipping": None,
        "hosted_payment": {
            "payment_url": "https://pay.example.net/pay/Qm9uam91ckJvbmpvdXI",
            "sent_by": None,
            "return_url": "https://shop.example.org/ok?order=42",
            "cancel_url": "https://shop.example.org/cancel?order=42",
            "paid_at": 1795512695,
        },
        "notification": {"url": "https://shop.example.org/ipn", "response_code": 200},
        "failure": None,
        "description": None,
        "metadata": {"order_id": "42"},
        "payment_method": None,
        "installment_plan_id": None,
        "customer_id": None,
        "payment_context": None,
        "dispute": None,
    },
)

PAYMENT_UPDATE_EXAMPLES = [
    OpenApiExample("Abort", value={"abort": True}, request_only=True),
    OpenApiExample("Capture", value={"captured": True}, request_only=True),
]
