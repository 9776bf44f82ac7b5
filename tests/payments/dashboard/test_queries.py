"""The payments back office: filters, search, keyset pages, streamed CSV, detail timeline,
refunds from the dashboard (role, confirmation, idempotent), customers, balance page."""

import csv
import io
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from merchants.models import Membership
from payments import services
from payments.acquirers.base import AcquirerUnavailable
from payments.dashboard import queries
from payments.models import Customer, IdempotencyRecord, Payment, Refund
from tests import factories
from tests.payments.helpers import create_payment, pay


def make_payments(merchant, n, **fields):
    """Rows straight into the table (the list does not care how they were made)."""
    now = timezone.now()
    rows = [
        Payment(
            merchant=merchant,
            is_live=False,
            amount=fields.get("amount", 1000 + i),
            status=fields.get("status", Payment.Status.CREATED),
            created_at=now - timedelta(minutes=i),
            expires_at=now + timedelta(hours=1),
            billing={"email": fields.get("email", f"buyer{i}@example.org")},
            billing_email=fields.get("email", f"buyer{i}@example.org"),
            card_last4=fields.get("card_last4"),
            metadata=fields.get("metadata", {"order_id": str(i)}),
        )
        for i in range(n)
    ]
    return Payment.objects.bulk_create(rows)


def listed(response) -> list[str]:
    return [p.public_id for p in response.context["page"]]


def test_the_list_pages_through_every_payment_once_with_keyset_cursors(alice_client, merchant_a):
    made = make_payments(merchant_a, 120)
    seen, url = [], reverse("dashboard:payments")
    while url:
        response = alice_client.get(url)
        seen += listed(response)
        cursor = response.context["next_cursor"]
        url = f"{reverse('dashboard:payments')}?after={cursor}" if cursor else None

    assert seen == [p.public_id for p in sorted(made, key=lambda p: (p.created_at, p.pk), reverse=True)]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"status": "paid"}, {"paid"}),
        ({"last4": "4242"}, {"paid"}),
        ({"email": "vip@example.org"}, {"vip"}),
        ({"q": "vip@example.org"}, {"vip"}),
        ({"metadata": "campaign=spring"}, {"meta"}),
        ({"metadata": "order_id=7"}, {"number"}),
        ({"amount_min": "50", "amount_max": "60.00"}, {"big"}),
    ],
)
def test_filters(alice_client, merchant_a, query, expected):
    labels = {}
    labels["paid"] = make_payments(merchant_a, 1, status="paid", card_last4="4242")[0]
    labels["vip"] = make_payments(merchant_a, 1, email="vip@example.org")[0]
    labels["meta"] = make_payments(merchant_a, 1, metadata={"campaign": "spring"})[0]
    labels["number"] = make_payments(merchant_a, 1, metadata={"order_id": 7})[0]
    labels["big"] = make_payments(merchant_a, 1, amount=5500)[0]

    response = alice_client.get(reverse("dashboard:payments"), query)

    names = {name for name, p in labels.items() if p.public_id in listed(response)}
    assert names == expected


def test_date_filter_and_search_by_id(alice_client, merchant_a):
    old = make_payments(merchant_a, 1)[0]
    Payment.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40))
    new = make_payments(merchant_a, 1)[0]
    since = (timezone.now() - timedelta(days=2)).date().isoformat()

    assert listed(alice_client.get(reverse("dashboard:payments"), {"date_from": since})) == [new.public_id]
    assert listed(alice_client.get(reverse("dashboard:payments"), {"q": old.public_id})) == [old.public_id]


def test_bad_filter_values_are_reported_not_crashed(alice_client, merchant_a):
    response = alice_client.get(reverse("dashboard:payments"), {"amount_min": "abc", "date_from": "x", "last4": "12"})

    assert response.status_code == 200
    assert set(response.context["filters"].errors) == {"amount_min", "date_from", "last4"}


def test_other_merchants_payments_never_show(alice_client, merchant_b):
    make_payments(merchant_b, 3)

    assert listed(alice_client.get(reverse("dashboard:payments"))) == []


def test_the_csv_export_streams_the_filtered_payments(alice_client, merchant_a):
    make_payments(merchant_a, 4500, status="paid")
    make_payments(merchant_a, 10, status="failed")

    response = alice_client.get(reverse("dashboard:payments_export"), {"status": "paid"})

    assert response.status_code == 200 and response.streaming
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == queries.EXPORT_COLUMNS
    assert len(rows) == 4501 and {r[2] for r in rows[1:]} == {"paid"}
    assert len({r[0] for r in rows[1:]}) == 4500


def test_export_needs_the_export_role(client, merchant_a):
    support = factories.member(merchant_a, "support@example.org", Membership.Role.SUPPORT)
    client.force_login(support)

    assert client.get(reverse("dashboard:payments_export")).status_code == 403


def paid(api):
    payment = create_payment(api)
    pay(payment)
    return payment


def test_the_detail_shows_a_timeline(api, alice_client):
    payment = paid(api)
    api.post(f"/v1/payments/{payment['id']}/refunds", {"amount": 500})

    response = alice_client.get(reverse("dashboard:payment", args=[payment["id"]]))

    kinds = [item["kind"] for item in response.context["timeline"]]
    assert kinds[0] == "created"
    for kind in ("attempt", "authorized", "captured", "refund", "event"):
        assert kind in kinds
    assert kinds.index("authorized") < kinds.index("captured") < kinds.index("refund")
    page = response.content.decode()
    assert "payment.paid" in page and "refund.created" in page


def test_a_dashboard_refund_is_confirmed_then_made_once_even_if_submitted_twice(api, alice_client):
    payment = paid(api)
    url = reverse("dashboard:payment_refund", args=[payment["id"]])

    confirm = alice_client.get(url, {"amount": "10.00"})
    token = confirm.context["token"]
    assert not Refund.objects.exists()  # the confirmation step changes nothing
    first = alice_client.post(url, {"token": token, "amount": "10.00"})
    second = alice_client.post(url, {"token": token, "amount": "10.00"})

    assert first.status_code == second.status_code == 302
    refund = Refund.objects.get()
    assert refund.amount == 1000 and refund.created_by == "dashboard alice@example.org"
    assert api.get(f"/v1/payments/{payment['id']}").json()["amount_refunded"] == 1000


def test_a_dashboard_refund_above_the_remaining_amount_is_refused(api, alice_client):
    payment = paid(api)
    url = reverse("dashboard:payment_refund", args=[payment["id"]])

    response = alice_client.post(url, {"token": "t" * 24, "amount": "40.00"}, follow=True)

    assert "exceeds the remaining refundable amount" in response.content.decode()
    assert not Refund.objects.exists()


def test_a_refused_dashboard_refund_is_not_tried_again_with_the_same_form(api, alice_client):
    payment = paid(api)
    url = reverse("dashboard:payment_refund", args=[payment["id"]])

    alice_client.post(url, {"token": "t" * 24, "amount": "40.00"})
    again = alice_client.post(url, {"token": "t" * 24, "amount": "40.00"}, follow=True)

    assert "already submitted" in again.content.decode()
    assert not Refund.objects.exists()


def test_a_dashboard_refund_the_acquirer_did_not_answer_frees_the_form_for_a_retry(api, alice_client, monkeypatch):
    payment = paid(api)
    url = reverse("dashboard:payment_refund", args=[payment["id"]])
    token = alice_client.get(url, {"amount": "10,00"}).context["token"]
    refund = services.refund

    def unavailable(*args, **kwargs):
        raise AcquirerUnavailable("no answer")

    monkeypatch.setattr(services, "refund", unavailable)
    failed = alice_client.post(url, {"token": token, "amount": "10,00"}, follow=True)
    monkeypatch.setattr(services, "refund", refund)

    assert "nothing was refunded" in failed.content.decode()
    assert not Refund.objects.exists() and not IdempotencyRecord.objects.exists()
    alice_client.post(url, {"token": token, "amount": "10,00"})
    alice_client.post(url, {"token": token, "amount": "10,00"})
    assert Refund.objects.get().amount == 1000


def test_amount_filters_read_what_the_checkout_reads_and_link_back_in_the_same_form(alice_client, merchant_a):
    response = alice_client.get(reverse("dashboard:payments"), {"amount_min": "1 250,5", "amount_max": "€1,300.00"})

    filters = response.context["filters"]
    assert (filters.amount_min, filters.amount_max, filters.errors) == (125050, 130000, {})
    assert ("amount_min", "1250.50") in response.context["filter_items"]
    assert queries.parse_filters(dict(response.context["filter_items"])).amount_min == 125050


def test_refunds_need_the_refund_role(api, client, merchant_a):
    payment = paid(api)
    accountant = factories.member(merchant_a, "books@example.org", Membership.Role.ACCOUNTANT)
    client.force_login(accountant)

    response = client.post(
        reverse("dashboard:payment_refund", args=[payment["id"]]), {"token": "x" * 24, "amount": "5"}
    )

    assert response.status_code == 403 and not Refund.objects.exists()


def test_customers_and_their_saved_cards(api, alice_client, merchant_a):
    customer = api.post("/v1/customers", {"email": "jeanne@example.org"}).json()
    payment = create_payment(api, save_card=True, customer_id=customer["id"])
    pay(payment)

    listing = alice_client.get(reverse("dashboard:customers")).content.decode()
    detail = alice_client.get(reverse("dashboard:customer", args=[customer["id"]])).content.decode()

    assert customer["id"] in listing
    assert "4242" in detail and payment["id"] in detail
    assert Customer.objects.count() == 1


def test_the_balance_page_shows_balances_fees_and_a_chart_without_script(api, alice_client):
    paid(api)

    response = alice_client.get(reverse("dashboard:balance"))

    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="balance-pending">€32.29<' in page
    assert "1.40 %" in page and "<svg" in page and "<polyline" in page
    assert re.search(r"<script(?![^>]*\bsrc=)", page) is None  # no inline script
    assert "https://" not in page.split("<svg", 1)[1].split("</svg>", 1)[0].replace("http://www.w3.org/2000/svg", "")
