"""The consent box of a subscription's hosted page (issue 13): the terms above the card form, a
required box whose label is the exact text recorded, nothing submitted while it is not ticked,
and the card check's "nothing is charged now"."""

from __future__ import annotations

import html as html_module
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import translation

from payments import subscriptions
from payments.models import Payment, PaymentAttempt, Subscription
from tests.payments.helpers import BILLING, answer_3ds, create_payment, hosted_path, pay
from tests.payments.installments.helpers import today
from tests.payments.subscriptions.helpers import CONSENT, create, page, pay_page, reload

pytestmark = pytest.mark.django_db

EN = {**BILLING, "language": "en"}
CARD = {"cardholder": "Jeanne Martin", "number": "4242 4242 4242 4242", "expiry": "12/34", "cvc": "123"}


def html_of(response) -> str:
    return response.content.decode()


def consent_words(sub, language="en") -> str:
    with translation.override(language):
        return subscriptions.consent_text(reload(sub))


def field_block(html: str, name: str) -> str:
    """The checkout field's <div class="field ..." data-field="name"> ... </div>."""
    match = re.search(rf'<div class="field[^"]*" data-field="{name}">(.*?)\n</div>', html, re.S)
    assert match, f"no field {name}"
    return match.group(1)


def test_the_terms_and_a_required_box_come_before_the_card_fields(merchant_a, client):
    sub = create(merchant_a, billing=EN)

    html = html_of(client.get(hosted_path(page(sub))))

    assert "Subscription" in html and "€10.00 every month" in html and "until you cancel" in html
    box = field_block(html, "consent")
    assert re.search(r'<input type="checkbox" name="consent"[^>]*required', box)
    label = re.search(r'<label for="id_consent">(.*?)</label>', box, re.S).group(1)
    assert html_module.unescape(label) == consent_words(sub)
    assert html.index('name="consent"') < html.index('name="cardholder"') < html.index('name="number"')
    assert html.index('class="subscription-terms"') < html.index('class="card-form"')


def test_an_end_date_or_a_number_of_payments_is_stated(merchant_a, client):
    ending = create(merchant_a, billing=EN, max_charges=6)
    dated = create(merchant_a, billing=EN, end_date=today(merchant_a) + timedelta(days=200))

    assert "after 6 payments" in html_of(client.get(hosted_path(page(ending))))
    html = html_of(client.get(hosted_path(page(dated))))
    assert "until you cancel" not in html and "End" in html


def test_without_the_ticked_box_no_card_is_submitted(merchant_a):
    sub = create(merchant_a, billing=EN)
    payment = Payment.objects.get(subscription=sub)
    client = Client()
    client.get(hosted_path(page(sub)))

    response = client.post(hosted_path(page(sub)), CARD)

    assert response.status_code == 400
    html = html_of(response)
    box = field_block(html, "consent")
    assert "Tick this box to agree to the payments of the subscription." in box
    assert 'aria-invalid="true"' in box
    payment.refresh_from_db()
    assert payment.status == Payment.Status.CREATED and payment.failed_attempts == 0
    assert not PaymentAttempt.objects.filter(payment=payment).exists()
    sub = reload(sub)
    assert sub.consent_at is None and sub.consent_text == "" and sub.status == Subscription.Status.INCOMPLETE
    # What the shopper typed is kept as after any other form error, the security code never.
    assert "We kept your card ending in 4242" in html and 'name="kept_card"' in html
    assert 'value="12/34"' in html
    assert "4242 4242 4242 4242" not in html and 'value="123"' not in html


def test_the_kept_card_pays_once_the_box_is_ticked(merchant_a):
    sub = create(merchant_a, billing=EN)
    client = Client()
    first_page = page(sub)
    path = hosted_path(first_page)
    client.get(path)
    first = html_of(client.post(path, CARD))
    kept = re.search(r'name="kept_card" value="([^"]+)"', first).group(1)

    response = client.post(path, {**CARD, "number": "", "kept_card": kept, "cvc": "123", **CONSENT}, follow=True)
    answer_3ds(first_page, "approve", client=client)  # the consent is strongly authenticated

    assert response.status_code == 200
    sub = reload(sub)
    assert sub.status == Subscription.Status.ACTIVE and sub.card.last4 == "4242"


def test_the_ticked_box_records_the_consent_then_the_card_pays(merchant_a):
    sub = create(merchant_a, billing=EN)
    shown = consent_words(sub)

    response = pay_page(page(sub))

    assert response.status_code == 200
    sub = reload(sub)
    assert sub.consent_at is not None and sub.consent_text == shown
    assert sub.status == Subscription.Status.ACTIVE and sub.paid_charges == 1
    assert Payment.objects.get(subscription=sub, subscription_period=1).status == Payment.Status.PAID


def test_the_consent_is_recorded_from_the_clients_address(merchant_a):
    sub = create(merchant_a, billing=EN)
    client = Client(REMOTE_ADDR="203.0.113.9")

    pay_page(page(sub), client=client)

    assert reload(sub).consent_ip == "203.0.113.9"


def test_the_text_is_shown_and_recorded_in_the_subscribers_language(merchant_a, client):
    sub = create(merchant_a)  # billing language fr
    french = consent_words(sub, "fr")

    html = html_of(client.get(hosted_path(page(sub))))
    label = re.search(r'<label for="id_consent">(.*?)</label>', html, re.S).group(1)
    assert html_module.unescape(label) == french
    pay_page(page(sub))

    assert reload(sub).consent_text == french


def test_a_card_check_says_that_nothing_is_charged_now(merchant_a, client):
    sub = create(merchant_a, billing=EN, start_date=today(merchant_a) + timedelta(days=10))
    check = Payment.objects.get(subscription=sub)
    assert check.subscription_period is None

    html = html_of(client.get(hosted_path(page(sub))))

    assert "Nothing is charged now: €10.00 is authorised to check your card, then released." in html
    assert "Check my card" in html and "Pay €10.00" not in html
    assert "First payment" in html
    assert 'name="consent"' in html


def test_a_card_check_ends_on_card_saved_never_on_payment_cancelled(merchant_a):
    sub = create(merchant_a, billing=EN, start_date=today(merchant_a) + timedelta(days=10))

    response = pay_page(page(sub))

    html = html_of(response)
    assert reload(sub).status == Subscription.Status.ACTIVE
    assert "Your card is saved" in html and "Nothing was charged now" in html
    assert "Payment cancelled" not in html and "cancelled by the merchant" not in html
    assert 'href="https://asso.example.org/merci"' in html


def test_a_declined_card_check_shows_the_usual_refusal(merchant_a):
    sub = create(merchant_a, billing=EN, start_date=today(merchant_a) + timedelta(days=10))

    html = html_of(pay_page(page(sub), number="4000 0000 0000 0002"))

    assert "Your card is saved" not in html and "Payment refused" in html


def test_other_payments_have_no_box_nor_terms(api, client):
    payment = create_payment(api, billing=EN)

    html = html_of(client.get(hosted_path(payment)))

    assert 'name="consent"' not in html and "subscription-terms" not in html
    assert "Pay €33.00" in html


def test_other_payments_pay_without_a_box(api):
    payment = create_payment(api, billing=EN)

    pay(payment)

    assert Payment.objects.get(public_id=payment["id"]).status == Payment.Status.PAID
