"""`/v1/accounting_reports` (spec §11): validation, asynchronous CSV, signed link that expires, IPN."""

import csv
import io
from datetime import timedelta
from unittest import mock

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from notifications.models import Event
from payments.models import AccountingReport
from payments.money import reports
from tests.payments.helpers import create_payment, pay
from tests.payments.money.test_ledger_tripwire import ledger_tripwire  # noqa: F401  autouse: check_ledger after each test


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


def today():
    return timezone.now().date()


def body(**overrides):
    data = {"start_date": (today() - timedelta(days=30)).isoformat(), "end_date": today().isoformat()}
    data.update(overrides)
    return data


def download(url):
    path = url.split("://", 1)[1].split("/", 1)[1]
    return Client().get("/" + path)


@pytest.mark.parametrize(
    ("overrides", "field", "text"),
    [
        ({"start_date": "2026-02-30"}, "start_date", "must be a date"),
        ({"end_date": "yesterday"}, "end_date", "must be a date"),
        ({"start_date": 20260101}, "start_date", "must be a date"),
        ({"start_date": "2026-01-10", "end_date": "2026-01-09"}, "end_date", "before start_date"),
        ({"end_date": "2999-01-01"}, "end_date", "after today"),
        ({"start_date": "2020-01-01", "end_date": "2021-01-02"}, "end_date", "366 days"),
        ({"colour": "red"}, "colour", "not a known field"),
    ],
)
def test_invalid_input_is_400_naming_the_field_and_creates_nothing(api, overrides, field, text):
    response = api.post("/v1/accounting_reports", body(**overrides))

    assert response.status_code == 400
    error = response.json()
    assert error["code"] == "invalid_request"
    assert error["message"].startswith(f"{field}: ") and text in error["message"]
    assert field in error["details"]
    assert not AccountingReport.objects.exists()


def test_a_full_year_is_accepted(api):
    start = today() - timedelta(days=365)
    assert api.post("/v1/accounting_reports", body(start_date=start.isoformat())).status_code == 201


def test_create_answers_201_pending_then_the_task_makes_it_available(api):
    payment = create_payment(api)
    pay(payment)

    response = api.post("/v1/accounting_reports", body(notification_url="https://shop.example.org/ipn-report"))

    assert response.status_code == 201
    created = response.json()
    assert created["id"].startswith("ar_") and created["object"] == "accounting_report"
    assert created["status"] == "pending" and created["temporary_url"] is None
    assert created["is_live"] is False
    assert created["start_date"] == body()["start_date"] and created["end_date"] == body()["end_date"]
    retrieved = api.get(f"/v1/accounting_reports/{created['id']}").json()
    assert retrieved["status"] == "available"
    assert retrieved["temporary_url"].startswith("http")
    until = retrieved["file_available_until"]
    assert abs(until - (timezone.now() + timedelta(hours=24)).timestamp()) < 60
    event = Event.objects.get(type="accounting_report.available")
    assert event.ipn_url == "https://shop.example.org/ipn-report"
    assert event.payload["id"] == created["id"] and event.payload["status"] == "available"


def test_the_file_has_one_line_per_movement_with_a_running_balance(api):
    first = create_payment(api, metadata={"order_id": "A1"})
    pay(first)
    second = create_payment(api, amount=1000)
    pay(second)
    refund = api.post(f"/v1/payments/{first['id']}/refunds", {"amount": 300}).json()
    report = api.post("/v1/accounting_reports", body()).json()
    url = api.get(f"/v1/accounting_reports/{report['id']}").json()["temporary_url"]

    response = download(url)

    assert response.status_code == 200
    text = b"".join(response.streaming_content).decode("utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == reports.COLUMNS
    assert [r["operation_type"] for r in rows] == ["payment", "payment", "refund"]
    assert rows[0]["object_id"] == first["id"] and rows[0]["payment_id"] == first["id"]
    assert (rows[0]["gross_amount"], rows[0]["fee"], rows[0]["net_amount"]) == ("3300", "71", "3229")
    assert rows[0]["metadata"] == '{"order_id":"A1"}'
    assert rows[2]["object_id"] == refund["id"] and rows[2]["gross_amount"] == "-300"
    assert [int(r["balance"]) for r in rows] == [3229, 3229 + 961, 3229 + 961 + int(rows[2]["net_amount"])]
    assert rows[0]["operation_date"].endswith("Z") and rows[0]["currency"] == "EUR"


def test_the_link_needs_no_key_but_a_valid_signature(api):
    report = api.post("/v1/accounting_reports", body()).json()
    url = api.get(f"/v1/accounting_reports/{report['id']}").json()["temporary_url"]

    assert download(url).status_code == 200
    assert download(url[:-3] + "xyz/").status_code == 404


def test_after_24_hours_the_report_is_expired_and_the_link_dead(api):
    report = api.post("/v1/accounting_reports", body()).json()
    url = api.get(f"/v1/accounting_reports/{report['id']}").json()["temporary_url"]
    later = timezone.now() + timedelta(hours=24, minutes=1)

    with mock.patch("django.utils.timezone.now", return_value=later):
        expired = api.get(f"/v1/accounting_reports/{report['id']}").json()
        link = download(url)

    assert expired["status"] == "expired" and expired["temporary_url"] is None
    assert link.status_code == 404


def test_reports_of_another_merchant_or_mode_are_not_found(api, api_b):
    report = api.post("/v1/accounting_reports", body()).json()

    assert api_b.get(f"/v1/accounting_reports/{report['id']}").status_code == 404
    assert api.get("/v1/accounting_reports/ar_doesnotexist000000000000").status_code == 404


def test_the_dashboard_prepares_and_downloads_the_same_export(api, alice_client):
    payment = create_payment(api)
    pay(payment)

    alice_client.post(reverse("dashboard:accounting_export"), body())
    report = AccountingReport.objects.get()
    response = alice_client.get(reverse("dashboard:accounting_download", args=[report.public_id]))

    assert response.status_code == 200
    assert payment["id"] in b"".join(response.streaming_content).decode()


def test_the_dashboard_export_refuses_a_bad_range(alice_client):
    alice_client.post(reverse("dashboard:accounting_export"), body(start_date="2026-01-10", end_date="2026-01-01"))

    assert not AccountingReport.objects.exists()
