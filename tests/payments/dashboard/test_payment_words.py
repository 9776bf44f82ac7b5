"""Issue 12, finding 19: the payment page says attempt results, failures and where the payment
came from in the merchant's words and language, never the stored codes ("captured", "api")."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from payments.models import Payment, PaymentAttempt

pytestmark = pytest.mark.django_db


def a_payment(merchant, *, source, attempts) -> Payment:
    now = timezone.now()
    payment = Payment.objects.create(
        merchant=merchant,
        is_live=False,
        amount=4250,
        status=Payment.Status.PAID,
        created_at=now - timedelta(minutes=5),
        paid_at=now,
        expires_at=now + timedelta(hours=1),
        source=source,
        billing={"email": "shopper@example.org"},
    )
    for status, failure in attempts:
        PaymentAttempt.objects.create(
            payment=payment,
            status=status,
            card_last4="4242",
            card_brand="Visa",
            card_exp_month=12,
            card_exp_year=2034,
            card_fingerprint="ab" * 16,
            acquirer="sandbox",
            failure_code=failure,
            failure_message="The card was declined: insufficient funds." if failure else "",
        )
    return payment


def cells(html: str) -> list[str]:
    """The text of the attempts table and the timeline, without tags."""
    return [re.sub(r"<[^>]+>", " ", cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", html, re.S)]


def page(client, payment, language="en"):
    response = client.get(reverse("dashboard:payment", args=[payment.public_id]), HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return response.content.decode()


def test_attempt_results_and_the_source_are_words_in_english(alice_client, merchant_a):
    payment = a_payment(
        merchant_a,
        source="api",
        attempts=[(PaymentAttempt.Status.FAILED, "card_declined"), (PaymentAttempt.Status.CAPTURED, "")],
    )

    html = page(alice_client, payment)

    texts = cells(html)
    assert "captured" not in texts and "failed (card_declined)" not in " ".join(texts)
    assert not re.search(r">\s*(captured|unknown|failed)\s*<", html)
    assert "card_declined" not in html
    assert not re.search(r"<span class=\"muted\">\s*api\s*</span>", html), "the source code is not shown"
    assert "Paid" in texts and "Card declined" in html
    assert "API" in html
    assert "Captured" not in html


def test_attempt_results_and_the_source_are_words_in_french(alice_client, merchant_a):
    payment = a_payment(merchant_a, source="button", attempts=[(PaymentAttempt.Status.CAPTURED, "")])

    html = page(alice_client, payment, "fr")

    assert "Payé" in cells(html)
    assert "Bouton de paiement" in html
    assert not re.search(r">\s*(captured|button)\s*<", html)


def test_an_unknown_result_is_explained(alice_client, merchant_a):
    payment = a_payment(merchant_a, source="link", attempts=[(PaymentAttempt.Status.UNKNOWN, "")])

    html = page(alice_client, payment)

    assert "unknown" not in cells(html)
    assert "Waiting for the bank" in html
    assert "Payment link" in html
