"""The OpenAPI 3 document of the v1 API (`GET /v1/schema`, drf-spectacular).

Documentation only: requests are validated by `payments.api.serializers` and responses are built
by `payments.representations`; tests check that the objects the views return validate against
the components declared here (tests/payments/api/test_openapi.py) and run schemathesis against a
live server (tests/payments/api/test_schemathesis.py).

What this module adds to drf-spectacular's inference:
* the `SecretKey` bearer security scheme (an extension for `SecretKeyAuthentication`);
* request bodies that say what the serializers accept: `additionalProperties: false` on every
  `StrictSerializer` (unknown keys → 400), nullability, enums, bounds, the billing address's
  required names;
* response components for every resource object, exact (every key required, no other key);
* the shared `Error` component and the error responses of each operation, with the response
  headers `X-Request-Id`, `X-RateLimit-*`, `WWW-Authenticate` on 401, `Retry-After` on 429/503;
* the `Idempotency-Key` request header on POST and PATCH, `PayPlug-Version` on every operation.

It is imported by `payments.api.views`, so the extensions are registered whenever the URLconf
(and therefore the schema generator) is loaded.
"""

from __future__ import annotations

from drf_spectacular.extensions import (
    OpenApiAuthenticationExtension,
    OpenApiSerializerExtension,
    OpenApiSerializerFieldExtension,
    OpenApiViewExtension,
)
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import serializers

from payments.api import fields as api_fields
from payplug.api import StrictSerializer

# --- security scheme ------------------------------------------------------------------------------


class SecretKeyScheme(OpenApiAuthenticationExtension):
    target_class = "merchants.authentication.SecretKeyAuthentication"
    name = "SecretKey"
    priority = 1

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "sk_test_... | sk_live_...",
            "description": (
                "`Authorization: Bearer <secret key>`. The key's prefix selects the mode: `sk_test_` keys see "
                "test-mode objects only, `sk_live_` keys live-mode objects only. Publishable keys (`pk_...`) "
                "are refused with 403 `publishable_key_not_allowed`."
            ),
        }


# --- custom field types -----------------------------------------------------------------------------

METADATA_SCHEMA = {
    "type": "object",
    "description": (
        "Flat JSON object stored and returned exactly: at most 20 keys of 1 to 40 characters; values are "
        "strings (at most 500 characters), numbers (integers within 64 bits), booleans or null; no nested "
        "objects or arrays."
    ),
    "maxProperties": 20,
    "additionalProperties": {
        "anyOf": [
            {"type": "string", "maxLength": 500, "nullable": True},
            {"type": "number"},
            {"type": "boolean"},
        ]
    },
    "example": {"order_id": "42", "customer_number": 42710},
}


class MetadataFieldSchema(OpenApiSerializerFieldExtension):
    target_class = api_fields.MetadataField
    match_subclasses = True

    def get_name(self):
        return "Metadata"

    def map_serializer_field(self, auto_schema, direction):
        return dict(METADATA_SCHEMA)


class JSONObjectFieldSchema(OpenApiSerializerFieldExtension):
    target_class = api_fields.JSONObjectField
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        schema = {"type": "object", "additionalProperties": {}}
        if direction == "request":
            schema["description"] = f"Any JSON object, at most {self.target.max_bytes // 1024} KiB once serialized."
        return schema


class HttpUrlFieldSchema(OpenApiSerializerFieldExtension):
    target_class = api_fields.HttpUrlField
    match_subclasses = True

    def map_serializer_field(self, auto_schema, direction):
        description = "Absolute http or https URL without credentials, at most 2048 characters."
        if self.target.https_only_in_live:
            description += " Must be https in live mode."
        return {
            "type": "string",
            "format": "uri",
            "pattern": "^[Hh][Tt][Tt][Pp][Ss]?://[^\\s]+$",
            "maxLength": self.target.max_length,
            "description": description,
        }


class EmailFieldSchema(OpenApiSerializerFieldExtension):
    target_class = api_fields.EmailField

    def map_serializer_field(self, auto_schema, direction):
        return {"type": "string", "format": "email", "maxLength": self.target.max_length, "minLength": 1}


def _optional_enum(values, description):
    """An optional string of a closed set: `null` and `""` are accepted too (both mean "not set")."""
    schema = {"type": "string", "enum": [*values, "", None]}
    if description:
        schema["description"] = description
    return schema


class CountryFieldSchema(OpenApiSerializerFieldExtension):
    target_class = api_fields.CountryField

    def map_serializer_field(self, auto_schema, direction):
        return _optional_enum(sorted(api_fields.COUNTRIES), "ISO 3166-1 alpha-2 country code, upper case.")


class LanguageFieldSchema(OpenApiSerializerFieldExtension):
    target_class = api_fields.LanguageField

    def map_serializer_field(self, auto_schema, direction):
        return _optional_enum(sorted(api_fields.LANGUAGES), "ISO 639-1 language code, lower case.")


class ChoiceStringSchema(OpenApiSerializerFieldExtension):
    target_class = api_fields.ChoiceString

    def map_serializer_field(self, auto_schema, direction):
        return _optional_enum(list(self.target.allowed), "")


class PhoneFieldSchema(OpenApiSerializerFieldExtension):
    target_class = api_fields.PhoneField

    def map_serializer_field(self, auto_schema, direction):
        return {
            "type": "string",
            "pattern": "^\\+[0-9]{8,15}$",
            "description": "E.164 number: `+` then 8 to 15 digits.",
        }


def enum_ref(registry, name, values, description=""):
    """A named enum component (registered once), referenced with `$ref`."""
    kind = "boolean" if all(isinstance(value, bool) for value in values) else "string"
    schema = {"type": kind, "enum": list(values)}
    if description:
        schema["description"] = description
    component = ResolvedComponent(name=name, type=ResolvedComponent.SCHEMA, object=name, schema=schema)
    registry.register_on_missing(component)
    return dict(component.ref)


class Constant(serializers.Field):
    """A response field whose value is fixed (`"object": "payment"`): a one-value enum component."""

    def __init__(self, value, component, **kwargs):
        self.value = value
        self.component = component
        super().__init__(**kwargs)


class ConstantSchema(OpenApiSerializerFieldExtension):
    target_class = Constant

    def map_serializer_field(self, auto_schema, direction):
        return enum_ref(auto_schema.registry, self.target.component, [self.target.value])


class Enum(serializers.Field):
    """A response string of a closed set: inline (drf-spectacular names it after the field) or named."""

    def __init__(self, values, component=None, description="", **kwargs):
        self.values = list(values)
        self.component = component
        self.enum_description = description
        super().__init__(**kwargs)


class EnumSchema(OpenApiSerializerFieldExtension):
    target_class = Enum

    def map_serializer_field(self, auto_schema, direction):
        if self.target.component:
            return enum_ref(
                auto_schema.registry, self.target.component, self.target.values, self.target.enum_description
            )
        return {"type": "string", "enum": self.target.values}


class Pattern(serializers.CharField):
    """A response string with a documented pattern (ids, codes)."""

    def __init__(self, pattern, **kwargs):
        self.openapi_pattern = pattern
        super().__init__(**kwargs)


class PatternSchema(OpenApiSerializerFieldExtension):
    target_class = Pattern

    def map_serializer_field(self, auto_schema, direction):
        return {"type": "string", "pattern": self.target.openapi_pattern}


# --- request bodies: the serializers as they validate ---------------------------------------------


def _set(schema, name, **keywords):
    prop = schema["properties"][name]
    if "$ref" in prop:  # keywords beside a $ref are ignored in OpenAPI 3.0
        schema["properties"][name] = {"allOf": [prop], **keywords}
    else:
        prop.update(keywords)


def _payment_create(schema, serializer, registry):
    schema["properties"].pop("integration", None)  # always refused: integrated payments are not offered
    props = schema["properties"]
    for name in ("amount", "authorized_amount"):
        _set(schema, name, minimum=99, maximum=2_000_000)
    _set(
        schema,
        "amount",
        description="Cents, 99 to 2 000 000 (a merchant's settings may narrow the range). "
        "Exactly one of `amount` and `authorized_amount`.",
    )
    _set(schema, "authorized_amount", description="Cents; makes a deferred-capture payment (capture with PATCH).")
    props["currency"] = {"type": "string", "enum": ["EUR"]}
    _set(schema, "auto_capture", description="Only with `authorized_amount`: capture as soon as authorized.")
    _set(schema, "billing", description="The payer's address; `first_name`, `last_name` and `email` are required.")
    _set(schema, "customer", description="Legacy alias of `billing`, used only when `billing` is absent.")
    _set(schema, "shipping", description="Optional delivery address.")
    _set(schema, "hosted_payment", description="Required with `return_url` unless `payment_method` is given.")
    _set(schema, "notification_url", description="Where notifications (IPN) are posted; https in live mode.")
    _set(schema, "save_card", description="Save the card entered on the hosted page if the payment succeeds.")
    _set(schema, "allow_save_card", description='Offer a "remember my card" box; not with `save_card: true`.')
    _set(schema, "force_3ds", description="Always run a 3-D Secure challenge on the hosted page.")
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
    _set(schema, "payment_context", description="Cart data, stored and echoed (at most 16 KiB).")
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
    _set(schema, "return_url", description="Where the shopper goes after paying.")
    _set(schema, "cancel_url", description="Where the page's cancel link goes (default: `return_url`).")


def _address(schema, serializer, registry):
    if getattr(serializer, "required_names", False):
        for name in ("first_name", "last_name", "email"):
            prop = schema["properties"][name]
            prop.pop("nullable", None)
            prop.update(minLength=1, pattern="\\S")
        schema["properties"]["email"]["format"] = "email"
        schema["required"] = ["email", "first_name", "last_name"]
    else:
        schema["properties"]["email"]["description"] = "A valid email address."
    schema["description"] = (
        'Address (spec §6.4). Optional fields accept null or "" (both stored as null); responses return '
        "exactly these keys."
    )


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


def _refund_create(schema, serializer, registry):
    _set(
        schema,
        "amount",
        minimum=1,
        description="Cents; absent = the whole remaining amount. At least 10 unless it is the remaining amount.",
    )
    schema["description"] = "An empty body (or none) refunds the whole remaining amount."


def _card_attach(schema, serializer, registry):
    _set(
        schema,
        "card",
        pattern="^card_[0-9A-Za-z]+$",
        description="A card `card_...` saved by a payment without a customer.",
    )


def _customer(schema, serializer, registry):
    schema["description"] = "A payer saved for later (one-click) payments."


def _accounting_report_create(schema, serializer, registry):
    for name in ("start_date", "end_date"):
        _set(schema, name, format="date", pattern="^[0-9]{4}-[0-9]{2}-[0-9]{2}$", description="UTC day, inclusive.")
    schema["description"] = (
        "`start_date` ≤ `end_date` ≤ today (UTC), at most 366 days; the report is produced asynchronously and "
        "notified to `notification_url` when available."
    )


TWEAKS = {
    "AccountingReportCreateSerializer": _accounting_report_create,
    "PaymentCreateSerializer": _payment_create,
    "HostedPaymentSerializer": _hosted_payment,
    "AddressSerializer": _address,
    "ShippingSerializer": _address,
    "PaymentUpdateSerializer": _payment_update,
    "RefundCreateSerializer": _refund_create,
    "CardAttachSerializer": _card_attach,
    "CustomerSerializer": _customer,
}


class StrictSerializerSchema(OpenApiSerializerExtension):
    """Every `StrictSerializer` rejects unknown keys: `additionalProperties: false`."""

    target_class = StrictSerializer
    match_subclasses = True

    def get_name(self, auto_schema, direction):
        if isinstance(self.target, api_fields.ShippingSerializer):
            return "ShippingAddress"
        if isinstance(self.target, api_fields.AddressSerializer):
            return "BillingAddress" if getattr(self.target, "required_names", False) else "Address"
        return None

    def get_identity(self, auto_schema, direction):
        if isinstance(self.target, api_fields.AddressSerializer):
            return (type(self.target), getattr(self.target, "required_names", False))
        return None

    def map_serializer(self, auto_schema, direction):
        schema = auto_schema._map_basic_serializer(self.target, direction)
        if "__doc__" not in type(self.target).__dict__ or not type(self.target).__doc__:
            schema.pop("description", None)  # not the docstring of a base class
        schema["additionalProperties"] = False
        tweak = TWEAKS.get(type(self.target).__name__)
        if tweak is not None:
            tweak(schema, self.target, auto_schema.registry)
        if not schema.get("required"):
            schema.pop("required", None)
        return schema


# --- response objects: what payments.representations returns ---------------------------------------


def _id(prefix):
    return Pattern(f"^{prefix}_[0-9A-Za-z]+$")


def _nullable_id(prefix):
    return Pattern(f"^{prefix}_[0-9A-Za-z]+$", allow_null=True)


COUNTRY_PATTERN = "^[A-Z]{2}$"
CARD_BRANDS = ["Visa", "Mastercard", "Maestro", "CB"]
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


class ResponseObject(StrictSerializer):
    """Base of the documented response objects: every key present, no other key."""


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

    id = _nullable_id("card")
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

    id = _id("pay")
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
    installment_plan_id = serializers.CharField(allow_null=True, help_text="Always null (not offered).")
    customer_id = _nullable_id("cus")
    payment_context = api_fields.JSONObjectField(allow_null=True)
    dispute = Dispute(allow_null=True)


class Refund(ResponseObject):
    """A refund of a paid payment (spec §8)."""

    id = _id("re")
    object = Constant("refund", "RefundObjectType")
    is_live = serializers.BooleanField()
    payment_id = _id("pay")
    amount = serializers.IntegerField(min_value=1)
    currency = Enum(["EUR"])
    created_at = serializers.IntegerField()
    metadata = api_fields.MetadataField()


class Customer(ResponseObject):
    """A customer (spec §9)."""

    id = _id("cus")
    object = Constant("customer", "CustomerObjectType")
    is_live = serializers.BooleanField()
    created_at = serializers.IntegerField()
    email = serializers.CharField()
    first_name = serializers.CharField(allow_null=True)
    last_name = serializers.CharField(allow_null=True)
    address1 = serializers.CharField(allow_null=True)
    address2 = serializers.CharField(allow_null=True)
    postcode = serializers.CharField(allow_null=True)
    city = serializers.CharField(allow_null=True)
    country = Pattern(COUNTRY_PATTERN, allow_null=True)
    metadata = api_fields.MetadataField()


class Card(ResponseObject):
    """A saved card (spec §10). Card numbers never travel through this API."""

    id = _id("card")
    object = Constant("card", "CardObjectType")
    is_live = serializers.BooleanField()
    created_at = serializers.IntegerField()
    customer_id = _nullable_id("cus")
    last4 = Pattern("^[0-9]{4}$")
    brand = Enum(CARD_BRANDS)
    exp_month = serializers.IntegerField(min_value=1, max_value=12)
    exp_year = serializers.IntegerField(min_value=1000, max_value=9999)
    country = Pattern(COUNTRY_PATTERN, allow_null=True)
    metadata = api_fields.MetadataField()


class AccountingReport(ResponseObject):
    """An accounting report (spec §11): a CSV of the ledger operations of a range of UTC days."""

    id = _id("ar")
    object = Constant("accounting_report", "AccountingReportObjectType")
    is_live = serializers.BooleanField()
    created_at = serializers.IntegerField()
    start_date = serializers.DateField()
    end_date = serializers.DateField()
    notification_url = serializers.CharField(allow_null=True)
    status = Enum(["pending", "available", "expired", "failed"], "AccountingReportStatus")
    temporary_url = serializers.URLField(
        allow_null=True, help_text="Signed download link, usable without the API key while the file is available."
    )
    file_available_until = serializers.IntegerField(allow_null=True)


class CustomerDeleted(ResponseObject):
    id = _id("cus")
    object = Constant("customer", "CustomerObjectType")
    deleted = Constant(True, "DeletedFlag")


class CardDeleted(ResponseObject):
    id = _id("card")
    object = Constant("card", "CardObjectType")
    deleted = Constant(True, "DeletedFlag")


def _list_of(item, name):
    return type(
        name,
        (ResponseObject,),
        {
            "__doc__": f"A page of {item.__name__} objects, newest first (spec §5).",
            "object": Constant("list", "ListObjectType"),
            "type": Constant("list", "ListObjectType"),
            "page": serializers.IntegerField(min_value=0),
            "per_page": serializers.IntegerField(min_value=1, max_value=100),
            "count": serializers.IntegerField(min_value=0, help_text="Number of items in `data` (not a total)."),
            "has_more": serializers.BooleanField(),
            "data": item(many=True),
        },
    )


PaymentList = _list_of(Payment, "PaymentList")
RefundList = _list_of(Refund, "RefundList")
CustomerList = _list_of(Customer, "CustomerList")
CardList = _list_of(Card, "CardList")


class Error(ResponseObject):
    """Every non-2xx answer (spec §3)."""

    object = Constant("error", "ErrorObjectType")
    code = serializers.CharField(
        help_text="Machine-readable reason: `invalid_json`, `invalid_request`, a business rule (`payment_not_paid`, "
        "`payment_already_paid`, `payment_already_failed`, `payment_pending`, `payment_not_deferred`, "
        "`payment_not_authorized`, `authorization_expired`, `refund_exceeds_remaining`, `refund_amount_too_small`, "
        "`refund_not_yet_allowed`, `refund_window_closed`, `payment_disputed`, `refund_refused`) (400); "
        "`authentication_required`, `invalid_api_key` (401); `publishable_key_not_allowed`, `account_not_live`, "
        "`account_suspended`, `feature_not_enabled`, `https_required` (403); `not_found` (404); "
        "`method_not_allowed` (405, a known route with another method); `idempotency_key_reused`, "
        "`idempotency_key_in_use` (409); `payload_too_large` (413); `rate_limited` (429); `server_error` (500); "
        "`service_unavailable` (503)."
    )
    message = serializers.CharField(
        help_text="English sentence; for validation errors it starts with the dotted path of the first invalid field."
    )
    details = serializers.DictField(
        help_text="One entry per invalid field, nested like the request; `{}` when not about fields."
    )
    request_id = Pattern("^req_[0-9A-Za-z]+$", help_text="Same as the `X-Request-Id` header.")


# --- operations -----------------------------------------------------------------------------------

REQUEST_ID_HEADER = OpenApiParameter(
    "X-Request-Id",
    str,
    OpenApiParameter.HEADER,
    response=True,
    required=True,
    pattern="^req_[0-9A-Za-z]+$",
    description="Id of this request (`req_...`), also in error bodies and our logs.",
)
PAYPLUG_VERSION_HEADER = OpenApiParameter(
    "PayPlug-Version",
    str,
    OpenApiParameter.HEADER,
    required=False,
    pattern="^([0-9]{4}-[0-9]{2}-[0-9]{2})?$",
    description="Optional API version date (`YYYY-MM-DD`), as sent by the official SDKs. Any date is accepted and "
    "every version gets the same behaviour; a non-empty value that is not a date → 400.",
)
RATE_LIMIT_HEADERS = [
    ("X-RateLimit-Limit", "Size of the caller's rate-limit bucket (requests)."),
    ("X-RateLimit-Remaining", "Requests left in the bucket."),
    ("X-RateLimit-Reset", "Unix time when the bucket is full again."),
]
IDEMPOTENCY_KEY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    required=False,
    pattern="^[\\x21-\\x7e]{1,255}$",
    description="1 to 255 printable ASCII characters, scoped to the merchant and mode. The same key with the same "
    "method, path and body replays the stored answer (header `Idempotent-Replayed: true`); with "
    "another request → 409 `idempotency_key_reused`; while the first is running → 409 "
    "`idempotency_key_in_use`. Keys are kept at least 24 hours.",
)
PAGE_PARAMETER = OpenApiParameter(
    "page",
    {"type": "integer", "minimum": 0, "default": 0},
    OpenApiParameter.QUERY,
    required=False,
    description="0-based page number (default 0); a page past the end has an empty `data`.",
)


def per_page_parameter(default):
    return OpenApiParameter(
        "per_page",
        {"type": "integer", "minimum": 1, "maximum": 100, "default": default},
        OpenApiParameter.QUERY,
        required=False,
        description=f"Items per page, 1 to 100 (default {default}).",
    )


def path_parameter(name, prefix, what):
    return OpenApiParameter(
        name,
        str,
        OpenApiParameter.PATH,
        pattern="^[a-z]+_[0-9A-Za-z]+$",
        description=f"Id of the {what} (`{prefix}_...`). An id the caller may not see (another merchant's, the "
        "other mode's, or none) → 404.",
    )


PAYMENT_ID = path_parameter("payment_id", "pay", "payment")
REFUND_ID = path_parameter("refund_id", "re", "refund")
CUSTOMER_ID = path_parameter("customer_id", "cus", "customer")
CARD_ID = path_parameter("card_id", "card", "saved card")
REPORT_ID = path_parameter("report_id", "ar", "accounting report")


def _error_example(status, code, message, details=None):
    return OpenApiExample(
        code,
        status_codes=[str(status)],
        response_only=True,
        value={
            "object": "error",
            "code": code,
            "message": message,
            "details": details or {},
            "request_id": "req_4wJ8dQm2xV0aTq1zKb7c",
        },
    )


ERRORS = {
    400: OpenApiResponse(
        Error,
        "Invalid JSON (`invalid_json`), a missing, unknown, mistyped or out-of-range field or query parameter "
        "(`invalid_request`, `details` names it), or a business rule refused the change (e.g. "
        "`payment_not_paid`, `refund_exceeds_remaining`). Nothing was changed.",
        examples=[
            _error_example(
                400, "invalid_request", "currency: only EUR is supported.", {"currency": "only EUR is supported."}
            )
        ],
    ),
    401: OpenApiResponse(
        Error,
        "No `Authorization: Bearer` header (`authentication_required`), or an unknown, malformed or revoked "
        "key (`invalid_api_key`).",
        examples=[_error_example(401, "invalid_api_key", "Invalid API key.")],
    ),
    403: OpenApiResponse(
        Error,
        "A publishable key (`publishable_key_not_allowed`), a suspended account (`account_suspended`), a "
        "live key before approval (`account_not_live`), a live feature not enabled (`feature_not_enabled`) "
        "or plain HTTP where HTTPS is required (`https_required`).",
        examples=[
            _error_example(
                403, "publishable_key_not_allowed", "Publishable keys can only start a checkout; use a secret key."
            )
        ],
    ),
    404: OpenApiResponse(
        Error,
        "No such object for this key's merchant and mode (`not_found`).",
        examples=[_error_example(404, "not_found", "No such resource.")],
    ),
    409: OpenApiResponse(
        Error,
        "`Idempotency-Key` conflict: used with another request (`idempotency_key_reused`) or the first "
        "request with it is still running (`idempotency_key_in_use`).",
        examples=[
            _error_example(409, "idempotency_key_reused", "This Idempotency-Key was already used with another request.")
        ],
    ),
    413: OpenApiResponse(
        Error,
        "The body is larger than 64 KiB (`payload_too_large`).",
        examples=[_error_example(413, "payload_too_large", "The request body is larger than 64 KiB.")],
    ),
    429: OpenApiResponse(
        Error,
        "Rate limited (`rate_limited`); retry after `Retry-After` seconds.",
        examples=[_error_example(429, "rate_limited", "Too many requests.")],
    ),
    503: OpenApiResponse(
        Error,
        "The card acquirer is unavailable (`service_unavailable`); nothing was changed. Retry after "
        "`Retry-After` seconds with the same `Idempotency-Key`.",
        examples=[
            _error_example(
                503,
                "service_unavailable",
                "The card acquirer is unavailable; nothing was changed. Retry later with the same Idempotency-Key.",
            )
        ],
    ),
}

READ_ERRORS = (400, 401, 403, 404, 429)
WRITE_ERRORS = (400, 401, 403, 404, 409, 413, 429)


def _success(serializer, description, examples=()):
    return OpenApiResponse(serializer, description, examples=list(examples))


def api_operation(
    operation_id,
    tag,
    summary,
    success,
    *,
    status=200,
    description="",
    request=None,
    errors=READ_ERRORS,
    parameters=(),
    examples=(),
    success_examples=(),
):
    """`extend_schema` for one v1 operation: success and error responses, headers, parameters."""
    responses = {status: _success(success, summary, success_examples)}
    responses.update({code: ERRORS[code] for code in errors})
    header_parameters = [PAYPLUG_VERSION_HEADER, REQUEST_ID_HEADER]
    # Every answer past authentication carries the rate-limit headers; a 403 may come before that step.
    limited = [status, *(code for code in errors if code != 403)]
    for name, text in RATE_LIMIT_HEADERS:
        header_parameters.append(
            OpenApiParameter(name, int, OpenApiParameter.HEADER, response=limited, required=True, description=text)
        )
        if 403 in errors:
            header_parameters.append(
                OpenApiParameter(name, int, OpenApiParameter.HEADER, response=[403], required=False, description=text)
            )
    if 401 in errors:
        header_parameters.append(
            OpenApiParameter(
                "WWW-Authenticate",
                str,
                OpenApiParameter.HEADER,
                response=[401],
                required=True,
                enum=["Bearer"],
                description="The authentication scheme to use.",
            )
        )
    if 503 in errors:
        header_parameters.append(
            OpenApiParameter(
                "Retry-After",
                int,
                OpenApiParameter.HEADER,
                response=[503],
                required=True,
                description="Seconds to wait before retrying.",
            )
        )
    if 429 in errors:
        header_parameters.append(
            OpenApiParameter(
                "Retry-After",
                int,
                OpenApiParameter.HEADER,
                response=[429],
                required=True,
                description="Seconds to wait before retrying.",
            )
        )
    if request is not None:
        header_parameters.append(IDEMPOTENCY_KEY_HEADER)
        header_parameters.append(
            OpenApiParameter(
                "Idempotent-Replayed",
                str,
                OpenApiParameter.HEADER,
                response=[status],
                required=False,
                enum=["true"],
                description="Present when this answer is the stored answer of an earlier request with the same "
                "`Idempotency-Key`.",
            )
        )
    return extend_schema(
        operation_id=operation_id,
        tags=[tag],
        summary=summary,
        description=description or f"{summary}.",
        request={"application/json": request} if request is not None else None,
        responses=responses,
        parameters=[*parameters, *header_parameters],
        examples=list(examples),
    )


# --- views defined elsewhere -------------------------------------------------------------------------


def _annotated(view_class, **methods):
    """A subclass of `view_class` carrying the schema of its methods (the original stays untouched)."""
    return extend_schema_view(**methods)(type(view_class.__name__, (view_class,), {"__doc__": view_class.__doc__}))


class AccountingReportCreateSchema(OpenApiViewExtension):
    target_class = "payments.api.reports.AccountingReportCreate"
    optional = True

    def view_replacement(self):
        from payments.api.reports import AccountingReportCreateSerializer

        return _annotated(
            self.target,
            post=api_operation(
                "accounting_reports_create",
                "accounting reports",
                "Create an accounting report",
                AccountingReport,
                status=201,
                request=AccountingReportCreateSerializer,
                errors=(400, 401, 403, 409, 413, 429),
                examples=[
                    OpenApiExample(
                        "March",
                        value={"start_date": "2026-03-01", "end_date": "2026-03-31"},
                        request_only=True,
                    )
                ],
            ),
        )


class AccountingReportDetailSchema(OpenApiViewExtension):
    target_class = "payments.api.reports.AccountingReportDetail"
    optional = True

    def view_replacement(self):
        return _annotated(
            self.target,
            get=api_operation(
                "accounting_reports_retrieve",
                "accounting reports",
                "Retrieve an accounting report",
                AccountingReport,
                parameters=[REPORT_ID],
            ),
        )


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

REFUND_CREATE_EXAMPLES = [
    OpenApiExample("Partial refund", value={"amount": 1000, "metadata": {"reason": "damaged item"}}, request_only=True),
]

CUSTOMER_CREATE_EXAMPLES = [
    OpenApiExample(
        "Customer",
        request_only=True,
        value={
            "email": "paul@example.org",
            "first_name": "Paul",
            "last_name": "Durand",
            "city": "Lyon",
            "country": "FR",
            "metadata": {"crm_id": 7},
        },
    ),
]


# --- document hook ----------------------------------------------------------------------------------


def strip_trailing_slashes(result, generator, request, public):
    """drf-spectacular postprocessing hook: show the canonical routes, `/v1/payments` not `/v1/payments/`.

    Our routes end in `/?` (a trailing slash is accepted, never required: spec §1), which
    drf-spectacular renders as a trailing slash. Enable it in SPECTACULAR_SETTINGS:
    `"POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums",
    "payments.api.schema.strip_trailing_slashes"]`.
    """
    paths = result.get("paths", {})
    result["paths"] = {(path.rstrip("/") or "/"): item for path, item in paths.items()}
    return result
