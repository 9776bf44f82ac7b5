"""Fraud decisions after authorisation (architecture, flow step 4).

This is the decision skeleton: a decision is taken once per payment (the Decision row is the
lock), and carried out through payments.services. The scoring itself is deliberately minimal
until the fraud engine lands (issue 6): the sandbox's fraud test card scores 100 and is
refused; everything else scores 0 and is captured.
"""

from __future__ import annotations

import logging

from django.db import IntegrityError, transaction

from payments import services as payments
from payments.models import Payment
from payments.vault import fingerprint
from payplug.metrics import FRAUD_DECISIONS

from .models import Decision

logger = logging.getLogger(__name__)
SANDBOX_FRAUD_CARD = "4100000000000019"


def score(payment: Payment) -> tuple[int, str, list]:
    if not payment.is_live and payment.card_fingerprint == fingerprint(SANDBOX_FRAUD_CARD):
        return 100, "sandbox fraud test card", [{"feature": "sandbox_fraud_card", "contribution": 100}]
    return 0, "", []


def decide(payment_id: int) -> Decision | None:
    payment = Payment.objects.filter(pk=payment_id).first()
    if payment is None or payment.status != Payment.Status.AUTHORIZED:
        return None
    existing = Decision.objects.filter(payment=payment).first()
    if existing is None:
        value, rule, reasons = score(payment)
        outcome = Decision.Outcome.REFUSE if value >= 80 else Decision.Outcome.CAPTURE
        try:
            with transaction.atomic():
                existing = Decision.objects.create(
                    payment=payment,
                    merchant_id=payment.merchant_id,
                    is_live=payment.is_live,
                    score=value,
                    outcome=outcome,
                    rule=rule,
                    reasons=reasons,
                )
            FRAUD_DECISIONS.labels(outcome).inc()
        except IntegrityError:  # a redelivered task raced us: the first decision stands
            existing = Decision.objects.get(payment=payment)
    carry_out(existing)
    return existing


def carry_out(decision: Decision) -> None:
    """Apply a decision; payments.services ignores it if the payment already moved on."""
    if decision.outcome == Decision.Outcome.REFUSE:
        payments.refuse(decision.payment_id, "fraud_suspected")
    elif decision.outcome == Decision.Outcome.REVIEW:
        payments.hold_for_review(decision.payment_id)
    else:
        payments.accept(decision.payment_id)
