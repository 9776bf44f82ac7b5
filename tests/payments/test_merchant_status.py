"""Issue 12, finding 3: a suspended merchant, or one whose live mode was switched off, takes no payment.

Suspension (merchants.services.organisations.suspend_merchant) closes the account in both modes:
no payment at all, test payments included. Live mode switched off (Merchant.live_enabled false:
approval withdrawn, profile incomplete, an owner or admin without a second factor) stops live
payments only. Every path that can charge a card refuses, in payments.services, and the shopper's
pages say why instead of showing a card form. What was authorised before stays capturable, and
refunds stay possible.
"""

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from merchants.models import Merchant, User
from merchants.services.audit import Actor
from merchants.services.organisations import suspend_merchant
from payments import links, services
from payments.acquirers.base import CardData
from payments.errors import MerchantUnavailable, PaymentError
from payments.models import (
    Card,
    LedgerTransaction,
    Payment,
    PaymentAttempt,
    PaymentLink,
    Refund,
    SandboxOperation,
)
from tests import factories
from tests.payments.helpers import BILLING, answer_3ds, create_payment, hosted_path, pay, payment_body

pytestmark = pytest.mark.django_db

MESSAGE = "This merchant cannot take payments at the moment."
CHALLENGE_CARD = "4000 0025 0000 3155"
ENGLISH = {**BILLING, "language": "en"}
CARD = CardData(number="4242424242424242", exp_month=12, exp_year=2034, cvc="123", holder="Jeanne Martin")


def suspend(merchant: Merchant) -> Merchant:
    staff = User.objects.filter(is_staff=True).first() or User.objects.create_superuser(
        "risk@platform.test", factories.PASSWORD
    )
    return suspend_merchant(merchant, staff)


def switch_live_mode_off(merchant: Merchant) -> Merchant:
    """The owner drops their second factor: merchants.signals recomputes live_ready."""
    TOTPDevice.objects.filter(user__memberships__merchant=merchant).delete()
    merchant.refresh_from_db()
    assert not merchant.live_enabled
    return merchant


def charges() -> tuple[int, int, int]:
    """What would show that money moved: attempts authorised, ledger movements, acquirer operations."""
    authorised = PaymentAttempt.objects.filter(
        status__in=[PaymentAttempt.Status.AUTHORIZED, PaymentAttempt.Status.CAPTURED]
    ).count()
    return authorised, LedgerTransaction.objects.count(), SandboxOperation.objects.count()


def assert_unavailable_page(response, status=403):
    body = response.content.decode()
    assert response.status_code == status, body[-2000:]
    assert MESSAGE in body
    assert 'name="number"' not in body and 'name="saved_card"' not in body  # no card form
    assert "no-store" in response["Cache-Control"]


def saved_card(api, **extra) -> Card:
    payment = create_payment(api, save_card=True, billing=ENGLISH, **extra)
    pay(payment)
    return Card.objects.get(public_id=api.get(f"/v1/payments/{payment['id']}").json()["card"]["id"])


@pytest.fixture
def live():
    """A merchant open for live payments, and an API client with its live secret key."""
    merchant = factories.live_merchant("Live Shop")
    return merchant, factories.ApiClient(factories.secret_key(merchant, is_live=True))


# --- the hosted page --------------------------------------------------------------------------------


def test_the_hosted_page_of_a_suspended_merchant_says_so_instead_of_the_card_form(api, merchant_a):
    payment = create_payment(api, billing=ENGLISH)  # made (and its link sent) before the suspension
    suspend(merchant_a)

    assert_unavailable_page(Client().get(hosted_path(payment)))


def test_a_card_posted_on_the_page_of_a_suspended_merchant_charges_nothing(api, merchant_a):
    payment = create_payment(api, billing=ENGLISH)
    suspend(merchant_a)
    before = charges()

    response = pay(payment)

    assert_unavailable_page(response)
    stored = Payment.objects.get(public_id=payment["id"])
    assert stored.status == Payment.Status.CREATED and stored.paid_at is None
    assert not stored.attempts.exists()
    assert charges() == before


def test_the_service_refuses_a_card_for_a_suspended_merchant(api, merchant_a):
    """Suspension is checked on the merchant row as it is now, not as the page loaded it."""
    payment = create_payment(api, billing=ENGLISH)
    suspend(merchant_a)
    before = charges()

    with pytest.raises(PaymentError) as refused:
        services.submit_card(Payment.objects.get(public_id=payment["id"]).pk, CARD)

    assert (refused.value.code, refused.value.status_code) == ("account_suspended", 403)
    assert Payment.objects.get(public_id=payment["id"]).status == Payment.Status.CREATED
    assert not PaymentAttempt.objects.filter(payment__public_id=payment["id"]).exists()
    assert charges() == before


def test_a_saved_card_chosen_on_the_page_of_a_suspended_merchant_charges_nothing(api, merchant_a):
    customer = api.post("/v1/customers", {"email": "paul@example.org"}).json()
    card = saved_card(api, customer_id=customer["id"])
    payment = create_payment(api, billing=ENGLISH, customer_id=customer["id"])
    page = Client()
    assert f'value="{card.public_id}"' in page.get(hosted_path(payment)).content.decode()  # offered
    suspend(merchant_a)
    before = charges()

    response = page.post(hosted_path(payment), {"saved_card": card.public_id}, follow=True)

    assert_unavailable_page(response)
    assert Payment.objects.get(public_id=payment["id"]).status == Payment.Status.CREATED
    assert charges() == before


# --- one-click, 3-D Secure -------------------------------------------------------------------------------


def test_the_api_refuses_a_one_click_payment_with_a_suspended_merchants_key(api, merchant_a):
    card = saved_card(api)
    suspend(merchant_a)
    before = (charges(), Payment.objects.count())

    response = api.post(
        "/v1/payments",
        {
            "amount": 1500,
            "currency": "EUR",
            "payment_method": card.public_id,
            "initiator": "MERCHANT",
            "billing": ENGLISH,
        },
    )

    assert response.status_code == 403
    assert response.json()["object"] == "error" and response.json()["code"] == "account_suspended"
    assert (charges(), Payment.objects.count()) == before


def test_a_one_click_payment_authenticated_before_the_suspension_charges_nothing(api, merchant_a):
    """The request was let in with the merchant as it was; the service reads it again before charging."""
    card = saved_card(api)
    as_authenticated = Merchant.objects.get(pk=merchant_a.pk)
    suspend(merchant_a)
    before = charges()

    with pytest.raises(PaymentError) as refused:
        services.create_payment(
            as_authenticated,
            False,
            services.NewPayment(amount=1500, billing=ENGLISH, saved_card=card, initiator="MERCHANT"),
        )

    assert refused.value.code == "account_suspended"
    assert charges() == before
    assert not Payment.objects.filter(amount=1500, status=Payment.Status.PAID).exists()


def test_a_challenge_started_before_the_suspension_cannot_be_completed(api, merchant_a):
    payment = create_payment(api, billing=ENGLISH)
    challenge = pay(payment, number=CHALLENGE_CARD)
    assert b'value="approve"' in challenge.content
    suspend(merchant_a)
    before = charges()

    assert_unavailable_page(Client().get(hosted_path(payment) + "3ds/"))
    response = answer_3ds(payment, "approve")

    assert_unavailable_page(response)
    stored = Payment.objects.get(public_id=payment["id"])
    assert stored.status != Payment.Status.PAID and stored.paid_at is None
    assert charges() == before


def test_the_service_refuses_to_complete_a_challenge_for_a_suspended_merchant(api, merchant_a):
    payment = create_payment(api, billing=ENGLISH)
    pay(payment, number=CHALLENGE_CARD)
    attempt = PaymentAttempt.objects.get(payment__public_id=payment["id"])
    assert attempt.status == PaymentAttempt.Status.AWAITING_3DS
    suspend(merchant_a)
    before = charges()

    with pytest.raises(PaymentError) as refused:
        services.complete_3ds(attempt.pk, authenticated=True)

    assert refused.value.code == "account_suspended"
    attempt.refresh_from_db()
    assert attempt.status == PaymentAttempt.Status.AWAITING_3DS  # nothing written, nothing asked
    assert charges() == before


# --- payment links and the pay button -----------------------------------------------------------------


@pytest.fixture
def link(merchant_a) -> PaymentLink:
    return links.create_link(
        merchant_a,
        False,
        Actor.system("tests"),
        {"description": "Annual membership", "amount": 2500},
    )


def test_the_link_page_of_a_suspended_merchant_says_so_and_starts_no_payment(merchant_a, link):
    suspend(merchant_a)
    page = Client(headers={"accept-language": "en"})
    url = reverse("links:page", args=[link.slug])

    assert_unavailable_page(page.get(url))
    assert_unavailable_page(page.post(url, {"email": "ana@example.org"}))
    assert not Payment.objects.exists()


def test_the_link_service_refuses_a_visit_for_a_suspended_merchant(merchant_a, link):
    suspend(merchant_a)
    link = PaymentLink.objects.select_related("merchant").get(pk=link.pk)

    with pytest.raises(PaymentError) as refused:
        links.start_payment(link, links.Visit(unit_amount=2500))

    assert refused.value.code == "account_suspended"
    assert not Payment.objects.exists()


def test_a_link_payment_started_before_the_suspension_charges_nothing(merchant_a, link):
    page = Client(headers={"accept-language": "en"})
    started = page.post(reverse("links:page", args=[link.slug]), {"email": "ana@example.org"})
    assert started.status_code == 303
    payment = Payment.objects.get()
    suspend(merchant_a)
    before = charges()

    response = pay({"hosted_payment": {"payment_url": started["Location"]}}, client=page)

    assert_unavailable_page(response)
    assert Payment.objects.get().status == Payment.Status.CREATED
    assert charges() == before
    assert payment.link_id == link.pk


def test_the_pay_button_of_a_suspended_merchant_starts_nothing_and_its_pages_charge_nothing(merchant_a):
    origin = "https://asso.example.org"
    Merchant.objects.filter(pk=merchant_a.pk).update(allowed_origins=[origin])
    key = factories.publishable_key(merchant_a)

    def session():
        return Client().post(
            f"/pay/button/{key}/",
            {"amount": 1500, "language": "en"},
            content_type="application/json",
            headers={"origin": origin},
        )

    earlier = session()
    assert earlier.status_code == 201
    suspend(merchant_a)
    before = charges()

    assert session().status_code == 401  # the key of a suspended merchant is refused outright
    assert Payment.objects.count() == 1
    response = pay({"hosted_payment": earlier.json()}, client=Client(headers={"accept-language": "en"}))
    assert_unavailable_page(response)
    assert Payment.objects.get().status == Payment.Status.CREATED
    assert charges() == before


def test_the_service_refuses_to_create_a_payment_for_a_suspended_merchant(merchant_a):
    merchant = suspend(merchant_a)

    with pytest.raises(PaymentError) as refused:
        services.create_payment(merchant, False, services.NewPayment(amount=1500, source="button"))

    assert (refused.value.code, refused.value.status_code) == ("account_suspended", 403)
    assert not Payment.objects.exists()


def refused_from_call(monkeypatch, first_refused: int) -> None:
    """The merchant is suspended between the page's own check and the service's: calls of
    services.merchant_refusal from the `first_refused`-th on see it suspended."""
    real, calls = services.merchant_refusal, []

    def refusal(merchant, is_live):
        calls.append(merchant.pk)
        if len(calls) >= first_refused:
            return MerchantUnavailable("account_suspended", "This account is suspended: it cannot take payments.")
        return real(merchant, is_live)

    monkeypatch.setattr(services, "merchant_refusal", refusal)


def test_a_link_visit_racing_the_suspension_gets_the_message(merchant_a, link, monkeypatch):
    refused_from_call(monkeypatch, 2)  # the page's check passes, the service's refuses

    response = Client(headers={"accept-language": "en"}).post(
        reverse("links:page", args=[link.slug]), {"email": "ana@example.org"}
    )

    assert_unavailable_page(response)
    assert not Payment.objects.exists()


def test_a_card_racing_the_suspension_is_refused_by_the_service_and_the_page_says_so(api, monkeypatch):
    payment = create_payment(api, billing=ENGLISH)
    refused_from_call(monkeypatch, 3)  # the GET and the POST's own check pass; submit_card's refuses
    before = charges()

    response = pay(payment)

    assert_unavailable_page(response)
    assert Payment.objects.get(public_id=payment["id"]).status == Payment.Status.CREATED
    assert charges() == before


def test_a_challenge_answer_racing_the_suspension_is_refused_by_the_service(api, monkeypatch):
    payment = create_payment(api, billing=ENGLISH)
    pay(payment, number=CHALLENGE_CARD)
    refused_from_call(monkeypatch, 2)  # the page's own check passes; complete_3ds's refuses
    before = charges()

    response = answer_3ds(payment, "approve")

    assert_unavailable_page(response)
    attempt = PaymentAttempt.objects.get(payment__public_id=payment["id"])
    assert attempt.status == PaymentAttempt.Status.AWAITING_3DS
    assert charges() == before


def test_a_pay_button_session_racing_the_suspension_answers_the_documented_error(merchant_a, monkeypatch):
    origin = "https://asso.example.org"
    Merchant.objects.filter(pk=merchant_a.pk).update(allowed_origins=[origin])
    refused_from_call(monkeypatch, 1)

    response = Client().post(
        f"/pay/button/{factories.publishable_key(merchant_a)}/",
        {"amount": 1500, "language": "en"},
        content_type="application/json",
        headers={"origin": origin},
    )

    assert response.status_code == 403
    assert response.json() == {"object": "error", "code": "account_suspended", "message": MESSAGE}
    assert response["Access-Control-Allow-Origin"] == origin  # the button can show why
    assert not Payment.objects.exists()


# --- the API ------------------------------------------------------------------------------------------


def test_the_api_refuses_new_payments_with_a_suspended_merchants_key(api, merchant_a):
    suspend(merchant_a)

    response = api.post("/v1/payments", {"amount": 1500, "currency": "EUR", "billing": ENGLISH})

    assert response.status_code == 403
    assert response.json()["code"] == "account_suspended"
    assert not Payment.objects.exists()


# --- live mode switched off -------------------------------------------------------------------------------


def test_a_live_payment_cannot_be_paid_once_live_mode_is_switched_off(live):
    merchant, live_api = live
    payment = create_payment(live_api, billing=ENGLISH)
    assert payment["is_live"] is True
    switch_live_mode_off(merchant)
    before = charges()

    assert_unavailable_page(Client().get(hosted_path(payment)))
    assert_unavailable_page(pay(payment))
    with pytest.raises(PaymentError) as refused:
        services.submit_card(Payment.objects.get(public_id=payment["id"]).pk, CARD)

    assert (refused.value.code, refused.value.status_code) == ("account_not_live", 403)
    assert Payment.objects.get(public_id=payment["id"]).status == Payment.Status.CREATED
    assert charges() == before
    assert (
        live_api.post("/v1/payments", {"amount": 1500, "currency": "EUR", "billing": ENGLISH}).json()["code"]
        == "account_not_live"
    )


def test_a_live_link_stops_with_live_mode_while_test_payments_go_on(live):
    merchant, _live_api = live
    live_link = links.create_link(
        merchant, True, Actor.system("tests"), {"description": "Gift", "amount": 2500, "collect_email": False}
    )
    test_api = factories.ApiClient(factories.secret_key(merchant))
    switch_live_mode_off(merchant)

    assert_unavailable_page(Client(headers={"accept-language": "en"}).get(reverse("links:page", args=[live_link.slug])))
    with pytest.raises(PaymentError) as refused:
        services.create_payment(merchant, True, services.NewPayment(amount=1500))
    assert refused.value.code == "account_not_live"

    test_payment = create_payment(test_api, billing=ENGLISH)  # test mode is not live mode
    pay(test_payment)
    assert test_api.get(f"/v1/payments/{test_payment['id']}").json()["is_paid"] is True


# --- what stays possible -------------------------------------------------------------------------------


def test_a_suspended_merchant_can_still_refund(api, merchant_a):
    payment = create_payment(api, billing=ENGLISH)
    pay(payment)
    merchant = suspend(merchant_a)
    paid = Payment.objects.get(public_id=payment["id"])
    assert paid.status == Payment.Status.PAID and merchant.status == Merchant.Status.SUSPENDED

    refund = services.refund(paid, 1000, created_by="support")

    assert Refund.objects.get() == refund and refund.amount == 1000
    assert LedgerTransaction.objects.filter(kind=LedgerTransaction.Kind.REFUND).count() == 1
    assert Payment.objects.get(pk=paid.pk).amount_refunded == 1000


def test_an_authorisation_made_before_the_suspension_can_still_be_captured(api, merchant_a):
    """The gate is the authorisation: what the shopper agreed to while the merchant could take it is
    completed; the money is held (no payout for a suspended merchant) and can be refunded."""
    body = payment_body(billing=ENGLISH, authorized_amount=3300)
    del body["amount"]
    response = api.post("/v1/payments", body)
    assert response.status_code == 201, response.content
    payment = response.json()
    pay(payment)
    stored = Payment.objects.get(public_id=payment["id"])
    assert stored.status == Payment.Status.CAPTURABLE
    suspend(merchant_a)

    captured = services.capture(stored)

    assert captured.status == Payment.Status.PAID
