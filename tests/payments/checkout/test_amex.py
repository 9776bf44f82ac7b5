"""American Express (issue 13, item 8): refused unless the merchant enabled it in Settings; then
authorised with its 4-digit code (CID), with a hint that says so and its own logo on the page."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from merchants import roles
from merchants.models import AuditLog, Membership
from merchants.services.audit import Actor
from payments import cards, links
from payments.acquirers.base import CardData, Outcome
from payments.acquirers.sandbox import SandboxAcquirer
from payments.models import Card, Payment, PaymentAttempt, SandboxOperation, VaultEntry
from tests import factories
from tests.payments.helpers import create_payment, hosted_path, pay

pytestmark = pytest.mark.django_db

AMEX = "3782 822463 10005"
EN = {"first_name": "Jeanne", "last_name": "Martin", "email": "jeanne@example.org", "language": "en"}
SETTINGS_URL = "/dashboard/settings/"
AMEX_HINT = "3 digits on the back, 4 on the front for American Express"


def enable_amex(merchant, enabled=True):
    merchant.accepts_american_express = enabled
    merchant.save(update_fields=["accepts_american_express", "updated_at"])


def row(payment) -> Payment:
    return Payment.objects.get(public_id=payment["id"])


def html_of(response) -> str:
    return response.content.decode()


def cvc_hint(html: str) -> str:
    return re.search(r'<p class="hint" id="id_cvc_hint">(.*?)</p>', html, re.S).group(1).strip()


def field_error(html: str, name: str) -> str:
    match = re.search(rf'<p class="error" id="id_{name}_error"( hidden)?>(.*?)</p>', html, re.S)
    assert match, name
    return "" if match.group(1) else match.group(2).strip()


def amex_checkbox(html: str) -> str:
    return re.search(r'<input[^>]*name="accepts_american_express"[^>]*>', html).group(0)


def logos(html: str) -> str:
    match = re.search(r'<ul class="card-logos"[^>]*>(.*?)</ul>', html, re.S)
    assert match, "no accepted-card logos"
    return match.group(1)


# --- refused unless enabled --------------------------------------------------------------------------


def test_amex_is_refused_as_method_unsupported_when_the_merchant_has_not_enabled_it(api, merchant_a):
    assert merchant_a.accepts_american_express is False
    payment = create_payment(api, billing=EN)

    response = pay(payment, number=AMEX, cvc="1234")

    assert "This card brand is not accepted." in html_of(response)
    body = api.get(f"/v1/payments/{payment['id']}").json()
    assert body["failure"]["code"] == "method_unsupported"
    assert body["is_paid"] is False and body["card"]["last4"] is None
    # Nothing reached the acquirer, nothing was vaulted.
    assert not SandboxOperation.objects.exists()
    assert not VaultEntry.objects.exists()
    assert PaymentAttempt.objects.get(payment=row(payment)).acquirer == "none"


def test_amex_is_authorised_with_a_4_digit_code_when_enabled(api, merchant_a):
    enable_amex(merchant_a)
    payment = create_payment(api, billing=EN)

    response = pay(payment, number=AMEX, cvc="1234")

    assert "Payment successful" in html_of(response)
    body = api.get(f"/v1/payments/{payment['id']}").json()
    assert body["is_paid"] is True and body["failure"] is None
    assert body["card"]["brand"] == "American Express" and body["card"]["last4"] == "0005"
    assert SandboxOperation.objects.filter(kind="authorize", outcome=Outcome.AUTHORIZED).count() == 1


def test_a_3_digit_code_is_refused_next_to_the_field_for_amex(api, merchant_a):
    enable_amex(merchant_a)
    payment = create_payment(api, billing=EN)
    client = Client()
    client.get(hosted_path(payment))

    response = client.post(
        hosted_path(payment), {"cardholder": "Jeanne Martin", "number": AMEX, "expiry": "12/34", "cvc": "123"}
    )

    assert response.status_code == 400
    html = html_of(response)
    assert field_error(html, "cvc") == "The security code is not valid: enter 4 digits."
    assert field_error(html, "number") == ""
    assert not PaymentAttempt.objects.exists() and not SandboxOperation.objects.exists()
    assert row(payment).status == Payment.Status.CREATED and row(payment).failure_code is None


def test_the_sandbox_authorises_amex_only_with_its_4_digit_code():
    acquirer = SandboxAcquirer()

    def authorize(cvc, key):
        card = CardData(number=cards.normalize_number(AMEX), exp_month=12, exp_year=2034, cvc=cvc)
        return acquirer.authorize(card=card, amount=1000, currency="EUR", idempotency_key=key)

    assert authorize("1234", "k1").outcome == Outcome.AUTHORIZED
    refused = authorize("123", "k2")
    assert refused.outcome == Outcome.DECLINED and refused.failure_code == "card_declined"
    assert "security code" in refused.failure_message


def test_acceptance_is_per_merchant():
    class Shop:
        accepts_american_express = False

    shop = Shop()
    assert not cards.is_accepted("American Express", shop)
    assert cards.is_accepted("Visa", shop)
    shop.accepts_american_express = True
    assert cards.is_accepted("American Express", shop)
    assert not cards.is_accepted("Diners Club", shop)


# --- the hint and the logo ---------------------------------------------------------------------------


def test_the_hint_and_the_logo_follow_the_setting(api, merchant_a, client):
    html = html_of(client.get(hosted_path(create_payment(api, billing=EN))))
    assert cvc_hint(html) == "The 3 digits on the back of the card."
    assert "American Express" not in html
    assert "amex.svg" not in html

    enable_amex(merchant_a)
    html = html_of(client.get(hosted_path(create_payment(api, billing=EN))))

    assert AMEX_HINT in cvc_hint(html)
    tag = re.search(r'<img[^>]*alt="American Express"[^>]*>', logos(html))
    assert tag, "no American Express logo among the accepted cards"
    src = re.search(r'src="([^"]+)"', tag.group(0)).group(1)
    assert src == settings.STATIC_URL + "img/cards/amex.svg"
    svg = Path(settings.BASE_DIR, "static", "img", "cards", "amex.svg").read_text()
    assert svg.lstrip().startswith("<svg") and "<script" not in svg and "href" not in svg
    for brand in cards.ACCEPTED_BRANDS:  # the others stay
        assert f'alt="{brand}"' in logos(html)


def test_the_payment_link_page_leads_to_the_same_form(merchant_a):
    enable_amex(merchant_a)
    link = links.create_link(merchant_a, False, Actor.system("tests"), {"description": "Tickets", "amount": 2000})
    client = Client()

    response = client.post(
        reverse("links:page", args=[link.slug]), {"email": "jeanne@example.org", "first_name": "J"}, follow=True
    )

    html = html_of(response)
    assert 'alt="American Express"' in logos(html)
    payment = Payment.objects.get(merchant=merchant_a)
    paid = pay({"hosted_payment": {"payment_url": response.redirect_chain[-1][0]}}, number=AMEX, cvc="4321")
    assert "Payment successful" in html_of(paid)
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PAID


# --- saved cards ---------------------------------------------------------------------------------------


def test_a_saved_amex_card_is_refused_once_the_merchant_disables_amex(api, merchant_a):
    enable_amex(merchant_a)
    first = create_payment(api, billing=EN, save_card=True)
    pay(first, number=AMEX, cvc="1234")
    card = Card.objects.get()
    assert card.brand == "American Express"
    assert api.post("/v1/payments", _one_click(card)).json()["is_paid"] is True
    operations = SandboxOperation.objects.count()

    enable_amex(merchant_a, False)
    refused = api.post("/v1/payments", _one_click(card)).json()

    assert refused["is_paid"] is False and refused["failure"]["code"] == "method_unsupported"
    assert SandboxOperation.objects.count() == operations  # never sent to the acquirer


def _one_click(card) -> dict:
    return {
        "amount": 1500,
        "currency": "EUR",
        "payment_method": card.public_id,
        "initiator": "MERCHANT",
        "billing": {"first_name": "A", "last_name": "B", "email": "a@example.org"},
    }


# --- the setting ---------------------------------------------------------------------------------------


def test_the_owner_turns_amex_on_and_off_in_settings_and_it_is_audited(alice_client, alice, merchant_a):
    page = html_of(alice_client.get(SETTINGS_URL))
    assert 'name="accepts_american_express"' in page

    response = alice_client.post(SETTINGS_URL, {"action": "payment_methods", "accepts_american_express": "on"})

    assert response.status_code == 302
    merchant_a.refresh_from_db()
    assert merchant_a.accepts_american_express is True
    entry = AuditLog.objects.filter(merchant=merchant_a, actor=alice).latest("id")
    assert "accepts_american_express" in entry.data["fields"]
    assert "checked" in amex_checkbox(html_of(alice_client.get(SETTINGS_URL)))

    alice_client.post(SETTINGS_URL, {"action": "payment_methods"})
    merchant_a.refresh_from_db()
    assert merchant_a.accepts_american_express is False


def test_an_admin_can_turn_it_on(client, merchant_a):
    client.force_login(factories.member(merchant_a, "admin@example.org", Membership.Role.ADMIN))

    client.post(SETTINGS_URL, {"action": "payment_methods", "accepts_american_express": "on"})

    merchant_a.refresh_from_db()
    assert merchant_a.accepts_american_express is True


def test_a_developer_cannot_turn_it_on(client, merchant_a):
    client.force_login(factories.member(merchant_a, "dev@example.org", Membership.Role.DEVELOPER))

    response = client.post(SETTINGS_URL, {"action": "payment_methods", "accepts_american_express": "on"})

    assert response.status_code == 403
    merchant_a.refresh_from_db()
    assert merchant_a.accepts_american_express is False


def test_a_read_only_role_sees_the_setting_but_cannot_change_it(client, merchant_a, monkeypatch):
    monkeypatch.setitem(
        roles.PERMISSIONS, Membership.Role.SUPPORT, roles.PERMISSIONS[Membership.Role.SUPPORT] | {roles.VIEW_SETTINGS}
    )
    client.force_login(factories.member(merchant_a, "support@example.org", Membership.Role.SUPPORT))

    page = client.get(SETTINGS_URL)
    refused = client.post(SETTINGS_URL, {"action": "payment_methods", "accepts_american_express": "on"})

    assert page.status_code == 200
    assert "disabled" in amex_checkbox(html_of(page))
    assert "Save the payment methods" not in html_of(page)
    assert refused.status_code == 403
    merchant_a.refresh_from_db()
    assert merchant_a.accepts_american_express is False


# --- tenants -------------------------------------------------------------------------------------------


def test_another_merchants_setting_does_not_affect_this_one(api, merchant_a, merchant_b, alice_client):
    enable_amex(merchant_b)
    payment = create_payment(api, billing=EN)

    html = html_of(Client().get(hosted_path(payment)))
    pay(payment, number=AMEX, cvc="1234")

    assert "American Express" not in html
    assert row(payment).failure_code == "method_unsupported"

    # And the other way round: A's owner turning it on changes only A.
    enable_amex(merchant_b, False)
    alice_client.post(SETTINGS_URL, {"action": "payment_methods", "accepts_american_express": "on"})
    merchant_a.refresh_from_db()
    merchant_b.refresh_from_db()
    assert merchant_a.accepts_american_express is True
    assert merchant_b.accepts_american_express is False
