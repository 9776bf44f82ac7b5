"""Checkout details (issue 12, finding 20): a CVC hint that is true, the accepted-card logos, a
wrong security code said as such next to its field, every form error next to its field without
JavaScript, and a valid card number kept when only the code was wrong."""

import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from merchants.services.audit import Actor
from payments import cards, links, services, vault
from payments.checkout import page
from payments.models import Payment, PaymentAttempt, VaultEntry
from tests.payments.helpers import create_payment, hosted_path, pay

pytestmark = pytest.mark.django_db

EN = {"first_name": "Jeanne", "last_name": "Martin", "email": "jeanne@example.org", "language": "en"}
GOOD = {"cardholder": "Jeanne Martin", "number": "4242 4242 4242 4242", "expiry": "12/34", "cvc": "123"}


def html_of(response) -> str:
    return response.content.decode()


def field_error(html: str, name: str) -> str:
    match = re.search(rf'<p class="error" id="id_{name}_error"( hidden)?>(.*?)</p>', html, re.S)
    assert match, name
    return "" if match.group(1) else match.group(2).strip()


def input_tag(html: str, name: str) -> str:
    match = re.search(rf'<input[^>]*name="{name}"[^>]*>', html)
    assert match, name
    return match.group(0)


# --- the hint and the logos ---------------------------------------------------------------------------


def test_the_security_code_hint_names_no_refused_brand(api, client):
    payment = create_payment(api, billing=EN)

    html = html_of(client.get(hosted_path(payment)))

    hint = re.search(r'<p class="hint" id="id_cvc_hint">(.*?)</p>', html, re.S).group(1)
    assert "3 digits on the back" in hint
    assert "American Express" not in html, "a refused brand must not be suggested"
    assert not cards.is_accepted("American Express")


def test_the_accepted_card_logos_are_shown_near_the_number_with_alt_text(api, client):
    payment = create_payment(api, billing=EN)

    html = html_of(client.get(hosted_path(payment)))

    logos = re.search(r'<ul class="card-logos"[^>]*>(.*?)</ul>', html, re.S)
    assert logos, "no accepted-card logos"
    assert html.index('class="card-logos"') < html.index('name="number"') < html.index('name="expiry"')
    for brand in cards.ACCEPTED_BRANDS:
        tag = re.search(rf'<img[^>]*alt="{brand}"[^>]*>', logos.group(1))
        assert tag, brand
        src = re.search(r'src="([^"]+)"', tag.group(0)).group(1)
        assert src.startswith(settings.STATIC_URL + "img/cards/") and src.endswith(".svg")
        svg = Path(settings.BASE_DIR, "static", src.removeprefix(settings.STATIC_URL)).read_text()
        assert svg.lstrip().startswith("<svg") and "<script" not in svg
    assert "American Express" not in logos.group(1)


# --- a wrong security code ----------------------------------------------------------------------------


def test_a_code_refused_by_the_issuer_says_the_code_is_wrong_next_to_the_field(api):
    payment = create_payment(api, billing=EN)
    client = Client()

    result = pay(payment, number="4000 0000 0000 0127", client=client)

    assert "The security code is incorrect." in html_of(result)
    assert "Your card was declined." not in html_of(result)
    again = html_of(client.get(hosted_path(payment)))
    assert field_error(again, "cvc") == "The security code is incorrect."
    assert 'aria-invalid="true"' in input_tag(again, "cvc")
    assert field_error(again, "number") == ""


@pytest.mark.parametrize(
    ("message", "field", "text"),
    [
        ("The card was declined: the security code is incorrect.", "cvc", "The security code is incorrect."),
        ("The card was declined: it has expired.", "expiry", "The card has expired."),
        ("The card was declined: the expiry date is incorrect.", "expiry", "The expiry date is incorrect."),
    ],
)
def test_acquirer_decline_reasons_point_at_their_field(api, message, field, text):
    payment = create_payment(api, billing=EN)
    Payment.objects.filter(public_id=payment["id"]).update(failure_code="card_declined", failure_message=message)
    row = Payment.objects.get(public_id=payment["id"])

    assert page.failure_text(row) == text
    assert page.failure_field(row) == field


def test_a_badly_formed_code_says_the_code_is_wrong(api, client):
    payment = create_payment(api, billing=EN)

    html = html_of(client.post(hosted_path(payment), {**GOOD, "cvc": "12"}))

    assert field_error(html, "cvc") == "The security code is not valid: enter 3 digits."


# --- without JavaScript ---------------------------------------------------------------------------------


def test_without_javascript_every_error_is_next_to_its_field(api, client):
    payment = create_payment(api, billing=EN)

    response = client.post(
        hosted_path(payment), {"cardholder": "", "number": "4242 4242 4242 4241", "expiry": "13/40", "cvc": "1"}
    )

    assert response.status_code == 400
    html = html_of(response)
    assert field_error(html, "cardholder") == "This field is required."
    assert field_error(html, "number") == "This card number is not valid."
    assert field_error(html, "expiry") == "Enter the expiry date as MM/YY."
    assert field_error(html, "cvc").startswith("The security code is not valid")
    for name in ("cardholder", "number", "expiry", "cvc"):
        assert 'aria-invalid="true"' in input_tag(html, name), name
        assert f'href="#id_{name}"' in html, f"the summary links to {name}"


def _kept_reference(html: str) -> str:
    return re.search(r'<input type="hidden" name="kept_card" value="([^"]+)">', html).group(1)


def test_a_valid_number_is_kept_when_only_the_code_was_wrong_without_being_shown_back(api, client):
    payment = create_payment(api, billing=EN)

    response = client.post(hosted_path(payment), {**GOOD, "cvc": "98"})

    html = html_of(response)
    assert "4242 4242 4242 4242" not in html and "4242424242424242" not in html
    assert "We kept your card ending in 4242" in html
    number = input_tag(html, "number")
    assert "value=" not in number and "required" not in number and 'autocomplete="cc-number"' in number
    assert "data-kept-card" in html
    cvc = input_tag(html, "cvc")
    assert "value=" not in cvc and 'autocomplete="cc-csc"' in cvc
    assert "98" not in re.sub(r"<[^>]+>", "", html.split('name="cvc"')[1].split("</div>")[0])
    assert 'value="12/34"' in input_tag(html, "expiry")
    assert "no-store" in response["Cache-Control"]
    # The reference is signed and names no number; the number itself is in the vault only.
    reference = _kept_reference(html)
    assert "4242" not in reference
    (entry,) = VaultEntry.objects.all()
    assert vault.reveal(entry) == "4242424242424242"


def test_the_kept_card_pays_when_the_number_is_left_empty(api, client):
    payment = create_payment(api, billing=EN)
    html = html_of(client.post(hosted_path(payment), {**GOOD, "cvc": "98"}))

    client.post(hosted_path(payment), {**GOOD, "number": "", "kept_card": _kept_reference(html)})

    p = Payment.objects.get(public_id=payment["id"])
    assert p.is_paid and p.card_last4 == "4242"
    # The kept entry is gone; only the attempt's own entry remains.
    assert VaultEntry.objects.count() == 1
    assert PaymentAttempt.objects.get(payment=p).vault_entry_id == VaultEntry.objects.get().pk


def test_a_kept_card_reference_is_bound_to_its_payment(api, client):
    first = create_payment(api, billing=EN)
    other = create_payment(api, billing=EN)
    reference = _kept_reference(html_of(client.post(hosted_path(first), {**GOOD, "cvc": "98"})))

    response = client.post(hosted_path(other), {**GOOD, "number": "", "kept_card": reference})

    assert response.status_code == 400
    assert field_error(html_of(response), "number") == "This field is required."
    assert not Payment.objects.get(public_id=other["id"]).is_paid


def test_a_forged_or_expired_kept_card_reference_is_ignored(api, client, monkeypatch):
    payment = create_payment(api, billing=EN)
    reference = _kept_reference(html_of(client.post(hosted_path(payment), {**GOOD, "cvc": "98"})))

    forged = client.post(hosted_path(payment), {**GOOD, "number": "", "kept_card": reference[:-2] + "xx"})
    assert forged.status_code == 400
    monkeypatch.setattr(page, "KEPT_CARD_USABLE", -1)
    expired = client.post(hosted_path(payment), {**GOOD, "number": "", "kept_card": reference})
    assert expired.status_code == 400
    assert not Payment.objects.get(public_id=payment["id"]).is_paid


def test_kept_numbers_never_used_are_deleted_by_the_expiry_job(api, client):
    payment = create_payment(api, billing=EN)
    client.post(hosted_path(payment), {**GOOD, "cvc": "98"})
    assert VaultEntry.objects.count() == 1

    services.expire_due(now=timezone.now() + timedelta(minutes=30))
    assert VaultEntry.objects.count() == 1  # still usable
    services.expire_due(now=timezone.now() + services.KEPT_CARD_LIFETIME + timedelta(seconds=1))
    assert not VaultEntry.objects.exists()


def test_the_expiry_job_never_deletes_a_number_an_attempt_or_a_saved_card_uses(api, client):
    payment = create_payment(api, billing=EN)
    pay(payment, client=client)
    assert VaultEntry.objects.count() == 1

    services.expire_due(now=timezone.now() + timedelta(days=30))

    assert VaultEntry.objects.count() == 1


def test_an_invalid_number_is_never_rendered_back(api, client):
    payment = create_payment(api, billing=EN)

    html = html_of(client.post(hosted_path(payment), {**GOOD, "number": "4242 4242 4242 4241", "cvc": "917"}))

    assert "4242 4242 4242 4241" not in html and "4242424242424241" not in html
    assert "917" not in html


def test_the_kept_number_is_not_logged(api, client, caplog):
    payment = create_payment(api, billing=EN)

    with caplog.at_level("DEBUG"):
        client.post(hosted_path(payment), {**GOOD, "cvc": "98"})

    assert "4242 4242 4242 4242" not in caplog.text and "4242424242424242" not in caplog.text


def test_the_number_is_hidden_from_error_reports(api, rf):
    payment = create_payment(api, billing=EN)
    request = rf.post(hosted_path(payment), GOOD)
    request._dont_enforce_csrf_checks = True

    page.pay(request, token=Payment.objects.get(public_id=payment["id"]).hosted_token)

    assert {"number", "cvc"} <= set(request.sensitive_post_parameters)


def test_a_link_pages_errors_are_all_next_to_their_fields(merchant_a, client):
    link = links.create_link(
        merchant_a,
        False,
        Actor.system("tests"),
        {"description": "Tickets", "amount": 60000, "ask_quantity": True, "max_quantity": 90, "collect_name": True},
    )

    response = client.post(reverse("links:page", args=[link.slug]), {"quantity": "80", "email": "x", "first_name": ""})

    assert response.status_code == 400
    html = html_of(response)
    assert field_error(html, "quantity").startswith("The total must be between")
    assert field_error(html, "first_name") == "This field is required."
    assert field_error(html, "email") == "Enter a valid email address."
