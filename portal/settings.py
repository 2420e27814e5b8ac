"""Settings, all from environment variables (README "Configuration")."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import sys
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp import constants as csp_constants
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from portal import services_env

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(os.environ.get("PORTAL_DATA_DIR", BASE_DIR / ".data"))


def env_bool(name: str, default: bool = False) -> bool:
    return os.environ.get(name, str(default)).strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def _dev_secret_key() -> str:
    """A secret generated once into .data/ so sessions survive restarts in development."""
    path = DATA_DIR / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


def _secret_from_env(name: str) -> str:
    """``NAME`` itself, else the contents of the file named by ``NAME_FILE`` (a mounted secret)."""
    value = os.environ.get(name, "")
    if not value and os.environ.get(f"{name}_FILE"):
        value = Path(os.environ[f"{name}_FILE"]).read_text()
    return value.strip()


def _dev_audit_key() -> str:
    """Like the SECRET_KEY: generated once into .data/ for development (docs/security.md)."""
    path = DATA_DIR / "audit_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


TESTING = "pytest" in sys.modules or os.environ.get("PORTAL_TESTING") == "1"
DEBUG = env_bool("DEBUG")
SECRET_KEY = os.environ.get("SECRET_KEY") or _dev_secret_key()
ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", "127.0.0.1,localhost" + (",testserver" if TESTING else "")
)
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "portal.ops",  # first: its migrate/flush commands wrap Django's (owner role)
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # swagger-ui/redoc served by the portal, not a CDN
    "csp",
    "guardian",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "portal.accounts",
    "portal.tenancy",
    "portal.audit",
    "partnerships",
    "compliance",
]

MIDDLEWARE = [
    "portal.middleware.ApiErrorMiddleware",  # outermost: API errors are JSON, always
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "portal.middleware.RequestContextMiddleware",
    "portal.middleware.BodyLimitMiddleware",  # before anything reads the body
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "portal.middleware.IdleTimeoutMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "portal.accounts.two_factor.StaffTwoFactorMiddleware",
    "portal.middleware.ActorContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
    "portal.ui.middleware.PortalNotFoundMiddleware",
]
# What only a browser session uses: API requests that carry a token skip these (a shorter
# chain, portal.handlers; the rest of MIDDLEWARE runs for them in the same order).
PORTAL_BROWSER_ONLY_MIDDLEWARE = [
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "portal.middleware.IdleTimeoutMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "portal.accounts.two_factor.StaffTwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "portal.ui.middleware.PortalNotFoundMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"
AUTH_USER_MODEL = "accounts.User"

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
                "portal.context_processors.portal",
            ],
            # num/money/day/moment/country filters and the error tags on every page.
            "builtins": ["portal.ui.tags"],
        },
    }
]

# --- Services -----------------------------------------------------------------------------
SERVICES = services_env.resolve(testing=TESTING)
# Which database role this process logs in as (docs/rls.md, "Scope widening"): the web role
# (DATABASE_URL) for gunicorn (portal.wsgi/asgi set PORTAL_PROCESS=web), the worker role
# (DATABASE_WORKER_URL, defaults to DATABASE_URL) for Celery, beat, manage.py and the tests,
# which act for the whole programme outside requests.
PORTAL_PROCESS = "web" if os.environ.get("PORTAL_PROCESS") == "web" else "worker"
DATABASE_WEB = dj_database_url.parse(SERVICES["DATABASE_URL"])
DATABASE_WORKER = dj_database_url.parse(SERVICES["DATABASE_WORKER_URL"])
if any(DATABASE_WORKER.get(k) != DATABASE_WEB.get(k) for k in ("NAME", "HOST", "PORT")):
    # Only the role differs: a DATABASE_URL pointed elsewhere without its worker URL would
    # otherwise send the workers and commands to the old database.
    raise ImproperlyConfigured(
        "DATABASE_WORKER_URL must name the same server and database as DATABASE_URL"
    )
DATABASES = {
    "default": {
        **dj_database_url.parse(
            SERVICES["DATABASE_URL" if PORTAL_PROCESS == "web" else "DATABASE_WORKER_URL"],
            # Tests: close per request, so live-server threads leave no session behind.
            conn_max_age=0 if TESTING else 60,
            conn_health_checks=True,
        ),
        # Django's backend with psycopg's C loader for timestamps (portal/postgresql/base.py).
        "ENGINE": "portal.postgresql",
        "ATOMIC_REQUESTS": False,
        # PORTAL_TEST_DB lets several test runs share one server without colliding.
        "TEST": {"NAME": os.environ.get("PORTAL_TEST_DB") or None},
    }
}
# Migrations (and test-database setup) connect as the owner role; see portal.ops.owner.
DATABASE_OWNER = dj_database_url.parse(SERVICES["DATABASE_OWNER_URL"])
DATABASE_APP = dict(DATABASES["default"])  # frozen copy: as_owner swaps the live one
REDIS_URL = SERVICES["REDIS_URL"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": services_env.redis_py_url(REDIS_URL),
        "KEY_PREFIX": "portal-test" if TESTING else "portal",
    }
}
SESSION_ENGINE = "django.contrib.sessions.backends.db"

# --- Celery -------------------------------------------------------------------------------
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 600)}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_DEFAULT_QUEUE = "portal"
CELERY_BEAT_SCHEDULE: dict[str, dict] = {
    "deliver-outbox": {"task": "partnerships.deliver_outbox", "schedule": 60.0},
    "mark-overdue-work": {"task": "partnerships.mark_overdue", "schedule": 900.0},
    "mark-overdue-tranches": {"task": "partnerships.mark_overdue_tranches", "schedule": 3600.0},
    "sweep-screening": {"task": "compliance.sweep_screening", "schedule": 60.0},
    "audit-checkpoint": {
        "task": "audit.write_checkpoint",
        "schedule": float(env_int("PORTAL_AUDIT_CHECKPOINT_SECONDS", 3600)),
    },
}
CELERY_TIMEZONE = "UTC"

# --- Auth ---------------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # Account-wide rising delays, whatever the address (portal.accounts.throttle).
    "portal.accounts.throttle.AccountDelayBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if TESTING:
    # Argon2 is deliberately slow; tests hash many throwaway passwords.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_HTTP_RESPONSE_CODE = 429
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_LOCKOUT_CALLABLE = "portal.accounts.views.locked_out"
AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]

# Programme staff and country admins sign in with a second factor (TOTP): "required"
# (default) or "off". Tests switch it on where they test it (tests/portal/test_two_factor.py).
PORTAL_STAFF_2FA = os.environ.get("PORTAL_STAFF_2FA", "off" if TESTING else "required")
# The roles that require it (DESIGN §5b); officials may enrol one, they are not made to.
PORTAL_2FA_ROLES = frozenset(
    env_list(
        "PORTAL_2FA_ROLES",
        "country_admin,reviewer,security_reviewer,compliance_officer,us_coordinator,approver,"
        "auditor,platform_admin",
    )
)
# Account-wide brute-force limit (portal.accounts.throttle): after this many failures in a
# row, whatever the address, each next attempt waits 2, 4, 8 … seconds, at most the cap.
PORTAL_ACCOUNT_FREE_FAILURES = env_int("PORTAL_ACCOUNT_FREE_FAILURES", 10)
PORTAL_ACCOUNT_MAX_DELAY_SECONDS = env_int("PORTAL_ACCOUNT_MAX_DELAY_SECONDS", 300)
PORTAL_INVITATION_DAYS = env_int("PORTAL_INVITATION_DAYS", 7)
PORTAL_ENROLMENT_LINK_DAYS = env_int("PORTAL_ENROLMENT_LINK_DAYS", 3)
PORTAL_TOKEN_TTL_HOURS = env_int("PORTAL_TOKEN_TTL_HOURS", 10)
KNOX_TOKEN_MODEL = "accounts.ApiToken"  # noqa: S105 - a model name, not a secret
# knox's own migrations build its default token table, unused once swapped for ApiToken.
MIGRATION_MODULES = {"knox": None}
REST_KNOX = {
    "TOKEN_TTL": timedelta(hours=PORTAL_TOKEN_TTL_HOURS),
    "AUTH_HEADER_PREFIX": "Token",
    "TOKEN_LIMIT_PER_USER": None,
    "AUTO_REFRESH": False,
}
PASSWORD_RESET_TIMEOUT = env_int("PASSWORD_RESET_TIMEOUT", 3 * 3600)
OTP_TOTP_ISSUER = os.environ.get("OTP_TOTP_ISSUER", "Country Partnership Portal")

GUARDIAN_RAISE_403 = False
ANONYMOUS_USER_NAME = None  # guardian: no anonymous user row

# --- Security (strict unless DEBUG) -------------------------------------------------------
SECURE_COOKIES = env_bool("SECURE_COOKIES", not DEBUG)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
# Under TLS the cookies are __Host- cookies: Secure, path /, no Domain, so no sibling
# subdomain can set or overwrite them.
SESSION_COOKIE_NAME = "__Host-sessionid" if SECURE_COOKIES else "sessionid"
CSRF_COOKIE_NAME = "__Host-csrftoken" if SECURE_COOKIES else "csrftoken"
# Signed out after this long without a request (the session's absolute life is
# SESSION_COOKIE_AGE).
PORTAL_IDLE_MINUTES = env_int("PORTAL_IDLE_MINUTES", 30)
# A refusal (403) is recorded as security.denied once per person (or address) and path in
# this window.
PORTAL_DENIED_EVENT_SECONDS = env_int("PORTAL_DENIED_EVENT_SECONDS", 600)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_HSTS_SECONDS = 0 if DEBUG else env_int("SECURE_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
# Redirect http to https here unless the TLS proxy already does (then say so: the check
# below is silenced only with PORTAL_TLS_REDIRECT_BY_PROXY=1).
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG and not TESTING)
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]  # probes speak plain HTTP inside
SILENCED_SYSTEM_CHECKS = ["security.W008"] if env_bool("PORTAL_TLS_REDIRECT_BY_PROXY") else []
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_TLS_PROXY") else None
)
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("MAX_REQUEST_BYTES", 2 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# Content-Security-Policy (django-csp): scripts and styles only from the portal itself, each
# tag carrying the per-response nonce; no inline script or style, no eval, no framing.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [csp_constants.SELF],
        "script-src": [csp_constants.SELF, csp_constants.NONCE],
        "style-src": [csp_constants.SELF, csp_constants.NONCE],
        "img-src": [csp_constants.SELF, "data:"],  # the 2FA enrolment QR code is a data: URI
        "font-src": [csp_constants.SELF],
        "connect-src": [csp_constants.SELF],
        "object-src": [csp_constants.NONE],
        "base-uri": [csp_constants.NONE],
        "form-action": [csp_constants.SELF],
        "frame-ancestors": [csp_constants.NONE],
    },
}

# --- I18N ---------------------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", _("English")),
    ("ja", _("Japanese")),
    ("fr", _("French")),
    ("es", _("Spanish")),
    ("ar", _("Arabic")),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"

# --- Static and media ---------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", DATA_DIR / "staticfiles"))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", DATA_DIR / "media"))
STORAGES = {
    # Attachments go through the storage API; django-storages' S3 backend replaces this by
    # configuration (docs/deploy.md).
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not (DEBUG or TESTING)
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEBUG or TESTING

# --- E-mail -------------------------------------------------------------------------------
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if os.environ.get("EMAIL_HOST")
    else "django.core.mail.backends.console.EmailBackend",
)
# `make run` sets the file backend: one file a message in .data/mail/ (DESIGN §5b).
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", str(DATA_DIR / "mail"))
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "portal@localhost")

# --- REST framework -----------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: an unauthenticated call then answers 401 with WWW-Authenticate.
        "portal.api.authentication.TokenAuthentication",
        "portal.api.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["portal.api.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "portal.api.pagination.CursorPagination",
    "DEFAULT_PARSER_CLASSES": [
        "portal.api.parsers.StrictJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_RATES": {
        "token": os.environ.get("TOKEN_THROTTLE_RATE", "10/min"),
        "invitation": os.environ.get("INVITATION_THROTTLE_RATE", "10/min"),
        "user": os.environ.get("USER_THROTTLE_RATE", "6000/hour"),
    },
    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.UserRateThrottle"],
    "EXCEPTION_HANDLER": "portal.api.exceptions.exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    # The schema is validated by tests/portal/test_openapi.py, not by `check --deploy`
    # (which would need the database to build it).
    "ENABLE_DJANGO_DEPLOY_CHECK": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "TITLE": "Country Partnership Portal API",
    "DESCRIPTION": "Applications, workflow, compliance screening, commitments and audit history.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "ApplicationStateEnum": "partnerships.models.State",
        "PublicStateEnum": "partnerships.workflow.PublicState",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "portal.api.schema.optional_role_dependent_fields",
    ],
}

# --- Logging ------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "portal.logging.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"}
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}

# --- Portal -------------------------------------------------------------------------------
# Days each review stage may take before it is overdue (DESIGN §4); PORTAL_SLA_<STATE>=days.
PORTAL_SLA_DAYS = {
    state: env_int(f"PORTAL_SLA_{state.upper()}", days)
    for state, days in {
        "screening_hold": 5,
        "technical_review": 10,
        "security_review": 10,
        "us_coordination": 15,
        "final_review": 5,
    }.items()
}
PORTAL_MAX_SITES = env_int("PORTAL_MAX_SITES", 20)
PORTAL_MAX_ATTACHMENT_BYTES = env_int("PORTAL_MAX_ATTACHMENT_BYTES", 20 * 1024 * 1024)
PORTAL_MAX_CSV_ROWS = env_int("PORTAL_MAX_CSV_ROWS", 100_000)  # an uploaded CSV is parsed
# Applications left in "screening" longer than this are re-enqueued by the sweep.
PORTAL_SCREENING_SWEEP_SECONDS = env_int("PORTAL_SCREENING_SWEEP_SECONDS", 300)
PORTAL_BASE_URL = os.environ.get("PORTAL_BASE_URL", "http://127.0.0.1:8000")

# --- Audit chain (docs/security.md) ---------------------------------------------------------
# The HMAC key of the audit chain: never stored in the database. PORTAL_AUDIT_KEY or a secret
# file (PORTAL_AUDIT_KEY_FILE); retired keys, comma-separated and oldest first, stay in
# PORTAL_AUDIT_OLD_KEYS(_FILE) so older events still verify.
# The key of the web role's programme-wide claim (portal.tenancy.rls): derived from the
# SECRET_KEY, given to PostgreSQL by the owner after each migrate (portal.ops.owner), never
# readable by the web role.
PORTAL_RLS_CLAIM_KEY = hmac.new(
    SECRET_KEY.encode(), b"portal.tenancy.rls.claim", hashlib.sha256
).digest()
PORTAL_AUDIT_KEY_CONFIGURED = bool(_secret_from_env("PORTAL_AUDIT_KEY"))
PORTAL_AUDIT_KEY = (_secret_from_env("PORTAL_AUDIT_KEY") or _dev_audit_key()).encode()
PORTAL_AUDIT_OLD_KEYS = [
    k.strip().encode() for k in _secret_from_env("PORTAL_AUDIT_OLD_KEYS").split(",") if k.strip()
]
# Signed checkpoints of the chain head go here, through the storage API (outside PostgreSQL).
PORTAL_AUDIT_CHECKPOINT_DIR = os.environ.get("PORTAL_AUDIT_CHECKPOINT_DIR", "audit-checkpoints")
PORTAL_AUDIT_CHECKPOINT_SECONDS = env_int("PORTAL_AUDIT_CHECKPOINT_SECONDS", 3600)
