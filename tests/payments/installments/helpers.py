"""Installment plans in tests: a plan body, creation through the API, the test clock, declines."""

from __future__ import annotations

import contextlib
from datetime import timedelta

from django.utils import timezone

from notifications.models import Delivery, Event
from payments.acquirers.base import AcquirerResult, Outcome
from payments.acquirers.sandbox import DECLINE, DECLINE_MESSAGES, SandboxAcquirer
from payplug import dates
from tests.payments.helpers import BILLING


def today(merchant):
    return timezone.localtime(timezone.now(), dates.zone(merchant.time_zone)).date()


def plan_body(merchant, amounts=(15000, 15000, 15000), spacing=30, **overrides):
    start = today(merchant)
    schedule = [{"date": "TODAY", "amount": amounts[0]}]
    for n, amount in enumerate(amounts[1:], start=1):
        schedule.append({"date": (start + timedelta(days=spacing * n)).isoformat(), "amount": amount})
    body = {
        "currency": "EUR",
        "schedule": schedule,
        "billing": dict(BILLING),
        "hosted_payment": {"return_url": "https://shop.example.org/ok", "cancel_url": "https://shop.example.org/ko"},
        "notification_url": "https://shop.example.org/ipn",
        "metadata": {"order_id": "42"},
    }
    body.update(overrides)
    return body


def create_plan(api, merchant, **overrides):
    response = api.post("/v1/installment_plans", plan_body(merchant, **overrides))
    assert response.status_code == 201, response.content
    return response.json()


def first_payment(plan):
    """The first installment's payment as `pay()` wants it (its hosted page)."""
    return {"hosted_payment": {"payment_url": plan["hosted_payment"]["payment_url"]}}


def advance(api, plan_id, days):
    response = api.post(f"/v1/installment_plans/{plan_id}/test_clock", {"advance_days": days})
    assert response.status_code == 200, response.content
    return response.json()


def ipn_objects(url="https://shop.example.org/ipn"):
    """(object, id, type) of every event sent as an IPN to `url`, oldest first."""
    events = Event.objects.filter(ipn_url=url).order_by("pk")
    return [(e.payload["object"], e.object_id, e.type) for e in events]


def ipn_deliveries(object_id):
    return Delivery.objects.filter(event__object_id=object_id, kind=Delivery.Kind.IPN).count()


@contextlib.contextmanager
def merchant_initiated_outcome(monkeypatch, outcomes):
    """Merchant-initiated authorisations answer `outcomes` in turn ("decline", "unknown", "ok"); the
    last one repeats. Shopper-present ones (the hosted page) are left to the sandbox's cards."""
    real = SandboxAcquirer.authorize
    calls = []

    def authorize(self, **kwargs):
        if kwargs.get("shopper_present", True):
            return real(self, **kwargs)
        outcome = outcomes[min(len(calls), len(outcomes) - 1)]
        calls.append(outcome)
        key = kwargs["idempotency_key"]
        previous = self._replay(key)
        if previous is not None:
            return self._result(previous)
        if outcome == "decline":
            op = self._remember(
                key,
                "authorize",
                DECLINE,
                Outcome.DECLINED,
                kwargs["amount"],
                None,
                "card_declined",
                DECLINE_MESSAGES[DECLINE],
            )
            return self._result(op)
        if outcome == "unknown":  # authorised, but the answer is lost: inquiry will say so
            self._remember(key, "authorize", "timeout", Outcome.AUTHORIZED, kwargs["amount"])
            return AcquirerResult(outcome=Outcome.UNKNOWN, failure_message="The acquirer did not answer in time.")
        return real(self, **kwargs)

    monkeypatch.setattr(SandboxAcquirer, "authorize", authorize)
    yield calls
