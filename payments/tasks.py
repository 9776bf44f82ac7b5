"""Periodic jobs of the payments app (Celery beat); each only calls a service."""

from celery import shared_task

from . import services
from .api.idempotency import purge_expired


@shared_task(name="payments.reconcile_pending")
def reconcile_pending():
    return services.reconcile_pending()


@shared_task(name="payments.expire_due")
def expire_due():
    return services.expire_due()


@shared_task(name="payments.purge_idempotency_keys")
def purge_idempotency_keys():
    return purge_expired()
