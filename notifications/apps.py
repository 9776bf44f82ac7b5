from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"

    def ready(self):
        from notifications import tasks  # noqa: F401  registers the Celery tasks in every process, eager mode included
