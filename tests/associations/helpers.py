"""Campaigns in tests: one made through the service, a donor's form, a gift paid."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from associations import services
from associations.models import Campaign, Gift
from merchants.services.audit import Actor
from payments.models import Payment
from tests.payments.helpers import pay
from tests.payments.subscriptions.helpers import pay_page

DONOR = {
    "amount_choice": "2500",
    "first_name": "Jeanne",
    "last_name": "Martin",
    "email": "jeanne@example.org",
    "address1": "1 rue de la Paix",
    "postcode": "75002",
    "city": "Paris",
    "country": "FR",
}


def make_campaign(merchant, **fields) -> Campaign:
    values = {
        "title": "Un toit pour tous",
        "story": "<p>We <strong>rebuild</strong> the roof.</p>",
        "goal": 100000,
        "suggested_amounts": [1000, 2500, 5000],
        "frequencies": ["once", "month", "year"],
        "show_donors": True,
        **fields,
    }
    return services.create_campaign(merchant, False, Actor.system("tests"), values)


def url_of(campaign) -> str:
    return reverse("campaigns:page", args=[campaign.slug])


def give(campaign, client=None, **overrides):
    data = {**DONOR, **overrides}
    data = {key: value for key, value in data.items() if value is not None}
    return (client or Client()).post(url_of(campaign), data)


def hosted(response) -> dict:
    assert response.status_code == 303, response.content
    return {"hosted_payment": {"payment_url": response["Location"]}}


def give_once_and_pay(campaign, **overrides) -> Gift:
    response = give(campaign, frequency="once", **overrides)
    pay(hosted(response))
    gift = campaign.gifts.order_by("-id").first()
    gift.payment.refresh_from_db()
    assert gift.payment.status == Payment.Status.PAID, gift.payment.failure_code
    return gift


def give_monthly_and_pay(campaign, **overrides) -> Gift:
    response = give(campaign, frequency="month", **overrides)
    result = pay_page(hosted(response))
    assert result.status_code == 200
    gift = campaign.gifts.order_by("-id").first()
    gift.subscription.refresh_from_db()
    return gift
