import time

from django.db.models import Count

from payments.models import Payment
from payplug.metrics import PAYMENTS_BY_STATUS

_REFRESH_EVERY = 30.0  # seconds: a GROUP BY over all payments is not free on a large table
_last_refresh = 0.0


def refresh_payment_gauges():
    global _last_refresh
    now = time.monotonic()
    if now - _last_refresh < _REFRESH_EVERY:
        return
    _last_refresh = now
    rows = list(Payment.objects.values("status", "is_live").annotate(n=Count("id")).order_by())
    PAYMENTS_BY_STATUS.clear()  # a status that dropped to zero must not keep its old value
    for row in rows:
        PAYMENTS_BY_STATUS.labels(row["status"], str(row["is_live"]).lower()).set(row["n"])
