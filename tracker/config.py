"""Settings: defaults, the environment, and checks of what is missing."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import ipaddress
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from limits import parse_many

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off"}


class ConfigError(RuntimeError):
    """A setting is missing or cannot be read; the message says which and how to fix it."""


def parse_bool(name: str, raw: str) -> bool:
    """Read a boolean setting: 1/0, true/false, yes/no, on/off (any case)."""
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ConfigError(f"{name}={raw!r} is not a boolean; use 1/0, true/false, yes/no or on/off")


def parse_int(name: str, raw: str) -> int:
    try:
        return int(raw.strip())
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a whole number") from None


def parse_list(raw: str) -> list[str]:
    """A comma-separated setting: its items, stripped, the empty ones left out."""
    return [item.strip() for item in raw.split(",") if item.strip()]


def default_database_url(instance_path: str) -> str:
    return f"sqlite:///{Path(instance_path) / 'siapambil.sqlite'}"


DEFAULTS: dict[str, Any] = {
    "ENV": "development",
    "SECRET_KEY": None,
    "SECRET_KEY_FALLBACKS": [],  # earlier keys: cookies they signed are still read, never made
    "AUDIT_HMAC_KEY": None,  # keys the hashes of staff searches in the audit trail
    "LOG_MASKING_KEY": None,  # keys the tags that stand for receipt numbers in logs
    "BACKUP_KEY": None,  # encrypts backups; `backup` refuses without it
    "BACKUP_KEY_FALLBACKS": [],  # earlier keys that `restore` still tries
    "WEBHOOK_SECRET_KEY": None,  # seals the webhook signing secrets stored in the database
    "WEBHOOK_SECRET_KEY_FALLBACKS": [],  # earlier keys that still open them, until `reseal`
    "DATABASE_URL": None,
    # PostgreSQL cancels a statement of the app's that runs longer (a 503 answers it, its
    # transaction is rolled back and its locks freed); 0: never. gunicorn.conf.py sets it
    # for the web, below WEB_TIMEOUT; the scheduler and the commands run without one.
    "DB_STATEMENT_TIMEOUT_SECONDS": 0,
    "PUBLIC_BASE_URL": "http://127.0.0.1:5000",
    # Origins whose pages may read the public API from a browser (tracker/web/cors.py); empty:
    # none. The answers are public, and no credential is ever allowed.
    "PUBLIC_API_ORIGINS": ["*"],
    "RATELIMIT_ENABLED": True,
    "RATELIMIT_STORAGE_URI": "memory://",
    "RATELIMIT_KEY_PREFIX": "",  # deployments sharing one Redis keep their counts apart
    # When the counts' storage cannot be reached, the limits fail open: the request is
    # served, uncounted, and siapambil_rate_limit_storage_errors_total counts it. A short
    # timeout keeps a vanished Redis host from holding every request.
    "RATELIMIT_SWALLOW_ERRORS": True,
    "RATELIMIT_STORAGE_OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    "LOOKUP_RATE_LIMIT": "30 per minute; 300 per hour",
    "API_KEY_RATE_LIMIT": "600 per minute",  # per API key, across every /api/v1 route
    "PICKUP_WINDOW_DAYS": 10,
    "BABEL_DEFAULT_LOCALE": "id",
    "BABEL_DEFAULT_TIMEZONE": "Asia/Jakarta",
    "LANGUAGES": ("id", "en"),
    "PROXY_FIX_HOPS": 0,
    # The largest body a request may carry (Flask's setting): a form, an API write or a
    # gateway's message is a few kilobytes; a bigger one is refused (413) before it is read.
    "MAX_CONTENT_LENGTH": 1024 * 1024,
    "SEND_FILE_MAX_AGE_DEFAULT": 3600,  # static files; everything else is no-store
    "STAFF_IDLE_MINUTES": 30,
    # argon2id parameters of new password hashes: a profile of argon2-cffi (argon2.profiles).
    "PASSWORD_HASHING": "RFC_9106_LOW_MEMORY",
    "LOGIN_CLIENT_LIMIT": "20 per 10 minutes",
    "LOGIN_ACCOUNT_LIMIT": "5 per 15 minutes",
    "SESSION_COOKIE_SECURE": False,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_NAME": "siapambil_session",
    "WTF_CSRF_TIME_LIMIT": None,  # a token lives as long as its session (STAFF_IDLE_MINUTES)
    # Every page says Referrer-Policy: no-referrer (a receipt number in a URL never leaves in a
    # header), so browsers send no Referer, and Flask-WTF's check of it over HTTPS would refuse
    # every form behind TLS. The signed, session-bound token and the SameSite cookie guard them.
    "WTF_CSRF_SSL_STRICT": False,
    "NOTIFY_WHATSAPP_URL": "",
    "NOTIFY_SMS_URL": "",
    "NOTIFY_EMAIL_URL": "",
    "NOTIFY_QUIET_HOURS": "21:00-07:00",  # office time; SMS and WhatsApp wait; empty: none
    "NOTIFY_BATCH": 100,
    "NOTIFY_CLAIM_SECONDS": 300,
    "JOB_LEASE_SECONDS": 1800,
    "NOTIFY_MAX_ATTEMPTS": 8,
    "NOTIFY_BACKOFF_SECONDS": 60,
    "NOTIFY_BACKOFF_CAP_SECONDS": 6 * 3600,
    "WEBHOOK_TIMEOUT_SECONDS": 10,  # a webhook receiver that has not answered by then failed
    "ANNOUNCE_SECONDS": 300,
    "NOTIFY_SECONDS": 60,
    "REMIND_BEFORE_CLOSE_DAYS": 2,
    "REMIND_WAITING_DAYS": 5,
    "RETURN_KEEP_OPEN_DAYS": 30,
    "FIX_WITHIN_DAYS": 10,  # working days a citizen is given to bring or send a correction
    "RETENTION_DAYS": 365,
    "BOARD_REFRESH_SECONDS": 5,  # how often a lobby board asks for news
    "BOARD_PAGE_SECONDS": 8,  # how long a board shows one page of a long list
    "BOARD_NEW_MINUTES": 15,  # how long a newly ready document stays highlighted
    "BOARD_CALL_MINUTES": 10,  # how long a call to a counter stays on the board
    "BOARD_CACHE_SECONDS": 2,  # one worker builds a point's board at most this often
    "STATS_CACHE_SECONDS": 300,  # the statistics are worked out at most this often per worker
    "LEAVE_DAYS_CHECK_SECONDS": 5,  # a worker reads the leave days again at most this often
    # The console adds a leave day over at most this many waiting documents and requests in
    # progress (whose windows and expected dates it moves) within a page's time; more: refused,
    # with ``setup load`` named, which has no web timeout (bench/leave_day.py measures it).
    "LEAVE_DAY_CONSOLE_MOST": 30000,
    # A bridge's list of changes shows a change this long after it was stamped, so that one
    # still being written then (its transaction commits after a later one's) is not passed
    # over: more than the longest such transaction (a web request: WEB_TIMEOUT, 30 s).
    "CHANGES_SETTLE_SECONDS": 60,
    "METRICS_ALLOW": "127.0.0.1, ::1",  # addresses and networks that may read /metrics
    "OUTBOX_MAX_AGE_SECONDS": 900,  # /healthz/jobs fails when a due message waits longer
    "LOG_FORMAT": "text",  # "json": one JSON line per request
    "WHATSAPP_VERIFY_TOKEN": "",  # the Cloud API webhook's verification handshake
    "WHATSAPP_APP_SECRET": "",  # signs every WhatsApp webhook POST (X-Hub-Signature-256)
    "SMS_INBOUND_SECRET": "",  # signs every SMS gateway POST (X-Signature)
    "INBOUND_RATE_LIMIT": "10/hour",  # look-ups by WhatsApp or SMS, per sender
    "INBOUND_OFFICE": "",  # the office code whose outbox answers what names no receipt
    "WHATSAPP_TEMPLATES": "",  # JSON: event -> language -> approved template and parameters
}

# The scheduler's jobs that run on an interval, and the setting of each interval; the
# heartbeat in /healthz/jobs is stale after twice the shortest of them.
JOB_INTERVALS = {"announce": "ANNOUNCE_SECONDS", "notify": "NOTIFY_SECONDS"}
LOG_FORMATS = ("text", "json")

ENV_KEYS = (
    "ENV",
    "SECRET_KEY",
    "SECRET_KEY_FALLBACKS",
    "PUBLIC_API_ORIGINS",
    "AUDIT_HMAC_KEY",
    "LOG_MASKING_KEY",
    "BACKUP_KEY",
    "BACKUP_KEY_FALLBACKS",
    "WEBHOOK_SECRET_KEY",
    "WEBHOOK_SECRET_KEY_FALLBACKS",
    "DATABASE_URL",
    "DB_STATEMENT_TIMEOUT_SECONDS",
    "PUBLIC_BASE_URL",
    "RATELIMIT_ENABLED",
    "RATELIMIT_STORAGE_URI",
    "RATELIMIT_KEY_PREFIX",
    "LOOKUP_RATE_LIMIT",
    "API_KEY_RATE_LIMIT",
    "PICKUP_WINDOW_DAYS",
    "PROXY_FIX_HOPS",
    "MAX_CONTENT_LENGTH",
    "STAFF_IDLE_MINUTES",
    "PASSWORD_HASHING",
    "LOGIN_CLIENT_LIMIT",
    "LOGIN_ACCOUNT_LIMIT",
    "SESSION_COOKIE_SECURE",
    "NOTIFY_WHATSAPP_URL",
    "NOTIFY_SMS_URL",
    "NOTIFY_EMAIL_URL",
    "NOTIFY_QUIET_HOURS",
    "NOTIFY_BATCH",
    "NOTIFY_CLAIM_SECONDS",
    "JOB_LEASE_SECONDS",
    "NOTIFY_MAX_ATTEMPTS",
    "NOTIFY_BACKOFF_SECONDS",
    "NOTIFY_BACKOFF_CAP_SECONDS",
    "WEBHOOK_TIMEOUT_SECONDS",
    "ANNOUNCE_SECONDS",
    "NOTIFY_SECONDS",
    "REMIND_BEFORE_CLOSE_DAYS",
    "REMIND_WAITING_DAYS",
    "RETURN_KEEP_OPEN_DAYS",
    "FIX_WITHIN_DAYS",
    "RETENTION_DAYS",
    "BOARD_REFRESH_SECONDS",
    "BOARD_PAGE_SECONDS",
    "BOARD_NEW_MINUTES",
    "BOARD_CALL_MINUTES",
    "BOARD_CACHE_SECONDS",
    "STATS_CACHE_SECONDS",
    "LEAVE_DAYS_CHECK_SECONDS",
    "LEAVE_DAY_CONSOLE_MOST",
    "CHANGES_SETTLE_SECONDS",
    "METRICS_ALLOW",
    "OUTBOX_MAX_AGE_SECONDS",
    "LOG_FORMAT",
    "WHATSAPP_VERIFY_TOKEN",
    "WHATSAPP_APP_SECRET",
    "SMS_INBOUND_SECRET",
    "INBOUND_RATE_LIMIT",
    "INBOUND_OFFICE",
    "WHATSAPP_TEMPLATES",
)
# A setting is read as the type of its default.
BOOL_KEYS = {key for key in ENV_KEYS if isinstance(DEFAULTS[key], bool)}
INT_KEYS = {key for key in ENV_KEYS if type(DEFAULTS[key]) is int}
LIST_KEYS = {key for key in ENV_KEYS if isinstance(DEFAULTS[key], list)}
# Settings whose empty value means something (none), rather than "use the default".
EMPTY_MEANS_NONE = {"NOTIFY_QUIET_HOURS", "PUBLIC_API_ORIGINS"}


def from_environment(environ: os._Environ[str] | dict[str, str]) -> dict[str, Any]:
    """Settings given as environment variables, read into their types."""
    found: dict[str, Any] = {}
    for key in ENV_KEYS:
        raw = environ.get(f"SIAPAMBIL_{key}", environ.get(key))
        if raw is None or (raw == "" and key not in EMPTY_MEANS_NONE):
            continue
        if key in BOOL_KEYS:
            found[key] = parse_bool(key, raw)
        elif key in INT_KEYS:
            found[key] = parse_int(key, raw)
        elif key in LIST_KEYS:
            found[key] = parse_list(raw)
        else:
            found[key] = raw
    return found


def finish(config: dict[str, Any], instance_path: str, log: Any) -> None:
    """Fill what is derived and refuse a production start without what it needs."""
    if not config.get("DATABASE_URL"):
        config["DATABASE_URL"] = default_database_url(instance_path)
    config["DATABASE_URL"] = normalise_database_url(config["DATABASE_URL"])
    config["PUBLIC_BASE_URL"] = config["PUBLIC_BASE_URL"].rstrip("/")
    check_quiet_hours(config.get("NOTIFY_QUIET_HOURS", ""))
    parse_networks("METRICS_ALLOW", config.get("METRICS_ALLOW", ""))
    if config.get("LOG_FORMAT", "text") not in LOG_FORMATS:
        raise ConfigError(f"LOG_FORMAT={config['LOG_FORMAT']!r} is neither text nor json")
    check_inbound_limit(config.get("INBOUND_RATE_LIMIT", ""))
    check_password_hashing(config.get("PASSWORD_HASHING", ""), testing=bool(config.get("TESTING")))
    if not config.get("SECRET_KEY"):
        if config["ENV"] == "production":
            raise ConfigError(
                "SECRET_KEY is not set. A production start needs it: set SECRET_KEY to a long "
                "random value, the same on every worker and host "
                "(python -c 'import secrets; print(secrets.token_hex(32))')."
            )
        config["SECRET_KEY"] = secrets.token_hex(32)
        log.warning("SECRET_KEY is not set: using a random key for this development run")
    if not config.get("AUDIT_HMAC_KEY"):
        config["AUDIT_HMAC_KEY"] = derived_audit_key(config["SECRET_KEY"])
        log.warning(
            "AUDIT_HMAC_KEY is not set: the audit trail's search hashes are keyed by SECRET_KEY, "
            "so a new SECRET_KEY would leave earlier searches unfindable; set AUDIT_HMAC_KEY"
        )
    if not config.get("LOG_MASKING_KEY"):
        config["LOG_MASKING_KEY"] = derived_key(config["SECRET_KEY"], b"siapambil log masking")
        log.warning(
            "LOG_MASKING_KEY is not set: the tags of receipt numbers in the logs are keyed by "
            "SECRET_KEY, so a new SECRET_KEY would change them; set LOG_MASKING_KEY"
        )
    if not config.get("WEBHOOK_SECRET_KEY"):
        log.warning(
            "WEBHOOK_SECRET_KEY is not set: the webhook signing secrets are sealed by a key "
            "drawn from SECRET_KEY, so an old SECRET_KEY must stay in SECRET_KEY_FALLBACKS until "
            "the scheduler has restarted with the new one; set WEBHOOK_SECRET_KEY"
        )


def derived_audit_key(secret_key: str) -> str:
    """The audit trail's hash key when none is set: drawn from SECRET_KEY, never equal to it."""
    return derived_key(secret_key, b"siapambil audit search")


def derived_key(secret_key: str, purpose: bytes) -> str:
    """A key for one purpose, drawn from SECRET_KEY, never equal to it nor to another's."""
    return hmac.new(str(secret_key).encode(), purpose, hashlib.sha256).hexdigest()


def check_inbound_limit(raw: str) -> None:
    """Refuse an ``INBOUND_RATE_LIMIT`` that is not one limit such as ``10/hour``."""
    try:
        parsed = parse_many(raw)
    except ValueError:
        parsed = []
    if len(parsed) != 1:
        raise ConfigError(
            f"INBOUND_RATE_LIMIT={raw!r} cannot be read; write one limit, e.g. 10/hour or "
            "10 per hour"
        )


# The argon2-cffi profiles a deployment may choose; CHEAPEST only in a test suite's app.
PASSWORD_PROFILES = ("RFC_9106_LOW_MEMORY", "RFC_9106_HIGH_MEMORY", "PRE_21_2")
TESTING_PASSWORD_PROFILE = "CHEAPEST"


def check_password_hashing(raw: str, *, testing: bool) -> None:
    if raw in PASSWORD_PROFILES or (testing and raw == TESTING_PASSWORD_PROFILE):
        return
    raise ConfigError(
        f"PASSWORD_HASHING={raw!r} is not a profile for passwords; use one of "
        f"{', '.join(PASSWORD_PROFILES)} (the first is the default)"
    )


def check_quiet_hours(raw: str) -> None:
    """Refuse a ``NOTIFY_QUIET_HOURS`` that is neither empty nor ``HH:MM-HH:MM``."""
    try:
        QuietHours.parse(raw)
    except ValueError as error:
        raise ConfigError(
            f"NOTIFY_QUIET_HOURS={raw!r} cannot be read ({error}); write it as HH:MM-HH:MM in "
            "office time, e.g. 21:00-07:00, or leave it empty for no quiet hours"
        ) from None


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_networks(name: str, raw: str) -> tuple[Network, ...]:
    """A comma-separated list of addresses and networks (``127.0.0.1, ::1, 10.0.0.0/8``)."""
    parts = [part.strip() for part in raw.split(",") if part.strip()]
    try:
        return tuple(ipaddress.ip_network(part, strict=False) for part in parts)
    except ValueError as error:
        raise ConfigError(
            f"{name}={raw!r} cannot be read ({error}); list addresses or networks separated by "
            "commas, e.g. 127.0.0.1, ::1, 10.0.0.0/8"
        ) from None


def normalise_database_url(url: str) -> str:
    """A bare postgresql:// URL means psycopg 3 here, whatever SQLAlchemy's default is."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


QUIET_FORMAT = re.compile(r"(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})")


@dataclass(frozen=True)
class QuietHours:
    """When SMS and WhatsApp wait, in office time: from ``start`` until ``end`` (which may be
    on the next day)."""

    start: dt.time
    end: dt.time

    @classmethod
    def parse(cls, text: str) -> QuietHours | None:
        """``"21:00-07:00"``; an empty text means none. ValueError for anything else."""
        if not text.strip():
            return None
        matched = QUIET_FORMAT.fullmatch(text.strip())
        if matched is None:
            raise ValueError(f"{text!r} is not HH:MM-HH:MM")
        start_h, start_m, end_h, end_m = (int(part) for part in matched.groups())
        found = cls(dt.time(start_h, start_m), dt.time(end_h, end_m))  # ValueError past 23:59
        if found.start == found.end:
            raise ValueError(f"{text!r} starts and ends at the same time")
        return found

    def covers(self, clock: dt.time) -> bool:
        if self.start < self.end:
            return self.start <= clock < self.end
        return clock >= self.start or clock < self.end

    def end_after(self, now: dt.datetime, zone: ZoneInfo) -> dt.datetime:
        """The end of the quiet hours that ``now`` falls in, in UTC."""
        there = now.astimezone(zone)
        day = there.date()
        if self.start > self.end and there.time() >= self.start:
            day += dt.timedelta(days=1)
        return dt.datetime.combine(day, self.end, zone).astimezone(dt.UTC)
