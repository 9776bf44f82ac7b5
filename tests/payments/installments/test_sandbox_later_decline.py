"""The sandbox card that pays on the hosted page and declines the later, merchant-initiated charges
(4000 0000 0000 0341, docs/sandbox.md): a merchant plays declines and retries with the test clock."""

from __future__ import annotations

from django.core import mail

from payments import representations
from payments.acquirers.base import CardData, Outcome
from payments.acquirers.sandbox import SandboxAcquirer
from payments.models import Installment, InstallmentPlan, Payment
from tests.payments.helpers import pay

from .helpers import advance, create_plan, first_payment

LATER_DECLINE = "4000 0000 0000 0341"


def test_the_card_authorises_with_the_shopper_and_declines_without():
    card = CardData(number=LATER_DECLINE.replace(" ", ""), exp_month=12, exp_year=2034, cvc="123")
    sandbox = SandboxAcquirer()
    present = sandbox.authorize(card=card, amount=1000, currency="EUR", idempotency_key="k1", shopper_present=True)
    assert present.outcome == Outcome.AUTHORIZED
    saved = CardData(number=card.number, exp_month=12, exp_year=2034)
    later = sandbox.authorize(card=saved, amount=1000, currency="EUR", idempotency_key="k2", shopper_present=False)
    assert later.outcome == Outcome.DECLINED and later.failure_code == "card_declined"
    # The same key gives the same answer (a retried request is not a second charge).
    again = sandbox.authorize(card=saved, amount=1000, currency="EUR", idempotency_key="k2", shopper_present=False)
    assert (again.outcome, again.reference) == (later.outcome, later.reference)


def _installment(plan, index) -> Installment:
    return Installment.objects.get(plan__public_id=plan["id"], index=index)


def test_the_second_installment_is_declined_retried_then_the_plan_fails(api, merchant_a):
    plan = create_plan(api, merchant_a, amounts=(10000, 10000, 10000))
    pay(first_payment(plan), LATER_DECLINE)
    assert _installment(plan, 1).status == Installment.Status.PAID
    mail.outbox.clear()

    plan = advance(api, plan["id"], 30)
    second = _installment(plan, 2)
    assert second.status == Installment.Status.RETRYING and second.attempts == 1
    charge = Payment.objects.get(public_id=plan["schedule"][1]["payment_ids"][0])
    assert charge.initiator == "MERCHANT" and charge.status == Payment.Status.FAILED
    assert charge.failure_code == "card_declined"
    assert [message.to for message in mail.outbox] == [["jeanne@example.org"]]  # pay with another card
    assert plan["is_active"] is True and plan["failure"] is None

    # Retries 1, 3 and 7 days after the first decline, each declined; then the plan fails for good.
    for days, attempts in ((1, 2), (2, 3)):
        plan = advance(api, plan["id"], days)
        assert _installment(plan, 2).attempts == attempts and plan["is_active"] is True
    plan = advance(api, plan["id"], 3)
    assert _installment(plan, 2).attempts == 3  # the last retry is 7 days after the first decline
    plan = advance(api, plan["id"], 1)
    assert _installment(plan, 2).status == Installment.Status.FAILED
    assert plan["is_active"] is False and plan["is_fully_paid"] is False
    assert plan["failure"]["code"] == "card_declined"
    assert _installment(plan, 3).status == Installment.Status.CANCELED
    assert len(mail.outbox) == 3  # one email per decline that is retried


def test_paying_the_emailed_page_with_another_card_saves_it_for_the_rest(api, merchant_a):
    plan = create_plan(api, merchant_a, amounts=(10000, 10000, 10000))
    pay(first_payment(plan), LATER_DECLINE)
    plan = advance(api, plan["id"], 30)
    page = _installment(plan, 2).page_payment
    pay({"hosted_payment": {"payment_url": representations.hosted_payment_url(page)}})  # 4242
    assert _installment(plan, 2).status == Installment.Status.PAID

    plan = advance(api, plan["id"], 30)  # the third on the new card (4242): paid
    assert _installment(plan, 3).status == Installment.Status.PAID
    assert plan["is_fully_paid"] is True
    assert InstallmentPlan.objects.get(public_id=plan["id"]).card.last4 == "4242"
