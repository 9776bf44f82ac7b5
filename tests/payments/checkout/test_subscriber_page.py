"""The subscriber's own page (issue 13): reached by the signed link of the emails, no account; the
plan, the card (brand, last four, expiry only), this subscription's payments; replace the card,
cancel after a confirmation; plain POST forms, strict CSP, never cached nor indexed."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings
from django.core import signing
from django.test import Client
from django.utils import timezone

from payments import subscriber_links, subscription_emails, subscriptions
from payments.models import Payment, Subscription
from tests.payments.helpers import BILLING
from tests.payments.subscriptions.helpers import create, pay_page, reload, start

pytestmark = pytest.mark.django_db

EN = {**BILLING, "language": "en"}
TEMPLATES = Path(settings.BASE_DIR) / "templates" / "checkout"


def path_of(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


def page_path(sub) -> str:
    return path_of(subscription_emails.manage_url(sub))


def html_of(response) -> str:
    return response.content.decode()


# --- the link -----------------------------------------------------------------------------------------


def test_the_link_is_absolute_and_signed(merchant_a):
    sub = create(merchant_a, billing=EN)

    url = subscription_emails.manage_url(sub)

    assert url.startswith(settings.PUBLIC_BASE_URL + "/pay/subscription/")
    assert subscription_emails.subscription_for_token(url.rstrip("/").rsplit("/", 1)[1]) == (sub, False)


def test_the_signed_link_opens_the_page_without_an_account(merchant_a):
    sub = start(merchant_a, billing=EN)

    response = Client().get(page_path(sub))

    assert response.status_code == 200
    html = html_of(response)
    assert "Alice Shop" in html and "€10.00 every month" in html
    assert 'data-status="active"' in html and "Active" in html
    next_date = subscriptions.next_charge(sub).date
    assert "Next payment" in html and f"{next_date.day} " in html
    assert "Visa •••• 4242, expires 12/34" in html
    assert "Replace my card" in html and "Cancel my subscription" in html


@pytest.mark.parametrize("mangle", [lambda t: t[:-2] + ("AA" if t[-2:] != "AA" else "BB"), lambda t: "sub_x" + t])
def test_a_tampered_link_is_not_found(merchant_a, mangle):
    sub = create(merchant_a, billing=EN)
    token = subscriber_links.token(sub.public_id)

    response = Client().get(f"/pay/subscription/{mangle(token)}/")

    assert response.status_code == 404
    assert "Alice Shop" not in html_of(response)


def test_a_link_to_an_unknown_subscription_is_not_found(db):
    token = signing.TimestampSigner(salt=subscriber_links.SALT).sign("sub_doesnotexist")

    assert Client().get(f"/pay/subscription/{token}/").status_code == 404


def test_a_value_signed_for_something_else_does_not_open_it(merchant_a):
    sub = create(merchant_a, billing=EN)
    token = signing.TimestampSigner(salt="payments.checkout.other").sign(sub.public_id)

    assert Client().get(f"/pay/subscription/{token}/").status_code == 404


# --- what it shows --------------------------------------------------------------------------------------


def test_only_this_subscriptions_payments_are_listed(merchant_a, merchant_b):
    mine = start(merchant_a, billing=EN, amount=1000)
    start(merchant_a, billing=EN, amount=2500)
    start(merchant_b, billing=EN, amount=3700)

    html = html_of(Client().get(page_path(mine)))

    assert re.search(r"<strong>€10\.00</strong> <span class=\"muted\">Paid</span>", html)
    assert "€25.00" not in html and "€37.00" not in html


def test_no_card_data_beyond_brand_last4_and_expiry(merchant_a):
    sub = start(merchant_a, billing=EN)

    html = html_of(Client().get(page_path(sub)))

    assert "4242 4242" not in html and "4242424242424242" not in html
    assert 'name="number"' not in html and 'name="cvc"' not in html
    assert sub.card.public_id not in html


def test_the_page_is_strict_uncached_and_unindexed(merchant_a):
    sub = start(merchant_a, billing=EN)

    response = Client().get(page_path(sub))

    html = html_of(response)
    assert "no-store" in response["Cache-Control"]
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert '<meta name="robots" content="noindex, nofollow">' in html
    assert not re.search(r"<script(?![^>]*\bsrc=)", html), "inline <script>"
    assert " style=" not in html and "<style" not in html
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert "/pay/brand/" in html  # the merchant's colours, as on the checkout


# --- replacing the card --------------------------------------------------------------------------------


def test_replace_card_sends_to_a_card_check_that_comes_back_here(merchant_a):
    sub = start(merchant_a, billing=EN)
    client = Client()

    response = client.post(page_path(sub), {"action": "replace_card"})

    assert response.status_code == 303
    check = Payment.objects.get(subscription=sub, subscription_period__isnull=True)
    assert response["Location"] == check_url(check)
    assert subscriber_links.read(check.return_url.rstrip("/").rsplit("/", 1)[1]).public_id == sub.public_id
    assert reload(sub).card_id == sub.card_id  # nothing changed yet
    html = html_of(client.get(path_of(response["Location"])))
    assert "Nothing is charged now" in html and 'name="consent"' in html
    assert "Next payment" in html and "First payment" not in html


def check_url(payment) -> str:
    return settings.PUBLIC_BASE_URL + f"/pay/{payment.hosted_token}/"


def test_the_new_card_is_shown_once_checked(merchant_a):
    sub = start(merchant_a, billing=EN)
    client = Client()
    location = client.post(page_path(sub), {"action": "replace_card"})["Location"]

    result = pay_page({"hosted_payment": {"payment_url": location}}, number="5555 5555 5555 4444", expiry="11/33")

    assert "Your card is saved" in html_of(result)
    back = re.search(r'href="' + re.escape(settings.PUBLIC_BASE_URL) + r'/pay/subscription/([^/"]+)/"', html_of(result))
    assert back and subscriber_links.read(back.group(1)).public_id == sub.public_id  # back to this page
    html = html_of(client.get(page_path(sub)))
    assert "Mastercard •••• 4444, expires 11/33" in html and "4242" not in html
    assert reload(sub).status == Subscription.Status.ACTIVE


def test_an_unknown_action_changes_nothing(merchant_a):
    sub = start(merchant_a, billing=EN)

    response = Client().post(page_path(sub), {"action": "something"})

    assert response.status_code == 400
    assert not Payment.objects.filter(subscription=sub, subscription_period__isnull=True).exists()


def test_posts_are_rate_limited(merchant_a, settings):
    settings.CHECKOUT_CREATE_LIMIT_PER_IP = 1
    sub = start(merchant_a, billing=EN)
    client = Client()
    assert client.post(page_path(sub), {"action": "replace_card"}).status_code == 303

    response = client.post(path_of(subscription_emails.manage_url(sub)) + "cancel/")

    assert response.status_code == 429 and response["Retry-After"]
    assert reload(sub).status == Subscription.Status.ACTIVE


# --- canceling ------------------------------------------------------------------------------------------


def test_cancel_asks_for_a_confirmation_first(merchant_a):
    sub = start(merchant_a, billing=EN)
    html = html_of(Client().get(page_path(sub)))
    cancel_path = re.search(r'<a href="([^"]+/cancel/)">Cancel my subscription</a>', html).group(1)

    response = Client().get(cancel_path)

    assert response.status_code == 200
    confirm = html_of(response)
    assert "Cancel my subscription?" in confirm and "Yes, cancel my subscription" in confirm
    assert re.search(r'<form method="post"', confirm)
    assert reload(sub).status == Subscription.Status.ACTIVE


def test_the_confirmed_cancel_ends_it_and_the_page_shows_it_canceled(merchant_a):
    sub = start(merchant_a, billing=EN)
    client = Client()
    path = page_path(sub)

    response = client.post(path + "cancel/")

    assert response.status_code == 303 and response["Location"] == path
    sub = reload(sub)
    assert sub.status == Subscription.Status.CANCELED and sub.canceled_by == Subscription.CanceledBy.SUBSCRIBER
    html = html_of(client.get(page_path(sub)))
    assert "This subscription is canceled." in html and 'data-status="canceled"' in html
    assert "Replace my card" not in html and "Cancel my subscription" not in html
    assert "Next payment" not in html
    assert re.search(r"<strong>€10\.00</strong> <span class=\"muted\">Paid</span>", html)


def test_a_canceled_subscription_cannot_get_a_new_card(merchant_a):
    sub = start(merchant_a, billing=EN)
    subscriptions.cancel(sub, by="subscriber")

    response = Client().post(page_path(sub), {"action": "replace_card"})

    assert response.status_code == 400
    assert not Payment.objects.filter(subscription=sub, subscription_period__isnull=True).exists()
    path = page_path(sub)
    assert Client().get(path + "cancel/")["Location"] == path


def test_the_forms_are_plain_posts_protected_against_forgery(merchant_a):
    sub = start(merchant_a, billing=EN)
    client = Client(enforce_csrf_checks=True)

    assert client.post(page_path(sub) + "cancel/").status_code == 403
    assert reload(sub).status == Subscription.Status.ACTIVE
    confirm = html_of(client.get(page_path(sub) + "cancel/"))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', confirm).group(1)
    response = client.post(page_path(sub) + "cancel/", {"csrfmiddlewaretoken": token})

    assert response.status_code == 303
    assert reload(sub).status == Subscription.Status.CANCELED


# --- languages -------------------------------------------------------------------------------------------


def test_the_page_is_in_the_subscribers_language(merchant_a):
    sub = start(merchant_a)  # billing language fr

    response = Client().get(page_path(sub))

    assert '<html lang="fr">' in html_of(response)
    assert response["Content-Language"] == "fr"
    assert "10,00\u00a0€" in html_of(response)


def test_without_a_billing_language_the_browser_decides(merchant_a):
    sub = start(merchant_a, billing={k: v for k, v in EN.items() if k != "language"})

    response = Client(HTTP_ACCEPT_LANGUAGE="es").get(page_path(sub))

    assert '<html lang="es">' in html_of(response)


def _bare_text(source: str) -> list[str]:
    """The words of a template outside tags, variables, comments and translation blocks."""
    source = re.sub(r"{%\s*comment\s*%}.*?{%\s*endcomment\s*%}", "", source, flags=re.S)
    source = re.sub(r"{%\s*blocktranslate.*?{%\s*endblocktranslate\s*%}", "", source, flags=re.S)
    source = re.sub(r"{%.*?%}|{{.*?}}|{#.*?#}", "", source, flags=re.S)
    source = re.sub(r"<[^>]*>", "", source, flags=re.S)
    return re.findall(r"[A-Za-z]{2,}", source)


@pytest.mark.parametrize("name", ["subscriber.html", "subscriber_cancel.html", "subscriber_card_saved.html"])
def test_every_string_of_the_page_is_translatable(name):
    assert _bare_text((TEMPLATES / name).read_text()) == []


def test_the_bare_text_check_finds_an_unwrapped_string():
    assert _bare_text('<p>{% translate "Wrapped" %} Forgotten</p>') == ["Forgotten"]


def test_an_expired_link_shows_nothing_and_emails_a_fresh_one_to_the_address_on_file(merchant_a, mailoutbox):
    sub = start(merchant_a, billing=EN)
    old = subscriber_links.token(sub.public_id)
    later = timezone.now() + subscriber_links.LIFETIME + timedelta(days=1)
    mailoutbox.clear()
    with mock.patch("django.core.signing.time.time", return_value=later.timestamp()):
        client = Client()
        response = client.get(f"/pay/subscription/{old}/")
        html = html_of(response)
        assert response.status_code == 410 and "This link has expired" in html
        assert "4242" not in html and "Cancel my subscription" not in html  # nothing of the subscription
        assert client.get(f"/pay/subscription/{old}/cancel/").status_code == 410
        client.post(f"/pay/subscription/{old}/cancel/")  # cancels nothing
        sent = client.post(f"/pay/subscription/{old}/", {"action": "send_link", "email": "attacker@example.org"})
        assert sent.status_code == 410 and 'id="link-sent"' in html_of(sent)
        assert [m.to for m in mailoutbox] == [["jeanne@example.org"]]  # the address on file, never a typed one
        fresh = mailoutbox[0].body.split("/pay/subscription/", 1)[1].split("/", 1)[0]
        assert client.get(f"/pay/subscription/{fresh}/").status_code == 200
    sub.refresh_from_db()
    assert sub.status == Subscription.Status.ACTIVE
