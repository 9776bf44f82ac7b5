"""Settings for the test suite: the production settings with safe, fast test values.

DATABASE_URL and REDIS_URL pass through, so `make test` runs on SQLite by default and on
MariaDB + Redis when CI points at them.
"""

import os
import tempfile
from pathlib import Path

os.environ.setdefault("SECRET_KEY", "test-secret-key-0123456789abcdefghijklmnopqrstuvwxyz")
os.environ.setdefault("CARD_KEYS", "1:" + "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("SECURE_HTTPS", "0")
os.environ.setdefault("LOG_FORMAT", "plain")
os.environ.setdefault("ENV_FILE", "/nonexistent")

from payplug.settings import *  # noqa: F403
from payplug.settings import STORAGES

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
AXES_ENABLED = True
NOTIFICATIONS_ALLOW_PRIVATE_NETWORKS = False

# Tasks run in-process in the test suite even when REDIS_URL gives a broker: the suite has no
# worker. Tests that exercise a real broker and worker switch this off for themselves.
CELERY_TASK_ALWAYS_EAGER = True

# Files the tests write (logos, dispute evidence, accounting reports) stay out of the source tree.
MEDIA_ROOT = Path(tempfile.gettempdir()) / "payplatform-test-media"
