"""Periodic jobs of the payments app (Celery beat); each only calls a service."""

from celery import shared_task

from payments import services
from payments.api.idempotency import purge_expired


@shared_task(name="payments.reconcile_pending")
def reconcile_pending():
    return services.reconcile_pending()


@shared_task(name="payments.expire_due")
def expire_due():
    return services.expire_due()


@shared_task(name="payments.purge_idempotency_keys")
def purge_idempotency_keys():
    return purge_expired()


# --- merchant money: settlement, payouts, disputes, accounting reports ------------------------------


@shared_task(name="payments.settle_due")
def settle_due():
    from payments.money import ledger

    return ledger.settle_due()


@shared_task(name="payments.run_payouts")
def run_payouts():
    from payments.money import payouts

    result = payouts.run_payouts()
    return {"created": len(result.created), "skipped": len(result.skipped), "batches": len(result.batches)}


@shared_task(name="payments.confirm_sandbox_payouts")
def confirm_sandbox_payouts():
    from payments.money import payouts

    return payouts.confirm_sandbox_payouts()


@shared_task(name="payments.open_due_chargebacks")
def open_due_chargebacks():
    from payments.money import disputes

    return disputes.open_due_chargebacks()


@shared_task(name="payments.open_scheduled_chargeback")
def open_scheduled_chargeback(payment_id: int):
    from payments.money import disputes

    dispute = disputes.open_scheduled(payment_id)
    return dispute.public_id if dispute else None


@shared_task(name="payments.expire_overdue_disputes")
def expire_overdue_disputes():
    from payments.money import disputes

    return disputes.expire_overdue()


@shared_task(name="payments.generate_accounting_report")
def generate_accounting_report(report_id: int):
    from payments.money import reports

    report = reports.generate(report_id)
    return report.status if report else None


@shared_task(name="payments.generate_pending_reports")
def generate_pending_reports():
    from payments.money import reports

    return reports.generate_pending()
