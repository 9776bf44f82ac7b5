"""The double-entry ledger: captures, fees and rounding, refunds, settlement, negative balances.

The tripwire proves the whole ledger after every test.
"""

from datetime import timedelta

import pytest
from django.utils import timezone

from payments.models import Dispute, LedgerTransaction, MerchantAccountSettings, Payment
from payments.money import disputes, ledger
from tests.payments.helpers import create_payment, pay
from tests.payments.money.test_ledger_tripwire import ledger_tripwire  # noqa: F401  autouse: check_ledger after each test


def paid(api, amount=3300, **overrides):
    payment = create_payment(api, amount=amount, **overrides)
    pay(payment)
    return payment


def set_schedule(merchant, **fields):
    MerchantAccountSettings.objects.update_or_create(merchant=merchant, defaults=fields)


def balances(merchant):
    return ledger.balances(merchant.pk, False)


@pytest.mark.parametrize(
    ("amount", "bps", "fixed", "fee"),
    [
        (3300, 140, 25, 71),  # 46.2 -> 46, + 25
        (1250, 140, 25, 43),  # 17.5 -> 18 (half up), + 25
        (99, 140, 25, 26),  # 1.386 -> 1, + 25
        (99, 0, 200, 99),  # never more than the amount
        (2_000_000, 295, 0, 59_000),
    ],
)
def test_fee_rounds_half_up_in_integer_cents(amount, bps, fixed, fee):
    assert ledger.fee_for(amount, bps, fixed) == fee


def test_fee_on_nothing_is_nothing():
    assert ledger.fee_for(0, 140, 25) == 0


def test_capture_writes_gross_fee_and_net_in_one_balanced_transaction(api, merchant_a):
    payment = paid(api)

    tx = LedgerTransaction.objects.get(kind="capture")
    assert (tx.gross, tx.fee, tx.net) == (3300, 71, 3229)
    assert tx.payment.public_id == payment["id"]
    amounts = {e.account.kind: e.amount for e in tx.entries.select_related("account")}
    assert amounts == {"acquirer_clearing": -3300, "fees": 71, "pending": 3229}
    assert balances(merchant_a).pending == 3229
    assert balances(merchant_a).available == 0


def test_the_fee_schedule_set_by_staff_applies_at_capture(api, merchant_a):
    set_schedule(merchant_a, fee_percent_bps=250, fee_fixed=10)

    paid(api, amount=1000)

    assert LedgerTransaction.objects.get(kind="capture").fee == 35


def test_a_failed_payment_writes_nothing(api):
    payment = create_payment(api)
    pay(payment, number="4000 0000 0000 0002")

    assert not LedgerTransaction.objects.exists()


def test_partial_refund_returns_the_fee_share_of_what_is_refunded(api, merchant_a):
    payment = paid(api)

    response = api.post(f"/v1/payments/{payment['id']}/refunds", {"amount": 1000})

    assert response.status_code == 201
    tx = LedgerTransaction.objects.get(kind="refund")
    # fee(3300) = 71, fee(2300) = 32 + 25 = 57: 14 comes back with the refund.
    assert (tx.gross, tx.fee, tx.net) == (-1000, -14, -986)
    assert balances(merchant_a).pending == 3229 - 986


def test_a_full_refund_leaves_the_merchant_and_the_platform_at_zero(api, merchant_a):
    payment = paid(api)

    api.post(f"/v1/payments/{payment['id']}/refunds", {"amount": 1000})
    api.post(f"/v1/payments/{payment['id']}/refunds")

    assert balances(merchant_a).held == 0
    fees = ledger.balance(ledger.platform_account(False, "fees"))
    assert fees == 0


def test_a_refund_fee_is_its_own_fee_line(api, merchant_a):
    set_schedule(merchant_a, refund_fee=20)
    first = paid(api)
    paid(api)

    api.post(f"/v1/payments/{first['id']}/refunds", {"amount": 500})

    fee = LedgerTransaction.objects.get(kind="fee")
    assert (fee.gross, fee.fee, fee.net) == (0, 20, -20)
    assert fee.refund is not None


def test_settlement_moves_net_to_available_after_the_delay(api, merchant_a):
    paid(api)
    now = timezone.now()

    assert ledger.settle(merchant_a.pk, False, now + timedelta(days=6)) is None
    tx = ledger.settle(merchant_a.pk, False, now + timedelta(days=7, minutes=1))

    assert tx is not None and tx.kind == "settlement"
    assert balances(merchant_a).pending == 0
    assert balances(merchant_a).available == 3229
    # A second run moves nothing.
    assert ledger.settle(merchant_a.pk, False, now + timedelta(days=7, minutes=2)) is None


def test_settlement_honours_the_merchant_delay_and_fills_the_reserve_first(api, merchant_a):
    set_schedule(merchant_a, settlement_delay_days=1, reserve_amount=1000)
    paid(api)

    ledger.settle(merchant_a.pk, False, timezone.now() + timedelta(days=1, minutes=1))

    assert balances(merchant_a).reserve == 1000
    assert balances(merchant_a).available == 2229


def test_a_refund_taken_from_pending_falls_due_with_the_money_it_reduces(api, merchant_a):
    payment = paid(api)
    capture_line = LedgerTransaction.objects.get(kind="capture").entries.get(account__kind="pending")

    api.post(f"/v1/payments/{payment['id']}/refunds", {"amount": 1000})

    refund_line = LedgerTransaction.objects.get(kind="refund").entries.get(account__kind="pending")
    assert refund_line.amount == -986
    assert refund_line.available_on == capture_line.available_on
    assert ledger.settle(merchant_a.pk, False, timezone.now() + timedelta(days=1)) is None
    ledger.settle(merchant_a.pk, False, timezone.now() + timedelta(days=7, minutes=1))
    assert balances(merchant_a).available == 3229 - 986
    assert balances(merchant_a).pending == 0


def test_refund_larger_than_what_the_merchant_holds_is_refused_and_changes_nothing(api, merchant_a):
    """Policy: refused with 400 refund_refused (README, "Negative balances")."""
    payment = paid(api)
    # A refund fee larger than what the payment leaves: 3300 back, fee 71 returned, + 500.
    set_schedule(merchant_a, refund_fee=500)
    before = balances(merchant_a)

    response = api.post(f"/v1/payments/{payment['id']}/refunds", {"amount": 3300})

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "refund_refused"
    assert "does not cover this refund" in body["message"]
    assert body["message"].startswith("amount: ")
    assert Payment.objects.get(public_id=payment["id"]).amount_refunded == 0
    assert not LedgerTransaction.objects.filter(kind="refund").exists()
    assert balances(merchant_a) == before


def test_mixed_workload_balances_recomputed_from_the_api_objects(api, merchant_a):
    """Independent recomputation: from the payments the API shows and the documented rules."""
    set_schedule(merchant_a, fee_percent_bps=150, fee_fixed=30, refund_fee=15)
    ids = [paid(api, amount=amount)["id"] for amount in (1000, 2599, 4999, 12345, 777, 30000)]
    api.post(f"/v1/payments/{ids[0]}/refunds", {"amount": 333})
    api.post(f"/v1/payments/{ids[1]}/refunds")
    api.post(f"/v1/payments/{ids[3]}/refunds", {"amount": 45})
    api.post(f"/v1/payments/{ids[3]}/refunds", {"amount": 1000})
    dispute = disputes.open_dispute(Payment.objects.get(public_id=ids[4]), "fraudulent")
    disputes.close(dispute, won=False)
    won = disputes.open_dispute(Payment.objects.get(public_id=ids[5]), "product_not_received")
    disputes.close(won, won=True)
    create_payment(api)  # never paid

    expected = 0
    for payment_id in ids:
        p = api.get(f"/v1/payments/{payment_id}").json()
        kept = p["amount"] - p["amount_refunded"]
        refunds = api.get(f"/v1/payments/{payment_id}/refunds").json()["data"]
        expected += kept - ledger.fee_for(kept, 150, 30) - 15 * len(refunds)
        if p["dispute"]:
            d = Dispute.objects.get(payment__public_id=payment_id)
            expected -= d.fee
            if d.status == "lost":
                expected -= p["dispute"]["amount"]
    assert balances(merchant_a).held == expected
    report = __import__("payments.money.ledger_check", fromlist=["run"]).run()
    assert report.ok, report.problem
