"""Subscriptions in tests: creation through the service, the first page paid with consent."""

from __future__ import annotations

from django.test import Client

from payments import subscriptions
from payments.models import Payment, Subscription
from tests.payments.helpers import BILLING, answer_3ds, hosted_path, pay

# The consent box of a subscription's hosted page (payments.checkout.page), ticked.
CONSENT = {"consent": "on"}


def new(**overrides) -> subscriptions.NewSubscription:
    fields = {
        "amount": 1000,
        "interval": "month",
        "billing": dict(BILLING),
        "return_url": "https://asso.example.org/merci",
        "notification_url": "https://asso.example.org/ipn",
        "metadata": {"member": "42"},
    }
    fields.update(overrides)
    return subscriptions.NewSubscription(**fields)


def create(merchant, is_live=False, **overrides) -> Subscription:
    return subscriptions.create_subscription(merchant, is_live, new(**overrides))


def page(sub) -> dict:
    """The subscription's current hosted page as `pay()` wants it."""
    url = subscriptions.hosted_url(sub)
    assert url, f"{sub} has no page to pay"
    return {"hosted_payment": {"payment_url": url}}


def pay_page(payment: dict, *, outcome: str = "approve", client=None, **card):
    """Pay a subscription's hosted page as its subscriber: the consent box ticked, then the 3-D
    Secure challenge every such page asks for (strong authentication of the consent) answered."""
    client = client or Client()
    response = pay(payment, client=client, **CONSENT, **card)
    token = hosted_path(payment).rstrip("/").rsplit("/", 1)[1]
    if Payment.objects.filter(hosted_token=token, status=Payment.Status.PENDING).exists():
        response = answer_3ds(payment, outcome, client=client)
    return response


def start(merchant, **overrides) -> Subscription:
    """A subscription whose first payment (or card check) went through on its hosted page."""
    sub = create(merchant, **overrides)
    response = pay_page(page(sub))
    assert response.status_code == 200, response.content
    sub.refresh_from_db()
    assert sub.status == Subscription.Status.ACTIVE, (sub.status, sub.failure_code)
    return sub


def reload(sub) -> Subscription:
    return Subscription.objects.select_related("merchant").get(pk=sub.pk)
