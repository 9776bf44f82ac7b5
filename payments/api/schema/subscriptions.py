"""Subscriptions (our extension of the v1 API): the `Subscription` component, the bodies, the examples.

`payments.api.schema.requests` adjusts the bodies of the PayPlug resources through its `TWEAKS`;
the subscription bodies are adjusted here by `SubscriptionBodySchema`, the same extension with a
higher priority, matched on the base class of the subscription serializers.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiParameter
from rest_framework import serializers

from payments.api import fields as api_fields
from payments.api.schema.common import (
    CARD_BRANDS,
    Constant,
    Enum,
    Pattern,
    ResponseObject,
    enum_ref,
    id_field,
    list_of,
    path_parameter,
    set_property,
)
from payments.api.schema.payments import Address, Failure, Notification
from payments.api.schema.requests import StrictSerializerSchema

STATUSES = ["incomplete", "active", "past_due", "paused", "canceled", "ended"]
INTERVALS = ["month", "year"]
CANCELED_BY = ["api", "merchant", "subscriber", "payment_failed", "first_payment"]
DATE_PATTERN = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"

STATUS_DESCRIPTION = (
    "`incomplete` until the first payment is made on the hosted page; `active`; `past_due` while a "
    "declined charge is being retried; `paused` (nothing charged); `canceled` (see `canceled_by`); "
    "`ended` once `end_date` or `max_charges` is reached."
)


class SubscriptionCard(ResponseObject):
    """The card the charges are taken on."""

    id = id_field("card")
    brand = Enum(CARD_BRANDS)
    last4 = Pattern("^[0-9]{4}$")
    exp_month = serializers.IntegerField(min_value=1, max_value=12)
    exp_year = serializers.IntegerField(min_value=1000, max_value=9999)


class SubscriptionConsent(ResponseObject):
    """The subscriber's consent to the future charges, given on the hosted page."""

    given_at = serializers.IntegerField()
    text = serializers.CharField(help_text="The exact words the subscriber agreed to.")


class SubscriptionHostedPayment(ResponseObject):
    payment_url = serializers.URLField(
        allow_null=True,
        help_text="The page where the subscriber makes the first payment and consents; null once started.",
    )
    return_url = serializers.CharField(allow_null=True)
    cancel_url = serializers.CharField(allow_null=True)


class Subscription(ResponseObject):
    """A subscription (our extension). Timestamps are Unix seconds, amounts are cents, dates are days
    (YYYY-MM-DD) in the merchant's time zone."""

    id = id_field("sub")
    object = Constant("subscription", "SubscriptionObjectType")
    is_live = serializers.BooleanField()
    status = Enum(STATUSES, "SubscriptionStatus", STATUS_DESCRIPTION)
    amount = serializers.IntegerField(min_value=0, help_text="Charged every period, in cents.")
    currency = Enum(["EUR"])
    interval = Enum(INTERVALS, "SubscriptionInterval", "The period's unit.")
    interval_count = serializers.IntegerField(min_value=1, help_text="Months or years between two charges.")
    start_date = serializers.DateField(help_text="The first charge's day.")
    end_date = serializers.DateField(allow_null=True, help_text="No charge after this day; null: none.")
    max_charges = serializers.IntegerField(allow_null=True, min_value=1, help_text="Ends after this many charges.")
    description = serializers.CharField(allow_null=True)
    created_at = serializers.IntegerField()
    activated_at = serializers.IntegerField(allow_null=True, help_text="When the first payment went through.")
    paused_at = serializers.IntegerField(allow_null=True)
    canceled_at = serializers.IntegerField(allow_null=True)
    canceled_by = Enum(
        CANCELED_BY,
        "SubscriptionCanceledBy",
        "Who canceled it: `api`, `merchant` (dashboard), `subscriber` (their page), `payment_failed` (the "
        "last retry was declined), `first_payment` (the first payment was never made).",
        allow_null=True,
    )
    ended_at = serializers.IntegerField(allow_null=True)
    next_charge_date = serializers.DateField(allow_null=True, help_text="Day of the next charge, null if none.")
    paid_charges = serializers.IntegerField(min_value=0)
    payment_ids = serializers.ListField(
        child=id_field("pay"),
        help_text="Every payment of the subscription's periods, oldest first: the first page, the charges, "
        "their retries and the pages emailed after a decline (card checks, which charge nothing, are not listed).",
    )
    card = SubscriptionCard(allow_null=True)
    failure = Failure(allow_null=True, help_text="The last decline, else null.")
    consent = SubscriptionConsent(allow_null=True)
    billing = Address()
    hosted_payment = SubscriptionHostedPayment()
    notification = Notification()
    metadata = api_fields.MetadataField()


SubscriptionList = list_of(Subscription, "SubscriptionList")
SUBSCRIPTION_ID = path_parameter("subscription_id", "sub", "subscription")
STATUS_PARAMETER = OpenApiParameter(
    "status",
    {"type": "string", "enum": STATUSES},
    OpenApiParameter.QUERY,
    required=False,
    description="Only the subscriptions in this status.",
)


# --- request bodies -------------------------------------------------------------------------------


def _create(schema, serializer, registry):
    props = schema["properties"]
    set_property(
        schema,
        "amount",
        minimum=99,
        maximum=2_000_000,
        description="Cents charged every period, 99 to 2 000 000 (a merchant's settings may narrow the range).",
    )
    props["currency"] = {"type": "string", "enum": ["EUR"]}
    props["interval"] = {"allOf": [enum_ref(registry, "SubscriptionInterval", INTERVALS)]}
    set_property(
        schema,
        "interval_count",
        minimum=1,
        maximum=12,
        default=1,
        description="Periods between two charges: 1 to 12 months, or 1 to 3 years.",
    )
    for name, text in (
        (
            "start_date",
            "The first charge's day, today (the default) to 365 days ahead, in the merchant's time "
            "zone. After today, the hosted page checks the card without charging it.",
        ),
        ("end_date", "No charge after this day; after `start_date`. Not with `max_charges`."),
    ):
        set_property(schema, name, format="date", pattern=DATE_PATTERN, description=text)
    set_property(schema, "max_charges", minimum=1, description="Ends after this many charges. Not with `end_date`.")
    set_property(schema, "description", description="Shown to the subscriber (hosted page, emails, their page).")
    schema["properties"]["billing"] = {
        "allOf": [
            props["billing"],
            {"required": ["email"], "properties": {"email": {"type": "string", "minLength": 1}}},
        ],
        "description": "The subscriber's address; `email` is required (receipts, declined charges, their page).",
    }
    set_property(schema, "notification_url", description="Receives the subscription's payments and its end.")
    schema["description"] = (
        "A fixed `amount` charged every `interval_count` `interval`s from `start_date`, until `end_date`, "
        "`max_charges` charges, or cancellation."
    )


def _hosted_payment(schema, serializer, registry):
    set_property(schema, "return_url", description="Where the subscriber goes after the first payment.")
    set_property(schema, "cancel_url", description="Where the page's cancel link goes (default: `return_url`).")


def _update(schema, serializer, registry):
    schema["properties"]["paused"] = {
        "type": "boolean",
        "description": "`true` pauses the subscription (nothing is charged), `false` resumes it.",
    }
    schema["properties"]["canceled"] = {
        "allOf": [enum_ref(registry, "ActionFlag", [True])],
        "description": "Cancels the subscription: nothing more is charged.",
    }
    schema["minProperties"] = 1
    schema["maxProperties"] = 1
    schema["description"] = 'Exactly one change: `{"paused": true}`, `{"paused": false}` or `{"canceled": true}`.'


REQUEST_TWEAKS = {
    "SubscriptionCreateSerializer": _create,
    "SubscriptionHostedPaymentSerializer": _hosted_payment,
    "SubscriptionUpdateSerializer": _update,
}


class SubscriptionBodySchema(StrictSerializerSchema):
    """The subscription bodies: every `StrictSerializer` rule, then this module's adjustments."""

    target_class = "payments.api.subscriptions.SubscriptionBody"
    match_subclasses = True
    priority = 1

    def map_serializer(self, auto_schema, direction):
        schema = super().map_serializer(auto_schema, direction)
        REQUEST_TWEAKS[type(self.target).__name__](schema, self.target, auto_schema.registry)
        return schema


# --- texts and examples ---------------------------------------------------------------------------

CREATE_DESCRIPTION = (
    "**Our extension.** The subscriber makes the first payment at `hosted_payment.payment_url` and consents "
    "there to the future charges (the card is kept for them); each later period is charged on its day as a "
    "merchant-initiated payment on that card. A declined charge is retried 1, 3 and 7 days later, the "
    "subscriber being emailed a page to pay with another card; after the last retry the subscription is "
    "canceled (`canceled_by: payment_failed`)."
)

UPDATE_DESCRIPTION = (
    '`{"paused": true}` pauses an active or past-due subscription (nothing is charged; the periods whose '
    'day passes meanwhile are skipped), `{"paused": false}` resumes a paused one, `{"canceled": true}` '
    "cancels it (nothing more is charged; paid charges stay paid). Pausing one that is not active or past due "
    "→ 400 `subscription_not_active`; resuming one that is not paused, active or past due → 400 "
    "`subscription_not_paused`; pausing a paused one, resuming an active one, or canceling a canceled or ended "
    "one returns it unchanged."
)

TEST_CLOCK_DESCRIPTION = (
    "**Our extension, test mode only** (live mode → 403 `feature_not_enabled`). Moves the subscription's "
    "clock `advance_days` days forward and charges at once what became due on the new date, by the same "
    "code the scheduler runs: charges, retries after a decline, emails and notifications happen as they "
    "would on those days. Returns the subscription."
)

SUBSCRIPTION_CREATE_EXAMPLES = [
    OpenApiExample(
        "Monthly donation",
        value={
            "amount": 1000,
            "currency": "EUR",
            "interval": "month",
            "description": "Monthly donation",
            "billing": {"first_name": "Jeanne", "last_name": "Martin", "email": "jeanne@example.org"},
            "hosted_payment": {
                "return_url": "https://asso.example.org/thanks",
                "cancel_url": "https://asso.example.org/donate",
            },
            "notification_url": "https://asso.example.org/ipn",
            "metadata": {"member_id": "1042"},
        },
        request_only=True,
    ),
    OpenApiExample(
        "Yearly membership, 3 years",
        value={
            "amount": 4500,
            "currency": "EUR",
            "interval": "year",
            "max_charges": 3,
            "billing": {"email": "jeanne@example.org"},
            "hosted_payment": {"return_url": "https://asso.example.org/welcome"},
        },
        request_only=True,
    ),
]

SUBSCRIPTION_UPDATE_EXAMPLES = [
    OpenApiExample("Pause", value={"paused": True}, request_only=True),
    OpenApiExample("Resume", value={"paused": False}, request_only=True),
    OpenApiExample("Cancel", value={"canceled": True}, request_only=True),
]
