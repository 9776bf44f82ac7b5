"""Settings, read top to bottom.

Every value comes from the environment (django-environ). An empty environment gives
the embedded mode: SQLite file, Celery tasks run eagerly in-process, local-memory
cache. Production sets DATABASE_URL (MySQL), REDIS_URL / CELERY_BROKER_URL, a real
SECRET_KEY and the card key ring; with DEBUG off the process refuses to start
without the last two.
"""

import tempfile
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from payplug import addresses

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
env_file = env.str("ENV_FILE", default=str(BASE_DIR / ".env"))
if Path(env_file).is_file():
    environ.Env.read_env(env_file)

DEFAULT_SECRET_KEY = "insecure-development-key-change-me"

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default=DEFAULT_SECRET_KEY)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
# Absolute base of the links we hand out (hosted payment pages, emails).
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")

# --- Card-encryption key ring (the KMS analogue) ---------------------------------
# CARD_KEYS="1:<base64 32 bytes>,2:<base64 32 bytes>" or CARD_KEYS_FILE=/path/keys.json
# ({"1": "<base64>", "2": "<base64>"}). The highest version wraps new data keys;
# older versions stay to unwrap until `manage.py rotate_keys` has re-wrapped them.
CARD_KEYS = env.str("CARD_KEYS", default="")
CARD_KEYS_FILE = env.str("CARD_KEYS_FILE", default="")
# Keyed hash for card fingerprints; derived from the key ring when not set.
CARD_FINGERPRINT_KEY = env.str("CARD_FINGERPRINT_KEY", default="")

if not DEBUG:
    if SECRET_KEY == DEFAULT_SECRET_KEY or len(SECRET_KEY) < 32:
        raise ImproperlyConfigured("SECRET_KEY must be set to a random value of 32+ characters when DEBUG is off.")
    if not (CARD_KEYS or CARD_KEYS_FILE):
        raise ImproperlyConfigured("The card key ring is empty: set CARD_KEYS or CARD_KEYS_FILE when DEBUG is off.")

# --- Applications -----------------------------------------------------------------
INSTALLED_APPS = [
    # django.contrib.admin, with a default site that requires a verified OTP device (staff 2FA).
    "merchants.apps.PlatformAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's files, served from static/ (dashboard API reference)
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "payplug",
    "merchants",
    "notifications",
    "payments",
    "fraud",
    "associations",
]

MIDDLEWARE = [
    "payplug.middleware.RequestIdMiddleware",
    "payplug.middleware.MetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "merchants.middleware.DashboardContextMiddleware",
    # Last, so that a locked-out login answers before the view runs.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "payplug.urls"
WSGI_APPLICATION = "payplug.wsgi.application"
ASGI_APPLICATION = "payplug.asgi.application"
AUTH_USER_MODEL = "merchants.User"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "merchants.context_processors.dashboard",
            ],
            # `local_datetime` / `local_date` in every template: one date format (payplug.dates).
            "builtins": ["payplug.templatetags.dates"],
        },
    },
]

# --- Database ----------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
_db = DATABASES["default"]
if _db["ENGINE"] == "django.db.backends.mysql":
    _db.setdefault("OPTIONS", {})
    _db["OPTIONS"].setdefault("charset", "utf8mb4")
    # READ COMMITTED: locking reads see the latest committed row, as our services expect.
    _db["OPTIONS"].setdefault("isolation_level", "read committed")
    _db["CONN_MAX_AGE"] = env.int("DB_CONN_MAX_AGE", default=60)
    _db["CONN_HEALTH_CHECKS"] = True
    _db.setdefault("TEST", {"CHARSET": "utf8mb4", "COLLATION": "utf8mb4_bin"})
elif _db["ENGINE"] == "django.db.backends.sqlite3":
    _db.setdefault("OPTIONS", {})
    # Writers wait for each other instead of failing with "database is locked".
    _db["OPTIONS"].setdefault("timeout", 20)
    _db["OPTIONS"].setdefault("transaction_mode", "IMMEDIATE")
    _db["OPTIONS"].setdefault("init_command", "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")
# Read replica for the dashboard, when configured (see payplug.routers).
if env.str("DATABASE_REPLICA_URL", default=""):
    DATABASES["replica"] = env.db("DATABASE_REPLICA_URL")
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
    DATABASE_ROUTERS = ["payplug.routers.ReplicaRouter"]

# --- Cache, Redis and Celery ----------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="pp"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
# At least once: a task is acknowledged after it ran, and redelivered if the worker dies.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A task running when the broker connection drops finishes; its acknowledgement fails and the
# message comes back after the visibility timeout, which the idempotent tasks absorb.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
if CELERY_BROKER_URL.startswith("redis://"):
    # kombu's Redis transport, minus a worker crash when Redis restarts (see payplug/broker.py).
    CELERY_BROKER_TRANSPORT = "payplug.broker:Transport"
CELERY_TIMEZONE = "UTC"
# Beat's own state (when each periodic task last ran): outside the source tree. The Docker image
# passes --schedule (CELERY_BEAT_SCHEDULE_FILE) to a volume of its own.
CELERY_BEAT_SCHEDULE_FILENAME = env.str(
    "CELERY_BEAT_SCHEDULE_FILE", default=str(Path(tempfile.gettempdir()) / "payplatform-celerybeat-schedule")
)
CELERY_BEAT_SCHEDULE: dict = {
    "reconcile-pending-authorizations": {"task": "payments.reconcile_pending", "schedule": 30.0},
    "expire-payments": {"task": "payments.expire_due", "schedule": 60.0},
    # Installment plans: claims each due installment by compare-and-set, so runs may overlap.
    "payments-charge-due-installments": {"task": "payments.charge_due_installments", "schedule": 60.0},
    # Subscriptions: one card-expiry email per card and expiry (compare-and-set), so runs may overlap.
    "payments-warn-expiring-subscription-cards": {
        "task": "payments.warn_expiring_subscription_cards",
        "schedule": 86400.0,
    },
    # Subscriptions: a week before a yearly charge, one reminder email (compare-and-set per charge).
    "payments-remind-upcoming-subscription-charges": {
        "task": "payments.remind_upcoming_subscription_charges",
        "schedule": 3600.0,
    },
    # Subscriptions: the same engine (payments.recurring), the same compare-and-set.
    "payments-charge-due-subscriptions": {"task": "payments.charge_due_subscriptions", "schedule": 60.0},
    "purge-idempotency-keys": {"task": "payments.purge_idempotency_keys", "schedule": 3600.0},
    "fraud-resolve-due-reviews": {"task": "fraud.resolve_due_reviews", "schedule": 60.0},
    # Re-queues events never dispatched and deliveries whose task was lost (at least once).
    "notifications-sweep": {"task": "notifications.sweep", "schedule": 15.0},
    # Hourly, but each member gets yesterday's summary once (the first run after midnight UTC).
    "notifications-daily-summaries": {"task": "notifications.send_daily_summaries", "schedule": 3600.0},
    # Merchant money (issue 7). Settlement is cumulative and payouts are unique per merchant and
    # day, so every run is safe to repeat; the payout job runs hourly and pays each merchant once a day.
    "payments-settle-due": {"task": "payments.settle_due", "schedule": 600.0},
    "payments-run-payouts": {"task": "payments.run_payouts", "schedule": 3600.0},
    "payments-confirm-sandbox-payouts": {"task": "payments.confirm_sandbox_payouts", "schedule": 300.0},
    "payments-open-due-chargebacks": {"task": "payments.open_due_chargebacks", "schedule": 30.0},
    "payments-expire-overdue-disputes": {"task": "payments.expire_overdue_disputes", "schedule": 3600.0},
    # Each dispute's reminder (3 days before its deadline) and lost "dispute opened" emails, once each.
    "payments-send-dispute-emails": {"task": "payments.send_dispute_emails", "schedule": 900.0},
    "payments-generate-pending-reports": {"task": "payments.generate_pending_reports", "schedule": 120.0},
    # Accounting report files are deleted once their 24 hours are over (the link already refuses them).
    "payments-delete-expired-report-files": {"task": "payments.delete_expired_report_files", "schedule": 600.0},
}

# --- Security -----------------------------------------------------------------------
SECURE_HTTPS = env.bool("SECURE_HTTPS", default=not DEBUG)
SESSION_COOKIE_SECURE = SECURE_HTTPS
CSRF_COOKIE_SECURE = SECURE_HTTPS
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=12 * 3600)
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# HSTS is only sent over HTTPS; behind a TLS-terminating proxy trust its header.
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if SECURE_HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
if env.bool("BEHIND_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = True
# Never redirect plain HTTP (an API client would resend its key in clear); the proxy does it for pages.
SECURE_SSL_REDIRECT = False
# §1 of the API spec: an operator switch to refuse non-HTTPS API calls.
API_REQUIRE_HTTPS = env.bool("API_REQUIRE_HTTPS", default=False)

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard:home"
LOGOUT_REDIRECT_URL = "login"

# Brute-force protection: lock an (email, IP) pair after 5 failures for 30 minutes.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.5)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
AXES_ENABLED = env.bool("AXES_ENABLED", default=True)

OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="PayPlatform")

# --- Internationalisation -------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("fr", _("French")), ("it", _("Italian")), ("es", _("Spanish"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
# The platform's date formats, one per language (payplug/formats/<language>/formats.py).
FORMAT_MODULE_PATH = ["payplug.formats"]
USE_I18N = True
USE_TZ = True

# --- Static and media -----------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(BASE_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# --- Email --------------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://" if DEBUG else "smtp://localhost:25")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="PayPlatform <no-reply@payplatform.test>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- REST API -------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["merchants.authentication.SecretKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["merchants.authentication.IsMerchant"],
    "DEFAULT_RENDERER_CLASSES": ["payplug.api.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["payplug.api.AnyJSONParser"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "payplug.api.JSONNegotiation",
    "EXCEPTION_HANDLER": "payplug.api.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_THROTTLE_CLASSES": [],
}
SPECTACULAR_SETTINGS = {
    "TITLE": "PayPlatform API v1",
    "DESCRIPTION": "PayPlug API v1 compatible REST API. Authenticate with `Authorization: Bearer sk_test_...`.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": "/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "payments.api.schema.strip_trailing_slashes",
    ],
}
API_MAX_BODY_BYTES = 64 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# --- Logging --------------------------------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOG_FORMAT = env.str("LOG_FORMAT", default="json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "payplug.logging.RequestIdFilter"},
        "mask_cards": {"()": "payplug.logging.CardNumberMaskingFilter"},
    },
    "formatters": {
        "json": {"()": "payplug.logging.JsonFormatter"},
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT if LOG_FORMAT in ("json", "plain") else "json",
            "filters": ["request_id", "mask_cards"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
    },
}

# --- Platform behaviour -----------------------------------------------------------------
# §12 of the API spec / issue 5: deliveries to private networks in test mode (make run turns it on).
NOTIFICATIONS_ALLOW_PRIVATE_NETWORKS = env.bool("NOTIFICATIONS_ALLOW_PRIVATE_NETWORKS", default=False)
# With it, loopback (127.0.0.0/8, ::1) only on these ports; link-local and metadata never (issue 12).
NOTIFICATIONS_ALLOWED_LOOPBACK_PORTS = env.list("NOTIFICATIONS_ALLOWED_LOOPBACK_PORTS", cast=int, default=[])
# Live acquirer endpoint (payments.acquirers.http); test mode always uses the sandbox.
LIVE_ACQUIRER = env.str("LIVE_ACQUIRER", default="sandbox")
ACQUIRER_URL = env.str("ACQUIRER_URL", default="")
ACQUIRER_API_KEY = env.str("ACQUIRER_API_KEY", default="")
ACQUIRER_TIMEOUT_SECONDS = env.float("ACQUIRER_TIMEOUT_SECONDS", default=10.0)
# Provider endpoints of the per-merchant connectors (payments.acquirers.routing): the providers' own
# by default; an egress proxy or a local stand-in otherwise. https://, or http:// to a loopback host.
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="https://api.stripe.com")
ADYEN_CHECKOUT_TEST_URL = env.str("ADYEN_CHECKOUT_TEST_URL", default="https://checkout-test.adyen.com")
# {prefix}: the merchant's live URL prefix (AcquirerConnector.live_url_prefix).
ADYEN_CHECKOUT_LIVE_URL_TEMPLATE = env.str(
    "ADYEN_CHECKOUT_LIVE_URL_TEMPLATE", default="https://{prefix}-checkout-live.adyenpayments.com/checkout"
)
ADYEN_MANAGEMENT_TEST_URL = env.str("ADYEN_MANAGEMENT_TEST_URL", default="https://management-test.adyen.com")
ADYEN_MANAGEMENT_LIVE_URL = env.str("ADYEN_MANAGEMENT_LIVE_URL", default="https://management-live.adyen.com")


def validate_acquirer_urls(values: dict) -> None:
    """ImproperlyConfigured, naming the setting, for a provider URL that is not https:// (or
    http:// to a loopback host), or a live URL template without its {prefix}."""
    for name in (
        "STRIPE_API_BASE",
        "ADYEN_CHECKOUT_TEST_URL",
        "ADYEN_CHECKOUT_LIVE_URL_TEMPLATE",
        "ADYEN_MANAGEMENT_TEST_URL",
        "ADYEN_MANAGEMENT_LIVE_URL",
    ):
        value = values[name]
        if name.endswith("_TEMPLATE"):
            if value.count("{prefix}") != 1 or value.replace("{prefix}", "").count("{"):
                raise ImproperlyConfigured(f"{name} must contain {{prefix}} once (and no other braces).")
            value = value.replace("{prefix}", "prefix")
        addresses.checked_base_url(value, name, ImproperlyConfigured)


validate_acquirer_urls(globals())
# Rate limits of the API (§15): token bucket per key.
API_RATE_LIMIT_PER_SECOND = env.float("API_RATE_LIMIT_PER_SECOND", default=100.0)
API_RATE_LIMIT_BURST = env.int("API_RATE_LIMIT_BURST", default=200)
# Each web process reuses the API keys it has authenticated while Redis says nothing changed
# (merchants/keycache.py). Only with Redis; False reads every key from the database.
API_KEY_CACHE = env.bool("API_KEY_CACHE", default=True)
EMAIL_VERIFICATION_MAX_AGE = 3 * 24 * 3600
INVITATION_MAX_AGE_DAYS = 7
API_KEY_ROLL_GRACE_HOURS = env.int("API_KEY_ROLL_GRACE_HOURS", default=24)
# /metrics is not public. With METRICS_TOKEN set, a scraper must send `Authorization: Bearer
# <token>`; without it, only METRICS_ALLOWED_IPS (addresses or networks) and, unless
# METRICS_ALLOW_PRIVATE is off, private networks (10/8, 172.16/12, 192.168/16, fc00::/7) may
# read it. Every address of X-Forwarded-For / X-Real-IP / Forwarded must be allowed too.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_ALLOWED_IPS = env.list("METRICS_ALLOWED_IPS", default=["127.0.0.1", "::1"])
METRICS_ALLOW_PRIVATE = env.bool("METRICS_ALLOW_PRIVATE", default=True)

# --- Money: payouts, disputes, checkout limits ----------------------------------------
# The platform's own account that SEPA payout batches are debited from (pain.001 debtor).
PAYOUT_DEBTOR_NAME = env.str("PAYOUT_DEBTOR_NAME", default="PayPlatform SAS")
PAYOUT_DEBTOR_IBAN = env.str("PAYOUT_DEBTOR_IBAN", default="FR7630006000011234567890189")
PAYOUT_DEBTOR_BIC = env.str("PAYOUT_DEBTOR_BIC", default="AGRIFRPPXXX")
# Test mode: when the sandbox confirms payouts, and how long after capture its chargeback card disputes.
SANDBOX_PAYOUT_CONFIRM_MINUTES = env.int("SANDBOX_PAYOUT_CONFIRM_MINUTES", default=10)
SANDBOX_CHARGEBACK_DELAY_SECONDS = env.int("SANDBOX_CHARGEBACK_DELAY_SECONDS", default=300)
# Card-testing protection on the hosted page (per hour).
CHECKOUT_CARD_LIMIT_PER_PAYMENT = env.int("CHECKOUT_CARD_LIMIT_PER_PAYMENT", default=10)
CHECKOUT_CARD_LIMIT_PER_IP = env.int("CHECKOUT_CARD_LIMIT_PER_IP", default=30)
CHECKOUT_CREATE_LIMIT_PER_IP = env.int("CHECKOUT_CREATE_LIMIT_PER_IP", default=60)
