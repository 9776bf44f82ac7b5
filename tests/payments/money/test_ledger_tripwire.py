"""The ledger's tripwire: every money test ends by proving the ledger (check_ledger).

Import `ledger_tripwire` into a test module (it is autouse there): after each test the whole
ledger must balance and every payment's lines must match it, whatever the test did.
"""

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction

from payments.models import LedgerEntry, LedgerTransaction, Payment
from payments.money import ledger, ledger_check
from tests.payments.helpers import create_payment, pay


@pytest.fixture(autouse=True)
def ledger_tripwire():
    yield
    report = ledger_check.run()
    assert report.ok, f"ledger tripwire: {report.problem}"


def _paid(api):
    payment = create_payment(api)
    pay(payment)
    return payment


def test_check_ledger_passes_on_a_real_flow(api):
    _paid(api)
    out = io.StringIO()

    call_command("check_ledger", stdout=out)

    assert "ledger OK: 1 transactions balanced, 1 payments matched" in out.getvalue()


def test_an_unbalanced_posting_is_refused(merchant_a):
    accounts = ledger.merchant_accounts(merchant_a.pk, False)
    with pytest.raises(ledger.LedgerError, match="sum to 5"), transaction.atomic():
        ledger.post(
            kind="adjustment",
            unique_key="bad",
            merchant_id=merchant_a.pk,
            is_live=False,
            lines=[ledger.Line(accounts["available"], 5)],
        )
    assert not LedgerTransaction.objects.exists()


def test_a_posting_outside_a_transaction_is_refused(merchant_a):
    accounts = ledger.merchant_accounts(merchant_a.pk, False)
    with pytest.raises(ledger.LedgerError, match="inside the transaction"):
        ledger.post(
            kind="adjustment",
            unique_key="outside",
            merchant_id=merchant_a.pk,
            is_live=False,
            lines=[ledger.Line(accounts["available"], 5), ledger.Line(accounts["pending"], -5)],
        )


def test_ledger_rows_are_append_only(api):
    _paid(api)
    tx = LedgerTransaction.objects.get()
    entry = LedgerEntry.objects.first()

    with pytest.raises(TypeError):
        tx.save()
    with pytest.raises(TypeError):
        entry.delete()
    with pytest.raises(TypeError):
        LedgerEntry.objects.update(amount=0)
    with pytest.raises(TypeError):
        LedgerTransaction.objects.all().delete()


def test_check_ledger_names_the_first_offender_and_exits_non_zero(api, ledger_tripwire):
    payment = _paid(api)
    tx = LedgerTransaction.objects.get()
    # A line written behind the ledger's back (raw insert): the transaction no longer balances.
    LedgerEntry.objects.bulk_create(
        [LedgerEntry(transaction=tx, account=LedgerEntry.objects.first().account, amount=7, available_on=tx.created_at)]
    )

    with pytest.raises(CommandError) as failure:
        call_command("check_ledger", stdout=io.StringIO())

    assert tx.public_id in str(failure.value) and "sum to 7" in str(failure.value)
    assert payment["id"] in str(failure.value)
    # Leave the database clean for the tripwire of this very test.
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM payments_ledgerentry WHERE amount = 7")


def test_check_ledger_catches_a_payment_that_disagrees_with_its_lines(api):
    payment = _paid(api)
    Payment.objects.filter(public_id=payment["id"]).update(amount=9999)

    report = ledger_check.run()

    assert not report.ok and payment["id"] in report.problem and "9999" in report.problem
    Payment.objects.filter(public_id=payment["id"]).update(amount=3300)
