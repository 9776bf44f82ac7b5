"""Customers come from payments too (issue 12, finding 14): one customer per shopper email
(case and surrounding spaces ignored), with their payments, count, total paid net of refunds and
last payment; explicit customer objects are listed as well. Scoped by merchant and mode.

And the payments list filters by "Refunded" / "Partially refunded" (finding 21), as its badge says."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from payments.dashboard import queries
from payments.models import Customer, Payment

pytestmark = pytest.mark.django_db


def payment(merchant, email, *, amount=2500, refunded=0, status=Payment.Status.PAID, is_live=False, minutes=0):
    now = timezone.now()
    return Payment.objects.create(
        merchant=merchant,
        is_live=is_live,
        amount=amount,
        amount_refunded=refunded,
        status=status,
        created_at=now - timedelta(minutes=minutes),
        expires_at=now + timedelta(hours=1),
        billing={"email": email} if email else {},
        billing_email=email,
        metadata={},
    )


def six_payments(merchant):
    """Six payments of the same shopper, typed six ways; one refunded in part, one failed."""
    emails = ["jeanne@example.org", "Jeanne@Example.org", " jeanne@example.org", "JEANNE@EXAMPLE.ORG ",
              "jeanne@example.org", "jeanne@EXAMPLE.org"]  # fmt: skip
    made = [payment(merchant, email, minutes=60 - i) for i, email in enumerate(emails[:4])]
    made.append(payment(merchant, emails[4], amount=10000, refunded=2500, minutes=10))
    made.append(payment(merchant, emails[5], status=Payment.Status.FAILED, minutes=5))
    return made


def test_six_payments_by_one_email_make_one_customer(alice_client, merchant_a, merchant_b):
    made = six_payments(merchant_a)
    payment(merchant_b, "jeanne@example.org", amount=99900)  # another merchant's shopper
    payment(merchant_a, "jeanne@example.org", amount=88800, is_live=True)  # the other mode
    payment(merchant_a, "paul@example.org", minutes=120)
    payment(merchant_a, None, minutes=130)  # a pay-button payment without email: no customer

    response = alice_client.get(reverse("dashboard:customers"))

    assert response.status_code == 200
    rows = {row.email: row for row in response.context["page"]}
    assert set(rows) == {"jeanne@example.org", "paul@example.org"}
    jeanne = rows["jeanne@example.org"]
    assert jeanne.payment_count == 6
    assert jeanne.total_paid == 4 * 2500 + 10000 - 2500  # the failed one not counted, the refund deducted
    assert jeanne.last_payment_at == made[-1].created_at
    page = response.content.decode()
    assert "€17,500.00" not in page and "€175.00" in page
    assert reverse("dashboard:customer", args=[jeanne.key]) in page


def test_the_customer_page_lists_that_customers_payments(alice_client, merchant_a, merchant_b):
    made = six_payments(merchant_a)
    other = payment(merchant_a, "paul@example.org")
    rows = alice_client.get(reverse("dashboard:customers")).context["page"]
    key = next(row.key for row in rows if row.email == "jeanne@example.org")

    response = alice_client.get(reverse("dashboard:customer", args=[key]))

    assert response.status_code == 200
    page = response.content.decode()
    assert all(p.public_id in page for p in made)
    assert other.public_id not in page
    assert "€175.00" in page and "jeanne@example.org" in page


def test_a_guessed_customer_of_another_merchant_or_mode_is_a_404(alice_client, merchant_a, merchant_b):
    theirs = payment(merchant_b, "jeanne@example.org")
    live = payment(merchant_a, "jeanne@example.org", is_live=True)
    their_customer = Customer.objects.create(merchant=merchant_b, is_live=False, email="jeanne@example.org")

    for guessed in (theirs.public_id, live.public_id, their_customer.public_id, "pay_doesnotexist000000", "x"):
        assert alice_client.get(reverse("dashboard:customer", args=[guessed])).status_code == 404, guessed


def test_explicit_customers_are_listed_and_merged_with_their_payments(alice_client, merchant_a):
    lonely = Customer.objects.create(merchant=merchant_a, is_live=False, email="lonely@example.org")
    known = Customer.objects.create(merchant=merchant_a, is_live=False, email="Jeanne@example.org")
    six_payments(merchant_a)

    rows = {row.email: row for row in alice_client.get(reverse("dashboard:customers")).context["page"]}

    assert set(rows) == {"jeanne@example.org", "lonely@example.org"}
    assert rows["jeanne@example.org"].customer_public_id == known.public_id
    assert rows["lonely@example.org"].customer_public_id == lonely.public_id
    assert rows["lonely@example.org"].payment_count == 0
    detail = alice_client.get(reverse("dashboard:customer", args=[known.public_id])).content.decode()
    assert "€175.00" in detail


def test_customers_are_paginated_with_a_constant_number_of_queries(alice_client, merchant_a):
    for i in range(queries.PAGE_SIZE + 7):
        payment(merchant_a, f"buyer{i}@example.org", minutes=i)
        payment(merchant_a, f"Buyer{i}@example.org", minutes=i)
    Customer.objects.create(merchant=merchant_a, is_live=False, email="nobody@example.org")

    seen, url = [], reverse("dashboard:customers")
    with CaptureQueriesContext(connection) as first_page:
        response = alice_client.get(url)
    while True:
        seen += [row.email for row in response.context["page"]]
        cursor = response.context["next_cursor"]
        if not cursor:
            break
        response = alice_client.get(url, {"after": cursor})

    assert len(seen) == len(set(seen)) == queries.PAGE_SIZE + 8
    assert len(first_page.captured_queries) < 20  # aggregated: no query per customer


def test_the_customer_search_finds_an_email_whatever_its_case(alice_client, merchant_a):
    six_payments(merchant_a)
    payment(merchant_a, "paul@example.org")

    rows = alice_client.get(reverse("dashboard:customers"), {"q": " JEANNE@example.org"}).context["page"]

    assert [row.email for row in rows] == ["jeanne@example.org"]


# --- the status filter of the payments list --------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "expected"),
    [("refunded", {"full"}), ("partially_refunded", {"part"}), ("paid", {"paid"})],  # as each badge reads
)
def test_the_payments_list_filters_refunded_and_partially_refunded(alice_client, merchant_a, status, expected):
    made = {
        "paid": payment(merchant_a, "a@example.org"),
        "part": payment(merchant_a, "b@example.org", amount=5000, refunded=1000),
        "full": payment(merchant_a, "c@example.org", amount=5000, refunded=5000),
        "failed": payment(merchant_a, "d@example.org", status=Payment.Status.FAILED),
    }

    response = alice_client.get(reverse("dashboard:payments"), {"status": status})

    listed = {p.public_id for p in response.context["page"]}
    assert listed == {made[name].public_id for name in expected}
    page = response.content.decode()
    assert f'<option value="{status}" selected>' in page
    assert '<option value="refunded"' in page and '<option value="partially_refunded"' in page


def test_the_export_follows_the_refunded_filter(alice_client, merchant_a):
    full = payment(merchant_a, "c@example.org", amount=5000, refunded=5000)
    payment(merchant_a, "a@example.org")

    response = alice_client.get(reverse("dashboard:payments_export"), {"status": "refunded"})

    body = b"".join(response.streaming_content).decode()
    assert full.public_id in body and body.count("pay_") == 1
