"""gunicorn settings of the web role. docker/entrypoint.sh adds --bind and --workers.

Access log lines are JSON on stdout, like the application's own logs, and carry the
request id of the response (X-Request-Id) so that they join the application's lines.
"""

import json
import os
import time

from gunicorn.glogging import Logger
from prometheus_client import multiprocess

# Heartbeat files on a tmpfs: on the container's overlay filesystem they can stall workers.
worker_tmp_dir = "/dev/shm"  # noqa: S108
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
# Recycle workers now and then (bounded memory growth), not all at once.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "20000"))
max_requests_jitter = max_requests // 10
# Import Django once in the master: a recycled worker forks from it instead of re-importing
# everything (0.65 s of CPU each time, bench/README.md). Django opens no database or Redis
# connection at import time, so no socket is shared between the forked workers.
preload_app = os.environ.get("GUNICORN_PRELOAD", "1") == "1"
# Proxies allowed to set X-Forwarded-Proto / -For for gunicorn itself (Django reads
# X-Forwarded-Proto only with BEHIND_PROXY=1).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
errorlog = "-"
# No runtime-control socket: it would go to $HOME, which the app user cannot write.
control_socket_disable = True
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")

# Probes that succeed are not worth a log line every few seconds.
QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


class JsonAccessLogger(Logger):
    def access(self, resp, req, environ, request_time):
        if not self.access_log_enabled:
            return
        try:
            status = int(str(resp.status).split(None, 1)[0])
        except ValueError:
            status = 0
        path = environ.get("PATH_INFO", "")
        if path in QUIET_PATHS and status < 400:
            return
        # Not at the top: gunicorn reads this file before it loads the app, and importing the payplug
        # package there would build the Celery app in the master process.
        from payplug.logging import mask_card_numbers  # noqa: PLC0415

        headers = {name.lower(): value for name, value in resp.headers}
        line = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "level": "INFO",
            "logger": "gunicorn.access",
            "method": environ.get("REQUEST_METHOD", ""),
            # The path only: query strings may carry tokens.
            "path": mask_card_numbers(path),
            "status": status,
            "bytes": getattr(resp, "sent", None),
            "duration_ms": round(request_time.total_seconds() * 1000, 1),
            "remote_addr": environ.get("REMOTE_ADDR", ""),
            "request_id": headers.get("x-request-id", "-"),
        }
        try:
            self.access_log.info(json.dumps(line))
        except Exception:
            self.exception("could not write an access log line")


logger_class = JsonAccessLogger


def child_exit(server, worker):
    """Prometheus multi-process mode: forget the live gauges of a worker that exited."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(worker.pid)
