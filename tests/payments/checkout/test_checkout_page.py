"""The hosted payment page (spec §13, issue 4): form, server-side checks, 3-D Secure, outcomes,
one-click, saving cards with consent, language and formats, branding."""

import re

import pytest
from django.test import Client

from merchants.models import Merchant
from payments import amounts, display
from payments.models import Card, Payment, PaymentAttempt
from tests.payments.helpers import answer_3ds, create_payment, hosted_path, pay

pytestmark = pytest.mark.django_db

EN = {"first_name": "Jeanne", "last_name": "Martin", "email": "jeanne@example.org", "language": "en"}


def html_of(response) -> str:
    return response.content.decode()


def payment_row(payment: dict) -> Payment:
    return Payment.objects.get(public_id=payment["id"])


# --- the form -----------------------------------------------------------------------------------------


def test_the_form_has_labels_and_standard_autocomplete_tokens(api, client):
    payment = create_payment(api, billing=EN)

    html = html_of(client.get(hosted_path(payment)))

    for name, token, label in (
        ("cardholder", "cc-name", "Name on card"),
        ("number", "cc-number", "Card number"),
        ("expiry", "cc-exp", "Expiry date (MM/YY)"),
        ("cvc", "cc-csc", "Security code"),
    ):
        assert re.search(rf'<input[^>]*name="{name}"[^>]*autocomplete="{token}"', html), name
        assert f'<label for="id_{name}">{label}</label>' in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert 'name="save_card"' not in html


def test_the_page_has_no_inline_script_or_style_and_a_strict_policy(api, client):
    payment = create_payment(api, billing=EN)

    response = client.get(hosted_path(payment))

    html = html_of(response)
    assert not re.search(r"<script(?![^>]*\bsrc=)", html), "inline <script>"
    assert " style=" not in html and "<style" not in html
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert response["X-Frame-Options"] == "DENY"
    assert "no-store" in response["Cache-Control"]


def test_amount_and_description_are_shown(api, client):
    payment = create_payment(api, billing=EN, amount=123456, description="Order A-42")

    html = html_of(client.get(hosted_path(payment)))

    assert "€1,234.56" in html
    assert "Order A-42" in html
    assert "Pay €1,234.56" in html


@pytest.mark.parametrize(
    ("language", "amount", "pay_label"),
    [
        ("en", "€33.00", "Pay €33.00"),
        ("fr", "33,00\u00a0€", "Payer 33,00\u00a0€"),
        ("it", "33,00\u00a0€", "Paga 33,00\u00a0€"),
        ("es", "33,00\u00a0€", "Pagar 33,00\u00a0€"),
    ],
)
def test_the_billing_language_decides_the_language_and_formats(api, client, language, amount, pay_label):
    payment = create_payment(api, billing={**EN, "language": language})

    html = html_of(client.get(hosted_path(payment), headers={"accept-language": "de"}))

    assert f'<html lang="{language}">' in html
    assert f'<p class="amount">{amount}</p>' in html
    assert pay_label in html


def test_without_billing_language_the_browser_language_is_used(api, client):
    payment = create_payment(api, billing={k: v for k, v in EN.items() if k != "language"})

    html = html_of(client.get(hosted_path(payment), headers={"accept-language": "it-IT,it;q=0.9,en;q=0.5"}))

    assert '<html lang="it">' in html


def test_an_unsupported_language_falls_back_to_english(api, client):
    payment = create_payment(api, billing={**EN, "language": "de"})

    html = html_of(client.get(hosted_path(payment), headers={"accept-language": "de"}))

    assert '<html lang="en">' in html


def test_amounts_are_formatted_per_locale():
    assert amounts.format_amount(123456, "EUR", "en") == "€1,234.56"
    assert amounts.format_amount(123456, "EUR", "fr").endswith(",56\u00a0€")
    assert amounts.format_amount(5, "EUR", "it") == "0,05\u00a0€"
    assert amounts.parse_amount("12,5") == 1250
    assert amounts.parse_amount("1.250,00") == 125000
    assert amounts.parse_amount("1,250.00") == 125000
    assert amounts.parse_amount("€ 7") == 700
    assert amounts.parse_amount("abc") is None
    assert amounts.parse_amount("1.234.5") is None


# --- server-side checks ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"number": "4242 4242 4242 4241"}, "number", "This card number is not valid."),
        ({"number": "4242"}, "number", "This card number is not valid."),
        ({"expiry": "01/20"}, "expiry", "This card has expired."),
        ({"expiry": "13/40"}, "expiry", "Enter the expiry date as MM/YY."),
        ({"cvc": "12"}, "cvc", "The security code is not valid: enter 3 digits."),
        ({"cardholder": ""}, "cardholder", "This field is required."),
    ],
)
def test_form_errors_show_next_to_the_field_and_change_nothing(api, client, fields, field, message):
    payment = create_payment(api, billing=EN)
    data = {"cardholder": "Jeanne", "number": "4242 4242 4242 4242", "expiry": "12/34", "cvc": "123", **fields}

    response = client.post(hosted_path(payment), data)

    assert response.status_code == 400
    html = html_of(response)
    assert f'<p class="error" id="id_{field}_error">{message}</p>' in html
    assert re.search(rf'<input[^>]*aria-describedby="id_{field}_error[^"]*"[^>]*aria-invalid="true"', html)
    row = payment_row(payment)
    assert row.status == Payment.Status.CREATED and row.failure_code is None
    assert not row.attempts.exists()


def test_the_card_number_and_code_are_never_rendered_back(api, client):
    payment = create_payment(api, billing=EN)

    response = client.post(
        hosted_path(payment), {"cardholder": "J", "number": "4242 4242 4242 4242", "expiry": "01/20", "cvc": "917"}
    )

    html = html_of(response)
    assert "4242 4242 4242 4242" not in html and "4242424242424242" not in html
    assert 'value="917"' not in html and "917" not in html
    # Kept in the vault for the next try (only the expiry date was wrong): its last four digits only.
    assert "We kept your card ending in 4242" in html
    assert "no-store" in response["Cache-Control"]
    assert "4242" not in html_of(client.get(hosted_path(payment)))


def test_amex_goes_through_and_fails_as_method_unsupported(api):
    payment = create_payment(api, billing=EN)

    response = pay(payment, number="3782 822463 10005", cvc="1234")

    assert payment_row(payment).failure_code == "method_unsupported"
    assert "This card brand is not accepted." in html_of(response)


# --- outcomes ------------------------------------------------------------------------------------------


def test_success_lands_on_our_result_page_with_return_link_and_refresh(api):
    payment = create_payment(api, billing=EN)
    client = Client()
    client.get(hosted_path(payment))

    response = client.post(
        hosted_path(payment), {"cardholder": "J", "number": "4242424242424242", "expiry": "12/34", "cvc": "123"}
    )

    assert response.status_code == 303
    assert response["Location"].endswith("/result/")
    result = client.get(response["Location"])
    html = html_of(result)
    assert "Payment successful" in html
    assert '<meta http-equiv="refresh" content="5;url=https://shop.example.org/ok">' in html
    assert 'href="https://shop.example.org/ok"' in html
    assert "Visa •••• 4242" in html


def test_a_decline_offers_a_retry_with_the_localized_reason(api):
    payment = create_payment(api, billing=EN)

    response = pay(payment, number="4000 0000 0000 9995")

    html = html_of(response)
    assert "Payment refused" in html
    assert "The card has insufficient funds." in html
    assert "Try again" in html and 'method="get"' in html
    assert "2 attempts left" in html
    assert 'href="https://shop.example.org/ok"' in html


def test_the_third_failure_is_final_and_the_form_is_no_longer_shown(api, client):
    payment = create_payment(api, billing=EN)
    for _ in range(3):
        pay(payment, number="4000 0000 0000 0002")

    response = client.get(hosted_path(payment), follow=True)

    html = html_of(response)
    assert "Payment failed" in html
    assert 'name="number"' not in html


def test_a_paid_payment_shows_its_outcome_instead_of_the_form(api, client):
    payment = create_payment(api, billing=EN)
    pay(payment)

    response = client.get(hosted_path(payment), follow=True)

    assert "Payment successful" in html_of(response)
    assert 'name="number"' not in html_of(response)


def test_an_aborted_payment_shows_a_clear_page(api, client):
    payment = create_payment(api, billing=EN)
    api.patch(f"/v1/payments/{payment['id']}", {"abort": True})

    html = html_of(client.get(hosted_path(payment), follow=True))

    assert "Payment cancelled" in html
    assert 'name="number"' not in html


def test_an_expired_page_shows_a_clear_page(api, client):
    payment = create_payment(api, billing=EN)
    Payment.objects.filter(public_id=payment["id"]).update(expires_at="2000-01-01T00:00:00Z")

    html = html_of(client.get(hosted_path(payment), follow=True))

    assert "This payment page has expired" in html
    assert 'name="number"' not in html


def test_the_cancel_link_goes_to_cancel_url_and_changes_nothing(api, client):
    payment = create_payment(api, billing=EN)

    html = html_of(client.get(hosted_path(payment)))

    assert 'href="https://shop.example.org/ko"' in html
    assert payment_row(payment).status == Payment.Status.CREATED


def test_a_fraud_refusal_is_final(api):
    payment = create_payment(api, billing=EN)

    html = html_of(pay(payment, number="4100 0000 0000 0019"))

    assert "Payment failed" in html
    assert "refused by our security checks" in html


def test_an_unknown_acquirer_answer_shows_being_confirmed(api, settings):
    payment = create_payment(api, billing=EN)

    html = html_of(pay(payment, number="4000 0000 0000 0077"))

    assert "Payment being confirmed" in html
    assert '<meta http-equiv="refresh" content="10;url=https://shop.example.org/ok">' in html


# --- 3-D Secure ---------------------------------------------------------------------------------------


def test_the_challenge_page_has_language_independent_outcome_buttons(api):
    payment = create_payment(api, billing={**EN, "language": "fr"})

    response = pay(payment, number="4000 0025 0000 3155")

    html = html_of(response)
    assert response.redirect_chain[-1][0].endswith("/3ds/")
    for value in ("approve", "fail", "abandon"):
        assert f'name="outcome" value="{value}"' in html
    assert "Vérification 3-D Secure" in html
    assert "•••• 3155" in html


@pytest.mark.parametrize(("outcome", "paid"), [("approve", True), ("fail", False), ("abandon", False)])
def test_the_challenge_outcome_is_recorded(api, outcome, paid):
    payment = create_payment(api, billing=EN)
    pay(payment, number="4000 0025 0000 3155")

    answer_3ds(payment, outcome)

    body = api.get(f"/v1/payments/{payment['id']}").json()
    assert body["is_paid"] is paid
    assert body["is_3ds"] is True
    if not paid:
        assert body["failure"]["code"] == "3ds_declined"


# --- saving cards and one-click ----------------------------------------------------------------------------


def _customer(api):
    response = api.post("/v1/customers", {"email": "jeanne@example.org"})
    assert response.status_code == 201
    return response.json()["id"]


def test_saving_a_card_needs_the_ticked_box(api):
    unticked = create_payment(api, billing=EN, allow_save_card=True)
    ticked = create_payment(api, billing=EN, allow_save_card=True)

    assert 'name="save_card"' in html_of(Client().get(hosted_path(unticked)))
    pay(unticked)
    pay(ticked, save_card="on")

    assert payment_row(unticked).card_public_id is None
    assert payment_row(ticked).card_public_id is not None


def test_save_card_true_is_stated_on_the_page(api, client):
    payment = create_payment(api, billing=EN, save_card=True)

    html = html_of(client.get(hosted_path(payment)))

    assert "Your card will be saved securely" in html
    assert 'name="save_card"' not in html


def test_a_customers_saved_cards_are_offered_and_pay_in_one_click(api):
    customer = _customer(api)
    first = create_payment(api, billing=EN, save_card=True, customer_id=customer)
    pay(first, expiry="12/29")
    card_id = payment_row(first).card_public_id
    second = create_payment(api, billing=EN, customer_id=customer)
    client = Client()

    html = html_of(client.get(hosted_path(second)))
    assert "Visa •••• 4242, expires 12/29" in html
    assert f'name="saved_card" value="{card_id}"' in html
    response = client.post(hosted_path(second), {"saved_card": card_id}, follow=True)

    assert "Payment successful" in html_of(response)
    body = api.get(f"/v1/payments/{second['id']}").json()
    assert body["is_paid"] is True
    assert body["card"]["id"] == card_id


def test_one_click_with_a_challenge_card_goes_through_3ds(api):
    customer = _customer(api)
    first = create_payment(api, billing=EN, save_card=True, customer_id=customer)
    pay(first, number="4000 0025 0000 3155")
    answer_3ds(first, "approve")
    card_id = payment_row(first).card_public_id
    second = create_payment(api, billing=EN, customer_id=customer)

    response = Client().post(hosted_path(second), {"saved_card": card_id}, follow=True)

    assert response.redirect_chain[-1][0].endswith("/3ds/")
    answer_3ds(second, "approve")
    assert api.get(f"/v1/payments/{second['id']}").json()["is_paid"] is True


def test_another_customers_card_cannot_be_used(api):
    owner = _customer(api)
    first = create_payment(api, billing=EN, save_card=True, customer_id=owner)
    pay(first)
    card_id = payment_row(first).card_public_id
    stranger = _customer(api)
    second = create_payment(api, billing=EN, customer_id=stranger)

    response = Client().post(hosted_path(second), {"saved_card": card_id})

    assert response.status_code == 400
    assert not payment_row(second).attempts.exists()


def test_expired_and_deleted_cards_are_not_offered(api, client):
    customer = _customer(api)
    first = create_payment(api, billing=EN, save_card=True, customer_id=customer)
    pay(first)
    Card.objects.update(exp_year=2020)
    second = create_payment(api, billing=EN, customer_id=customer)

    assert "••••" not in html_of(client.get(hosted_path(second)))


# --- branding ---------------------------------------------------------------------------------------------


def test_the_brand_stylesheet_carries_the_merchants_colour(api, client, merchant_a):
    Merchant.objects.filter(pk=merchant_a.pk).update(brand_color="#ffcc00", brand_name="Les Amis du Vélo")
    payment = create_payment(api, billing=EN)

    html = html_of(client.get(hosted_path(payment)))
    href = re.search(r'<link rel="stylesheet" href="(/pay/brand/[^"]+)">', html).group(1)
    css = client.get(href)

    assert "Les Amis du Vélo" in html
    assert css["Content-Type"].startswith("text/css")
    assert "--accent: #ffcc00" in css.content.decode()
    assert "--on-accent: #111827" in css.content.decode()  # dark text on a light colour
    assert "immutable" in css["Cache-Control"]


def test_colours_are_made_readable():
    palette = display.brand_palette("#ffcc00")
    assert display.contrast(palette["ink"], "#ffffff") >= 4.5
    assert display.contrast(palette["accent"], palette["on_accent"]) >= 4.5
    assert display.brand_palette("red; } body { display:none")["accent"] == display.DEFAULT_BRAND_COLOR


def test_a_logo_is_shown(api, client, merchant_a):
    Merchant.objects.filter(pk=merchant_a.pk).update(logo="logos/alice.png")
    payment = create_payment(api, billing=EN)

    assert '<img class="logo" src="/media/logos/alice.png" alt="">' in html_of(client.get(hosted_path(payment)))


def test_attempt_count_is_untouched_by_form_errors(api, client):
    payment = create_payment(api, billing=EN)
    client.post(hosted_path(payment), {"cardholder": "J", "number": "1", "expiry": "x", "cvc": ""})

    assert PaymentAttempt.objects.filter(payment__public_id=payment["id"]).count() == 0
    assert payment_row(payment).failed_attempts == 0
