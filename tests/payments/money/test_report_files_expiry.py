"""An accounting report's file is deleted from storage once its 24 hours are over (issue 12,
finding 1: "expired reports deleted")."""

from datetime import timedelta

import pytest
from celery import current_app
from django.conf import settings as django_settings
from django.core.files.storage import default_storage
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from payments import report_links
from payments.models import AccountingReport
from payments.money import reports
from tests.payments.money.test_ledger_tripwire import ledger_tripwire  # noqa: F401  autouse: check_ledger after each test


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


def generated(merchant, at) -> AccountingReport:
    """A report generated at `at` (its file then stays available until at + 24 h)."""
    today = timezone.now().date()
    report = AccountingReport.objects.create(
        merchant=merchant, is_live=False, start_date=today - timedelta(days=3), end_date=today
    )
    report = reports.generate(report.pk, now=at)
    assert report.status == AccountingReport.Status.AVAILABLE and default_storage.exists(report.file.name)
    return report


def test_an_expired_reports_file_is_deleted_and_an_unexpired_one_stays(merchant_a):
    now = timezone.now()
    old = generated(merchant_a, now - timedelta(hours=25))
    fresh = generated(merchant_a, now - timedelta(hours=1))
    old_name, fresh_name = old.file.name, fresh.file.name

    assert reports.delete_expired_files(now=now) == 1

    assert not default_storage.exists(old_name)
    assert default_storage.exists(fresh_name)
    old.refresh_from_db()
    fresh.refresh_from_db()
    assert not old.file and old.current_status(now) == AccountingReport.Status.EXPIRED
    assert fresh.file.name == fresh_name and fresh.current_status(now) == AccountingReport.Status.AVAILABLE


def test_running_twice_is_harmless(merchant_a):
    now = timezone.now()
    old = generated(merchant_a, now - timedelta(days=3))
    fresh = generated(merchant_a, now)

    assert reports.delete_expired_files(now=now) == 1
    assert reports.delete_expired_files(now=now) == 0

    old.refresh_from_db()
    assert old.current_status(now) == AccountingReport.Status.EXPIRED and not old.file
    assert default_storage.exists(fresh.file.name)


def test_a_file_already_gone_from_storage_does_not_stop_the_job(merchant_a):
    now = timezone.now()
    first = generated(merchant_a, now - timedelta(days=2))
    second = generated(merchant_a, now - timedelta(days=2))
    default_storage.delete(first.file.name)

    assert reports.delete_expired_files(now=now) == 2

    assert not default_storage.exists(second.file.name)
    first.refresh_from_db()
    assert not first.file


def test_the_file_is_deleted_exactly_when_its_time_is_over(merchant_a):
    generated_at = timezone.now() - timedelta(hours=2)
    report = generated(merchant_a, generated_at)
    until = report.file_available_until

    assert reports.delete_expired_files(now=until - timedelta(seconds=1)) == 0
    assert default_storage.exists(report.file.name)
    assert reports.delete_expired_files(now=until) == 1
    assert not default_storage.exists(report.file.name)


def test_after_the_job_the_api_and_the_dashboard_say_expired_and_serve_nothing(api, alice_client, merchant_a):
    now = timezone.now()
    report = generated(merchant_a, now - timedelta(hours=25))
    link = report_links.temporary_url(report)
    reports.delete_expired_files()

    listed = api.get(f"/v1/accounting_reports/{report.public_id}").json()
    path = "/" + link.split("://", 1)[1].split("/", 1)[1]

    assert listed["status"] == "expired" and listed["temporary_url"] is None
    assert Client().get(path).status_code == 404
    assert alice_client.get(reverse("dashboard:accounting_download", args=[report.public_id])).status_code == 404


def test_a_pending_or_failed_report_is_left_alone(merchant_a):
    today = timezone.now().date()
    pending = AccountingReport.objects.create(merchant=merchant_a, is_live=False, start_date=today, end_date=today)
    failed = AccountingReport.objects.create(
        merchant=merchant_a, is_live=False, start_date=today, end_date=today, status=AccountingReport.Status.FAILED
    )

    assert reports.delete_expired_files(now=timezone.now() + timedelta(days=30)) == 0

    assert AccountingReport.objects.get(pk=pending.pk).status == AccountingReport.Status.PENDING
    assert AccountingReport.objects.get(pk=failed.pk).status == AccountingReport.Status.FAILED


def test_the_job_is_a_task_on_the_beat_schedule(merchant_a):
    report = generated(merchant_a, timezone.now() - timedelta(days=2))
    scheduled = {entry["task"] for entry in django_settings.CELERY_BEAT_SCHEDULE.values()}

    assert "payments.delete_expired_report_files" in scheduled
    assert current_app.tasks["payments.delete_expired_report_files"].apply(throw=True).result == 1
    assert not default_storage.exists(report.file.name)
