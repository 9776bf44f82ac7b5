"""A plan played out with the test clock (addendum §17, issue 13 items 1 and 6): the first
installment on the hosted page, the later ones merchant-initiated on the saved card, retries after
declines, the plan's end, abort, refunds of each installment."""

from __future__ import annotations

from django.core import mail

from payments import installments, representations, services
from payments.acquirers.sandbox import SandboxAcquirer
from payments.models import Installment, InstallmentPlan, Payment, PaymentAttempt
from tests.payments.helpers import hosted_path, pay, payment_body

from .helpers import advance, create_plan, first_payment, ipn_objects, merchant_initiated_outcome


def _spy_authorize(monkeypatch):
    real = SandboxAcquirer.authorize
    seen = []

    def authorize(self, **kwargs):
        seen.append({"shopper_present": kwargs["shopper_present"], "force_3ds": kwargs["force_3ds"]})
        return real(self, **kwargs)

    monkeypatch.setattr(SandboxAcquirer, "authorize", authorize)
    return seen


def test_a_three_installment_plan_plays_out_with_the_test_clock(api, merchant_a, monkeypatch, client):
    seen = _spy_authorize(monkeypatch)
    plan = create_plan(api, merchant_a)
    assert plan["object"] == "installment_plan" and plan["id"].startswith("inst_")
    assert plan["is_active"] is True and plan["is_fully_paid"] is False and plan["failure"] is None
    assert [len(item["payment_ids"]) for item in plan["schedule"]] == [1, 0, 0]
    first_id = plan["schedule"][0]["payment_ids"][0]

    # The page shows the schedule and says the card is kept, before the card is entered.
    page = client.get(hosted_path(first_payment(plan)))
    html = page.content.decode()
    assert page.status_code == 200
    assert html.index("installment-list") < html.index('name="number"')
    assert html.count('class="installment-date"') == 3 and html.count("150,00") >= 3  # billing language: fr
    assert "conservée en toute sécurité" in html  # the French page says the card is kept

    pay(first_payment(plan))
    plan = api.get(f"/v1/installment_plans/{plan['id']}").json()
    assert plan["schedule"][0]["payment_ids"] == [first_id]
    db_plan = InstallmentPlan.objects.get(public_id=plan["id"])
    assert db_plan.card is not None  # the card of the first payment, kept for the plan
    assert seen == [{"shopper_present": True, "force_3ds": False}]

    plan = advance(api, plan["id"], 29)  # nothing due yet
    assert [len(item["payment_ids"]) for item in plan["schedule"]] == [1, 0, 0]

    plan = advance(api, plan["id"], 1)
    assert [len(item["payment_ids"]) for item in plan["schedule"]] == [1, 1, 0]
    assert plan["is_active"] is True and plan["is_fully_paid"] is False
    plan = advance(api, plan["id"], 30)
    assert [len(item["payment_ids"]) for item in plan["schedule"]] == [1, 1, 1]
    assert plan["is_active"] is False and plan["is_fully_paid"] is True and plan["failure"] is None

    # installments 2 and 3: merchant-initiated on the saved card, no shopper, no challenge
    assert seen[1:] == [{"shopper_present": False, "force_3ds": False}] * 2
    ids = [item["payment_ids"][0] for item in plan["schedule"]]
    for index, payment_id in enumerate(ids, start=1):
        payment = api.get(f"/v1/payments/{payment_id}").json()
        assert payment["is_paid"] is True and payment["amount"] == 15000
        assert payment["installment_plan_id"] == plan["id"]
        assert payment["notification"]["url"] == "https://shop.example.org/ipn"
        db_payment = Payment.objects.get(public_id=payment_id)
        assert db_payment.installment_index == index
        if index > 1:
            assert db_payment.initiator == "MERCHANT" and db_payment.card_id == db_plan.card_id
            assert payment["hosted_payment"]["payment_url"] is None
    # A payment of no plan says so.
    other = api.post("/v1/payments", payment_body()).json()
    assert other["installment_plan_id"] is None

    # IPNs: each installment payment, then the plan when it is fully paid.
    sent = ipn_objects()
    assert [(obj, oid) for obj, oid, kind in sent if kind == "payment.paid"] == [("payment", i) for i in ids]
    assert sent[-1] == ("installment_plan", plan["id"], "installment_plan.fully_paid")

    # Nothing more happens however far the clock goes.
    plan = advance(api, plan["id"], 200)
    assert [len(item["payment_ids"]) for item in plan["schedule"]] == [1, 1, 1]


def test_a_decline_is_retried_with_an_email_then_succeeds(api, merchant_a, monkeypatch):
    plan = create_plan(api, merchant_a, amounts=(10000, 10000))
    pay(first_payment(plan))
    mail.outbox.clear()

    with merchant_initiated_outcome(monkeypatch, ["decline", "decline", "ok"]) as calls:
        plan = advance(api, plan["id"], 30)
        assert calls == ["decline"]
        assert plan["is_active"] is True and plan["failure"] is None
        installment = Installment.objects.get(plan__public_id=plan["id"], index=2)
        assert installment.status == Installment.Status.RETRYING and installment.attempts == 1
        # The shopper is emailed a page to pay that installment with another card.
        (message,) = mail.outbox
        assert message.to == ["jeanne@example.org"]
        page = installment.page_payment
        assert page.hosted_token in message.body and page.installment_index == 2 and page.save_card

        plan = advance(api, plan["id"], 1)  # first retry: one day after the decline
        assert calls == ["decline", "decline"]
        plan = advance(api, plan["id"], 1)  # the second is 3 days after the first decline
        assert calls == ["decline", "decline"]
        plan = advance(api, plan["id"], 1)
        assert calls == ["decline", "decline", "ok"]

    assert plan["is_active"] is False and plan["is_fully_paid"] is True
    # two declined charges, the two emailed pages (closed when the next charge started), the success
    assert len(plan["schedule"][1]["payment_ids"]) == 5
    statuses = [Payment.objects.get(public_id=pid).status for pid in plan["schedule"][1]["payment_ids"]]
    assert statuses.count(Payment.Status.PAID) == 1
    # The emailed pages were closed once the charge went through: the card is not charged twice.
    assert not Payment.objects.filter(installment_plan=plan["id"], status=Payment.Status.CREATED).exists()


def test_the_shopper_pays_the_emailed_page_with_another_card(api, merchant_a, monkeypatch):
    plan = create_plan(api, merchant_a, amounts=(10000, 10000, 10000))
    pay(first_payment(plan))
    old_card = InstallmentPlan.objects.get(public_id=plan["id"]).card_id

    with merchant_initiated_outcome(monkeypatch, ["decline", "ok"]) as calls:
        advance(api, plan["id"], 30)
        page = Installment.objects.get(plan__public_id=plan["id"], index=2).page_payment
        pay({"hosted_payment": {"payment_url": representations.hosted_payment_url(page)}}, number="5555555555554444")
        plan = api.get(f"/v1/installment_plans/{plan['id']}").json()
        installment = Installment.objects.get(plan__public_id=plan["id"], index=2)
        assert installment.status == Installment.Status.PAID and installment.paid_payment_id == page.pk
        db_plan = InstallmentPlan.objects.get(public_id=plan["id"])
        assert db_plan.card_id != old_card and db_plan.card.last4 == "4444"  # the new card is the plan's

        advance(api, plan["id"], 10)  # the retry date passes: nothing is charged for the paid installment
        assert calls == ["decline"]
        plan = advance(api, plan["id"], 20)
        assert calls == ["decline", "ok"]
    assert plan["is_fully_paid"] is True
    third = Payment.objects.get(public_id=plan["schedule"][2]["payment_ids"][0])
    assert third.card_last4 == "4444"


def test_a_decline_on_every_retry_fails_the_plan(api, merchant_a, monkeypatch):
    plan = create_plan(api, merchant_a)
    pay(first_payment(plan))

    with merchant_initiated_outcome(monkeypatch, ["decline"]) as calls:
        plan = advance(api, plan["id"], 30)
        for _ in range(3):
            assert plan["is_active"] is True
            plan = advance(api, plan["id"], 4)
        assert calls == ["decline"] * 4  # the charge and its three retries
        plan = advance(api, plan["id"], 60)
        assert calls == ["decline"] * 4  # nothing more, not even the third installment

    assert plan["is_active"] is False and plan["is_fully_paid"] is False
    assert plan["failure"] == {"code": "card_declined", "message": "The card was declined by the issuer."}
    statuses = list(Installment.objects.filter(plan__public_id=plan["id"]).values_list("status", flat=True))
    assert statuses == ["paid", "failed", "canceled"]
    assert ipn_objects()[-1] == ("installment_plan", plan["id"], "installment_plan.failed")
    assert not Payment.objects.filter(installment_plan=plan["id"], status=Payment.Status.CREATED).exists()


def test_a_lost_acquirer_answer_is_reconciled_and_completes_the_installment(api, merchant_a, monkeypatch):
    plan = create_plan(api, merchant_a, amounts=(10000, 10000))
    pay(first_payment(plan))

    with merchant_initiated_outcome(monkeypatch, ["unknown"]):
        plan = advance(api, plan["id"], 30)
    (charge_id,) = plan["schedule"][1]["payment_ids"]
    assert Payment.objects.get(public_id=charge_id).status == Payment.Status.PENDING
    assert Installment.objects.get(plan__public_id=plan["id"], index=2).status == Installment.Status.CHARGING
    assert advance(api, plan["id"], 5)["schedule"][1]["payment_ids"] == [charge_id]  # never charged again

    PaymentAttempt.objects.filter(payment__public_id=charge_id).update(updated_at="2000-01-01T00:00:00Z")
    services.reconcile_pending()

    plan = api.get(f"/v1/installment_plans/{plan['id']}").json()
    assert plan["is_fully_paid"] is True and plan["schedule"][1]["payment_ids"] == [charge_id]


def test_abort_stops_the_charges_and_is_idempotent(api, merchant_a, monkeypatch):
    seen = _spy_authorize(monkeypatch)
    plan = create_plan(api, merchant_a)
    pay(first_payment(plan))
    plan = advance(api, plan["id"], 30)

    aborted = api.patch(f"/v1/installment_plans/{plan['id']}", {"aborted": True})
    assert aborted.status_code == 200
    body = aborted.json()
    assert body["is_active"] is False and body["is_fully_paid"] is False and body["failure"] is None
    assert ipn_objects()[-1] == ("installment_plan", plan["id"], "installment_plan.aborted")

    again = api.patch(f"/v1/installment_plans/{plan['id']}", {"aborted": True})
    assert again.status_code == 200
    # unchanged, but for the IPN's answer recorded meanwhile (0: shop.example.org does not answer)
    assert again.json() == {**body, "notification": {"url": "https://shop.example.org/ipn", "response_code": 0}}
    assert [kind for _, oid, kind in ipn_objects() if oid == plan["id"]] == ["installment_plan.aborted"]

    plan = advance(api, plan["id"], 90)
    assert [len(item["payment_ids"]) for item in plan["schedule"]] == [1, 1, 0]
    assert len(seen) == 2  # the page and the second installment, nothing after the abort
    statuses = list(Installment.objects.filter(plan__public_id=plan["id"]).values_list("status", flat=True))
    assert statuses == ["paid", "paid", "canceled"]


def test_abort_before_the_first_payment_closes_its_page(api, merchant_a):
    plan = create_plan(api, merchant_a)
    assert api.patch(f"/v1/installment_plans/{plan['id']}", {"aborted": True}).status_code == 200
    first = Payment.objects.get(public_id=plan["schedule"][0]["payment_ids"][0])
    assert first.status == Payment.Status.FAILED and first.failure_code == "aborted"
    assert not first.is_payable


def test_each_installment_is_refundable_on_its_own(api, merchant_a):
    plan = create_plan(api, merchant_a, amounts=(10000, 20000))
    pay(first_payment(plan))
    plan = advance(api, plan["id"], 30)
    first_id, second_id = (item["payment_ids"][0] for item in plan["schedule"])

    refund = api.post(f"/v1/payments/{second_id}/refunds", {"amount": 5000})
    assert refund.status_code == 201, refund.content
    assert api.get(f"/v1/payments/{second_id}").json()["amount_refunded"] == 5000
    assert api.get(f"/v1/payments/{first_id}").json()["amount_refunded"] == 0
    assert api.post(f"/v1/payments/{first_id}/refunds").status_code == 201
    assert api.get(f"/v1/payments/{first_id}").json()["is_refunded"] is True
    # refunds change nothing of the plan
    assert api.get(f"/v1/installment_plans/{plan['id']}").json()["is_fully_paid"] is True


def test_a_first_payment_that_fails_for_good_fails_the_plan(api, merchant_a):
    plan = create_plan(api, merchant_a)
    for _ in range(3):
        pay(first_payment(plan), number="4000 0000 0000 0002")
    plan = api.get(f"/v1/installment_plans/{plan['id']}").json()
    assert plan["is_active"] is False and plan["failure"]["code"] == "card_declined"
    assert ipn_objects()[-1] == ("installment_plan", plan["id"], "installment_plan.failed")


def test_a_deleted_saved_card_is_a_decline_and_the_shopper_gets_a_page(api, merchant_a):
    plan = create_plan(api, merchant_a, amounts=(10000, 10000))
    pay(first_payment(plan))
    card = InstallmentPlan.objects.get(public_id=plan["id"]).card
    assert api.delete(f"/v1/cards/{card.public_id}").status_code == 200
    mail.outbox.clear()

    plan = advance(api, plan["id"], 30)
    installment = Installment.objects.get(plan__public_id=plan["id"], index=2)
    assert installment.status == Installment.Status.RETRYING and installment.attempts == 1
    assert not PaymentAttempt.objects.filter(payment__installment_index=2).exists()  # nothing charged
    assert len(mail.outbox) == 1


def test_the_beat_task_charges_due_installments(api, merchant_a):
    plan = create_plan(api, merchant_a, amounts=(10000, 10000))
    pay(first_payment(plan))
    db_plan = InstallmentPlan.objects.get(public_id=plan["id"])
    Installment.objects.filter(plan=db_plan, index=2).update(next_attempt_at="2000-01-01T00:00:00Z")

    assert installments.charge_due() == 1
    assert installments.charge_due() == 0
    plan = api.get(f"/v1/installment_plans/{plan['id']}").json()
    assert plan["is_fully_paid"] is True
