"""Installment plans (addendum §17): the `InstallmentPlan` component, the bodies, the examples,
and the test clock (our extension)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample
from rest_framework import serializers

from payments.api import fields as api_fields
from payments.api.schema.common import (
    Constant,
    Enum,
    ResponseObject,
    id_field,
    path_parameter,
    set_property,
)
from payments.api.schema.payments import Address, Failure, Notification, ShippingAddressOut


class ScheduleItem(ResponseObject):
    date = serializers.DateField(help_text="Day of the installment (YYYY-MM-DD), in the merchant's time zone.")
    amount = serializers.IntegerField(min_value=0)
    payment_ids = serializers.ListField(
        child=id_field("pay"), help_text="Every payment made for this installment, retries included, oldest first."
    )


class PlanHostedPayment(ResponseObject):
    payment_url = serializers.URLField(
        allow_null=True, help_text="The page where the shopper pays the first installment."
    )
    return_url = serializers.CharField(allow_null=True)
    cancel_url = serializers.CharField(allow_null=True)


class InstallmentPlan(ResponseObject):
    """An installment plan (addendum §17.1). Timestamps are Unix seconds, amounts are cents."""

    id = id_field("inst")
    object = Constant("installment_plan", "InstallmentPlanObjectType")
    is_live = serializers.BooleanField()
    currency = Enum(["EUR"])
    created_at = serializers.IntegerField()
    is_active = serializers.BooleanField(help_text="False once fully paid, aborted, or failed for good.")
    is_fully_paid = serializers.BooleanField()
    schedule = ScheduleItem(many=True)
    failure = Failure(allow_null=True, help_text="The decline that ended the plan, else null.")
    billing = Address()
    shipping = ShippingAddressOut(allow_null=True)
    hosted_payment = PlanHostedPayment()
    notification = Notification()
    metadata = api_fields.MetadataField()


INSTALLMENT_PLAN_ID = path_parameter("installment_plan_id", "inst", "installment plan")


def _plan_create(schema, serializer, registry):
    props = schema["properties"]
    props["currency"] = {"type": "string", "enum": ["EUR"]}
    props["schedule"] = {
        "type": "array",
        "minItems": 2,
        "maxItems": 4,
        "description": "Two to four installments. The first `date` is `\"TODAY\"` or today's date (merchant's "
        "time zone) and is paid on the hosted page; each later date is after the one before and at most 365 "
        "days ahead, charged on that day on the card saved by the first payment. Each amount within the "
        "payment limits (cents, 99 to 2 000 000, or the merchant's narrower range). An invalid item is named "
        "by its 0-based position: `schedule[2].date`.",
        "items": {
            "type": "object",
            "additionalProperties": False,
            "required": ["date", "amount"],
            "properties": {
                "date": {"type": "string", "pattern": "^(TODAY|[0-9]{4}-[0-9]{2}-[0-9]{2})$"},
                "amount": {"type": "integer", "minimum": 99, "maximum": 2_000_000},
            },
        },
    }
    set_property(
        schema, "billing", description="The payer's address; `first_name`, `last_name` and `email` are required."
    )
    set_property(schema, "customer", description="Legacy alias of `billing`, used only when `billing` is absent.")
    set_property(schema, "hosted_payment", description="`return_url` is required.")
    set_property(schema, "notification_url", description="Receives every installment payment and the plan's end.")
    schema["required"] = sorted({"currency", "schedule", "hosted_payment"})
    schema["anyOf"] = [{"required": ["billing"]}, {"required": ["customer"]}]


def _plan_hosted_payment(schema, serializer, registry):
    schema["required"] = ["return_url"]


def _plan_update(schema, serializer, registry):
    schema["properties"]["aborted"] = {"type": "boolean", "enum": [True]}
    schema["required"] = ["aborted"]


def _test_clock(schema, serializer, registry):
    set_property(schema, "advance_days", minimum=1, maximum=366)
    schema["required"] = ["advance_days"]


REQUEST_TWEAKS = {
    "InstallmentPlanCreateSerializer": _plan_create,
    "PlanHostedPaymentSerializer": _plan_hosted_payment,
    "InstallmentPlanUpdateSerializer": _plan_update,
    "TestClockSerializer": _test_clock,
}

TEST_CLOCK_DESCRIPTION = (
    "**Our extension, test mode only** (live mode → 403 `feature_not_enabled`). Moves the plan's clock "
    "`advance_days` days forward and charges at once what became due on the new date, by the same code "
    "the scheduler runs: payments, retries after a decline, emails and notifications happen as they would "
    "on those days. Returns the plan."
)

INSTALLMENT_PLAN_CREATE_EXAMPLES = [
    OpenApiExample(
        "Three installments",
        value={
            "currency": "EUR",
            "schedule": [
                {"date": "TODAY", "amount": 15000},
                {"date": "2027-01-03", "amount": 15000},
                {"date": "2027-02-03", "amount": 15000},
            ],
            "billing": {"first_name": "Jeanne", "last_name": "Martin", "email": "jeanne@example.org"},
            "hosted_payment": {
                "return_url": "https://shop.example.org/ok",
                "cancel_url": "https://shop.example.org/ko",
            },
            "notification_url": "https://shop.example.org/ipn",
            "metadata": {"order_id": "42"},
        },
        request_only=True,
    )
]
