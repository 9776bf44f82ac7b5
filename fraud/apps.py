from django.apps import AppConfig
from django.db.models.signals import post_migrate

from fraud.features import MemoryFeatureStore, default_store


class FraudConfig(AppConfig):
    name = "fraud"

    def ready(self):
        # Importing the tasks module registers the Celery tasks in every process, eager mode included.
        from fraud import home as fraud_home
        from fraud import tasks  # noqa: F401
        from merchants import home, roles
        from notifications.registry import subscribe

        subscribe("payment.authorized", "fraud.score_payment")
        subscribe("payment.failed", "fraud.record_decline")
        subscribe("payment.dispute_lost", "fraud.record_dispute_lost")
        post_migrate.connect(_forget_in_process_features, sender=self)
        # The dashboard home's "Needs attention": payments waiting for a review (merchants.home).
        home.register_attention("fraud_reviews", fraud_home.review_items, permission=roles.VIEW_FRAUD, order=20)


def _forget_in_process_features(**kwargs):
    """The database was created or flushed (`manage.py flush`, each transactional test): the
    in-process store (embedded mode) describes payments that no longer exist. Redis is left alone."""
    store = default_store()
    if isinstance(store, MemoryFeatureStore):
        store.clear()
