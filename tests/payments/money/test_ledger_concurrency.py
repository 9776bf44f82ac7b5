"""Races on a merchant's balance with real concurrent MySQL connections: payouts and refunds
never spend the same money twice, and two payout runs on one day pay once."""

from datetime import timedelta

import pytest
from django.utils import timezone

from merchants.models import Merchant
from payments import services
from payments.errors import PaymentError
from payments.models import MerchantAccountSettings, Payment, Payout, Refund
from payments.money import ledger, ledger_check, payouts
from tests.payments.helpers import create_payment, pay, race

pytestmark = pytest.mark.mysql


@pytest.fixture
def funded(api, merchant_a):
    Merchant.objects.filter(pk=merchant_a.pk).update(iban="FR1420041010050500013M02606")
    merchant_a.refresh_from_db()
    MerchantAccountSettings.objects.update_or_create(merchant=merchant_a, defaults={"refund_fee": 100})
    payment = create_payment(api)
    pay(payment)
    ledger.settle(merchant_a.pk, False, timezone.now() + timedelta(days=8))
    return merchant_a, Payment.objects.get(public_id=payment["id"])


def test_payout_and_refund_racing_never_overdraw(funded):
    merchant, payment = funded
    later = timezone.now() + timedelta(days=8, minutes=1)

    def work(i):
        if i % 2 == 0:
            return payouts.create_payout(merchant, False, later.date(), later)
        return services.refund(payment, 3300)

    _results, errors = race(4, work)

    refunds = Refund.objects.count()
    paid_out = sum(Payout.objects.values_list("amount", flat=True))
    balances = ledger.balances(merchant.pk, False)
    # Either the payout took the money (the refund is refused) or the refund did (nothing to pay).
    assert refunds + (1 if paid_out else 0) == 1, (refunds, paid_out, errors)
    assert all(e is None or isinstance(e, PaymentError) for e in errors), errors
    assert balances.available >= 0 and balances.pending >= 0
    assert ledger_check.run().ok


def test_two_payout_runs_at_once_pay_once(funded):
    merchant, _payment = funded
    later = timezone.now() + timedelta(days=8, minutes=1)

    _results, errors = race(3, lambda i: payouts.run_payouts(now=later))

    assert all(e is None for e in errors), errors
    assert Payout.objects.count() == 1
    assert ledger.balances(merchant.pk, False).in_transit == Payout.objects.get().amount
    assert ledger_check.run().ok
