"""Settings of the processes the redis-marked tests start (a real Celery worker, a publisher).

The test settings, plus what only these tests need: a database file shared by the processes
(DATABASE_URL), a key prefix so the worker only sees this test's messages even on a shared Redis
database, fast message recovery and a fast sweeper (the production values are hours and minutes),
and deliveries to the loopback receiver.
"""

import os

from payplug.test_settings import *  # noqa: F403

CELERY_BROKER_TRANSPORT_OPTIONS = {
    "global_keyprefix": os.environ.get("E2E_KEY_PREFIX", "e2e:"),
    # A message whose worker died is handed out again after this many seconds (acks_late).
    "visibility_timeout": float(os.environ.get("E2E_VISIBILITY_TIMEOUT", "3600")),
    "unacked_restore_interval": 1,
    "unacked_restore_throttle": 1,
}
CELERY_BEAT_SCHEDULE = {
    "notifications-sweep": {
        "task": "notifications.sweep",
        "schedule": 1.0,
        "kwargs": {"grace_seconds": 1, "requeue_after_seconds": 3},
    },
}
NOTIFICATIONS_ALLOW_PRIVATE_NETWORKS = True
# The test settings run tasks in-process; these processes talk to the real broker.
CELERY_TASK_ALWAYS_EAGER = False
