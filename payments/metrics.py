from django.db.models import Count

from payplug.metrics import PAYMENTS_BY_STATUS


def refresh_payment_gauges():
    from .models import Payment

    rows = Payment.objects.values("status", "is_live").annotate(n=Count("id")).order_by()
    for row in rows:
        PAYMENTS_BY_STATUS.labels(row["status"], str(row["is_live"]).lower()).set(row["n"])
