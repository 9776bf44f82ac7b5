"""Celery tasks of the payments app: periodic jobs (beat) and subscribers of events; each only
calls a service."""

from celery import shared_task

from notifications.models import Event
from payments import installments, services, subscription_emails, subscriptions
from payments.idempotency import purge_expired
from payments.models import Payment
from payments.money import disputes, ledger, payouts, reports


@shared_task(name="payments.reconcile_pending")
def reconcile_pending():
    return services.reconcile_pending()


@shared_task(name="payments.expire_due")
def expire_due():
    return services.expire_due()


@shared_task(name="payments.charge_due_installments")
def charge_due_installments():
    return installments.charge_due()


@shared_task(name="payments.charge_due_subscriptions")
def charge_due_subscriptions():
    return subscriptions.charge_due()


@shared_task(name="payments.remind_upcoming_subscription_charges")
def remind_upcoming_subscription_charges():
    return subscriptions.remind_upcoming()


@shared_task(name="payments.warn_expiring_subscription_cards")
def warn_expiring_subscription_cards():
    return subscription_emails.warn_expiring_cards(describe=subscriptions.subscription_object)


@shared_task(name="payments.purge_idempotency_keys")
def purge_idempotency_keys():
    return purge_expired()


# --- merchant money: settlement, payouts, disputes, accounting reports ------------------------------


@shared_task(name="payments.settle_due")
def settle_due():
    return ledger.settle_due()


@shared_task(name="payments.run_payouts")
def run_payouts():
    result = payouts.run_payouts()
    return {"created": len(result.created), "skipped": len(result.skipped), "batches": len(result.batches)}


@shared_task(name="payments.confirm_sandbox_payouts")
def confirm_sandbox_payouts():
    return payouts.confirm_sandbox_payouts()


@shared_task(name="payments.open_due_chargebacks")
def open_due_chargebacks():
    return disputes.open_due_chargebacks()


@shared_task(name="payments.open_scheduled_chargeback")
def open_scheduled_chargeback(payment_id: int):
    dispute = disputes.open_scheduled(payment_id)
    return dispute.public_id if dispute else None


@shared_task(name="payments.expire_overdue_disputes")
def expire_overdue_disputes():
    return disputes.expire_overdue()


@shared_task(name="payments.send_dispute_opened_email", acks_late=True)
def send_dispute_opened_email(dispute_id: int):
    return disputes.send_opened_email(dispute_id)


@shared_task(name="payments.send_dispute_emails")
def send_dispute_emails():
    return disputes.send_due_emails()


@shared_task(name="payments.generate_accounting_report")
def generate_accounting_report(report_id: int):
    report = reports.generate(report_id)
    return report.status if report else None


@shared_task(name="payments.generate_pending_reports")
def generate_pending_reports():
    return reports.generate_pending()


@shared_task(name="payments.delete_expired_report_files")
def delete_expired_report_files():
    return reports.delete_expired_files()


# --- subscribers of events -------------------------------------------------------------------------


@shared_task(name="payments.sandbox_chargeback", acks_late=True)
def sandbox_chargeback(event_id: int):
    """Subscriber of `payment.paid` in test mode: the sandbox dispute card's chargeback."""
    event = Event.objects.filter(pk=event_id, is_live=False, object_type="payment").first()
    if event is None:
        return None
    payment_id = Payment.objects.filter(public_id=event.object_id).values_list("pk", flat=True).first()
    if payment_id is None:
        return None
    scheduled = disputes.schedule_sandbox_chargeback(payment_id)
    return scheduled.due_at.isoformat() if scheduled else None


def _payment_pk(event_id: int) -> int | None:
    event = Event.objects.filter(pk=event_id, object_type="payment").first()
    if event is None:
        return None
    return Payment.objects.filter(public_id=event.object_id).values_list("pk", flat=True).first()


@shared_task(name="payments.installment_payment_paid", acks_late=True)
def installment_payment_paid(event_id: int):
    """Subscriber of `payment.paid`: an installment's payment settles its installment (once)."""
    payment_id = _payment_pk(event_id)
    if payment_id is not None:
        installments.on_payment_paid(payment_id)


@shared_task(name="payments.installment_payment_failed", acks_late=True)
def installment_payment_failed(event_id: int):
    """Subscriber of `payment.failed`: a declined installment is retried, or its plan fails."""
    payment_id = _payment_pk(event_id)
    if payment_id is not None:
        installments.on_payment_failed(payment_id)


@shared_task(name="payments.subscription_payment_paid", acks_late=True)
def subscription_payment_paid(event_id: int):
    """Subscriber of `payment.paid`: a subscription's payment settles its period (once)."""
    payment_id = _payment_pk(event_id)
    if payment_id is not None:
        subscriptions.on_payment_paid(payment_id)


@shared_task(name="payments.subscription_payment_failed", acks_late=True)
def subscription_payment_failed(event_id: int):
    """Subscriber of `payment.failed`: a declined period is retried, or the subscription ends."""
    payment_id = _payment_pk(event_id)
    if payment_id is not None:
        subscriptions.on_payment_failed(payment_id)


@shared_task(name="payments.subscription_card_checked", acks_late=True)
def subscription_card_checked(event_id: int):
    """Subscriber of `payment.capturable`: a subscriber's card check saves the card, then is voided."""
    payment_id = _payment_pk(event_id)
    if payment_id is not None:
        subscriptions.on_card_checked(payment_id)
