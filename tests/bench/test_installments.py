"""The scheduler benchmark's short version (bench/benchmarks/installments.py): due installments and
due subscription periods built as `make bench` builds them, runners racing on MariaDB, and the
benchmark's own proof that each was charged exactly once. Not timed: performance is measured by
`make bench` only."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from bench.benchmarks import installments as bench
from payments.models import Installment, InstallmentPlan, Subscription, SubscriptionCharge

pytestmark = pytest.mark.mysql


def race_runners(count: int, kind: str = "installments") -> tuple[list, list]:
    """`count` runners (threads with their own connections) released together, each looping
    charge_due until idle. Unlike tests.payments.helpers.race, waits for the last one however
    slow the machine is: 300 full charges take longer than its 60 s on a busy CI host."""
    barrier = threading.Barrier(count)
    results, errors = [None] * count, [None] * count

    def run(index):
        try:
            barrier.wait()
            results[index] = bench.run_until_idle(kind)
        except Exception as exc:  # asserted on by the caller
            errors[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, errors


@pytest.fixture
def merchant(transactional_db):
    """Committed for real: the runners are threads with connections of their own."""
    return bench.new_merchant("Bench Installments CI")


def test_two_runners_charge_each_of_300_due_installments_exactly_once(merchant):
    assert connection.vendor == "mysql"
    built = bench.build(merchant, 300, due_per_plan=2)
    assert (built["installments"], built["plans"]) == (300, 150)

    results, errors = race_runners(2)

    assert errors == [None, None], errors
    assert sum(result["started"] for result in results) == 300
    proof = bench.prove(merchant)
    assert proof["ok"], proof
    assert proof["sandbox_authorizations"] == proof["charge_payments"] == 300
    assert proof["ledger_check"] == "OK"


def test_the_proof_sees_an_installment_left_due_and_a_second_payment(merchant):
    """The proof can fail: one installment never charged, another charged by a second payment."""
    bench.build(merchant, 4)
    left = Installment.objects.filter(plan__merchant=merchant, index=2).order_by("pk").first()
    Installment.objects.filter(pk=left.pk).update(next_attempt_at=None)  # the scheduler never sees it
    bench.run_until_idle()
    proof = bench.prove(merchant)
    assert (proof["not_paid"], proof["still_due"], proof["exactly_once"]) == (1, 1, False)

    other = Installment.objects.filter(plan__merchant=merchant, index=2).exclude(pk=left.pk).first()
    Installment.objects.filter(pk=other.pk).update(
        status=Installment.Status.SCHEDULED, next_attempt_at=left.plan.created_at
    )
    Installment.objects.filter(pk=left.pk).update(next_attempt_at=left.plan.created_at)
    InstallmentPlan.objects.filter(pk=other.plan_id).update(is_active=True, is_fully_paid=False, ended_at=None)
    bench.run_until_idle()
    proof = bench.prove(merchant)
    assert proof["with_two_paid_payments"] == 1
    assert proof["charge_payments"] == 5
    assert proof["exactly_once"] is False


def test_three_runners_charge_each_of_200_due_subscription_periods_exactly_once(merchant):
    assert connection.vendor == "mysql"
    built = bench.build(merchant, 200, kind="subscriptions")
    assert (built["subscription_periods"], built["subscriptions"]) == (200, 200)

    results, errors = race_runners(3, kind="subscriptions")

    assert errors == [None, None, None], errors
    assert sum(result["started"] for result in results) == 200
    proof = bench.prove(merchant, kind="subscriptions")
    assert proof["ok"], proof
    assert proof["sandbox_authorizations"] == proof["charge_payments"] == proof["acquirer_attempts"] == 200
    assert proof["with_exactly_one_paid_payment"] == proof["paid_payment_is_the_paid_one"] == 200
    assert proof["next_period_scheduled"] == proof["paid_charges_counted_once"] == 200
    assert proof["payments_of_other_periods"] == 0
    assert proof["ledger_check"] == "OK"
    # What the proof counted, seen through the ORM: period 3 is each subscription's next charge.
    periods = SubscriptionCharge.objects.filter(subscription__merchant=merchant).values_list("period", flat=True)
    assert sorted(set(periods)) == [1, 2, 3]
    assert bench.run_until_idle("subscriptions")["started"] == 0  # nothing else is due


def test_the_subscription_proof_sees_a_period_left_due_a_second_payment_and_one_charged_early(merchant):
    """The proof can fail: a period never charged, another charged twice, a next period charged now."""
    bench.build(merchant, 5, kind="subscriptions")
    due = SubscriptionCharge.objects.filter(subscription__merchant=merchant, period=2).order_by("pk")
    left, twice, early = due[0], due[1], due[2]
    SubscriptionCharge.objects.filter(pk=left.pk).update(next_attempt_at=None)  # the scheduler never sees it
    bench.run_until_idle("subscriptions")
    proof = bench.prove(merchant, kind="subscriptions")
    assert (proof["not_paid"], proof["still_due"], proof["next_period_scheduled"]) == (1, 1, 4)
    assert proof["exactly_once"] is False

    past = Subscription.objects.get(pk=left.subscription_id).created_at
    SubscriptionCharge.objects.filter(pk=left.pk).update(next_attempt_at=past)
    SubscriptionCharge.objects.filter(pk=twice.pk).update(
        status=SubscriptionCharge.Status.SCHEDULED, next_attempt_at=past
    )
    SubscriptionCharge.objects.filter(subscription_id=early.subscription_id, period=3).update(next_attempt_at=past)
    bench.run_until_idle("subscriptions")
    proof = bench.prove(merchant, kind="subscriptions")
    assert (proof["not_paid"], proof["still_due"]) == (0, 0)
    assert proof["with_two_paid_payments"] == 1
    assert proof["payments_of_other_periods"] == 1  # period 3, charged a month early
    assert proof["charge_payments"] == 7
    assert proof["paid_charges_counted_once"] == 3
    assert proof["exactly_once"] is False
