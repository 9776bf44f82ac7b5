from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"

    def ready(self):
        from payplug.metrics import on_scrape

        from . import tasks  # noqa: F401  registers the Celery tasks in every process, eager mode included
        from .metrics import refresh_payment_gauges

        on_scrape(refresh_payment_gauges)
