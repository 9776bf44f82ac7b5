"""Security of the hosted page: escaping, card-testing rate limits, country blocking, the form's
anti-forgery token, and framing only for the pay button's lightbox."""

import pytest
from django.core.cache import cache
from django.test import Client

from merchants.models import Merchant
from payments.checkout import guards
from payments.models import Payment
from tests.factories import publishable_key
from tests.payments.helpers import create_payment, hosted_path, pay

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"
EN = {"first_name": "Jeanne", "last_name": "Martin", "email": "jeanne@example.org", "language": "en"}
CARD = {"cardholder": "J", "number": "4242 4242 4242 4242", "expiry": "12/34", "cvc": "123"}
BAD_CARD = {**CARD, "number": "4242 4242 4242 4241"}


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()
    yield
    cache.clear()


# --- escaping ------------------------------------------------------------------------------------------


def test_merchant_and_shopper_text_is_escaped_everywhere(api, merchant_a):
    Merchant.objects.filter(pk=merchant_a.pk).update(brand_name=SCRIPT)
    payment = create_payment(
        api,
        billing={**EN, "first_name": SCRIPT, "last_name": SCRIPT, "email": "x@example.org"},
        description=SCRIPT,
        metadata={"note": SCRIPT, SCRIPT: "key"},
    )
    client = Client()

    pages = [client.get(hosted_path(payment))]
    pages.append(pay(payment, number="4000 0025 0000 3155", client=client))  # the 3-D Secure page
    client.post(hosted_path(payment) + "3ds/", {"outcome": "approve"})
    pages.append(client.get(hosted_path(payment) + "result/"))

    for response in pages:
        html = response.content.decode()
        assert SCRIPT not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # the name and description, escaped


def test_a_hostile_return_url_cannot_break_out_of_the_refresh(api):
    payment = create_payment(
        api,
        billing=EN,
        hosted_payment={"return_url": 'https://shop.example.org/ok?a="><script>alert(1)</script>'},
    )

    html = pay(payment).content.decode()

    assert "<script>alert(1)" not in html
    assert "&quot;&gt;&lt;script&gt;" in html


# --- rate limits ---------------------------------------------------------------------------------------


def test_card_submissions_are_limited_per_payment(api, settings):
    settings.CHECKOUT_CARD_LIMIT_PER_PAYMENT = 3
    payment = create_payment(api, billing={**EN, "language": "fr"})
    client = Client()
    for _ in range(3):
        assert client.post(hosted_path(payment), BAD_CARD).status_code == 400

    response = client.post(hosted_path(payment), CARD)

    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "Trop de tentatives" in response.content.decode() or "Too many attempts" in response.content.decode()
    assert not Payment.objects.get(public_id=payment["id"]).attempts.exists()


def test_the_default_per_payment_limit_is_ten_an_hour(api):
    payment = create_payment(api, billing=EN)
    client = Client()
    statuses = [client.post(hosted_path(payment), BAD_CARD).status_code for _ in range(11)]

    assert statuses[:10] == [400] * 10
    assert statuses[10] == 429


def test_card_submissions_are_limited_per_address_across_payments(api, settings):
    settings.CHECKOUT_CARD_LIMIT_PER_IP = 4
    payments = [create_payment(api, billing=EN) for _ in range(5)]
    client = Client(REMOTE_ADDR="203.0.113.7")
    for payment in payments[:4]:
        assert client.post(hosted_path(payment), BAD_CARD).status_code == 400

    assert client.post(hosted_path(payments[4]), BAD_CARD).status_code == 429
    # Another address is not affected.
    assert Client(REMOTE_ADDR="203.0.113.8").post(hosted_path(payments[4]), BAD_CARD).status_code == 400


def test_ipv6_addresses_are_counted_per_64(api, settings):
    settings.CHECKOUT_CARD_LIMIT_PER_IP = 2
    payment = create_payment(api, billing=EN)
    for suffix in ("1", "2"):
        Client(REMOTE_ADDR=f"2001:db8:1:2::{suffix}").post(hosted_path(payment), BAD_CARD)

    assert Client(REMOTE_ADDR="2001:db8:1:2::99").post(hosted_path(payment), BAD_CARD).status_code == 429


def test_one_click_submissions_count_too(api, settings):
    settings.CHECKOUT_CARD_LIMIT_PER_PAYMENT = 1
    payment = create_payment(api, billing=EN)
    client = Client()
    client.post(hosted_path(payment), {"saved_card": "card_unknown"})

    assert client.post(hosted_path(payment), {"saved_card": "card_unknown"}).status_code == 429


# --- countries ---------------------------------------------------------------------------------------


def test_a_blocked_country_sees_a_refusal_and_cannot_pay(api, merchant_a, monkeypatch):
    Merchant.objects.filter(pk=merchant_a.pk).update(blocked_countries=["RU", "KP"])
    monkeypatch.setattr(guards.geoip, "country_of", lambda ip: "RU" if ip == "198.51.100.10" else "FR")
    payment = create_payment(api, billing=EN)
    blocked = Client(REMOTE_ADDR="198.51.100.10")

    page = blocked.get(hosted_path(payment))
    post = blocked.post(hosted_path(payment), CARD)

    assert page.status_code == 403 and post.status_code == 403
    assert "Payment not available from your country" in page.content.decode()
    assert 'name="number"' not in page.content.decode()
    assert not Payment.objects.get(public_id=payment["id"]).attempts.exists()
    assert Client(REMOTE_ADDR="198.51.100.11").get(hosted_path(payment)).status_code == 200


def test_without_blocked_countries_nothing_is_looked_up(api, monkeypatch):
    def fail(ip):
        raise AssertionError("no lookup expected")

    monkeypatch.setattr(guards.geoip, "country_of", fail)
    payment = create_payment(api, billing=EN)

    assert Client(REMOTE_ADDR="198.51.100.10").get(hosted_path(payment)).status_code == 200


# --- the form's own token -------------------------------------------------------------------------------


def test_a_post_without_the_page_token_is_refused(api):
    payment = create_payment(api, billing=EN)
    client = Client(enforce_csrf_checks=True)

    response = client.post(hosted_path(payment), CARD)

    assert response.status_code == 403
    assert not Payment.objects.get(public_id=payment["id"]).attempts.exists()


def test_a_post_with_the_page_token_works_without_any_cookie(api):
    payment = create_payment(api, billing=EN)
    client = Client(enforce_csrf_checks=True)
    html = client.get(hosted_path(payment)).content.decode()
    token = html.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    client.cookies.clear()  # as in a cross-site iframe: no cookie at all

    response = client.post(hosted_path(payment), {**CARD, "csrfmiddlewaretoken": token})

    assert response.status_code == 303
    assert Payment.objects.get(public_id=payment["id"]).status == Payment.Status.PAID


def test_a_post_from_another_origin_is_refused_even_with_the_token(api):
    payment = create_payment(api, billing=EN)
    client = Client(enforce_csrf_checks=True)
    html = client.get(hosted_path(payment)).content.decode()
    token = html.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]

    response = client.post(
        hosted_path(payment), {**CARD, "csrfmiddlewaretoken": token}, headers={"origin": "https://evil.example"}
    )

    assert response.status_code == 403


def test_one_page_token_does_not_open_another_payment(api):
    first, second = create_payment(api, billing=EN), create_payment(api, billing=EN)
    client = Client(enforce_csrf_checks=True)
    html = client.get(hosted_path(first)).content.decode()
    token = html.split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]

    assert client.post(hosted_path(second), {**CARD, "csrfmiddlewaretoken": token}).status_code == 403


# --- framing ----------------------------------------------------------------------------------------------


def test_api_payments_cannot_be_framed_even_with_allowed_origins(api, merchant_a):
    Merchant.objects.filter(pk=merchant_a.pk).update(allowed_origins=["https://asso.example.org"])
    payment = create_payment(api, billing=EN)

    response = Client().get(hosted_path(payment))

    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"


def test_pay_button_payments_may_be_framed_by_the_allowed_origins_only(merchant_a):
    Merchant.objects.filter(pk=merchant_a.pk).update(
        allowed_origins=["https://asso.example.org", "http://localhost:8080"]
    )
    key = publishable_key(merchant_a)
    created = Client().post(
        f"/pay/button/{key}/",
        '{"amount": 1500}',
        content_type="application/json",
        headers={"origin": "https://asso.example.org"},
    )
    path = created.json()["payment_url"].split("://", 1)[1].split("/", 1)[1]

    response = Client().get("/" + path)

    policy = response["Content-Security-Policy"]
    assert "frame-ancestors 'self' https://asso.example.org http://localhost:8080" in policy
    assert "X-Frame-Options" not in response
