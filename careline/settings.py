"""Careline settings: configured only by environment variables (see the README's configuration table)."""

from __future__ import annotations

import re
import secrets
from datetime import timedelta
from os import getpid
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF, UNSAFE_INLINE
from kombu import Queue

from careline.core.env import (
    ConfigurationError,
    env_bool,
    env_choice,
    env_currency,
    env_int,
    env_int_list,
    env_list,
    env_optional,
    env_str,
    env_time_range,
    env_time_zone,
    env_url,
)
from careline.core.object_storage import ADDRESSING_STYLES, S3Config, s3_storage

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("CARELINE_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

CARELINE_ENV = env_choice("CARELINE_ENV", "development", ("development", "production"))
PRODUCTION = CARELINE_ENV == "production"
DEBUG = env_bool("DEBUG", False)
if PRODUCTION and DEBUG:
    raise ConfigurationError("DEBUG: must not be true when CARELINE_ENV=production")


def _secret_key() -> str:
    """SECRET_KEY from the environment; in development, generated once and kept under var/."""
    value = env_optional("SECRET_KEY")
    if value:
        if len(value) < 50 or len(set(value)) < 5:
            raise ConfigurationError(
                "SECRET_KEY: must be at least 50 characters with at least 5 different ones"
            )
        return value
    if PRODUCTION:
        raise ConfigurationError("SECRET_KEY: required when CARELINE_ENV=production (or set SECRET_KEY_FILE)")
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(64))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = _secret_key()

PORT = env_int("PORT", 8000, minimum=1, maximum=65535)
PUBLIC_BASE_URL = env_url("PUBLIC_BASE_URL", f"http://127.0.0.1:{PORT}", schemes=("http", "https")).rstrip(
    "/"
)
ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]", "testserver"]
)
if PRODUCTION and not ALLOWED_HOSTS:
    raise ConfigurationError(
        "ALLOWED_HOSTS: required when CARELINE_ENV=production (comma-separated host names)"
    )
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [PUBLIC_BASE_URL])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "django_htmx",
    "ninja",
    "careline.core",
    "careline.accounts",
    "careline.locations",
    "careline.patients",
    "careline.messaging",
    "careline.scheduling",
    "careline.oncall",
    "careline.records",
    "careline.care",
    "careline.billing",
    "careline.surveys",
    "careline.referrals",
    "careline.outreach",
    "careline.education",
    "careline.training",
    "careline.portal",
    "careline.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "careline.core.metrics.RequestMetricsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # Both before the session-lifetime middleware, which tells the person why they were signed out
    # (a message; for an HTMX request, a 401 with HX-Redirect).
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "careline.core.middleware.SessionLifetimeMiddleware",
    "careline.core.middleware.RequireTwoFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "careline.core.middleware.NoStoreMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "careline.urls"
WSGI_APPLICATION = "careline.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "careline" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "careline.core.context_processors.careline",
                "careline.portal.context_processors.portal",
            ],
        },
    },
]

# Database: the embedded default is a SQLite file under var/; DATABASE_URL selects PostgreSQL at scale.
DATABASE_URL = env_url(
    "DATABASE_URL", f"sqlite:///{VAR_DIR / 'careline.sqlite3'}", schemes=("sqlite", "postgres", "postgresql")
)
DATABASES = {
    "default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60))
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets the web server, the worker and the scheduler share the file; IMMEDIATE takes the write
        # lock at BEGIN so concurrent writers wait (busy timeout) instead of failing mid-transaction.
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    # Tests get a file of their own per process (not shared-cache memory, which fails concurrent writers
    # with "table is locked" at once), so tests with threads see the same locking as production.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{getpid()}.sqlite3")}
else:
    # No JIT compilation: the inbox's aggregate queries (the quick filters' counts, with a correlated
    # subquery per row) are estimated above `jit_above_cost`, and compiling them took 100-170 ms of the
    # 160-380 ms they ran at 100,000 patients (EXPLAIN ANALYZE, README "Staff workspace"); an OLTP page never
    # earns that back. Options given in DATABASE_URL (`?options=...`) come first and are kept.
    _pg_options = DATABASES["default"].setdefault("OPTIONS", {})
    _pg_options["options"] = f"{_pg_options.get('options', '')} -c jit=off".strip()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "patients:list"
LOGOUT_REDIRECT_URL = "accounts:login"

# Sign-in security.
CARELINE_MFA_REQUIRED_FOR_ALL_STAFF = env_bool("CARELINE_MFA_REQUIRED_FOR_ALL_STAFF", False)
CARELINE_IDLE_TIMEOUT_MINUTES = env_int("CARELINE_IDLE_TIMEOUT_MINUTES", 15, minimum=1, maximum=24 * 60)
# The patient portal signs a patient or caregiver out after this long without a page of theirs.
CARELINE_PORTAL_IDLE_MINUTES = env_int("CARELINE_PORTAL_IDLE_MINUTES", 30, minimum=1, maximum=24 * 60)
# The on-call line: a page not acknowledged within this many minutes goes to the shift's backup.
CARELINE_ONCALL_ACK_MINUTES = env_int("CARELINE_ONCALL_ACK_MINUTES", 15, minimum=1, maximum=24 * 60)
# Portal invitations and one-time codes: how long each lasts, and how many codes a contact may ask for an hour.
CARELINE_PORTAL_INVITATION_HOURS = env_int("CARELINE_PORTAL_INVITATION_HOURS", 72, minimum=1, maximum=24 * 30)
CARELINE_PORTAL_CODE_MINUTES = env_int("CARELINE_PORTAL_CODE_MINUTES", 10, minimum=1, maximum=60)
CARELINE_PORTAL_CODES_PER_HOUR = env_int("CARELINE_PORTAL_CODES_PER_HOUR", 5, minimum=1, maximum=100)
# Wrong portal passwords: per sign-in name and per address, within the lockout window.
CARELINE_PORTAL_SIGNIN_FAILURE_LIMIT = env_int(
    "CARELINE_PORTAL_SIGNIN_FAILURE_LIMIT", 5, minimum=1, maximum=100
)
CARELINE_PORTAL_ADDRESS_FAILURE_LIMIT = env_int(
    "CARELINE_PORTAL_ADDRESS_FAILURE_LIMIT", 20, minimum=1, maximum=1000
)
CARELINE_PORTAL_LOCKOUT_MINUTES = env_int("CARELINE_PORTAL_LOCKOUT_MINUTES", 15, minimum=1, maximum=24 * 60)
# A device that passed a one-time code is trusted this long (a signed cookie).
CARELINE_PORTAL_TRUSTED_DEVICE_DAYS = env_int(
    "CARELINE_PORTAL_TRUSTED_DEVICE_DAYS", 90, minimum=1, maximum=400
)
# From this age a parent's or guardian's portal access to a minor's confidential sections (records, results,
# messages) closes, unless it was granted again on or after that birthday.
CARELINE_PORTAL_MINOR_CONFIDENTIAL_AGE = env_int(
    "CARELINE_PORTAL_MINOR_CONFIDENTIAL_AGE", 13, minimum=1, maximum=21
)
CARELINE_SESSION_MAX_AGE_HOURS = env_int("CARELINE_SESSION_MAX_AGE_HOURS", 12, minimum=1, maximum=24 * 7)
SESSION_COOKIE_AGE = CARELINE_SESSION_MAX_AGE_HOURS * 3600
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
# Failures per account-and-address pair before that pair is locked, and (separately, higher: a clinic's
# staff share one address behind NAT) per address before the address is locked for every account.
# See careline/accounts/lockout.py.
AXES_FAILURE_LIMIT = env_int("CARELINE_LOGIN_FAILURE_LIMIT", 5, minimum=1, maximum=100)
CARELINE_LOGIN_ADDRESS_FAILURE_LIMIT = env_int(
    "CARELINE_LOGIN_ADDRESS_FAILURE_LIMIT", 20, minimum=1, maximum=1000
)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("CARELINE_LOCKOUT_MINUTES", 15, minimum=1, maximum=24 * 60))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_HANDLER = "careline.accounts.lockout.CarelineAxesHandler"
AXES_CLIENT_IP_CALLABLE = "careline.core.network.client_ip"
# Sign-in calls authenticate(username=email): without this, axes would look for an "email" credential (the
# user model's USERNAME_FIELD), find none, and never count a failure.
AXES_USERNAME_FORM_FIELD = "username"
AXES_RESET_ON_SUCCESS = True
# Attempts while locked do not restart the lock, so "try again in N minutes" on the lockout page holds.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False
AXES_ENABLE_ACCESS_FAILURE_LOG = False
OTP_TOTP_ISSUER = env_str("CARELINE_OTP_ISSUER", "Careline")

# Security headers; production turns on HTTPS-only cookies, redirects and HSTS.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy on every response (django-csp): scripts, styles and fonts only from our own static
# files, so no inline <script>, on*= handler or eval runs (careline/static/careline/careline.js holds page
# behaviour; htmx is told not to inject styles or evaluate code, see base.html). Style *attributes* stay
# allowed (style-src-attr): they cannot run code, and templates use a few for layout.
CONTENT_SECURITY_POLICY: dict[str, object] = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "style-src-attr": [UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
CARELINE_BEHIND_PROXY = env_bool("CARELINE_BEHIND_PROXY", PRODUCTION)
if CARELINE_BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# How many proxies in front of the web processes append to X-Forwarded-For: the client's address (audit
# trail, sign-in throttling) is read that many entries from the right; with 0 the header is never trusted.
CARELINE_TRUSTED_PROXY_COUNT = env_int(
    "CARELINE_TRUSTED_PROXY_COUNT", 1 if CARELINE_BEHIND_PROXY else 0, minimum=0, maximum=5
)
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# Celery: tasks carry row ids; the embedded default broker is a folder under var/ and needs no server
# (careline/core/broker.py: whole-file writes, exclusive claims, redelivery after a worker dies).
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
BROKER_DATA_DIR = VAR_DIR / "broker"
if CELERY_BROKER_URL.startswith("filesystem://"):
    for sub in ("queue", "processed", "control", "claimed", "incoming"):
        (BROKER_DATA_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {
        "data_folder_in": str(BROKER_DATA_DIR / "queue"),
        "data_folder_out": str(BROKER_DATA_DIR / "queue"),
        "processed_folder": str(BROKER_DATA_DIR / "processed"),
        "control_folder": str(BROKER_DATA_DIR / "control"),
        "claimed_folder": str(BROKER_DATA_DIR / "claimed"),
        "incoming_folder": str(BROKER_DATA_DIR / "incoming"),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600)}
# Tasks go to this queue unless routed; a deployment (or a test run) sharing one Redis names its own.
CELERY_TASK_DEFAULT_QUEUE = env_str("CELERY_TASK_DEFAULT_QUEUE", "celery")
# Beat's periodic sweeps go to a queue of their own that every worker consumes beside the default one, so a
# backlog of work (a reminder burst, a broker that lost its queue and was refilled) never holds back the
# sweeps that recover work; a sweep still waiting after its interval expires (the next one is queued).
CARELINE_SWEEP_QUEUE = f"{CELERY_TASK_DEFAULT_QUEUE}-sweeps"
CELERY_TASK_QUEUES = (Queue(CELERY_TASK_DEFAULT_QUEUE), Queue(CARELINE_SWEEP_QUEUE))
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_TIMEZONE = "UTC"

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

LANGUAGE_CODE = "en-us"
# The languages patients get texts in (their `language` choices); each but English has its catalogue in
# careline/locale/<code>/ (`make messages`). Labels are what staff pages show.
LANGUAGES = [("en", "English"), ("es", "Spanish")]
LOCALE_PATHS = [BASE_DIR / "careline" / "locale"]
TIME_ZONE = env_time_zone("TIME_ZONE", "America/New_York")
USE_I18N = True
USE_TZ = True
PHONE_DEFAULT_REGION = env_str("PHONE_DEFAULT_REGION", "US").upper()

# Billing: every amount is integer cents of this one currency (ISO 4217).
CARELINE_CURRENCY = env_currency("CARELINE_CURRENCY", "USD")
# How long a statement's pay link works (a fresh one can always be sent).
CARELINE_PAY_LINK_DAYS = env_int("CARELINE_PAY_LINK_DAYS", 30, minimum=1)
# Online payments: the installed payment providers by dotted path (careline/core/registry.py) and the one in
# use. "test" is the built-in test provider (no money moves); "stripe" needs STRIPE_SECRET_KEY and
# STRIPE_WEBHOOK_SECRET.
CARELINE_PAYMENT_PROVIDERS: list[str] = [
    "careline.billing.providers.test_provider.BuiltinTestProvider",
    "careline.billing.providers.stripe_provider.StripeProvider",
]
# Statements: the days a statement gives to pay, and whether its text may say the amount (an administrator's
# choice: off by default, the text then only says a statement is ready, with its pay link).
CARELINE_STATEMENT_DUE_DAYS = env_int("CARELINE_STATEMENT_DUE_DAYS", 30, minimum=1, maximum=365)
CARELINE_STATEMENT_TEXT_AMOUNT = env_bool("CARELINE_STATEMENT_TEXT_AMOUNT", False)
# Chunks of a statement run worked at once (tasks queued per run; each claims its own chunk).
CARELINE_STATEMENT_RUN_WORKERS = env_int("CARELINE_STATEMENT_RUN_WORKERS", 2, minimum=1, maximum=32)
# Wrong dates of birth a pay link accepts in CARELINE_PAY_LINK_LOCK_MINUTES before it pauses.
CARELINE_PAY_LINK_TRIES = env_int("CARELINE_PAY_LINK_TRIES", 5, minimum=1, maximum=50)
CARELINE_PAY_LINK_LOCK_MINUTES = env_int("CARELINE_PAY_LINK_LOCK_MINUTES", 15, minimum=1, maximum=1440)
CARELINE_PAYMENT_PROVIDER = env_str("CARELINE_PAYMENT_PROVIDER", "test")
# Stripe (CARELINE_PAYMENT_PROVIDER=stripe): the secret API key, the webhook endpoint's signing secret (both
# better from STRIPE_SECRET_KEY_FILE / STRIPE_WEBHOOK_SECRET_FILE), and the API's address (a compatible or test
# server; Stripe's own when unset).
STRIPE_SECRET_KEY = env_optional("STRIPE_SECRET_KEY") or ""
STRIPE_WEBHOOK_SECRET = env_optional("STRIPE_WEBHOOK_SECRET") or ""
STRIPE_API_BASE = env_url("STRIPE_API_BASE", "https://api.stripe.com", schemes=("http", "https")).rstrip("/")
if CARELINE_PAYMENT_PROVIDER == "stripe" and not (STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET):
    raise ConfigurationError(
        "CARELINE_PAYMENT_PROVIDER=stripe needs STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET (or their _FILE)"
    )
# Payment plans: the smallest monthly instalment (cents) and the most instalments a plan may have.
CARELINE_PLAN_MIN_INSTALMENT_CENTS = env_int("CARELINE_PLAN_MIN_INSTALMENT_CENTS", 2500, minimum=100)
CARELINE_PLAN_MAX_INSTALMENTS = env_int("CARELINE_PLAN_MAX_INSTALMENTS", 24, minimum=2, maximum=60)
# Days after a missed instalment's one follow-up before it is flagged to billing staff.
CARELINE_PLAN_MISSED_FLAG_DAYS = env_int("CARELINE_PLAN_MISSED_FLAG_DAYS", 7, minimum=1)

# Messaging.
CARELINE_CLINIC_NAME = env_str(
    "CARELINE_CLINIC_NAME", ""
)  # {clinic_name} in texts; blank: the location's name
CARELINE_TEXTING_WINDOW = env_time_range("CARELINE_TEXTING_WINDOW", "08:00-20:00")
CARELINE_MAX_MESSAGE_LENGTH = env_int("CARELINE_MAX_MESSAGE_LENGTH", 1600, minimum=160, maximum=10000)
CARELINE_SEND_MAX_ATTEMPTS = env_int("CARELINE_SEND_MAX_ATTEMPTS", 6, minimum=1, maximum=20)
# A first retry waits half to all of this (milliseconds), doubling per attempt; tests and benches lower it.
CARELINE_RETRY_BACKOFF_MS = env_int("CARELINE_RETRY_BACKOFF_MS", 10_000, minimum=10, maximum=600_000)
# A message (or a reminder) SENDING longer than this lost its worker: the sweep takes it back (a message
# after asking the provider).
CARELINE_SENDING_TIMEOUT_SECONDS = env_int("CARELINE_SENDING_TIMEOUT_SECONDS", 180, minimum=5, maximum=3600)
# A due text enqueued this long ago and still not claimed lost its task (a broker that lost its queue): the
# sweep queues it again. Inbound texts not processed after half of it are queued again the same way.
CARELINE_LOST_TASK_SECONDS = env_int("CARELINE_LOST_TASK_SECONDS", 120, minimum=10, maximum=3600)
CARELINE_SWEEP_SECONDS = env_int("CARELINE_SWEEP_SECONDS", 5, minimum=1, maximum=3600)
# Staff training: reminder emails this many days before a task's due date (then weekly once overdue).
CARELINE_TRAINING_REMINDER_DAYS = env_int_list(
    "CARELINE_TRAINING_REMINDER_DAYS", [7, 1], minimum=1, maximum=365
)
# Delivery reports of concurrent webhook requests committed together (one INSERT a batch) in each web process.
CARELINE_WEBHOOK_GROUP_COMMIT = env_bool("CARELINE_WEBHOOK_GROUP_COMMIT", True)
# Requests one worker keeps in flight to a provider while sending a batch (channel types that send
# asynchronously; the others send one at a time).
CARELINE_SEND_CONCURRENCY = env_int("CARELINE_SEND_CONCURRENCY", 16, minimum=1, maximum=256)
# Where the shared send-rate limits live: Redis (the broker's, when it is Redis) or, blank, the database.
CARELINE_RATE_LIMIT_REDIS_URL = env_str(
    "CARELINE_RATE_LIMIT_REDIS_URL",
    CELERY_BROKER_URL if CELERY_BROKER_URL.startswith(("redis://", "rediss://")) else "",
)
if CARELINE_RATE_LIMIT_REDIS_URL and not CARELINE_RATE_LIMIT_REDIS_URL.startswith(
    ("redis://", "rediss://", "unix://")
):
    raise ConfigurationError(
        "CARELINE_RATE_LIMIT_REDIS_URL: expected a redis://, rediss:// or unix:// URL, or blank"
    )
# Referrals: the "were you able to book?" check-in N days after sending (and again after "not yet"), and
# when a referral with no change counts as stalled on the worklist.
CARELINE_REFERRAL_CHECKIN_DAYS = env_int("CARELINE_REFERRAL_CHECKIN_DAYS", 7, minimum=1, maximum=90)
CARELINE_REFERRAL_STALLED_DAYS = env_int("CARELINE_REFERRAL_STALLED_DAYS", 14, minimum=1, maximum=365)
# A staff reply from the inbox takes an unassigned conversation for the person who sent it.
CARELINE_INBOX_ASSIGN_ON_REPLY = env_bool("CARELINE_INBOX_ASSIGN_ON_REPLY", True)
CARELINE_SIMULATOR = env_bool("CARELINE_SIMULATOR", not PRODUCTION)

# Records: the largest PDF staff may add to a patient's record (and the portal may serve).
CARELINE_PORTAL_DOCUMENT_MAX_MB = env_int("CARELINE_PORTAL_DOCUMENT_MAX_MB", 10, minimum=1, maximum=100)
if PRODUCTION and CARELINE_SIMULATOR:
    raise ConfigurationError("CARELINE_SIMULATOR: the phone simulator cannot be turned on in production")
# The installed channel types, by dotted path (careline/core/registry.py): a provider is one package and one
# line here. A constant, not an environment variable: which code runs belongs to the deployment's code.
CARELINE_CHANNEL_TYPES = [
    "careline.messaging.channels.simulator.type.SimulatorType",
    "careline.messaging.channels.email.type.EmailType",
    "careline.messaging.channels.twilio.type.TwilioType",
    "careline.messaging.channels.portal.type.PortalType",
]
TWILIO_ACCOUNT_SID = env_optional("TWILIO_ACCOUNT_SID")
TWILIO_AUTH_TOKEN_SET = bool(env_optional("TWILIO_AUTH_TOKEN"))
TWILIO_FROM_NUMBER = env_optional("TWILIO_FROM_NUMBER")
TWILIO_MESSAGING_SERVICE_SID = env_optional("TWILIO_MESSAGING_SERVICE_SID")
TWILIO_API_BASE_URL = env_optional("TWILIO_API_BASE_URL")
TWILIO_KEYWORD_REPLIES = env_choice("TWILIO_KEYWORD_REPLIES", "provider", ("provider", "careline"))
TWILIO_RATE_PER_SECOND = env_optional("TWILIO_RATE_PER_SECOND")
# Provider limits (messages per second, 0 = none), held across every worker and host: each sender number
# (10DLC, toll-free and short codes each have their own) and each Messaging Service as a whole.
TWILIO_NUMBER_RATE_PER_SECOND = env_int("TWILIO_NUMBER_RATE_PER_SECOND", 0, minimum=0, maximum=10_000)
TWILIO_SERVICE_RATE_PER_SECOND = env_int("TWILIO_SERVICE_RATE_PER_SECOND", 0, minimum=0, maximum=10_000)
# Hosts an administrator may point a channel's API base URL at (https only; "*.example.com" for subdomains).
# A provider's own API host (api.twilio.com) is always allowed; loopback only in development.
CARELINE_CHANNEL_API_HOSTS = [host.lower().rstrip(".") for host in env_list("CARELINE_CHANNEL_API_HOSTS", [])]
for _host in CARELINE_CHANNEL_API_HOSTS:
    if not re.fullmatch(r"(\*\.)?[a-z0-9]([a-z0-9.-]*[a-z0-9])?", _host):
        raise ConfigurationError(
            f"CARELINE_CHANNEL_API_HOSTS: {_host!r} is not a host name (no scheme, port or path; "
            "*.example.com allows subdomains)"
        )

# Scheduling: the words patients reply to a reminder (confirm, reschedule, cancel). Never a compliance keyword:
# carriers and the law give STOP, CANCEL, END, START, YES, HELP ... their own meaning.
CARELINE_REPLY_CONFIRM = env_str("CARELINE_REPLY_CONFIRM", "C").strip().upper()
CARELINE_REPLY_RESCHEDULE = env_str("CARELINE_REPLY_RESCHEDULE", "R").strip().upper()
CARELINE_REPLY_CANCEL = env_str("CARELINE_REPLY_CANCEL", "X").strip().upper()
# The word that accepts a waitlist offer of a freed slot, how long an offer stands, and how many waitlisted
# patients are offered the same slot at once (the first to reply gets it).
CARELINE_REPLY_WAITLIST = env_str("CARELINE_REPLY_WAITLIST", "B").strip().upper()
# The word that asks for a payment plan in reply to a billing text.
CARELINE_REPLY_PLAN = env_str("CARELINE_REPLY_PLAN", "PLAN").strip().upper()
# Outreach: the word that asks the front desk to call back about a recall (B is the waitlist's word), how long
# the recall's question stays open, and the days after a recall in which a booking counts as its result.
CARELINE_REPLY_CALLBACK = env_str("CARELINE_REPLY_CALLBACK", "CALL").strip().upper()
CARELINE_RECALL_REPLY_DAYS = env_int("CARELINE_RECALL_REPLY_DAYS", 14, minimum=1, maximum=90)
CARELINE_RECALL_RESULT_DAYS = env_int("CARELINE_RECALL_RESULT_DAYS", 30, minimum=1, maximum=365)
CARELINE_WAITLIST_OFFER_MINUTES = env_int(
    "CARELINE_WAITLIST_OFFER_MINUTES", 120, minimum=5, maximum=7 * 24 * 60
)
CARELINE_WAITLIST_OFFER_BATCH = env_int("CARELINE_WAITLIST_OFFER_BATCH", 3, minimum=1, maximum=50)
# Check-in opens this many minutes before a visit starts (never before the visit's own day) and closes at its end.
CARELINE_CHECK_IN_OPENS_MINUTES = env_int("CARELINE_CHECK_IN_OPENS_MINUTES", 60, minimum=0, maximum=12 * 60)


def _check_reply_words() -> None:
    from careline.messaging.keywords import HELP_WORDS, OPT_IN_WORDS, OPT_OUT_WORDS, normalize_keyword

    reserved = OPT_OUT_WORDS | OPT_IN_WORDS | HELP_WORDS
    words = {
        "CARELINE_REPLY_CONFIRM": CARELINE_REPLY_CONFIRM,
        "CARELINE_REPLY_RESCHEDULE": CARELINE_REPLY_RESCHEDULE,
        "CARELINE_REPLY_CANCEL": CARELINE_REPLY_CANCEL,
        "CARELINE_REPLY_WAITLIST": CARELINE_REPLY_WAITLIST,
        "CARELINE_REPLY_PLAN": CARELINE_REPLY_PLAN,
        "CARELINE_REPLY_CALLBACK": CARELINE_REPLY_CALLBACK,
    }
    for name, word in words.items():
        if not word or not word.isalnum() or len(word) > 10:
            raise ConfigurationError(f"{name}: must be one short word of letters or digits, got {word!r}")
        if normalize_keyword(word) in reserved:
            raise ConfigurationError(
                f"{name}: {word} is a compliance keyword (STOP, CANCEL, END, START, YES, HELP ...); "
                "carriers act on it themselves. Choose another word, for example C, R or X."
            )
    if len(set(words.values())) != len(words):
        raise ConfigurationError(
            "CARELINE_REPLY_CONFIRM/RESCHEDULE/CANCEL/WAITLIST: the reply words must differ"
        )


_check_reply_words()
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if PRODUCTION
    else "django.core.mail.backends.filebased.EmailBackend",
)
EMAIL_FILE_PATH = VAR_DIR / "sent-email"
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 587, minimum=1, maximum=65535)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
EMAIL_TIMEOUT = 20
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Careline <no-reply@localhost>")

STATIC_URL = "/static/"
# The project package is not an app, so its static folder must be named for the finders (and collectstatic).
STATICFILES_DIRS = [BASE_DIR / "careline" / "static"]
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Uploads (attachments and MMS media, record documents, education PDFs, imports): a folder under var/ when
# every process runs on one host; an S3-compatible object store (`s3`) when web and workers are on several.
CARELINE_STORAGE = env_choice("CARELINE_STORAGE", "local", ("local", "s3"))
CARELINE_S3 = S3Config(
    bucket=env_str("CARELINE_S3_BUCKET", "").strip(),
    endpoint_url=(
        env_url("CARELINE_S3_ENDPOINT_URL", "", schemes=("http", "https"))
        if env_optional("CARELINE_S3_ENDPOINT_URL")
        else None
    ),
    region=env_optional("CARELINE_S3_REGION"),
    access_key_id=env_optional("CARELINE_S3_ACCESS_KEY_ID"),
    secret_access_key=env_optional("CARELINE_S3_SECRET_ACCESS_KEY"),
    addressing_style=env_choice("CARELINE_S3_ADDRESSING_STYLE", "auto", ADDRESSING_STYLES),
    prefix=env_str("CARELINE_S3_PREFIX", "").strip().strip("/"),
)
if CARELINE_STORAGE == "s3" and not CARELINE_S3.bucket:
    raise ConfigurationError("CARELINE_S3_BUCKET: required when CARELINE_STORAGE=s3")
if bool(CARELINE_S3.access_key_id) != bool(CARELINE_S3.secret_access_key):
    raise ConfigurationError(
        "CARELINE_S3_ACCESS_KEY_ID and CARELINE_S3_SECRET_ACCESS_KEY: set both (or neither, for the host's "
        "own credentials such as an instance role)"
    )
# Whether web and workers run on more than one host: `true` makes start-up refuse what cannot be shared
# (uploads in a local folder, SQLite, the folder broker); `auto` warns when the configuration looks like it.
CARELINE_MULTI_HOST = env_choice("CARELINE_MULTI_HOST", "auto", ("auto", "true", "false"))
# /metrics (Prometheus): the bearer token a scraper sends (better CARELINE_METRICS_TOKEN_FILE); unset, only
# signed-in staff with the metrics.view permission (administrators) may read it.
CARELINE_METRICS_TOKEN = env_optional("CARELINE_METRICS_TOKEN") or ""
if CARELINE_METRICS_TOKEN and len(CARELINE_METRICS_TOKEN) < 32:
    raise ConfigurationError("CARELINE_METRICS_TOKEN: must be at least 32 characters")
STORAGES = {
    "default": (
        s3_storage(CARELINE_S3)
        if CARELINE_STORAGE == "s3"
        else {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    ),
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
MEDIA_ROOT = VAR_DIR / "media"
WHITENOISE_USE_FINDERS = not PRODUCTION

# Request size limits: an oversized body is refused with 413 before any view runs.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("CARELINE_MAX_REQUEST_BYTES", 2 * 1024 * 1024, minimum=1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
CARELINE_MAX_IMPORT_BYTES = env_int("CARELINE_MAX_IMPORT_BYTES", 50 * 1024 * 1024, minimum=1024)

NINJA_PAGINATION_PER_PAGE = 50

LOG_LEVEL = env_choice("LOG_LEVEL", "info", ("debug", "info", "warning", "error")).upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    # A refused request (403, CSRF failure, lockout) is one warning line, never a stack trace.
    "filters": {"quiet_refusals": {"()": "careline.core.log_filters.QuietRefusals"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["quiet_refusals"]}
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # On the logger too, so every handler (not only the console) gets the line without the trace.
        "django.request": {"filters": ["quiet_refusals"]},
        "axes": {"level": "WARNING"},
    },
}
