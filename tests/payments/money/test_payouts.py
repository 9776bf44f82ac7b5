"""Payouts: the daily job, SEPA pain.001 files checked against the ISO 20022 schema, states,
failures, running twice a day, merchants that cannot be paid."""

import os
from datetime import timedelta
from pathlib import Path

import pytest
import sepaxml
import xmlschema
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone

from merchants.models import Merchant
from notifications.models import Event
from payments.models import LedgerTransaction, MerchantAccountSettings, Payout, PayoutBatch
from payments.money import ledger, payouts
from tests import factories
from tests.merchants.helpers import login_verified
from tests.payments.helpers import create_payment, pay
from tests.payments.money.test_ledger_tripwire import ledger_tripwire  # noqa: F401  autouse: check_ledger after each test

IBAN = "FR1420041010050500013M02606"
SCHEMA = Path(os.path.dirname(sepaxml.__file__)) / "schemas" / "pain.001.001.03.xsd"


@pytest.fixture
def merchant_with_iban(merchant_a):
    Merchant.objects.filter(pk=merchant_a.pk).update(iban=IBAN)
    merchant_a.refresh_from_db()
    return merchant_a


def earn(api, merchant, amount=3300, settle=True):
    payment = create_payment(api, amount=amount)
    pay(payment)
    if settle:
        ledger.settle(merchant.pk, False, timezone.now() + timedelta(days=8))
    return payment


def later():
    return timezone.now() + timedelta(days=8, minutes=5)


def test_the_daily_job_pays_the_available_balance_into_a_valid_pain001_file(api, merchant_with_iban):
    earn(api, merchant_with_iban)

    result = payouts.run_payouts(now=later())

    assert len(result.created) == 1 and len(result.batches) == 1
    payout = Payout.objects.get()
    assert payout.amount == 3229 and payout.status == Payout.Status.IN_TRANSIT
    assert payout.iban == IBAN
    balances = ledger.balances(merchant_with_iban.pk, False)
    assert (balances.available, balances.in_transit) == (0, 3229)
    batch = PayoutBatch.objects.get()
    xmlschema.XMLSchema(str(SCHEMA)).validate(batch.xml)  # raises on any schema violation
    assert '<InstdAmt Ccy="EUR">32.29</InstdAmt>' in batch.xml
    assert IBAN in batch.xml and payout.public_id in batch.xml


def test_running_the_job_twice_the_same_day_pays_once(api, merchant_with_iban):
    earn(api, merchant_with_iban)
    payouts.run_payouts(now=later())
    earn(api, merchant_with_iban, amount=1000)  # more money arrives the same day

    second = payouts.run_payouts(now=later() + timedelta(minutes=30))

    assert second.created == []
    assert Payout.objects.count() == 1
    assert PayoutBatch.objects.count() == 1
    assert ledger.balances(merchant_with_iban.pk, False).available == 1000 - 39


def test_the_next_day_pays_what_came_in(api, merchant_with_iban):
    earn(api, merchant_with_iban)
    payouts.run_payouts(now=later())
    earn(api, merchant_with_iban, amount=1000)

    payouts.run_payouts(now=later() + timedelta(days=1))

    assert sorted(Payout.objects.values_list("amount", flat=True)) == [961, 3229]


def test_below_the_minimum_nothing_is_paid(api, merchant_with_iban):
    MerchantAccountSettings.objects.update_or_create(merchant=merchant_with_iban, defaults={"payout_minimum": 5000})
    earn(api, merchant_with_iban)

    result = payouts.run_payouts(now=later())

    assert result.created == [] and not Payout.objects.exists()


def test_a_merchant_without_iban_gets_a_clear_error_and_nothing_changes(api, merchant_a):
    earn(api, merchant_a)
    before = ledger.balances(merchant_a.pk, False)

    with pytest.raises(payouts.PayoutError) as error:
        payouts.create_payout(merchant_a, False, timezone.now().date())

    assert error.value.code == "iban_missing" and "no payout IBAN" in error.value.message
    assert ledger.balances(merchant_a.pk, False) == before
    assert not Payout.objects.exists()
    result = payouts.run_payouts(now=later())
    assert merchant_a.public_id in result.skipped


def test_a_malformed_iban_is_refused_by_name(api, merchant_a):
    Merchant.objects.filter(pk=merchant_a.pk).update(iban="FR1420041010050500013M02607")
    merchant_a.refresh_from_db()
    earn(api, merchant_a)

    with pytest.raises(CommandError, match="malformed"):
        call_command("run_payouts", merchant=merchant_a.public_id)

    assert not Payout.objects.exists()


def test_live_payouts_need_an_iban_verified_by_approval(merchant_with_iban):
    with pytest.raises(payouts.PayoutError) as error:
        payouts.verified_account(merchant_with_iban, is_live=True)

    assert error.value.code == "iban_not_verified"


def test_paid_then_published(api, merchant_with_iban):
    earn(api, merchant_with_iban)
    payouts.run_payouts(now=later())
    payout = Payout.objects.get()

    payouts.mark_paid(payout)

    payout.refresh_from_db()
    assert payout.status == Payout.Status.PAID
    assert ledger.balances(merchant_with_iban.pk, False).in_transit == 0
    event = Event.objects.get(type="payout.paid")
    assert event.payload["id"] == payout.public_id and event.payload["amount"] == 3229


def test_a_failed_payout_returns_the_money_to_available(api, merchant_with_iban):
    earn(api, merchant_with_iban)
    payouts.run_payouts(now=later())
    payout = Payout.objects.get()

    payouts.mark_failed(payout, "account closed")

    payout.refresh_from_db()
    assert payout.status == Payout.Status.FAILED and payout.failure_reason == "account closed"
    balances = ledger.balances(merchant_with_iban.pk, False)
    assert (balances.available, balances.in_transit) == (3229, 0)
    assert LedgerTransaction.objects.filter(kind="payout_failed").get().net == 3229
    with pytest.raises(payouts.PayoutError):
        payouts.mark_paid(payout)


def test_the_sandbox_bank_confirms_test_payouts(api, merchant_with_iban):
    earn(api, merchant_with_iban)
    payouts.run_payouts(now=later())

    assert payouts.confirm_sandbox_payouts(timezone.now() + payouts.SANDBOX_CONFIRM_AFTER + timedelta(seconds=1)) == 1
    assert Payout.objects.get().status == Payout.Status.PAID


def test_merchants_see_each_payout_and_the_payments_it_contains(api, alice_client, merchant_with_iban):
    first = earn(api, merchant_with_iban)
    payouts.run_payouts(now=later())
    payout = Payout.objects.get()

    page = alice_client.get(reverse("dashboard:balance")).content.decode()
    detail = alice_client.get(reverse("dashboard:payout", args=[payout.public_id])).content.decode()

    assert payout.public_id in page
    assert first["id"] in detail
    lines = payouts.payout_lines(payout)
    assert sum(line.net for line in lines) == payout.amount


def test_staff_download_the_batch_file_from_the_admin(api, client, merchant_with_iban):
    earn(api, merchant_with_iban)
    payouts.run_payouts(now=later())
    batch = PayoutBatch.objects.get()
    staff = factories.user("staff@platform.test", is_staff=True, is_superuser=True)
    login_verified(client, staff)

    listing = client.get(reverse("admin:payments_payoutbatch_changelist"))
    download = client.get(reverse("admin:payments_batch_xml", args=[batch.pk]))

    assert batch.file_name in listing.content.decode()
    assert download.status_code == 200
    assert download["Content-Disposition"].endswith(f'"{batch.file_name}"')
    assert download.content.decode() == batch.xml
