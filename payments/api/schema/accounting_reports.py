"""Accounting reports (spec §11): the `AccountingReport` component, the create body, the example."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample
from rest_framework import serializers

from payments.api.schema.common import Constant, Enum, ResponseObject, id_field, path_parameter, set_property


class AccountingReport(ResponseObject):
    """An accounting report (spec §11): a CSV of the ledger operations of a range of UTC days."""

    id = id_field("ar")
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


REPORT_ID = path_parameter("report_id", "ar", "accounting report")


def _accounting_report_create(schema, serializer, registry):
    for name in ("start_date", "end_date"):
        set_property(
            schema, name, format="date", pattern="^[0-9]{4}-[0-9]{2}-[0-9]{2}$", description="UTC day, inclusive."
        )
    schema["description"] = (
        "`start_date` ≤ `end_date` ≤ today (UTC), at most 366 days; the report is produced asynchronously and "
        "notified to `notification_url` when available."
    )


REQUEST_TWEAKS = {"AccountingReportCreateSerializer": _accounting_report_create}

ACCOUNTING_REPORT_CREATE_EXAMPLES = [
    OpenApiExample(
        "March",
        value={"start_date": "2026-03-01", "end_date": "2026-03-31"},
        request_only=True,
    )
]
