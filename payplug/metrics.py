"""Prometheus metrics shared by the apps. With PROMETHEUS_MULTIPROC_DIR set (gunicorn with
several workers), values are aggregated across processes by prometheus_client."""

from prometheus_client import Counter, Gauge, Histogram

REQUESTS = Counter("http_requests_total", "HTTP requests", ["method", "route", "status"])
REQUEST_LATENCY = Histogram(
    "http_request_duration_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
# Gauges sampled at scrape time: with several processes, the latest sample wins ("max" would
# keep reporting a higher value another worker sampled minutes ago). Set them, never inc() them.
PAYMENTS_BY_STATUS = Gauge(
    "payments_by_status",
    "Payments by status (sampled at scrape time)",
    ["status", "is_live"],
    multiprocess_mode="mostrecent",
)
FRAUD_DECISIONS = Counter("fraud_decisions_total", "Fraud decisions", ["decision"])
DELIVERY_FAILURES = Counter("notification_delivery_failures_total", "Failed notification attempts", ["kind"])
QUEUE_DEPTH = Gauge(
    "celery_queue_depth", "Messages waiting in the broker queue", ["queue"], multiprocess_mode="mostrecent"
)

# Apps register callables that refresh gauges right before a scrape (payments by status,
# queue depth...), so that the core needs to import no app.
_scrape_hooks = []


def on_scrape(hook):
    _scrape_hooks.append(hook)
    return hook


def run_scrape_hooks():
    for hook in _scrape_hooks:
        hook()
