"""`/v1/installment_plans` (addendum §17): create, retrieve, abort; and the test clock (our extension).

The PHP SDK's `InstallmentPlan::listPayments` retrieves the plan and then each payment of
`schedule[].payment_ids` through `/v1/payments/{id}`: no route of its own.
"""

from __future__ import annotations

from rest_framework import exceptions, serializers
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from payments import installments
from payments.api.docs import WRITE_ERRORS, api_operation
from payments.api.fields import AddressSerializer, HttpUrlField, MetadataField, ShippingSerializer
from payments.api.idempotency import idempotent
from payments.api.schema.installment_plans import (
    INSTALLMENT_PLAN_CREATE_EXAMPLES,
    INSTALLMENT_PLAN_ID,
    TEST_CLOCK_DESCRIPTION,
)
from payments.api.schema.installment_plans import (
    InstallmentPlan as InstallmentPlanSchema,
)
from payments.api.views import PaymentsApiView
from payments.errors import PaymentError
from payments.models import InstallmentPlan
from payplug.api import (
    ApiError,
    StrictBooleanField,
    StrictCharField,
    StrictIntegerField,
    StrictSerializer,
    flatten_validation_errors,
)


class RawField(serializers.JSONField):
    """Taken as sent: payments.installments.parse_schedule validates it (and names `schedule[2].date`)."""

    def to_internal_value(self, data):
        return data


class PlanHostedPaymentSerializer(StrictSerializer):
    return_url = HttpUrlField()
    cancel_url = HttpUrlField(required=False, allow_null=True)


class InstallmentPlanCreateSerializer(StrictSerializer):
    currency = StrictCharField()
    schedule = RawField(required=False)
    billing = AddressSerializer(required=False, required_names=True)
    customer = AddressSerializer(required=False, required_names=True)  # legacy alias of billing
    shipping = ShippingSerializer(required=False, allow_null=True)
    hosted_payment = PlanHostedPaymentSerializer()
    notification_url = HttpUrlField(required=False, allow_null=True, https_only_in_live=True)
    metadata = MetadataField(required=False)

    def validate_currency(self, value):
        if value != "EUR":
            raise serializers.ValidationError("only EUR is supported.")
        return value

    def validate(self, attrs):
        if "billing" not in attrs and "customer" in attrs:
            attrs["billing"] = attrs["customer"]
        attrs.pop("customer", None)
        if "billing" not in attrs:
            raise serializers.ValidationError({"billing": "is required."})
        return attrs


class InstallmentPlanUpdateSerializer(StrictSerializer):
    aborted = StrictBooleanField()

    def validate_aborted(self, value):
        if value is not True:
            raise serializers.ValidationError('the only change is {"aborted": true}.')
        return value


class TestClockSerializer(StrictSerializer):
    advance_days = StrictIntegerField()


class InstallmentPlansApiView(PaymentsApiView):
    def get_plan(self, plan_id: str) -> InstallmentPlan:
        plan = self.tenant(InstallmentPlan).filter(public_id=plan_id).select_related("merchant").first()
        if plan is None:
            raise NotFound()
        return plan


class InstallmentPlanCreate(InstallmentPlansApiView):
    @api_operation(
        "installment_plans_create",
        "installment plans",
        "Create an installment plan",
        InstallmentPlanSchema,
        status=201,
        description="A schedule of 2 to 4 installments: the shopper pays the first at "
        "`hosted_payment.payment_url` (the card is kept for the plan), the later ones are charged on their "
        "date as merchant-initiated payments on that card.",
        request=InstallmentPlanCreateSerializer,
        errors=(400, 401, 403, 409, 413, 429),
        examples=INSTALLMENT_PLAN_CREATE_EXAMPLES,
    )
    @idempotent
    def post(self, request):
        merchant, body = self.get_merchant(), self.json_body()
        details, message, data = {}, None, None
        try:
            data = self.validated(InstallmentPlanCreateSerializer)
        except exceptions.ValidationError as exc:
            details, message = flatten_validation_errors(exc.detail)
        if "schedule" not in details:
            today = installments.plan_today(merchant)
            try:
                schedule = installments.parse_schedule(body.get("schedule"), merchant, today)
            except PaymentError as exc:
                details = {**details, **exc.details}
                message = message or exc.message
        if details:
            raise ApiError("invalid_request", message, details=details)
        if self.is_live and not merchant.live_save_card_enabled:
            raise ApiError(
                "feature_not_enabled",
                "Installment plans keep the card: saving cards is not enabled for this account in live mode.",
                status=403,
            )
        hosted = data["hosted_payment"]
        plan = installments.create_plan(
            merchant,
            self.is_live,
            installments.NewPlan(
                schedule=schedule,
                billing=data["billing"],
                shipping=data.get("shipping"),
                return_url=hosted["return_url"],
                cancel_url=hosted.get("cancel_url"),
                notification_url=data.get("notification_url"),
                metadata=data.get("metadata") or {},
                currency=data["currency"],
            ),
        )
        return Response(installments.plan_object(plan), status=201)


class InstallmentPlanDetail(InstallmentPlansApiView):
    @api_operation(
        "installment_plans_retrieve",
        "installment plans",
        "Retrieve an installment plan",
        InstallmentPlanSchema,
        parameters=[INSTALLMENT_PLAN_ID],
    )
    def get(self, request, installment_plan_id):
        return Response(installments.plan_object(self.get_plan(installment_plan_id)))

    @api_operation(
        "installment_plans_abort",
        "installment plans",
        "Abort an installment plan",
        InstallmentPlanSchema,
        description='`{"aborted": true}`: nothing more is charged; paid installments stay paid (refund them '
        "one by one). Aborting an inactive plan returns it unchanged.",
        request=InstallmentPlanUpdateSerializer,
        parameters=[INSTALLMENT_PLAN_ID],
        errors=WRITE_ERRORS,
    )
    @idempotent
    def patch(self, request, installment_plan_id):
        plan = self.get_plan(installment_plan_id)
        self.validated(InstallmentPlanUpdateSerializer)
        plan = installments.abort_plan(plan)
        return Response(installments.plan_object(plan))


class InstallmentPlanTestClock(InstallmentPlansApiView):
    @api_operation(
        "installment_plans_advance_test_clock",
        "installment plans",
        "Advance the test clock of an installment plan",
        InstallmentPlanSchema,
        description=TEST_CLOCK_DESCRIPTION,
        request=TestClockSerializer,
        parameters=[INSTALLMENT_PLAN_ID],
        errors=WRITE_ERRORS,
    )
    @idempotent
    def post(self, request, installment_plan_id):
        plan = self.get_plan(installment_plan_id)
        if self.is_live:
            raise ApiError("feature_not_enabled", "Test clocks exist in test mode only.", status=403)
        data = self.validated(TestClockSerializer)
        plan = installments.advance_clock(plan, data["advance_days"])
        return Response(installments.plan_object(plan))
