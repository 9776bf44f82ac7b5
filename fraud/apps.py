from django.apps import AppConfig


class FraudConfig(AppConfig):
    name = "fraud"

    def ready(self):
        from notifications.registry import subscribe

        from . import tasks  # noqa: F401  registers the Celery tasks in every process, eager mode included

        subscribe("payment.authorized", "fraud.score_payment")
