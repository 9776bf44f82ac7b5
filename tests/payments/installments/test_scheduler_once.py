"""The scheduler charges each due installment exactly once (issue 13 item 5): overlapping runs, a
redelivered task, a worker killed between the claim and the charge."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection

from payments import installments, recurring
from payments.models import Installment, InstallmentPlan, Payment, PaymentAttempt, SandboxOperation
from tests.payments.helpers import pay, race

from .helpers import create_plan, first_payment

PAST = "2000-01-01T00:00:00Z"


def _due_plans(api, merchant, count):
    plans = []
    for _ in range(count):
        plan = create_plan(api, merchant, amounts=(10000, 10000))
        pay(first_payment(plan))
        plans.append(plan["id"])
    Installment.objects.filter(plan__public_id__in=plans, index=2).update(next_attempt_at=PAST)
    return plans


def _charges():
    return PaymentAttempt.objects.filter(payment__installment_index=2).count()


def test_a_second_run_or_a_redelivered_task_charges_nothing_more(api, merchant_a):
    plans = _due_plans(api, merchant_a, 2)
    assert installments.charge_due() == 2
    assert installments.charge_due() == 0
    assert _charges() == 2
    assert all(api.get(f"/v1/installment_plans/{plan_id}").json()["is_fully_paid"] for plan_id in plans)


def test_a_claim_taken_by_another_run_is_not_taken_again(api, merchant_a):
    (plan_id,) = _due_plans(api, merchant_a, 1)
    installment = Installment.objects.get(plan__public_id=plan_id, index=2)
    now = installments.timezone.now()
    assert recurring._claim(installments.KIND, installment.pk, installment.plan_id, now) is not None
    assert recurring._claim(installments.KIND, installment.pk, installment.plan_id, now) is None
    assert Payment.objects.filter(installment_plan=plan_id, installment_index=2).count() == 1


def test_a_worker_killed_after_the_claim_is_taken_over_once(api, merchant_a):
    (plan_id,) = _due_plans(api, merchant_a, 1)
    installment = Installment.objects.get(plan__public_id=plan_id, index=2)
    now = installments.timezone.now()
    # Claimed ... and the worker dies.
    payment_id = recurring._claim(installments.KIND, installment.pk, installment.plan_id, now)
    assert Payment.objects.get(pk=payment_id).status == Payment.Status.CREATED

    assert installments.charge_due() == 0  # too early: the claiming worker may still be at it
    assert _charges() == 0
    later = now + recurring.STALLED_CHARGE + timedelta(seconds=1)
    installments.charge_due(later)
    installments.charge_due(later)
    assert _charges() == 1
    assert InstallmentPlan.objects.get(public_id=plan_id).is_fully_paid is True


@pytest.mark.mysql
def test_concurrent_runners_charge_each_installment_once_on_mysql(api, merchant_a):
    assert connection.vendor == "mysql"
    plans = _due_plans(api, merchant_a, 6)

    results, errors = race(4, lambda i: installments.charge_due())

    assert errors == [None] * 4, errors
    assert sum(results) == 6
    assert _charges() == 6
    authorizations = SandboxOperation.objects.filter(kind="authorize", amount=10000).count()
    assert authorizations == 6 * 2  # each plan: its page, then its second installment once
    for plan_id in plans:
        assert Payment.objects.filter(installment_plan=plan_id, installment_index=2).count() == 1
        assert InstallmentPlan.objects.get(public_id=plan_id).is_fully_paid is True
