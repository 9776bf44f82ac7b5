"""Wait until the database (and the Celery broker, when one is configured) answer.

The docker entrypoint runs it before `migrate` and before starting gunicorn, a worker or
beat, so that a container started together with MySQL and Redis does not crash-loop
while they boot. Exits 0 once every service answered, 1 after `--timeout` seconds.
"""

import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from payplug.views import check_broker, check_database, run_checks

# One attempt may not take longer than this, whatever the client library's own timeouts.
ATTEMPT_TIMEOUT_SECONDS = 5.0


class Command(BaseCommand):
    help = "Wait until the database and the Celery broker (when configured) answer."
    # Nothing to check before waiting, and the database may not answer yet.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--timeout", type=float, default=60.0, help="give up after this many seconds (60)")
        parser.add_argument("--interval", type=float, default=1.0, help="seconds between two attempts (1)")

    def handle(self, *args, timeout, interval, **options):
        pending = {"database": check_database}
        if settings.CELERY_BROKER_URL:
            pending["broker"] = check_broker
        deadline = time.monotonic() + timeout
        attempt = 0
        while True:
            attempt += 1
            remaining = deadline - time.monotonic()
            errors = {}
            results = run_checks(pending, max(0.1, min(ATTEMPT_TIMEOUT_SECONDS, remaining)), errors, log=False)
            for name, status in results.items():
                if status == "ok":
                    self.stdout.write(f"{name}: ok")
                    del pending[name]
            if not pending:
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                failing = "; ".join(f"{name}: {errors.get(name, results[name])}" for name in pending)
                raise CommandError(f"Gave up after {timeout:g}s ({attempt} attempts). {failing}")
            if attempt == 1 or attempt % 10 == 0:
                for name in pending:
                    self.stderr.write(f"waiting for {name} ({remaining:.0f}s left): {errors.get(name, results[name])}")
            time.sleep(min(interval, remaining))
