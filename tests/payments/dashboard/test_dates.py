"""Dates (issue 12, finding 17): one localized format per language, in the organisation's time
zone, on every dashboard page, in the dashboard's CSV and in emails; the API keeps its timestamps."""

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import timezone, translation

from merchants.models import Merchant
from payments import receipts
from payments.models import Payment

pytestmark = pytest.mark.django_db

NBSP = "\u00a0"
LATE = datetime(2025, 12, 3, 23, 30, tzinfo=UTC)  # already the 4th in Paris
TEMPLATES = Path(__file__).resolve().parents[3] / "templates"


@pytest.fixture(autouse=True)
def _default_language_afterwards():
    yield
    translation.deactivate()


def payment(merchant, at=LATE, **fields):
    return Payment.objects.create(
        merchant=merchant,
        is_live=False,
        amount=2500,
        status=Payment.Status.PAID,
        created_at=at,
        paid_at=at,
        expires_at=at + timedelta(hours=1),
        billing={"email": "jeanne@example.org", "language": "fr"},
        billing_email="jeanne@example.org",
        metadata={},
        **fields,
    )


def browser(lang):
    return {"accept-language": lang}


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("en", "4 Dec 2025, 00:30"),
        ("fr", "4 déc. 2025 00:30"),
        ("it", "4 dic 2025, 00:30"),
        ("es", "4 dic 2025, 00:30"),
    ],
)
def test_the_payments_list_shows_the_date_in_the_organisations_time_zone(alice_client, merchant_a, lang, expected):
    payment(merchant_a)

    page = alice_client.get(reverse("dashboard:payments"), headers=browser(lang)).content.decode()

    assert expected in page


def test_the_default_time_zone_is_paris_and_another_one_is_followed(alice_client, merchant_a):
    assert Merchant.objects.get(pk=merchant_a.pk).time_zone == "Europe/Paris"
    Merchant.objects.filter(pk=merchant_a.pk).update(time_zone="America/New_York")
    made = payment(merchant_a)

    listing = alice_client.get(reverse("dashboard:payments"), headers=browser("en")).content.decode()
    detail = alice_client.get(reverse("dashboard:payment", args=[made.public_id]), headers=browser("en"))

    assert "3 Dec 2025, 18:30" in listing
    assert "3 Dec 2025, 18:30" in detail.content.decode()


def test_a_date_filter_reads_days_of_the_organisations_time_zone(alice_client, merchant_a):
    made = payment(merchant_a)  # 23:30 UTC on the 3rd = the 4th in Paris

    on_the_4th = alice_client.get(reverse("dashboard:payments"), {"date_from": "2025-12-04", "date_to": "2025-12-04"})
    on_the_3rd = alice_client.get(reverse("dashboard:payments"), {"date_from": "2025-12-03", "date_to": "2025-12-03"})

    assert [p.public_id for p in on_the_4th.context["page"]] == [made.public_id]
    assert list(on_the_3rd.context["page"]) == []


@pytest.mark.parametrize(("lang", "expected"), [("en", "4 Dec 2025, 00:30"), ("fr", "4 déc. 2025 00:30")])
def test_the_csv_export_uses_the_same_format_and_keeps_utc_for_machines(alice_client, merchant_a, lang, expected):
    payment(merchant_a)

    response = alice_client.get(reverse("dashboard:payments_export"), headers=browser(lang))

    (row,) = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert row["created_at"] == expected and row["paid_at"] == expected
    assert row["created_at_utc"] == "2025-12-03T23:30:00Z" and row["paid_at_utc"] == "2025-12-03T23:30:00Z"


def test_the_api_keeps_its_timestamps(api, merchant_a):
    made = payment(merchant_a)

    body = api.get(f"/v1/payments/{made.public_id}").json()

    assert body["created_at"] == int(LATE.timestamp())


def test_the_filters_render_one_format_in_a_given_time_zone():
    template = Template("{{ when|local_datetime }}|{{ when|local_date }}|{{ when|local_datetime:'Asia/Tokyo' }}")
    with translation.override("en"), timezone.override("Europe/Paris"):
        assert template.render(Context({"when": LATE})) == "4 Dec 2025, 00:30|4 Dec 2025|4 Dec 2025, 08:30"
    with translation.override("fr"), timezone.override("Europe/Paris"):
        assert template.render(Context({"when": LATE})) == "4 déc. 2025 00:30|4 déc. 2025|4 déc. 2025 08:30"
    assert Template("{{ nothing|local_datetime }}").render(Context({"nothing": None})) == ""


def test_the_receipt_email_shows_the_payment_time_in_the_organisations_time_zone(merchant_a):
    made = payment(merchant_a)

    _subject, text, html = receipts.render_receipt(made)

    assert "4 déc. 2025 00:30" in text and "4 déc. 2025 00:30" in html


SHOWN_DATE = re.compile(r"\|(date|time)(:|\b)|naturaltime|naturalday|timesince|timeuntil|isoformat")


def _machine_readable(line: str, match: re.Match) -> bool:
    """`<time datetime="{{ x|date:'c' }}">` and `<input type="date" value="{{ x|date:'Y-m-d' }}">` are
    read by browsers, not people: they keep their ISO formats."""
    before = line[: match.start()]
    opened = max(before.rfind('="'), before.rfind("='"))
    inside = opened >= 0 and '"' not in before[opened + 2 :].replace("'", "")
    return inside and before[:opened].endswith((" datetime", " value"))


@pytest.mark.parametrize("folder", ["dashboard", "emails", "checkout"])
def test_no_template_formats_a_date_by_hand(folder):
    found = []
    for path in sorted((TEMPLATES / folder).glob("*")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            for match in SHOWN_DATE.finditer(line):
                if not _machine_readable(line, match):
                    found.append(f"{path.name}:{number}: {line.strip()[:120]}")
    assert not found, "\n".join(found)
