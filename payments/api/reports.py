"""`/v1/accounting_reports` (spec §11): create and retrieve. The signed temporary file link is served
by payments.money.reports.serve_temporary_link (the dashboard's URL)."""

from __future__ import annotations

import re
from datetime import date, timedelta

from django.utils import timezone
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from payments import representations
from payments.api import schema
from payments.api.docs import api_operation
from payments.api.fields import HttpUrlField
from payments.api.idempotency import idempotent
from payments.models import AccountingReport
from payments.money import reports
from payplug.api import StrictCharField, StrictSerializer
from payplug.api_views import ApiView

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class DateField(StrictCharField):
    default_error_messages = {"invalid": "must be a date (YYYY-MM-DD).", "invalid_date": "must be a date (YYYY-MM-DD)."}

    def to_internal_value(self, data):
        text = super().to_internal_value(data)
        if not _DATE.match(text):
            self.fail("invalid_date")
        try:
            return date.fromisoformat(text)
        except ValueError:
            self.fail("invalid_date")


class AccountingReportCreateSerializer(StrictSerializer):
    start_date = DateField()
    end_date = DateField()
    notification_url = HttpUrlField(required=False, allow_null=True, https_only_in_live=True)

    def validate(self, data):
        start, end = data["start_date"], data["end_date"]
        today = timezone.now().date()  # UTC days (TIME_ZONE is UTC)
        if end < start:
            raise serializers.ValidationError({"end_date": "must not be before start_date."})
        if end > today:
            raise serializers.ValidationError({"end_date": f"must not be after today ({today.isoformat()}, UTC)."})
        if end - start >= timedelta(days=reports.MAX_DAYS):
            raise serializers.ValidationError({"end_date": f"the range must not exceed {reports.MAX_DAYS} days."})
        return data


class AccountingReportCreate(ApiView):
    @api_operation(
        "accounting_reports_create",
        "accounting reports",
        "Create an accounting report",
        schema.AccountingReport,
        status=201,
        request=AccountingReportCreateSerializer,
        errors=(400, 401, 403, 409, 413, 429),
        examples=schema.ACCOUNTING_REPORT_CREATE_EXAMPLES,
    )
    @idempotent
    def post(self, request):
        serializer = AccountingReportCreateSerializer(
            data=self.json_body(), context={"merchant": self.get_merchant(), "is_live": self.is_live}
        )
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        report = reports.create_report(
            self.get_merchant(),
            self.is_live,
            data["start_date"],
            data["end_date"],
            data.get("notification_url"),
            created_by=f"api {request.auth.key.prefix}",
        )
        # Rendered as created (pending), even when an eager worker already produced the file.
        return Response(representations.accounting_report(report), status=201)


class AccountingReportDetail(ApiView):
    @api_operation(
        "accounting_reports_retrieve",
        "accounting reports",
        "Retrieve an accounting report",
        schema.AccountingReport,
        parameters=[schema.REPORT_ID],
    )
    def get(self, request, report_id):
        report = (
            AccountingReport.objects.for_tenant(self.get_merchant(), self.is_live).filter(public_id=report_id).first()
        )
        if report is None:
            raise NotFound()
        return Response(representations.accounting_report(report))
