"""Fraud labels (a merchant's report, a lost dispute, a rejected review) and issuer declines.

A fraud label reaches the online feature store at its report time, once per payment; a declined
attempt counts in the `*_declines_1d` features.
"""

from __future__ import annotations

import logging
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from fraud.features import FeaturePipeline, default_store
from fraud.models import Label
from fraud.services.transactions import STORE_ERRORS, transaction_of
from payments.models import Payment

logger = logging.getLogger(__name__)
DECLINE_CODES = {"card_declined", "3ds_declined", "incorrect_number", "processing_error"}


def add_label(payment: Payment, source: str, *, is_fraud: bool, at: datetime, user=None) -> Label | None:
    try:
        with transaction.atomic():
            return Label.objects.create(
                payment=payment,
                merchant_id=payment.merchant_id,
                is_live=payment.is_live,
                source=source,
                is_fraud=is_fraud,
                fraud_reported_at=at,
                created_by=user,
            )
    except IntegrityError:  # the same fact, told twice
        return None


def feed_label(label_id: int) -> None:
    """A fraud label reaches the online store at its report time (merchant fraud rate, card history)."""
    label = Label.objects.select_related("payment").filter(pk=label_id).first()
    if label is None or not label.is_fraud:
        return
    already = Label.objects.filter(payment_id=label.payment_id, is_fraud=True, pk__lt=label.pk).exists()
    if already:
        return  # one fraud counted once per payment, whatever the number of sources
    tx = transaction_of(label.payment)
    try:
        FeaturePipeline(default_store()).label(tx, label.fraud_reported_at.timestamp())
    except STORE_ERRORS as error:
        logger.warning("fraud feature store unavailable, label %s not fed: %s", label.pk, error)


def report_fraud(payment: Payment, user=None, at: datetime | None = None) -> Label | None:
    """The merchant marks a payment as fraudulent (from the dashboard)."""
    label = add_label(payment, Label.Source.MERCHANT, is_fraud=True, at=at or timezone.now(), user=user)
    if label is not None:
        transaction.on_commit(lambda: feed_label(label.pk))
    return label


def record_dispute_lost(payment: Payment, at: datetime) -> Label | None:
    label = add_label(payment, Label.Source.DISPUTE_LOST, is_fraud=True, at=at)
    if label is not None:
        transaction.on_commit(lambda: feed_label(label.pk))
    return label


def record_decline(payment: Payment) -> None:
    """A declined attempt (payment.failed with an issuer-side code) counts in `*_declines_1d`."""
    if payment.failure_code not in DECLINE_CODES:
        return
    tx = transaction_of(payment)
    tx.time = timezone.now().timestamp()
    tx.id = f"{payment.public_id}:{payment.failed_attempts}"
    try:
        FeaturePipeline(default_store()).decline(tx)
    except STORE_ERRORS as error:
        logger.warning("fraud feature store unavailable, decline not recorded: %s", error)
