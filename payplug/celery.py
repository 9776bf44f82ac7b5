"""The Celery app. Without a broker (embedded mode) tasks run eagerly in-process."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "payplug.settings")

app = Celery("payplug")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
