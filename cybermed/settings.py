"""CyberMed settings: one file, driven by environment variables (see .env.example)."""

import importlib.util
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from corsheaders.defaults import default_headers as cors_default_headers
from django.core.exceptions import ImproperlyConfigured

from cybermed import throttle_rates

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return default if value in (None, "") else int(value)


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
# The fallback key lets manage.py and the tests run with no setup; `check --deploy` flags it
# (it starts with "django-insecure-") and cybermed/wsgi.py refuses to serve with it unless DEBUG is on.
INSECURE_DEV_SECRET_KEY = "django-insecure-dev-only-key-change-me-7b1e0c2f4a"
SECRET_KEY = env_str("SECRET_KEY", "") or INSECURE_DEV_SECRET_KEY

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
CORS_ALLOWED_ORIGINS = env_list("CORS_ALLOWED_ORIGINS")
# Browser clients retry POSTs safely with Idempotency-Key and may read whether an answer was a replay.
CORS_ALLOW_HEADERS = (*cors_default_headers, "idempotency-key")
CORS_EXPOSE_HEADERS = ["Idempotent-Replayed", "Retry-After"]

INSTALLED_APPS = [
    # First: makes `runserver` an ASGI server (HTTP and WebSockets on one port) in development.
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "corsheaders",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "simple_history",
    "django_tasks",
    "django_tasks_db",
    "phonenumber_field",
    "users",
    "appointments",
    "calendars",
    "consultations",
    "notifications",
    "reports",
    "payments",
    "messaging",
    "fhir_api",
    "cybermed",  # project-level management commands (seed_demo) and the idempotency keys
]

MIDDLEWARE = [
    "cybermed.middleware.RequestLogMiddleware",
    "cybermed.middleware.NoStoreMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "cybermed.middleware.DatabaseUnavailableMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "cybermed.browser_middleware.SessionMiddleware",
    "cybermed.middleware.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "cybermed.browser_middleware.AuthenticationMiddleware",
    "cybermed.browser_middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
]

ROOT_URLCONF = "cybermed.urls"
WSGI_APPLICATION = "cybermed.wsgi.application"
ASGI_APPLICATION = "cybermed.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# SQLite unless DATABASE_URL is set. However SQLite is reached (the default or a sqlite:// URL), it gets
# the same options: write transactions open with BEGIN IMMEDIATE, so that a check-then-insert inside
# transaction.atomic() is serialized across threads and processes (and a read never has to be upgraded
# to a write, which fails at once instead of waiting); a writer waits up to `timeout` seconds for the
# lock instead of failing with "database is locked"; WAL lets readers run while one writer writes.
# Options given in the URL's query string win.
SQLITE_ENGINE = "django.db.backends.sqlite3"
SQLITE_OPTIONS = {
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL",
}
DATABASE_URL = env_str("DATABASE_URL", "")
# PostgreSQL only: Django's connection pool (psycopg_pool) of up to DB_POOL_MAX_SIZE connections per process; 0
# (the default) keeps one persistent connection per thread (DB_CONN_MAX_AGE). For ASGI servers: they run each
# request's sync code in a thread of its own, so persistent connections pile up and DB_CONN_MAX_AGE=0 opened a
# new connection for every request (the image runs uvicorn with a pool instead).
DB_POOL_MAX_SIZE = env_int("DB_POOL_MAX_SIZE", 0)
DB_PREPARED_STATEMENTS = env_bool("DB_PREPARED_STATEMENTS", True)
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))}
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # Django's backend with a health check that costs no round trip while the socket is quiet, and
        # timestamps read by psycopg's compiled loader (cybermed/db_backends/postgresql/base.py).
        DATABASES["default"]["ENGINE"] = "cybermed.db_backends.postgresql"
        if DB_PREPARED_STATEMENTS:
            # A statement run a fifth time on a connection is prepared: PostgreSQL then plans it once instead of
            # on every request (planning was up to half of a list page's database time, issue 19). Needs
            # server-side binding; turn off behind a pooler that cannot keep prepared statements (PgBouncer
            # before 1.21, or without max_prepared_statements, in transaction mode).
            DATABASES["default"].setdefault("OPTIONS", {}).update(server_side_binding=True, prepare_threshold=5)
    if DB_POOL_MAX_SIZE and DATABASES["default"]["ENGINE"] == "cybermed.db_backends.postgresql":
        # With CONN_HEALTH_CHECKS, Django has the pool check each connection it hands out.
        DATABASES["default"]["CONN_MAX_AGE"] = 0  # the pool keeps them (Django refuses both at once)
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": 1,
            "max_size": DB_POOL_MAX_SIZE,
            "timeout": env_int("DB_POOL_TIMEOUT", 10),
        }
else:
    # Persistent too: opening the file and running the PRAGMAs cost each request about a sixth of a list page's
    # server time (issue 19). DB_CONN_MAX_AGE=0 (set in the image for uvicorn) opens one per request again.
    DATABASES = {
        "default": {
            "ENGINE": SQLITE_ENGINE,
            "NAME": env_str("SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
            "CONN_MAX_AGE": env_int("DB_CONN_MAX_AGE", 60),
        }
    }
if DATABASES["default"]["ENGINE"] == SQLITE_ENGINE:
    DATABASES["default"]["OPTIONS"] = {**SQLITE_OPTIONS, **DATABASES["default"].get("OPTIONS", {})}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "users.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT", 60 * 60 * 24)

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
WHITENOISE_AUTOREFRESH = DEBUG
# Serve app static files (the Swagger UI sidecar, the admin) even where collectstatic has not run.
WHITENOISE_USE_FINDERS = True
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# Media on S3-compatible object storage (AWS S3, MinIO, Ceph, R2, ...) when a bucket is named; the local
# MEDIA_ROOT otherwise. Objects are private and every URL the API returns is signed and expires, because a
# profile picture is personal data: nobody can list the bucket or keep a working link past S3_URL_EXPIRE_SECONDS.
S3_BUCKET = env_str("S3_BUCKET", "")
if S3_BUCKET:
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            "endpoint_url": env_str("S3_ENDPOINT_URL", "") or None,
            "region_name": env_str("S3_REGION", "") or None,
            # Empty: boto3's own chain (AWS_* variables, instance or pod role).
            "access_key": env_str("S3_ACCESS_KEY_ID", "") or None,
            "secret_key": env_str("S3_SECRET_ACCESS_KEY", "") or None,
            "location": env_str("S3_PREFIX", "media"),
            "default_acl": "private",
            "querystring_auth": True,
            "querystring_expire": env_int("S3_URL_EXPIRE_SECONDS", 3600),
            "file_overwrite": False,
            "addressing_style": env_str("S3_ADDRESSING_STYLE", "") or None,  # "path" for most non-AWS servers
            "signature_version": "s3v4",
        },
    }
# Uploads are capped by the profile-picture validator; this keeps a larger body out of memory.
DATA_UPLOAD_MAX_MEMORY_SIZE = 6 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 6 * 1024 * 1024

# --- Product settings -----------------------------------------------------------------------------
ACCOUNT_ACTIVATION_REQUIRED = env_bool("ACCOUNT_ACTIVATION_REQUIRED", True)
DOCTOR_VERIFICATION_REQUIRED = env_bool("DOCTOR_VERIFICATION_REQUIRED", True)
MAX_ACTIVE_APPOINTMENTS_PER_PATIENT = env_int("MAX_ACTIVE_APPOINTMENTS_PER_PATIENT", 10)

# Payments (payments app, PayPal). A patient's booking of a doctor with a fee holds the slot this long.
PAYMENT_HOLD_MINUTES = env_int("PAYMENT_HOLD_MINUTES", 15)
PAYPAL_CLIENT_ID = env_str("PAYPAL_CLIENT_ID", "")
PAYPAL_CLIENT_SECRET = env_str("PAYPAL_CLIENT_SECRET", "")
PAYPAL_WEBHOOK_ID = env_str("PAYPAL_WEBHOOK_ID", "")
PAYPAL_API_BASE = env_str("PAYPAL_API_BASE", "https://api-m.sandbox.paypal.com")
PAYPAL_CONNECT_TIMEOUT_SECONDS = float(env_str("PAYPAL_CONNECT_TIMEOUT_SECONDS", "3"))
PAYPAL_READ_TIMEOUT_SECONDS = float(env_str("PAYPAL_READ_TIMEOUT_SECONDS", "10"))
PAYPAL_MAX_RETRIES = env_int("PAYPAL_MAX_RETRIES", 2)
PAYPAL_RETRY_BACKOFF_SECONDS = float(env_str("PAYPAL_RETRY_BACKOFF_SECONDS", "0.5"))
# Where this server is reached from outside (no trailing slash); emails are sent without a request to take it from.
SITE_URL = (env_str("SITE_URL", "") or "http://127.0.0.1:8000").rstrip("/")
# The integrator's web app. Set: account emails link to {FRONTEND_URL}/activate?uid=&token= and
# {FRONTEND_URL}/reset-password?uid=&token=. Empty: they link to this server's own pages under {SITE_URL}/account/.
FRONTEND_URL = env_str("FRONTEND_URL", "").rstrip("/")

# --- Email ----------------------------------------------------------------------------------------
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", str(BASE_DIR / "sent_emails"))
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "CyberMed <no-reply@cybermed.local>")

# --- Social login (users.social): OpenID Connect ID tokens from these providers ------------------
# A provider is on when it has client ids (comma-separated: web, iOS, Android). The issuer and keys of
# Google and Apple are fixed; the generic `oidc` provider finds its keys by discovery unless given.
SOCIAL_AUTH = {
    "google": {
        "issuer": "https://accounts.google.com,accounts.google.com",
        "client_ids": env_str("GOOGLE_CLIENT_IDS", ""),
        "jwks_url": "https://www.googleapis.com/oauth2/v3/certs",
    },
    "apple": {
        "issuer": "https://appleid.apple.com",
        "client_ids": env_str("APPLE_CLIENT_IDS", ""),
        "jwks_url": "https://appleid.apple.com/auth/keys",
    },
    "oidc": {
        "issuer": env_str("OIDC_ISSUER", ""),
        "client_ids": env_str("OIDC_CLIENT_IDS", ""),
        "jwks_url": env_str("OIDC_JWKS_URL", ""),
        "discovery_url": env_str("OIDC_DISCOVERY_URL", ""),
    },
}
SOCIAL_AUTH_TIMEOUT = env_int("SOCIAL_AUTH_TIMEOUT", 5)

# --- SMS (notifications.sms: backends shaped like Django's email backends) ----------------------
SMS_BACKEND = env_str("SMS_BACKEND", "notifications.sms.backends.console.SmsBackend")
SMS_FILE_PATH = env_str("SMS_FILE_PATH", str(BASE_DIR / "sent_sms"))
TWILIO_API_BASE = env_str("TWILIO_API_BASE", "https://api.twilio.com").rstrip("/")
TWILIO_ACCOUNT_SID = env_str("TWILIO_ACCOUNT_SID", "")
TWILIO_AUTH_TOKEN = env_str("TWILIO_AUTH_TOKEN", "")
TWILIO_FROM_NUMBER = env_str("TWILIO_FROM_NUMBER", "")
TWILIO_TIMEOUT = env_int("TWILIO_TIMEOUT", 10)
# Two-letter country (e.g. GB) for phone numbers typed without +country code; empty: E.164 input only.
PHONENUMBER_DEFAULT_REGION = env_str("PHONENUMBER_DEFAULT_REGION", "") or None
PHONENUMBER_DEFAULT_FORMAT = "E164"

# --- Background tasks (Django's Tasks API through the django-tasks backport) ---------------------
TASKS = {
    "default": {
        "BACKEND": env_str("TASKS_BACKEND", "django_tasks.backends.immediate.ImmediateBackend"),
    }
}

# --- Celery: the production worker and beat (cybermed/celery.py) ----------------------------------
# With TASKS_BACKEND=cybermed.celery_backend.CeleryBackend every enqueued task is a message on this broker
# (redis://host:6379/0 or amqp://user:pass@host:5672//), run by `celery -A cybermed worker`.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "")
# Prepended to every queue name, so that deployments (or test runs) sharing one broker never take each other's tasks.
TASK_QUEUE_PREFIX = env_str("CELERY_QUEUE_PREFIX", "")
CELERY_TASK_DEFAULT_QUEUE = f"{TASK_QUEUE_PREFIX}default"
CELERY_TASK_SERIALIZER = CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True  # nothing reads task results: none are stored, so none need pruning
# One task at a time per worker process: an unacknowledged prefetched message would wait behind a slow one.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Redis: a message taken by a worker that died unacknowledged goes back to the queue after this many seconds.
# It must exceed the longest task (with its retries' countdown it is not counted). RabbitMQ redelivers at once.
# Workers look for such messages every min(10 s, timeout) and scan each time: kombu's default scans every
# tenth look, which would add up to 100 s to the redelivery.
BROKER_VISIBILITY_TIMEOUT = env_int("CELERY_VISIBILITY_TIMEOUT", 3600)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": BROKER_VISIBILITY_TIMEOUT,
    "unacked_restore_interval": max(1, min(10, BROKER_VISIBILITY_TIMEOUT)),
    "unacked_restore_throttle": 1,
}
CELERY_WORKER_HIJACK_ROOT_LOGGER = False  # keep our LOGGING (LOG_FORMAT=json included) in the worker
CELERY_TIMEZONE = "UTC"


def _task_exists(path: str) -> bool:
    """Whether the module of a dotted task path is installed (not imported: settings load before the apps)."""
    try:
        return importlib.util.find_spec(path.rpartition(".")[0]) is not None
    except ModuleNotFoundError:
        return False


# Periodic jobs, run by `celery -A cybermed beat`: name -> (Django Task path, every N seconds). Each job is
# idempotent, so a beat that fires twice (a restart, two beats by mistake) does no harm. A job whose app is
# not installed (payments) is left out of the schedule.
PERIODIC_TASKS = {
    "send-reminders": ("notifications.tasks.send_reminders", env_int("REMINDERS_EVERY_SECONDS", 300)),
    "prune-notifications": ("notifications.tasks.prune_notifications", 24 * 3600),
    "prune-task-results": ("cybermed.tasks.prune_task_results", 24 * 3600),
    "purge-idempotency-keys": ("cybermed.tasks.purge_idempotency_keys", 3600),
    "expire-payment-holds": ("payments.tasks.expire_payment_holds", env_int("PAYMENT_HOLDS_EVERY_SECONDS", 60)),
}
CELERY_BEAT_SCHEDULE = {
    name: {"task": "cybermed.run_task", "schedule": float(every), "kwargs": {"task_path": path}}
    for name, (path, every) in PERIODIC_TASKS.items()
    if _task_exists(path)
}
# Read notifications older than this are deleted by the prune-notifications job; unread ones are kept.
NOTIFICATION_RETENTION_DAYS = env_int("NOTIFICATION_RETENTION_DAYS", 365)
# Finished rows of the database task backend (django_tasks_db, if used instead of Celery) kept this long.
TASK_RESULT_RETENTION_DAYS = env_int("TASK_RESULT_RETENTION_DAYS", 14)

# --- Cache (throttle counters live here, so they must be shared between app servers) -------------
REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "cybermed.redis_pool.RedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"pool_class": "cybermed.redis_pool.SharedConnectionPool"},
        }
    }
else:
    # Django's default of 300 entries is less than one busy doctor's calendar feed caches (one VEVENT per
    # appointment): the feed would cull its own events and render every one again on each change.
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "OPTIONS": {"MAX_ENTRIES": 20_000}}
    }


# --- Real time (Django Channels; see docs/realtime.md) ----------------------------------------------
# Redis pub/sub when REDIS_URL is set, so that a push reaches sockets on every app server; in memory
# otherwise (one process: `python3 dev.py run` and the tests).
if REDIS_URL:
    # Redis pub/sub channels are global to the server (not per database number): the prefix keeps two
    # deployments (or two test runs) that share one Redis apart.
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": env_str("CHANNEL_LAYER_PREFIX", "cybermed")},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
# Under an ASGI server, HTTP requests run in a pool of this many threads per process (cybermed/asgi.py): the
# requests one process works on at once. Keep it at or under DB_POOL_MAX_SIZE, or threads wait for connections.
ASGI_HTTP_THREADS = env_int("ASGI_HTTP_THREADS", 8)
# Per socket, inbound frames: a bucket of WS_INBOUND_BURST frames refilled at WS_INBOUND_PER_SECOND;
# a client that empties it (typing or ping floods) is closed with 4429.
WS_INBOUND_BURST = env_int("WS_INBOUND_BURST", 20)
WS_INBOUND_PER_SECOND = env_int("WS_INBOUND_PER_SECOND", 2)
# The largest client frame accepted (4400 otherwise); client frames are small JSON (a JWT at most).
WS_MAX_FRAME_BYTES = env_int("WS_MAX_FRAME_BYTES", 4096)
# A recipient with no open socket gets an email ("You have a new message from Dr X") this long after
# a message, unless they read it meanwhile.
MESSAGE_EMAIL_DELAY_SECONDS = env_int("MESSAGE_EMAIL_DELAY_SECONDS", 120)


# --- REST framework -------------------------------------------------------------------------------
THROTTLE_RATES = throttle_rates.rates(os.environ)  # scopes and defaults: cybermed/throttle_rates.py
NUM_PROXIES = env_int("NUM_PROXIES", 0)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["users.authentication.JWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": ["cybermed.api.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # ASCII-escaped JSON: an error message that echoes a lone surrogate from the input cannot fail to encode.
    "UNICODE_JSON": False,
    "DEFAULT_FILTER_BACKENDS": [
        "cybermed.api.filters.FilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "cybermed.api.pagination.StandardPagination",
    "PAGE_SIZE": 20,
    "DEFAULT_THROTTLE_CLASSES": [
        "cybermed.api.throttles.AnonThrottle",
        "cybermed.api.throttles.UserThrottle",
        "cybermed.api.throttles.ScopedThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": THROTTLE_RATES,
    "NUM_PROXIES": NUM_PROXIES,
    "EXCEPTION_HANDLER": "cybermed.api.exceptions.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "cybermed.api.schema.AutoSchema",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}

# How long an authenticated user is kept in the cache between requests (users/user_cache.py); 0 turns it off.
AUTH_USER_CACHE_SECONDS = env_int("AUTH_USER_CACHE_SECONDS", 30)

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=env_int("JWT_ACCESS_MINUTES", 10)),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=env_int("JWT_REFRESH_DAYS", 7)),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "ALGORITHM": "HS256",
    "SIGNING_KEY": env_str("JWT_SIGNING_KEY", SECRET_KEY),
    "AUTH_HEADER_TYPES": ("Bearer",),
}

SPECTACULAR_SETTINGS = {
    "TITLE": "CyberMed API",
    "DESCRIPTION": "Healthcare appointments: accounts, doctor directory, availability, appointments, "
    "consultations, notifications and messaging. Authenticate with `Authorization: Bearer <access JWT>`.\n\n"
    "Live updates (new messages, read receipts, typing, notifications) come over the WebSocket `/ws/v1/`, "
    "which OpenAPI cannot describe: its protocol is in "
    "[docs/realtime.md](/api/docs/realtime/) (also `docs/realtime.md` in the source tree).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_SETTINGS": {"persistAuthorization": True},
}

# --- Security -------------------------------------------------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("TRUST_PROXY_SSL_HEADER", False) else None
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
SECURE_REDIRECT_EXEMPT = [r"^api/health/$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", SECURE_HSTS_SECONDS > 0)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", SECURE_HSTS_SECONDS > 0)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", False)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# plain: one readable line per record (the default); json: one JSON object per line (cybermed/logs.py).
LOG_FORMAT = env_str("LOG_FORMAT", "plain").strip().lower()
if LOG_FORMAT not in {"plain", "json"}:
    raise ImproperlyConfigured(f"LOG_FORMAT must be plain or json, not {LOG_FORMAT!r}")

# Every record carries the request id (cybermed.middleware); `cybermed.access` writes one line per
# request with method, path, status, duration and user id, never bodies, tokens or query strings.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "cybermed.middleware.RequestIDFilter"},
        "redact_secret_paths": {"()": "cybermed.middleware.RedactSecretPathsFilter"},
        "quiet_ordinary_client_errors": {"()": "cybermed.middleware.QuietOrdinaryClientErrorsFilter"},
    },
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
        "json": {"()": "cybermed.logs.JSONFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "filters": ["request_id"]}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Logger filters (not handler filters), so that every handler, test capture included, gets the redacted line.
        "django.request": {"filters": ["quiet_ordinary_client_errors", "redact_secret_paths"]},
        "django.server": {"filters": ["redact_secret_paths"]},
    },
}
