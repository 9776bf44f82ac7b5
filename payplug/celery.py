"""The Celery app. Without a broker (embedded mode) tasks run eagerly in-process."""

import os
from logging.config import dictConfig

from celery import Celery
from celery.signals import setup_logging, worker_ready
from django.conf import settings
from prometheus_client import REGISTRY, CollectorRegistry, multiprocess, start_http_server

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "payplug.settings")

app = Celery("payplug")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@setup_logging.connect
def _use_django_logging(**kwargs):
    """Workers and beat log like the web processes: JSON lines, card numbers masked."""
    dictConfig(settings.LOGGING)


@worker_ready.connect
def _serve_worker_metrics(**kwargs):
    """With WORKER_METRICS_PORT set, the worker exports its own counters (fraud decisions, delivery
    failures) for Prometheus; its pool processes share them through PROMETHEUS_MULTIPROC_DIR."""
    port = os.environ.get("WORKER_METRICS_PORT")
    if not port:
        return
    registry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    start_http_server(int(port), addr=os.environ.get("WORKER_METRICS_ADDR", "0.0.0.0"), registry=registry)  # noqa: S104
