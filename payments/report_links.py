"""The signed temporary link of an accounting report's file (spec §11): what the API object shows
(`representations.accounting_report`) and what `payments.money.reports.report_for_token` checks."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.urls import reverse

FILE_LIFETIME = timedelta(hours=24)
SIGNING_SALT = "payments.accounting_report"


def temporary_url(report) -> str:
    """A link to the report's file that works, without an API key, until the file expires."""
    token = signing.dumps(
        {"r": report.public_id, "u": int(report.file_available_until.timestamp())}, salt=SIGNING_SALT, compress=True
    )
    return settings.PUBLIC_BASE_URL + reverse("dashboard:accounting_report_file", args=[token])
