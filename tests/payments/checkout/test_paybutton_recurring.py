"""The pay button's endpoint with monthly or yearly payments: the snippet's data-frequencies travel
in the body as `frequencies`, the payer's choice as `frequency`; a recurring choice starts a
subscription (email required) and answers its hosted page; anything tampered is refused."""

import json

import pytest
from django.core.cache import cache
from django.test import Client

from merchants.models import Merchant
from payments import subscriptions
from payments.models import Payment, Subscription
from tests import factories

pytestmark = pytest.mark.django_db

ORIGIN = "https://asso.example.org"


@pytest.fixture(autouse=True)
def _clean_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def pk(merchant_a):
    Merchant.objects.filter(pk=merchant_a.pk).update(allowed_origins=[ORIGIN])
    return factories.publishable_key(merchant_a)


def post(key, body, origin=ORIGIN, **headers):
    return Client().post(
        f"/pay/button/{key}/", json.dumps(body), content_type="application/json", headers={"origin": origin, **headers}
    )


MONTHLY = {
    "amount": 1500,
    "description": "Monthly donation",
    "language": "fr",
    "return_url": ORIGIN + "/merci",
    "first_name": "Jeanne",
    "last_name": "Martin",
    "email": "jeanne@example.org",
    "frequencies": ["once", "month"],
    "frequency": "month",
}


def nothing_created():
    return not Subscription.objects.exists() and not Payment.objects.exists()


def test_a_monthly_choice_starts_a_subscription_and_answers_its_page(pk, merchant_a):
    response = post(pk, MONTHLY)

    assert response.status_code == 201, response.content
    assert response["Access-Control-Allow-Origin"] == ORIGIN
    body = response.json()
    assert set(body) == {"object", "payment_url"}
    subscription = Subscription.objects.get()
    assert body["payment_url"] == subscriptions.hosted_url(subscription)
    assert (subscription.merchant, subscription.is_live) == (merchant_a, False)
    assert (subscription.interval, subscription.amount, subscription.source) == ("month", 1500, "button")
    assert subscription.link is None
    assert subscription.description == "Monthly donation"
    assert subscription.return_url == ORIGIN + "/merci" and subscription.cancel_url == ORIGIN + "/merci"
    assert subscription.billing == {
        "first_name": "Jeanne",
        "last_name": "Martin",
        "email": "jeanne@example.org",
        "language": "fr",
    }
    assert subscription.metadata == {"origin": ORIGIN}


def test_a_yearly_only_button_needs_no_choice_in_the_body(pk):
    response = post(pk, {**MONTHLY, "frequencies": ["year"], "frequency": None})

    assert response.status_code == 201, response.content
    assert Subscription.objects.get().interval == "year"


def test_a_one_off_choice_is_the_payment_of_today(pk):
    response = post(pk, {**MONTHLY, "frequency": "once", "email": ""})

    assert response.status_code == 201
    payment = Payment.objects.get()
    assert (payment.amount, payment.source, payment.subscription_id) == (1500, "button", None)
    assert not Subscription.objects.exists()


def test_a_body_without_frequencies_is_a_one_off_payment(pk):
    body = {key: value for key, value in MONTHLY.items() if key not in ("frequencies", "frequency")}

    assert post(pk, body).status_code == 201
    assert Payment.objects.get().subscription_id is None and not Subscription.objects.exists()


@pytest.mark.parametrize(
    "frequencies",
    [["once", "week"], ["daily"], [], "once,fortnight", 12, [["month"]], None],
)
def test_tampered_frequencies_are_refused(pk, frequencies):
    response = post(pk, {**MONTHLY, "frequencies": frequencies, "frequency": "once"})

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_frequency"
    # In the button's language (MONTHLY asks for French): the attribute's name and values stay as written.
    assert "data-frequencies accepte once, month ou year" in response.json()["message"]
    assert response["Access-Control-Allow-Origin"] == ORIGIN  # the button can show the message
    assert nothing_created()


@pytest.mark.parametrize("frequency", ["year", "week", 3, ""])
def test_a_choice_the_button_does_not_offer_is_refused(pk, frequency):
    response = post(pk, {**MONTHLY, "frequency": frequency})

    assert response.status_code == 400
    assert response.json() == {
        "object": "error",
        "code": "invalid_frequency",
        "message": "Choisissez l\u2019une des fréquences proposées par ce bouton.",  # the button's language
    }
    assert nothing_created()


def test_a_recurring_choice_needs_an_email_address(pk):
    response = post(pk, {**MONTHLY, "email": ""})

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_email"
    assert nothing_created()


def test_a_recurring_amount_keeps_the_merchant_bounds(pk):
    response = post(pk, {**MONTHLY, "amount": 50})

    assert response.status_code == 400
    assert response.json()["code"] == "invalid_amount"
    assert nothing_created()


def test_another_origin_starts_no_subscription(pk):
    response = post(pk, MONTHLY, origin="https://evil.example")

    assert response.status_code == 403
    assert "Access-Control-Allow-Origin" not in response
    assert nothing_created()


def test_a_live_key_starts_a_live_subscription_of_its_merchant_only(alice, merchant_b):
    live = factories.live_merchant("Alice Live", owner=alice)
    Merchant.objects.filter(pk=live.pk).update(allowed_origins=[ORIGIN])
    key = factories.publishable_key(live, is_live=True)

    refused = post(key, MONTHLY)  # subscriptions keep the card: saved cards are off in live mode by default
    assert refused.status_code == 403 and refused.json()["code"] == "feature_not_enabled"
    assert not Subscription.objects.exists()
    Merchant.objects.filter(pk=live.pk).update(live_save_card_enabled=True)
    assert post(key, MONTHLY).status_code == 201

    subscription = Subscription.objects.get()
    assert (subscription.merchant_id, subscription.is_live) == (live.pk, True)
    assert not Subscription.objects.for_tenant(merchant_b, True).exists()
    assert not Subscription.objects.for_tenant(live, False).exists()
