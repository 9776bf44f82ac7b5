"""Project package: settings, URLs, the Celery app and the platform's shared core."""

from payplug.celery import app as celery_app

__all__ = ["celery_app"]
