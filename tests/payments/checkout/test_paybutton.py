"""The pay button's public endpoint (publishable keys, allowed origins, CORS) and its dashboard page."""

import json

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from merchants.models import ApiKey, Membership, Merchant
from merchants.services.audit import Actor
from merchants.services.keys import create_api_key
from payments import paybutton
from payments.models import Payment
from tests import factories

pytestmark = pytest.mark.django_db

ORIGIN = "https://asso.example.org"


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def allowed(merchant_a):
    Merchant.objects.filter(pk=merchant_a.pk).update(allowed_origins=[ORIGIN, "http://localhost:8080"])
    merchant_a.refresh_from_db()
    return merchant_a


@pytest.fixture
def pk(allowed):
    return factories.publishable_key(allowed)


def post(key, body, origin=ORIGIN, **headers):
    if origin:
        headers["origin"] = origin
    return Client().post(
        f"/pay/button/{key}/",
        json.dumps(body) if not isinstance(body, str) else body,
        content_type="application/json",
        headers=headers,
    )


def preflight(key, origin=ORIGIN):
    return Client().options(
        f"/pay/button/{key}/",
        headers={
            "origin": origin,
            "access-control-request-method": "POST",
            "access-control-request-headers": "content-type",
        },
    )


def test_an_allowed_origin_creates_a_payment_and_gets_its_page(pk):
    response = post(pk, {"amount": 1500, "description": "Donation", "language": "fr", "return_url": ORIGIN + "/don"})

    assert response.status_code == 201
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    assert "Origin" in response["Vary"]
    body = response.json()
    payment = Payment.objects.get()
    assert body["payment_url"].endswith(f"/pay/{payment.hosted_token}/")
    assert set(body) == {"object", "payment_url"}  # nothing else about the payment or the merchant
    assert (payment.amount, payment.source, payment.is_live) == (1500, "button", False)
    assert payment.description == "Donation"
    assert payment.billing["language"] == "fr" and payment.shopper_language == "fr"
    assert payment.return_url == ORIGIN + "/don" and payment.cancel_url == ORIGIN + "/don"


def test_the_preflight_names_exactly_the_allowed_origin(pk):
    response = preflight(pk)

    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    assert "POST" in response["Access-Control-Allow-Methods"]
    assert response["Access-Control-Allow-Headers"] == "Content-Type"
    assert "Access-Control-Allow-Credentials" not in response


@pytest.mark.parametrize("origin", ["https://evil.example", "http://asso.example.org", "null", ""])
def test_other_origins_get_no_cors_headers_and_no_payment(pk, origin):
    assert preflight(pk, origin).status_code == 403
    response = post(pk, {"amount": 1500}, origin=origin or None)

    assert response.status_code == 403
    assert "Access-Control-Allow-Origin" not in response
    assert not Payment.objects.exists()


def test_secret_and_unknown_keys_are_refused(merchant_a, allowed):
    secret = factories.secret_key(merchant_a)

    for key in (secret, "pk_test_unknown", "whatever"):
        response = post(key, {"amount": 1500})
        assert response.status_code == 401, key
        assert "Access-Control-Allow-Origin" not in response
    assert not Payment.objects.exists()


def test_a_revoked_publishable_key_is_refused(pk, merchant_a):
    ApiKey.objects.filter(kind=ApiKey.Kind.PUBLISHABLE).update(revoked_at=timezone.now())

    assert post(pk, {"amount": 1500}).status_code == 401


def test_a_live_key_needs_a_live_merchant(merchant_a, allowed):
    key, _raw = create_api_key(merchant_a, is_live=True, kind=ApiKey.Kind.PUBLISHABLE, actor=Actor.system("tests"))

    assert post(key.publishable_value, {"amount": 1500}).status_code == 401


def test_localhost_origins_work_in_test_mode_only(merchant_a, allowed):
    test_key = factories.publishable_key(merchant_a)
    live = factories.live_merchant("Live Asso")
    Merchant.objects.filter(pk=live.pk).update(allowed_origins=["http://localhost:8080", ORIGIN])
    live_key, _ = create_api_key(live, is_live=True, kind=ApiKey.Kind.PUBLISHABLE, actor=Actor.system("tests"))

    assert post(test_key, {"amount": 1500}, origin="http://localhost:8080").status_code == 201
    assert post(live_key.publishable_value, {"amount": 1500}, origin="http://localhost:8080").status_code == 403
    assert post(live_key.publishable_value, {"amount": 1500}).status_code == 201
    assert Payment.objects.filter(is_live=True).count() == 1


@pytest.mark.parametrize("amount", [98, 2_000_001, "1500", 15.5, True, None])
def test_amounts_must_be_integers_within_bounds(pk, amount):
    response = post(pk, {"amount": amount, "language": "it"})

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_amount"
    assert response["Access-Control-Allow-Origin"] == ORIGIN  # the page may show why
    assert not Payment.objects.exists()


def test_a_body_that_is_not_json_is_refused(pk):
    assert post(pk, "not json").status_code == 400


def test_a_return_url_of_another_site_is_replaced(pk):
    post(pk, {"amount": 1500, "return_url": "https://evil.example/phish"})

    assert Payment.objects.get().return_url == ORIGIN + "/"


def test_button_payments_are_rate_limited_per_address(pk, settings):
    settings.CHECKOUT_CREATE_LIMIT_PER_IP = 2
    statuses = [post(pk, {"amount": 1500}).status_code for _ in range(3)]

    assert statuses == [201, 201, 429]


def test_our_own_origin_may_use_a_test_key_for_the_dashboard_preview(pk):
    assert post(pk, {"amount": 1500}, origin="http://testserver").status_code == 201


def test_get_is_not_allowed(pk):
    assert Client().get(f"/pay/button/{pk}/", headers={"origin": ORIGIN}).status_code == 405


# --- origins -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("https://Shop.Example.org/", "https://shop.example.org"),
        ("https://shop.example.org:443", "https://shop.example.org"),
        ("https://shop.example.org:8443", "https://shop.example.org:8443"),
        ("http://localhost:8000", "http://localhost:8000"),
        ("http://127.0.0.1:5500", "http://127.0.0.1:5500"),
    ],
)
def test_origins_are_normalized(raw, clean):
    assert paybutton.clean_origin(raw) == clean


@pytest.mark.parametrize(
    "raw",
    [
        "http://shop.example.org",
        "https://shop.example.org/page",
        "https://*.example.org",
        "ftp://x.org",
        "shop.org",
        "https://user@shop.org",
        "https://shop.org?x=1",
    ],
)
def test_invalid_origins_are_refused(raw):
    with pytest.raises(ValidationError):
        paybutton.clean_origin(raw)


# --- dashboard ------------------------------------------------------------------------------------------


def test_the_dashboard_gives_the_snippet_with_a_live_preview(alice_client, merchant_a):
    key = factories.publishable_key(merchant_a)

    response = alice_client.get(
        reverse("dashboard:paybutton"),
        {"amount_type": "free", "min_amount": "5", "max_amount": "200", "label": "Faire un don", "language": "fr"},
    )

    html = response.content.decode()
    assert response.status_code == 200
    assert (
        f"&lt;div data-payplatform-button data-key=&quot;{key}&quot; data-amount=&quot;free&quot; "
        "data-min=&quot;500&quot; data-max=&quot;20000&quot; data-label=&quot;Faire un don&quot; "
        "data-language=&quot;fr&quot; data-color=&quot;#1f5fbf&quot; "
        "data-text-color=&quot;#ffffff&quot;&gt;&lt;/div&gt;"
    ) in html
    assert "/static/js/paybutton.js" in html
    assert f'<div id="button-preview" data-payplatform-button data-key="{key}" data-amount="free"' in html
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert "<script>" not in html  # only external scripts


def test_the_snippet_escapes_what_the_merchant_typed(alice_client, merchant_a):
    html = alice_client.get(reverse("dashboard:paybutton"), {"amount": "10", "label": '"><script>x</script>'}).content
    assert b"<script>x</script>" not in html


def test_owners_edit_the_allowed_origins(alice_client, merchant_a):
    response = alice_client.post(
        reverse("dashboard:paybutton"), {"origins": "https://www.asso.org/\nhttp://localhost:3000\n\n"}
    )

    assert response.status_code == 302
    merchant_a.refresh_from_db()
    assert merchant_a.allowed_origins == ["https://www.asso.org", "http://localhost:3000"]


def test_invalid_origins_are_shown_and_nothing_changes(alice_client, merchant_a):
    response = alice_client.post(reverse("dashboard:paybutton"), {"origins": "http://www.asso.org"})

    assert response.status_code == 200
    assert "use https" in response.content.decode()
    merchant_a.refresh_from_db()
    assert merchant_a.allowed_origins == []


def test_support_can_see_the_button_page_but_not_change_origins(client, merchant_a):
    support = factories.member(merchant_a, "support@example.org", Membership.Role.SUPPORT)
    client.force_login(support)

    assert client.get(reverse("dashboard:paybutton")).status_code == 200
    assert client.post(reverse("dashboard:paybutton"), {"origins": "https://x.org"}).status_code == 403
    merchant_a.refresh_from_db()
    assert merchant_a.allowed_origins == []


def test_without_a_language_the_shoppers_browser_decides(pk):
    response = post(pk, {"amount": 1500, "language": 12}, **{"accept-language": "es-ES,es;q=0.9"})

    assert response.status_code == 201
    payment = Payment.objects.get()
    assert payment.billing["language"] is None and payment.shopper_language == "es"
