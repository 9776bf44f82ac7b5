from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "payments"

    def ready(self):
        from notifications import registry

        # Importing the task modules registers the Celery tasks in every process, eager mode included.
        from payments import receipts, services, tasks
        from payments.metrics import refresh_payment_gauges
        from payplug.metrics import on_scrape

        on_scrape(refresh_payment_gauges)
        # IPN attempts report their status code onto the payment; receipts follow payment.paid.
        registry.on_ipn_result(services.record_ipn_response)
        registry.subscribe("payment.paid", receipts.send_receipt.name)
        # Test mode: the sandbox dispute card's chargeback follows payment.paid (payments.tasks).
        registry.subscribe("payment.paid", tasks.sandbox_chargeback.name)
