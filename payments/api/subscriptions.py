"""`/v1/subscriptions` (our extension, in the spirit of the v1 API): create, list, retrieve, pause,
resume and cancel; and the test clock. The rules are payments.subscriptions'; this module parses,
scopes by the key's merchant and mode, and renders `subscriptions.subscription_object`."""

from __future__ import annotations

from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from payments import subscriptions
from payments.api.docs import PAGE_PARAMETER, WRITE_ERRORS, api_operation, per_page_parameter
from payments.api.fields import AddressSerializer, HttpUrlField, MetadataField
from payments.api.idempotency import idempotent
from payments.api.installments import TestClockSerializer
from payments.api.reports import DateField
from payments.api.schema.subscriptions import (
    CREATE_DESCRIPTION,
    STATUS_PARAMETER,
    SUBSCRIPTION_CREATE_EXAMPLES,
    SUBSCRIPTION_ID,
    SUBSCRIPTION_UPDATE_EXAMPLES,
    TEST_CLOCK_DESCRIPTION,
    UPDATE_DESCRIPTION,
    SubscriptionList,
)
from payments.api.schema.subscriptions import Subscription as SubscriptionSchema
from payments.api.views import PaymentsApiView, paginate
from payments.models import Subscription
from payplug.api import ApiError, StrictBooleanField, StrictCharField, StrictIntegerField, StrictSerializer


class SubscriptionBody(StrictSerializer):
    """Base of the subscription request bodies (documented by payments.api.schema.subscriptions)."""


class SubscriptionHostedPaymentSerializer(SubscriptionBody):
    return_url = HttpUrlField()
    cancel_url = HttpUrlField(required=False, allow_null=True)


class SubscriptionCreateSerializer(SubscriptionBody):
    """The JSON types; the rules on values (bounds, dates) are payments.subscriptions.validate's."""

    amount = StrictIntegerField()
    currency = StrictCharField()
    interval = StrictCharField()
    interval_count = StrictIntegerField(required=False)
    start_date = DateField(required=False, allow_null=True)
    end_date = DateField(required=False, allow_null=True)
    max_charges = StrictIntegerField(required=False, allow_null=True)
    description = StrictCharField(required=False, allow_null=True, allow_blank=True, max_length=255)
    billing = AddressSerializer()
    hosted_payment = SubscriptionHostedPaymentSerializer()
    notification_url = HttpUrlField(required=False, allow_null=True, https_only_in_live=True)
    metadata = MetadataField(required=False)

    def validate_currency(self, value):
        if value != "EUR":
            raise serializers.ValidationError("only EUR is supported.")
        return value

    def validate_billing(self, value):
        if not value.get("email"):
            raise serializers.ValidationError({"email": "is required."})
        return value


class SubscriptionUpdateSerializer(SubscriptionBody):
    paused = StrictBooleanField(required=False)
    canceled = StrictBooleanField(required=False)

    def validate_canceled(self, value):
        if value is not True:
            raise serializers.ValidationError('the only cancellation is {"canceled": true}.')
        return value

    def validate(self, attrs):
        if len(attrs) != 1:
            raise serializers.ValidationError(
                {
                    "non_field_errors": 'the body must hold exactly one change: {"paused": true}, '
                    '{"paused": false} or {"canceled": true}.'
                }
            )
        return attrs


class SubscriptionsApiView(PaymentsApiView):
    def get_subscription(self, subscription_id: str) -> Subscription:
        sub = self.tenant(Subscription).filter(public_id=subscription_id).select_related("merchant").first()
        if sub is None:
            raise NotFound()
        return sub


def _status_filter(request) -> str | None:
    value = request.query_params.get("status")
    if value is None or value == "":
        return None
    if value not in Subscription.Status.values:
        rule = "must be one of: " + ", ".join(Subscription.Status.values) + "."
        raise ApiError("invalid_request", f"status: {rule}", details={"status": rule})
    return value


class SubscriptionListCreate(SubscriptionsApiView):
    @api_operation(
        "subscriptions_list",
        "subscriptions",
        "List subscriptions",
        SubscriptionList,
        description="The caller's subscriptions in its mode, newest first; `status` keeps one status.",
        parameters=[STATUS_PARAMETER, PAGE_PARAMETER, per_page_parameter(10)],
        errors=(400, 401, 403, 429),
    )
    def get(self, request):
        status = _status_filter(request)
        queryset = self.tenant(Subscription).select_related("merchant")
        if status is not None:
            queryset = queryset.filter(status=status)
        return Response(paginate(request, queryset, None, render_page=subscriptions.subscription_objects))

    @api_operation(
        "subscriptions_create",
        "subscriptions",
        "Create a subscription",
        SubscriptionSchema,
        status=201,
        description=CREATE_DESCRIPTION,
        request=SubscriptionCreateSerializer,
        errors=(400, 401, 403, 409, 413, 429),
        examples=SUBSCRIPTION_CREATE_EXAMPLES,
    )
    @idempotent
    def post(self, request):
        merchant = self.get_merchant()
        data = self.validated(SubscriptionCreateSerializer)  # then the engine's rules (live: saved cards)
        hosted = data["hosted_payment"]
        new = subscriptions.NewSubscription(
            amount=data["amount"],
            interval=data["interval"],
            billing=data["billing"],
            return_url=hosted["return_url"],
            cancel_url=hosted.get("cancel_url"),
            interval_count=data.get("interval_count", 1),
            currency=data["currency"],
            start_date=data.get("start_date"),
            end_date=data.get("end_date"),
            max_charges=data.get("max_charges"),
            description=data.get("description") or None,
            notification_url=data.get("notification_url"),
            metadata=data.get("metadata") or {},
            source="api",
        )
        sub = subscriptions.create_subscription(merchant, self.is_live, new)
        return Response(subscriptions.subscription_object(sub), status=201)


class SubscriptionDetail(SubscriptionsApiView):
    @api_operation(
        "subscriptions_retrieve",
        "subscriptions",
        "Retrieve a subscription",
        SubscriptionSchema,
        parameters=[SUBSCRIPTION_ID],
    )
    def get(self, request, subscription_id):
        return Response(subscriptions.subscription_object(self.get_subscription(subscription_id)))

    @api_operation(
        "subscriptions_update",
        "subscriptions",
        "Pause, resume or cancel a subscription",
        SubscriptionSchema,
        description=UPDATE_DESCRIPTION,
        request=SubscriptionUpdateSerializer,
        parameters=[SUBSCRIPTION_ID],
        errors=WRITE_ERRORS,
        examples=SUBSCRIPTION_UPDATE_EXAMPLES,
    )
    @idempotent
    def patch(self, request, subscription_id):
        sub = self.get_subscription(subscription_id)
        change = self.validated(SubscriptionUpdateSerializer)
        if "canceled" in change:
            sub = subscriptions.cancel(sub, by=Subscription.CanceledBy.API)
        elif change["paused"]:
            sub = subscriptions.pause(sub, by=Subscription.CanceledBy.API)
        else:
            sub = subscriptions.resume(sub, by=Subscription.CanceledBy.API)
        return Response(subscriptions.subscription_object(sub))


class SubscriptionTestClock(SubscriptionsApiView):
    @api_operation(
        "subscriptions_advance_test_clock",
        "subscriptions",
        "Advance the test clock of a subscription",
        SubscriptionSchema,
        description=TEST_CLOCK_DESCRIPTION,
        request=TestClockSerializer,
        parameters=[SUBSCRIPTION_ID],
        errors=WRITE_ERRORS,
    )
    @idempotent
    def post(self, request, subscription_id):
        sub = self.get_subscription(subscription_id)
        if self.is_live:
            raise ApiError("feature_not_enabled", "Test clocks exist in test mode only.", status=403)
        data = self.validated(TestClockSerializer)
        sub = subscriptions.advance_clock(sub, data["advance_days"])
        return Response(subscriptions.subscription_object(sub))
